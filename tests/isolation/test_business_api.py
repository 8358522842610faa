"""The business itself from another business: its profile, members,
invitations and the switch into it, through the business module's own RPC
(JSON-RPC and REST actions) and the seed's /api/; the context tricks of
each protocol; the users the administrator creates.
"""
import copy
import importlib
import json

import pytest
import requests

from .conftest import rest_outcome
from .known import RPC_BUGS, marks


def business_state(world, company):
    """What must not change in a business attacked by others: its row and
    party, its members and invitations, its owner's current business"""
    q = world.truth.query
    return {
        'company': q('SELECT * FROM company_company WHERE id = %s',
            (company,)),
        'party': q('SELECT p.* FROM party_party p JOIN company_company c '
            'ON c.party = p.id WHERE c.id = %s', (company,)),
        'members': q('SELECT id, "user", role, company FROM res_user_role '
            'WHERE company = %s ORDER BY id', (company,)),
        'member_companies': q('SELECT "user", company FROM '
            '"res_user-company_company" WHERE company = %s ORDER BY id',
            (company,)),
        'invitations': q('SELECT id, email, role, state, token_hash FROM '
            'monitorbizz_business_invitation WHERE company = %s ORDER BY id',
            (company,)),
        'owner': q('SELECT company, employee FROM res_user WHERE id = %s',
            (world.b.user_id,)),
        }


def a_business(world):
    "The business A works in, as the server sees it"
    out = world.a.rpc('res.user', 'get_preferences', True)
    assert out.ok, out
    return out.value.get('company')


# The business module's RPC, through JSON-RPC and REST ---------------------

def _calls(world):
    "name: (model, method, JSON-RPC args, REST id, REST body)"
    y, b = world.y, world.b.user_id
    invitation = world.ids[y]['invitation']
    employee = world.ids[y].get('employee')
    return {
        'switch_business': ('res.user', 'switch_business', [y], None,
            {'company_id': y}),
        'update_profile': ('company.company', 'update_profile',
            [y, {'trade_name': 'Taken over'}], None,
            {'company_id': y, 'values': {'trade_name': 'Taken over'}}),
        'set_member_role': ('company.company', 'set_member_role',
            [y, b, 'operator'], None,
            {'company_id': y, 'user_id': b, 'role_code': 'operator'}),
        'remove_member': ('company.company', 'remove_member', [y, b], None,
            {'company_id': y, 'user_id': b}),
        'invite': ('monitorbizz.business.invitation', 'invite',
            [y, 'spy@example.in', 'owner'], None,
            {'company_id': y, 'email': 'spy@example.in',
                'role_code': 'owner'}),
        'revoke_invitation': ('monitorbizz.business.invitation', 'revoke',
            [[invitation]], invitation, {}),
        'set_preferences_company': ('res.user', 'set_preferences',
            [{'company': y}], None, {'values': {'company': y}}),
        'set_preferences_employee': ('res.user', 'set_preferences',
            [{'employee': employee}], None, {'values': {'employee': employee}}),
        }


CALLS = ['switch_business', 'update_profile', 'set_member_role',
    'remove_member', 'invite', 'revoke_invitation', 'set_preferences_company',
    'set_preferences_employee']


@pytest.mark.parametrize('name,protocol', [
        pytest.param(n, p, marks=marks(RPC_BUGS.get((n, p))), id=f'{n}-{p}')
        for n in CALLS for p in ['jsonrpc', 'rest']])
def test_business_rpc(world, name, protocol):
    """A cannot switch into Y, change its profile, its members, its
    invitations, nor make it A's business through the preferences"""
    model, method, args, id_, body = _calls(world)[name]
    before = business_state(world, world.y)
    if protocol == 'jsonrpc':
        out = world.a.rpc(model, method, *args)
    else:
        path = (f'model/{model}/{id_}/{method}' if id_
            else f'model/{model}/{method}')
        out = rest_outcome(world.a.rest('POST', path, body=body))
    after = business_state(world, world.y)
    current = a_business(world)
    assert current == world.x, f"A now works in business {current}"
    assert after == before
    if name.startswith('set_preferences'):
        # Tryton ignores preferences the user may not set: no error needed
        return
    assert not out.ok, out
    assert world.label[world.y] not in json.dumps(out.error)


