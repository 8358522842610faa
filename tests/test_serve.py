"""`make serve` (scripts/serve.py) with 2 web workers on PostgreSQL, plus
trytond-cron and trytond-worker, on a copy of the demo workshop.

Each answer names the worker process that made it (X-Monitorbizz-Worker,
set by etc/gunicorn.conf.py for tests only), so that the test sees what
one worker wrote read through the other: the owner makes the operator a
salesman through one worker, and the other, whose cache held the operator's
groups, lets them create customers at once (Tryton's cache invalidation
through PostgreSQL's notifications, [cache] clean_timeout = 0); the
token of a login made on one worker is accepted and, once logged out, refused
by the other, and failed logins are throttled across workers; the reorder run of ir.cron, due, is run by trytond-cron;
/api/health answers; Ctrl-C (SIGINT to the command's process group) leaves no
process behind.
"""
import base64
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

    def request(self, method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers['Authorization'] = f'Bearer {token}'
        # A connection per request: each may go to another worker
        return requests.request(method, self.url + path.lstrip('/'),
            headers=headers, timeout=60, **kwargs)

    def on_other_worker(self, worker, method, path, token=None, tries=200,
            **kwargs):
        """Repeat the (read-only) request until a worker other than worker
        answers it, 4 at a time so that both workers are busy"""
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for _ in range(tries // 4):
                responses = list(pool.map(lambda _: self.request(
                            method, path, token, **kwargs), range(4)))
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
        'TRYTOND_EMAIL__URI': smtp.uri, 'MAXCONN': '6',
        # Two failed logins of an address make the next ones wait
        # (Tryton's res.user.login.attempt; 5 by default)
        'TRYTOND_SESSION__MAX_ATTEMPT': '1'}
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
    # An upgrade left pending (trytond-admin interrupted): 503, and the
    # answer does not say which module
    sql(served.database, "UPDATE ir_module SET state = 'to upgrade' "
        "WHERE name = 'monitorbizz_crm'")
    try:
        response = served.request('GET', '/api/health')
    finally:
        sql(served.database, "UPDATE ir_module SET state = 'activated' "
            "WHERE name = 'monitorbizz_crm'")
    assert response.status_code == 503, response.text
    assert response.json()['error']['code'] == 'unavailable'
    assert 'crm' not in response.text
    assert served.request('GET', '/api/health').status_code == 200


def test_desk_and_rpc_on_the_same_address(served, demo):
    desk = served.request('GET', '/')
    assert desk.status_code == 200 and 'tryton' in desk.text.lower()
    owner, = [u for u in demo['users'] if u['role'] == 'owner']
    rpc = served.request('POST', f'/{served.database}/rpc/', json={
            'id': 1, 'method': 'common.db.login',
            'params': [owner['login'], {'password': owner['password']}, 'en']})
    assert rpc.status_code == 200, rpc.text
    user_id, key = rpc.json()['result'][:2]
    session = base64.b64encode(
        f"{owner['login']}:{user_id}:{key}".encode()).decode()
    preferences = served.on_other_worker(rpc.headers[WORKER], 'POST',
        f'/{served.database}/rpc/', headers={
            'Authorization': f'Session {session}'}, json={
            'id': 2, 'method': 'model.res.user.get_preferences',
            'params': [True, {}]})
    assert preferences.status_code == 200, preferences.text
    assert preferences.json()['result']['company']


def test_workers_see_each_others_writes(served, demo):
    """The owner makes the operator a salesman through one worker; the
    other, which had the operator's groups in its cache, lets them create
    customers at once, and every customer created through one worker is
    read through the other"""
    owner, _ = login(served, demo)
    operator, _ = login(served, demo, 'operator')
    operator_email, = [u['login'] for u in demo['users']
        if u['role'] == 'operator']
    business = served.request('GET', '/api/auth/me', owner).json()[
        'current_business']['id']
    member, = [m for m in served.request('GET',
            f'/api/businesses/{business}/members?limit=100', owner).json()[
            'items'] if m['email'] == operator_email]
    body = {'name': "Cross-worker Castings"}
    # An operator may not create customers: both workers learn it (and
    # cache the operator's groups)
    refused = served.request('POST', '/api/crm/customers', operator,
        json=body)
    assert refused.status_code == 403, refused.text
    refused = served.on_other_worker(refused.headers[WORKER], 'POST',
        '/api/crm/customers', operator, json=body)
    assert refused.status_code == 403, refused.text

    changed = served.request('PUT',
        f"/api/businesses/{business}/members/{member['user_id']}", owner,
        json={'role': 'sales'})
    assert changed.status_code == 200, changed.text
    writer = changed.headers[WORKER]
    created = []
    while not any(w != writer for w, _ in created):
        assert len(created) < 40, "one worker answered every request"
        response = served.request('POST', '/api/crm/customers', operator,
            json=body)
        # 403 would be a worker answering from its stale cache
        assert response.status_code == 201, response.text
        created.append((response.headers[WORKER], response.json()['id']))

    for worker, customer in created:
        read = served.on_other_worker(worker, 'GET',
            f'/api/crm/customers/{customer}', operator)
        assert read.status_code == 200, read.text
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


def test_login_throttling_holds_across_workers(served):
    """Failed logins are counted in the database: after two, a worker
    other than the one that answered the second refuses with 429 (in one
    process's memory it would have seen at most one)"""
    body = {'email': 'nobody@serve.example', 'password': 'wrong-password'}
    for _ in range(2):
        failed = served.request('POST', '/api/auth/login', json=body)
        assert failed.status_code == 401, failed.text
    refused = served.on_other_worker(failed.headers[WORKER], 'POST',
        '/api/auth/login', json=body)
    assert refused.status_code == 429, refused.text
    assert refused.json()['error']['code'] == 'too_many_requests'


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
    # The next run is tomorrow's (at the cron's hour of the day)
    assert next_call > started + dt.timedelta(hours=1)
    assert next_call.date() == started.date() + dt.timedelta(days=1)


def test_queued_work_runs_in_the_worker(served, demo):
    """Confirming an order queues its processing (shipments): no web worker
    runs it ([queue] worker), trytond-worker does"""
    token, _ = login(served, demo)
    customer = served.request('GET', '/api/crm/customers', token).json()[
        'items'][0]
    products = served.request('GET', '/api/inventory/products', token)
    assert products.status_code == 200, products.text
    product, = [p for p in products.json()['items'] if p['code'] == 'PRD-001']
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
