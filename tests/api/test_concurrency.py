"""Bursts of simultaneous requests to /api, on PostgreSQL and on the
embedded SQLite database that `make run` serves (issue 21).

Each case runs on both databases: the session's live server serves the
database of the run (PostgreSQL when reachable); this module starts a
second trytond on a SQLite copy of the demo database (built once per
source version in var/test-cache, as tests/conftest.py does for SQLite
runs) and, when the run itself is on SQLite, the PostgreSQL case is
skipped.

What must hold: stock never goes below zero and what is accepted is
exactly what left the batch; a refusal is a 4xx that says why, never
because another request ran at the same time; numbers stay distinct and
gap-free; one machine runs one operation."""
import configparser
import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import threading
from decimal import Decimal
from urllib.parse import urlparse

import pytest
import requests

import conftest as root  # tests/conftest.py
import run  # scripts/run.py
from .conftest import Api
from .test_inventory_api import Shop
from .test_manufacturing_work_orders import (
    WO, Workshop, employee, lot_balance)

BACKENDS = ['postgresql', 'sqlite']


def D(value):
    return Decimal(str(value))


@contextlib.contextmanager
def _sqlite_environment():
    "trytond's environment variables override the configuration file"
    saved = os.environ.get('TRYTOND_DATABASE__URI')
    os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
    try:
        yield
    finally:
        if saved is None:
            del os.environ['TRYTOND_DATABASE__URI']
        else:
            os.environ['TRYTOND_DATABASE__URI'] = saved


def _sqlite_demo(tmp_dir, name):
    "A copy of the SQLite demo database (built on first use) in tmp_dir"
    cached = os.path.join(root.CACHE, 'demo.sqlite')
    if not os.path.exists(cached):
        os.makedirs(root.CACHE, exist_ok=True)
        config_file = os.path.join(tmp_dir, 'build.conf')
        run.write_config(config_file, '127.0.0.1', 0, root.CACHE,
            uri='sqlite://')
        building = os.path.join(root.CACHE, 'demo_building.sqlite')
        open(building, 'wb').close()
        with _sqlite_environment():
            run.build_database(config_file, 'demo_building')
        os.replace(building, cached)
    shutil.copy(cached, os.path.join(tmp_dir, f'{name}.sqlite'))