def test_a_lists_only_its_business(world):
    "company.company as A: X only; and Y's profile fields are refused"
    out = world.a.rpc('company.company', 'search_read', [], 0, None, None,
        ['id'])
    assert out.ok and {r['id'] for r in out.value} == {world.x}, out
    out = world.a.rpc('company.company', 'read', [world.y],
        ['gstin', 'state', 'phone', 'email', 'members', 'owner'])
    assert not out.ok and out.access_refused, out


# Context tricks --------------------------------------------------------------

@pytest.mark.parametrize('operation', ['search', 'read', 'write'])
def test_rest_private_context_keys(world, operation):
    """X-Tryton-Context {'_companies': [Y]} does not open Y to A's REST
    key (tried on the seeded records of Y)"""
    context = {'company': world.x, '_companies': [world.y],
        'active_test': False}
    targets = {'party.party': 'customer', 'sale.sale': 'sale',
        'product.template': 'product_template', 'stock.lot': 'lot',
        'production.bom': 'bom', 'account.invoice': 'invoice'}
    leaks = []
    for model, key in targets.items():
        id_ = world.ids[world.y][key]
        before = world.truth.rows(model, [id_])
        if operation == 'search':
            response = world.a.rest('GET', f'model/{model}',
                params={'f': 'id'}, context=context)
            out = rest_outcome(response)
            ok = out.ok and id_ in {r['id'] for r in out.value}
        elif operation == 'read':
            out = rest_outcome(world.a.rest('GET', f'model/{model}/{id_}',
                    context=context))
            ok = out.ok
        else:
            name = world.catalogue.text_field(model)
            out = rest_outcome(world.a.rest('PUT', f'model/{model}/{id_}',
                    body={name: 'changed through _companies'},
                    context=context))
            ok = out.ok or world.truth.rows(model, [id_]) != before
            if ok:
                world.changed_by_bugs.add((model, id_))
        if ok:
            leaks.append(model)
    assert not leaks, f"{operation} of Y's records through REST: {leaks}"


def test_rest_private_groups_key(world):
    """X-Tryton-Context {'_groups': [...]} does not give A's REST key the
    groups it names (res.user.get_groups honours the key): A, an owner,
    cannot create a currency (platform reference data) nor list every
    user of the platform"""
    # Every group of the platform, Administration included
    groups = world.admin_call('res.group', 'search', [], 0, None, None)
    context = {'company': world.x, '_groups': groups}
    before = world.truth.query('SELECT count(*) FROM currency_currency')
    created = rest_outcome(world.a.rest('POST', 'model/currency.currency',
            body={'name': 'Planted', 'code': 'ZZP', 'symbol': 'Z'},
            context=context))
    users = rest_outcome(world.a.rest('GET', 'model/res.user',
            params={'f': 'login'}, context=context))
    assert not created.ok, created
    assert world.truth.query('SELECT count(*) FROM currency_currency') \
        == before
    logins = {u['login'] for u in users.value} if users.ok else set()
    assert 'admin' not in logins, logins


def test_jsonrpc_context_of_other_business(world):
    """JSON-RPC with Y in the context (company, companies, private keys)
    lists nothing of Y more than without"""
    context = {'company': world.y, 'companies': [world.y],
        'company_filter': 'all', '_companies': [world.y],
        'active_test': False}
    leaks = {}
    for model in sorted(world.catalogue.stored):
        own, shared, foreign = world.split(model, world.x)
        if not foreign:
            continue
        plain = world.a.rpc(model, 'search', [], 0, None, None,
            context={'active_test': False})
        out = world.a.rpc(model, 'search', [], 0, None, None,
            context=context)
        if out.ok:
            more = (set(out.value) - set(plain.value if plain.ok else []))
            if more & foreign:
                leaks[model] = sorted(more & foreign)[:10]
    assert not leaks, leaks


