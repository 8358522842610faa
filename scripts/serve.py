"""Serve Monitorbizz for real: many worker processes on PostgreSQL behind one
address, with Tryton's scheduler and queue worker.

Used by `make serve`. It
1. writes the trytond configuration from etc/serve.conf.template (no secret
   in it: trytond reads the database URI from the environment);
2. creates the database with every module and the demo workshop when it is
   missing (as `make run` does, scripts/run.py), the administrator's password
   taken from MONITORBIZZ_ADMIN_PASSWORD;
3. runs, each in its process group:
   - gunicorn with WORKERS processes of trytond's WSGI application: the desk
     (sao), the seed's /api, Tryton's JSON-RPC and REST on one address;
   - trytond-cron: the scheduled tasks (ir.cron), once for the platform;
   - trytond-worker: the tasks Tryton queues (ir.queue, [queue] worker);
4. stops them all on Ctrl-C (SIGINT) or SIGTERM, or when one of them dies.

Why gunicorn rather than uWSGI: gunicorn is pure Python (a wheel from PyPI,
nothing to compile, where uWSGI builds C with the Python headers at install
and is in maintenance mode upstream), is a plain pre-fork server whose
workers import trytond's `application` on their own (trytond needs one pool
per process), restarts workers after --max-requests, and stops gracefully on
SIGTERM/SIGINT. Sync workers (one request at a time per process, THREADS=1)
by default: a Tryton request holds the GIL most of its time, so processes,
not threads, use the cores; THREADS>1 selects gunicorn's gthread workers,
for clients that keep connections open without a proxy in front.

Environment (defaults in brackets):
  TRYTOND_DATABASE_URI   PostgreSQL server [postgresql://postgres@127.0.0.1:5432/]
                         (TRYTOND_DATABASE__URI, trytond's own name, also read)
  MONITORBIZZ_DATABASE   database name [monitorbizz]
  MONITORBIZZ_DATA       attachment store [var/serve/filestore]
  MONITORBIZZ_ADMIN_PASSWORD  the administrator's password when the database
                         is created [a random one, written to
                         var/serve/admin-password, mode 0600]
  HOST, PORT             address [127.0.0.1:8000]
  WORKERS                web worker processes [number of cores]
  THREADS                threads per web worker [1]
  QUEUE_WORKERS          trytond-worker processes [1]
  SERVE_PROCESSES        which to run: web,cron,worker [all three]
"""
import argparse
import contextlib
import os
import secrets
import signal
import string
import subprocess
import sys
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run  # noqa: E402 (scripts/run.py: the demo build)

BIN = run.BIN
VAR = os.path.join(ROOT, 'var', 'serve')
TEMPLATE = os.path.join(ROOT, 'etc', 'serve.conf.template')
GUNICORN_CONF = os.path.join(ROOT, 'etc', 'gunicorn.conf.py')
DEFAULT_URI = 'postgresql://postgres@127.0.0.1:5432/'
PROCESSES = ('web', 'cron', 'worker')
# Seconds a request may run ([request] timeout); gunicorn kills a worker
# silent for longer than this plus a margin
REQUEST_TIMEOUT = 60
STOP_TIMEOUT = 30


def say(message):
    print(message, flush=True)


def database_uri():
    return (os.environ.get('TRYTOND_DATABASE__URI')
        or os.environ.get('TRYTOND_DATABASE_URI') or DEFAULT_URI)


def masked(uri):
    "The URI without its password, for messages"
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f':{parts.password}@', ':***@', 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def write_config(path, **values):
    "Write the configuration from the one template (no secret in it)"
    with open(TEMPLATE) as fp:
        template = string.Template(fp.read())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = template.substitute(values)
    with open(path, 'w') as fp:
        fp.write(f"# Written by scripts/serve.py from {TEMPLATE}\n" + text)


def pg_connect(uri, dbname='postgres'):
    import psycopg
    parts = urllib.parse.urlsplit(uri)
    return psycopg.connect(host=parts.hostname or None, port=parts.port,
        user=parts.username, password=parts.password, dbname=dbname,
        autocommit=True)


def database_exists(uri, name):
    with pg_connect(uri) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
            (name,)).fetchone() is not None


