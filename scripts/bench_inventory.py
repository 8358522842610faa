"""Benchmark of the inventory on PostgreSQL, through the seed API served
in-process by trytond's WSGI app (werkzeug test client: the whole endpoint,
token check, transaction as the user, Tryton's rules, JSON; no network):

- GET /api/inventory/materials/{id}/stock-movements (first page, newest
  first, with running balance) for a material with 100 000 done stock
  moves: target median under 100 ms;
- POST /api/inventory/adjustments: a stock count of 5 000 items
  validated and posted: target under 30 s.

Prints JSON figures; exits 1 when a target is missed, 0 with a note when
PostgreSQL is not reachable. Part of `make bench`.
"""
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOVES = 100_000
ITEMS = 5_000
LEDGER_TARGET_MS = 100
COUNT_TARGET_S = 30
RUNS = 21


def measure():
    "Run inside a process configured for PostgreSQL"
    from trytond.tests.test_tryton import DB_NAME, activate_module
    activate_module('monitorbizz_api')

    from trytond import config
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from werkzeug.test import Client

    from monitorbizz_app.api.framework import encode_token
    from trytond.wsgi import app

    if not config.has_section('monitorbizz'):
        config.add_section('monitorbizz')
    config.set('monitorbizz', 'database', DB_NAME)
    pool = Pool(DB_NAME)

    from trytond.transaction import TransactionError

    def setup():
        # Tables Tryton locks are locked from the start, as trytond's
        # dispatcher retries
        extras = {}
        while True:
            try:
                with Transaction().start(DB_NAME, 0, **extras) as transaction:
                    User = pool.get('res.user')
                    Company = pool.get('company.company')
                    owner, = User.create([{'login': 'bench@example.in',
                                'name': 'Bench Owner',
                                'email': 'bench@example.in'}])
                    company_id = Company.provision({'name': 'Bench Works',
                            'state': 'IN-MH'}, owner=owner.id)
                    transaction.commit()
                    return owner, company_id
            except TransactionError as e:
                e.fix(extras)

    # A business, its owner and a material: set up, not measured
    owner, company_id = setup()
    with Transaction().start(DB_NAME, owner.id) as transaction, \
            transaction.set_context(company=company_id):
        User = pool.get('res.user')
        Company = pool.get('company.company')
        User.switch_business(company_id)
        Session = pool.get('ir.session')
        key = Session.new()
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        kg, = Uom.search([('symbol', '=', 'kg')])
        template, = Template.create([{'name': 'Bench bar', 'type': 'goods',
                    'purchasable': True, 'default_uom': kg.id,
                    'purchase_uom': kg.id, 'list_price': 0,
                    'products': [('create', [{}])]}])
        material = template.products[0]
        warehouse = Company(company_id).warehouse
        storage = warehouse.storage_location
        Location = pool.get('stock.location')
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        customer, = Location.search([('type', '=', 'customer')], limit=1)
        # Many small items for the stock count
        started = time.perf_counter()
        Template.create([{'name': f'Bench item {i}', 'type': 'goods',
                    'purchasable': True, 'default_uom': kg.id,
                    'purchase_uom': kg.id, 'list_price': 0,
                    'products': [('create', [{}])]}
                for i in range(ITEMS)])
        items_s = time.perf_counter() - started
        Product = pool.get('product.product')
        item_ids = [p.id for p in Product.search([
                    ('name', 'like', 'Bench item %')], order=[('id', 'ASC')])]
        transaction.commit()
        # 100 000 done moves of the material: receipts and issues over
        # three years, written in bulk as Tryton stores them
        cursor = transaction.connection.cursor()
        cursor.execute("""
            INSERT INTO stock_move (product, unit, quantity,
                internal_quantity, from_location, to_location, company,
                state, effective_date, planned_date, unit_price, currency,
                create_uid, create_date)
            SELECT %s, %s, q, q,
                CASE WHEN g %% 3 = 0 THEN %s ELSE %s END,
                CASE WHEN g %% 3 = 0 THEN %s ELSE %s END,
                %s, 'done', d, d, 80, %s, %s, NOW()
            FROM (SELECT g, (g %% 50 + 1)::float AS q,
                    (%s::date + (g * 1000 / %s))::date AS d
                FROM generate_series(1, %s) AS g) AS s""", (
                material.id, kg.id, storage.id, supplier.id, customer.id,
                storage.id, company_id, Company(company_id).currency.id,
                owner.id, (dt.date.today() - dt.timedelta(days=1000))
                .isoformat(), MOVES, MOVES))
        transaction.commit()
        # As autovacuum does after so many inserts: statistics and the
        # visibility map (index-only scans of the ledger index)
        import psycopg
        uri = os.environ['TRYTOND_DATABASE__URI']
        with psycopg.connect((uri if uri.endswith('/') else uri + '/')
                + DB_NAME, autocommit=True) as connection:
            connection.execute('VACUUM ANALYZE stock_move')
        material_id = material.id

    client = Client(app)
    headers = {'Authorization': f'Bearer {encode_token(owner.id, key)}'}
    path = f'/api/inventory/materials/{material_id}/stock-movements'
    timings, first = [], None
    for i in range(RUNS):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
        first = first or response.get_json()
    assert first['total'] == MOVES, first['total']
    newest = first['items'][0]

    lines = [{'item_id': i, 'counted_quantity': (n % 7) + 1}
        for n, i in enumerate(item_ids)]
    started = time.perf_counter()
    response = client.post('/api/inventory/adjustments', headers=headers,
        json={'reason': 'Annual stock count', 'lines': lines})
    count_s = time.perf_counter() - started
    assert response.status_code == 201, response.get_data(as_text=True)
    assert len(response.get_json()['lines']) == ITEMS
    return {
        'stock_movements': {
            'moves': MOVES,
            'first_page_median_ms': round(statistics.median(timings), 1),
            'first_page_max_ms': round(max(timings), 1),
            'runs': RUNS,
            'balance_of_newest': newest['balance'],
            'target_ms': LEDGER_TARGET_MS,
            },
        'stock_count': {
            'items': ITEMS,
            'validated_and_posted_s': round(count_s, 1),
            'target_s': COUNT_TARGET_S,
            'items_setup_s': round(items_s, 1),
            },
        }


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--measure':
        print(json.dumps(measure()))
        return 0
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    from run_tests import LOCAL_POSTGRESQL, postgresql_reachable
    uri = os.environ.get('TRYTOND_DATABASE_URI', LOCAL_POSTGRESQL)
    problem = postgresql_reachable(uri)
    if problem is not None:
        print(json.dumps({'inventory': f'skipped: PostgreSQL unreachable '
                    f'({problem})'}))
        return 0
    env = dict(os.environ, TRYTOND_DATABASE__URI=uri,
        DB_CACHE=os.path.join(ROOT, 'var', 'test-cache', 'bench-inventory'),
        DB_NAME=f'mbz_bench_inventory_{os.getpid()}')
    try:
        process = subprocess.run([sys.executable, __file__, '--measure'],
            env=env, capture_output=True, text=True)
        if process.returncode:
            sys.stderr.write(process.stderr)
            return 1
        output = process.stdout
    finally:
        subprocess.run([sys.executable, '-c', (
                    'import psycopg, sys; '
                    'c = psycopg.connect(sys.argv[1] + "postgres", '
                    'autocommit=True); '
                    'c.execute(\'DROP DATABASE IF EXISTS "%s" WITH (FORCE)\''
                    ' % sys.argv[2])'),
                uri if uri.endswith('/') else uri + '/', env['DB_NAME']],
            check=False)
    results = json.loads(output.strip().splitlines()[-1])
    print(json.dumps({'inventory': results}, indent=2))
    failed = (
        results['stock_movements']['first_page_median_ms']
        > LEDGER_TARGET_MS
        or results['stock_count']['validated_and_posted_s'] > COUNT_TARGET_S)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
