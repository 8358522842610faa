"""Memberships: a user belongs to businesses, with one role in each.

A membership is a `res.user.role` (module user_role) bound to a business.
The groups a user has are those of the role in the *current* business, so
switching business switches permissions.
"""
import datetime as dt
import hashlib
import secrets
from email.message import EmailMessage

from sql import Null

from trytond.cache import Cache

from trytond import config
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.sendmail import send_message_transactional
from trytond.tools.email_ import normalize_email, validate_email
from trytond.transaction import Transaction, without_check_access

from .exceptions import InvitationError, MembershipError

INVITATION_VALIDITY = dt.timedelta(days=7)


def user_in_group(module, xml_id):
    """Whether the calling user has the group module.xml_id, from their
    role in the business they work in (always for the root user, whether
    access is checked or not: the caller decides)"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if not Transaction().user:
        return True
    return ModelData.get_id(module, xml_id) in User.get_groups()


class Role(metaclass=PoolMeta):
    __name__ = 'res.role'
    code = fields.Char(
        "Code", readonly=True,
        help="Stable key of a business role (owner, manager, …).")
    business = fields.Boolean(
        "Business Role", readonly=True,
        help="Granted per business through memberships.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        table = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(table, table.code),
                'monitorbizz_business.msg_role_code_unique'),
            ]

    @classmethod
    def on_modification(cls, mode, roles, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, roles, field_names=field_names)
        User._clear_business_caches()

    @classmethod
    def get_business_role(cls, code):
        roles = cls.search([('code', '=', code), ('business', '=', True)])
        if not roles:
            raise MembershipError(gettext(
                    'monitorbizz_business.msg_unknown_role', role=code))
        role, = roles
        return role


class UserRole(metaclass=PoolMeta):
    __name__ = 'res.user.role'
    company = fields.Many2One(
        'company.company', "Business", ondelete='CASCADE',
        states={
            'required': Eval('role_business', False),
            },
        help="The business in which the role applies.")
    role_business = fields.Function(
        fields.Boolean("Business Role"), 'on_change_with_role_business')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        table = cls.__table__()
        cls._sql_constraints += [
            ('user_company_unique', Unique(table, table.user, table.company),
                'monitorbizz_business.msg_one_role_per_business'),
            ]

    @fields.depends('role', '_parent_role.business')
    def on_change_with_role_business(self, name=None):
        return bool(self.role and self.role.business)

    def valid(self, date):
        # user_role copies the groups of valid roles into user.groups; a
        # business role gives its groups only in its business instead
        # (User.get_groups).
        return not self.company and super().valid(date)

    @classmethod
    def validate(cls, memberships):
        super().validate(memberships)
        for membership in memberships:
            if membership.role.business and not membership.company:
                raise MembershipError(gettext(
                        'monitorbizz_business.msg_membership_company'))

    @classmethod
    def on_modification(cls, mode, memberships, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, memberships, field_names=field_names)
        cls.check_owners({m.company for m in memberships if m.company})
        User.sync_businesses({m.user for m in memberships})

    @classmethod
    def on_delete(cls, memberships):
        pool = Pool()
        User = pool.get('res.user')
        callback = super().on_delete(memberships)
        companies = {m.company for m in memberships if m.company}
        users = {m.user for m in memberships}
        callback.append(lambda: cls.check_owners(companies))
        callback.append(lambda: User.sync_businesses(User.browse(users)))
        return callback

    @classmethod
    def check_owners(cls, companies):
        "A business always keeps an owner"
        for company in companies:
            with without_check_access():
                if not company.id or not company.__class__.search(
                        [('id', '=', company.id)]):
                    continue
                owners = cls.search_count([
                        ('company', '=', company.id),
                        ('role.code', '=', 'owner'),
                        ])
            if not owners:
                raise MembershipError(gettext(
                        'monitorbizz_business.msg_last_owner',
                        business=company.rec_name))


class User(metaclass=PoolMeta):
    __name__ = 'res.user'
    memberships = fields.One2Many(
        'res.user.role', 'user', "Memberships",
        filter=[('company', '!=', None)], readonly=True)

    _business_groups_cache = Cache(
        'res_user.get_business_groups', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'switch_business': RPC(readonly=False),
                })

    @classmethod
    def default_companies(cls):
        # The company module gives a new user the creator's only visible
        # business; here memberships alone say who belongs to a business.
        return []

    @classmethod
    def get_companies(cls):
        companies = super().get_companies()
        if len(companies) > 1:
            # A member works in one business at a time, so that the rights
            # of their role there apply to that business's records only.
            with without_check_access():
                user = cls(Transaction().user)
                if any(r.company for r in user.roles):
                    companies = [user.company.id] if user.company else []
        return companies

    @classmethod
    def get_groups(cls):
        "Add the groups of the user's role in the business they work in"
        pool = Pool()
        Group = pool.get('res.group')
        UserRole = pool.get('res.user.role')
        RoleGroup = pool.get('res.role-res.group')
        transaction = Transaction()
        groups = super().get_groups()
        if ('_groups' in transaction.context or not transaction.user
                or transaction.context.get('_business_groups')):
            return groups
        # Reading the user may ask for the groups again: answer those
        # nested calls with the user's own groups.
        with transaction.set_context(_business_groups=True), \
                without_check_access():
            companies = tuple(cls.get_companies())
        key = (transaction.user, companies)
        business_groups = cls._business_groups_cache.get(key)
        if business_groups is None:
            user_role = UserRole.__table__()
            role_group = RoleGroup.__table__()
            group_parents = Group.group_parent_all_cte()
            now = dt.datetime.now()
            cursor = transaction.connection.cursor()
            cursor.execute(*user_role
                .join(role_group, condition=role_group.role == user_role.role)
                .join(group_parents,
                    condition=role_group.group == group_parents.id)
                .select(group_parents.parent,
                    where=(user_role.user == transaction.user)
                    & user_role.company.in_(companies or [-1])
                    & (group_parents.parent != Null)
                    & ((user_role.from_date == Null)
                        | (user_role.from_date <= now))
                    & ((user_role.to_date == Null)
                        | (user_role.to_date >= now)),
                    with_=group_parents))
            business_groups = tuple(sorted({g for g, in cursor}))
            cls._business_groups_cache.set(key, business_groups)
        return tuple(sorted(set(groups) | set(business_groups)))

    @classmethod
    def _clear_business_caches(cls):
        cls._get_groups_cache.clear()
        cls._get_companies_cache.clear()
        cls._business_groups_cache.clear()

    @classmethod
    def sync_businesses(cls, users):
        "The businesses a member may work in are those of their memberships"
        to_write = []
        # res.user reads company and employee from the context: work on
        # the stored values.
        with Transaction().reset_context(), without_check_access():
            users = cls.search([('id', 'in', [u.id for u in users])])
            for user in users:
                businesses = {r.company for r in user.roles if r.company}
                current = set(user.companies)
                values = {}
                if current != businesses:
                    values['companies'] = [
                        ('remove', [c.id for c in current - businesses]),
                        ('add', [c.id for c in businesses - current]),
                        ]
                company = user.company
                if company not in businesses:
                    company = min(businesses, key=lambda c: c.id,
                        default=None)
                    values['company'] = company.id if company else None
                # The current employee is the user's one in the business
                # (sales record who quoted, timesheets who worked).
                employee = user.employee
                if not employee or employee.company != company:
                    employee = next((e for e in user.employees
                            if company and e.company == company), None)
                if employee != user.employee:
                    values['employee'] = employee.id if employee else None
                if values:
                    to_write.extend(([user], values))
            if to_write:
                cls.write(*to_write)
        cls._clear_business_caches()

    @classmethod
    def switch_business(cls, company_id):
        "Make company_id the current business of the calling user"
        pool = Pool()
        Employee = pool.get('company.employee')
        transaction = Transaction()
        # res.user reads company and employee from the context: work on
        # the stored values.
        with transaction.reset_context(), without_check_access():
            user = cls(transaction.user)
            if company_id not in {c.id for c in user.companies}:
                raise AccessError(gettext(
                        'monitorbizz_business.msg_not_a_member'))
            employees = Employee.search([
                    ('id', 'in', [e.id for e in user.employees]),
                    ('company', '=', company_id),
                    ], limit=1)
            cls.write([user], {
                    'company': company_id,
                    'company_filter': 'one',
                    'employee': employees[0].id if employees else None,
                    })
        cls._clear_business_caches()
        return company_id

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        if mode == 'write' and (field_names is None
                or {'company', 'company_filter'} & set(field_names)):
            # The groups depend on the current business.
            cls._clear_business_caches()
        if mode == 'create' or (mode == 'write' and field_names
                and 'employees' in field_names):
            cls.sync_businesses(users)


class Invitation(ModelSQL, ModelView):
    "Invitation to join a business"
    __name__ = 'monitorbizz.business.invitation'
    company = fields.Many2One(
        'company.company', "Business", required=True, ondelete='CASCADE',
        readonly=True)
    email = fields.Char("E-mail", required=True, readonly=True)
    role = fields.Many2One(
        'res.role', "Role", required=True, readonly=True,
        domain=[('business', '=', True)])
    token_hash = fields.Char("Token Hash", readonly=True, strip=False)
    expires = fields.DateTime("Expires", required=True, readonly=True)
    invited_by = fields.Many2One('res.user', "Invited By", readonly=True)
    accepted_by = fields.Many2One('res.user', "Accepted By", readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('accepted', "Accepted"),
            ('revoked', "Revoked"),
            ], "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('create_date', 'DESC'))
        cls.__rpc__.update({
                'invite': RPC(readonly=False, instantiate=None),
                'accept': RPC(readonly=False),
                })
        cls._buttons.update({
                'revoke': {
                    'invisible': Eval('state') != 'pending',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def _hash(cls, token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def invite(cls, company_id, email, role_code):
        """Invite email into the business as role_code (owners only) and
        send the invitation by e-mail. Returns the invitation id."""
        pool = Pool()
        Company = pool.get('company.company')
        Role = pool.get('res.role')
        User = pool.get('res.user')
        company = Company(company_id)
        Company.check_owner(company)
        try:
            validate_email(email)
        except Exception:
            raise InvitationError(gettext(
                    'monitorbizz_business.msg_invalid_email', email=email))
        email = normalize_email(email).lower()
        role = Role.get_business_role(role_code)
        token = secrets.token_urlsafe(32)
        with without_check_access():
            invitation = cls(company=company, email=email, role=role,
                token_hash=cls._hash(token),
                expires=dt.datetime.now() + INVITATION_VALIDITY,
                invited_by=User(Transaction().user))
            invitation.save()
        invitation.send(token)
        return invitation.id

    def send(self, token):
        url = config.get('monitorbizz', 'url',
            default='http://127.0.0.1:8000/').rstrip('/')
        msg = EmailMessage()
        msg['From'] = config.get('email', 'from')
        msg['To'] = self.email
        msg['Subject'] = gettext(
            'monitorbizz_business.msg_invitation_subject',
            business=self.company.rec_name)
        msg.set_content(gettext(
                'monitorbizz_business.msg_invitation_body',
                inviter=self.invited_by.rec_name if self.invited_by else '',
                business=self.company.rec_name, role=self.role.name,
                token=token, url=url, expires=self.expires.strftime(
                    '%Y-%m-%d %H:%M UTC')))
        send_message_transactional(msg)

    @classmethod
    def accept(cls, token):
        """The calling user joins the business of the invitation identified
        by token; it is single-use and expires."""
        pool = Pool()
        User = pool.get('res.user')
        UserRole = pool.get('res.user.role')
        user = User(Transaction().user)
        with without_check_access():
            invitations = cls.search([
                    ('token_hash', '=', cls._hash(token or '')),
                    ], limit=1)
            if not invitations:
                raise InvitationError(gettext(
                        'monitorbizz_business.msg_invitation_unknown'))
            invitation, = invitations
            if invitation.state != 'pending':
                raise InvitationError(gettext(
                        'monitorbizz_business.msg_invitation_used'))
            if invitation.expires < dt.datetime.now():
                raise InvitationError(gettext(
                        'monitorbizz_business.msg_invitation_expired'))
            if (user.email or '').lower() != invitation.email:
                raise InvitationError(gettext(
                        'monitorbizz_business.msg_invitation_other_email'))
            existing = UserRole.search([
                    ('user', '=', user.id),
                    ('company', '=', invitation.company.id),
                    ])
            if existing:
                UserRole.write(existing, {'role': invitation.role.id})
            else:
                UserRole.create([{
                            'user': user.id,
                            'company': invitation.company.id,
                            'role': invitation.role.id,
                            }])
            invitation.state = 'accepted'
            invitation.accepted_by = user
            invitation.save()
        return invitation.company.id

    @classmethod
    @ModelView.button
    def revoke(cls, invitations):
        pool = Pool()
        Company = pool.get('company.company')
        for invitation in invitations:
            Company.check_owner(invitation.company)
        cls.write(invitations, {'state': 'revoked'})

