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
import json
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


@pytest.fixture(scope='module')
def _shops():
    "The business of this module's cases on each backend"
    return {}


@pytest.fixture
def shop(backend, mail, _shops):
    """The business the cases share on a backend (provisioning one is most
    of a case's set-up): each case makes its own materials, batches (named
    for the case), work orders and machines, and measures only those"""
    if backend.name not in _shops:
        _shops[backend.name] = Shop(backend.api, mail, server=backend.server)
    return _shops[backend.name]


@pytest.fixture
def fresh_shop(backend, mail):
    "A business of its own, for a case that counts from its first number"
    return Shop(backend.api, mail, server=backend.server)


@pytest.fixture
def figures(request, backend):
    """What a case measured (accepted, refused, stock, lowest balance...),
    appended to var/test-artifacts/concurrency.jsonl whether it passed or
    not: the figures before and after a fix"""
    measured = {}
    yield measured
    os.makedirs(root.ARTIFACTS, exist_ok=True)
    with open(os.path.join(root.ARTIFACTS, 'concurrency.jsonl'), 'a') as fp:
        fp.write(json.dumps({'case': request.node.name, **measured},
                default=str) + '\n')


def all_at_once(send, calls):
    """Call send(*call) for each of calls, each on its thread and all
    released together; return what each answered (or raised) in order"""
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(index, call):
        try:
            answers[index] = send(*call, ready=barrier.wait)
        except (requests.RequestException, root.RPCError) as e:
            answers[index] = e
    threads = [threading.Thread(target=run, args=(i, c))
        for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def burst(api, token, calls):
    """Send the calls [(method, path, body)] all at once, each on its own
    connection; return the answers in the order of calls"""
    def send(method, path, body, ready):
        with requests.Session() as session:
            ready()
            return session.request(method, api.url + path,
                headers={'Authorization': f'Bearer {token}'},
                json=body, timeout=300)
    return all_at_once(send, calls)


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


def stock_of(shop, material):
    return D(shop.get(
            f"/api/inventory/materials/{material['id']}")['current_stock'])


def measure(figures, shop, material, answers, success=201):
    """Note the answers, the material's stock and its lowest ledger
    balance in figures; return the accepted answers and the balances"""
    accepted = [a for a in answers
        if getattr(a, 'status_code', 0) == success]
    balances = ledger_balances(shop, material)
    figures.update(answers=summary(answers), accepted=len(accepted),
        stock=stock_of(shop, material),
        lowest_balance=min(balances) if balances else None)
    return accepted, balances


def check_stock(figures, shop, material, answers, quantity, held=10,
        code='batch_exhausted'):
    """Accepted × quantity left the batch and nothing more: what is
    accepted is stored, the refusals are for want of stock only"""
    accepted, balances = measure(figures, shop, material, answers)
    refused = [a for a in answers if a not in accepted]
    stock = figures['stock']
    assert len(accepted) * quantity <= held, summary(answers)
    assert stock == held - len(accepted) * quantity, (stock,
        summary(answers))
    assert all(getattr(a, 'status_code', 0) == 409
        and a.json()['error']['code'] == code
        for a in refused), summary(answers)
    # Refused only when the batch held less than asked
    assert len(accepted) == min(len(answers), held // quantity), \
        summary(answers)
    assert balances and min(balances) >= 0, balances


# Stock ----------------------------------------------------------------------

@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_consumptions_of_a_planned_input(backend, shop, figures,
        count, quantity):
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
    check_stock(figures, shop, w.bar, answers, quantity)


@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_consumptions_of_a_substitute(backend, shop, figures,
        count, quantity):
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
    check_stock(figures, shop, substitute, answers, quantity)


@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_consumptions_from_an_unplanned_batch(backend, shop,
        figures, count, quantity):
    """count × quantity kg at once of the planned bar from a batch of 10 kg
    that its planned inputs do not reserve (allow_substitute)"""
    w = Workshop(shop)
    order = w.running(10)
    batch = f'H-9-{count}'  # the business is shared: a batch of the case
    w.batch(w.bar, batch, 10)
    path = f"{WO}/{order['id']}"
    answers = burst(backend.api, shop.token, [
            ('POST', f'{path}/consume-material', {
                    'material': w.bar['id'], 'quantity': quantity,
                    'batch': batch, 'allow_substitute': True})] * count)
    accepted, balances = measure(figures, shop, w.bar, answers)
    figures['batch'] = D(lot_balance(backend.sql, batch, shop.id))
    assert all(getattr(a, 'status_code', 0) in {201, 409}
        for a in answers), summary(answers)
    assert len(accepted) == min(count, 10 // quantity), summary(answers)
    assert figures['batch'] == 10 - len(accepted) * quantity, \
        summary(answers)
    assert balances and min(balances) >= 0, balances


@pytest.mark.parametrize('count, quantity', [(10, 1), (4, 2)])
def test_simultaneous_issues_of_many_lines(backend, shop, figures, count,
        quantity):
    """count issues at once, each of two lines of quantity kg from the
    same batch of 10 kg (POST consume-materials, all or nothing): never
    more than the batch holds, a refused issue consumes nothing"""
    w = Workshop(shop)
    order = w.running(10)
    batch = f'I-1-{count}'  # the business is shared: a batch of the case
    w.batch(w.bar, batch, 10)
    path = f"{WO}/{order['id']}"
    line = {'material': w.bar['id'], 'quantity': quantity, 'batch': batch}
    answers = burst(backend.api, shop.token, [
            ('POST', f'{path}/consume-materials', {'lines': [line, line],
                    'allow_substitute': True})] * count)
    accepted, balances = measure(figures, shop, w.bar, answers)
    figures['batch'] = D(lot_balance(backend.sql, batch, shop.id))
    assert all(getattr(a, 'status_code', 0) in {201, 409}
        for a in answers), summary(answers)
    assert len(accepted) == min(count, 10 // (2 * quantity)), \
        summary(answers)
    assert figures['batch'] == 10 - len(accepted) * 2 * quantity, \
        summary(answers)
    assert balances and min(balances) >= 0, balances


def _storage(shop, suffix):
    "The business's storage location named ... suffix"
    return next(l for l in shop.get('/api/inventory/locations')['items']
        if l['name'].endswith(suffix))


def _counted(shop, material, quantity, batch=None):
    line = {'item_id': material['id'], 'counted_quantity': quantity}
    if batch:
        line['batch'] = batch
    return {'reason': "Cycle count", 'lines': [line]}


@pytest.mark.parametrize('count, counted', [(8, 4), (10, 0)])
def test_simultaneous_stock_counts(backend, shop, figures, count, counted):
    """count stock counts at once of a batch holding 10 kg, each finding
    counted kg: every count is posted and the batch holds what was
    counted (each count sees the one before), never less than nothing"""
    w = Workshop(shop)
    batch = f'C-1-{count}'  # the business is shared: a batch of the case
    w.batch(w.bar, batch, 10)
    answers = burst(backend.api, shop.token, [
            ('POST', '/api/inventory/adjustments',
                _counted(shop, w.bar, counted, batch))] * count)
    accepted, balances = measure(figures, shop, w.bar, answers)
    figures['batch'] = D(lot_balance(backend.sql, batch, shop.id))
    assert len(accepted) == count, summary(answers)
    assert figures['batch'] == counted, summary(answers)
    assert figures['stock'] == counted, summary(answers)
    assert balances and min(balances) >= 0, balances
    # One count found 10 kg, the others what it left
    expected = sorted(D(a.json()['lines'][0]['expected_quantity'])
        for a in accepted)
    assert expected == [counted] * (count - 1) + [10], expected


@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_transfers(backend, shop, figures, count, quantity):
    """count × quantity kg moved at once from a storage location holding
    10 kg to another: never more than it holds, the others refused
    409 insufficient_stock"""
    w = Workshop(shop)
    w.batch(w.bar, 'T-1', 10)
    storage, output = _storage(shop, 'Storage'), _storage(shop, 'Output')
    answers = burst(backend.api, shop.token, [
            ('POST', '/api/inventory/transfers', {'item_id': w.bar['id'],
                    'quantity': quantity, 'batch': 'T-1',
                    'from_location_id': storage['id'],
                    'to_location_id': output['id']})] * count)
    accepted, balances = measure(figures, shop, w.bar, answers)
    figures['storage'] = stored(backend, storage['id'], 'product',
        w.bar['id'])
    refused = [a for a in answers if a not in accepted]
    assert len(accepted) == min(count, 10 // quantity), summary(answers)
    assert figures['storage'] == 10 - len(accepted) * quantity, \
        summary(answers)
    assert all(getattr(a, 'status_code', 0) == 409
        and a.json()['error']['code'] == 'insufficient_stock'
        for a in refused), summary(answers)
    # Moved within the business: its stock is whole
    assert figures['stock'] == 10 and min(balances) >= 0, balances
    numbers = [a.json()['number'] for a in accepted]
    assert len(set(numbers)) == len(numbers), numbers


def rpc_burst(shop, calls):
    """Call the JSON-RPC methods [(model, method, *args)] of the desk all
    at once as the owner; return each result or its RPCError"""
    session = shop.server.login(shop.email, shop.password)

    def send(model, method, *args, ready):
        ready()
        return session.call(model, method, *args)
    return all_at_once(send, calls)


def stored(backend, location, column, value):
    "Done quantity in location of the moves whose column is value"
    return D(backend.sql('SELECT COALESCE(SUM(CASE WHEN to_location = %s '
        'THEN quantity ELSE 0 END) - SUM(CASE WHEN from_location = %s '
        f'THEN quantity ELSE 0 END), 0) FROM stock_move WHERE {column} = %s '
        "AND state = 'done'", (location, location, value))[0][0])


@pytest.mark.parametrize('count, quantity', [(20, 1), (8, 2)])
def test_simultaneous_moves_done_in_the_desk(backend, shop, figures, count,
        quantity):
    """count transfers of quantity kg out of a batch holding 10 kg made in
    the desk (JSON-RPC), their assignment forced (as the stores may), then
    done at once: the moves beyond what the batch holds are refused, the
    batch named, and stay undone"""
    w = Workshop(shop)
    batch = f'M-1-{count}'  # the business is shared: a batch of the case
    w.batch(w.bar, batch, 10)
    storage, output = _storage(shop, 'Storage'), _storage(shop, 'Output')
    lot, = shop.rpc('stock.lot', 'search', [('number', '=', batch)])
    kg, = shop.rpc('product.uom', 'search', [('symbol', '=', 'kg')])
    places = {'from_location': storage['id'], 'to_location': output['id'],
        'company': shop.id}
    shipments = shop.rpc('stock.shipment.internal', 'create', [{
                **places, 'moves': [('create', [{**places,
                                'product': w.bar['id'], 'lot': lot,
                                'unit': kg, 'quantity': quantity}])],
                } for _ in range(count)])
    shop.rpc('stock.shipment.internal', 'wait', shipments)
    shop.rpc('stock.shipment.internal', 'assign_force', shipments)
    answers = rpc_burst(shop, [('stock.shipment.internal', 'do', [s])
            for s in shipments])
    states = [s['state'] for s in shop.rpc('stock.shipment.internal',
            'read', shipments, ['state'])]
    done = states.count('done')
    refusals = [a for a in answers if isinstance(a, Exception)]
    left = stored(backend, storage['id'], 'lot', lot)
    figures.update(answers={'done': done, 'refused': len(refusals)},
        accepted=done, storage=left)
    assert done == min(count, 10 // quantity), (states, refusals)
    assert left == 10 - done * quantity, left
    assert len(refusals) == count - done, refusals
    # Refused with what to do: the batch named and what it holds
    for refusal in refusals:
        assert batch in str(refusal), refusal


def test_simultaneous_full_receipts_of_one_line(backend, shop, figures):
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
    lots = [n for n, in backend.sql('SELECT number FROM stock_lot '
            'WHERE company = %s AND product = %s', (shop.id, bar['id']))]
    acknowledged = [n for n, a in zip(['R-1', 'R-2'], answers)
        if getattr(a, 'status_code', 0) == 201]
    figures.update(answers=summary(answers), accepted=len(acknowledged),
        stock=stock_of(shop, bar),
        lost_receipts=len(set(acknowledged) - set(lots)))
    assert statuses[0] == 201 and 400 <= statuses[1] < 500, \
        summary(answers)
    refused, = [a for a in answers if a.status_code != 201]
    assert refused.json()['error']['message'], refused.text
    kept, = [n for n, a in zip(['R-1', 'R-2'], answers)
        if a.status_code == 201]
    assert lots == [kept]
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
def test_twenty_simultaneous_creations(backend, fresh_shop, figures, kind,
        path, body):
    """20 creations at once: all created, numbered without repeat nor gap
    from the business's first number"""
    shop = fresh_shop
    if body is None:
        customer = shop.post('/api/crm/customers', _customer(0))

        def body(i):
            return {'customer_id': customer['id'], 'lines': [{
                        'item_type': 'service',
                        'description': f"Machining {i}", 'quantity': 1,
                        'unit_price': 100, 'tax_rate': 18}]}
    answers = burst(backend.api, shop.token,
        [('POST', path, body(i)) for i in range(20)])
    created = [a for a in answers if getattr(a, 'status_code', 0) == 201]
    numbers = [_number(a.json()) for a in created]
    counters = sorted(int(re.search(r'(\d+)$', n).group(1))
        for n in numbers)
    figures.update(answers=summary(answers), accepted=len(created),
        refused=len(answers) - len(created), distinct=len(set(numbers)),
        highest=max(counters, default=None))
    assert [getattr(a, 'status_code', a) for a in answers] == [201] * 20, \
        summary(answers)
    assert len(set(numbers)) == 20, numbers
    # The prefix shared, the counters 1..20
    prefixes = {re.sub(r'\d+$', '', n) for n in numbers}
    assert len(prefixes) == 1, numbers
    assert counters == list(range(1, 21)), numbers


# Machines -------------------------------------------------------------------

def test_ten_simultaneous_starts_on_one_machine(backend, shop, figures):
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
    figures.update(answers=summary(answers), accepted=sum(
            getattr(a, 'status_code', 0) == 200 for a in answers))
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
