"""Back up and restore a Monitorbizz database with its attachment store.

    scripts/backup.py backup [--database NAME] [--output DIR]
    scripts/backup.py restore FILE [--database NEW_NAME]

Used by `make backup` and `make restore FILE=...`. A backup is one tar file,
var/backups/<database>-<UTC time>.tar, holding
- database.dump: pg_dump in PostgreSQL's custom format (compressed; pg_restore
  can restore it whole or table by table);
- filestore/: the database's attachment store (Tryton keeps attachments,
  logos, images and receipts as files under [database] path/<database>/);
- manifest.json: the database's name and the time of the backup.
The dump is consistent (one snapshot) while the server runs; files are only
ever added to the store (named by their hash), so copying it after the dump
holds every file the dump refers to.

Restore always creates a new database (refusing a name that exists) and its
attachment store; serve it with MONITORBIZZ_DATABASE=<name> make serve.
The server, the database and the store are those of make serve
(TRYTOND_DATABASE_URI, MONITORBIZZ_DATABASE, MONITORBIZZ_DATA); the
database password, if any, is handed to pg_dump/pg_restore in their
environment (PGPASSWORD), never on a command line or in a message.
"""
import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import serve  # noqa: E402 (scripts/serve.py: the same server and store)

BACKUPS = os.path.join(serve.ROOT, 'var', 'backups')
DUMP = 'database.dump'
STORE = 'filestore'
MANIFEST = 'manifest.json'


def say(message):
    print(message, flush=True)


def pg_command(uri, program, *args):
    "The command line and environment of a PostgreSQL client program"
    parts = urllib.parse.urlsplit(uri)
    cmd = [shutil.which(program) or program]
    if parts.hostname:
        cmd += ['--host', parts.hostname]
    if parts.port:
        cmd += ['--port', str(parts.port)]
    if parts.username:
        cmd += ['--username', urllib.parse.unquote(parts.username)]
    env = dict(os.environ)
    if parts.password:
        env['PGPASSWORD'] = urllib.parse.unquote(parts.password)
    return cmd + ['--no-password', *args], env


def _tar_filter(member):
    member.uid = member.gid = 0
    member.uname = member.gname = ''
    return member


def backup(uri, database, data_dir, output):
    if not serve.database_exists(uri, database):
        raise SystemExit(f"No database {database} on {serve.masked(uri)}")
    os.makedirs(output, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    path = os.path.join(output, f'{database}-{stamp}.tar')
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=output) as tmp:
        dump = os.path.join(tmp, DUMP)
        cmd, env = pg_command(uri, 'pg_dump', '--format=custom',
            '--no-owner', '--file', dump, '--dbname', database)
        subprocess.run(cmd, env=env, check=True)
        store = os.path.join(data_dir, database)
        manifest = os.path.join(tmp, MANIFEST)
        with open(manifest, 'w') as fp:
            json.dump({'database': database, 'created': stamp,
                    'files': _count_files(store)}, fp)
        building = path + '.part'
        with tarfile.open(building, 'w') as tar:
            tar.add(manifest, MANIFEST, filter=_tar_filter)
            tar.add(dump, DUMP, filter=_tar_filter)
            if os.path.isdir(store):
                tar.add(store, STORE, filter=_tar_filter)
        os.replace(building, path)
    size = os.path.getsize(path) / 1e6
    say(f"==> Backed up {database} in {time.monotonic() - started:.1f} s: "
        f"{path} ({size:.1f} MB)")
    return path


def _count_files(store):
    return sum(len(files) for _, _, files in os.walk(store))


def restore(uri, path, database, data_dir):
    if not os.path.isfile(path):
        raise SystemExit(f"No backup file {path!r} (make restore FILE=...)")
    started = time.monotonic()
    with tarfile.open(path) as tar, \
            tempfile.TemporaryDirectory() as tmp:
        tar.extract(MANIFEST, tmp, filter='data')
        with open(os.path.join(tmp, MANIFEST)) as fp:
            manifest = json.load(fp)
        if not database:
            database = (f"{manifest['database']}_restored_"
                f"{manifest['created'].lower()}")
        if serve.database_exists(uri, database):
            raise SystemExit(f"The database {database} exists: restore "
                "creates a new one (choose another name with DATABASE=)")
        store = os.path.join(data_dir, database)
        if os.path.exists(store):
            raise SystemExit(f"{store} exists: restore creates a new "
                "attachment store")
        tar.extractall(tmp, filter='data')
        with serve.pg_connect(uri) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        try:
            cmd, env = pg_command(uri, 'pg_restore', '--no-owner',
                '--exit-on-error', '--jobs', '2', '--dbname', database,
                os.path.join(tmp, DUMP))
            subprocess.run(cmd, env=env, check=True)
        except BaseException:
            with serve.pg_connect(uri) as conn:
                conn.execute(
                    f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            raise
        os.makedirs(data_dir, exist_ok=True)
        files = os.path.join(tmp, STORE)
        if os.path.isdir(files):
            shutil.move(files, store)
    # Fresh planner statistics (pg_dump carries none)
    with serve.pg_connect(uri, database) as conn:
        conn.execute('ANALYZE')
    say(f"==> Restored {path} into the new database {database} "
        f"({manifest['files']} attachment files) in "
        f"{time.monotonic() - started:.1f} s\n"
        f"    Serve it with: MONITORBIZZ_DATABASE={database} make serve")
    return database


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    data_dir = os.environ.get('MONITORBIZZ_DATA',
        os.path.join(serve.VAR, 'filestore'))
    do_backup = commands.add_parser('backup', help="dump a database")
    do_backup.add_argument('--database',
        default=os.environ.get('MONITORBIZZ_DATABASE', 'monitorbizz'))
    do_backup.add_argument('--output', default=BACKUPS)
    do_restore = commands.add_parser('restore',
        help="restore a backup into a new database")
    do_restore.add_argument('file')
    do_restore.add_argument('--database', default=None,
        help="the new database [<name>_restored_<time of the backup>]")
    for sub in (do_backup, do_restore):
        sub.add_argument('--data-dir', default=data_dir,
            help="the attachment store's root ([database] path)")
    args = parser.parse_args(argv)
    uri = serve.database_uri()
    if args.command == 'backup':
        backup(uri, args.database, args.data_dir, args.output)
    else:
        restore(uri, args.file, args.database, args.data_dir)


if __name__ == '__main__':
    main()
