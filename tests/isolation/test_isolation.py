"""Tenant isolation, model by model: user A works in business X and attacks
the records of business Y (and of the demo workshop) through Tryton's
JSON-RPC and REST: search, count, read, write, delete, and linking records
of X to records of Y. Every model with a business (catalogue.py) is tried,
so a new model is covered without changing this file.

Expected: nothing of another business is listed, counted, read, changed,
deleted or linked; the truth is read with SQL from the live database.
"""
import json

import pytest

from .conftest import (
    CATALOGUE, READ_SAMPLE, encode_domain, rest_outcome)
from .catalogue import REQUIRED
from .known import DELETE, READ, SEARCH, WRITE, model_marks

PROTOCOLS = ['jsonrpc', 'rest']
MODELS = sorted(CATALOGUE.stored) + sorted(CATALOGUE.dependents)


def cases(operation, models=MODELS):
    return list(_cases(operation, models))


def _cases(operation, models):
    for model in models:
        for protocol in PROTOCOLS:
            yield pytest.param(model, protocol,
                marks=model_marks(model, operation, protocol),
                id=f'{model}-{protocol}')


# Discovery ------------------------------------------------------------------

def test_required_models_are_covered():
    "The models of the acceptance criterion are all in the catalogue"
    assert CATALOGUE.error is None, (
        f"no catalogue of the demo database: {CATALOGUE.error}")
    missing = [m for m in REQUIRED if m not in CATALOGUE.stored]
    assert not missing, missing


def test_every_business_model_is_placed():
    """Every stored model with a business has a known way to its business
    (a company column, a rule path, or OWNER_PATHS in catalogue.py)"""
    assert not CATALOGUE.unplaced, (
        "add the path to the business of these models to OWNER_PATHS: "
        f"{CATALOGUE.unplaced}")


def test_catalogue_matches_live_server(world):
    "The cached catalogue is the one of the running modules"
    fields = world.admin_call('ir.model.field', 'search_read', [
            ('name', '=', 'company'), ('ttype', '=', 'many2one'),
            ('relation', '=', 'company.company')], 0, None, None, ['model'])
    live = sorted({f['model'] for f in fields})
    assert live == CATALOGUE.data['company_models']


def test_listed_models_are_reports_or_forms(world):
    """Models with a company and no table are reports computed by a query
    (searchable, tested by test_report_rows) or ModelView forms and wizards
    (not stored: there is nothing to leak)"""
    kinds = world.listed_kinds()
    assert set(kinds) == set(CATALOGUE.listed)
    assert 'sale.reporting.main' in [m for m, k in kinds.items()
        if k == 'report']


def test_seeding_covers_the_business_models(world):
    "Y has records of the models an attack is most likely to aim at"
    empty = [m for m in REQUIRED + ['party.address', 'party.contact_mechanism',
            'party.identifier', 'product.product', 'sale.line',
            'purchase.line', 'account.move.line', 'stock.shipment.out',
            'production.work', 'quality.alert', 'timesheet.line',
            'account.payment', 'monitorbizz.business.invitation',
            'company.employee', 'stock.inventory.line',
            'production.bom.input', 'production.routing.step',
            'stock.shipment.in', 'stock.shipment.internal',
            'account.invoice.tax', 'sale.line-account.tax',
            'product.product-production.bom']
        if not world.of(m, world.y)]
    assert not empty, empty


# Search and count -----------------------------------------------------------

