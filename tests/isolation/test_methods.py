"""Tenant isolation, method by method: every published method that returns
or changes data, attacked for every business model (catalogue.py) over
JSON-RPC and Tryton REST. test_isolation.py covers search, read, write and
delete; this file the others:

- Tryton's generic data methods (GENERIC, checked against the __rpc__
  Tryton gives every model: a new generic method fails
  test_generic_methods_are_attacked until it is attacked here);
- read of dotted related fields ('party.name' from a line);
- the buttons (ir.model.button), reports (ir.action.report) and wizards
  (ir.action.wizard) of each model, found on the live server.

A new model, button, report or wizard is attacked without editing this
file. Probes are batched (one request for many of Y's ids) where the
method answers for all the records or for none; a single-record request
follows so that a check of the first record only would not pass.
"""
import base64
import json

import pytest
import requests

from .conftest import CATALOGUE, READ_SAMPLE, encode_domain, rest_outcome
from .conftest import Outcome
from .known import METHOD_BUGS, method_marks

PROTOCOLS = ['jsonrpc', 'rest']
MODELS = sorted(CATALOGUE.stored) + sorted(CATALOGUE.dependents)

# Tryton's generic methods of a ModelSQL/ModelView (__rpc__ of
# trytond/model/{model,modelview,modelstorage,modelsql}.py): those that
# return or change records are attacked; the others answer no record data.
GENERIC = ['read_dotted', 'search_read', 'search_count', 'export_data',
    'export_data_domain', 'import_data', 'copy', 'resources',
    'history_revisions']
# Attacked in test_isolation.py
ATTACKED_ELSEWHERE = {'read', 'search', 'write', 'delete', 'create'}
# Describe the model, not its records
NO_RECORD_DATA = {'fields_get', 'default_get', 'fields_view_get',
    'view_toolbar_get', 'autocomplete', 'on_scan_code'}
# Compute from the values sent: attacked by test_on_change_with_y_record
# (the methods' records are made as for on_change_with)
ON_CHANGE = {'pre_validate', 'on_change', 'on_change_with',
    'on_change_notify'}


def cases(kinds):
    return [pytest.param(model, kind, protocol,
            marks=method_marks(model, kind, protocol),
            id=f'{model}-{kind}-{protocol}')
        for model in MODELS for kind in kinds for protocol in PROTOCOLS
        if kind != 'history_revisions' or _history(model)]


def _history(model):
    "history_revisions answers for the models that keep a history"
    return f'{CATALOGUE.table(model)}__history' in CATALOGUE.columns


def test_generic_methods_are_attacked():
    """Every method Tryton publishes on every model is attacked here or in
    test_isolation.py, or answers no record data"""
    from trytond.model import ModelSQL, ModelView

    class Probe(ModelSQL, ModelView):
        __name__ = 'monitorbizz.isolation.probe'
    Probe.__setup__()
    published = set(Probe.__rpc__)
    known = (set(GENERIC) | ATTACKED_ELSEWHERE | NO_RECORD_DATA
        | ON_CHANGE) - {
        'read_dotted'}
    assert published <= known, sorted(published - known)


# Calls -----------------------------------------------------------------------

def rpc(actor, method, *args, context=None):
    """JSON-RPC call of any published method (model.*, report.*,
    wizard.*) as actor; never raises"""
    server = actor.world.server
    login, user_id, key = actor.session.session
    token = base64.b64encode(f'{login}:{user_id}:{key}'.encode()).decode()
    response = requests.post(f'{server.url}{server.database}/rpc/',
        json={'id': 1, 'method': method,
            'params': [*args, {**actor.context, **(context or {})}]},
        headers={'Authorization': f'Session {token}'}, timeout=60)
    if response.status_code != 200:
        return Outcome(False, error=response.text[:500],
            status=response.status_code)
    body = response.json()
    if body.get('error') is not None:
        return Outcome(False, error=body['error'])
    return Outcome(True, body['result'])


def rest_post(actor, model, method, body, id_=None):
    path = (f'model/{model}/{id_}/{method}' if id_ is not None
        else f'model/{model}/{method}')
    return rest_outcome(actor.rest('POST', path, body=body))


