"""Load test of `make serve`: a busy workshop's mix of seed API requests from
16 concurrent users for a fixed time, against 1 and then 2 web workers, on
loopback and PostgreSQL.

Each run serves a fresh copy of the demo workshop with scripts/serve.py (the
gunicorn workers, trytond-cron and trytond-worker, as in production). The
users (threads of this script, each with its own connection per request)
log in as the demo's owner, sales and operator, then for BENCH_SECONDS send,
back to back, a weighted mix: lists of customers, quotations, sales orders,
materials, work orders and machines, a quotation read, a quotation created
with two lines, a customer created, a material consumed on a running work
order. (Payments come with the finance endpoints.)

Prints, as JSON, for each number of workers: requests per second, p50/p95
latency, the server's CPU time per request, errors, acknowledged writes and whether each was found afterwards
in the database; the ratio of the throughputs; the load average. Fails
(exit 1) when a request errs, an acknowledged write is missing, or 2 workers
give less than 1.6 times the throughput of 1. Part of `make bench`.

BENCH_SECONDS (default 30), BENCH_USERS (16), BENCH_WORKERS ("1,2"),
BENCH_DATABASE (a demo workshop database to copy instead of the one built
here, mbz_bench_<source hash>).
"""
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
sys.path.insert(0, os.path.join(ROOT, 'fixtures'))

import serve  # noqa: E402
from load_demo import read_data  # noqa: E402

SECONDS = float(os.environ.get('BENCH_SECONDS', 30))
USERS = int(os.environ.get('BENCH_USERS', 16))
WORKERS = [int(w) for w in os.environ.get('BENCH_WORKERS', '1,2').split(',')]
TARGET = 1.6
WO = '/api/manufacturing/work-orders'
# (weight, name): what a busy workshop's screens and phones ask
MIX = [
    (14, 'list customers'),
    (14, 'list quotations'),
    (8, 'list sales orders'),
    (12, 'list materials'),
    (12, 'list work orders'),
    (6, 'list machines'),
    (10, 'read quotation'),
    (12, 'create quotation'),
    (4, 'create customer'),
    (8, 'consume material'),
    ]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def sql(database, query, *params):
    with serve.pg_connect(serve.database_uri(), database) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def template():
    """The demo database of this source, built once (scripts/serve.py
    --init-only) and copied for each run"""
    if os.environ.get('BENCH_DATABASE'):
        return os.environ['BENCH_DATABASE']
    from run_tests import source_hash
    name = f'mbz_bench_{source_hash()}'
    uri = serve.database_uri()
    with serve.pg_connect(uri) as conn:
        stale = [n for n, in conn.execute("SELECT datname FROM pg_database "
                "WHERE datname LIKE 'mbz\\_bench\\_%%' AND datname != %s",
                (name,)).fetchall() if re.fullmatch(r'mbz_bench_[0-9a-f]+', n)]
        for old in stale:
            conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
    if not serve.database_exists(uri, name):
        subprocess.run([sys.executable, os.path.join(ROOT, 'scripts',
                    'serve.py'), '--init-only', '--database', name],
            check=True, env=dict(os.environ,
                MONITORBIZZ_ADMIN_PASSWORD=serve.secrets.token_urlsafe(18)))
    return name


class Server:
    def __init__(self, database, workers, log_path):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.log = open(log_path, 'w')
        self.process = subprocess.Popen([sys.executable,
                os.path.join(ROOT, 'scripts', 'serve.py'),
                '--port', str(self.port), '--workers', str(workers),
                '--database', database],
            stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True, env=dict(os.environ,
                MONITORBIZZ_DATA=os.path.join(serve.VAR, 'bench-filestore'),
                TRYTOND_LOGGING_LEVEL='40'))
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"serve.py exited; see {self.log.name}")
            with open(self.log.name) as fp:
                if 'is serving on' in fp.read():
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"not serving; see {self.log.name}")
            time.sleep(0.5)

    def stop(self):
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=90)
        self.log.close()


class Api:
    def __init__(self, url, token=None):
        self.url = url
        self.token = token

    def __call__(self, method, path, expect, **kwargs):
        headers = {'Authorization': f'Bearer {self.token}'} \
            if self.token else {}
        response = requests.request(method, self.url + path,
            headers=headers, timeout=120, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} "
                f"{response.text[:300]}")
        return response.json() if response.content else None


