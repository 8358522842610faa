"""Run every Monitorbizz test: the Tryton module tests (ModuleTestCase and
scenario doctests of each module) and the pytest suite in tests/.

    run_tests.py          the whole suite (make test, what CI runs)
    run_tests.py --fast   unit tests without a database and, beside them,
                          the API tests but those marked slow, split by
                          file over two processes, each with its own live
                          server (make test-fast)

The database is PostgreSQL when one is reachable (TRYTOND_DATABASE_URI, else
the local server on 127.0.0.1:5432), SQLite otherwise; the choice is printed.
MONITORBIZZ_REQUIRE_POSTGRESQL=1 (set by .ci/run) turns "no PostgreSQL" into
a failure.

Both cores are used and no database is built twice:
1. every module set that a module test or a scenario activates is activated
   once, and the demo workshop is built once: Tryton's DB_CACHE, as
   PostgreSQL template databases (a copy is a file copy) or SQLite files;
2. the tests then run in parallel processes (MONITORBIZZ_TEST_JOBS, default
   the number of cores), one per module test file or pytest group (the
   API tests in two, split by file on the seconds each took last time),
   each on databases copied from those of step 1.
Every step and process prints its time; a failed test fails the whole.
"""
import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_POSTGRESQL = 'postgresql://postgres@127.0.0.1:5432/'
ARTIFACTS = os.path.join(ROOT, 'var', 'test-artifacts')
# Cached module databases of Tryton (DB_CACHE as a postgresql:// URI) are
# named test-<hash of the module names>; their comment says which source
# version built them.
TEMPLATE_PATTERN = re.compile(r'test-[0-9a-f]{40}')
TEMPLATE_MARK = 'monitorbizz tests {key}: {name}'

# pytest groups, each its own process with its own live trytond; what no
# group names runs in the last one, so that no test is left out. A group of
# several parts is split by test file into that many processes (each with
# its own server on its own copy of the demo database), balanced on the
# seconds each file took in the last run (var/test-cache/pytest-seconds.json)
# or, never run yet, estimated from its size.
PYTEST_GROUPS = [  # (title, paths, parts)
    ('pytest isolation', ['tests/isolation'], 1),
    ('pytest api', ['tests/api'], 2),
    ('pytest demo, scenario, browser', ['tests'], 1),
    ]
# make test-fast: the API tests but those marked slow (pyproject.toml)
FAST_PYTEST = ('pytest api', ['tests/api'], 2)
FAST_MARKERS = 'not slow'
PYTEST_SECONDS = os.path.join(ROOT, 'var', 'test-cache', 'pytest-seconds.json')
# The seconds of a whole run kept in the repository (--save-seconds), so
# that a clean clone (CI) splits and orders its jobs on measured times too
SAVED_SECONDS = os.path.join(ROOT, 'scripts', 'test-seconds.json')
# Seconds of a test file never timed here: per 1000 bytes of its source
SECONDS_PER_KB = 1.5
SLOW_FACTOR = 6  # files of slow tests (tests/conftest.py SLOW)
FAST_UNITTEST = ['monitorbizz_app.api.tests.test_module:SchemaTestCase',
    'monitorbizz_app.api.tests.test_module:JSONTestCase',
    'monitorbizz_app.api.tests.test_module:TokenTestCase',
    'monitorbizz_app.api.tests.test_module:OpenAPITestCase',
    'monitorbizz_app.crm.tests.test_words']


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
            # A module's tests do not shape its database
            dirnames[:] = sorted(d for d in dirnames
                if d not in {'__pycache__', 'tests'})
            paths.extend(os.path.join(dirpath, f) for f in sorted(filenames)
                if not f.endswith('.pyc'))
    for path in paths:
        digest.update(os.path.relpath(path, ROOT).encode())
        with open(path, 'rb') as fp:
            digest.update(fp.read())
    return digest.hexdigest()[:16]


# PostgreSQL templates of the module databases