def _numbering(world, company):
    """The next number of each sequence of the business (PostgreSQL keeps
    it in a database sequence, which a rollback does not undo)"""
    q = world.truth.query
    result = {}
    for id_, internal in q('SELECT id, number_next_internal FROM '
            'ir_sequence WHERE company = %s ORDER BY id', (company,)):
        result[id_] = internal
        if world.truth.postgresql and q('SELECT to_regclass(%s)',
                (f'ir_sequence_{id_}',))[0][0]:
            result[id_] = q(f'SELECT last_value, is_called '
                f'FROM ir_sequence_{id_}')[0]
    return result


@pytest.mark.parametrize('protocol', ['jsonrpc', 'rest'])
def test_create_in_other_business_through_context(world, protocol):
    """Creating a customer with Y as the context's business is refused
    and leaves Y's numbering and records untouched"""
    q = world.truth.query

    def state():
        return _numbering(world, world.y), q(
            'SELECT count(*) FROM party_party WHERE company = %s', (world.y,))
    before = state()
    values = {'name': 'Planted through the context'}
    context = {'company': world.y, 'party_kind': 'customer'}
    if protocol == 'jsonrpc':
        out = world.a.rpc('party.party', 'create', [values], context=context)
    else:
        out = rest_outcome(world.a.rest('POST', 'model/party.party',
                body=values, context=context))
    assert not out.ok, out
    assert state() == before


def test_rest_cannot_join_other_business(world):
    "A adds itself to Y's businesses through REST and switches: refused"
    a = world.a
    q = world.truth.query
    own, = q('SELECT id FROM "res_user-company_company" '
        'WHERE "user" = %s AND company = %s', (a.user_id, world.x))[0]
    try:
        # Any committed change of these rows resets the cache of the
        # businesses each user is a member of (isolation.Rule), as a busy
        # platform does all the time; the next request computes A's anew,
        # after its row is inserted.
        a.rest('PUT', f'model/res.user-company.company/{own}', body={})
        out = rest_outcome(a.rest('POST', 'model/res.user-company.company',
                body={'user': a.user_id, 'company': world.y}))
        switched = a.rpc('res.user', 'switch_business', world.y)
        if switched.ok:
            a.relogin()
        parties = a.rpc('party.party', 'search', [('company', '=', world.y)],
            0, None, None)
        assert not (out.ok and switched.ok), (
            f"A joined business {world.y} and lists "
            f"{len(parties.value or [])} of its parties")

    finally:
        # Undo, so that the other tests see A in X only (not an assertion:
        # a failure here is not the known bug)
        back = a.rpc('res.user', 'switch_business', world.x,
            context={}, replace_context=True)
        for id_, in q('SELECT id FROM "res_user-company_company" '
                'WHERE "user" = %s AND company = %s', (a.user_id, world.y)):
            a.rest('DELETE', f'model/res.user-company.company/{id_}')
        a.relogin()
        if a.company != world.x:
            raise RuntimeError(f"A could not go back to X: {back}")


# Users created by the administrator ------------------------------------------

def test_user_created_by_admin_belongs_to_no_business(world):
    """A user created in the desk's user form (res.user.create with its
    defaults) belongs to no business until a membership says so"""
    login = f'iso-plain-{world.tag}@example.in'
    password = f'Plain-{world.tag}-pw-2026'
    user_id, = world.admin_call('res.user', 'create', [{
                'login': login, 'name': 'Plain User', 'password': password}])
    user, = world.admin_call('res.user', 'read', [user_id],
        ['company', 'companies'])
    try:
        plain = world.server.login(login, password)
        parties = world.server.rpc('model.party.party.search_read',
            [[], 0, None, None, ['company'], plain.context], plain.session)
        assert (user['company'], user['companies'], parties) == (
            None, [], [])
    finally:
        # Leave the demo business as it was for the other test files
        world.admin_call('res.user', 'write', [user_id], {
                'active': False, 'company': None, 'employee': None,
                'companies': [('remove', user['companies'])]})


