"""Tenant isolation: Tryton shares parties, products, locations, lots, BOMs
and routings across companies; Monitorbizz gives each a business and record
rules (isolation.xml) make them invisible and unwritable from any other."""
from sql.conditionals import Coalesce, NullIf
from sql.operators import Equal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import Exclude, ModelSQL, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import (
    Transaction, check_access, without_check_access)


def _company_field(help, required=False):
    return fields.Many2One(
        'company.company', "Business", ondelete='RESTRICT', required=required,
        domain=[
            If(Eval('context', {}).contains('company'),
                ('id', '=', Eval('context', {}).get('company', -1)),
                ()),
            ],
        help=help)


def _is_platform():
    "The platform administrator sets businesses up; business users don't"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    return Transaction().user in {0, ModelData.get_id('res', 'user_admin')}


class BusinessMixin:
    __slots__ = ()
    company = _company_field(
        "The business the record belongs to.", required=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class OptionalBusinessMixin:
    __slots__ = ()
    company = _company_field("The business the record belongs to.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')


class Party(OptionalBusinessMixin, metaclass=PoolMeta):
    "A business's own party is made before the business: not required"
    __name__ = 'party.party'


class Template(BusinessMixin, metaclass=PoolMeta):
    __name__ = 'product.template'


class Location(OptionalBusinessMixin, metaclass=PoolMeta):
    "Virtual locations (supplier, customer, transit) stay platform-wide"
    __name__ = 'stock.location'

    @classmethod
    def get_default_warehouse(cls):
        # stock caches one default warehouse for every user: use the
        # warehouse of the business the user works in instead.
        pool = Pool()
        Company = pool.get('company.company')
        User = pool.get('res.user')
        context = Transaction().context
        if context.get('warehouse'):
            return context['warehouse']
        company = context.get('company')
        if company is not None and company >= 0:
            if (Transaction().user and not _is_platform()
                    and company not in User.get_companies()):
                return None
            with without_check_access():
                warehouse = Company(company).warehouse
            return warehouse.id if warehouse else None
        return super().get_default_warehouse()


class Lot(BusinessMixin, metaclass=PoolMeta):
    __name__ = 'stock.lot'


class BOM(BusinessMixin, metaclass=PoolMeta):
    __name__ = 'production.bom'


class Routing(BusinessMixin, metaclass=PoolMeta):
    __name__ = 'production.routing'


def _per_business(cls, name, constraint, message):
    """Replace the platform-wide constraint `name` by `constraint`, the same
    within one business: a refusal must not tell what another business
    holds"""
    cls._sql_constraints = [c for c in cls._sql_constraints
        if c[0] != name] + [(f'{name}_company', constraint, message)]


class ProductCategory(BusinessMixin, metaclass=PoolMeta):
    "Each business sorts its items (and their GST accounts) its own way"
    __name__ = 'product.category'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        _per_business(cls, 'code_unique',
            Exclude(t, (NullIf(t.code, ''), Equal), (t.company, Equal)),
            'monitorbizz_business.msg_product_category_code_unique')

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Tryton keeps the constraints it no longer declares
        cls.__table_handler__(module).drop_constraint('code_unique')


class PartyCategory(BusinessMixin, metaclass=PoolMeta):
    "Customer and vendor tags of a business"
    __name__ = 'party.category'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        _per_business(cls, 'name_parent_exclude',
            Exclude(t, (t.name, Equal), (Coalesce(t.parent, -1), Equal),
                (t.company, Equal)),
            'monitorbizz_business.msg_party_category_name_unique')

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        cls.__table_handler__(module).drop_constraint('name_parent_exclude')


class RoutingOperation(BusinessMixin, metaclass=PoolMeta):
    __name__ = 'production.routing.operation'


class WorkCenterCategory(BusinessMixin, metaclass=PoolMeta):
    "Machine types of a business"
    __name__ = 'production.work.center.category'


class Rule(metaclass=PoolMeta):
    "Record rules may use the businesses the user is a member of"
    __name__ = 'ir.rule'
    _member_companies_cache = Cache(
        'ir.rule.member_companies', context=False)

    @classmethod
    def _member_companies(cls):
        pool = Pool()
        UserCompany = pool.get('res.user-company.company')
        transaction = Transaction()
        user = transaction.user
        companies = cls._member_companies_cache.get(user)
        if companies is None:
            table = UserCompany.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(table.company,
                    where=table.user == user))
            companies = sorted(c for c, in cursor)
            cls._member_companies_cache.set(user, companies)
        return companies

    @classmethod
    def _get_cache_key(cls, model_names):
        return (*super()._get_cache_key(model_names),
            Transaction().user, tuple(cls._member_companies()))

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        context['user_id'] = Transaction().user
        context['member_companies'] = cls._member_companies()
        return context


class UserCompany(metaclass=PoolMeta):
    __name__ = 'res.user-company.company'

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        Rule = pool.get('ir.rule')
        super().on_modification(mode, records, field_names=field_names)
        Rule._member_companies_cache.clear()


class CrossBusinessReferenceMixin:
    """A user may only link records they can see: a sale of one business
    cannot point at a customer of another, even by id."""
    __slots__ = ()

    @classmethod
    def _after_create(cls, ids):
        # Before Tryton validates the new records: a domain error would
        # name the other business's record.
        transaction = Transaction()
        if (transaction.user and transaction.check_access
                and not _is_platform()):
            with without_check_access():
                cls._check_business_references(ids)
        return super()._after_create(ids)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        if external and mode in {'write', 'delete'} and not _is_platform():
            # Before the models' own checks, whose errors name the record
            # and its state ("To delete shipment ... you must cancel it").
            cls._check_business_rules(records, mode)
        super().check_modification(
            mode, records, values=values, external=external)
        if external and mode == 'write' and not _is_platform():
            cls._check_business_references([r.id for r in records], values)

    @classmethod
    def _check_business_rules(cls, records, mode):
        "Refuse, without naming them, records the user's rules exclude"
        pool = Pool()
        Rule = pool.get('ir.rule')
        Model = pool.get('ir.model')
        if (not records or not issubclass(cls, ModelSQL)
                or cls._is_table_query()):
            return
        with check_access():
            domain = Rule.domain_get(cls.__name__, mode=mode)
        if not domain:
            return
        ids = {r.id for r in records if r.id is not None and r.id >= 0}
        with without_check_access(), \
                Transaction().set_context(active_test=False):
            allowed = {r.id for r in cls.search(
                        [('id', 'in', list(ids)), domain])}
        wrong = sorted(ids - allowed)
        if wrong:
            raise AccessError(gettext(f'ir.msg_{mode}_rule_error',
                    ids=', '.join(map(str, wrong[:5])),
                    model=Model.get_name(cls.__name__), rules=''))

    @classmethod
    def _check_business_references(cls, ids, values=None):
        """values are those written on the records ids, or None for created
        records (read by ids: browsing thousands of records together costs
        more than reading them)"""
        pool = Pool()
        Rule = pool.get('ir.rule')
        names = [n for n, f in cls._fields.items()
            if f._type == 'many2one' and not hasattr(f, 'getter')
            and (values is None or n in values)]
        if not ids or not names:
            return
        if values is None:
            with without_check_access():
                rows = cls.read(list(ids), names)
        else:
            rows = [values]
        for name in names:
            ids = {r[name] for r in rows if r[name] is not None}
            if not ids:
                continue
            Target = pool.get(cls._fields[name].model_name)
            # Tryton validates with access checks off: ask for the rules
            # of the user explicitly.
            with check_access():
                domain = Rule.domain_get(Target.__name__, mode='read')
            if not domain:
                continue
            # Inactive records of the business are linked too (a BOM made
            # inactive with its inputs).
            with without_check_access(), \
                    Transaction().set_context(active_test=False):
                visible = Target.search(
                    [('id', 'in', list(ids)), domain], count=True)
            if visible < len(ids):
                raise AccessError(gettext(
                        'monitorbizz_business.msg_other_business_reference',
                        field=cls._fields[name].string,
                        model=cls.__name__))


# Platform reference data every business reads but none may change: only the
# platform administrators (group Administration) edit them.
SHARED_READONLY = {
    'product.uom', 'product.uom.category', 'currency.currency',
    'currency.currency.rate', 'country.country', 'country.subdivision',
    'country.postal_code', 'account.account.template',
    'account.account.type.template', 'account.tax.template',
    'account.tax.code.template', 'account.tax.code.line.template',
    'account.tax.rule.template', 'account.tax.rule.line.template',
    'account.invoice.payment_term', 'account.invoice.payment_term.line',
    'account.invoice.payment_term.line.delta', 'res.role',
    'res.role-res.group',
    }


class ModelAccess(metaclass=PoolMeta):
    __name__ = 'ir.model.access'

    @classmethod
    def get_access(cls, models):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        access = super().get_access(models)
        if SHARED_READONLY.isdisjoint(access):
            return access
        admin_group = ModelData.get_id('res', 'group_admin')
        if admin_group in User.get_groups():
            return access
        access = dict(access)
        for model in SHARED_READONLY.intersection(access):
            access[model] = dict(access[model],
                write=False, create=False, delete=False)
        return access
