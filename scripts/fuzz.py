"""Fuzz the whole /api with schemathesis, from its OpenAPI document.

Starts a live trytond on a fresh copy of the demo database (the fixtures of
tests/api), registers a new account with a business of its own and runs
schemathesis over every operation as its owner (tests/api/test_fuzz.py),
bounded in test cases per operation and in time; checks that no answer is
a server error and that every answer matches its declared schema. Exits
non-zero on any failure.

    make fuzz [FUZZ_EXAMPLES=50] [FUZZ_SECONDS=900] [FUZZ_SEED=<int>]
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

from run_tests import choose_database  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--examples', type=int, default=50,
        help="test cases per operation (default 50)")
    parser.add_argument('--seconds', type=int, default=900,
        help="time budget of the run (default 900)")
    parser.add_argument('--seed', default='',
        help="seed of the generation (default: random, printed)")
    args = parser.parse_args(argv)
    uri = choose_database()
    env = dict(os.environ,
        TRYTOND_DATABASE__URI=uri,
        MONITORBIZZ_FUZZ_EXAMPLES=str(args.examples),
        MONITORBIZZ_FUZZ_SECONDS=str(args.seconds),
        MONITORBIZZ_FUZZ_SEED=str(args.seed),
        PYTHONPATH=os.pathsep.join(
            filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
    env.pop('TRYTOND_DATABASE_URI', None)
    print(f"==> schemathesis: {args.examples} cases per operation, "
        f"{args.seconds} s at most, database {uri}", flush=True)
    started = time.monotonic()
    result = subprocess.run([sys.executable, '-m', 'pytest',
            'tests/api/test_fuzz.py', '-s', '-q', '-p', 'no:cacheprovider'],
        cwd=ROOT, env=env)
    print(f"==> fuzz: exit {result.returncode} after "
        f"{time.monotonic() - started:.0f} s (server start included)")
    return result.returncode


if __name__ == '__main__':
    sys.exit(main())