def _list(world, model, protocol, domain=None, context=None):
    """(outcome, ids, count) of what A lists of model"""
    a = world.a
    context = {'active_test': False, **(context or {})}
    domain = domain or []
    if protocol == 'jsonrpc':
        out = a.rpc(model, 'search', domain, 0, None, None, context=context)
        if not out.ok:
            return out, None, None
        count = a.rpc(model, 'search_count', domain, context=context)
        assert count.ok, count
        return out, set(out.value), count.value
    response = a.rest('GET', f'model/{model}',
        params={'f': 'id', 'd': encode_domain(domain)},
        context={'company': a.company, **context},
        headers={'Range': 'records=0-'})
    out = rest_outcome(response)
    if not out.ok:
        return out, None, None
    ids = {row['id'] for row in out.value}
    count = response.headers.get('Content-Range', '').rsplit('/', 1)[-1]
    if not ids and count == '*':
        # Tryton answers "unknown" for an empty open range (rest.py)
        count = '0'
    return out, ids, int(count) if count.isdigit() else count


@pytest.mark.parametrize('model,protocol', cases(SEARCH))
def test_search(world, model, protocol):
    """A lists only records of X (and shared platform records); the count
    is that of the list; searching Y's ids by id finds nothing"""
    own, shared, foreign = world.split(model, world.x)
    out, ids, count = _list(world, model, protocol)
    if not out.ok:
        # No access to the model at all: nothing is listed
        assert out.access_refused, out
        return
    leaked = ids & foreign
    assert not leaked, (f"{model} via {protocol}: A (business {world.x}) "
        f"lists {len(leaked)} records of other businesses: "
        f"{sorted(leaked)[:20]}")
    assert count == len(ids), (count, len(ids))
    if foreign:
        out, found, count = _list(world, model, protocol,
            domain=[('id', 'in', sorted(foreign))])
        assert out.ok and found == set() and count == 0, (out, found, count)


@pytest.mark.parametrize('model,protocol', cases('own'))
def test_own_records_are_listed(world, model, protocol):
    """The suite is not vacuous: A lists every record of X (when A may
    read the model at all)"""
    own, shared, foreign = world.split(model, world.x)
    out, ids, count = _list(world, model, protocol)
    if not out.ok or not own:
        pytest.skip("A may not list the model" if not out.ok
            else "X has no record of the model")
    assert own <= ids, sorted(own - ids)[:20]


# Read ----------------------------------------------------------------------

def _sample(world, model):
    ids = world.of(model, world.y)[:READ_SAMPLE]
    if not ids:
        pytest.skip(f"Y has no record of {model}: nothing to attack")
    return ids


def _attempt(world, model, protocol, operation, id_, values=None):
    a = world.a
    if protocol == 'jsonrpc':
        if operation == 'read':
            return a.rpc(model, 'read', [id_], ['id', 'rec_name'])
        if operation == 'write':
            return a.rpc(model, 'write', [id_], values)
        if operation == 'delete':
            return a.rpc(model, 'delete', [id_])
    method = {'read': 'GET', 'write': 'PUT', 'delete': 'DELETE'}[operation]
    return rest_outcome(a.rest(method, f'model/{model}/{id_}',
            body=values if operation == 'write' else None,
            params={'f': 'rec_name'} if operation == 'read' else None))


# Refusals with a fixed message, whatever the record
GENERIC_REFUSALS = {
    ('res.user', DELETE): 'users cannot be deleted',
    }


def _refusal(world, out, model=None, operation=None):
    """None if out is a clean refusal, else what is wrong. Clean: refused
    by Tryton's access rights and rules (or not found), before any code of
    the model looked at the record, and naming nothing of Y"""
    if out.ok:
        return 'accepted'
    text = json.dumps(out.error, ensure_ascii=False)
    if world.label[world.y] in text:
        return f'refused, but the error shows data of Y: {text[:400]}'
    generic = GENERIC_REFUSALS.get((model, operation))
    if generic and generic in text:
        return None
    if not (out.access_refused or out.status == 404):
        return ('refused by the model\'s own checks, which read the record '
            f'of Y first: {text[:400]}')
    return None


@pytest.mark.parametrize('model,protocol', cases(READ))
def test_read(world, model, protocol):
    "Reading records of Y by id is refused and answers no data"
    problems = {}
    for id_ in _sample(world, model):
        out = _attempt(world, model, protocol, READ, id_)
        if problem := _refusal(world, out):
            problems[id_] = out.value if out.ok else problem
    assert not problems, (f"{model} via {protocol}: A reads records of "
        f"business {world.y}: {problems}")