def _pg_admin(uri):
    import psycopg
    from urllib.parse import urlparse
    parts = urlparse(uri)
    return psycopg.connect(host=parts.hostname or None, port=parts.port,
        user=parts.username, password=parts.password, dbname='postgres',
        autocommit=True)


def _templates(cursor):
    "{name: comment} of the cached module databases"
    cursor.execute("SELECT datname, shobj_description(oid, 'pg_database') "
        "FROM pg_database WHERE datname LIKE 'test-%%'")
    return {n: c or '' for n, c in cursor.fetchall()
        if TEMPLATE_PATTERN.fullmatch(n)}


def drop_stale_templates(uri, key):
    """Drop the cached module databases of other source versions (and those
    of an interrupted run, which carry no comment)."""
    import psycopg
    prefix = TEMPLATE_MARK.format(key=key, name='')
    with _pg_admin(uri) as conn, conn.cursor() as cursor:
        for name, comment in _templates(cursor).items():
            if not comment.startswith(prefix):
                try:
                    cursor.execute(f'DROP DATABASE "{name}"')
                except psycopg.errors.ObjectInUse:
                    pass  # someone else's run is using it


def mark_templates(uri, key, names):
    "Comment the cached databases built by this run with the source version"
    with _pg_admin(uri) as conn, conn.cursor() as cursor:
        for name, comment in _templates(cursor).items():
            if not comment:
                mark = TEMPLATE_MARK.format(key=key,
                    name=names.get(name, '?')).replace("'", "''")
                cursor.execute(f'COMMENT ON DATABASE "{name}" IS \'{mark}\'')


# Processes run side by side

class Job:
    "A process of the run, started once the jobs it needs have ended"

    def __init__(self, title, cmd, cost=60, junit=None, result=None,
            env=None, after=()):
        self.title = title
        self.cmd = cmd
        self.cost = cost  # estimated seconds, to start long chains first
        self.after = list(after)
        self.junit = junit
        self.result = result
        self.env = env or {}
        self.slug = re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')
        self.log = os.path.join(ARTIFACTS, f'{self.slug}.log')
        self.base = self.fallback = None
        self.process = None
        self.started = self.elapsed = self.cpu = self.ended = None
        self.returncode = None
        self.no_tests_ok = False


def priorities(jobs):
    "{job: its cost plus that of the longest chain of jobs waiting on it}"
    waiting_on = {job: [j for j in jobs if job in j.after] for job in jobs}
    result = {}

    def priority(job):
        if job not in result:
            result[job] = job.cost + max(
                [priority(j) for j in waiting_on[job]], default=0)
        return result[job]
    for job in jobs:
        priority(job)
    return result


def run_jobs(jobs, env, workers, started):
    """Run jobs, `workers` at a time, each once those it needs ended, the
    longest chains first; print each one's output and time when it ends."""
    order = priorities(jobs)
    waiting = sorted(jobs, key=lambda j: -order[j])
    running = []
    try:
        _run(waiting, running, env, workers, started)
    finally:
        # Interrupted: the processes clean up their databases and servers
        for job in running:
            job.process.send_signal(signal.SIGINT)
        for job in running:
            try:
                job.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                job.process.kill()
    return jobs