class Attack:
    "The records of Y a case attacks and what must hold"

    def __init__(self, world, model, protocol):
        self.world = world
        self.model = model
        self.protocol = protocol
        self.a = world.a
        self.ids = world.of(model, world.y)[:READ_SAMPLE]
        if not self.ids:
            pytest.skip(f"Y has no record of {model}: nothing to attack")
        self.problems = []

    @property
    def label(self):
        return self.world.label[self.world.y]

    def refused(self, what, out):
        "out must be a refusal naming nothing of Y"
        text = json.dumps(out.value if out.ok else out.error,
            ensure_ascii=False, default=str)
        if out.ok:
            self.problems.append(f'{what}: accepted: {text[:300]}')
        elif self.label in text:
            self.problems.append(f'{what}: the refusal shows data of Y: '
                f'{text[:300]}')
        elif not (out.access_refused or out.status in {403, 404}):
            self.problems.append(f'{what}: not refused by the access '
                f'checks: {text[:300]}')

    def empty(self, what, out, value=None):
        "out must answer nothing (value: the empty answer) or be refused"
        if out.ok and out.value == value:
            return
        if out.ok or not out.access_refused:
            self.problems.append(f'{what}: {out!r}')

    def foreign_ids(self):
        return self.world.split(self.model, self.world.x)[2]

    def check(self):
        assert not self.problems, (f"{self.model} via {self.protocol} "
            f"(A of business {self.world.x} on business {self.world.y}): "
            + '\n'.join(self.problems))


def _relations(model):
    "Stored Many2One fields of model to business records"
    return sorted(CATALOGUE.references(model))


def _texts(model):
    table = CATALOGUE.table(model)
    return sorted(n for n in CATALOGUE.data['texts'].get(model, [])
        if n in CATALOGUE.columns.get(table, ()))


def _export_fields(model):
    return (['id', 'rec_name'] + _texts(model)
        + [f'{f}/rec_name' for f in _relations(model)])


def _dotted_fields(model):
    return ['id', 'rec_name'] + [f'{f}.rec_name' for f in _relations(model)]


# Generic methods ---------------------------------------------------------------

def attack_read_dotted(attack):
    "Related fields of Y's records ('party.rec_name') are refused"
    model, a, ids = attack.model, attack.a, attack.ids
    names = _dotted_fields(model)
    if attack.protocol == 'jsonrpc':
        attack.refused('read', rpc(a, f'model.{model}.read', ids, names))
        attack.refused('read 1', rpc(a, f'model.{model}.read', ids[-1:],
                names))
    else:
        for id_ in ids:
            attack.refused(f'GET {id_}', rest_outcome(a.rest('GET',
                        f'model/{model}/{id_}', params={'f': names})))


def attack_search_read(attack):
    """Searching Y's ids answers nothing; A's own rows, read with dotted
    fields, show no record of another business"""
    model, a, ids = attack.model, attack.a, attack.ids
    names = _dotted_fields(model)
    domain = [('id', 'in', ids)]
    context = {'active_test': False}
    if attack.protocol == 'jsonrpc':
        out = rpc(a, f'model.{model}.search_read', domain, 0, None, None,
            names, context=context)
        attack.empty('search_read of Y ids', out, [])
        listed = rpc(a, f'model.{model}.search_read', [], 0, None, None,
            names, context=context)
    else:
        out = rest_outcome(a.rest('GET', f'model/{model}', params={
                    'f': names, 'd': encode_domain(domain)},
                context={'company': a.company, **context}))
        attack.empty('GET ?d=Y ids', out, [])
        out = rest_post(a, model, 'search_read', {'domain': domain,
                'fields_names': names})
        attack.empty('POST search_read', out, [])
        listed = rest_outcome(a.rest('GET', f'model/{model}',
                params={'f': names},
                context={'company': a.company, **context}))
    if listed.ok:
        _check_rows(attack, listed.value)


def _check_rows(attack, rows):
    "No row nor related record of the rows belongs to another business"
    world, model = attack.world, attack.model
    foreign = attack.foreign_ids()
    leaked = {r['id'] for r in rows} & foreign
    if leaked:
        attack.problems.append(f'listed rows of Y: {sorted(leaked)[:10]}')
    for field, relation in CATALOGUE.references(model).items():
        # REST answers related records as {'id': ..., 'rec_name': ...}
        values = {v['id'] if isinstance(v, dict) else v
            for v in (r.get(field) for r in rows)}
        if relation == 'company.company':
            others = values - {world.x, None}
        else:
            targets = values - {None}
            others = targets & world.split(relation, world.x)[2]
        if others:
            attack.problems.append(f'{field} of listed rows points at '
                f'{relation} of other businesses: {sorted(others)[:10]}')
    if attack.label in json.dumps(rows, default=str):
        attack.problems.append('listed rows show data of Y')