# Write and delete ------------------------------------------------------------

def _values(world, model):
    field = CATALOGUE.text_field(model)
    return {field: f'ISO-ATTACK-{world.tag}'} if field else {}


@pytest.mark.parametrize('model,protocol', cases(WRITE))
def test_write(world, model, protocol):
    "Writing records of Y is refused and changes nothing"
    ids = _sample(world, model)
    values = _values(world, model)
    before = world.truth.rows(model, ids)
    problems = {}
    for id_ in ids:
        out = _attempt(world, model, protocol, WRITE, id_, values)
        if problem := _refusal(world, out, model, WRITE):
            problems[id_] = problem
        if out.ok:
            world.changed_by_bugs.add((model, id_))
    after = world.truth.rows(model, ids)
    assert not problems, (f"{model} via {protocol}: A writes {values} on "
        f"records of business {world.y}: {problems}")
    assert after == before


@pytest.mark.parametrize('model,protocol', cases(DELETE))
def test_delete(world, model, protocol):
    "Deleting records of Y is refused and they stay as they were"
    ids = _sample(world, model)
    before = world.truth.rows(model, ids)
    problems = {}
    for id_ in ids:
        out = _attempt(world, model, protocol, DELETE, id_)
        if problem := _refusal(world, out, model, DELETE):
            problems[id_] = problem
        if out.ok:
            world.changed_by_bugs.add((model, id_))
    after = world.truth.rows(model, ids)
    assert after == before, (f"{model} via {protocol}: A deleted or "
        f"changed records of business {world.y}: "
        f"{sorted(set(before) - set(after))}")
    assert not problems, (f"{model} via {protocol}: deleting records of "
        f"business {world.y}: {problems}")


# Links to another business -----------------------------------------------------

def _link_cases():
    models = [m for m in MODELS if CATALOGUE.references(m)]
    return cases('link', models)


@pytest.mark.parametrize('model,protocol', _link_cases())
def test_link_to_other_business(world, model, protocol):
    """A record of X cannot be made to point at a record of Y (nor be moved
    into Y): for every stored Many2One to a business record, writing Y's
    record is refused and the row is unchanged"""
    own = world.of(model, world.x)
    if not own:
        pytest.skip(f"X has no record of {model}")
    id_ = max(own)
    truth = world.truth
    table = CATALOGUE.table(model)
    linked, named, tried = [], [], 0
    for field, relation in sorted(CATALOGUE.references(model).items()):
        targets = ([world.y] if relation == 'company.company'
            else world.of(relation, world.y))
        if not targets:
            continue
        target = targets[0]
        (original,), = truth.query(
            f'SELECT "{field}" FROM "{table}" WHERE id = %s', (id_,))
        if original == target:
            continue
        tried += 1
        before = truth.rows(model, [id_])
        out = _write(world, model, id_, {field: target}, protocol)
        if out.ok:
            linked.append(f'{field} -> {relation},{target}')
            # Put it back, so that later tests see X as it was
            assert _write(world, model, id_, {field: original}, protocol).ok
        else:
            assert truth.rows(model, [id_]) == before, field
            text = json.dumps(out.error, ensure_ascii=False)
            if world.label[world.y] in text:
                named.append(f'{field} -> {relation},{target}: {text[:300]}')
    if not tried:
        pytest.skip("Y has no record to point at")
    assert not linked, (f"{model},{id_} of business {world.x} via "
        f"{protocol} accepted links to business {world.y}: {linked}")
    assert not named, (f"{model},{id_}: refusing links to business "
        f"{world.y}, the errors name its records: {named}")


