"""Shared fixtures: a demo-workshop database and a real trytond serving it.

The database follows TRYTOND_DATABASE__URI (set by scripts/test.py):
PostgreSQL or SQLite. The demo database is built once per source version
(MONITORBIZZ_TEST_KEY) and copied for each test session: a PostgreSQL
template database, or a SQLite file under var/test-cache.
"""
import base64
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for folder in ['scripts', 'fixtures']:
    sys.path.insert(0, os.path.join(ROOT, folder))

import run  # noqa: E402 (scripts/run.py)
from load_demo import read_data  # noqa: E402
from run_tests import source_hash  # noqa: E402
from test_worker import Analyzer, analyze  # noqa: E402

URI = os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')
IS_POSTGRESQL = URI.startswith('postgresql')
# The demo database is cached per source hash; MONITORBIZZ_TEST_KEY (make
# test passes the hash itself) may name a namespace of its own, for people
# testing side by side: their templates are mbz_demo_<namespace>_<hash>.
HASH = source_hash()
NAMESPACE = os.environ.get('MONITORBIZZ_TEST_KEY', HASH)
KEY = HASH if NAMESPACE == HASH else f'{NAMESPACE}_{HASH}'
CACHE = os.path.join(ROOT, 'var', 'test-cache', KEY)
ARTIFACTS = os.path.join(ROOT, 'var', 'test-artifacts')
DEMO = read_data()


def _pg_admin():
    import psycopg
    from urllib.parse import urlparse
    parts = urlparse(URI)
    return psycopg.connect(host=parts.hostname or None, port=parts.port,
        user=parts.username, password=parts.password, dbname='postgres',
        autocommit=True)


def _pg_exists(cursor, name):
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    return cursor.fetchone() is not None


def _drop_template(cursor, name, force=False):
    "Drop the database name, a template or not, if it exists"
    if _pg_exists(cursor, name):
        cursor.execute(f'ALTER DATABASE "{name}" IS_TEMPLATE false')
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"'
            + (' WITH (FORCE)' if force else ''))


def demo_template(tmp_dir):
    """Build the demo database of this source version once (concurrent
    builders: the first one wins); return its PostgreSQL template or its
    SQLite file."""
    template = f'mbz_demo_{KEY}'
    config_file = os.path.join(tmp_dir, 'build.conf')
    os.makedirs(CACHE, exist_ok=True)
    run.write_config(config_file, '127.0.0.1', 0, CACHE, uri=URI)
    if not IS_POSTGRESQL:
        cached = os.path.join(CACHE, 'demo.sqlite')
        if not os.path.exists(cached):
            building = os.path.join(CACHE, 'demo_building.sqlite')
            open(building, 'wb').close()
            run.build_database(config_file, 'demo_building')
            os.replace(building, cached)
        return cached
    import psycopg
    with _pg_admin() as conn, conn.cursor() as cursor:
        # Templates of older sources in the same namespace (make test's
        # are bare hashes) are dropped; other namespaces are left alone.
        cursor.execute("SELECT datname FROM pg_database "
            "WHERE datname LIKE 'mbz\\_demo\\_%%' AND datname != %s",
            (template,))
        prefix = 'mbz_demo_' if KEY == HASH else f'mbz_demo_{NAMESPACE}_'
        stale_names = [(n,) for n, in cursor.fetchall()
            if n.startswith(prefix) and re.fullmatch(
                r'[0-9a-f]{16}', n[len(prefix):])]
        for stale, in stale_names:
            try:
                _drop_template(cursor, stale)
            except psycopg.errors.ObjectInUse:
                pass  # another test run is using it
        if not _pg_exists(cursor, template):
            building = f'{template}_b{os.getpid()}'
            _drop_template(cursor, building)
            # A template is left out of Tryton's database list, whose
            # check of each database would wait on this build's locks
            # (the web client's login of other runs would hang).
            cursor.execute(
                f'CREATE DATABASE "{building}" IS_TEMPLATE true')
            try:
                with Analyzer(building):
                    run.build_database(config_file, building)
            except BaseException:
                _drop_template(cursor, building, force=True)
                raise
            if _pg_exists(cursor, template):
                _drop_template(cursor, building, force=True)
            else:
                analyze(building, catalogs=False)
                cursor.execute(
                    f'ALTER DATABASE "{building}" RENAME TO "{template}"')
    return template


def _demo_database(tmp_dir):
    """Return the name of a fresh copy of the demo database."""
    name = f'mbz_live_{uuid.uuid4().hex[:8]}'
    template = demo_template(tmp_dir)
    if IS_POSTGRESQL:
        with _pg_admin() as conn, conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    else:
        shutil.copy(template, os.path.join(tmp_dir, f'{name}.sqlite'))
    return name


def _drop_database(name):
    if IS_POSTGRESQL:
        with _pg_admin() as conn, conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class LiveServer:
    "A trytond process serving the web client and a demo database"

    def __init__(self, url, database, config_file):
        self.url = url
        self.database = database
        self.config_file = config_file

    def rpc(self, method, params, session=None):
        """Call JSON-RPC ``method``; return the result or raise RPCError."""
        headers = {}
        if session:
            login, user_id, key = session
            token = base64.b64encode(
                f'{login}:{user_id}:{key}'.encode()).decode()
            headers['Authorization'] = f'Session {token}'
        response = requests.post(f'{self.url}{self.database}/rpc/', json={
                'id': 1, 'method': method, 'params': params},
            headers=headers, timeout=60)
        if response.status_code in {401, 403}:
            raise RPCError(f"HTTP {response.status_code}: {response.text}")
        response.raise_for_status()
        body = response.json()
        if body.get('error'):
            raise RPCError(body['error'])
        return body['result']

    def login(self, login, password):
        user_id, key = self.rpc('common.db.login',
            [login, {'password': password}, 'en'])[:2]
        session = (login, user_id, key)
        context = self.rpc('model.res.user.get_preferences', [True, {}],
            session)
        return Session(self, session, context)