def attack_search_count(attack):
    model, a, ids = attack.model, attack.a, attack.ids
    domain = [('id', 'in', ids)]
    if attack.protocol == 'jsonrpc':
        out = rpc(a, f'model.{model}.search_count', domain,
            context={'active_test': False})
    else:
        out = rest_post(a, model, 'search_count', {'domain': domain})
    attack.empty('search_count of Y ids', out, 0)


def attack_export_data(attack):
    """Y's records are not exported: their own fields only (no path
    through a related record whose rule would refuse), and with paths"""
    model, a, ids = attack.model, attack.a, attack.ids
    own = ['id'] + _texts(model)
    for names in [own, _export_fields(model)]:
        if attack.protocol == 'jsonrpc':
            attack.refused(f'export_data {names}', rpc(a,
                    f'model.{model}.export_data', ids, names, False))
            attack.refused(f'export_data 1 {names}', rpc(a,
                    f'model.{model}.export_data', ids[-1:], names, False))
        else:
            for id_ in ids:
                attack.refused(f'POST {id_}/export_data {names}', rest_post(
                        a, model, 'export_data', {'fields_names': names},
                        id_))
            attack.refused(f'POST export_data records {names}', rest_post(
                    a, model, 'export_data',
                    {'records': ids, 'fields_names': names}))


def attack_export_data_domain(attack):
    model, a, ids = attack.model, attack.a, attack.ids
    names = _export_fields(model)
    domain = [('id', 'in', ids)]
    if attack.protocol == 'jsonrpc':
        out = rpc(a, f'model.{model}.export_data_domain', domain, names,
            context={'active_test': False})
    else:
        out = rest_post(a, model, 'export_data_domain',
            {'domain': domain, 'fields_names': names})
    attack.empty('export_data_domain of Y ids', out, [])


def attack_copy(attack):
    "Copying Y's records is refused and creates nothing"
    model, a, ids = attack.model, attack.a, attack.ids
    table = CATALOGUE.table(model)
    (before,), = attack.world.truth.query(f'SELECT max(id) FROM "{table}"')
    if attack.protocol == 'jsonrpc':
        attack.refused('copy', rpc(a, f'model.{model}.copy', ids, {}))
        attack.refused('copy 1', rpc(a, f'model.{model}.copy', ids[-1:],
                {}))
    else:
        for id_ in ids:
            attack.refused(f'POST {id_}/copy', rest_post(a, model, 'copy',
                    {}, id_))
        attack.refused('POST copy records', rest_post(a, model, 'copy',
                {'records': ids}))
    (after,), = attack.world.truth.query(f'SELECT max(id) FROM "{table}"')
    if after != before:
        attack.problems.append(f'copies made: ids {before} -> {after}')


def attack_resources(attack):
    "Attachments and notes of Y's records are not counted for A"
    model, a, ids = attack.model, attack.a, attack.ids
    if attack.protocol == 'jsonrpc':
        attack.refused('resources', rpc(a, f'model.{model}.resources', ids))
        attack.refused('resources 1', rpc(a, f'model.{model}.resources',
                ids[-1:]))
    else:
        for id_ in ids:
            attack.refused(f'POST {id_}/resources', rest_post(a, model,
                    'resources', {}, id_))


def attack_import_data(attack):
    "Importing rows with Y's ids changes nothing of Y"
    model, a, ids = attack.model, attack.a, attack.ids
    texts = [t for t in _texts(model) if t not in {'rec_name'}]
    if not texts:
        pytest.skip(f"{model} has no text field to import")
    names = ['id', texts[0]]
    data = [[str(i), f'ISO-ATTACK-{attack.world.tag}'] for i in ids]
    before = attack.world.truth.rows(model, ids)
    if attack.protocol == 'jsonrpc':
        out = rpc(a, f'model.{model}.import_data', names, data)
    else:
        out = rest_post(a, model, 'import_data',
            {'fields_names': names, 'data': data})
    if out.ok:
        attack.world.changed_by_bugs.update((model, i) for i in ids)
    attack.refused('import_data', out)
    if attack.world.truth.rows(model, ids) != before:
        attack.problems.append('import_data changed records of Y')


def attack_history_revisions(attack):
    model, a, ids = attack.model, attack.a, attack.ids
    if attack.protocol == 'jsonrpc':
        out = rpc(a, f'model.{model}.history_revisions', ids)
    else:
        out = rest_post(a, model, 'history_revisions', {'ids': ids})
    attack.empty('history_revisions of Y ids', out, [])


