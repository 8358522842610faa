"""Run every Monitorbizz test: the Tryton module tests (ModuleTestCase and
scenario doctests of each module) and the pytest suite in tests/.

The database is PostgreSQL when one is reachable (TRYTOND_DATABASE_URI, else
the local server on 127.0.0.1:5432), SQLite otherwise; the choice is printed.
MONITORBIZZ_REQUIRE_POSTGRESQL=1 (set by .ci/run) turns "no PostgreSQL" into
a failure.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_POSTGRESQL = 'postgresql://postgres@127.0.0.1:5432/'


def postgresql_reachable(uri):
    import psycopg
    from urllib.parse import urlparse
    parts = urlparse(uri)
    try:
        psycopg.connect(host=parts.hostname or None, port=parts.port,
            user=parts.username, password=parts.password,
            dbname='postgres', connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


def choose_database():
    uri = (os.environ.get('TRYTOND_DATABASE_URI')
        or os.environ.get('TRYTOND_DATABASE__URI'))
    required = os.environ.get('MONITORBIZZ_REQUIRE_POSTGRESQL') == '1'
    if uri and uri.startswith('sqlite'):
        if required:
            raise SystemExit("PostgreSQL is required but "
                f"TRYTOND_DATABASE_URI is {uri!r}.")
        return uri
    candidate = uri or LOCAL_POSTGRESQL
    error = postgresql_reachable(candidate)
    if error is None:
        return candidate
    if required or uri:
        raise SystemExit(f"PostgreSQL at {candidate} is unreachable: {error}\n"
            "Start it, or point TRYTOND_DATABASE_URI at a reachable server.")
    print(f"    (no PostgreSQL at {candidate}: {error})")
    return 'sqlite://'


def source_hash():
    """Hash of what shapes a test database, so that cached databases are
    never reused after a module or the demo data changed."""
    digest = hashlib.sha256()
    paths = [os.path.join(ROOT, 'constraints.txt')]
    for top in ['monitorbizz_app', 'fixtures']:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = sorted(d for d in dirnames if d != '__pycache__')
            paths.extend(os.path.join(dirpath, f) for f in sorted(filenames)
                if not f.endswith('.pyc'))
    for path in paths:
        digest.update(os.path.relpath(path, ROOT).encode())
        with open(path, 'rb') as fp:
            digest.update(fp.read())
    return digest.hexdigest()[:16]


def main():
    uri = choose_database()
    backend = 'PostgreSQL' if uri.startswith('postgresql') else 'SQLite'
    print(f"==> Tests use {backend} ({uri})", flush=True)

    cache_root = os.path.join(ROOT, 'var', 'test-cache')
    key = source_hash()
    if os.path.isdir(cache_root):
        for name in os.listdir(cache_root):
            if name != key:
                shutil.rmtree(os.path.join(cache_root, name))
    env = dict(os.environ,
        TRYTOND_DATABASE__URI=uri,
        DB_CACHE=os.path.join(cache_root, key),
        MONITORBIZZ_TEST_KEY=key,
        PYTHONPATH=os.pathsep.join(
            filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
    env.pop('TRYTOND_DATABASE_URI', None)
    env.pop('DB_NAME', None)
    os.makedirs(os.path.join(ROOT, 'var', 'test-artifacts'), exist_ok=True)

    started = time.monotonic()
    steps = [
        ("Tryton module tests (ModuleTestCase and scenarios)",
            [sys.executable, '-m', 'unittest', 'discover', '-v',
                '-s', 'monitorbizz_app', '-t', '.', '-p', 'test_*.py']),
        ("Project tests (pytest: demo workshop, APIs, browser)",
            [sys.executable, '-m', 'pytest', 'tests', '-v', '-rfEs',
                '--junitxml=var/test-artifacts/junit.xml']),
        ]
    failed = []
    for title, cmd in steps:
        print(f"\n==> {title}\n    {' '.join(cmd)}", flush=True)
        if subprocess.call(cmd, cwd=ROOT, env=env):
            failed.append(title)
    elapsed = time.monotonic() - started
    print(f"\n==> Database: {backend}. Time: {elapsed:.0f} s.", flush=True)
    if failed:
        print("==> FAILED: " + "; ".join(failed), flush=True)
        return 1
    print("==> All tests passed.", flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
