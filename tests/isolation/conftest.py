"""Two businesses on one live server, and the means to attack one from the
other through JSON-RPC, Tryton REST and the seed's /api/.

Session fixture `world`: the platform administrator creates two plain
users; A provisions business X (Maharashtra), B business Y (Karnataka);
each seeds a workshop's records as its owner. What is true is read with SQL
from the live database (`truth`), never through the APIs under test.
"""
import base64
import json
import os
import sqlite3
import uuid

import pytest
import requests

import conftest as base  # tests/conftest.py

from .catalogue import load as load_catalogue
from .seed import seed_business

ADMIN_PASSWORD = base.run.ADMIN_PASSWORD
# Read at collection: tests are parametrized per model
CATALOGUE = load_catalogue()
READ_SAMPLE = 5  # records of the other business read/written/deleted one by one


class Outcome:
    "What a call answered: a result, an error or an HTTP status"

    def __init__(self, ok, value=None, error=None, status=200):
        self.ok = ok
        self.value = value
        self.error = error
        self.status = status

    @property
    def access_refused(self):
        "Refused by Tryton's access rights or rules (or the cross check)"
        text = json.dumps(self.error) if self.error is not None else ''
        return (self.status == 403 or 'not allowed' in text
            or 'another business' in text or 'not a member' in text
            or 'Only an owner' in text)

    def __repr__(self):
        if self.ok:
            return f'<ok {str(self.value)[:300]}>'
        return f'<refused {self.status} {str(self.error)[:300]}>'


class Actor:
    "A user of the platform with a JSON-RPC session and a REST key"

    def __init__(self, world, login, password, user_id):
        self.world = world
        self.login = login
        self.password = password
        self.user_id = user_id
        self.session = None
        self.company = None
        self.rest_key = None
        self.api_token = None

    def relogin(self):
        self.session = self.world.server.login(self.login, self.password)
        self.company = self.session.context.get('company')
        return self.session

    @property
    def context(self):
        return self.session.context

    def rpc(self, model, method, *args, context=None, replace_context=False):
        """Call model.method through JSON-RPC in the user's context
        (updated with, or replaced by, context); never raises"""
        server = self.world.server
        login, user_id, key = self.session.session
        token = base64.b64encode(f'{login}:{user_id}:{key}'.encode()).decode()
        ctx = (dict(context or {}) if replace_context
            else {**self.context, **(context or {})})
        response = requests.post(f'{server.url}{server.database}/rpc/',
            json={'id': 1, 'method': f'model.{model}.{method}',
                'params': [*args, ctx]},
            headers={'Authorization': f'Session {token}'}, timeout=60)
        if response.status_code != 200:
            return Outcome(False, error=response.text[:500],
                status=response.status_code)
        body = response.json()
        if body.get('error') is not None:
            return Outcome(False, error=body['error'])
        return Outcome(True, body['result'])

    def rest(self, method, path, body=None, context=None, headers=None,
            params=None):
        """A request to the Tryton REST API of the live database, as the
        user's REST application; context goes in X-Tryton-Context
        (default: the user's business, as an integrator sends it)"""
        server = self.world.server
        if context is None:
            context = {'company': self.company}
        encoded = base64.urlsafe_b64encode(json.dumps(context).encode())
        return requests.request(method,
            f'{server.url}{server.database}/rest/{path}',
            json=body, params=params, timeout=60,
            headers={'Authorization': f'Bearer {self.rest_key}',
                'X-Tryton-Context': encoded.decode(), **(headers or {})})

    def api(self, method, path, **kwargs):
        "A request to the seed's /api/ with the user's bearer token"
        server = self.world.server
        return requests.request(method, server.url.rstrip('/') + path,
            headers={'Authorization': f'Bearer {self.api_token}'},
            timeout=60, **kwargs)


def rest_outcome(response):
    "A REST answer as an Outcome"
    try:
        value = response.json()
    except ValueError:
        value = response.text[:500]
    if 200 <= response.status_code < 300:
        return Outcome(True, value, status=response.status_code)
    return Outcome(False, error=value, status=response.status_code)


