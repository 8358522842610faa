# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
import json
import unittest
from decimal import Decimal
from types import SimpleNamespace

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.test import Client

from trytond import config
from trytond.exceptions import RateLimitException, UserError, UserWarning
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError, SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, ModuleTestCase, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app

from monitorbizz_app.api import framework, schema
from monitorbizz_app.api.framework import (
    ENDPOINTS, LIST_QUERY, ApiError, api_error, decode_token, encode_token,
    paginate)
from monitorbizz_app.api.openapi import document, openapi_path


class SchemaTestCase(unittest.TestCase):
    "Test the JSON Schema subset of the API"

    SCHEMA = {
        'type': 'object',
        'required': ['email', 'count'],
        'additionalProperties': False,
        'properties': {
            'email': schema.EMAIL,
            'count': {'type': 'integer', 'minimum': 1},
            'amount': {'type': 'number'},
            'day': {'type': 'string', 'format': 'date'},
            'kind': {'type': 'string', 'enum': ['a', 'b']},
            'tags': {'type': 'array', 'items': {'type': 'string'},
                'maxItems': 2},
            'parent': schema.nullable({'type': 'integer'}),
            },
        }

    def test_valid_converted(self):
        "Valid values are converted"
        self.assertEqual(schema.validate(self.SCHEMA, {
                    'email': 'a@b.in', 'count': Decimal('2.0'),
                    'amount': 3, 'day': '2025-01-31', 'parent': None,
                    }), {
                'email': 'a@b.in', 'count': 2, 'amount': Decimal(3),
                'day': dt.date(2025, 1, 31), 'parent': None,
                })

    def test_problems_by_field(self):
        "Each invalid field is named"
        with self.assertRaises(schema.Invalid) as cm:
            schema.validate(self.SCHEMA, {
                    'email': 'not-an-email', 'count': 0, 'day': '31/01',
                    'kind': 'c', 'tags': ['x', 1, 'z'], 'parent': 'p',
                    'extra': 1,
                    })
        self.assertEqual(set(cm.exception.problems), {
                'email', 'count', 'day', 'kind', 'tags', 'tags.1', 'parent',
                'extra'})

    def test_required(self):
        "Missing required fields are named"
        with self.assertRaises(schema.Invalid) as cm:
            schema.validate(self.SCHEMA, {})
        self.assertEqual(cm.exception.problems, {
                'email': "is required", 'count': "is required"})

    def test_unsupported_keyword(self):
        "A keyword that is not validated cannot be declared"
        for bad in [
                {'type': 'string', 'oneOf': []},
                {'type': 'strin'},
                {'properties': {}},
                {'type': 'object', 'required': ['x']},
                {'type': 'string', 'format': 'uri'},
                ]:
            with self.subTest(schema=bad), self.assertRaises(ValueError):
                schema.check(bad)


class BoundsTestCase(unittest.TestCase):
    "Every input is bounded"

    AMOUNT = schema.decimal(2, schema.MAX_AMOUNT)

    def problem(self, schema_, value):
        with self.assertRaises(schema.Invalid) as cm:
            schema.validate(schema_, value)
        return cm.exception.problems['body']

    def test_ids(self):
        "Ids fit PostgreSQL's INTEGER, from 1"
        self.assertEqual(schema.validate(schema.ID, 2 ** 31 - 1), 2 ** 31 - 1)
        for value in [0, -1, 2 ** 31, 2 ** 63]:
            with self.subTest(value=value):
                self.assertTrue(self.problem(schema.ID, value))

    def test_decimals(self):
        "Numbers and decimal strings within range and digits"
        for value in [Decimal('12.34'), '12.34', 0, '999999999999']:
            with self.subTest(value=value):
                self.assertEqual(schema.validate(self.AMOUNT, value),
                    Decimal(str(value)))
        for value in [Decimal('1E+30'), 10 ** 30, '1' + '0' * 30,
                Decimal('1.234567890123456789012345678901'), '0.001',
                -1, '-1', 'NaN', 'Infinity', '1e3', ' 1']:
            with self.subTest(value=value):
                self.assertTrue(self.problem(self.AMOUNT, value))

    def test_texts_storable(self):
        "NUL and lone surrogates are refused"
        for value in ['a\x00b', '\ud800']:
            with self.subTest(value=value):
                self.assertTrue(self.problem({'type': 'string'}, value))

    def test_date_time_utc(self):
        "Date-times with an offset become naive UTC, as Tryton's"
        self.assertEqual(schema.validate(
                {'type': 'string', 'format': 'date-time'},
                '2026-11-16T12:00:00+05:30'), dt.datetime(2026, 11, 16, 6, 30))
        response = framework.json_response(
            {'at': dt.datetime(2026, 11, 16, 6, 30)})
        self.assertEqual(json.loads(response.get_data()),
            {'at': '2026-11-16T06:30:00Z'})

    def test_unbounded_refused(self):
        "A request schema with an unbounded number cannot be declared"
        for bad in [
                {'type': 'integer'},
                {'type': 'number', 'minimum': 0},
                {'type': 'object', 'properties': {
                        'x': {'type': ['integer', 'null'], 'maximum': 3}}},
                {'type': 'array', 'items': {'type': 'number'}},
                {'type': 'string', 'format': 'decimal'},
                ]:
            with self.subTest(schema=bad), self.assertRaises(ValueError):
                schema.check_bounded(bad)
        schema.check_bounded({'type': 'object', 'properties': {
                    'x': schema.NULLABLE_ID, 'y': self.AMOUNT,
                    'z': {'type': 'integer', 'enum': [1, 2]}}})