def _run(waiting, running, env, workers, started):
    while waiting or running:
        ready = [j for j in waiting
            if all(a.returncode is not None for a in j.after)]
        while ready and len(running) < workers:
            job = ready.pop(0)
            waiting.remove(job)
            if job.base is not None and job.base.returncode:
                print(f"    ({job.base.title} failed: {job.title} "
                    "starts from nothing)", flush=True)
                job.cmd = job.fallback
            job.started = time.monotonic()
            job.output = open(job.log, 'w')
            job.process = subprocess.Popen(job.cmd, cwd=ROOT,
                env={**env, **job.env}, stdout=job.output,
                stderr=subprocess.STDOUT)
            print(f"    [{job.started - started:5.0f} s] started: "
                f"{job.title}", flush=True)
            running.append(job)
        time.sleep(0.2)
        for job in list(running):
            # wait4: the exit status and the CPU time of the process tree
            pid, status, usage = os.wait4(job.process.pid, os.WNOHANG)
            if not pid:
                continue
            job.process.returncode = os.waitstatus_to_exitcode(status)
            running.remove(job)
            job.ended = time.monotonic()
            job.elapsed = job.ended - job.started
            job.cpu = usage.ru_utime + usage.ru_stime
            job.returncode = job.process.returncode
            if job.returncode == 5 and job.no_tests_ok:
                job.returncode = 0  # pytest: every test deselected
            job.output.close()
            status = 'ok' if not job.returncode else (
                f'FAILED (exit {job.returncode})')
            print(f"\n--- [{job.ended - started:5.0f} s] {job.title}: "
                f"{status} in {job.elapsed:.0f} s, CPU {job.cpu:.0f} s "
                f"({' '.join(job.cmd[1:])})", flush=True)
            with open(job.log) as fp:
                shutil.copyfileobj(fp, sys.stdout)
            sys.stdout.flush()


def activation_jobs(sets):
    """{set name: job} activating each set once. A set starts from the
    cached database of the largest set whose modules it all has (Tryton
    then activates only the rest), so the modules the sets share are
    activated once; sets with a set-up function start from their plain
    set."""
    by_name = {s['name']: s for s in sets}
    plain = [s for s in sets if not s.get('setup')]
    for spec in plain:
        modules = set(spec['closure'])
        bases = [b for b in plain if b is not spec
            and b.get('lang', 'en') == spec.get('lang', 'en')
            and set(b['closure']) < modules]
        if bases:
            base = max(bases, key=lambda b: (len(b['closure']), b['name']))
            spec['base'] = base['name']
    jobs = {}
    for spec in sorted(sets, key=lambda s: (len(s['closure']),
            bool(s.get('setup')))):
        base = jobs.get(spec.get('base'))
        fresh = {k: v for k, v in spec.items() if k != 'base'}
        modules = len(spec['closure']) - (
            len(by_name[spec['base']]['closure']) if base else 0)
        job = Job(f"activate {spec['name']}", worker('activate',
                [json.dumps(spec if base else fresh)]),
            after=[base] if base else [], cost=20 + 6 * modules)
        job.base = base
        job.fallback = worker('activate', [json.dumps(fresh)])
        jobs[spec['name']] = job
    return jobs


def unittest_files():
    "Dotted names of the test files of the Tryton modules"
    names = []
    top = os.path.join(ROOT, 'monitorbizz_app')
    for folder, dirnames, filenames in os.walk(top):
        # as unittest discovery: packages only
        dirnames[:] = sorted(d for d in dirnames
            if os.path.exists(os.path.join(folder, d, '__init__.py')))
        package = os.path.relpath(folder, ROOT).replace(os.sep, '.')
        names.extend(f'{package}.{f[:-3]}' for f in sorted(filenames)
            if re.fullmatch(r'test_\w+\.py', f))
    return names


def unittest_cost(name):
    "Estimated seconds: scenarios by their number, others alike"
    folder = os.path.join(ROOT, *name.split('.')[:-1])
    if name.endswith('.test_scenario'):
        return 60 * len([f for f in os.listdir(folder)
                if re.fullmatch(r'scenario_\w+\.rst', f)])
    return 60


def pytest_files(paths, ignore=()):
    "The files pytest collects under paths, but those (under) ignore"
    found = []
    for path in paths:
        for folder, dirnames, filenames in os.walk(os.path.join(ROOT, path)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(
                    ('.', '__')))
            relative = os.path.relpath(folder, ROOT)
            if any(relative == i or relative.startswith(i + '/')
                    for i in ignore):
                continue
            found.extend(os.path.join(relative, f) for f in sorted(filenames)
                if os.path.join(relative, f) not in ignore
                and re.fullmatch(
                    r'(test_\w+\.py|\w+_test\.py|scenario_\w+\.rst)', f))
    return found