def encode_domain(domain):
    return base64.urlsafe_b64encode(json.dumps(domain).encode()).decode()


class Truth:
    "SQL on the live database: what records exist and whose they are"

    def __init__(self, server, catalogue):
        self.catalogue = catalogue
        self.postgresql = base.IS_POSTGRESQL
        if self.postgresql:
            import psycopg
            from urllib.parse import urlparse
            parts = urlparse(base.URI)
            self.conn = psycopg.connect(host=parts.hostname or None,
                port=parts.port, user=parts.username,
                password=parts.password, dbname=server.database,
                autocommit=True)
        else:
            path = os.path.join(os.path.dirname(server.config_file),
                f'{server.database}.sqlite')
            self.conn = sqlite3.connect(path, isolation_level=None,
                timeout=30)

    def query(self, sql, params=()):
        if not self.postgresql:
            sql = sql.replace('%s', '?')
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def owners(self, model):
        """{id: business} of every row of a business model or dependent;
        None for shared (platform) rows"""
        cat = self.catalogue
        if model in cat.stored:
            return dict(self.query(cat.owner_sql(model)))
        result = {}
        for field, relation in sorted(cat.dependents[model].items()):
            sub = cat.owner_sql(relation)
            table = cat.table(model)
            rows = self.query(f'SELECT c.id, o.owner FROM "{table}" c '
                f'LEFT JOIN ({sub}) o ON o.oid = c."{field}"')
            for id_, owner in rows:
                result.setdefault(id_, set()).add(owner)
        return {i: _strongest(owners) for i, owners in result.items()}

    def rows(self, model, ids):
        "{id: row} of the rows of model with these ids, all columns"
        if not ids:
            return {}
        table = self.catalogue.table(model)
        marks = ', '.join(['%s'] * len(ids))
        return {row[0]: tuple(str(v) for v in row)
            for row in self.query(
                f'SELECT t.id, t.* FROM "{table}" t WHERE t.id IN ({marks})',
                tuple(ids))}


def _strongest(owners):
    "The business a dependent row belongs to, from those of its parents"
    owners = owners - {None}
    if not owners:
        return None
    return sorted(owners)[-1] if len(owners) > 1 else next(iter(owners))