class JSONTestCase(unittest.TestCase):
    "Answers in JSON"

    def test_decimals_fixed_point(self):
        "Decimals are strings in fixed point, never with an exponent"
        response = framework.json_response({
                'quantity': Decimal('50').normalize(),
                'amount': Decimal('1234.50'),
                'small': Decimal('0.0001'),
                'large': Decimal('8.492E+4')})
        self.assertEqual(json.loads(response.get_data()), {
                'quantity': '50', 'amount': '1234.50', 'small': '0.0001',
                'large': '84920'})


class TokenTestCase(unittest.TestCase):
    "Test the bearer token"

    def test_round_trip(self):
        token = encode_token(42, 'ab' * 32)
        self.assertNotIn('=', token)
        self.assertEqual(decode_token(token), (42, 'ab' * 32))

    def test_garbage(self):
        for token in ['', 'x', '!!!', encode_token(0, 'key'),
                encode_token(-1, 'key'), 'NDI6',  # "42:"
                'bm90LWFuLWludDprZXk']:  # "not-an-int:key"
            with self.subTest(token=token):
                self.assertIsNone(decode_token(token))


class OpenAPITestCase(unittest.TestCase):
    "Test the OpenAPI document"

    def test_valid(self):
        "The document is valid OpenAPI 3.1"
        from openapi_spec_validator import validate
        validate(document())

    def test_every_endpoint(self):
        "Every declared endpoint and every /api rule is in the document"
        paths = document()['paths']
        for declared in ENDPOINTS:
            path, _ = openapi_path(declared.path)
            self.assertIn(declared.method.lower(), paths[path])
        for rule in app.url_map.iter_rules():
            if (not rule.rule.startswith('/api/')
                    or getattr(rule.endpoint, 'api_fallback', False)):
                continue
            path, _ = openapi_path(rule.rule)
            for method in rule.methods - {'HEAD', 'OPTIONS'}:
                self.assertIn(method.lower(), paths[path])

    def test_path_parameters(self):
        self.assertEqual(openapi_path('/api/x/<int:id>/y/<name>'), (
                '/api/x/{id}/y/{name}', [
                    {'name': 'id', 'in': 'path', 'required': True,
                        'schema': schema.ID},
                    {'name': 'name', 'in': 'path', 'required': True,
                        'schema': {'type': 'string'}},
                    ]))


