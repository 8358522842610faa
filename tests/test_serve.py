"""`make serve` (scripts/serve.py) with 2 web workers on PostgreSQL, plus
trytond-cron and trytond-worker, on a copy of the demo workshop.

Each answer names the worker process that made it (X-Monitorbizz-Worker,
set by etc/gunicorn.conf.py for tests only), so that the test sees what
one worker wrote read through the other: the owner switches to a new
business through one worker, and the other, whose cache of the owner's
preferences was warm with the old business, lists the customers of the new
one (Tryton's cache invalidation through PostgreSQL's notifications); the
token of a login made on one worker is accepted and, once logged out, refused
by the other; the reorder run of ir.cron, due, is run by trytond-cron;
/api/health answers; Ctrl-C (SIGINT to the command's process group) leaves no
process behind.
"""
import concurrent.futures
import datetime as dt
import json
import os
import re
import signal
import subprocess
import time

import pytest
import requests

from conftest import (
    IS_POSTGRESQL, ROOT, URI, _demo_database, _drop_database, _free_port,
    _pg_admin)

pytestmark = pytest.mark.skipif(not IS_POSTGRESQL,
    reason="make serve runs on PostgreSQL")

WORKER = 'X-Monitorbizz-Worker'
REORDER = 'purchase.request|reorder_all_businesses'