def _write(world, model, id_, values, protocol):
    if protocol == 'jsonrpc':
        return world.a.rpc(model, 'write', [id_], values)
    return rest_outcome(world.a.rest('PUT', f'model/{model}/{id_}',
            body=values))


# Masters Tryton shares ---------------------------------------------------------

# Models Tryton shares between companies, which Y's owner fills in everyday
# flows (Monitorbizz gives them a business): (model, seeded key)
UNOWNED_MASTERS = [('product.category', 'account_category'),
    ('production.routing.operation', 'operation')]


@pytest.mark.parametrize('model,key,operation,protocol', [
        pytest.param(m, k, op, p, id=f'{m}-{op}-{p}')
        for m, k in UNOWNED_MASTERS for op in [READ, WRITE]
        for p in PROTOCOLS])
def test_unowned_master(world, model, key, operation, protocol):
    "What Y created in its flows is neither read nor changed by A"
    id_ = world.ids[world.y][key]
    table = model.replace('.', '_')
    before = world.truth.query(f'SELECT * FROM "{table}" WHERE id = %s',
        (id_,))
    out = _attempt(world, model, protocol, operation, id_,
        {'name': f'ISO-ATTACK-{world.tag}'})
    assert world.truth.query(f'SELECT * FROM "{table}" WHERE id = %s',
        (id_,)) == before
    assert not out.ok, out


# Reports (models with a company and no table) ------------------------------

REPORT_PROTOCOLS = ['jsonrpc', 'rest', 'jsonrpc-context-y']


def _report_cases():
    return list(__report_cases())


def __report_cases():
    for model in sorted(CATALOGUE.listed):
        for protocol in REPORT_PROTOCOLS:
            yield pytest.param(model, protocol, id=f'{model}-{protocol}')


@pytest.mark.parametrize('model,protocol', _report_cases())
def test_report_rows(world, model, protocol):
    """Every row of a report A reads is of business X, also when A asks
    for business Y and its warehouse in the context (jsonrpc-context-y)"""
    kind = world.listed_kinds()[model]
    a = world.a
    if protocol == 'rest':
        # REST does not look at __rpc__: it is tried on every model
        out = rest_outcome(a.rest('GET', f'model/{model}',
                params={'f': 'company'},
                context=world.report_context(world.x)))
        if not out.ok and kind == 'form':
            # A ModelView has no records (search_read fails)
            return
    else:
        if kind != 'report':
            pytest.skip(f"{model} has no search in its RPC (a ModelView "
                "form or wizard): not stored, nothing to list")
        # The desk's context of the reports, of X, or of Y's warehouse
        context = (world.report_context(world.x)
            if protocol == 'jsonrpc' else {
                **world.report_context(world.y), 'companies': [world.y],
                'company_filter': 'all'})
        out = a.rpc(model, 'search_read', [], 0, None, None, ['company'],
            context=context)
    if not out.ok:
        assert out.access_refused or out.status == 400, out
        return
    companies = {row.get('company') for row in out.value}
    assert companies <= {world.x, None}, (f"{model} via {protocol}: rows "
        f"of businesses {sorted(companies - {world.x, None})}")


def test_reports_have_rows_of_y(world):
    "The report tests are not vacuous: Y's owner sees Y's figures"
    counts = {m: o.value if o.ok else o for m, o in world.y_report_rows.items()}
    assert all(isinstance(c, int) and c > 0 for c in counts.values()), counts


# The end ---------------------------------------------------------------------

def test_nothing_of_y_changed(world):
    """After all the attacks, every row of every business model of Y is as
    seeded, but those the known bugs changed (and their tests report)"""
    now = world.snapshot(world.y)
    changed = {}
    for model, rows in world.y_snapshot.items():
        ids = {i for i in set(rows) | set(now[model])
            if rows.get(i) != now[model].get(i)}
        ids -= {i for m, i in world.changed_by_bugs if m == model}
        if ids:
            changed[model] = sorted(ids)
    assert not changed, changed