class Session:
    "A logged-in JSON-RPC session with its user's context"

    def __init__(self, server, session, context):
        self.server = server
        self.session = session
        self.context = context

    def call(self, model, method, *args):
        return self.server.rpc(
            f'model.{model}.{method}', [*args, self.context], self.session)

    def search_read(self, model, domain, fields, **kw):
        return self.call(model, 'search_read', domain, kw.get('offset', 0),
            kw.get('limit'), kw.get('order'), fields)


class RPCError(Exception):
    pass


# Live tests that make test-fast leaves out (pytest -m "not slow"); make
# test runs them. Marked here, by file (or file::test), so that the fast
# tier's choice is in one place.
SLOW = {
    'api/test_fuzz.py': "schemathesis over every operation of /api",
    'api/test_concurrency.py': "bursts of simultaneous requests, on "
    "PostgreSQL and on a SQLite server whose demo database it builds",
    'test_browser.py': "Chromium through the desk",
    'test_serve.py': "make serve: gunicorn workers, cron and queue worker",
    'test_backup.py': "backup, restore and two servers",
    }


def pytest_collection_modifyitems(config, items):
    tests = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        path = os.path.relpath(str(item.path), tests)
        name = getattr(item, 'originalname', item.name)
        if path in SLOW or f'{path}::{name}' in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope='session')
def demo():
    return DEMO


@pytest.fixture(scope='session')
def smtp():
    "A real SMTP server on 127.0.0.1 receiving what the live trytond sends"
    from monitorbizz_app.business.tests.tools import SMTPSink
    with SMTPSink() as sink:
        yield sink


def wait_for_server(process, url, log_name, timeout=60):
    "Wait until the trytond process answers url (its log named if not)"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited; see {log_name}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"trytond did not answer; see {log_name}")
        time.sleep(0.3)


# (database, wall seconds, CPU seconds) of each live trytond of the session
SERVER_TIMES = []
# The processes of the live trytonds running now, and the CPU seconds
# each test made them and this process use: [(seconds, test)]
LIVE_PIDS = set()
ENDED_CPU = [0.0]
TEST_CPU = []


def process_cpu(pid):
    "CPU seconds a process and its ended children used (Linux), else None"
    try:
        with open(f'/proc/{pid}/stat') as fp:
            fields = fp.read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    # utime, stime, cutime, cstime: fields 14-17 of proc(5)
    return sum(map(int, fields[11:15])) / os.sysconf('SC_CLK_TCK')


def _cpu_now():
    "CPU seconds of this process and of the live trytonds so far"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + ENDED_CPU[0] + sum(
        process_cpu(p) or 0 for p in list(LIVE_PIDS))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before = _cpu_now()
    yield
    TEST_CPU.append((_cpu_now() - before, item.nodeid))


def pytest_terminal_summary(terminalreporter):
    """The time of each live trytond, to tell the server's share from
    pytest's, and the tests that used the most CPU (theirs and the
    servers')"""
    for database, wall, cpu in SERVER_TIMES:
        terminalreporter.write_line(f"live trytond {database}: {wall:.0f} s, "
            f"CPU {'?' if cpu is None else f'{cpu:.0f}'} s")
    if TEST_CPU:
        terminalreporter.write_line("CPU of the tests, with their set-up "
            "and the live servers' share:")
        for seconds, test in sorted(TEST_CPU, reverse=True)[:15]:
            terminalreporter.write_line(f"{seconds:7.1f} s  {test}")


@pytest.fixture(scope='session')
def live_server(tmp_path_factory, smtp):
    tmp_dir = str(tmp_path_factory.mktemp('trytond'))
    database = _demo_database(tmp_dir)
    port = _free_port()
    config_file = os.path.join(tmp_dir, 'trytond.conf')
    run.write_config(config_file, '127.0.0.1', port, tmp_dir, uri=URI,
        database=database)
    log = open(os.path.join(tmp_dir, 'trytond.log'), 'w')
    process = subprocess.Popen(
        [os.path.join(run.BIN, 'trytond'), '-c', config_file,
            '-d', database],
        # A pool keeps its connections for 10 minutes after a burst (up to
        # 64 by default): make test runs two servers side by side on one
        # PostgreSQL (max_connections 100 by default).
        env={**os.environ, 'TRYTOND_EMAIL__URI': smtp.uri,
            'TRYTOND_DATABASE__MAXCONN': '32'},
        stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/'
    started = time.monotonic()
    LIVE_PIDS.add(process.pid)
    try:
        wait_for_server(process, url, log.name)
        yield LiveServer(url, database, config_file)
    finally:
        cpu = process_cpu(process.pid)
        ENDED_CPU[0] += cpu or 0
        LIVE_PIDS.discard(process.pid)
        SERVER_TIMES.append((database, time.monotonic() - started, cpu))
        process.terminate()
        process.wait(timeout=30)
        log.close()
        _drop_database(database)


@pytest.fixture(scope='session')
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def _fresh_scenario_database(request):
    """Scenario doctests start from no database, as Tryton's own runner
    does, and leave none behind."""
    from _pytest.doctest import DoctestItem
    if not isinstance(request.node, DoctestItem):
        yield
        return
    from trytond.tests.test_tryton import drop_db
    drop_db()
    yield
    drop_db()