# The seed's /api/ ------------------------------------------------------------

def _api_endpoints():
    "(method, path) of the /api/ operations, from the installed package"
    try:
        # Importing the package declares its endpoints
        importlib.import_module('monitorbizz_app.api')
        from monitorbizz_app.api.framework import ENDPOINTS
    except Exception as exc:  # the package does not import: say so
        return [('IMPORT', repr(exc))]
    return sorted((e.method, e.path) for e in ENDPOINTS
        if e.auth and '/docs' not in e.path and '/auth/' not in e.path)


API_ENDPOINTS = _api_endpoints()
# What a path parameter names, in the business under attack
API_TARGETS = {
    'businesses': lambda w: w.y,
    'members': lambda w: w.b.user_id,
    'invitations': lambda w: w.ids[w.y]['invitation'],
    'customers': lambda w: w.ids[w.y]['customer'],
    'vendors': lambda w: w.ids[w.y]['vendor'],
    'parties': lambda w: w.ids[w.y]['customer'],
    'products': lambda w: w.ids[w.y]['product_template'],
    'materials': lambda w: w.ids[w.y]['material_template'],
    'leads': lambda w: w.ids[w.y]['opportunity'],
    'opportunities': lambda w: w.ids[w.y]['opportunity'],
    'quotations': lambda w: w.ids[w.y]['sale'],
    'sales': lambda w: w.ids[w.y]['sale'],
    'sales-orders': lambda w: w.ids[w.y]['sale'],
    'sale-orders': lambda w: w.ids[w.y]['sale'],
    'orders': lambda w: w.ids[w.y]['sale'],
    'purchases': lambda w: w.ids[w.y]['purchase'],
    'purchase-orders': lambda w: w.ids[w.y]['purchase'],
    'work-orders': lambda w: w.ids[w.y]['production'],
    'productions': lambda w: w.ids[w.y]['production'],
    'operations': lambda w: w.ids[w.y]['manufacturing_work'],
    'machines': lambda w: w.ids[w.y]['work_center'],
    'work-centers': lambda w: w.ids[w.y]['work_center'],
    'boms': lambda w: w.ids[w.y]['bom'],
    'routings': lambda w: w.ids[w.y]['routing'],
    'batches': lambda w: w.ids[w.y]['lot'],
    'lots': lambda w: w.ids[w.y]['lot'],
    'locations': lambda w: w.ids[w.y]['storage'],
    'warehouses': lambda w: w.ids[w.y]['warehouse'],
    'invoices': lambda w: w.ids[w.y]['invoice'],
    # /api/finance/payments are Monitorbizz's payments (not Tryton's
    # account.payment)
    'payments': lambda w: w.ids[w.y]['finance_payment'],
    'expenses': lambda w: w.ids[w.y]['expense'],
    'employees': lambda w: w.ids[w.y].get('employee'),
    'moves': lambda w: w.ids[w.y]['move'],
    'stock-moves': lambda w: w.ids[w.y]['move'],
    'downtime': lambda w: w.ids[w.y].get('manufacturing_open_downtime'),
    }


def _api_path(world, path):
    """path with each <converter:param> replaced by the id, in Y, of the
    resource named by the segment before it; None if one is unknown"""
    segments = path.split('/')
    result = []
    for i, segment in enumerate(segments):
        if segment.startswith('<'):
            resource = segments[i - 1]
            if resource not in API_TARGETS:
                return None
            result.append(str(API_TARGETS[resource](world)))
        else:
            result.append(segment)
    return '/'.join(result)


