"""Which models hold business data, found in the demo database itself.

Read once per source version at collection time (so that tests are
parametrized per model) from a copy of the demo database, and cached next to
it in var/test-cache/<key>/. A module that adds a model with a `company`
field, or a record rule through a parent's company, is covered without
touching the suite.
"""
import json
import os
import shutil
import sqlite3
import tempfile

import conftest as base  # tests/conftest.py

# Models with a Many2One `company` that is a Function field (no column):
# the path to their business through a stored parent. Models the suite
# cannot place fail test_every_business_model_is_placed.
OWNER_PATHS = {
    'company.company': 'id',
    'account.invoice.payment.mean': 'invoice.company',
    'account.journal.period': 'period.fiscalyear.company',
    'account.move.line': 'move.company',
    'account.period': 'fiscalyear.company',
    'account.statement.line': 'statement.company',
    'account.statement.origin': 'statement.company',
    'account.tax.line': 'tax.company',
    'party.party.reception_direct_debit': 'journal.company',
    'production.work.cycle': 'work.company',
    'purchase.line': 'purchase.company',
    'sale.line': 'sale.company',
    'sale.opportunity.line': 'opportunity.company',
    }
# Relations that are not "belongs to": every record has a creator and a
# last writer (res.user), and memberships are tested as models themselves.
NOT_OWNERS = {'res.user', 'res.user.role', 'res.user-company.company'}
# Models the business module must cover (acceptance of the businesses issue)
REQUIRED = ['company.company', 'party.party', 'product.template',
    'stock.location', 'stock.lot', 'production.bom', 'production.routing',
    'production.work.center', 'sale.sale', 'purchase.purchase', 'production',
    'account.invoice', 'account.account', 'stock.move']

_COMPANY_EVAL = {'__class__': 'Eval', 'v': 'companies'}


def _query_factory(name, tmp_dir):
    if base.IS_POSTGRESQL:
        import psycopg
        from urllib.parse import urlparse
        parts = urlparse(base.URI)
        conn = psycopg.connect(host=parts.hostname or None, port=parts.port,
            user=parts.username, password=parts.password, dbname=name,
            autocommit=True)
    else:
        conn = sqlite3.connect(os.path.join(tmp_dir, f'{name}.sqlite'))

    def query(sql, params=()):
        if not base.IS_POSTGRESQL:
            sql = sql.replace('%s', '?')
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall()
    return conn, query


