"""Benchmark of the run command, as a new user meets it: clone the current
commit into a temporary folder, time `make run` until it serves the web
client, log in over JSON-RPC as the demo owner and count the demo records,
stop it, then time a second `make run` (which reuses the database).

Fails (exit 1) when the first start takes over 10 minutes, the second over
15 s, or a check fails. Part of `make bench`.
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'fixtures'))
from load_demo import read_data  # noqa: E402

FIRST_LIMIT = 600
SECOND_LIMIT = 15


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start(clone, port, log):
    started = time.monotonic()
    process = subprocess.Popen(['make', 'run', f'PORT={port}'], cwd=clone,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}/'
    while True:
        if process.poll() is not None:
            raise SystemExit(f"make run exited with {process.returncode}; "
                f"see {log.name}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return process, time.monotonic() - started
        except requests.ConnectionError:
            pass
        if time.monotonic() - started > FIRST_LIMIT:
            raise SystemExit(f"make run not serving after {FIRST_LIMIT} s")
        time.sleep(0.2)


def stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def rpc(url, method, params, session=None):
    headers = {}
    if session:
        token = base64.b64encode(':'.join(map(str, session)).encode())
        headers['Authorization'] = f'Session {token.decode()}'
    response = requests.post(f'{url}monitorbizz/rpc/', json={
            'id': 0, 'method': method, 'params': params},
        headers=headers, timeout=60)
    response.raise_for_status()
    body = response.json()
    if body.get('error'):
        raise SystemExit(f"{method} failed: {body['error']}")
    return body['result']


def check_demo(url):
    demo = read_data()
    owner = demo['users'][0]
    user_id, key = rpc(url, 'common.db.login',
        [owner['login'], {'password': owner['password']}, 'en'])[:2]
    session = (owner['login'], user_id, key)
    context = rpc(url, 'model.res.user.get_preferences', [True, {}], session)

    def count(model, domain):
        return rpc(url, f'model.{model}.search_count', [domain, context],
            session)

    counts = {
        'businesses': count('company.company',
            [('party.name', '=', demo['business']['name'])]),
        'machines': count('production.work.center',
            [('parent', '!=', None)]),
        'materials': count('product.product', [('code', 'like', 'MAT-%')]),
        'products with a BOM': count('product.product',
            [('code', 'like', 'PRD-%'), ('boms.bom', '!=', None)]),
        'customers': count('party.party', [('code', 'like', 'CUST-%')]),
        'vendors': count('party.party', [('code', 'like', 'VEN-%')]),
        }
    expected = {'businesses': 1, 'machines': len(demo['machines']),
        'materials': len(demo['materials']),
        'products with a BOM': len(demo['products']),
        'customers': len(demo['customers']), 'vendors': len(demo['vendors'])}
    return counts, expected


def main():
    head = subprocess.check_output(['git', 'rev-parse', 'HEAD'], cwd=ROOT,
        text=True).strip()
    with tempfile.TemporaryDirectory(prefix='monitorbizz-bench-') as tmp:
        clone = os.path.join(tmp, 'monitorbizz')
        subprocess.run(['git', 'clone', '--quiet', ROOT, clone], check=True)
        subprocess.run(['git', 'checkout', '--quiet', head], cwd=clone,
            check=True)
        port = free_port()
        with open(os.path.join(tmp, 'run.log'), 'w') as log:
            process, first = start(clone, port, log)
            url = f'http://127.0.0.1:{port}/'
            try:
                page = requests.get(url, timeout=10).text
                counts, expected = check_demo(url)
            finally:
                stop(process)
            process, second = start(clone, port, log)
            try:
                check_demo(url)
            finally:
                stop(process)
    result = {
        'commit': head,
        'first_make_run_serving_s': round(first, 1),
        'second_make_run_serving_s': round(second, 1),
        'web_client_page': 'tryton-sao.js' in page,
        'demo_records': counts,
        }
    print(json.dumps(result, indent=2))
    failures = []
    if first > FIRST_LIMIT:
        failures.append(f"first start {first:.0f} s > {FIRST_LIMIT} s")
    if second > SECOND_LIMIT:
        failures.append(f"second start {second:.1f} s > {SECOND_LIMIT} s")
    if not result['web_client_page']:
        failures.append("/ is not the sao page")
    if counts != expected:
        failures.append(f"demo records {counts} != {expected}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