@pytest.mark.parametrize('model,method,protocol', cases(GENERIC))
def test_generic_method(world, model, method, protocol):
    attack = Attack(world, model, protocol)
    globals()[f'attack_{method}'](attack)
    attack.check()


@pytest.mark.parametrize('protocol', PROTOCOLS)
def test_on_change_with_y_record(world, protocol):
    """on_change methods make records of the values sent: a line pointing
    at Y's product, or a record with the id of one of Y's, is refused
    (else the product's name and price, or the record's fields not sent,
    come back)"""
    y = world.ids[world.y]
    a = world.a
    calls = [('sale.line', 'on_change_product', {'product': y['product'],
                'quantity': 1}),
        ('sale.sale', 'on_change_party', {'id': y['sale']}),
        ]
    attack = Attack.__new__(Attack)
    attack.world, attack.problems = world, []
    for model, method, values in calls:
        if protocol == 'jsonrpc':
            out = rpc(a, f'model.{model}.on_change', values, [method[10:]])
        else:
            out = rest_post(a, model, 'on_change',
                {'values': values, 'fieldnames': [method[10:]]})
        attack.refused(f'{model}.{method}', out)
    attack.model, attack.protocol = 'on_change', protocol
    attack.check()


# Buttons, reports and wizards of the models ------------------------------------

def _discovered():
    """{model: {'button': [...], 'report': [...], 'wizard': [...]}} of the
    demo database (read with the catalogue)"""
    return CATALOGUE.data.get('actions', {})


def _action_cases():
    for model in MODELS:
        for kind, names in sorted(_discovered().get(model, {}).items()):
            for name in names:
                protocols = PROTOCOLS if kind != 'wizard' else ['jsonrpc']
                for protocol in protocols:
                    yield pytest.param(model, kind, name, protocol,
                        marks=method_marks(model, f'{kind}:{name}', protocol),
                        id=f'{model}-{kind}:{name}-{protocol}')


def test_actions_are_discovered():
    "The catalogue found the buttons, reports and wizards of the models"
    actions = _discovered()
    assert actions.get('sale.sale', {}).get('button'), actions.get(
        'sale.sale')
    assert actions.get('sale.sale', {}).get('report')
    assert any(a.get('wizard') for a in actions.values())


@pytest.mark.parametrize('model,kind,name,protocol', list(_action_cases()))
def test_action(world, model, kind, name, protocol):
    """A button, report or wizard on Y's records is refused, answers
    nothing of Y and changes nothing"""
    attack = Attack(world, model, protocol)
    a, ids = attack.a, attack.ids
    truth = world.truth
    before = truth.rows(model, ids)
    if kind == 'button':
        if protocol == 'jsonrpc':
            attack.refused(name, rpc(a, f'model.{model}.{name}', ids))
            attack.refused(f'{name} 1', rpc(a, f'model.{model}.{name}',
                    ids[-1:]))
        else:
            for id_ in ids:
                attack.refused(f'POST {id_}/{name}',
                    rest_post(a, model, name, {}, id_))
    elif kind == 'report':
        if protocol == 'jsonrpc':
            for sample in [ids, ids[-1:]]:
                attack.refused(f'report {sample}', rpc(a,
                        f'report.{name}.execute', sample,
                        {'model': model, 'id': sample[0], 'ids': sample}))
        else:
            for id_ in ids:
                attack.refused(f'GET report {id_}', rest_outcome(a.rest(
                            'GET', f'report/{name}/{id_}')))
    else:
        context = {'active_model': model, 'active_id': ids[-1],
            'active_ids': ids}
        out = rpc(a, f'wizard.{name}.create', context=context)
        if out.ok:
            # The session is A's: its first state on Y's records
            session, start, _ = out.value
            out = rpc(a, f'wizard.{name}.execute', session, {}, start,
                context=context)
        attack.refused(f'wizard {name}', out)
    after = truth.rows(model, ids)
    if after != before:
        world.changed_by_bugs.update((model, i) for i in ids)
        attack.problems.append(f'{kind} {name} changed records of Y')
    attack.check()


def test_known_method_bugs_are_cases():
    "Every known leak of known.py names a case of this file"
    ids = {(m, k, p) for m in MODELS for k in GENERIC for p in PROTOCOLS}
    ids |= {(p.values[0], f'{p.values[1]}:{p.values[2]}', p.values[3])
        for p in _action_cases()}
    stale = [key for key in METHOD_BUGS if key not in ids]
    assert not stale, stale
