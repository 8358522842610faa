# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The framework of the Monitorbizz API (/api/...) on trytond's own WSGI app.

An endpoint is declared once, with `endpoint()`. The declaration
- adds the werkzeug rule to trytond.wsgi.app (served by the trytond process),
- validates the query string and the JSON body against its schemas,
- authenticates the bearer token with Tryton's sessions (ir.session),
- runs the handler in a Tryton transaction as the calling user, so that
  Tryton's access rights and record rules do the isolation,
- turns every error into the one JSON error format,
- and describes the operation in the OpenAPI document (openapi.py).

A Resource declares a kind of record of the API once: its path, its Tryton
model and the domain of its records, how it is rendered; from it come the
one lookup of a record in the current business (404 otherwise), the read
and delete endpoints, and the actions /{id}/<action>, each the button of a
model pressed as the calling user, so that the button's groups refuse a
role through the API as they do in the desk and through JSON-RPC.
"""
import base64
import binascii
import functools
import datetime as dt
import json
import logging
import random
import re
import time
from decimal import Decimal
from http import HTTPStatus

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from trytond import backend, config, security
from trytond.exceptions import (
    ConcurrencyException, LoginException, RateLimitException, UserError,
    UserWarning)
from trytond.i18n import gettext
from trytond.model import Exclude, Unique
from trytond.model.exceptions import (
    AccessButtonError, AccessError, DigitsValidationError,
    DomainValidationError, ForbiddenCharValidationError, ForeignKeyError,
    RecursionError, RequiredValidationError, SelectionValidationError,
    SizeValidationError, SQLConstraintError, TimeFormatValidationError,
    ValidationError)
from trytond.pool import Pool
from trytond.protocols.wrappers import BaseResponse, Response
from trytond.res.user import PasswordError
from trytond.transaction import Transaction, TransactionError
from trytond.worker import run_task
from trytond.wsgi import app

from ..business.workflow import check_button_access
from . import schema as schema_

__all__ = ['ApiError', 'endpoint', 'ENDPOINTS', 'paginate', 'page_of',
    'LIST_QUERY', 'encode_token', 'decode_token', 'api_error', 'Resource',
    'amount']

logger = logging.getLogger(__name__)

MODULE = 'monitorbizz_api'
JSON = 'application/json'
_TIMEOUT = config.getint('request', 'timeout', default=0)

ENDPOINTS = []
# The /api rules alone, to tell 404 from 405 in the fall-back route
_API_MAP = Map()


class ApiError(Exception):
    "An error answered as {'error': {'code', 'message', 'fields'}}"

    def __init__(self, status, code, message, fields=None, details=None):
        super().__init__(status, code, message)
        self.status = HTTPStatus(status)
        self.code = code
        self.message = message
        self.fields = fields or {}
        # Structured facts of the refusal (e.g. the shortages of materials)
        self.details = details
        self.headers = {}

    def __str__(self):
        return f'{self.status.value} {self.code}: {self.message}'

    def as_dict(self):
        error = {
            'code': self.code,
            'message': self.message,
            'fields': self.fields,
            }
        if self.details is not None:
            error['details'] = self.details
        return {'error': error}

    def response(self):
        response = json_response(self.as_dict(), self.status)
        if self.status == HTTPStatus.UNAUTHORIZED:
            response.headers['WWW-Authenticate'] = 'Bearer'
        response.headers.update(self.headers)
        return response


ERROR_SCHEMA = schema_.define('Error', {
        'type': 'object',
        'description': "Every error of the API",
        'required': ['error'],
        'additionalProperties': False,
        'properties': {
            'error': {
                'type': 'object',
                'required': ['code', 'message', 'fields'],
                'additionalProperties': False,
                'properties': {
                    'code': {
                        'type': 'string',
                        'pattern': '^[a-z][a-z0-9_]*$',
                        'description': "Stable machine-readable code",
                        },
                    'message': {
                        'type': 'string',
                        'description': "Human-readable, in the user's "
                        "language when Tryton translated it",
                        },
                    'fields': {
                        'type': 'object',
                        'description': "Problem of each invalid field "
                        "(dotted path for nested fields)",
                        'additionalProperties': {'type': 'string'},
                        },
                    'details': {
                        'type': 'object',
                        'description': "Structured facts of some errors, "
                        "described by the operation (e.g. the shortages "
                        "of material_shortage)",
                        },
                    },
                },
            },
        })


def _default(value):
    if isinstance(value, Decimal):
        # As a string: amounts must not go through binary floats; fixed
        # point, as normalize() makes 50 into 5E+1
        return format(value, 'f')
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        # Tryton's timestamps are in UTC; RFC 3339 (the document's
        # date-time) needs the offset
        return value.isoformat() + 'Z'
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(data, status=HTTPStatus.OK, headers=None):
    response = Response(
        json.dumps(data, default=_default, ensure_ascii=False),
        status=int(status), content_type=JSON)
    # Answers carry tokens and user data
    response.headers['Cache-Control'] = 'no-store'
    if headers:
        response.headers.update(headers)
    return response


# Tokens ---------------------------------------------------------------------

def encode_token(user_id, key):
    "Bearer token of the ir.session key of user_id"
    raw = f'{user_id}:{key}'.encode('ascii')
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def decode_token(token):
    "Return (user_id, session key) or None"
    try:
        raw = base64.urlsafe_b64decode(
            token + '=' * (-len(token) % 4)).decode('ascii')
        user_id, key = raw.split(':', 1)
        user_id = int(user_id)
    except (ValueError, binascii.Error, UnicodeError):
        return None
    if user_id <= 0 or not key:
        return None
    return user_id, key


def session_max_age():
    return config.getint('session', 'max_age')


# Errors ---------------------------------------------------------------------

_VALIDATION_CODES = [
    (DomainValidationError, 'domain_validation'),
    (RequiredValidationError, 'required'),
    (SizeValidationError, 'size'),
    (DigitsValidationError, 'digits'),
    (SelectionValidationError, 'selection'),
    (ForbiddenCharValidationError, 'forbidden_char'),
    (TimeFormatValidationError, 'time_format'),
    (RecursionError, 'recursion'),
    ]


# The code of a model's error that gives its status but no code
_STATUS_CODES = {409: 'conflict', 422: 'validation_error'}


def _message(exception):
    return ' '.join(filter(None, [
                str(getattr(exception, 'message', '') or ''),
                str(getattr(exception, 'description', '') or ''),
                ])) or str(exception)


def _unique_violation(message):
    """Tell whether the SQLConstraintError message is the one of a Unique or
    Exclude constraint (a conflict) rather than of a Check (invalid data)"""
    try:
        pool = Pool()
    except Exception:
        return False
    for _, Model in pool.iterobject():
        for _, constraint, error in getattr(Model, '_sql_constraints', []):
            if not isinstance(constraint, (Unique, Exclude)):
                continue
            try:
                if gettext(error) == message:
                    return True
            except (KeyError, ValueError):
                if error == message:
                    return True
    return False


def _button_state(message):
    "Whether message is Tryton's refusal of a button by its states"
    try:
        template = gettext('ir.msg_button_state_record', button='\0',
            record='\0', model='\0')
    except Exception:
        return False
    pattern = '.*'.join(re.escape(p) for p in template.split('\0'))
    return bool(re.fullmatch(pattern, message or '', re.S))


def api_error(exception, field_names=None):
    """Map an exception to an ApiError.

    field_names maps Tryton field names to the API's, for the "fields" of
    validation errors."""
    field_names = field_names or {}

    def fields_of(names, message):
        return {field_names.get(n, n): message for n in names}

    if isinstance(exception, ApiError):
        return exception
    if isinstance(exception, HTTPException):
        code = re.sub(r'[^a-z0-9]+', '_', exception.name.lower()).strip('_')
        error = ApiError(exception.code or 500, code,
            exception.description or exception.name)
        if isinstance(exception, MethodNotAllowed):
            error.headers['Allow'] = ', '.join(exception.valid_methods or [])
        return error
    if isinstance(exception, RateLimitException):
        return ApiError(429, 'too_many_requests',
            "Too many failed attempts: wait a few minutes and try again.")
    if isinstance(exception, LoginException):
        return ApiError(401, 'login_parameter_required', exception.message,
            {exception.name: exception.message})
    if isinstance(exception, AccessButtonError) and _button_state(
            exception.message):
        # Not the user's right: the button does not apply to the record in
        # its state (its states in the desk)
        return ApiError(409, 'invalid_state', _message(exception))
    if isinstance(exception, (AccessError, AccessButtonError)):
        return ApiError(403, 'forbidden', _message(exception))
    if isinstance(exception, PasswordError):
        message = _message(exception)
        return ApiError(422, 'invalid_password', message,
            fields_of(['password'], message))
    if isinstance(exception, SQLConstraintError):
        message = _message(exception)
        if _unique_violation(exception.message):
            return ApiError(409, 'conflict', message)
        return ApiError(422, 'constraint_violation', message)
    if isinstance(exception, ForeignKeyError):
        return ApiError(409, 'foreign_key_conflict', _message(exception))
    status = getattr(exception, 'http_status', None)
    if isinstance(exception, UserError) and status:
        # The model's errors that say their status and code themselves
        # (CrmError and its kinds)
        message = _message(exception)
        return ApiError(status, getattr(exception, 'code', None)
            or _STATUS_CODES.get(status, 'user_error'), message, {
                field_names.get(n, n): str(p)
                for n, p in (getattr(exception, 'fields', None)
                    or {}).items()})
    problems = getattr(exception, 'fields', None)
    if isinstance(exception, UserError) and problems and isinstance(
            problems, dict):
        # Errors that name their fields themselves (as BusinessError of
        # monitorbizz_business does): {field: problem}
        message = _message(exception)
        return ApiError(422, 'validation_error', message, {
                field_names.get(n, n): str(p) for n, p in problems.items()})
    if isinstance(exception, ValidationError):
        message = _message(exception)
        code = next((c for cls, c in _VALIDATION_CODES
                if isinstance(exception, cls)), 'validation_error')
        fields = {}
        if isinstance(exception, DomainValidationError) and exception.domain:
            _, field_definitions = exception.domain
            fields = fields_of(field_definitions, message)
        return ApiError(422, code, message, fields)
    if isinstance(exception, UserWarning):
        # As Tryton's own JSON protocol does (HTTP Conflict)
        return ApiError(409, 'user_warning', _message(exception))
    if isinstance(exception, ConcurrencyException):
        return ApiError(409, 'concurrent_modification', exception.message)
    if isinstance(exception, UserError):
        return ApiError(422, 'user_error', _message(exception))
    if isinstance(exception, backend.DatabaseTimeoutError):
        return ApiError(504, 'timeout', "The request took too long.")
    if isinstance(exception, backend.DatabaseOperationalError):
        return ApiError(503, 'service_unavailable',
            "The database is busy: try again.")
    logger.error("Unexpected error in the API", exc_info=exception)
    return ApiError(500, 'internal_error', "Internal error.")


# Requests -------------------------------------------------------------------

def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _bearer(request):
    header = request.headers.get('Authorization', '')
    scheme, _, token = header.partition(' ')
    if not header:
        raise ApiError(401, 'missing_token',
            "Authentication required: send 'Authorization: Bearer <token>'.")
    if scheme.lower() != 'bearer' or not token.strip():
        raise ApiError(401, 'invalid_token',
            "The Authorization header must be 'Bearer <token>'.")
    return token.strip()


class Call:
    "What a handler receives: the request, validated and authenticated"

    def __init__(self, endpoint, request, body, query):
        self.endpoint = endpoint
        self.request = request
        self.body = body
        self.query = query
        self.user_id = None
        self.session = None
        self._database = None

    @property
    def database(self):
        "The platform's one database, its pool loaded"
        if self._database is None:
            self._database = self._get_database()
        return self._database

    def _get_database(self):
        name = config.get('monitorbizz', 'database', default=None)
        if not name:
            raise ApiError(503, 'not_configured',
                "The API has no database: set [monitorbizz] database.")
        if name not in Pool.database_list():
            # As trytond.protocols.wrappers.with_pool does
            with Transaction().start(None, 0, readonly=True) as transaction:
                exists = name in transaction.database.list()
            if not exists:
                raise ApiError(503, 'not_configured',
                    f"The database {name!r} does not exist.")
            with Transaction().start(name, 0, readonly=True):
                Pool(name).init()
        # The routes exist in every process that has the package installed;
        # the API exists only in the databases where the module is activated.
        if MODULE not in Pool(name)._modules:
            raise ApiError(404, 'not_found',
                f"The API is not activated in the database {name!r}.")
        return name

    @property
    def pool(self):
        return Pool(self.database)

    @property
    def context(self):
        "The request context Tryton's own protocols give to transactions"
        return {'_request': self.request.context}

    @property
    def user(self):
        "The calling user (within the handler's transaction)"
        User = Pool().get('res.user')
        return User(Transaction().user)

    def run(self, func, user, readonly=False):
        """Return func() run in a transaction of the database as user (0 is
        root: only for what is anonymous by nature)."""
        return run_in_transaction(
            self.database, user, func, readonly=readonly,
            context=self.context, field_names=self.endpoint.field_names)


# PostgreSQL's lock_not_available (Tryton locks rows and tables NOWAIT at
# the start of a transaction) and serialization_failure
_CONTENTION = {'55P03', '40001'}
# Seconds a request keeps retrying while others hold the locks it needs:
# requests queued on one lock wait their turn (20 transfers of one item
# at once on 2 busy cores took more than 30 s), not refused for it
LOCK_WAIT = 120


# SQLite's SQLITE_BUSY and SQLITE_LOCKED (primary result codes): another
# writer kept the database beyond the busy timeout (business/sqlite.py)
_SQLITE_CONTENTION = {5, 6}


def _contention(exception):
    "Whether the database error is another transaction holding the lock"
    code = (getattr(exception, 'pgcode', None)
        or getattr(exception, 'sqlstate', None))
    sqlite_code = getattr(exception, 'sqlite_errorcode', None)
    return code in _CONTENTION or (sqlite_code is not None
        and (sqlite_code & 0xff) in _SQLITE_CONTENTION)


def _retried(exception, count, retry, deadline):
    """Whether a request that may write is run again (rolled back) after
    exception, its count-th retry: a database error ([database] retry
    times, and lock contention until the deadline) but a timeout; a unique
    value taken by a request committed meanwhile, to run again on what it
    stored (a true duplicate is still refused, after the retries)"""
    if isinstance(exception, SQLConstraintError):
        return count < retry and _unique_violation(exception.message)
    if isinstance(exception, backend.DatabaseTimeoutError):
        return False
    return count < retry or (_contention(exception)
        and time.monotonic() < deadline)


def run_in_transaction(database, user, func, readonly=False, context=None,
        field_names=None):
    """Run func in a transaction, retried as trytond's with_transaction
    does; a user other than root gets its preferences as context and access
    checks. Errors are raised as ApiError, after rollback.

    Requests that contend for the same lock (simultaneous consumptions of
    one batch) keep retrying for up to LOCK_WAIT seconds, with a growing
    random pause, rather than [database] retry times only."""
    context = dict(context or {})
    retry = config.getint('database', 'retry')
    count, extras = 0, {}
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        if count:
            time.sleep(min(0.02 * count, 0.5) * random.uniform(0.5, 1.5))
        try:
            started = Transaction().start(database, user, readonly=readonly,
                context=context, timeout=_TIMEOUT, **extras)
        except backend.DatabaseOperationalError as e:
            # The locks a retry takes first (extras) are still held; on
            # SQLite the write lock was awaited for the busy timeout
            # already, which may pass the deadline: retried [database]
            # retry times at least
            if _contention(e) and (count < retry
                    or time.monotonic() < deadline):
                count += 1
                continue
            raise api_error(e, field_names) from e
        with started as transaction:
            try:
                if user:
                    User = Pool().get('res.user')
                    preferences = User.get_preferences(context_only=True)
                    user_context = {
                        k: v for k, v in preferences.items()
                        if k in User._context_fields}
                    with transaction.set_context(
                            user_context, _check_access=True):
                        result = func()
                else:
                    result = func()
            except TransactionError as e:
                transaction.rollback()
                transaction.tasks.clear()
                e.fix(extras)
                continue
            except (backend.DatabaseOperationalError,
                    SQLConstraintError) as e:
                if not readonly and _retried(e, count, retry, deadline):
                    transaction.rollback()
                    transaction.tasks.clear()
                    count += 1
                    logger.debug("Retry on %s: %i", type(e).__name__, count)
                    continue
                raise api_error(e, field_names) from e
            except Exception as e:
                # Mapped here: messages need the transaction; leaving the
                # block rolls back.
                raise api_error(e, field_names) from e
            transaction.commit()
        while transaction.tasks:
            run_task(Pool(database), transaction.tasks.pop())
        return result


class Endpoint:
    """One operation of the API: route, validation, transaction and document

    method, path: the route (werkzeug converters in path: <int:id>)
    handler: called as handler(call, **path_params) (see Call)
    summary, description (default: the handler's docstring), tags (default:
        the first segment after /api/): the document
    request: schema of the JSON body; response: schema of the answer,
        answered with status (204: no body)
    query: schema of each query parameter (LIST_QUERY for lists)
    auth: whether a bearer token is required
    transaction: 'user' (default with auth): the handler runs in a
        transaction as the calling user with access checks; 'root': as
        root, only for what is anonymous by nature (registration); None:
        the handler starts what it needs (Call.run, trytond.security)
    errors: {status: description} of the errors the handler raises itself
    field_names: {Tryton field: API field} for the "fields" of errors
    content_type: of the answer, for the document
    button: (model, button name, path parameter of the record, model of
        the record when it is not model's) of the Tryton button the
        operation is (the actions of a Resource): stated in the document
        as x-tryton-button; its groups refuse the caller as in the desk
    """

    def __init__(self, method, path, handler, summary, description=None,
            tags=None, request=None, response=None, status=200, auth=True,
            transaction=..., query=None, errors=None, field_names=None,
            content_type=JSON, operation_id=None, button=None):
        if transaction is ...:
            transaction = 'user' if auth else None
        if transaction == 'user' and not auth:
            raise ValueError("A 'user' transaction needs auth")
        if transaction == 'root' and auth:
            raise ValueError("Authenticated endpoints never run as root")
        if transaction not in {'user', 'root', None}:
            raise ValueError(f"Unknown transaction {transaction!r}")
        self.method = method.upper()
        self.path = path
        self.handler = handler
        self.summary = summary
        self.description = description or (handler.__doc__ or '').strip()
        self.tags = list(tags or [path.split('/')[2]])
        self.request = request
        self.response = response
        self.status = HTTPStatus(status)
        self.auth = auth
        self.transaction = transaction
        self.query = query or {}
        self.errors = dict(errors or {})
        self.field_names = field_names or {}
        self.content_type = content_type
        self.button = button
        self.operation_id = operation_id or '_'.join(
            [handler.__module__.rsplit('.', 1)[-1], handler.__name__])
        self.readonly = self.method in {'GET', 'HEAD'}
        for schema in [request, response, *self.query.values()]:
            if schema is not None:
                schema_.check(schema)
        # Every input is bounded: the document states it, validate does it
        self.parameters = path_parameters(path)
        for name, schema in [('body', request), *self.query.items(),
                *self.parameters.items()]:
            if schema is not None:
                schema_.check_bounded(schema, name)

    def __repr__(self):
        return f'<Endpoint {self.method} {self.path}>'

    def __call__(self, request, **path_params):
        started = time.monotonic()
        try:
            response = self._dispatch(request, path_params)
        except Exception as exception:
            response = api_error(exception).response()
        logger.debug('%s %s %s in %i ms', self.method, request.path,
            response.status_code, (time.monotonic() - started) * 1000)
        return response

    def _dispatch(self, request, path_params):
        call = Call(self, request, None, None)
        # Authenticate (401) before anything about the request is told
        if self.auth:
            self._authenticate(call)
        self._check_path(path_params)
        call.query = self._read_query(request)
        call.body = self._read_body(request)
        if self.transaction == 'user':
            result = call.run(lambda: self.handler(call, **path_params),
                call.user_id, readonly=self.readonly)
        elif self.transaction == 'root':
            result = call.run(lambda: self.handler(call, **path_params),
                0, readonly=self.readonly)
        else:
            result = self.handler(call, **path_params)
        if self.auth and self.transaction:
            # Keep the session fresh, as trytond's dispatcher does
            security.reset(call.database, call.session, call.context)
        return self._make_response(result)

    def _read_body(self, request):
        if self.request is None:
            return None
        data = request.get_data(cache=True)
        try:
            body = json.loads(data.decode('utf-8') if data else '',
                parse_float=Decimal, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, 'malformed_json',
                f"The request body is not valid JSON: {e}")
        if (schema_._resolve(self.request).get('type') == 'object'
                and not isinstance(body, dict)):
            raise ApiError(400, 'malformed_json',
                "The request body must be a JSON object.")
        try:
            return schema_.validate(self.request, body)
        except schema_.Invalid as e:
            raise ApiError(422, 'validation_error',
                "Some fields are invalid.", {
                    self.field_names.get(k, k): v
                    for k, v in e.problems.items()})

    def _check_path(self, path_params):
        problems = {}
        for name, value in path_params.items():
            try:
                schema_.validate(self.parameters.get(name, {'type': 'string'}),
                    value)
            except schema_.Invalid as e:
                problems[name] = e.problems['body']
        if problems:
            raise ApiError(422, 'validation_error',
                "Some fields are invalid.", problems)

    def _read_query(self, request):
        values, problems = {}, {}
        for name in request.args:
            if name not in self.query:
                problems[name] = "is not an accepted parameter"
        for name, schema in self.query.items():
            if name not in request.args:
                if 'default' in schema:
                    values[name] = schema['default']
                continue
            raw = request.args[name]
            types = schema['type']
            types = [types] if isinstance(types, str) else types
            try:
                if 'integer' in types:
                    value = int(raw)
                elif 'number' in types:
                    value = Decimal(raw)
                elif 'boolean' in types:
                    value = {'true': True, 'false': False}[raw.lower()]
                else:
                    value = raw
                values[name] = schema_.validate(schema, value)
            except (ValueError, KeyError, ArithmeticError):
                problems[name] = f"must be of type {' or '.join(types)}"
            except schema_.Invalid as e:
                problems[name] = e.problems['body']
        if problems:
            raise ApiError(400, 'invalid_query',
                "Some query parameters are invalid.", problems)
        return values

    def _authenticate(self, call):
        token = _bearer(call.request)
        decoded = decode_token(token)
        if decoded:
            user_id, key = decoded
            # Tryton's own check: the key of an ir.session of the user,
            # within [session] max_age, from the same address
            if security.check(call.database, user_id, key,
                    context=call.context):
                call.user_id, call.session = user_id, key
                return
        raise ApiError(401, 'invalid_token',
            "The token is invalid, expired or revoked: log in again.")

    def _make_response(self, result):
        if isinstance(result, BaseResponse):
            return result
        if result is None and self.status == HTTPStatus.NO_CONTENT:
            return Response(status=HTTPStatus.NO_CONTENT)
        return json_response(result, self.status)


def endpoint(method, path, **kwargs):
    """Declare the decorated function as the handler of method on path.

    path uses werkzeug converters (/api/businesses/<int:id>); the handler
    is called as handler(call, **path_params) and returns what is answered
    as JSON with status (or a Response). See Endpoint for the options."""
    def decorator(func):
        declared = Endpoint(method, path, func, **kwargs)
        for other in ENDPOINTS:
            if (other.method, other.path) == (declared.method, path):
                raise ValueError(f"{declared!r} is declared twice")
            if other.operation_id == declared.operation_id:
                raise ValueError(
                    f"operationId {declared.operation_id} is not unique")
        ENDPOINTS.append(declared)
        # Signed, so that a negative id is refused as out of range (422)
        # like a too large one, rather than as an unknown path
        rule = path.replace('<int:', '<int(signed=True):')
        app.route(rule, methods=[declared.method])(declared)
        _API_MAP.add(Rule(rule, methods=[declared.method],
                endpoint=declared))
        return func
    return decorator


# The schema of the values of werkzeug's converters in paths
PATH_CONVERTERS = {
    'int': schema_.ID,
    }
_PATH_PARAMETER = re.compile(r'<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>')


def path_parameters(path):
    "The schema of each parameter of the werkzeug rule path, in order"
    return {name: dict(PATH_CONVERTERS.get(converter, {'type': 'string'}))
        for converter, name in _PATH_PARAMETER.findall(path)}


@app.route('/api/<path:path>',
    methods=['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'])
def fallback(request, path):
    "Unknown /api/ paths and methods answer in the API's error format"
    try:
        _API_MAP.bind('').match(request.path, method=request.method)
    except (NotFound, MethodNotAllowed) as e:
        return api_error(e).response()
    # Not reached: a declared rule matches before this one
    return api_error(NotFound()).response()


fallback.api_fallback = True


# Lists ----------------------------------------------------------------------

LIST_QUERY = {
    'limit': {'type': 'integer', 'minimum': 1, 'maximum': 100,
        'default': 20, 'description': "Page size"},
    'offset': {'type': 'integer', 'minimum': 0, 'maximum': schema_.MAX_ID,
        'default': 0,
        'description': "Number of items to skip"},
    'q': {'type': 'string', 'maxLength': 200,
        'description': "Text to search for"},
    'order': {'type': 'string', 'maxLength': 200,
        'description': "Comma-separated fields to sort by; "
        "a leading '-' sorts descending (e.g. -date,name)"},
    }


def page_of(item_schema):
    "The response schema of a paginated list of item_schema"
    return {
        'type': 'object',
        'required': ['items', 'total', 'limit', 'offset'],
        'additionalProperties': False,
        'properties': {
            'items': {'type': 'array', 'items': item_schema},
            'total': {'type': 'integer', 'minimum': 0,
                'description': "Number of items matching, all pages"},
            'limit': {'type': 'integer', 'minimum': 1},
            'offset': {'type': 'integer', 'minimum': 0},
            },
        }


def paginate(call, Model, fields, domain=None, orders=None, search=None,
        serialize=None, default_order=None):
    """Answer ?limit=&offset=&q=&order= on Model.

    fields: the Tryton fields to read (dotted names read the targets in the
    same query batches: no query per item).
    orders: the API names accepted by ?order=, mapped to Tryton fields.
    search: the Tryton field that ?q= matches (ilike), default rec_name.
    serialize: turns each row read (a dict) into the item answered.
    It runs in the handler's transaction, so the user's access rights and
    record rules apply to the count and to the page alike."""
    query = call.query
    limit, offset = query.get('limit', 20), query.get('offset', 0)
    domain = list(domain or [])
    if query.get('q'):
        domain.append((search or 'rec_name', 'ilike', f"%{query['q']}%"))
    order = _order(query.get('order'), orders or {}) or default_order
    total = Model.search_count(domain)
    rows = Model.search_read(domain, offset=offset, limit=limit,
        order=order, fields_names=list(fields))
    items = [serialize(r) for r in rows] if serialize else rows
    return {'items': items, 'total': total, 'limit': limit,
        'offset': offset}


def _order(value, orders):
    if not value:
        return None
    order = []
    for item in value.split(','):
        item = item.strip()
        name = item.lstrip('-')
        if name not in orders:
            raise ApiError(400, 'invalid_query',
                "Unknown sort field.", {'order': (
                        f"{name!r} is not one of "
                        f"{', '.join(sorted(orders)) or 'nothing'}")})
        direction = 'DESC' if item.startswith('-') else 'ASC'
        order.append((orders[name], direction))
    order.append(('id', order[-1][1]))
    return order


# Amounts --------------------------------------------------------------------

def amount(value, currency=None):
    """An amount as a decimal string to the digits of currency (default:
    the current business's), None as None: 1234.5 → '1234.50'"""
    if value is None:
        return None
    if currency is None:
        company = Transaction().context.get('company')
        if company:
            currency = Pool().get('company.company')(company).currency
    digits = currency.digits if currency is not None else 2
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits)))