def recorded_seconds():
    """{mode: {test file or job title: seconds}} of the last runs here,
    over those saved in the repository"""
    recorded = {}
    for path in [SAVED_SECONDS, PYTEST_SECONDS]:
        try:
            with open(path) as fp:
                data = json.load(fp)
        except (OSError, ValueError):
            continue
        for mode, seconds in data.items():
            recorded.setdefault(mode, {}).update(seconds)
    return recorded


def save_seconds():
    "Keep the seconds of the last runs here in the repository"
    recorded = recorded_seconds()
    with open(SAVED_SECONDS, 'w') as fp:
        json.dump(recorded, fp, indent=1, sort_keys=True)
        fp.write('\n')
    print(f"==> Seconds of {sum(map(len, recorded.values()))} test files "
        f"and jobs saved in {os.path.relpath(SAVED_SECONDS, ROOT)}")
    return 0


def timed(jobs, recorded):
    "Jobs whose cost is their measured time where one is recorded"
    for job in jobs:
        if job.title in recorded and not getattr(job, 'files', None):
            job.cost = recorded[job.title]
    return jobs


def file_seconds(path, recorded):
    "Seconds the tests of a file take: as last time, else from its size"
    if path in recorded:
        return recorded[path]
    return os.path.getsize(os.path.join(ROOT, path)) / 1000 * (
        SECONDS_PER_KB * (SLOW_FACTOR if path in slow_files() else 1))


def split_files(files, parts, recorded):
    """files in at most `parts` lists of about equal seconds (longest
    first, each to the shortest list); [(seconds, files)]"""
    lists = [[0.0, []] for _ in range(min(parts, len(files)) or 1)]
    for path in sorted(files, key=lambda f: -file_seconds(f, recorded)):
        shortest = min(lists, key=lambda entry: entry[0])
        shortest[0] += file_seconds(path, recorded)
        shortest[1].append(path)
    return [(seconds, sorted(paths)) for seconds, paths in lists]


def slow_files():
    """The test files whose tests are all marked slow: SLOW of
    tests/conftest.py (read, not imported: it needs the whole project)"""
    with open(os.path.join(ROOT, 'tests', 'conftest.py')) as fp:
        for node in ast.parse(fp.read()).body:
            if (isinstance(node, ast.Assign)
                    and getattr(node.targets[0], 'id', None) == 'SLOW'):
                return {os.path.join('tests', k)
                    for k in ast.literal_eval(node.value) if '::' not in k}
    return set()


def pytest_jobs(title, paths, parts, recorded, ignore=(), markers=None,
        after=()):
    """The jobs of a pytest group: one, or one per part of its files (with
    markers, those of files whose tests all are slow are left out)"""
    extra = ['-m', markers] if markers else []
    if markers and parts > 1:
        ignore = [*ignore, *slow_files()]
    if parts <= 1:
        files = pytest_files(paths, ignore)
        cost = sum(file_seconds(f, recorded) for f in files)
        return [pytest_job(title, paths + [f'--ignore={p}' for p in ignore]
                + extra, cost=cost, after=after, markers=markers)]
    jobs = []
    for index, (seconds, files) in enumerate(split_files(
                pytest_files(paths, ignore), parts, recorded), 1):
        jobs.append(pytest_job(f'{title} {index}/{parts}', files + extra,
                cost=seconds, after=after, markers=markers))
        jobs[-1].files = files
    return jobs


def uses_sqlite_server(path):
    "Whether the tests of a file start a server on the SQLite demo too"
    with open(os.path.join(ROOT, path), encoding='utf-8') as fp:
        return 'sqlite_server' in fp.read()


