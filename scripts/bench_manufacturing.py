"""Benchmark of a work order with 200 material lines on PostgreSQL, through
the real HTTP API of a trytond process started by the script (network,
token check, one transaction per request as the user, Tryton's rules,
JSON):

- POST /api/manufacturing/work-orders/{id}/consume-materials with the 200
  lines (each material from its batch; one request, one transaction, all
  or nothing — as a stock entry of 200 lines);
- POST /api/manufacturing/work-orders/{id}/complete (9 good, 1 rejected).

Set up, not measured: a business, 200 batch-tracked materials with stock
(one batch each), a product with an active BOM of 200 inputs and, per run,
a work order of it created, scheduled (materials reserved) and started
through the API. Target: consumption plus completion under 2 s.

Prints JSON figures; exits 1 when the median misses the target, 0 with a
note when PostgreSQL is not reachable. Part of `make bench`.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATERIALS = 200
QUANTITY = 10  # of the product per work order; 1 kg of each material each
RUNS = int(os.environ.get('BENCH_RUNS', 5))
TARGET_S = 2.0
WO = '/api/manufacturing/work-orders'


def setup(database):
    """The business, its owner's API token, the materials with their
    batches in stock and the product with its BOM; returns (token,
    product id, [(material id, batch id)])"""
    from trytond.pool import Pool
    from trytond.tests.test_tryton import with_transaction
    from trytond.transaction import Transaction

    from monitorbizz_app.api.framework import encode_token
    from monitorbizz_app.api.inventory import BATCH_LOCATIONS
    pool = Pool(database)

    @with_transaction(user=0)
    def business():
        "The owner and the business, committed (retried on Tryton's locks)"
        User = pool.get('res.user')
        Company = pool.get('company.company')
        owner, = User.create([{'login': 'bench-mfg@example.in',
                    'name': 'Bench Owner', 'email': 'bench-mfg@example.in'}])
        company_id = Company.provision({'name': 'Bench Forge',
                'state': 'IN-MH'}, owner=owner.id)
        Transaction().commit()
        return owner.id, company_id

    owner_id, company_id = business()
    with Transaction().start(database, owner_id) as transaction, \
            transaction.set_context(company=company_id):
        User = pool.get('res.user')
        Company = pool.get('company.company')
        Session = pool.get('ir.session')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        Lot = pool.get('stock.lot')
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        BOM = pool.get('production.bom')
        Date = pool.get('ir.date')
        User.switch_business(company_id)
        # A session as a login from the address the benchmark calls from
        token = encode_token(owner_id, Session.new(
                {'ip_address': '127.0.0.1'}))
        company = Company(company_id)
        kg, = Uom.search([('symbol', '=', 'kg')])
        unit, = Uom.search([('symbol', '=', 'u')])
        templates = Template.create([{'name': f'Bench material {i:03d}',
                    'type': 'goods', 'purchasable': True,
                    'default_uom': kg.id, 'purchase_uom': kg.id,
                    'list_price': 0, 'lot_required': BATCH_LOCATIONS,
                    'products': [('create', [{
                                    'cost_price': 40 + i % 60}])]}
                for i in range(MATERIALS)])
        materials = [t.products[0] for t in templates]
        product_template, = Template.create([{'name': 'Bench gearbox',
                    'type': 'goods', 'producible': True, 'salable': True,
                    'default_uom': unit.id, 'sale_uom': unit.id,
                    'list_price': 25000, 'products': [('create', [{}])]}])
        product = product_template.products[0]
        lots = Lot.create([{'number': f'BM-{i:03d}', 'product': m.id}
                for i, m in enumerate(materials)])
        # Stock of each batch for every run, received from a supplier
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        storage = company.warehouse.storage_location
        today = Date.today()
        moves = Move.create([{'product': m.id, 'unit': kg.id,
                    'quantity': QUANTITY * (RUNS + 1), 'lot': l.id,
                    'from_location': supplier.id, 'to_location': storage.id,
                    'effective_date': today, 'planned_date': today,
                    'unit_price': m.cost_price,
                    'currency': company.currency.id,
                    'company': company_id}
                for m, l in zip(materials, lots)])
        # Opening stock: received without a purchase order (no origin)
        with transaction.set_context(_skip_warnings=True):
            Move.do(moves)
        bom, = BOM.create([{'name': 'Bench gearbox',
                    'inputs': [('create', [{'product': m.id, 'quantity': 1,
                                    'unit': kg.id} for m in materials])],
                    'outputs': [('create', [{'product': product.id,
                                    'quantity': 1, 'unit': unit.id}])]}])
        pool.get('product.product').write([product], {
                'boms': [('create', [{'bom': bom.id}])]})
        transaction.commit()
        return token, product.id, [(m.id, l.id)
            for m, l in zip(materials, lots)]


def serve(database, tmp_dir):
    "Start trytond serving database; return (process, url, log file)"
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    import run
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    config_file = os.path.join(tmp_dir, 'trytond.conf')
    run.write_config(config_file, '127.0.0.1', port, tmp_dir,
        uri=os.environ['TRYTOND_DATABASE__URI'], database=database)
    log = open(os.path.join(tmp_dir, 'trytond.log'), 'w')
    process = subprocess.Popen(
        [os.path.join(run.BIN, 'trytond'), '-c', config_file,
            '-d', database], stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited; see {log.name}")
        try:
            if requests.get(f'{url}/api/openapi.json',
                    timeout=5).status_code == 200:
                return process, url, log
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"trytond did not answer; see {log.name}")
        time.sleep(0.3)


def one_run(http, url, product_id, lines, number):
    "Consume every line of a fresh work order then complete it; timings"
    def post(path, body, status):
        response = http.post(url + path, json=body, timeout=60)
        assert response.status_code == status, (path, response.text)
        return response.json()

    order = post(WO, {'product_id': product_id,
            'quantity_planned': QUANTITY}, 201)
    post(f"{WO}/{order['id']}/schedule", {}, 200)
    post(f"{WO}/{order['id']}/start", {}, 200)

    # The whole issue of materials as the stores hand it over: one request
    started = time.perf_counter()
    consumed = post(f"{WO}/{order['id']}/consume-materials", {
            'lines': [{'material': material_id, 'quantity': 1 * QUANTITY,
                    'batch': batch_id} for material_id, batch_id in lines]},
        201)
    consume_s = time.perf_counter() - started
    begin = time.perf_counter()
    completed = post(f"{WO}/{order['id']}/complete", {
            'quantity_produced': QUANTITY - 1, 'quantity_rejected': 1,
            'reject_reason': 'Bench: casting porosity',
            'batch_number': f'BENCH-FG-{number}'}, 200)
    complete_s = time.perf_counter() - begin

    # What was measured did the work: every line consumed as planned, the
    # work order closed with its output batch
    materials = consumed['materials']
    assert len(materials) == MATERIALS, len(materials)
    assert len(consumed['lines']) == MATERIALS, len(consumed['lines'])
    assert all(m['planned_quantity'] == m['actual_quantity']
        and len(m['batches']) == 1 for m in materials), materials
    assert completed['work_order']['status'] == 'completed', completed
    assert completed['output_batch']['name'] == f'BENCH-FG-{number}'
    assert float(completed['quantity_produced']) == QUANTITY - 1
    assert float(completed['scrap_quantity']) == 1
    return {
        'total_s': consume_s + complete_s,
        'consume_s': consume_s,
        'complete_s': complete_s,
        }


def measure():
    "Run inside a process configured for PostgreSQL"
    from trytond.tests.test_tryton import DB_NAME, activate_module
    activate_module('monitorbizz_api')
    token, product_id, lines = setup(DB_NAME)
    with tempfile.TemporaryDirectory(prefix='bench-mfg-') as tmp_dir:
        process, url, log = serve(DB_NAME, tmp_dir)
        try:
            http = requests.Session()
            http.headers['Authorization'] = f'Bearer {token}'
            runs = [one_run(http, url, product_id, lines, n)
                for n in range(RUNS)]
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()

    def figure(name, scale=1, digits=3):
        values = [r[name] * scale for r in runs]
        return (round(statistics.median(values), digits),
            round(max(values), digits))
    total, consume, complete = (figure('total_s'), figure('consume_s'),
        figure('complete_s'))
    return {
        'through': 'HTTP API of a trytond process (one transaction per '
        'request)',
        'material_lines': MATERIALS,
        'runs': RUNS,
        'total_median_s': total[0],
        'total_max_s': total[1],
        'consume_200_lines_median_s': consume[0],
        'consume_200_lines_max_s': consume[1],
        'complete_median_s': complete[0],
        'complete_max_s': complete[1],
        'totals_s': [round(r['total_s'], 3) for r in runs],
        'target_s': TARGET_S,
        }


def drop_database(uri, name):
    import psycopg
    admin = (uri if uri.endswith('/') else uri + '/') + 'postgres'
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main():
    if sys.argv[1:] == ['--measure']:
        print(json.dumps(measure()))
        return 0
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    from run_tests import LOCAL_POSTGRESQL, postgresql_reachable
    uri = os.environ.get('TRYTOND_DATABASE_URI', LOCAL_POSTGRESQL)
    problem = postgresql_reachable(uri)
    if problem is not None:
        print(json.dumps({'manufacturing':
                    f'skipped: PostgreSQL unreachable ({problem})'}))
        return 0
    database = f'mbz_bench_manufacturing_{os.getpid()}'
    cache = os.environ.get('DB_CACHE') or os.path.join(
        ROOT, 'var', 'test-cache', 'bench-manufacturing')
    try:
        child = subprocess.run([sys.executable, __file__, '--measure'],
            env={**os.environ, 'TRYTOND_DATABASE__URI': uri,
                'DB_CACHE': cache, 'DB_NAME': database},
            capture_output=True, text=True)
    finally:
        drop_database(uri, database)
    if child.returncode:
        sys.stderr.write(child.stderr)
        return 1
    results = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps({'manufacturing': results}, indent=2))
    return 1 if results['total_median_s'] > TARGET_S else 0


if __name__ == '__main__':
    sys.exit(main())
