"""`make backup` / `make restore` (scripts/backup.py): a round trip of a copy
of the demo workshop with an attachment (of a customer) in its store.

The restored database is a new one with, in every table, the same number of
rows and the same sum of every numeric column (the counts of every business
model and the totals of every quotation, order, invoice and stock move); its
attachment store holds the same files, Tryton reads the attachment back, and
it serves a login (scripts/serve.py, one web worker).
"""
import base64
import filecmp
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from conftest import (
    IS_POSTGRESQL, ROOT, URI, LiveServer, _demo_database, _drop_database,
    _free_port)

pytestmark = pytest.mark.skipif(not IS_POSTGRESQL,
    reason="backups are PostgreSQL dumps")

NUMERIC = ('integer', 'bigint', 'smallint', 'numeric', 'double precision',
    'real')


def connect(database):
    import psycopg
    from urllib.parse import urlparse
    parts = urlparse(URI)
    return psycopg.connect(host=parts.hostname or None, port=parts.port,
        user=parts.username, password=parts.password, dbname=database,
        autocommit=True)


def figures(database):
    """{table: (rows, {numeric column: sum})} of every table (ids left
    out: a restore keeps them, but they prove nothing more)"""
    with connect(database) as conn:
        columns = {}
        floats = set()
        for table, column, kind in conn.execute(
                "SELECT table_name, column_name, data_type "
                "FROM information_schema.columns c "
                "JOIN information_schema.tables t USING "
                "(table_schema, table_name) "
                "WHERE table_schema = 'public' "
                "AND t.table_type = 'BASE TABLE'"):
            columns.setdefault(table, [])
            if kind in NUMERIC and column != 'id':
                columns[table].append(column)
            if kind in {'double precision', 'real'}:
                floats.add((table, column))
        result = {}
        for table, numeric in columns.items():
            # Floats summed in another order may differ in the last bits
            sums = ''.join(f', SUM(ROUND("{c}"::numeric, 6))'
                if (table, c) in floats else f', SUM("{c}")'
                for c in numeric)
            row = conn.execute(
                f'SELECT COUNT(*){sums} FROM "{table}"').fetchone()
            result[table] = (row[0], dict(zip(numeric, row[1:])))
        return result


def make(*args, env):
    return subprocess.run(['make', '--no-print-directory', *args], cwd=ROOT,
        env=env, capture_output=True, text=True, timeout=300)


def serve(database, data_dir, tmp):
    port = _free_port()
    log = open(os.path.join(tmp, f'serve-{database}.log'), 'w')
    process = subprocess.Popen([sys.executable,
            os.path.join(ROOT, 'scripts', 'serve.py'), '--port', str(port),
            '--workers', '1', '--processes', 'web', '--database', database,
            '--data-dir', data_dir],
        env={**os.environ, 'TRYTOND_DATABASE_URI': URI, 'MAXCONN': '4'},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 150
    while 'is serving on' not in open(log.name).read():
        assert process.poll() is None, open(log.name).read()
        assert time.monotonic() < deadline, open(log.name).read()
        time.sleep(0.5)
    return process, f'http://127.0.0.1:{port}/', log


def stop(process, log):
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)
    log.close()


def test_backup_restore_round_trip(tmp_path, demo):
    tmp = str(tmp_path)
    data_dir = os.path.join(tmp, 'filestore')
    database = _demo_database(tmp)
    restored = f'{database}_restored'
    env = {**os.environ, 'TRYTOND_DATABASE_URI': URI,
        'MONITORBIZZ_DATABASE': database, 'MONITORBIZZ_DATA': data_dir}
    env.pop('TRYTOND_DATABASE__URI', None)
    owner, = [u for u in demo['users'] if u['role'] == 'owner']
    content = os.urandom(2048)
    try:
        # An attachment of the demo business, kept in the store
        process, url, log = serve(database, data_dir, tmp)
        try:
            session = LiveServer(url, database, None).login(
                owner['login'], owner['password'])
            customer, = session.search_read('party.party', [], ['id'],
                limit=1)
            attachment, = session.call('ir.attachment', 'create', [{
                        'name': 'receipt.bin',
                        'resource': f"party.party,{customer['id']}",
                        'data': {'__class__': 'bytes',
                            'base64': base64.b64encode(content).decode()},
                        }])
        finally:
            stop(process, log)
        store = os.path.join(data_dir, database)
        assert sum(len(f) for _, _, f in os.walk(store)) >= 1

        before = figures(database)
        done = make('backup', env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        path, = re.findall(r'Backed up \S+ in [\d.]+ s: (\S+\.tar)',
            done.stdout)

        done = make('restore', f'FILE={path}', f'DATABASE={restored}',
            env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        # Into a new database only
        again = make('restore', f'FILE={path}', f'DATABASE={restored}',
            env=env)
        assert again.returncode != 0
        assert 'exists' in again.stdout + again.stderr

        after = figures(restored)
        assert after.keys() == before.keys()
        for table in before:
            assert after[table] == before[table], table
        # Business data is there: the demo's quotations and their totals
        assert before['sale_sale'][0] > 0
        assert before['sale_sale'][1]['total_amount_cache'] is not None

        comparison = filecmp.dircmp(store, os.path.join(data_dir, restored))
        assert not (comparison.left_only or comparison.right_only
            or comparison.diff_files)

        process, url, log = serve(restored, data_dir, tmp)
        try:
            response = requests.post(f'{url}api/auth/login', json={
                    'email': owner['login'], 'password': owner['password']},
                timeout=60)
            assert response.status_code == 200, response.text
            session = LiveServer(url, restored, None).login(
                owner['login'], owner['password'])
            record, = session.call('ir.attachment', 'read', [attachment],
                ['data'])
            assert base64.b64decode(record['data']['base64']) == content
        finally:
            stop(process, log)
    finally:
        _drop_database(database)
        _drop_database(restored)