def _columns(query):
    if base.IS_POSTGRESQL:
        rows = query("SELECT table_name, column_name "
            "FROM information_schema.columns WHERE table_schema = 'public'")
    else:
        rows = []
        for table, in query(
                "SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in query(f'PRAGMA table_info("{table}")'):
                rows.append((table, row[1]))
    columns = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def _rule_paths(domain):
    "Paths P of the clauses (P, 'in', Eval('companies')) of a rule domain"
    if isinstance(domain, list):
        if (len(domain) == 3 and isinstance(domain[0], str)
                and domain[1] == 'in' and isinstance(domain[2], dict)
                and domain[2].get('v') == 'companies'):
            yield domain[0]
        else:
            for item in domain:
                yield from _rule_paths(item)


def read(query):
    "The raw catalogue of a database (JSON-serializable)"
    many2one = {}
    for model, name, relation in query("SELECT model, name, relation "
            "FROM ir_model_field WHERE ttype = 'many2one'"):
        many2one.setdefault(model, {})[name] = relation
    texts = {}
    for model, name in query("SELECT model, name FROM ir_model_field "
            "WHERE ttype IN ('char', 'text')"):
        texts.setdefault(model, []).append(name)
    rule_paths = {}
    for model, domain in query("SELECT g.model, r.domain FROM ir_rule r "
            "JOIN ir_rule_group g ON g.id = r.rule_group"):
        for path in _rule_paths(json.loads(domain or '[]')):
            if path.endswith('.company') or path == 'company':
                rule_paths.setdefault(model, []).append(path)
    return {
        'actions': _actions(query),
        'company_models': sorted({m for m, f in many2one.items()
                if f.get('company') == 'company.company'}),
        'many2one': many2one,
        'texts': texts,
        'rule_paths': rule_paths,
        'columns': _columns(query),
        }


def _actions(query):
    """{model: {'button': names, 'report': report names, 'wizard': wizard
    names}} the desk offers on the records of each model"""
    actions = {}
    rows = [('button', m, n) for m, n in query(
            "SELECT model, name FROM ir_model_button WHERE active")]
    rows += [('report', m, n) for m, n in query(
            "SELECT r.model, r.report_name FROM ir_action_report r "
            "JOIN ir_action a ON a.id = r.action "
            "WHERE r.model IS NOT NULL AND a.active")]
    # Wizards run from a record (its action and relate menus)
    rows += [('wizard', m.split(',')[0], n) for m, n in query(
            "SELECT k.model, w.wiz_name FROM ir_action_keyword k "
            "JOIN ir_action_wizard w ON w.action = k.action "
            "JOIN ir_action a ON a.id = k.action "
            "WHERE k.model LIKE %s AND a.active", ('%,-1',))]
    for kind, model, name in rows:
        names = actions.setdefault(model, {}).setdefault(kind, [])
        if name not in names:
            names.append(name)
    for kinds in actions.values():
        for names in kinds.values():
            names.sort()
    return actions


EMPTY = {'actions': {}, 'company_models': [], 'many2one': {}, 'texts': {}, 'rule_paths': {},
    'columns': {}}


def load():
    """The catalogue of the demo database, cached per source version. If
    the database cannot be made, an empty catalogue whose `error` says why
    (so that collecting the other tests goes on)."""
    try:
        return _load()
    except (Exception, SystemExit) as exc:  # the build exits on failure
        catalogue = Catalogue(EMPTY)
        catalogue.error = f"{type(exc).__name__}: {exc}"
        return catalogue


def _load():
    backend = 'postgresql' if base.IS_POSTGRESQL else 'sqlite'
    path = os.path.join(base.CACHE, f'isolation-catalogue-{backend}.json')
    if os.path.exists(path):
        with open(path) as fp:
            return Catalogue(json.load(fp))
    tmp_dir = tempfile.mkdtemp(prefix='mbz-catalogue-')
    try:
        name = base._demo_database(tmp_dir)
        conn, query = _query_factory(name, tmp_dir)
        try:
            data = read(query)
        finally:
            conn.close()
        base._drop_database(name)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(base.CACHE, exist_ok=True)
    partial = f'{path}.{os.getpid()}'
    with open(partial, 'w') as fp:
        json.dump(data, fp)
    os.replace(partial, path)
    return Catalogue(data)


class Catalogue:
    """Business models and how to tell the business of each record.

    - stored: models with a table and a business (a `company` column, a
      `company` Function field through a parent, or a record rule through
      a parent's company);
    - listed: models with a `company` field and no table of their own
      (reports computed by a query, and ModelView forms and wizards, which
      the suite tells apart on the live server);
    - dependents: stored models with no business of their own whose rows
      point at records of a business (lines, steps, relation tables).
    """

    error = None

    def __init__(self, data):
        self.data = data
        self.many2one = data['many2one']
        self.columns = {t: set(c) for t, c in data['columns'].items()}
        models = set(data['company_models']) | {'company.company'}
        for model, paths in data['rule_paths'].items():
            if any(p != 'company' for p in paths):
                models.add(model)
        self.business_models = sorted(models)
        self.stored, self.listed, self.unplaced = {}, [], []
        for model in self.business_models:
            if not self.table(model):
                self.listed.append(model)
                continue
            path = self._owner_path(model)
            if path:
                self.stored[model] = path
            else:
                self.unplaced.append(model)
        self.dependents = {}
        for model, fields_ in sorted(self.many2one.items()):
            table = self.table(model)
            if (model in models or not table
                    or model.startswith('ir.') or model.startswith('res.')):
                continue
            parents = {f: r for f, r in fields_.items()
                if r in self.stored and r not in NOT_OWNERS
                and f in self.columns[table]
                and f not in {'create_uid', 'write_uid'}}
            if parents:
                self.dependents[model] = parents

    def table(self, model):
        table = model.replace('.', '_')
        return table if table in self.columns else None

    def _owner_path(self, model):
        table = self.table(model)
        if 'company' in self.columns[table]:
            return 'company'
        if model in OWNER_PATHS:
            return OWNER_PATHS[model]
        for path in self.data['rule_paths'].get(model, []):
            if path != 'company':
                return path
        # A single stored parent with a business
        candidates = [f for f, r in self.many2one.get(model, {}).items()
            if f in self.columns[table] and r not in NOT_OWNERS
            and r != 'company.company' and self.table(r)
            and 'company' in self.columns[self.table(r)]]
        if len(candidates) == 1:
            return f'{candidates[0]}.company'

    def owner_sql(self, model, path=None):
        """SELECT of (id, business) of every row of model, the business
        reached through path (dotted Many2One fields ending in company)"""
        path = path or self.stored[model]
        table = self.table(model)
        if path == 'id':
            return f'SELECT t0.id AS oid, t0.id AS owner FROM "{table}" t0'
        joins = [f'"{table}" t0']
        current, alias = model, 't0'
        *links, last = path.split('.')
        for i, link in enumerate(links, 1):
            current = self.many2one[current][link]
            joins.append(f'LEFT JOIN "{self.table(current)}" t{i} '
                f'ON t{i}.id = {alias}."{link}"')
            alias = f't{i}'
        return (f'SELECT t0.id AS oid, {alias}."{last}" AS owner FROM '
            + ' '.join(joins))

    def text_field(self, model):
        "A stored text field to write, or None"
        table = self.table(model)
        names = [n for n in self.data['texts'].get(model, [])
            if n in self.columns.get(table, ())]
        for preferred in ['name', 'description', 'comment', 'reference',
                'title', 'note', 'message', 'code', 'number']:
            if preferred in names:
                return preferred
        return sorted(names)[0] if names else None

    def references(self, model):
        """Stored Many2One fields of model pointing at business records
        (or at businesses)"""
        table = self.table(model)
        return {f: r for f, r in self.many2one.get(model, {}).items()
            if f in self.columns.get(table, ())
            and (r in self.stored or r == 'company.company')
            and r not in NOT_OWNERS
            and f not in {'create_uid', 'write_uid'}}