class ApiTestCase(ModuleTestCase):
    "Test the API module"
    module = 'monitorbizz_api'

    @with_transaction()
    def test_error_mapping(self):
        "Tryton exceptions map to the API's statuses and codes"
        pool = Pool()
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        transaction = Transaction()

        def error(func, *args, **kwargs):
            try:
                with transaction.new_transaction():
                    func(*args, **kwargs)
            except Exception as e:
                return api_error(e, {'login': 'email'})
            self.fail(f"{func} raised nothing")

        password = error(User.validate_password, 'short', [])
        self.assertEqual((password.status, password.code),
            (422, 'invalid_password'))
        self.assertEqual(list(password.fields), ['password'])

        required = error(User.create, [{'name': "No login"}])
        self.assertEqual((required.status, required.code),
            (422, 'required'))

        english, = Lang.search([('code', '=', 'en')])
        duplicate = error(Lang.copy, [english], {'code': 'en'})
        self.assertEqual((duplicate.status, duplicate.code),
            (409, 'conflict'))
        # Raised as Tryton raises a failed Check constraint
        check = api_error(SQLConstraintError(
                gettext('ir.msg_chat_user_or_email')))
        self.assertEqual((check.status, check.code),
            (422, 'constraint_violation'))

        user, = User.create([{'login': 'plain', 'companies': []}])

        def create_as_user():
            # In the new transaction of error()
            with Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                Lang.create([{'name': "Other", 'code': 'xx_OTHER'}])
        self.assertEqual(error(create_as_user).status, 403)

        for exception, status, code in [
                (UserError("x"), 422, 'user_error'),
                (UserWarning('name', "x"), 409, 'user_warning'),
                (AccessError("x"), 403, 'forbidden'),
                (RateLimitException(), 429, 'too_many_requests'),
                (NotFound(), 404, 'not_found'),
                (MethodNotAllowed(['GET']), 405, 'method_not_allowed'),
                (ApiError(418, 'teapot', "x"), 418, 'teapot'),
                (KeyError('x'), 500, 'internal_error'),
                ]:
            with self.subTest(exception=exception):
                mapped = api_error(exception)
                self.assertEqual((mapped.status, mapped.code),
                    (status, code))
                body = json.loads(mapped.response().get_data())
                self.assertEqual(set(body['error']),
                    {'code', 'message', 'fields'})

    @with_transaction()
    def test_paginate(self):
        "paginate answers a page, the total and validates the order"
        pool = Pool()
        Lang = pool.get('ir.lang')

        def call(**query):
            return SimpleNamespace(query={'limit': 20, 'offset': 0, **query})

        def code(row):
            return row['code']
        orders = {'code': 'code', 'name': 'name'}
        total = Lang.search_count([])
        self.assertGreater(total, 3)

        page = paginate(call(limit=2, offset=1, order='-code'), Lang,
            ['code'], orders=orders, serialize=code)
        codes = [l.code for l in Lang.search([], order=[('code', 'DESC')])]
        self.assertEqual(page, {
                'items': codes[1:3], 'total': total, 'limit': 2,
                'offset': 1})

        page = paginate(call(q='englis'), Lang, ['code'], serialize=code)
        self.assertEqual(page['items'], ['en'])
        self.assertEqual(page['total'], 1)

        with self.assertRaises(ApiError) as cm:
            paginate(call(order='password'), Lang, ['code'], orders=orders)
        self.assertEqual((cm.exception.status, cm.exception.code),
            (400, 'invalid_query'))
        self.assertIn('order', cm.exception.fields)

    def test_list_query(self):
        "The list parameters are validated like the others"
        declared = framework.Endpoint('GET', '/api/test/list',
            lambda call: None, summary="x", query=LIST_QUERY)
        request = SimpleNamespace(args={'limit': '5', 'q': 'a'})
        self.assertEqual(declared._read_query(request),
            {'limit': 5, 'offset': 0, 'q': 'a'})
        for args in [{'limit': 'x'}, {'limit': '0'}, {'offset': '-1'},
                {'page': '1'}]:
            with self.subTest(args=args), self.assertRaises(ApiError) as cm:
                declared._read_query(SimpleNamespace(args=args))
            self.assertEqual(cm.exception.status, 400)

    def test_http(self):
        "register, login, me and logout through trytond's WSGI application"
        client = Client(app)
        if not config.has_section('monitorbizz'):
            config.add_section('monitorbizz')
            self.addCleanup(config.remove_section, 'monitorbizz')
        elif previous := config.get('monitorbizz', 'database'):
            self.addCleanup(config.set, 'monitorbizz', 'database', previous)
        config.set('monitorbizz', 'database', DB_NAME)

        def users():
            with Transaction().start(DB_NAME, 0):
                return Pool().get('res.user').search_count([])

        count = users()
        response = client.post('/api/auth/register', data='{"email": ',
            content_type='application/json')
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json['error']['code'], 'malformed_json')
        response = client.post('/api/auth/register', json={
                'email': 'unit@example.com', 'password': 'short',
                'name': "Unit"})
        self.assertEqual(response.status_code, 422)
        self.assertIn('password', response.json['error']['fields'])
        self.assertEqual(users(), count)

        response = client.post('/api/auth/register', json={
                'email': 'Unit@Example.com', 'password': 'long-enough-1',
                'name': "Unit"})
        self.assertEqual(response.status_code, 201, response.json)
        self.assertEqual(response.json['user']['email'], 'unit@example.com')
        self.assertEqual(users(), count + 1)

        response = client.post('/api/auth/login', json={
                'email': 'unit@example.com', 'password': 'long-enough-1'})
        self.assertEqual(response.status_code, 200, response.json)
        headers = {'Authorization': f"Bearer {response.json['token']}"}
        response = client.get('/api/auth/me', headers=headers)
        self.assertEqual(response.status_code, 200, response.json)
        self.assertEqual(response.json['businesses'], [])
        self.assertEqual(
            client.post('/api/auth/logout', headers=headers).status_code, 204)
        self.assertEqual(
            client.get('/api/auth/me', headers=headers).status_code, 401)

        response = client.get('/api/auth/nowhere')
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json['error']['code'], 'not_found')
        response = client.get('/api/auth/login')
        self.assertEqual(response.status_code, 405)
        self.assertIn('POST', response.headers['Allow'])


del ModuleTestCase
