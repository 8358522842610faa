"""Walk the OpenAPI document of the live trytond: its operations and the
bounded numbers of their inputs, so that tests cover every endpoint,
including those added later."""
import json
import re

METHODS = {'get', 'put', 'post', 'delete', 'patch'}
WRITES = {'put', 'post', 'delete', 'patch'}
BAD = '"__bad_value__"'


def operations(openapi):
    "(path, method, operation) of every operation of the document"
    for path, item in sorted(openapi['paths'].items()):
        for method, operation in sorted(item.items()):
            if method in METHODS:
                yield path, method, operation


def resolve(openapi, schema):
    while '$ref' in schema:
        schema = openapi['components']['schemas'][
            schema['$ref'].rsplit('/', 1)[-1]]
    return schema


def types_of(schema):
    types = schema.get('type', [])
    return {types} if isinstance(types, str) else set(types)


def number_leaves(openapi, schema, path=()):
    """(path, schema) of every integer or number a request schema holds;
    path is the tuple of property names and 0 for array items"""
    schema = resolve(openapi, schema)
    for sub in schema.get('anyOf', []):
        yield from number_leaves(openapi, sub, path)
    types = types_of(schema)
    if types & {'integer', 'number'} and 'enum' not in schema:
        yield path, schema
    for name, sub in schema.get('properties', {}).items():
        yield from number_leaves(openapi, sub, path + (name,))
    if isinstance(schema.get('items'), dict):
        yield from number_leaves(openapi, schema['items'], path + (0,))


def body_with(path, literal):
    """The JSON text of a body holding literal (raw JSON) at path and
    nothing else"""
    value = BAD
    for step in reversed(path):
        value = [value] if step == 0 else {step: value}
    return json.dumps(value).replace(json.dumps(BAD), literal)


def field_name(path):
    return '.'.join(map(str, path))


def url_of(path, **values):
    "The path with each {parameter} replaced by values or 1"
    return re.sub(r'\{(\w+)\}',
        lambda m: str(values.get(m.group(1), 1)), path)


def integer_path_parameters(operation):
    return [p['name'] for p in operation.get('parameters', [])
        if p['in'] == 'path' and 'integer' in types_of(p['schema'])]
