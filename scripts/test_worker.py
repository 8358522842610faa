"""The processes scripts/run_tests.py runs side by side (not for direct use).

    list-sets --output FILE   the module sets the module tests and scenarios
                              activate, as JSON
    activate SET              activate one set in a database cached by
                              Tryton (DB_CACHE), as the tests would
    demo [catalogue]          the demo workshop template of tests/conftest.py
                              (and the isolation catalogue read from it)
    unittest --result FILE NAME...   the tests of NAME (module or
                              module:Class), timed, counted in FILE

Every process runs with its own DB_NAME (set by run_tests.py).
"""
import argparse
import ast
import doctest
import glob
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, 'tests')
ACTIVATE = 'activate_modules'
# The catalogs information_schema reads
CATALOGS = ['pg_class', 'pg_attribute', 'pg_constraint', 'pg_depend',
    'pg_index', 'pg_namespace', 'pg_type', 'pg_attrdef']


def cache_database(name):
    "The database trytond's DB_CACHE names for a module set"
    return 'test-' + hashlib.shake_128(name.encode('utf8')).hexdigest(20)


def closure(modules):
    "Every module a set activates (its dependencies included)"
    from trytond.modules import get_module_info
    seen, todo = set(), list(modules)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(get_module_info(module).get('depends', []))
    return seen


def scenario_files():
    "Scenarios of the Tryton modules (load_doc_tests) and of pytest"
    files = sorted(glob.glob(
            os.path.join(ROOT, 'monitorbizz_app', '*', 'tests', '*.rst')))
    return files + sorted(
        glob.glob(os.path.join(TESTS, '**', 'scenario_*.rst'), recursive=True))


def scenario_activation(path):
    """(index of the example, modules, set-up expressions) of the first
    activate_modules call of a scenario, or None"""
    with open(path, encoding='utf-8') as fp:
        examples = doctest.DocTestParser().get_examples(fp.read())
    for index, example in enumerate(examples):
        if ACTIVATE + '(' not in example.source:
            continue
        for node in ast.walk(ast.parse(example.source)):
            if (isinstance(node, ast.Call)
                    and getattr(node.func, 'id', None) == ACTIVATE):
                modules = ast.literal_eval(node.args[0])
                if isinstance(modules, str):
                    modules = [modules]
                return index, modules, [
                    ast.unparse(a) for a in node.args[1:]]
    return None


