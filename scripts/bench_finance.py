"""Benchmark of invoices and payments on PostgreSQL, through the real HTTP
API of a trytond process started by the script (network, token check, one
transaction per request as the user, Tryton's rules, JSON), each figure
next to an anchor measured in this process on the same database:

- POST /api/finance/invoices/{id}/record-payment (a part payment by UPI,
  numbered, posted on its journal, set against the invoice): target median
  ≤ 150 ms; anchor: Tryton's own Invoice.pay_invoice of the same amount in
  one transaction (no API, no numbering);
- POST /api/finance/invoices/{id}/post of an invoice of 100 lines (GST on
  each, numbered from the strict sequence, its entry posted): target
  ≤ 1 s; anchor: Tryton's Invoice.post of an identical draft;
- GET /api/finance/invoices (first page, newest first, with status,
  due date and balance) with 100 000 invoices in the business: target
  median ≤ 100 ms; anchor: the same page (count, 20 rows with their
  customer and open balance) in hand-written SQL.

Set up, not measured: a business, its owner's token, a customer; the
100 000 invoices of past years are copied in SQL from one paid invoice
made through the API, then 20 current ones are made and posted through
the API (the first page). Prints JSON figures; exits 1 when a target is
missed, 0 with a note when PostgreSQL is not reachable. Part of `make
bench`.
"""
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
from bench_manufacturing import drop_database, serve  # noqa: E402

INVOICES = 100_000
LINES = 100
RUNS = int(os.environ.get('BENCH_RUNS', 21))
POST_RUNS = int(os.environ.get('BENCH_POST_RUNS', 3))
PAYMENT_TARGET_MS = 150
POST_TARGET_S = 1.0
LIST_TARGET_MS = 100
API = '/api/finance/invoices'
RATES = [5, 12, 18, 28]


def setup(database):
    "The business and its owner's token: (owner id, business id, token)"
    from trytond.pool import Pool
    from trytond.tests.test_tryton import with_transaction
    from trytond.transaction import Transaction

    from monitorbizz_app.api.framework import encode_token
    pool = Pool(database)

    @with_transaction(user=0)
    def business():
        User = pool.get('res.user')
        Company = pool.get('company.company')
        owner, = User.create([{'login': 'bench-fin@example.in',
                    'name': 'Bench Owner', 'email': 'bench-fin@example.in'}])
        company_id = Company.provision({'name': 'Bench Accounts',
                'state': 'IN-MH'}, owner=owner.id)
        Transaction().commit()
        return owner.id, company_id

    owner_id, company_id = business()
    with Transaction().start(database, owner_id) as transaction, \
            transaction.set_context(company=company_id):
        User = pool.get('res.user')
        Session = pool.get('ir.session')
        User.switch_business(company_id)
        token = encode_token(owner_id, Session.new(
                {'ip_address': '127.0.0.1'}))
        transaction.commit()
    return owner_id, company_id, token