def _example(schema, components, optional=False):
    "A small valid instance of a JSON schema (for request bodies)"
    while '$ref' in schema:
        schema = components[schema['$ref'].rsplit('/', 1)[-1]]
    if 'anyOf' in schema or 'oneOf' in schema:
        return _example((schema.get('anyOf') or schema['oneOf'])[0],
            components)
    if 'enum' in schema:
        return next(v for v in schema['enum'] if v is not None)
    kind = schema.get('type', 'object')
    if isinstance(kind, list):
        kind = next(k for k in kind if k != 'null')
    if kind == 'object':
        properties = schema.get('properties', {})
        names = schema.get('required') or list(properties)[:1]
        return {n: _example(properties[n], components) for n in names
            if n in properties}
    if kind == 'array':
        return [_example(schema.get('items', {}), components)
            for _ in range(schema.get('minItems', 0))]
    if kind == 'integer':
        return schema.get('minimum', 1)
    if kind == 'number':
        return 1
    if kind == 'boolean':
        return False
    if schema.get('format') == 'email':
        return 'spy@example.in'
    if schema.get('format') == 'date-time':
        return '2026-01-05T10:00:00'
    if schema.get('format') == 'date':
        return '2026-01-05'
    if schema.get('pattern') == '^[A-Z]{3}$':
        return 'INR'
    return 'IN-KA' if 'state' in json.dumps(schema).lower() else 'Taken over'


@pytest.fixture(scope='module')
def openapi(world):
    response = requests.get(world.server.url + 'api/openapi.json',
        timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _operation(openapi, method, path):
    template = path.replace('<int:', '{').replace('<path:', '{').replace(
        '<', '{').replace('>', '}')
    if template not in openapi['paths']:
        pytest.fail(f"{template} is not in the server's OpenAPI document")
    return openapi['paths'][template][method.lower()]


def _body(openapi, operation):
    content = operation.get('requestBody', {}).get('content', {})
    if not content:
        return None
    media, = content.values()
    return _example(copy.deepcopy(media['schema']),
        openapi['components']['schemas'])


def test_api_me_lists_only_own_business(world):
    "/api/auth/me of A: X at most, never Y, nothing of Y in the answer"
    response = world.a.api('GET', '/api/auth/me')
    assert response.status_code == 200, response.text
    me = response.json()
    assert {b['id'] for b in me['businesses']} <= {world.x}
    assert me['current_business'] in (None, *me['businesses'])
    assert world.label[world.y] not in response.text
    assert world.b.login not in response.text


@pytest.mark.parametrize('method,path', [
        pytest.param(m, p, id=f'{m} {p}') for m, p in API_ENDPOINTS])
def test_api_endpoint(world, openapi, method, path):
    """Every authenticated /api/ operation, called by A: a list shows
    nothing of Y; an operation on a record of Y (its id in the path)
    answers 403 or 404, shows nothing of Y and changes nothing of Y"""
    assert method != 'IMPORT', f"monitorbizz_app.api does not import: {path}"
    operation = _operation(openapi, method, path)
    before = business_state(world, world.y)
    if '<' in path:
        target = _api_path(world, path)
        if target is None:
            pytest.skip(f"no record of Y is known for {path}: add its "
                "resource to API_TARGETS")
        response = world.a.api(method, target,
            json=_body(openapi, operation))
        assert response.status_code in {403, 404}, (
            f"{method} {target}: {response.status_code} {response.text}")
    elif method == 'GET':
        response = world.a.api(method, path)
        assert response.status_code == 200, response.text
        body = response.json()
        if isinstance(body, dict) and 'items' in body:
            # A page: the total counts what the caller may see only
            assert body['total'] == len(body['items']) or (
                len(body['items']) == body['limit']), body
        if path == '/api/businesses':
            assert {i['id'] for i in body['items']} == {world.x}, body
            assert body['total'] == 1, body
    else:
        pytest.skip(f"{method} {path} names no record of another business")
    assert world.label[world.y] not in response.text, response.text
    assert world.b.login not in response.text, response.text
    assert business_state(world, world.y) == before
    assert a_business(world) == world.x