def login(url, user):
    return Api(url)('POST', '/api/auth/login', 200,
        json={'email': user['login'], 'password': user['password']})['token']


def setup(url, demo, database):
    """Tokens of the demo's users and what the mix works on: customers,
    products, a quotation, a running work order and its material"""
    users = {u['role']: u for u in demo['users']}
    owner = Api(url, login(url, users['owner']))
    customers = [c['id'] for c in owner('GET', '/api/crm/customers', 200)[
            'items']]
    products = owner('GET', '/api/inventory/products', 200)['items']
    bracket, = [p for p in products if p['code'] == 'PRD-002']
    sheet, = owner('GET', '/api/inventory/materials?q=MAT-002', 200)['items']
    quotations = [q['id'] for q in owner('GET', '/api/crm/quotations', 200)[
            'items']]
    # The shop floor: the work center holding the machines, under which
    # Tryton picks one for each step of the routing
    (shop_floor,), = sql(database, "SELECT id FROM production_work_center "
        "WHERE parent IS NULL AND name = %s", demo['shop_floor'])
    order = owner('POST', WO, 201, json={'product_id': bracket['id'],
            'quantity_planned': '50', 'machine_id': shop_floor})
    owner('POST', f"{WO}/{order['id']}/schedule", 200)
    owner('POST', f"{WO}/{order['id']}/start", 200)
    return {
        # A session per user, all of the owner (every screen of the mix)
        'tokens': [login(url, users['owner']) for _ in range(USERS)],
        'customers': customers,
        'products': [p['id'] for p in products],
        'quotations': quotations,
        'work_order': order['id'],
        'material': sheet['id'],
        }


def request_of(name, ctx, rng):
    "(method, path, body, expected status) of one request of the mix"
    if name.startswith('list '):
        path = {
            'list customers': '/api/crm/customers',
            'list quotations': '/api/crm/quotations',
            'list sales orders': '/api/sales/orders',
            'list materials': '/api/inventory/materials',
            'list work orders': WO,
            'list machines': '/api/manufacturing/machines',
            }[name]
        return 'GET', path, None, 200
    if name == 'read quotation':
        return ('GET', f"/api/crm/quotations/{rng.choice(ctx['quotations'])}",
            None, 200)
    if name == 'create quotation':
        return 'POST', '/api/crm/quotations', {
            'customer_id': rng.choice(ctx['customers']),
            'lines': [{
                    'item_type': 'product', 'item_id': product,
                    'quantity': str(rng.randint(1, 40)),
                    'unit_price': f'{rng.randint(100, 2000)}.50',
                    'tax_rate': 18,
                    } for product in rng.sample(ctx['products'], 2)],
            }, 201
    if name == 'create customer':
        return 'POST', '/api/crm/customers', {
            'name': f"Load Test Customer {rng.getrandbits(48):x}"}, 201
    if name == 'consume material':
        return ('POST', f"{WO}/{ctx['work_order']}/consume-material",
            {'material': ctx['material'], 'quantity': '0.01'}, 201)
    raise ValueError(name)


def user(index, url, ctx, deadline, results):
    rng = random.Random(index)
    names = [n for w, n in MIX for _ in range(w)]
    token = ctx['tokens'][index]
    records = []
    while time.monotonic() < deadline:
        name = rng.choice(names)
        method, path, body, expect = request_of(name, ctx, rng)
        started = time.monotonic()
        try:
            response = requests.request(method, url + path, json=body,
                headers={'Authorization': f'Bearer {token}'}, timeout=120)
            ok = response.status_code == expect
            error = None if ok else f'{response.status_code} {response.text[:200]}'
        except requests.RequestException as e:
            ok, error, response = False, repr(e), None
        elapsed = time.monotonic() - started
        if ok and method == 'POST':
            records.append((name, response.json()))
        records.append((name, elapsed, error))
    results[index] = records