def record_seconds(jobs, mode):
    """Keep the seconds of each test file of the pytest jobs that ran (for
    the next run's split)"""
    seconds = {}
    for job in jobs:
        # Times of failures (timeouts) would mislead the next split
        if job.returncode or not job.junit or not os.path.exists(job.junit):
            continue
        # A file none of whose tests ran (all deselected) takes no time
        seconds.update({f: 0 for f in getattr(job, 'files', [])})
        for case in ElementTree.parse(job.junit).getroot().iter('testcase'):
            path = test_file(case.get('classname') or '')
            if path:
                seconds[path] = seconds.get(path, 0) + float(
                    case.get('time') or 0)
    if not seconds:
        return
    try:
        with open(PYTEST_SECONDS) as fp:
            recorded = json.load(fp)
    except (OSError, ValueError):
        recorded = {}
    recorded.setdefault(mode, {}).update(
        {p: round(s, 1) for p, s in seconds.items()})
    # Every other job's time (activations, demo, module tests), for order
    recorded.setdefault(f'{mode} jobs', {}).update(
        {j.title: round(j.elapsed, 1) for j in jobs
            if j.elapsed and not j.returncode
            and not getattr(j, 'files', None)})
    os.makedirs(os.path.dirname(PYTEST_SECONDS), exist_ok=True)
    with open(PYTEST_SECONDS, 'w') as fp:
        json.dump(recorded, fp, indent=1, sort_keys=True)


def test_file(classname):
    "The file of a junit class name (tests.api.test_x[.Class])"
    parts = classname.split('.')
    for end in range(len(parts), 0, -1):
        # a module (tests/api/test_x.py), a doctest file (tests/x.rst)
        for path in ['/'.join(parts[:end]) + '.py',
                '/'.join(parts[:end - 1]) + '.' + parts[end - 1]]:
            if os.path.isfile(os.path.join(ROOT, path)):
                return path
    return None


def worker(name, args):
    return [sys.executable, os.path.abspath(__file__), '--worker', name,
        *args]


def counts_of(job):
    "(run, failed, skipped) of a job's tests"
    if job.result and os.path.exists(job.result):
        with open(job.result) as fp:
            data = json.load(fp)
        return data['run'], data['failures'] + data['errors'], data['skipped']
    if job.junit and os.path.exists(job.junit):
        root = ElementTree.parse(job.junit).getroot()
        suites = [root] if root.tag == 'testsuite' else list(root)
        run = failed = skipped = 0
        for suite in suites:
            run += int(suite.get('tests', 0))
            failed += int(suite.get('failures', 0)) + int(
                suite.get('errors', 0))
            skipped += int(suite.get('skipped', 0))
        return run, failed, skipped
    return None


