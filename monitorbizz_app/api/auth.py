# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/auth: register, login, logout, me (seed section 6).

A token is a Tryton session (ir.session) of the user: it expires with
[session] max_age and is revoked by logout, as the desk's sessions are.
"""
import logging

from trytond import security
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.transaction import Transaction, inactive_records

from .framework import (
    ApiError, encode_token, endpoint, session_max_age)
from .schema import EMAIL, define, nullable

__all__ = ['user_businesses', 'current_business', 'me_payload']

logger = logging.getLogger(__name__)

USER = define('User', {
        'type': 'object',
        'required': ['id', 'name', 'email'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': ['string', 'null']},
            'email': {'type': 'string'},
            },
        })
BUSINESS = define('Business', {
        'type': 'object',
        'description': "A business (a Tryton company) the user works in",
        'required': ['id', 'name'],
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'role': {'type': ['string', 'null'],
                'description': "The user's role in it (owner, manager, "
                "sales, production, stores, accounts, operator)"},
            },
        })
ME = define('Me', {
        'type': 'object',
        'required': ['user', 'businesses', 'current_business'],
        'additionalProperties': False,
        'properties': {
            'user': USER,
            'businesses': {'type': 'array', 'items': BUSINESS},
            'current_business': nullable(BUSINESS),
            },
        })
SESSION = define('Session', {
        'type': 'object',
        'required': ['token', 'token_type', 'expires_in', 'user',
            'businesses', 'current_business'],
        'additionalProperties': False,
        'properties': {
            'token': {'type': 'string', 'description':
                "Send it as `Authorization: Bearer <token>`"},
            'token_type': {'type': 'string', 'enum': ['bearer']},
            'expires_in': {'type': 'integer', 'description':
                "Seconds until the token expires ([session] max_age)"},
            'user': USER,
            'businesses': {'type': 'array', 'items': BUSINESS},
            'current_business': nullable(BUSINESS),
            },
        })
REGISTER = define('Register', {
        'type': 'object',
        'required': ['email', 'password', 'name'],
        'additionalProperties': False,
        'properties': {
            'email': EMAIL,
            'password': {'type': 'string', 'format': 'password',
                'minLength': 1, 'maxLength': 1024,
                'description': "Checked by Tryton's password rules "
                "([password] length, forbidden, not the name or e-mail)"},
            'name': {'type': 'string', 'minLength': 1, 'maxLength': 100},
            },
        })
LOGIN = define('Login', {
        'type': 'object',
        'required': ['email', 'password'],
        'additionalProperties': False,
        'properties': {
            'email': {'type': 'string', 'minLength': 1, 'maxLength': 254},
            'password': {'type': 'string', 'format': 'password',
                'maxLength': 1024},
            },
        })


def user_businesses(user):
    """Return the businesses user works in, as dicts of the Business schema.

    They come from monitorbizz_business (none when it is not activated).
    Called in a transaction as user (access rights and record rules
    apply)."""
    from .businesses import user_businesses
    return user_businesses(user)


def current_business(user, businesses):
    "Return the business of businesses user currently works in, or None"
    company = getattr(user, 'company', None)
    if company:
        for business in businesses:
            if business['id'] == company.id:
                return business
    return None


def user_payload(user):
    return {
        'id': user.id,
        'name': user.name,
        'email': user.email or user.login,
        }


def me_payload(user):
    "The user, the businesses and the current one (the payload of /me)"
    businesses = user_businesses(user)
    return {
        'user': user_payload(user),
        'businesses': businesses,
        'current_business': current_business(user, businesses),
        }


def _session_payload(user_id, key, payload):
    return {
        'token': encode_token(user_id, key),
        'token_type': 'bearer',
        'expires_in': session_max_age(),
        **payload,
        }


def _email_taken():
    return ApiError(409, 'email_taken',
        "An account with this e-mail already exists.",
        {'email': "is already registered"})


@endpoint('POST', '/api/auth/register',
    summary="Create an account and log in",
    auth=False, transaction='root', request=REGISTER, response=SESSION,
    status=201, field_names={'login': 'email'},
    errors={409: "The e-mail is already registered (email_taken)"})
def register(call):
    """Creates a user whose login is the e-mail (lower-cased), with no
    business yet, and returns a token as login does."""
    pool = Pool()
    User = pool.get('res.user')
    Session = pool.get('ir.session')
    transaction = Transaction()
    email = call.body['email'].strip().lower()
    name = call.body['name'].strip()
    password = call.body['password']
    if not name:
        raise ApiError(422, 'validation_error', "Some fields are invalid.",
            {'name': "must not be empty"})

    # Registration is anonymous by nature: it runs as root, so every value
    # is set here and nothing else is read.
    with inactive_records():
        if User.search([('login', '=', email)], limit=1, order=[]):
            raise _email_taken()
    # res.user skips its password rules for root: apply them as for a user
    User.validate_password(password, [
            User(login=email, name=name, email=email)])
    try:
        user, = User.create([{
                    'login': email,
                    'email': email,
                    'name': name,
                    'password': password,
                    # No business yet, even if the database has only one
                    # company (res.user's default)
                    'companies': [],
                    'company': None,
                    'employees': [],
                    'employee': None,
                    }])
    except SQLConstraintError as e:
        # Registered concurrently with the same e-mail
        raise _email_taken() from e
    # Log in: a session of the new user (its creator), in the same
    # transaction, as security.login creates it
    with transaction.set_user(user.id):
        key = Session.new()
        with transaction.set_context(_check_access=True):
            payload = me_payload(User(user.id))
    logger.info("registered '%s'", email)
    return _session_payload(user.id, key, payload)


@endpoint('POST', '/api/auth/login',
    summary="Log in with e-mail and password",
    auth=False, request=LOGIN, response=SESSION,
    errors={
        401: "Wrong e-mail or password (invalid_credentials)",
        429: "Too many failed attempts for this e-mail or network "
        "(too_many_requests)",
        })
def login(call):
    """Checks the password with Tryton's login (failed attempts are
    counted and throttled by res.user.login.attempt) and opens a session."""
    email = call.body['email'].strip().lower()
    session = security.login(call.database, email,
        {'password': call.body['password']}, context=call.context)
    if not session:
        raise ApiError(401, 'invalid_credentials',
            "Wrong e-mail or password.")
    user_id, key = session
    payload = call.run(lambda: me_payload(call.user), user_id,
        readonly=True)
    return _session_payload(user_id, key, payload)


@endpoint('POST', '/api/auth/logout',
    summary="Revoke the token", status=204, transaction=None)
def logout(call):
    "Deletes the session of the token: later calls with it answer 401."
    security.logout(call.database, call.user_id, call.session,
        context=call.context)


@endpoint('GET', '/api/auth/me',
    summary="The user, the businesses and the current business",
    response=ME)
def me(call):
    return me_payload(call.user)