def run(database, workers, demo, log_dir):
    run_db = f'{database}_run{workers}'
    uri = serve.database_uri()
    with serve.pg_connect(uri) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{run_db}" TEMPLATE "{database}"')
    server = Server(run_db, workers, os.path.join(log_dir,
            f'serve-{workers}.log'))
    try:
        ctx = setup(server.url, demo, run_db)
        consumed_before = consumed(run_db, ctx)
        results = [None] * USERS
        load_before = os.getloadavg()
        cpu_before = server_cpu(run_db)
        started = time.monotonic()
        deadline = started + SECONDS
        threads = [threading.Thread(target=user,
                args=(i, server.url, ctx, deadline, results))
            for i in range(USERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        duration = time.monotonic() - started
        cpu = server_cpu(run_db) - cpu_before
        load_after = os.getloadavg()
        timings = [r for rs in results for r in rs if len(r) == 3]
        writes = [r for rs in results for r in rs if len(r) == 2]
        errors = [f'{n}: {e}' for n, _, e in timings if e]
        latencies = sorted(t for _, t, _ in timings)
        quotations = [w['id'] for n, w in writes if n == 'create quotation']
        customers = [w['id'] for n, w in writes if n == 'create customer']
        consumptions = sum(1 for n, _ in writes if n == 'consume material')
        found = {
            'quotations': sql(run_db, "SELECT COUNT(*) FROM sale_sale "
                "WHERE id = ANY(%s)", quotations)[0][0] == len(quotations),
            'customers': sql(run_db, "SELECT COUNT(*) FROM party_party "
                "WHERE id = ANY(%s)", customers)[0][0] == len(customers),
            'consumptions': (consumed(run_db, ctx) - consumed_before
                == consumptions),
            }
        return {
            'workers': workers,
            'requests': len(timings),
            'seconds': round(duration, 1),
            'requests_per_second': round(len(timings) / duration, 1),
            'p50_ms': round(statistics.median(latencies) * 1000),
            'p95_ms': round(latencies[int(len(latencies) * 0.95)] * 1000),
            # Independent of other load on the machine: what a request
            # costs the web workers (and cron and the queue worker)
            'server_cpu_ms_per_request': round(
                cpu * 1000 / max(len(timings), 1)),
            'errors': len(errors),
            'first_errors': errors[:5],
            'acknowledged_writes': {'quotations': len(quotations),
                'customers': len(customers), 'consumptions': consumptions},
            'all_writes_found': all(found.values()),
            'load_average_before': [round(v, 2) for v in load_before],
            'load_average_after': [round(v, 2) for v in load_after],
            }
    finally:
        server.stop()
        with serve.pg_connect(uri) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{run_db}" WITH (FORCE)')


def server_cpu(database):
    """CPU seconds used so far by the processes serving database (found by
    the configuration in their environment), PostgreSQL's not included"""
    marker = f'TRYTOND_CONFIG={serve.VAR}/{database}.conf'.encode()
    ticks = 0
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/environ', 'rb') as fp:
                if marker not in fp.read():
                    continue
            with open(f'/proc/{pid}/stat') as fp:
                fields = fp.read().rsplit(')', 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf('SC_CLK_TCK')


def consumed(database, ctx):
    "The done consumption moves of the bench's material on its work order"
    return sql(database, "SELECT COUNT(*) FROM stock_move "
        "WHERE production_input = %s AND product = %s AND state = 'done'",
        ctx['work_order'], ctx['material'])[0][0]


def main():
    demo = read_data()
    log_dir = os.path.join(ROOT, 'var', 'bench')
    os.makedirs(log_dir, exist_ok=True)
    database = template()
    runs = [run(database, workers, demo, log_dir) for workers in WORKERS]
    result = {'benchmark': 'load', 'users': USERS, 'cores': os.cpu_count(),
        'runs': runs}
    failures = []
    for r in runs:
        if r['errors']:
            failures.append(f"{r['errors']} errors with {r['workers']} "
                "worker(s)")
        if not r['all_writes_found']:
            failures.append(f"acknowledged writes missing with "
                f"{r['workers']} worker(s)")
    if len(runs) == 2:
        ratio = runs[1]['requests_per_second'] / runs[0][
            'requests_per_second']
        result['ratio'] = round(ratio, 2)
        result['target_ratio'] = TARGET
        if ratio < TARGET:
            failures.append(f"{runs[1]['workers']} workers give {ratio:.2f}"
                f" × the throughput of {runs[0]['workers']} "
                f"(target {TARGET})")
    print(json.dumps(result, indent=2))
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
