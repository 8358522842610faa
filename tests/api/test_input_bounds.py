"""Out-of-range input answers 422 naming the field and changes nothing:
every id and number of every request, found in the OpenAPI document (so
that a new endpoint is covered), with values beyond what the database
holds."""
import pytest

from .openapi_tools import (
    body_with, field_name, integer_path_parameters, number_leaves,
    operations, resolve, types_of, url_of)
from .test_inventory_api import MH, Shop

TOO_LARGE_ID = 2 ** 63
JSON = {'Content-Type': 'application/json'}
# The rows of what nobody's request writes here (sessions expire)
VOLATILE = {'ir_session', 'ir_session_wizard', 'res_user_login_attempt',
    'ir_cache', 'ir_queue', 'ir_cron'}


def bad_literals(schema):
    "Raw JSON values out of the range of schema"
    if 'integer' in types_of(schema):
        literals = [str(TOO_LARGE_ID), '-1']
    else:
        literals = [
            '1e30',
            '1' + '0' * 30,                    # 10^30, 31 digits
            '1.234567890123456789012345678901',  # 31 digits
            ]
        if 'string' in types_of(schema):
            literals += ['"1234567890123456789012345678901"', '"1e30"']
        if schema.get('minimum', 0) >= 0:
            literals.append('-1')
    return literals


@pytest.fixture(scope='module')
def owner(api, mail, live_server):
    return Shop(api, mail, MH, server=live_server).token


@pytest.fixture
def row_counts(sql):
    "Count the rows of every table of the live database"
    def count():
        if sql.postgresql:
            tables = [t for t, in sql("SELECT tablename FROM pg_tables "
                    "WHERE schemaname = 'public'")]
        else:
            tables = [t for t, in sql("SELECT name FROM sqlite_master "
                    "WHERE type = 'table'")]
        tables = [t for t in tables if t not in VOLATILE]
        return dict(sql(' UNION ALL '.join(
                    f'SELECT \'{t}\', COUNT(*) FROM "{t}"' for t in tables)))
    return count


def request_schema(operation):
    content = operation.get('requestBody', {}).get('content', {})
    media = content.get('application/json')
    return media['schema'] if media else None


def test_bodies_bounded(api, openapi, owner, row_counts):
    "Every id with 2^63 and -1, every decimal with 10^30 and 31 digits"
    before = row_counts()
    wrong, tried = [], 0
    for path, method, operation in operations(openapi):
        schema = request_schema(operation)
        if schema is None:
            continue
        for leaf, leaf_schema in number_leaves(openapi, schema):
            field = field_name(leaf)
            for literal in bad_literals(leaf_schema):
                tried += 1
                response = api.request(method, url_of(path), token=owner,
                    headers=JSON, data=body_with(leaf, literal))
                fields = (response.json().get('error', {}).get('fields', {})
                    if response.headers.get('Content-Type', '').startswith(
                        'application/json') else {})
                if response.status_code != 422 or field not in fields:
                    wrong.append((method.upper(), path, field, literal,
                            response.status_code, response.text[:200]))
    assert tried > 100
    assert not wrong, '\n'.join(map(str, wrong))
    assert row_counts() == before


def test_path_ids_bounded(api, openapi, owner, row_counts):
    "Every integer of a path with 2^63 and -1: 422 naming it"
    before = row_counts()
    wrong, tried = [], 0
    for path, method, operation in operations(openapi):
        for name in integer_path_parameters(operation):
            for value in [TOO_LARGE_ID, -1]:
                tried += 1
                response = api.request(method, url_of(path, **{name: value}),
                    token=owner, json={})
                error = response.json().get('error', {})
                if (response.status_code != 422
                        or name not in error.get('fields', {})):
                    wrong.append((method.upper(), path, name, value,
                            response.status_code, response.text[:200]))
    assert tried > 50
    assert not wrong, '\n'.join(map(str, wrong))
    assert row_counts() == before


def test_query_integers_bounded(api, openapi, owner):
    "Every integer of a query string with 2^63 and -1: 400 naming it"
    wrong = []
    for path, method, operation in operations(openapi):
        for parameter in operation.get('parameters', []):
            schema = resolve(openapi, parameter['schema'])
            if (parameter['in'] != 'query'
                    or 'integer' not in types_of(schema)):
                continue
            for value in [TOO_LARGE_ID, -1]:
                response = api.request(method, url_of(path), token=owner,
                    params={parameter['name']: value})
                error = response.json().get('error', {})
                if (response.status_code != 400
                        or parameter['name'] not in error.get('fields', {})):
                    wrong.append((method.upper(), path, parameter['name'],
                            value, response.status_code, response.text[:200]))
    assert not wrong, '\n'.join(map(str, wrong))


def test_document_states_bounds(openapi):
    "Ids are int32 from 1; every number of a request has its range"
    ids = 0
    for path, method, operation in operations(openapi):
        schema = request_schema(operation)
        leaves = list(number_leaves(openapi, schema)) if schema else []
        leaves += [((p['name'],), resolve(openapi, p['schema']))
            for p in operation.get('parameters', [])]
        for leaf, leaf_schema in leaves:
            types = types_of(leaf_schema)
            if not types & {'integer', 'number'}:
                continue
            where = f'{method.upper()} {path} {field_name(leaf)}'
            assert 'maximum' in leaf_schema, where
            assert 'minimum' in leaf_schema, where
            if field_name(leaf) == 'id' or field_name(leaf).endswith('_id'):
                ids += 1
                assert leaf_schema['format'] == 'int32', where
                assert leaf_schema['minimum'] == 1, where
                assert leaf_schema['maximum'] == 2 ** 31 - 1, where
            if 'number' in types:
                assert leaf_schema['multipleOf'], where
                if 'string' in types:
                    assert leaf_schema['pattern'], where
    assert ids > 50