def admin_password():
    """The administrator's password: MONITORBIZZ_ADMIN_PASSWORD, else a
    random one kept in a file readable only by its owner (never printed)"""
    password = os.environ.get('MONITORBIZZ_ADMIN_PASSWORD')
    if password:
        return password, None
    path = os.path.join(VAR, 'admin-password')
    password = secrets.token_urlsafe(18)
    os.makedirs(VAR, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as fp:
        fp.write(password + '\n')
    return password, path


def create_database(config_file, uri, name, data_dir):
    """Create the database with every module and the demo workshop under a
    building name, renamed once complete: an interrupted creation is started
    afresh by the next run."""
    building = f'{name}__building'
    started = time.monotonic()
    with pg_connect(uri) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{building}"')
    password, password_file = admin_password()
    try:
        try:  # keeps the catalog statistics fresh while building
            from test_worker import Analyzer
            analyzer = Analyzer(building)
        except ImportError:
            analyzer = contextlib.nullcontext()
        with analyzer:
            run.build_database(config_file, building, password=password)
    except BaseException:
        with pg_connect(uri) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        raise
    with pg_connect(uri) as conn:
        conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    # The attachment store is kept per database name
    store = os.path.join(data_dir, building)
    if os.path.isdir(store):
        os.replace(store, os.path.join(data_dir, name))
    say(f"==> Database {name} ready in {time.monotonic() - started:.0f} s")
    if password_file:
        say(f"    The administrator's (admin) password is in {password_file}"
            " (set MONITORBIZZ_ADMIN_PASSWORD to choose it)")


class Process:
    "A child command in its own process group, stopped with its children"

    def __init__(self, name, cmd, env):
        self.name = name
        self.popen = subprocess.Popen(cmd, env=env, start_new_session=True,
            preexec_fn=_die_with_parent)

    @property
    def pid(self):
        return self.popen.pid

    def signal(self, signum):
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def alive(self):
        "Whether any process of the group is left"
        if self.popen.poll() is None:
            return True
        try:
            os.killpg(self.popen.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _die_with_parent():
    "Have the kernel send SIGTERM to the child if serve.py itself is killed"
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def stop(processes):
    "SIGTERM to every group, then SIGKILL to what is left after a while"
    for process in processes:
        process.signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(p.alive() for p in processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    for process in processes:
        if process.alive():
            say(f"==> {process.name} did not stop: killed")
            process.signal(signal.SIGKILL)
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=5)


def wait_ready(url, processes, timeout=120):
    "Wait until /api/health answers 200 (the pool is loaded)"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.popen.poll() is not None for p in processes):
            return False
        try:
            with urllib.request.urlopen(f'{url}api/health', timeout=5) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def main(argv=None):
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default=env.get('HOST', '127.0.0.1'))
    parser.add_argument('--port', type=int, default=int(env.get('PORT', 8000)))
    parser.add_argument('--workers', type=int,
        default=int(env.get('WORKERS') or os.cpu_count() or 1))
    parser.add_argument('--threads', type=int,
        default=int(env.get('THREADS') or 1))
    parser.add_argument('--queue-workers', type=int,
        default=int(env.get('QUEUE_WORKERS') or 1))
    parser.add_argument('--database',
        default=env.get('MONITORBIZZ_DATABASE', 'monitorbizz'))
    parser.add_argument('--data-dir', default=env.get('MONITORBIZZ_DATA',
            os.path.join(VAR, 'filestore')))
    parser.add_argument('--config', default=None,
        help="where to write the configuration [var/serve/<database>.conf]")
    parser.add_argument('--processes',
        default=env.get('SERVE_PROCESSES', ','.join(PROCESSES)),
        help="comma-separated: web, cron, worker (cron on one server only)")
    parser.add_argument('--num-proxies', type=int,
        default=int(env.get('NUM_PROXIES') or 0),
        help="proxies in front that set X-Forwarded-For")
    parser.add_argument('--init-only', action='store_true',
        help="create the database if needed, then stop")
    args = parser.parse_args(argv)
    wanted = [p.strip() for p in args.processes.split(',') if p.strip()]
    if not wanted or set(wanted) - set(PROCESSES):
        parser.error(f"--processes: choose among {', '.join(PROCESSES)}")
    if args.workers < 1 or args.threads < 1 or args.queue_workers < 1:
        parser.error("WORKERS, THREADS and QUEUE_WORKERS must be at least 1")

    args.config = args.config or os.path.join(VAR, f'{args.database}.conf')
    uri = database_uri()
    if not uri.startswith('postgresql'):
        raise SystemExit("make serve needs PostgreSQL: set "
            "TRYTOND_DATABASE_URI=postgresql://user@host:port/ "
            "(make run serves SQLite)")
    os.makedirs(args.data_dir, exist_ok=True)
    write_config(args.config, host=args.host, port=args.port,
        web_root=run.WEB_ROOT, data_dir=os.path.abspath(args.data_dir),
        database=args.database, request_timeout=REQUEST_TIMEOUT,
        num_proxies=args.num_proxies,
        maxconn=int(env.get('MAXCONN') or max(4, 2 * args.threads + 2)))
    # Every process reads the URI from its environment, the rest from the
    # written file
    os.environ['TRYTOND_DATABASE__URI'] = uri
    os.environ.pop('TRYTOND_DATABASE_URI', None)
    say(f"==> PostgreSQL: {masked(uri)}, database {args.database}")
    if database_exists(uri, args.database):
        say(f"==> Reusing the database {args.database}")
    else:
        create_database(args.config, uri, args.database, args.data_dir)
    if args.init_only:
        return 0

    # The admin password was only for creating the database
    os.environ.pop('MONITORBIZZ_ADMIN_PASSWORD', None)
    child_env = dict(os.environ, TRYTOND_CONFIG=args.config,
        # Each web worker loads the pool of the database when it starts
        TRYTOND_DATABASE_NAMES=args.database)
    child_env.setdefault('TRYTOND_LOGGING_LEVEL', '30')  # warnings
    commands = {
        'web': [os.path.join(BIN, 'gunicorn'), '-c', GUNICORN_CONF,
            '--bind', f'{args.host}:{args.port}',
            '--workers', str(args.workers),
            '--worker-class', 'gthread' if args.threads > 1 else 'sync',
            '--threads', str(args.threads),
            '--timeout', str(REQUEST_TIMEOUT + 30),
            '--name', 'monitorbizz',
            # gunicorn's control socket is one path per user: two servers
            # of the machine would take each other's
            '--no-control-socket'],
        'cron': [os.path.join(BIN, 'trytond-cron'), '-c', args.config,
            '-d', args.database, '-n', '1'],
        'worker': [os.path.join(BIN, 'trytond-worker'), '-c', args.config,
            '-d', args.database, '-n', str(args.queue_workers)],
        }
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    processes = [Process(name, commands[name], child_env) for name in wanted]
    say("==> Started " + ', '.join(f'{p.name} (pid {p.pid})'
            for p in processes))
    url = f'http://{args.host}:{args.port}/'
    status = 0
    try:
        if 'web' in wanted:
            ready = wait_ready(url, processes)
            if not ready and not stopping:
                say(f"==> {url}api/health does not answer 200: the "
                    "database is not ready (modules to upgrade?), see above")
            if ready and not stopping:
                say(f"""
==> Monitorbizz is serving on {url} with {args.workers} worker process(es)
    The desk: {url}#{args.database}   API: {url}api/docs   Health: {url}api/health
    Tryton JSON-RPC: {url}{args.database}/rpc/   REST: {url}{args.database}/rest/
    Scheduled tasks: {'trytond-cron' if 'cron' in wanted else 'not here'}; \
queue: {'trytond-worker' if 'worker' in wanted else 'not here'}. \
Stop with Ctrl-C.""")
        while not stopping:
            dead = [p for p in processes if p.popen.poll() is not None]
            if dead:
                for p in dead:
                    say(f"==> {p.name} exited with {p.popen.returncode}: "
                        "stopping the others")
                status = 1
                break
            time.sleep(0.5)
    finally:
        say("==> Stopping " + ', '.join(p.name for p in processes))
        stop(processes)
        say("==> Stopped")
    return status


if __name__ == '__main__':
    sys.exit(main())
