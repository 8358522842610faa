"""Benchmark: time to provision a business (Company.provision: party,
company, GST chart of accounts, fiscal year with periods, sequences,
warehouse, owner membership), on SQLite and on PostgreSQL when reachable.

Prints JSON figures; exits 1 when the median exceeds the 5 s target.
Part of `make bench`.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = 5.0
RUNS = 5


def measure():
    "Run inside a process configured for one backend"
    from proteus import Model, config as proteus_config
    from trytond.tests.test_tryton import DB_NAME, activate_module

    activate_module('monitorbizz_business')
    # proteus retries on lock conflicts as the RPC layer does.
    config = proteus_config.set_trytond(database=DB_NAME)
    Company = Model.get('company.company')
    states = ['IN-MH', 'IN-KA', 'IN-GJ', 'IN-TN', 'IN-DL']
    timings = []
    for i in range(RUNS):
        started = time.perf_counter()
        Company.provision({
                'name': f'Bench Works {i}', 'state': states[i],
                'city': 'Pune', 'street': 'MIDC', 'postal_code': '411026',
                }, config.context)
        timings.append(time.perf_counter() - started)
    return timings


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--measure':
        print(json.dumps(measure()))
        return 0
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    from run_tests import LOCAL_POSTGRESQL, postgresql_reachable, source_hash
    backends = {'sqlite': 'sqlite://'}
    uri = os.environ.get('TRYTOND_DATABASE_URI', LOCAL_POSTGRESQL)
    if postgresql_reachable(uri) is None:
        backends['postgresql'] = uri
    results, failed = {}, False
    for name, uri in backends.items():
        env = dict(os.environ, TRYTOND_DATABASE__URI=uri,
            DB_CACHE=os.path.join(ROOT, 'var', 'test-cache', source_hash()))
        env.pop('DB_NAME', None)
        output = subprocess.run([sys.executable, __file__, '--measure'],
            env=env, check=True, capture_output=True, text=True).stdout
        timings = json.loads(output.strip().splitlines()[-1])
        median = statistics.median(timings)
        results[name] = {
            'provision_median_s': round(median, 2),
            'provision_max_s': round(max(timings), 2),
            'runs': len(timings),
            'target_s': TARGET,
            }
        failed |= median > TARGET
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