def slowest(jobs, count=20):
    "The slowest tests of every job: [(seconds, test)]"
    timings = []
    for job in jobs:
        if job.result and os.path.exists(job.result):
            with open(job.result) as fp:
                timings.extend((s, t) for t, s in json.load(fp)['timings'])
        elif job.junit and os.path.exists(job.junit):
            for case in ElementTree.parse(job.junit).getroot().iter(
                    'testcase'):
                timings.append((float(case.get('time', 0)),
                        f"{case.get('classname')}::{case.get('name')}"))
    return sorted(timings, reverse=True)[:count]


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--fast', action='store_true',
        help="unit tests and the API tests against one server")
    parser.add_argument('--worker', nargs=argparse.REMAINDER,
        help=argparse.SUPPRESS)
    parser.add_argument('--save-seconds', action='store_true',
        help="keep the times of the last run in scripts/test-seconds.json")
    args = parser.parse_args(argv)
    if args.save_seconds:
        return save_seconds()
    if args.worker:
        import test_worker
        return test_worker.main(args.worker)
    signal.signal(signal.SIGTERM, interrupt)

    uri = choose_database()
    postgresql = uri.startswith('postgresql')
    backend = 'PostgreSQL' if postgresql else 'SQLite'
    print(f"==> Tests use {backend} ({uri})", flush=True)

    key = source_hash()
    cache_root = os.path.join(ROOT, 'var', 'test-cache')
    if os.path.isdir(cache_root):
        for name in os.listdir(cache_root):
            if name != key and re.fullmatch(r'[0-9a-f]{16}', name):
                shutil.rmtree(os.path.join(cache_root, name))
    os.makedirs(os.path.join(cache_root, key), exist_ok=True)
    if postgresql and not args.fast:
        drop_stale_templates(uri, key)
    workers = int(os.environ.get('MONITORBIZZ_TEST_JOBS') or os.cpu_count())
    env = dict(os.environ,
        TRYTOND_DATABASE__URI=uri,
        # Module databases: PostgreSQL templates, else SQLite files
        DB_CACHE=uri.rstrip('/') if postgresql else os.path.join(
            cache_root, key),
        # The demo template's namespace (tests/conftest.py): this source
        # version, or the one of whoever tests side by side with others
        MONITORBIZZ_TEST_KEY=os.environ.get('MONITORBIZZ_TEST_KEY') or key,
        PYTHONPATH=os.pathsep.join(
            filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
    env.pop('TRYTOND_DATABASE_URI', None)
    env.pop('DB_NAME', None)
    if postgresql:
        # Test databases are thrown away: a commit need not wait for its
        # WAL to reach the disk (libpq passes PGOPTIONS to the server of
        # every connection: Tryton's, the tests', the live servers').
        # Visibility and locking are unchanged; only a crash of the
        # PostgreSQL server could lose the last commits.
        env['PGOPTIONS'] = ' '.join(filter(None, [
                    os.environ.get('PGOPTIONS'),
                    '-c synchronous_commit=off']))
    if os.path.isdir(ARTIFACTS):
        shutil.rmtree(ARTIFACTS)
    os.makedirs(ARTIFACTS)
    print(f"    {workers} processes at a time; logs in "
        f"{os.path.relpath(ARTIFACTS, ROOT)}/", flush=True)

    def db_name(slug):
        "Each process its own Tryton test database (DB_NAME)"
        digest = hashlib.sha256(slug.encode()).hexdigest()[:10]
        return f'test_mbz_{os.getpid()}_{digest}'

    steps = []
    started = time.monotonic()

    def step(title, jobs, workers=workers):
        print(f"\n==> {title}", flush=True)
        begin = time.monotonic()
        for job in jobs:
            if postgresql:  # SQLite: each process in memory
                job.env.setdefault('DB_NAME', db_name(job.slug))
        run_jobs(jobs, env, workers, started)
        elapsed = time.monotonic() - begin
        steps.append((title, elapsed, jobs))
        print(f"==> {title}: {elapsed:.0f} s (load average "
            f"{os.getloadavg()[1]:.1f} on {os.cpu_count()} cores)", flush=True)
        return jobs

    recorded = recorded_seconds()
    if args.fast:
        unit = os.path.join(ARTIFACTS, 'unit.json')
        demo = Job('demo workshop', worker('demo', []), cost=200)
        title, paths, parts = FAST_PYTEST
        step("Unit tests; the API tests but the slow ones, "
            f"{parts} servers", [
                Job('unit tests', worker('unittest',
                        ['--result', unit, *FAST_UNITTEST]), result=unit),
                demo] + pytest_jobs(title, paths, parts,
                recorded.get('fast', {}), markers=FAST_MARKERS,
                after=[demo]),
            # the unit tests hardly use the processor: beside the servers
            workers=workers + 1)
    else:
        sets_file = os.path.join(ARTIFACTS, 'sets.json')
        listed, = step("Module sets the tests activate", [Job('module sets',
                    worker('list-sets', ['--output', sets_file]))])
        sets = []
        if not listed.returncode:
            with open(sets_file) as fp:
                sets = json.load(fp)
        names = {s['cache']: s['name'] for s in sets if s.get('cache')}
        activations = activation_jobs(sets)
        demo = Job('demo workshop', worker('demo', ['catalogue']), cost=300)

        def needed(folders, ignore=()):
            "The activations of the sets used by tests in folders"
            def inside(folder, paths):
                return any(folder == p or folder.startswith(p + '/')
                    for p in paths)
            return [activations[s['name']] for s in sets
                if any(inside(f, folders) and not inside(f, ignore)
                    for f in s['used_by'])]
        tests = []
        for name in unittest_files():
            result = os.path.join(ARTIFACTS, f'{name}.json')
            folder = os.path.dirname(name.replace('.', '/'))
            tests.append(Job(name, worker('unittest',
                        ['--result', result, name]),
                    cost=unittest_cost(name), result=result,
                    after=needed([folder])))
        for title, paths, parts in PYTEST_GROUPS:
            ignore = [p for _, other, _ in PYTEST_GROUPS for p in other
                if p not in paths and any(
                    p.startswith(q + '/') for q in paths)]
            tests.extend(pytest_jobs(title, paths, parts,
                    recorded.get('full', {}), ignore=ignore,
                    after=[demo] + needed(paths, ignore)))
        demos = [demo]
        if postgresql:
            # The SQLite demo database of the tests that also serve one
            # (sqlite_server: tests/api/test_concurrency.py), built
            # beside the other databases rather than within their process
            sqlite_demo = Job('demo workshop on SQLite', worker('demo', []),
                cost=250, env={'TRYTOND_DATABASE__URI': 'sqlite://'})
            for job in tests:
                if any(uses_sqlite_server(f)
                        for f in getattr(job, 'files', [])):
                    job.after.append(sqlite_demo)
                    demos.append(sqlite_demo)
        step("Databases (each module set and the demo once), then the "
            "tests, side by side", timed(list(activations.values())
                + list(dict.fromkeys(demos)) + tests,
                recorded.get('full jobs', {})))
        if postgresql:
            mark_templates(uri, key, names)
        ends = [j.ended for j in activations.values() if j.ended]
        if ends:
            print(f"    (databases ready {max(ends) - started:.0f} s "
                "after the start)")

    elapsed = time.monotonic() - started
    record_seconds([j for _, _, js in steps for j in js],
        'fast' if args.fast else 'full')
    return report(steps, backend, uri, elapsed)


def pytest_job(title, paths, cost=300, after=(), markers=None):
    slug = re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')
    junit = os.path.join(ARTIFACTS, f'junit-{slug}.xml')
    job = Job(title, [sys.executable, '-m', 'pytest', *paths, '-v', '-rfEs',
            '-p', 'no:cacheprovider', f'--junitxml={junit}'],
        cost=cost, junit=junit, after=after)
    # A part whose tests all are deselected collected none (exit code 5)
    job.no_tests_ok = bool(markers)
    return job


def report(steps, backend, uri, elapsed):
    print("\n==> Summary", flush=True)
    failed = []
    total = [0, 0, 0]
    for title, seconds, jobs in steps:
        print(f"    {seconds:6.0f} s  {title}")
        for job in sorted(jobs, key=lambda j: -(j.elapsed or 0)):
            counts = counts_of(job)
            detail = ''
            if counts:
                total = [a + b for a, b in zip(total, counts)]
                detail = (f"  ({counts[0]} run, {counts[1]} failed, "
                    f"{counts[2]} skipped)")
            status = '' if not job.returncode else '  FAILED'
            print(f"    {job.elapsed or 0:9.0f} s  (CPU {job.cpu or 0:4.0f} s)"
                f"  {job.title}{detail}{status}")
            if job.returncode:
                failed.append(job.title)
    jobs = [j for _, _, js in steps for j in js]
    print("    Slowest tests:")
    for seconds, test in slowest(jobs):
        print(f"    {seconds:9.1f} s  {test}")
    print(f"==> Tests: {total[0]} run, {total[0] - total[1] - total[2]} "
        f"passed, {total[1]} failed or in error, {total[2]} skipped.")
    print(f"==> Database: {backend} ({uri}). Time: {elapsed:.0f} s.",
        flush=True)
    if failed:
        print("==> FAILED: " + "; ".join(failed), flush=True)
        return 1
    print("==> All tests passed.", flush=True)
    return 0


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