@pytest.fixture(scope='module')
def sqlite_server(tmp_path_factory, smtp):
    "A trytond serving a SQLite copy of the demo database, as make run does"
    tmp_dir = str(tmp_path_factory.mktemp('trytond_sqlite'))
    name = 'mbz_sqlite'
    _sqlite_demo(tmp_dir, name)
    port = root._free_port()
    config_file = os.path.join(tmp_dir, 'trytond.conf')
    run.write_config(config_file, '127.0.0.1', port, tmp_dir,
        uri='sqlite://', database=name)
    log = open(os.path.join(tmp_dir, 'trytond.log'), 'w')
    process = subprocess.Popen(
        [os.path.join(run.BIN, 'trytond'), '-c', config_file, '-d', name],
        env={**os.environ, 'TRYTOND_EMAIL__URI': smtp.uri,
            'TRYTOND_DATABASE__URI': 'sqlite://'},
        stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/'
    try:
        root.wait_for_server(process, url, log.name)
        yield root.LiveServer(url, name, config_file)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class Backend:
    "A live server, its /api and SQL on its database"

    def __init__(self, name, server):
        self.name = name
        self.server = server
        self.api = Api(server.url)

    def sql(self, statement, params=()):
        if self.name == 'postgresql':
            import psycopg
            parts = urlparse(root.URI)
            with psycopg.connect(host=parts.hostname or None,
                    port=parts.port, user=parts.username,
                    password=parts.password, dbname=self.server.database,
                    autocommit=True) as conn, conn.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()
        parser = configparser.ConfigParser()
        parser.read(self.server.config_file)
        path = os.path.join(parser.get('database', 'path'),
            f'{self.server.database}.sqlite')
        conn = sqlite3.connect(path, timeout=30)
        try:
            return conn.execute(statement.replace('%s', '?'),
                params).fetchall()
        finally:
            conn.close()


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == 'postgresql':
        if not root.IS_POSTGRESQL:
            pytest.skip("the run is on SQLite: no PostgreSQL to serve")
        server = request.getfixturevalue('live_server')
    elif root.IS_POSTGRESQL:
        server = request.getfixturevalue('sqlite_server')
    else:
        server = request.getfixturevalue('live_server')
    return Backend(request.param, server)


@pytest.fixture
def shop(backend, mail):
    return Shop(backend.api, mail, server=backend.server)


def burst(api, token, calls):
    """Send the calls [(method, path, body)] all at once, each on its own
    connection; return the answers in the order of calls"""
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def send(index, method, path, body):
        with requests.Session() as session:
            barrier.wait()
            try:
                answers[index] = session.request(method, api.url + path,
                    headers={'Authorization': f'Bearer {token}'},
                    json=body, timeout=300)
            except requests.RequestException as e:
                answers[index] = e
    threads = [threading.Thread(target=send, args=(i, *c))
        for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def summary(answers):
    "{status: count} and the error codes of refusals, for messages"
    statuses = {}
    for a in answers:
        key = getattr(a, 'status_code', repr(a))
        if getattr(a, 'status_code', 0) >= 400:
            try:
                key = f"{key} {a.json()['error']['code']}"
            except (ValueError, KeyError):
                key = f"{key} {a.text[:80]}"
        statuses[key] = statuses.get(key, 0) + 1
    return statuses


def ledger_balances(shop, material):
    "The running balances of the material's stock-movement ledger"
    balances, offset = [], 0
    while True:
        page = shop.get(
            f"/api/inventory/materials/{material['id']}/stock-movements",
            limit=100, offset=offset)
        balances += [D(r['balance']) for r in page['items']]
        offset += len(page['items'])
        if offset >= page['total'] or not page['items']:
            return balances


def check_stock(shop, material, answers, quantity, held=10):
    """Accepted × quantity left the batch and nothing more: what is
    accepted is stored, the refusals are for want of stock only"""
    accepted = [a for a in answers if getattr(a, 'status_code', 0) == 201]
    refused = [a for a in answers if a not in accepted]
    stock = D(shop.get(
            f"/api/inventory/materials/{material['id']}")['current_stock'])
    assert len(accepted) * quantity <= held, summary(answers)
    assert stock == held - len(accepted) * quantity, (stock,
        summary(answers))
    assert all(getattr(a, 'status_code', 0) == 409
        and a.json()['error']['code'] == 'batch_exhausted'
        for a in refused), summary(answers)
    # Refused only when the batch held less than asked
    assert len(accepted) == min(len(answers), held // quantity), \
        summary(answers)
    balances = ledger_balances(shop, material)
    assert balances and min(balances) >= 0, balances


# Stock ----------------------------------------------------------------------

@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_consumptions_of_a_planned_input(backend, shop, count,
        quantity):
    """count × quantity kg of the planned bar at once from its batch of
    10 kg: never more than the batch holds"""
    w = Workshop(shop)
    # 19 flanges plan 9.88 kg of bar: all reserved from the batch H-1
    w.stock(quantity_bar=10, quantity_sheet=4)
    order = w.work_order(19)
    path = f"{WO}/{order['id']}"
    shop.post(f'{path}/schedule', expect=200)
    shop.post(f'{path}/start', expect=200)
    answers = burst(backend.api, shop.token, [
            ('POST', f'{path}/consume-material', {'material': w.bar['id'],
                    'quantity': quantity, 'batch': 'H-1'})] * count)
    check_stock(shop, w.bar, answers, quantity)


@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_consumptions_of_a_substitute(backend, shop, count,
        quantity):
    """count × quantity kg at once of a material outside the BOM
    (allow_substitute) from its batch of 10 kg"""
    w = Workshop(shop)
    substitute = shop.post('/api/inventory/materials', {
            'name': "EN9 Round Bar", 'unit': 'kg', 'cost_price': 85,
            'batch_tracking': True})
    w.batch(substitute, 'S-1', 10)
    order = w.running(10)
    path = f"{WO}/{order['id']}"
    answers = burst(backend.api, shop.token, [
            ('POST', f'{path}/consume-material', {
                    'material': substitute['id'], 'quantity': quantity,
                    'batch': 'S-1', 'allow_substitute': True})] * count)
    check_stock(shop, substitute, answers, quantity)


@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_consumptions_from_an_unplanned_batch(backend, shop,
        count, quantity):
    """count × quantity kg at once of the planned bar from a batch of 10 kg
    that its planned inputs do not reserve (allow_substitute)"""
    w = Workshop(shop)
    order = w.running(10)
    w.batch(w.bar, 'H-9', 10)
    path = f"{WO}/{order['id']}"
    answers = burst(backend.api, shop.token, [
            ('POST', f'{path}/consume-material', {
                    'material': w.bar['id'], 'quantity': quantity,
                    'batch': 'H-9', 'allow_substitute': True})] * count)
    accepted = [a for a in answers if getattr(a, 'status_code', 0) == 201]
    assert all(getattr(a, 'status_code', 0) in {201, 409}
        for a in answers), summary(answers)
    assert len(accepted) == min(count, 10 // quantity), summary(answers)
    assert D(lot_balance(backend.sql, 'H-9', shop.id)) == (
        10 - len(accepted) * quantity), summary(answers)
    balances = ledger_balances(shop, w.bar)
    assert balances and min(balances) >= 0, balances


def test_simultaneous_full_receipts_of_one_line(backend, shop):
    """Two receipts of the whole 10 kg of one purchase-order line, each
    with its batch: one is stored, the other refused"""
    shop.put('/api/inventory/settings', {'approval_threshold': None})
    bar = shop.post('/api/inventory/materials', {'name': "EN8 Round Bar",
            'unit': 'kg', 'cost_price': 80, 'batch_tracking': True})
    vendor = shop.post('/api/inventory/vendors', {'name': "Vardhman",
            'address': {'city': "Kalamboli", 'state': 'IN-MH'},
            'supplies': [{'item_id': bar['id'], 'unit_price': 80}]})
    po = shop.post('/api/inventory/purchase-orders', {
            'vendor_id': vendor['id'],
            'lines': [{'item_id': bar['id'], 'quantity': 10}]})
    path = f"/api/inventory/purchase-orders/{po['id']}"
    po = shop.post(f'{path}/confirm', expect=200)
    line = po['lines'][0]['id']
    answers = burst(backend.api, shop.token, [
            ('POST', f'{path}/receive', {'lines': [{'line_id': line,
                            'quantity': 10, 'batch_number': number}]})
            for number in ['R-1', 'R-2']])
    statuses = sorted(getattr(a, 'status_code', 0) for a in answers)
    assert statuses[0] == 201 and 400 <= statuses[1] < 500, \
        summary(answers)
    refused, = [a for a in answers if a.status_code != 201]
    assert refused.json()['error']['message'], refused.text
    kept, = [n for n, a in zip(['R-1', 'R-2'], answers)
        if a.status_code == 201]
    lots = backend.sql('SELECT number FROM stock_lot WHERE company = %s '
        'AND product = %s', (shop.id, bar['id']))
    assert [n for n, in lots] == [kept]
    assert D(shop.get(f"/api/inventory/materials/{bar['id']}")[
            'current_stock']) == 10
    po = shop.get(path)
    assert po['status'] == 'received'
    assert D(po['lines'][0]['received_quantity']) == 10


# Numbers --------------------------------------------------------------------

def _number(record):
    for key in ['customer_code', 'vendor_code', 'code', 'quote_number']:
        if record.get(key):
            return record[key]
    raise AssertionError(f"No number in {record}")


def _customer(i):
    return {'name': f"Walk-in customer {i}",
        'billing_address': {'city': "Chakan", 'state': 'IN-MH'}}


@pytest.mark.parametrize('kind, path, body', [
        ('customers', '/api/crm/customers', _customer),
        ('vendors', '/api/inventory/vendors',
            lambda i: {'name': f"Vendor {i}"}),
        ('materials', '/api/inventory/materials',
            lambda i: {'name': f"Material {i}", 'unit': 'kg'}),
        ('quotations', '/api/crm/quotations', None),
        ])
def test_twenty_simultaneous_creations(backend, shop, kind, path, body):
    """20 creations at once: all created, numbered without repeat nor gap
    from the business's first number"""
    if body is None:
        customer = shop.post('/api/crm/customers', _customer(0))

        def body(i):
            return {'customer_id': customer['id'], 'lines': [{
                        'item_type': 'service',
                        'description': f"Machining {i}", 'quantity': 1,
                        'unit_price': 100, 'tax_rate': 18}]}
    answers = burst(backend.api, shop.token,
        [('POST', path, body(i)) for i in range(20)])
    assert [getattr(a, 'status_code', a) for a in answers] == [201] * 20, \
        summary(answers)
    numbers = [_number(a.json()) for a in answers]
    assert len(set(numbers)) == 20, numbers
    # The prefix shared, the counters 1..20
    prefixes = {re.sub(r'\d+$', '', n) for n in numbers}
    assert len(prefixes) == 1, numbers
    counters = sorted(int(re.search(r'(\d+)$', n).group(1))
        for n in numbers)
    assert counters == list(range(1, 21)), numbers


# Machines -------------------------------------------------------------------

def test_ten_simultaneous_starts_on_one_machine(backend, shop):
    """Ten operations on the lathe started at once by ten operators: one
    runs, nine answer 409 naming it"""
    w = Workshop(shop)
    operation, = shop.rpc('production.routing.operation', 'create',
        [{'name': 'Facing'}])
    # Ten steps on the lathe
    shop.rpc('production.routing', 'write', [w.routing], {
            'steps': [('create', [{'operation': operation,
                            'sequence': 2 + i,
                            'work_center': w.lathe['id'],
                            'minutes_per_unit': '1'}
                        for i in range(9)])]})
    order = w.running(10)
    path = f"{WO}/{order['id']}/operations"
    operations = shop.get(path)['items']
    on_lathe = [o for o in operations
        if o['machine'] and o['machine']['id'] == w.lathe['id']]
    assert len(on_lathe) == 10, operations
    operators = [employee(shop, f"Operator {i}") for i in range(10)]
    answers = burst(backend.api, shop.token, [
            ('POST', f"{path}/{o['id']}/start", {'operator_id': e})
            for o, e in zip(on_lathe, operators)])
    assert sorted(getattr(a, 'status_code', 0) for a in answers) == [
        200] + [409] * 9, summary(answers)
    ran, = [o['id'] for o, a in zip(on_lathe, answers)
        if a.status_code == 200]
    for answer in answers:
        if answer.status_code == 409:
            error = answer.json()['error']
            assert error['code'] == 'operation_conflict', error
            assert error['details']['running_operation']['id'] == ran
    running = [o['id'] for o in shop.get(path)['items']
        if o['running']]
    assert running == [ran]
