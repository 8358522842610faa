# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/businesses and /api/invitations (seed sections 1 and 6).

A business is a company.company of monitorbizz_business. Every handler runs
as the calling user: company.company's record rule shows a user the
businesses they are a member of, so a business that is not theirs answers
404 as if it did not exist. What a member may do in a business (change its
profile, manage its members, invite) is decided by monitorbizz_business
from their role there.
"""
import datetime as dt

from werkzeug.wrappers import Response

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from ..business.exceptions import InvitationError, MembershipError
from .auth import USER
from .framework import (
    LIST_QUERY, ApiError, endpoint, json_response, page_of, paginate)
from .schema import EMAIL, define, nullable

__all__ = ['user_businesses', 'ROLES']

BUSINESS_MODULE = 'monitorbizz_business'
# The business roles of monitorbizz_business (res.role with a code)
ROLES = ['owner', 'manager', 'sales', 'production', 'stores', 'accounts',
    'operator']

ROLE = {'type': 'string', 'enum': ROLES,
    'description': "A business role: " + ', '.join(ROLES)}
NULLABLE_ROLE = {'type': ['string', 'null'], 'enum': [*ROLES, None],
    'description': "The caller's role in the business"}


def _text(max_length, description=None):
    schema = {'type': ['string', 'null'], 'maxLength': max_length}
    if description:
        schema['description'] = description
    return schema


# The profile as it is written (POST, PUT) and read (GET): the same names.
# null (or "") clears an optional value.
_PROFILE_INPUT = {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 200,
        'description': "Legal name"},
    'trade_name': _text(200, "Name the business trades under"),
    'gstin': _text(20, "GSTIN (15 characters, checked with its check "
        "digit; its state code must be the state's)"),
    'state': {'type': 'string', 'minLength': 1, 'maxLength': 10,
        'description': "ISO 3166-2 code of the Indian state or union "
        "territory (e.g. IN-MH)"},
    'street': _text(500),
    'city': _text(100),
    'postal_code': _text(20),
    'phone': _text(50),
    'email': {**EMAIL, 'type': ['string', 'null']},
    'currency': {'type': 'string', 'pattern': '^[A-Z]{3}$',
        'description': "ISO 4217 code; INR by default; cannot change "
        "once the business exists"},
    'fiscal_year_start_month': {'type': 'integer', 'minimum': 1,
        'maximum': 12,
        'description': "Month the fiscal year starts (4: April, the "
        "default)"},
    'logo': {'type': ['string', 'null'], 'contentEncoding': 'base64',
        'description': "PNG, JPEG or WebP image of at most 1 MiB, in "
        "base64 or as a data: URL; stored as PNG and printed on the "
        "business's documents; null removes it"},
    }
BUSINESS_CREATE = define('BusinessCreate', {
        'type': 'object',
        'required': ['name', 'state'],
        'additionalProperties': False,
        'properties': _PROFILE_INPUT,
        })
BUSINESS_UPDATE = define('BusinessUpdate', {
        'type': 'object',
        'description': "The fields to change; the others are kept",
        'additionalProperties': False,
        'properties': _PROFILE_INPUT,
        })
BUSINESS_ITEM = define('BusinessItem', {
        'type': 'object',
        'required': ['id', 'name', 'trade_name', 'role', 'current'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'trade_name': {'type': ['string', 'null']},
            'role': NULLABLE_ROLE,
            'current': {'type': 'boolean', 'description':
                "Whether the caller currently works in it"},
            },
        })
BUSINESS = define('BusinessProfile', {
        'type': 'object',
        'required': ['id', 'name', 'trade_name', 'gstin', 'state', 'street',
            'city', 'postal_code', 'phone', 'email', 'currency',
            'fiscal_year_start_month', 'logo_url', 'owner', 'role',
            'current'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string', 'description': "Legal name"},
            'trade_name': {'type': ['string', 'null']},
            'gstin': {'type': ['string', 'null']},
            'state': {'type': ['string', 'null'],
                'description': "ISO 3166-2 code (e.g. IN-MH)"},
            'street': {'type': ['string', 'null']},
            'city': {'type': ['string', 'null']},
            'postal_code': {'type': ['string', 'null']},
            'phone': {'type': ['string', 'null']},
            'email': {'type': ['string', 'null']},
            'currency': {'type': 'string'},
            'fiscal_year_start_month': {'type': 'integer', 'minimum': 1,
                'maximum': 12},
            'logo_url': {'type': ['string', 'null'], 'description':
                "Where the logo is (GET answers the PNG), null without"},
            'owner': nullable(USER),
            'role': NULLABLE_ROLE,
            'current': {'type': 'boolean', 'description':
                "Whether the caller currently works in it"},
            },
        })
MEMBER = define('Member', {
        'type': 'object',
        'required': ['user_id', 'name', 'email', 'role'],
        'additionalProperties': False,
        'properties': {
            'user_id': {'type': 'integer'},
            'name': {'type': ['string', 'null']},
            'email': {'type': ['string', 'null']},
            'role': ROLE,
            },
        })
MEMBER_ROLE = define('MemberRole', {
        'type': 'object',
        'required': ['role'],
        'additionalProperties': False,
        'properties': {'role': ROLE},
        })
INVITATION_CREATE = define('InvitationCreate', {
        'type': 'object',
        'required': ['email', 'role'],
        'additionalProperties': False,
        'properties': {
            'email': EMAIL,
            'role': ROLE,
            },
        })
INVITATION = define('Invitation', {
        'type': 'object',
        'description': "An invitation; its token is only in the e-mail",
        'required': ['id', 'email', 'role', 'state', 'expires'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'email': {'type': 'string'},
            'role': ROLE,
            'state': {'type': 'string',
                'enum': ['pending', 'accepted', 'revoked']},
            'expires': {'type': 'string', 'format': 'date-time',
                'description': "UTC; a pending invitation can be accepted "
                "until then"},
            },
        })
INVITATION_ACCEPT = define('InvitationAccept', {
        'type': 'object',
        'required': ['token'],
        'additionalProperties': False,
        'properties': {
            'token': {'type': 'string', 'minLength': 1, 'maxLength': 200,
                'description': "The code of the invitation e-mail"},
            },
        })

_NOT_FOUND = ("The business does not exist or the caller is not a member "
    "of it (business_not_found)")
_NOT_OWNER = "Only an owner of the business may do this (forbidden)"
_LAST_OWNER = ("The last owner cannot leave the business or take another "
    "role (last_owner)")


def _is_message(exception, message_id, **variables):
    "Whether exception carries the ir.message message_id"
    return getattr(exception, 'message', None) == gettext(
        f'{BUSINESS_MODULE}.{message_id}', **variables)


def _current_company_id():
    "The business the caller works in, as stored"
    User = Pool().get('res.user')
    transaction = Transaction()
    # res.user answers the company of the context (fixed when the request
    # started): read the stored one, which switch_business changes.
    with transaction.reset_context():
        company = User(transaction.user).company
        return company.id if company else None


def _roles(companies):
    "{company id: the caller's role code}"
    UserRole = Pool().get('res.user.role')
    if not companies:
        return {}
    memberships = UserRole.search([
            ('user', '=', Transaction().user),
            ('company', 'in', [c.id for c in companies]),
            ])
    return {m.company.id: m.role.code for m in memberships}


def _member_company(company_id):
    """The business company_id, read as the caller: company.company's record
    rule shows the businesses they are a member of, the others are 404."""
    Company = Pool().get('company.company')
    companies = Company.search([('id', '=', company_id)], limit=1)
    if not companies:
        raise ApiError(404, 'business_not_found',
            "No such business among yours.")
    return companies[0]


def _user(user):
    if not user:
        return None
    return {
        'id': user.id,
        'name': user.name,
        'email': user.email or user.login,
        }


def _item(company, role, current_id):
    "A business of the caller's list (company found as the caller)"
    # The name is on the business's party, which the party rule shows only
    # while the business is the current one: its members see the names of
    # all their businesses while working in one.
    with without_check_access():
        name = company.party.name
    return {
        'id': company.id,
        'name': name,
        'trade_name': company.trade_name or None,
        'role': role,
        'current': company.id == current_id,
        }


def _business(company, current_id=None):
    "The profile of company, found as the caller (see _member_company)"
    Company = Pool().get('company.company')
    if current_id is None:
        current_id = _current_company_id()
    # The profile is on the business's party (name, address, GSTIN,
    # contacts), which the party rule shows only while the business is the
    # current one: a member reads it from any of their businesses.
    with without_check_access():
        party = company.party
        address = party.address_get('invoice')
        return {
            'id': company.id,
            'name': party.name,
            'trade_name': company.trade_name or None,
            'gstin': company.gstin or None,
            'state': company.state.code if company.state else None,
            'street': (address.street or None) if address else None,
            'city': (address.city or None) if address else None,
            'postal_code': (
                (address.postal_code or None) if address else None),
            'phone': company.phone or None,
            'email': company.email or None,
            'currency': company.currency.code,
            'fiscal_year_start_month': int(company.fiscal_year_start_month),
            'logo_url': (f'/api/businesses/{company.id}/logo'
                if company.logo else None),
            'owner': _user(company.owner),
            'role': Company.member_role(company),
            'current': company.id == current_id,
            }


def user_businesses(user):
    """The businesses user is a member of, with their role in each (the
    businesses of /api/auth/me and login). Called as user."""
    pool = Pool()
    if BUSINESS_MODULE not in pool._modules:
        return []
    Company = pool.get('company.company')
    # company.company's record rule: the businesses of their memberships
    companies = Company.search([], order=[('id', 'ASC')])
    roles = _roles(companies)
    return [{k: v for k, v in _item(c, roles.get(c.id), None).items()
            if k in {'id', 'name', 'role'}}
        for c in companies]


# Businesses -----------------------------------------------------------------

@endpoint('GET', '/api/businesses',
    summary="The caller's businesses",
    query=LIST_QUERY, response=page_of(BUSINESS_ITEM),
    errors={404: "monitorbizz_business is not activated (not_found)"})
def list_businesses(call):
    """The businesses the caller is a member of, with their role in each
    and which one they currently work in. ?q= searches the legal name;
    ?order= accepts id and name."""
    pool = Pool()
    Company = pool.get('company.company')
    page = paginate(call, Company, ['id'],
        orders={'id': 'id', 'name': 'party.name'}, search='party.name',
        default_order=[('id', 'ASC')])
    companies = Company.browse([r['id'] for r in page['items']])
    roles = _roles(companies)
    current_id = _current_company_id()
    page['items'] = [_item(c, roles.get(c.id), current_id)
        for c in companies]
    return page


@endpoint('POST', '/api/businesses',
    summary="Create a business",
    request=BUSINESS_CREATE, response=BUSINESS, status=201,
    errors={422: "Invalid fields, each named in error.fields "
        "(validation_error): e.g. gstin (invalid, or not of the state), "
        "state (unknown), name (missing), currency (unknown)",
        404: "monitorbizz_business is not activated (not_found)"})
def create_business(call):
    """Provisions a business ready to trade (Indian GST chart of accounts,
    fiscal year, numbering, warehouse) and makes the caller its owner. It
    becomes their current business if they had none."""
    pool = Pool()
    Company = pool.get('company.company')
    company_id = Company.provision(dict(call.body))
    payload = _business(_member_company(company_id))
    location = f'{call.request.script_root}/api/businesses/{company_id}'
    return json_response(payload, 201, headers={'Location': location})


@endpoint('GET', '/api/businesses/<int:id>',
    summary="The profile of a business",
    response=BUSINESS, errors={404: _NOT_FOUND})
def get_business(call, id):
    "Any member may read it, whichever business they currently work in."
    return _business(_member_company(id))


@endpoint('GET', '/api/businesses/<int:id>/logo',
    summary="The logo of a business (PNG)",
    response={'type': 'string', 'contentMediaType': 'image/png'},
    content_type='image/png',
    errors={404: _NOT_FOUND + ", or it has no logo (logo_not_found)"})
def get_business_logo(call, id):
    "Any member may fetch it; set it with the profile's logo."
    company = _member_company(id)
    if not company.logo:
        raise ApiError(404, 'logo_not_found', "The business has no logo.")
    return Response(bytes(company.logo), mimetype='image/png',
        headers={'Cache-Control': 'private, max-age=300'})


@endpoint('PUT', '/api/businesses/<int:id>',
    summary="Change the profile of a business",
    request=BUSINESS_UPDATE, response=BUSINESS,
    errors={
        403: "The caller is neither an owner nor a manager of the "
        "business (forbidden)",
        404: _NOT_FOUND,
        422: "Invalid fields, each named in error.fields "
        "(validation_error); nothing is changed",
        })
def update_business(call, id):
    """Owners and managers change the fields sent; the currency cannot
    change."""
    pool = Pool()
    Company = pool.get('company.company')
    company = _member_company(id)
    Company.update_profile(company.id, dict(call.body))
    return _business(Company(company.id))


@endpoint('POST', '/api/businesses/<int:id>/switch',
    summary="Work in this business",
    response=BUSINESS,
    errors={403: "The caller is not a member of the business "
        "(not_a_member); it does not tell whether the business exists"})
def switch_business(call, id):
    """Makes it the caller's current business: their rights become those
    of their role in it, and the records they see its records."""
    pool = Pool()
    User = pool.get('res.user')
    try:
        User.switch_business(id)
    except AccessError as e:
        raise ApiError(403, 'not_a_member', e.message) from e
    return _business(_member_company(id), current_id=id)


# Members --------------------------------------------------------------------


def _member(membership):
    user = membership.user
    return {
        'user_id': user.id,
        'name': user.name,
        'email': user.email or user.login,
        'role': membership.role.code,
        }


def _membership(company, user_id):
    UserRole = Pool().get('res.user.role')
    memberships = UserRole.search([
            ('company', '=', company.id),
            ('user', '=', user_id),
            ], limit=1)
    if not memberships:
        raise ApiError(404, 'member_not_found',
            "This user is not a member of the business.")
    return memberships[0]


def _change_membership(company, func, *args):
    "Call func(*args) answering 409 last_owner for the last owner"
    try:
        func(*args)
    except MembershipError as e:
        if _is_message(e, 'msg_last_owner', business=company.rec_name):
            raise ApiError(409, 'last_owner', e.message) from e
        raise


@endpoint('GET', '/api/businesses/<int:id>/members',
    summary="The members of a business",
    query=LIST_QUERY, response=page_of(MEMBER), errors={404: _NOT_FOUND})
def list_members(call, id):
    """Any member may list them, with their role. ?q= searches the name;
    ?order= accepts name and role."""
    pool = Pool()
    UserRole = pool.get('res.user.role')
    company = _member_company(id)
    return _business_page(call, UserRole, company, _member,
        orders={'name': 'user.name', 'role': 'role.name'},
        search='user.name', default_order=[('id', 'ASC')])


def _business_page(call, Model, company, convert, **kwargs):
    "A page of the records of Model in the business, each converted"
    page = paginate(call, Model, ['id'],
        domain=[('company', '=', company.id)], **kwargs)
    page['items'] = [convert(r)
        for r in Model.browse([r['id'] for r in page['items']])]
    return page


@endpoint('PUT', '/api/businesses/<int:id>/members/<int:user_id>',
    summary="Give a member another role",
    request=MEMBER_ROLE, response=MEMBER,
    errors={
        403: _NOT_OWNER,
        404: _NOT_FOUND + ", or the user is not a member (member_not_found)",
        409: _LAST_OWNER,
        })
def set_member_role(call, id, user_id):
    "Owners only; a business always keeps an owner."
    pool = Pool()
    Company = pool.get('company.company')
    UserRole = pool.get('res.user.role')
    company = _member_company(id)
    Company.check_owner(company)
    membership = _membership(company, user_id)
    _change_membership(company, Company.set_member_role,
        company.id, user_id, call.body['role'])
    return _member(UserRole(membership.id))


@endpoint('DELETE', '/api/businesses/<int:id>/members/<int:user_id>',
    summary="Remove a member", status=204,
    errors={
        403: _NOT_OWNER,
        404: _NOT_FOUND + ", or the user is not a member (member_not_found)",
        409: _LAST_OWNER,
        })
def remove_member(call, id, user_id):
    """Owners only. It takes effect at the member's next request: the
    business leaves their list and its data their reach."""
    pool = Pool()
    Company = pool.get('company.company')
    company = _member_company(id)
    Company.check_owner(company)
    _membership(company, user_id)
    _change_membership(company, Company.remove_member, company.id, user_id)


# Invitations ----------------------------------------------------------------

def _utc(value):
    return value.replace(tzinfo=dt.timezone.utc).isoformat()


def _invitation(invitation):
    return {
        'id': invitation.id,
        'email': invitation.email,
        'role': invitation.role.code,
        'state': invitation.state,
        'expires': _utc(invitation.expires),
        }


@endpoint('POST', '/api/businesses/<int:id>/invitations',
    summary="Invite someone into a business",
    request=INVITATION_CREATE, response=INVITATION, status=201,
    errors={403: _NOT_OWNER, 404: _NOT_FOUND})
def invite(call, id):
    """Owners only. The invitation is e-mailed with a single-use code,
    valid 7 days, which the invitee accepts with
    POST /api/invitations/accept once registered with this e-mail."""
    pool = Pool()
    Company = pool.get('company.company')
    Invitation = pool.get('monitorbizz.business.invitation')
    company = _member_company(id)
    Company.check_owner(company)
    email = call.body['email']
    try:
        invitation_id = Invitation.invite(company.id, email,
            call.body['role'])
    except InvitationError as e:
        if _is_message(e, 'msg_invalid_email', email=email):
            raise ApiError(422, 'validation_error', e.message,
                {'email': e.message}) from e
        raise
    # As in list_invitations: an owner reads the invitations of any of
    # their businesses
    with without_check_access():
        return _invitation(Invitation(invitation_id))


@endpoint('GET', '/api/businesses/<int:id>/invitations',
    summary="The invitations of a business",
    query=LIST_QUERY, response=page_of(INVITATION),
    errors={403: _NOT_OWNER, 404: _NOT_FOUND})
def list_invitations(call, id):
    """Owners only; the latest first. ?q= searches the e-mail; ?order=
    accepts email, expires and state."""
    pool = Pool()
    Company = pool.get('company.company')
    Invitation = pool.get('monitorbizz.business.invitation')
    company = _member_company(id)
    Company.check_owner(company)
    # The invitation rule shows those of the caller's current business
    # only: an owner manages the invitations of each of their businesses
    # from any of them. Restricted to this business by the domain.
    with without_check_access():
        return _business_page(call, Invitation, company, _invitation,
            orders={'email': 'email', 'expires': 'expires',
                'state': 'state'},
            search='email')


@endpoint('POST', '/api/invitations/accept',
    summary="Accept an invitation",
    request=INVITATION_ACCEPT, response=BUSINESS,
    errors={
        403: "The invitation was sent to another e-mail address than the "
        "caller's (invitation_other_email)",
        404: "No invitation has this code (invitation_not_found)",
        409: "The invitation was already accepted or revoked "
        "(invitation_used)",
        410: "The invitation has expired (invitation_expired)",
        })
def accept_invitation(call):
    """The caller joins the business with the role of the invitation and
    gets its profile; it becomes their current business if they had
    none."""
    pool = Pool()
    Company = pool.get('company.company')
    Invitation = pool.get('monitorbizz.business.invitation')
    try:
        company_id = Invitation.accept(call.body['token'])
    except InvitationError as e:
        for message_id, status, code in [
                ('msg_invitation_unknown', 404, 'invitation_not_found'),
                ('msg_invitation_used', 409, 'invitation_used'),
                ('msg_invitation_expired', 410, 'invitation_expired'),
                ('msg_invitation_other_email', 403,
                    'invitation_other_email'),
                ]:
            if _is_message(e, message_id):
                raise ApiError(status, code, e.message) from e
        raise
    # The caller has just become a member
    return _business(Company(company_id))