def test_cases(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from test_cases(test)
        else:
            yield test


def list_sets(output):
    from trytond.tests.test_tryton import _DBTestCase
    sets = {}

    def add(name, folder, **values):
        "A set, and the folder of tests that use it"
        values.setdefault('name', name)
        if not values.get('setup'):
            values['cache'] = cache_database(name)
        values['closure'] = sorted(closure(values['modules']))
        values = sets.setdefault(name, values)
        folder = os.path.relpath(folder, ROOT)
        values['used_by'] = sorted(set(values.get('used_by', [])) | {folder})

    suite = unittest.defaultTestLoader.discover(
        os.path.join(ROOT, 'monitorbizz_app'), top_level_dir=ROOT,
        pattern='test_*.py')
    for test in test_cases(suite):
        if isinstance(test, _DBTestCase) and test.module:
            modules = [test.module] + list(test.extras or [])
            name = '-'.join(modules)
            if test.language != 'en':
                name += '--' + test.language
            folder = os.path.dirname(
                sys.modules[type(test).__module__].__file__)
            add(name, folder, kind='module', modules=modules,
                lang=test.language)
    for path in scenario_files():
        found = scenario_activation(path)
        if not found:
            continue
        index, modules, setup = found
        name = '-'.join(sorted(modules))
        if setup:
            # Cached by the set-up functions' names, known when run
            add(f'{name} + {", ".join(setup)}', os.path.dirname(path),
                kind='scenario', modules=modules, path=path, index=index,
                setup=setup, base=name)
        else:
            add(name, os.path.dirname(path), kind='scenario',
                modules=modules)
    with open(output, 'w') as fp:
        json.dump(list(sets.values()), fp, indent=1)
    for values in sets.values():
        print(f"{len(values['closure']):4d} modules: {values['name']}")
    return 0


def activate(spec):
    """Activate a set as its tests do and leave it in Tryton's cache.
    From the cached database of a smaller set (spec['base']) when given:
    Tryton activates only the modules it lacks, as when a module is
    activated in a running database."""
    from trytond.tests import test_tryton, tools
    spec = json.loads(spec)
    started = time.monotonic()
    test_tryton.drop_db()
    if spec.get('setup'):
        _activate_with_setup(spec, tools)
    else:
        # The name of the cache as the tests ask for it: activate_module
        # joins the modules as given, activate_modules sorts them first.
        modules = (spec['modules'] if spec['kind'] == 'module'
            else sorted(spec['modules']))
        lang = spec.get('lang', 'en')
        if cached(test_tryton, spec['name']):
            print(f"{spec['name']}: cached")
            return 0
        if spec.get('base'):
            assert test_tryton.restore_db_cache(spec['base']), spec['base']
            print(f"from the cached {spec['base']}")
        else:
            test_tryton.create_db(lang=lang)
        analyze(test_tryton.DB_NAME)
        test_tryton.activate_module(modules, lang=lang)
        analyze(cache_database(spec['name']))
    test_tryton.drop_db()
    print(f"{spec['name']}: {time.monotonic() - started:.0f} s")
    return 0


def cached(test_tryton, name):
    "Whether DB_CACHE holds the database of the set name"
    if not test_tryton.DB_CACHE:
        return False
    path = test_tryton._db_cache_file(test_tryton.DB_CACHE, name)
    if path.startswith('postgresql://'):
        return test_tryton.db_exist(cache_database(name))
    return os.path.exists(path)


def analyze(name, catalogs=True):
    """Refresh PostgreSQL's statistics of the database name (of its catalogs
    only, by default). A new database has those of template0, and Tryton
    asks information_schema about every table and foreign key while it
    activates modules: on stale statistics PostgreSQL plans these queries
    as nested loops over every column, seconds each instead of
    milliseconds."""
    import psycopg
    from urllib.parse import urlparse
    uri = os.environ.get('TRYTOND_DATABASE__URI', '')
    if not uri.startswith('postgresql'):
        return
    parts = urlparse(uri)
    try:
        with psycopg.connect(host=parts.hostname or None, port=parts.port,
                user=parts.username, password=parts.password, dbname=name,
                autocommit=True) as conn:
            conn.execute('ANALYZE ' + ', '.join(
                    f'pg_catalog.{t}' for t in CATALOGS) if catalogs
                else 'ANALYZE')
    except psycopg.OperationalError:
        pass  # not there (yet)


class Analyzer(threading.Thread):
    """Analyze the catalogs of a database being built in stages (each its
    own transaction, whose tables ANALYZE sees once committed)"""

    def __init__(self, name, every=10):
        super().__init__(daemon=True)
        self.name = name
        self.every = every
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(self.every):
            analyze(self.name)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join()


def _activate_with_setup(spec, tools):
    """Run the scenario up to its activate_modules: the modules come from
    their cached database, only the set-up functions run, and the result is
    cached under the name the scenario asks for."""
    from trytond.tests.test_tryton import backup_db_cache, restore_db_cache
    original = tools.activate_modules

    def activate_modules(modules, *setup):
        if isinstance(modules, str):
            modules = [modules]
        name = '-'.join(sorted(modules)) + '--' + '|'.join(
            tools._func_name(f) for f in setup)
        if restore_db_cache(name):
            return tools._get_config()
        config = original(modules)
        for func in setup:
            func(config=config)
        backup_db_cache(name)
        return config

    path = spec['path']
    if path.startswith(TESTS + os.sep):
        sys.path.insert(0, TESTS)
        import conftest  # noqa: F401 (its folders on sys.path)
    with open(path, encoding='utf-8') as fp:
        examples = doctest.DocTestParser().get_examples(fp.read())
    namespace = {'__name__': '__scenario__'}
    tools.activate_modules = activate_modules
    cwd = os.getcwd()
    try:
        os.chdir(os.path.dirname(path))
        for example in examples[:spec['index'] + 1]:
            exec(compile(example.source, path, 'exec'), namespace)
    finally:
        os.chdir(cwd)
        tools.activate_modules = original


def demo(with_catalogue):
    sys.path.insert(0, TESTS)
    import conftest
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp_dir:
        template = conftest.demo_template(tmp_dir)
    print(f"demo workshop template {template}: "
        f"{time.monotonic() - started:.0f} s")
    if with_catalogue:
        from isolation import catalogue
        catalogue.load()
        print(f"isolation catalogue: {time.monotonic() - started:.0f} s")
    return 0


class TimedResult(unittest.TextTestResult):
    "Times each test; a class's set-up counts in its first test"
    timings = []
    last = None

    def startTest(self, test):
        self._started = TimedResult.last or time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        TimedResult.last = time.monotonic()
        TimedResult.timings.append(
            (_test_name(test), TimedResult.last - self._started))


def _test_name(test):
    if isinstance(test, doctest.DocFileCase):
        return os.path.relpath(test._dt_test.filename, ROOT)
    return test.id()


def run_unittest(result_file, names):
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(
        loader.loadTestsFromName(n.replace(':', '.')) for n in names)
    TimedResult.last = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult,
        stream=sys.stdout).run(suite)
    with open(result_file, 'w') as fp:
        json.dump({'run': result.testsRun, 'failures': len(result.failures)
                + len(result.unexpectedSuccesses),
                'errors': len(result.errors), 'skipped': len(result.skipped),
                'timings': TimedResult.timings}, fp, indent=1)
    return 0 if result.wasSuccessful() else 1


def main(argv):
    parser = argparse.ArgumentParser(prog='run_tests.py --worker')
    parser.add_argument('command',
        choices=['list-sets', 'activate', 'demo', 'unittest'])
    parser.add_argument('--output')
    parser.add_argument('--result')
    parser.add_argument('names', nargs='*')
    args = parser.parse_intermixed_args(argv)
    if args.command == 'list-sets':
        return list_sets(args.output)
    if args.command == 'activate':
        return activate(*args.names)
    if args.command == 'demo':
        return demo('catalogue' in args.names)
    return run_unittest(args.result, args.names)