def sql(database, query, *params):
    import psycopg
    from urllib.parse import urlparse
    parts = urlparse(URI)
    with psycopg.connect(host=parts.hostname or None, port=parts.port,
            user=parts.username, password=parts.password, dbname=database,
            autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def processes_with(marker):
    "The pids of the processes whose environment holds marker"
    pids = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/environ', 'rb') as fp:
                if marker in fp.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


class Served:
    "The running command and its log"

    def __init__(self, process, log_path, url):
        self.process = process
        self.log_path = log_path
        self.url = url

    def log(self):
        with open(self.log_path) as fp:
            return fp.read()

    def request(self, method, path, token=None, **kwargs):
        headers = {'Authorization': f'Bearer {token}'} if token else {}
        # A connection per request: each may go to another worker
        return requests.request(method, self.url + path.lstrip('/'),
            headers=headers, timeout=60, **kwargs)

    def on_other_worker(self, worker, method, path, token=None, tries=200):
        """Repeat the (read-only) request until a worker other than worker
        answers it, 4 at a time so that both workers are busy"""
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for _ in range(tries // 4):
                responses = list(pool.map(
                    lambda _: self.request(method, path, token), range(4)))
                for response in responses:
                    if response.headers[WORKER] != worker:
                        return response
        raise AssertionError(f"only worker {worker} answered {path}")


@pytest.fixture(scope='module')
def served(tmp_path_factory, smtp):
    tmp = tmp_path_factory.mktemp('serve')
    database = _demo_database(str(tmp))
    # The reorder run of every business is due: trytond-cron runs it when
    # it starts
    sql(database, "UPDATE ir_cron SET next_call = "
        "(NOW() AT TIME ZONE 'UTC') - INTERVAL '1 hour' WHERE method = %s",
        REORDER)
    port = _free_port()
    log_path = tmp / 'serve.log'
    env = {**os.environ, 'WORKERS': '2', 'MONITORBIZZ_DATABASE': database,
        'MONITORBIZZ_DATA': str(tmp / 'filestore'),
        'MONITORBIZZ_WORKER_HEADER': '1', 'TRYTOND_DATABASE_URI': URI,
        'TRYTOND_EMAIL__URI': smtp.uri, 'MAXCONN': '6'}
    env.pop('TRYTOND_DATABASE__URI', None)
    log = open(log_path, 'w')
    process = subprocess.Popen(['make', '--no-print-directory', 'serve',
            f'PORT={port}'], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(process, log_path, f'http://127.0.0.1:{port}/')
    served.database = database
    served.marker = (f'TRYTOND_CONFIG={ROOT}/var/serve/{database}.conf'
        ).encode()
    try:
        deadline = time.monotonic() + 150
        while 'is serving on' not in served.log():
            assert process.poll() is None, served.log()
            assert time.monotonic() < deadline, served.log()
            time.sleep(0.5)
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for pid in processes_with(served.marker):
            os.kill(pid, signal.SIGKILL)
        log.close()
        _drop_database(database)


def login(served, demo, role='owner'):
    user, = [u for u in demo['users'] if u['role'] == role]
    response = served.request('POST', '/api/auth/login',
        json={'email': user['login'], 'password': user['password']})
    assert response.status_code == 200, response.text
    return response.json()['token'], response.headers[WORKER]


def test_health(served):
    response = served.request('GET', '/api/health')
    assert response.status_code == 200, response.text
    assert response.json() == {'status': 'ok'}
    # Public, and tells nothing else
    assert 'version' not in response.text.lower()
    assert 'Server' not in response.headers or (
        'trytond' not in response.headers['Server'].lower())


def test_desk_and_rpc_on_the_same_address(served):
    desk = served.request('GET', '/')
    assert desk.status_code == 200 and 'sao' in desk.text.lower()
    rpc = served.request('POST', f'/{served.database}/rpc/',
        json={'id': 1, 'method': 'common.server.version', 'params': []})
    assert rpc.status_code == 200 and rpc.json()['result'].startswith('8.0')


def test_workers_see_each_others_writes(served, demo):
    token, _ = login(served, demo)
    # A second business of the owner, then both workers list the current
    # one's customers: their caches hold the owner's preferences (the
    # current business is in them)
    response = served.request('POST', '/api/businesses', token,
        json={'name': "Serve Test Works", 'state': 'IN-MH'})
    assert response.status_code == 201, response.text
    business = response.json()['id']
    first = served.request('GET', '/api/crm/customers', token)
    assert first.status_code == 200 and first.json()['total'] > 0
    demo_customers = first.json()['total']
    other = served.on_other_worker(first.headers[WORKER], 'GET',
        '/api/crm/customers', token)
    assert other.json()['total'] == demo_customers
    workers = {first.headers[WORKER], other.headers[WORKER]}
    assert len(workers) == 2

    switched = served.request('POST', f'/api/businesses/{business}/switch',
        token)
    assert switched.status_code == 200, switched.text
    writer = switched.headers[WORKER]
    created = served.request('POST', '/api/crm/customers', token,
        json={'name': "Cross-worker Castings"})
    assert created.status_code == 201, created.text
    customer = created.json()

    # The other worker works in the new business at once
    listed = served.on_other_worker(writer, 'GET', '/api/crm/customers',
        token)
    assert [c['id'] for c in listed.json()['items']] == [customer['id']]
    read = served.on_other_worker(created.headers[WORKER], 'GET',
        f"/api/crm/customers/{customer['id']}", token)
    assert read.status_code == 200
    assert read.json()['name'] == "Cross-worker Castings"


def test_sessions_hold_across_workers(served, demo):
    token, worker = login(served, demo, 'operator')
    me = served.on_other_worker(worker, 'GET', '/api/auth/me', token)
    assert me.status_code == 200, me.text
    logout = served.request('POST', '/api/auth/logout', token)
    assert logout.status_code == 204
    after = served.on_other_worker(logout.headers[WORKER], 'GET',
        '/api/auth/me', token)
    assert after.status_code == 401


def test_scheduled_task_runs(served, smtp):
    "trytond-cron runs the reorder run, due, and schedules the next one"
    deadline = time.monotonic() + 60
    while True:
        rows = sql(served.database, "SELECT l.started, c.next_call "
            "FROM ir_cron_log l JOIN ir_cron c ON c.id = l.cron "
            "WHERE c.method = %s", REORDER)
        if rows or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(rows) == 1, served.log()
    (started, next_call), = rows
    assert next_call - started > dt.timedelta(hours=23)


def test_queued_work_runs_in_the_worker(served, demo):
    """Confirming an order queues its processing (shipments): no web worker
    runs it ([queue] worker), trytond-worker does"""
    token, _ = login(served, demo, 'sales')
    customer = served.request('GET', '/api/crm/customers', token).json()[
        'items'][0]
    product, = [p for p in served.request('GET', '/api/inventory/products',
            token).json()['items'] if p['code'] == 'PRD-001']
    order = served.request('POST', '/api/sales/orders', token, json={
            'customer_id': customer['id'], 'lines': [{
                    'item_type': 'product', 'item_id': product['id'],
                    'quantity': '2', 'unit_price': '1450.00'}]})
    assert order.status_code == 201, order.text
    queued, = sql(served.database, "SELECT COALESCE(MAX(id), 0) "
        "FROM ir_queue")[0]
    confirmed = served.request('POST',
        f"/api/sales/orders/{order.json()['id']}/confirm", token, json={})
    assert confirmed.status_code == 200, confirmed.text
    deadline = time.monotonic() + 60
    while True:
        tasks = sql(served.database, "SELECT data, finished_at FROM ir_queue "
            "WHERE id > %s", queued)
        state, = sql(served.database, "SELECT state FROM sale_sale "
            "WHERE id = %s", order.json()['id'])[0]
        if (tasks and all(f for _, f in tasks)) or (
                time.monotonic() > deadline):
            break
        time.sleep(0.5)
    tasks = [(t if isinstance(t, dict) else json.loads(t), f)
        for t, f in tasks]
    assert [(t['model'], t['method']) for t, _ in tasks] == [
        ('sale.sale', 'process')], served.log()
    assert all(f for _, f in tasks), served.log()
    assert state == 'processing'


def test_ctrl_c_stops_everything(served):
    pids = [int(p) for p in re.findall(r'\(pid (\d+)\)', served.log())]
    assert len(pids) == 3
    assert len(processes_with(served.marker)) >= 3 + 2  # and the workers
    os.killpg(served.process.pid, signal.SIGINT)
    served.process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while processes_with(served.marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(served.marker) == []
    assert 'Stopped' in served.log()