class World:
    "The platform with businesses X (of A) and Y (of B), seeded"

    def __init__(self, server):
        self.server = server
        self.catalogue = CATALOGUE
        self.tag = uuid.uuid4().hex[:6]
        self.admin = server.login('admin', ADMIN_PASSWORD)
        self.truth = Truth(server, CATALOGUE)
        self.ids = {}
        self.label = {}
        # (model, id) of Y's records the known bugs let A change or delete
        self.changed_by_bugs = set()

    def admin_call(self, model, method, *args, context=None):
        return self.server.rpc(f'model.{model}.{method}',
            [*args, {**self.admin.context, **(context or {})}],
            self.admin.session)

    def add_currency_rate(self, code):
        """Give the currency a rate, as the platform administrator does
        once: Tryton's sale and stock reports join currency rates"""
        currency, = self.admin_call('currency.currency', 'search',
            [('code', '=', code)], 0, None, None)
        if not self.admin_call('currency.currency.rate', 'search',
                [('currency', '=', currency)], 0, None, None):
            self.admin_call('currency.currency.rate', 'create', [{
                        'currency': currency, 'rate': 1,
                        'date': {'__class__': 'date', 'year': 2000,
                            'month': 1, 'day': 1}}])

    def create_user(self, letter, name):
        login = f'iso-{letter}-{self.tag}@{letter}.example.in'
        password = f'Iso-{letter}-{uuid.uuid4().hex[:10]}'
        # As /api/auth/register does: a plain user in no business
        user_id, = self.admin_call('res.user', 'create', [{
                    'login': login, 'email': login, 'name': name,
                    'password': password, 'companies': [], 'company': None,
                    'employees': [], 'employee': None}])
        return Actor(self, login, password, user_id)

    def provision(self, actor, letter, state, gstin):
        actor.relogin()
        name = f'Isolation {letter}{self.tag} Works'
        company = actor.session.call('company.company', 'provision',
            {'name': name, 'state': state})
        actor.relogin()
        assert actor.company == company, actor.context
        self.label[company] = f'{letter}{self.tag}'
        self.ids[company] = seed_business(self.server, actor.session,
            company, state, gstin, f'{letter}{self.tag}')
        actor.relogin()
        return company

    def rest_key(self, actor):
        "Request a REST key as the user, validated by the administrator"
        response = requests.post(
            f'{self.server.url}{self.server.database}/user/application/',
            json={'user': actor.login, 'application': 'rest'}, timeout=60)
        assert response.status_code == 200, response.text
        key = response.json()
        application, = self.admin_call('res.user.application', 'search',
            [('key', '=', key)], 0, None, None)
        self.admin_call('res.user.application', 'validate_', [application])
        return key

    def api_token(self, actor):
        response = requests.post(self.server.url + 'api/auth/login',
            json={'email': actor.login, 'password': actor.password},
            timeout=60)
        assert response.status_code == 200, response.text
        return response.json()['token']

    # What the tests compare

    def split(self, model, company):
        """(own, shared, foreign) ids of model for company: foreign are the
        records of every other business (Y, the demo workshop, ...)"""
        own, shared, foreign = set(), set(), set()
        for id_, owner in self.truth.owners(model).items():
            if owner == company:
                own.add(id_)
            elif owner is None:
                shared.add(id_)
            else:
                foreign.add(id_)
        return own, shared, foreign

    def of(self, model, company):
        "Sorted ids of the records of model in company"
        return sorted(i for i, c in self.truth.owners(model).items()
            if c == company)

    def listed_kinds(self):
        """{model: 'report' | 'form'} of the models with a company and no
        table: a report (ModelSQL on a query) answers search, a form or
        wizard (ModelView) has no search in its RPC"""
        if getattr(self, '_kinds', None) is None:
            kinds = {}
            for model in self.catalogue.listed:
                try:
                    self.admin_call(model, 'search_count', [])
                except base.RPCError as e:
                    kinds[model] = ('form' if 'HTTP 403' in str(e)
                        else 'report')
                else:
                    kinds[model] = 'report'
            self._kinds = kinds
        return self._kinds

    def report_context(self, company):
        "The context of the reports of company's warehouse, as the desk sets"
        ids = self.ids[company]
        return {'company': company, 'warehouse': ids['warehouse'],
            'location': ids['storage'],
            'date': {'__class__': 'date', 'year': 2100, 'month': 1,
                'day': 1}}

    def snapshot(self, company):
        "Every row of every stored business model of company"
        result = {}
        for model in self.catalogue.stored:
            ids = self.of(model, company)
            result[model] = self.truth.rows(model, ids)
        return result


@pytest.fixture(scope='session')
def world(live_server):
    world = World(live_server)
    world.add_currency_rate('INR')
    world.a = world.create_user('a', 'Asha Isolation')
    world.b = world.create_user('b', 'Bala Isolation')
    world.x = world.provision(world.a, 'X', 'IN-MH', '27AAPFD1234K1ZB')
    world.y = world.provision(world.b, 'Y', 'IN-KA', '29AAACR5055K1Z3')
    for actor in [world.a, world.b]:
        actor.rest_key = world.rest_key(actor)
        actor.api_token = world.api_token(actor)
    world.y_snapshot = world.snapshot(world.y)
    # What Y's owner sees in reports, before any attack
    world.y_report_rows = {model: world.b.rpc(model, 'search_count', [],
            context=world.report_context(world.y))
        for model in ['sale.reporting.main', 'sale.reporting.customer',
            'sale.opportunity.reporting.main', 'stock.reporting.inventory',
            'stock.reporting.inventory.move']}
    return world