# Resources ------------------------------------------------------------------

class Resource:
    """A kind of record of the API, declared once.

    path: the collection (/api/crm/quotations); model: the Tryton model;
    label: how a record is named in messages ("quotation"); code and
    message: of the 404 of an unknown id (default <label>_not_found, "No
    such <label> in your business."); domain: what
    of the model the resource is (quotations are the sales with a number);
    render(record): the answer of a record.

    get() is the one lookup of a record in the current business; read(),
    delete() and action() declare the endpoints of a record."""

    def __init__(self, path, model, label, render, code=None, domain=None,
            tags=None, message=None):
        self.path = path
        self.model = model
        self.label = label
        self.render = render
        self.code = code or f"{label.replace(' ', '_')}_not_found"
        self.domain = list(domain or [])
        self.tags = tags
        self.message = message or f"No such {label} in your business."

    def __repr__(self):
        return f'<Resource {self.path} ({self.model})>'

    @property
    def Model(self):
        return Pool().get(self.model)

    @property
    def not_found(self):
        "The document's description of the 404 of a record"
        return (f"No such {self.label} in the caller's current business "
            f"({self.code})")

    def get(self, id_):
        """The record id_ as the caller sees it (access rights and record
        rules: only the current business's), inactive ones included; else
        404, as if a record of another business did not exist"""
        with Transaction().set_context(active_test=False):
            records = self.Model.search(
                [('id', '=', id_)] + self.domain, limit=1)
        if not records:
            raise ApiError(404, self.code, self.message)
        return records[0]

    def _declare(self, method, suffix, func, **kwargs):
        errors = {404: self.not_found, **kwargs.pop('errors', {})}
        if self.tags:
            kwargs.setdefault('tags', self.tags)
        return endpoint(method, f'{self.path}/<int:id>{suffix}',
            errors=errors, **kwargs)(func)

    def route(self, method, suffix='', **kwargs):
        """Declare method on {path}/{id}{suffix} for the decorated
        func(call, record, **other path parameters): the record found by
        get()"""
        resource = self

        def decorator(func):
            @functools.wraps(func)
            def handler(call, id, **params):
                return func(call, resource.get(id), **params)
            self._declare(method, suffix, handler, **kwargs)
            return func
        return decorator

    def read(self, summary, **kwargs):
        "Declare GET {path}/{id}: the record rendered"
        resource = self

        def handler(call, id):
            return resource.render(resource.get(id))
        handler.__name__ = kwargs.pop('name',
            f"get_{self.label.replace(' ', '_')}")
        handler.__module__ = kwargs.pop('module', handler.__module__)
        handler.__doc__ = kwargs.pop('description', None)
        return self._declare('GET', '', handler, summary=summary, **kwargs)

    def action(self, name, button, summary, model=None, press=True,
            context=None, **kwargs):
        """Declare POST {path}/{id}/<name>: the button button of the
        resource's model (or of model, a composite action whose records are
        not the resource's) pressed as the calling user.

        Used as a decorator of func(call, record) → answer: the user's
        right to press the button is checked on the record before func
        runs; with press, func gets the record after the button was pressed
        on it with context(call) as context. Without func (action(...)
        (None)), the answer is the record rendered."""
        resource = self
        button_model = model or self.model

        def decorator(func):
            def handler(call, id):
                record = resource.get(id)
                Model = Pool().get(button_model)
                check_button_access(Model,
                    [record] if button_model == resource.model else [],
                    button)
                if press:
                    with Transaction().set_context(
                            context(call) if context else {}):
                        getattr(Model, button)([record])
                    record = resource.Model(record.id)
                if func is None:
                    return resource.render(record)
                return func(call, record)
            name_ = func.__name__ if func else (
                f"{name.replace('-', '_')}_{self.label.replace(' ', '_')}")
            handler.__name__ = name_
            handler.__module__ = (func.__module__ if func
                else kwargs.pop('module', handler.__module__))
            handler.__doc__ = func.__doc__ if func else kwargs.pop(
                'description', None)
            self._declare('POST', f'/{name}', handler, summary=summary,
                button=(button_model, button, 'id',
                    None if button_model == resource.model
                    else resource.model),
                **kwargs)
            return func
        return decorator
