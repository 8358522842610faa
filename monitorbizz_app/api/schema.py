# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""JSON Schema (the 2020-12 dialect of OpenAPI 3.1) for the /api/ layer.

The schemas declared on the endpoints are used twice: to validate and
convert the requests, and as they are in the OpenAPI document. So that the
document never promises a check that is not done, only the keywords that
`validate` implements are accepted (`check` refuses the others when an
endpoint is declared).
"""
import datetime as dt
import decimal as decimal_
import re
from decimal import Decimal

__all__ = ['define', 'ref', 'nullable', 'record', 'components', 'check',
    'check_bounded', 'validate', 'Invalid', 'EMAIL', 'MAX_ID', 'ID',
    'NULLABLE_ID', 'MAX_AMOUNT', 'MAX_QUANTITY', 'decimal']

# Keywords that validate() enforces
_ASSERTIONS = {
    'type', 'properties', 'required', 'additionalProperties', 'items',
    'enum', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum',
    'multipleOf', 'minItems', 'maxItems', 'format', '$ref', 'anyOf',
    }
# Keywords that only describe
_ANNOTATIONS = {
    'title', 'description', 'default', 'examples', 'readOnly', 'writeOnly',
    'deprecated', 'contentEncoding', 'contentMediaType',
    }
_TYPES = {'object', 'array', 'string', 'integer', 'number', 'boolean', 'null'}
_FORMATS = {'email', 'date', 'date-time', 'decimal', 'password', 'int32'}

# A pragmatic syntax check: one "@", no blanks, a dot in the domain.
# (Tryton's own validate_email is a no-op without email_validator.)
_EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$')
EMAIL = {'type': 'string', 'format': 'email', 'maxLength': 254}

# Bounds of what a request may carry, so that out-of-range input is refused
# (422) before it reaches the database: Tryton's ids are PostgreSQL INTEGER
# columns; its Numeric columns are NUMERIC without precision, but amounts
# are computed in Python's decimal context of 28 digits, so a quantity
# times a price times the taxes must stay within them: at most 12 integer
# digits for amounts and prices (a lakh crore) and 9 for quantities.
MAX_ID = 2 ** 31 - 1
ID = {'type': 'integer', 'format': 'int32', 'minimum': 1, 'maximum': MAX_ID}
NULLABLE_ID = {**ID, 'type': ['integer', 'null']}
MAX_AMOUNT = 10 ** 12 - 1
MAX_QUANTITY = 10 ** 9 - 1

_COMPONENTS = {}


def decimal(places, maximum, minimum=0, types=('number', 'string'),
        **annotations):
    """A decimal of a request: a JSON number or (if types has 'string') a
    decimal string, between minimum and maximum with at most places
    decimals (the digits of the Tryton field)"""
    schema = {
        'type': list(types),
        'format': 'decimal',
        'minimum': minimum,
        'maximum': maximum,
        'multipleOf': float(Decimal(1).scaleb(-places)),
        **annotations,
        }
    if 'string' in types:
        sign = '-?' if minimum < 0 else ''
        fraction = fr'(\.[0-9]{{1,{places}}})?' if places else ''
        schema['pattern'] = (
            fr'^{sign}[0-9]{{1,{len(str(maximum))}}}{fraction}$')
    return schema


def define(name, schema):
    "Register a named schema (components/schemas) and return a $ref to it"
    check(schema)
    if name in _COMPONENTS and _COMPONENTS[name] != schema:
        raise ValueError(f"Schema {name!r} is already defined")
    _COMPONENTS[name] = schema
    return ref(name)


def ref(name):
    return {'$ref': f'#/components/schemas/{name}'}


def nullable(schema):
    "schema or null"
    return {'anyOf': [schema, {'type': 'null'}]}


def record(properties, required=None, **annotations):
    """A closed object of properties, all of them required unless required
    lists which"""
    return {
        'type': 'object',
        'required': list(properties if required is None else required),
        'additionalProperties': False,
        'properties': properties,
        **annotations,
        }


def components():
    return dict(_COMPONENTS)


def _resolve(schema):
    while '$ref' in schema:
        name = schema['$ref'].rsplit('/', 1)[-1]
        schema = _COMPONENTS[name]
    return schema


def check(schema):
    "Raise ValueError if schema uses a keyword that validate() ignores"
    unknown = set(schema) - _ASSERTIONS - _ANNOTATIONS
    if unknown:
        raise ValueError(f"Unsupported schema keywords: {sorted(unknown)}")
    if '$ref' in schema:
        if not schema['$ref'].startswith('#/components/schemas/'):
            raise ValueError(f"Unsupported $ref {schema['$ref']!r}")
        return
    if 'anyOf' in schema:
        if set(schema) - _ANNOTATIONS != {'anyOf'}:
            raise ValueError("anyOf must be alone with annotations")
        for sub in schema['anyOf']:
            check(sub)
        return
    types = schema.get('type')
    if types is None:
        raise ValueError(f"Schema without type: {schema!r}")
    if isinstance(types, str):
        types = [types]
    if not set(types) <= _TYPES:
        raise ValueError(f"Unknown type in {types!r}")
    if schema.get('format') and schema['format'] not in _FORMATS:
        raise ValueError(f"Unsupported format {schema['format']!r}")
    for sub in schema.get('properties', {}).values():
        check(sub)
    for key in ['items', 'additionalProperties']:
        if isinstance(schema.get(key), dict):
            check(schema[key])
    for name in schema.get('required', []):
        if name not in schema.get('properties', {}):
            raise ValueError(f"Required {name!r} is not a property")


def check_bounded(schema, where='body'):
    """Raise ValueError if schema (of a request) lets a number or an integer
    through without minimum and maximum, or a decimal string without
    pattern: every input is bounded"""
    schema = _resolve(schema)
    if 'anyOf' in schema:
        for sub in schema['anyOf']:
            check_bounded(sub, where)
        return
    types = schema['type']
    types = {types} if isinstance(types, str) else set(types)
    if types & {'integer', 'number'} and not (
            'minimum' in schema and 'maximum' in schema
            or 'enum' in schema):
        raise ValueError(f"{where}: a number without minimum and maximum")
    if ('string' in types and schema.get('format') == 'decimal'
            and 'pattern' not in schema):
        raise ValueError(f"{where}: a decimal string without pattern")
    for name, sub in schema.get('properties', {}).items():
        check_bounded(sub, _join(where, name))
    for key in ['items', 'additionalProperties']:
        if isinstance(schema.get(key), dict):
            check_bounded(schema[key], where)


class Invalid(Exception):
    "The value does not match: problems maps a field path to a message"

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


def validate(schema, value):
    """Return value converted (date and date-time strings to date and
    datetime, numbers to Decimal) or raise Invalid."""
    problems = {}
    result = _validate(schema, value, '', problems)
    if problems:
        raise Invalid(problems)
    return result


def _type_of(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, (float, Decimal)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    if isinstance(value, dict):
        return 'object'
    return type(value).__name__


def _join(path, name):
    return f'{path}.{name}' if path else str(name)


def _validate(schema, value, path, problems):
    schema = _resolve(schema)
    key = path or 'body'
    if 'anyOf' in schema:
        for sub in schema['anyOf']:
            sub_problems = {}
            result = _validate(sub, value, path, sub_problems)
            if not sub_problems:
                return result
        problems[key] = "does not match any of the accepted forms"
        return value
    types = schema['type']
    if isinstance(types, str):
        types = [types]
    kind = _type_of(value)
    if kind == 'integer' and 'integer' not in types and 'number' in types:
        kind = 'number'
    elif (kind == 'number' and 'integer' in types
            and value == int(value)):
        value, kind = int(value), 'integer'
    if kind not in types:
        problems[key] = f"must be of type {' or '.join(types)}"
        return value
    if 'enum' in schema and value not in schema['enum']:
        problems[key] = "must be one of " + ', '.join(
            map(str, schema['enum']))
        return value
    if kind == 'string':
        value = _validate_string(schema, value, key, problems)
        if isinstance(value, Decimal) and key not in problems:
            _validate_number(schema, value, key, problems)
        return value
    elif kind in {'integer', 'number'}:
        if kind == 'number' and not isinstance(value, Decimal):
            value = Decimal(str(value))
        _validate_number(schema, value, key, problems)
        return value
    elif kind == 'array':
        if 'minItems' in schema and len(value) < schema['minItems']:
            problems[key] = f"must have at least {schema['minItems']} items"
        elif 'maxItems' in schema and len(value) > schema['maxItems']:
            problems[key] = f"must have at most {schema['maxItems']} items"
        if 'items' in schema:
            value = [_validate(schema['items'], v, _join(path, i), problems)
                for i, v in enumerate(value)]
        return value
    elif kind == 'object':
        return _validate_object(schema, value, path, problems)
    return value


def _validate_number(schema, value, key, problems):
    if isinstance(value, Decimal) and not value.is_finite():
        problems[key] = "must be a finite number"
    elif 'minimum' in schema and value < schema['minimum']:
        problems[key] = f"must be at least {schema['minimum']}"
    elif 'maximum' in schema and value > schema['maximum']:
        problems[key] = f"must be at most {schema['maximum']}"
    elif 'multipleOf' in schema:
        step = Decimal(str(schema['multipleOf']))
        # Exact whatever the magnitude: the bounds were checked above
        with decimal_.localcontext(prec=100):
            if value % step:
                problems[key] = f"must be a multiple of {step}"


# What PostgreSQL text cannot hold: NUL, and UTF-16 surrogates (JSON's
# \ud800 escapes alone, not valid Unicode)
_UNSTORABLE_RE = re.compile('[\x00\ud800-\udfff]')


def _validate_string(schema, value, key, problems):
    if _UNSTORABLE_RE.search(value):
        problems[key] = "must not contain NUL characters or lone surrogates"
        return value
    if 'minLength' in schema and len(value) < schema['minLength']:
        if schema['minLength'] == 1:
            problems[key] = "must not be empty"
        else:
            problems[key] = (
                f"must be at least {schema['minLength']} characters")
        return value
    if 'maxLength' in schema and len(value) > schema['maxLength']:
        problems[key] = f"must be at most {schema['maxLength']} characters"
        return value
    if 'pattern' in schema and not re.search(schema['pattern'], value):
        problems[key] = f"must match {schema['pattern']}"
        return value
    format_ = schema.get('format')
    try:
        if format_ == 'email':
            if not _EMAIL_RE.match(value):
                raise ValueError
        elif format_ == 'date':
            return dt.date.fromisoformat(value)
        elif format_ == 'date-time':
            value = dt.datetime.fromisoformat(value)
            if value.tzinfo is not None:
                # Tryton's timestamps are naive, in UTC
                value = value.astimezone(dt.timezone.utc).replace(
                    tzinfo=None)
            return value
        elif format_ == 'decimal':
            value = Decimal(value)
            if not value.is_finite():
                raise ValueError
            return value
    except (ValueError, ArithmeticError):
        problems[key] = {
            'email': "must be a valid e-mail address",
            'date': "must be a date (YYYY-MM-DD)",
            'date-time': "must be a date and time (ISO 8601)",
            'decimal': "must be a decimal number",
            }[format_]
    return value


def _validate_object(schema, value, path, problems):
    properties = schema.get('properties', {})
    additional = schema.get('additionalProperties', True)
    result = {}
    for name in schema.get('required', []):
        if name not in value:
            problems[_join(path, name)] = "is required"
    for name, item in value.items():
        if name in properties:
            result[name] = _validate(
                properties[name], item, _join(path, name), problems)
        elif additional is False:
            problems[_join(path, name)] = "is not an accepted field"
        elif isinstance(additional, dict):
            result[name] = _validate(
                additional, item, _join(path, name), problems)
        else:
            result[name] = item
    return result