def as_owner(database, owner_id, company_id, func):
    """Run func() in a committed transaction of the owner; its duration (s)
    (as trytond's dispatcher does, the transaction is started again with
    the locks Tryton asks for, and that attempt is measured)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    pool = Pool(database)
    extras = {}
    while True:
        try:
            with Transaction().start(database, owner_id,
                    **extras) as transaction:
                User = pool.get('res.user')
                context = User.get_preferences(context_only=True)
                with transaction.set_context(context, company=company_id,
                        _check_access=True):
                    started = time.perf_counter()
                    func(pool)
                    transaction.commit()
                    return time.perf_counter() - started
        except TransactionError as e:
            e.fix(extras)


def connect(database):
    import psycopg
    uri = os.environ['TRYTOND_DATABASE__URI']
    return psycopg.connect((uri if uri.endswith('/') else uri + '/')
        + database, autocommit=True)


def median_ms(values):
    return round(statistics.median(values) * 1000, 1)


def measure():
    "Run inside a process configured for PostgreSQL"
    from trytond.tests.test_tryton import DB_NAME, activate_module
    activate_module('monitorbizz_api')
    owner_id, company_id, token = setup(DB_NAME)
    with tempfile.TemporaryDirectory(prefix='bench-fin-') as tmp_dir:
        process, url, log = serve(DB_NAME, tmp_dir)
        try:
            http = requests.Session()
            http.headers['Authorization'] = f'Bearer {token}'
            return run(http, url, DB_NAME, owner_id, company_id)
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def run(http, url, database, owner_id, company_id):
    def call(method, path, body=None, status=200, **params):
        response = http.request(method, url + path, json=body,
            params=params, timeout=120)
        assert response.status_code == status, (path, response.text)
        return response.json()

    customer = call('POST', '/api/crm/customers', {
            'name': "Bharat Pumps", 'email': 'accounts@bharat.example.in',
            'billing_address': {'city': "Pune", 'state': 'IN-MH'}}, 201)

    def invoice(lines, post=True):
        made = call('POST', API, {'customer_id': customer['id'],
                'lines': lines}, 201)
        if post:
            call('POST', f"{API}/{made['id']}/post")
        return made['id']

    big = [{'description': "Annual maintenance contract", 'quantity': 1,
            'unit_price': 1000000, 'tax_rate': 18, 'hsn_sac': '998719'}]

    # Record payment: part payments of 10.00 by UPI on one invoice
    paid_id = invoice(big)
    timings = []
    for n in range(RUNS):
        started = time.perf_counter()
        recorded = call('POST', f'{API}/{paid_id}/record-payment', {
                'amount': '10.00', 'payment_method': 'upi',
                'reference_number': f'UPI-{n}'}, 201)
        timings.append(time.perf_counter() - started)
    assert Decimal(recorded['invoice']['balance_amount']) == (
        Decimal('1180000.00') - 10 * RUNS), recorded['invoice']
    # Anchor: Tryton's own payment of the invoice, same amount and method
    anchor_id = invoice(big)

    def pay(pool):
        Invoice = pool.get('account.invoice')
        Method = pool.get('account.invoice.payment.method')
        method, = Method.search([('company', '=', company_id),
                ('method_type', '=', 'upi')], limit=1)
        invoice = Invoice(anchor_id)
        invoice.pay_invoice(Decimal('10.00'), method, dt.date.today(),
            description='Anchor')
    anchors = [as_owner(database, owner_id, company_id, pay)
        for _ in range(RUNS)]
    payment = {
        'runs': RUNS,
        'median_ms': median_ms(timings),
        'max_ms': round(max(timings) * 1000, 1),
        'anchor': "Invoice.pay_invoice in one transaction, in process",
        'anchor_median_ms': median_ms(anchors),
        'target_ms': PAYMENT_TARGET_MS,
        }
    payment['ratio'] = round(payment['median_ms']
        / payment['anchor_median_ms'], 2)

    # Posting an invoice of 100 lines
    lines = [{'description': f"Machined part {i:03d}", 'quantity': 3 + i % 7,
            'unit_price': f'{125 + i * 7.35:.2f}',
            'tax_rate': RATES[i % len(RATES)], 'hsn_sac': '84834000'}
        for i in range(LINES)]
    posts, post_anchors = [], []
    for _ in range(POST_RUNS):
        draft = invoice(lines, post=False)
        started = time.perf_counter()
        posted = call('POST', f'{API}/{draft}/post')
        posts.append(time.perf_counter() - started)
        assert posted['status'] == 'posted' and posted['invoice_number']
        assert len(posted['lines']) == LINES
        other = invoice(lines, post=False)

        def post(pool, other=other):
            Invoice = pool.get('account.invoice')
            Invoice.post([Invoice(other)])
        post_anchors.append(as_owner(database, owner_id, company_id, post))
    posting = {
        'lines': LINES,
        'runs': POST_RUNS,
        'median_s': round(statistics.median(posts), 3),
        'max_s': round(max(posts), 3),
        'anchor': "Invoice.post of an identical draft, in process",
        'anchor_median_s': round(statistics.median(post_anchors), 3),
        'target_s': POST_TARGET_S,
        }
    posting['ratio'] = round(posting['median_s']
        / posting['anchor_median_s'], 2)

    # The list with 100 000 invoices: those of past years copied in SQL
    # from a paid one, then 20 current ones through the API
    template = invoice([{'description': "Turning", 'quantity': 1,
                'unit_price': 100, 'tax_rate': 18, 'hsn_sac': '998873'}])
    call('POST', f'{API}/{template}/record-payment', {
            'amount': '118.00', 'payment_method': 'cash'}, 201)
    assert call('GET', f'{API}/{template}')['status'] == 'paid'
    started = time.perf_counter()
    with connect(database) as connection:
        columns = [r[0] for r in connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'account_invoice' AND column_name "
                "NOT IN ('id', 'number', 'invoice_date', 'move', "
                "'cancel_move', 'accounting_date')").fetchall()]
        names = ', '.join(f'"{c}"' for c in columns)
        connection.execute(f"""
            INSERT INTO account_invoice ({names}, number, invoice_date)
            SELECT {names}, 'HIST-' || g,
                CURRENT_DATE - 400 - (g %% 1000)
            FROM account_invoice, generate_series(1, %s) AS g
            WHERE id = %s""", (INVOICES, template))
        connection.execute('VACUUM ANALYZE account_invoice')
    bulk_s = time.perf_counter() - started
    current = [invoice(big if n % 2 else lines[:3]) for n in range(20)]
    for invoice_id in current[::3]:
        call('POST', f'{API}/{invoice_id}/record-payment', {
                'amount': '50.00', 'payment_method': 'upi'}, 201)
    timings, page = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        page = call('GET', API)
        timings.append(time.perf_counter() - started)
    assert page['total'] >= INVOICES + 20, page['total']
    assert [i['id'] for i in page['items']] == current[::-1]
    assert {i['status'] for i in page['items']} == {'posted'}

    def sql_page(connection):
        total = connection.execute(
            "SELECT COUNT(*) FROM account_invoice WHERE company = %s "
            "AND type = 'out'", (company_id,)).fetchone()[0]
        rows = connection.execute("""
            SELECT i.id, i.number, i.party, p.name, i.invoice_date,
                i.state, i.total_amount_cache,
                (SELECT MIN(l.maturity_date) FROM account_move_line l
                    WHERE l.move = i.move AND l.account = i.account
                    AND l.reconciliation IS NULL),
                i.total_amount_cache - COALESCE((SELECT SUM(l.credit)
                    FROM "account_invoice-account_move_line" r
                    JOIN account_move_line l ON r.line = l.id
                    WHERE r.invoice = i.id), 0)
            FROM account_invoice i JOIN party_party p ON i.party = p.id
            WHERE i.company = %s AND i.type = 'out'
            ORDER BY i.id DESC LIMIT 20""", (company_id,)).fetchall()
        return total, rows
    anchors = []
    with connect(database) as connection:
        for _ in range(RUNS):
            started = time.perf_counter()
            total, rows = sql_page(connection)
            anchors.append(time.perf_counter() - started)
    assert total == page['total'] and len(rows) == 20
    assert [Decimal(str(r[8])).quantize(Decimal('0.01')) for r in rows] == [
        Decimal(i['balance_amount']) for i in page['items']]
    listing = {
        'invoices': page['total'],
        'runs': RUNS,
        'first_page_median_ms': median_ms(timings),
        'first_page_max_ms': round(max(timings) * 1000, 1),
        'anchor': "the same page in hand-written SQL (count, 20 rows "
        "with customer, due date and balance), in process",
        'anchor_median_ms': median_ms(anchors),
        'target_ms': LIST_TARGET_MS,
        'bulk_copy_s': round(bulk_s, 1),
        }
    listing['ratio'] = round(listing['first_page_median_ms']
        / listing['anchor_median_ms'], 2)
    return {
        'through': 'HTTP API of a trytond process (one transaction per '
        'request); anchors in the benchmark process',
        'record_payment': payment,
        'post_invoice': posting,
        'invoice_list': listing,
        }


def main():
    if sys.argv[1:] == ['--measure']:
        print(json.dumps(measure()))
        return 0
    from run_tests import LOCAL_POSTGRESQL, postgresql_reachable
    uri = os.environ.get('TRYTOND_DATABASE_URI', LOCAL_POSTGRESQL)
    problem = postgresql_reachable(uri)
    if problem is not None:
        print(json.dumps({'finance':
                    f'skipped: PostgreSQL unreachable ({problem})'}))
        return 0
    database = os.environ.get('BENCH_DB_NAME',
        f'mbz_bench_finance_{os.getpid()}')
    cache = os.environ.get('DB_CACHE') or os.path.join(
        ROOT, 'var', 'test-cache', 'bench-finance')
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
    print(json.dumps({'finance': results}, indent=2))
    failed = (results['record_payment']['median_ms'] > PAYMENT_TARGET_MS
        or results['post_invoice']['median_s'] > POST_TARGET_S
        or results['invoice_list']['first_page_median_ms']
        > LIST_TARGET_MS)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
