"""Serve Monitorbizz: write the trytond configuration, create the embedded
SQLite database with the demo workshop on first use, then run trytond with
the web client.

Used by `make run`; HOST, PORT and MONITORBIZZ_DATABASE override the defaults.
trytond answers requests on several threads; on SQLite its transactions
that write queue for the database's write lock
(monitorbizz_app/business/sqlite.py says why), reads do not wait.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAR = os.path.join(ROOT, 'var')
BIN = os.path.dirname(sys.executable)
WEB_ROOT = os.path.join(ROOT, 'web', 'node_modules', 'tryton-sao')
ADMIN_PASSWORD = 'monitorbizz-admin'

sys.path.insert(0, os.path.join(ROOT, 'fixtures'))


def write_config(path, host, port, database_dir, uri='sqlite://',
        database='monitorbizz'):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as fp:
        fp.write(f"""# Written by scripts/run.py: edit the script, not this file.
[database]
uri = {uri}
path = {database_dir}
language = en
# A write refused by another's lock (stock of one item taken at once) is
# retried by Tryton, pausing 0.02 s x attempt: 60 attempts wait up to ~37 s
# for their turn, as the API does, instead of answering 503 after 0.3 s
retry = 60

[web]
listen = {host}:{port}
root = {WEB_ROOT}

[email]
from = Monitorbizz <no-reply@monitorbizz.local>

[monitorbizz]
# The one database of the platform, served by the seed's /api/ endpoints.
database = {database}
""")


def create_database(config_file, database_dir, name):
    """Create the SQLite database next to its final name and rename it once
    it is complete, so an interrupted creation is retried on the next run."""
    final = os.path.join(database_dir, f'{name}.sqlite')
    building = f'{name}_building'
    path = os.path.join(database_dir, f'{building}.sqlite')
    if os.path.exists(path):
        os.remove(path)
    open(path, 'wb').close()
    started = time.monotonic()
    build_database(config_file, building)
    os.replace(path, final)
    say(f"==> Database ready in {time.monotonic() - started:.0f} s: {final}")


def say(message):
    print(message, flush=True)


# The modules activated by build_database, stage after stage (each with its
# dependencies); the last activates the meta module, so all of Monitorbizz.
ACTIVATION_STAGES = [
    ['company', 'product', 'stock', 'account'],
    ['account_invoice_stock', 'sale', 'purchase', 'production_routing'],
    ['monitorbizz'],
    ]


def build_database(config_file, name, echo=say, password=ADMIN_PASSWORD):
    """Activate every Monitorbizz module in the (existing, empty) database
    and load the demo workshop, reporting progress through ``echo``; the
    administrator gets password (given to trytond-admin in a file)."""
    started = time.monotonic()
    echo("==> Creating the database (all Tryton modules Monitorbizz uses); "
        "this takes a minute the first time")
    with tempfile.NamedTemporaryFile('w', delete=False) as passfile:
        passfile.write(password)
    env = dict(os.environ, TRYTONPASSFILE=passfile.name)
    loaded = set()
    # trytond logs "<module> load [file]" while it installs each module.
    pattern = re.compile(r'INFO trytond\.modules (\S+) load')
    try:
        # One transaction per stage: PostgreSQL holds a lock per created
        # table until commit, and all modules at once come close to its
        # default lock table (max_locks_per_transaction = 64).
        for stage, modules in enumerate(ACTIVATION_STAGES):
            cmd = [os.path.join(BIN, 'trytond-admin'), '-c', config_file,
                '-d', name, '-u', *modules, '--activate-dependencies', '-vv']
            if stage == 0:  # creates the database: admin and its e-mail
                cmd[5:5] = ['--all', '--email', 'admin@monitorbizz.local']
            log = []
            with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True) as process:
                for line in process.stdout:
                    log.append(line)
                    match = pattern.search(line)
                    if match and match.group(1) not in loaded:
                        loaded.add(match.group(1))
                        echo(f"    [{len(loaded):>2} modules, "
                            f"{time.monotonic() - started:4.0f} s] "
                            f"{match.group(1)}")
            if process.returncode:
                sys.stderr.writelines(log[-40:])
                raise SystemExit("Database creation failed (trytond-admin).")
    finally:
        os.remove(passfile.name)

    echo("==> Loading the demo workshop (fixtures/demo_workshop.json)")
    subprocess.run([sys.executable, os.path.join(ROOT, 'fixtures',
                'load_demo.py'), '-c', config_file, '-d', name],
        check=True)


def print_logins(host, port, name):
    from load_demo import read_data
    data = read_data()
    url = f"http://{host}:{port}/"
    users = '\n'.join(
        f"      {user['role']:<15}: {user['login']:<24} "
        f"password {user['password']}" for user in data['users'])
    print(f"""
==> Monitorbizz is starting on {url}
    Open {url}#{name} and log in (demo passwords: change them before real use):
{users}
      administrator  : {'admin':<24} password {ADMIN_PASSWORD}
    Tryton JSON-RPC: {url}{name}/rpc/   REST: {url}{name}/rest/ (README.md)
    Stop with Ctrl-C.
""", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default=os.environ.get('HOST', '127.0.0.1'))
    parser.add_argument('--port', default=os.environ.get('PORT', '8000'))
    parser.add_argument('--database',
        default=os.environ.get('MONITORBIZZ_DATABASE', 'monitorbizz'))
    parser.add_argument('--data-dir',
        default=os.environ.get('MONITORBIZZ_DATA', os.path.join(VAR, 'db')))
    parser.add_argument('--init-only', action='store_true',
        help="create the database if needed, then stop")
    args = parser.parse_args(argv)

    config_file = os.path.join(VAR, 'trytond.conf')
    os.makedirs(args.data_dir, exist_ok=True)
    write_config(config_file, args.host, args.port, args.data_dir,
        database=args.database)
    if not os.path.exists(os.path.join(args.data_dir,
                f'{args.database}.sqlite')):
        create_database(config_file, args.data_dir, args.database)
    else:
        print(f"==> Reusing the database {args.data_dir}/"
            f"{args.database}.sqlite (delete it to start afresh)", flush=True)
    if args.init_only:
        return
    print_logins(args.host, args.port, args.database)
    trytond = shutil.which('trytond', path=BIN)
    # Load the pool at start-up: the first login otherwise fails with
    # KeyError 'res.user' on trytond 8.0.12 (the pool is registered before
    # it is initialised).
    os.execv(trytond, [trytond, '-c', config_file, '-d', args.database])


if __name__ == '__main__':
    main()
