"""The permission matrix of the Monitorbizz API against the desk's buttons.

For every action of the API (POST .../{id}/<action>) and every business
role, the answer of the action through /api and the answer of the same
button through JSON-RPC (what the desk calls) agree: both refuse the role
(403 with the message of the error JSON-RPC answers), or both let it
through (whatever the record's state then says). A JSON-RPC refusal by
access rights or button groups answered otherwise than 403 is a
disagreement.

The actions and their buttons are read from the OpenAPI document (each
action states its button as x-tryton-button) and the roles from the
invitation's schema, so a new action is in the matrix without editing this
test; an action without a button fails it. Each kind of record acted on
needs a factory below (a new kind fails the test until it has one)."""
import base64
import glob
import os
import re
import uuid
import xml.etree.ElementTree as ET

import pytest

import trytond

from conftest import RPCError

from .test_crm_api import LINES, Shop
from .test_manufacturing_work_orders import Workshop

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
# POST /api/.../{id}/<action>, or an action on a record of a record
# (/work-orders/{id}/operations/{operation_id}/start)
ACTION = re.compile(r'^/api/(?P<collection>.+?)/\{id\}(?:/.*)?/[a-z-]+$')
# POST .../{id}/<word> operations that are not a button of a record: they
# create a record of their own or change the caller's preferences
NOT_ACTIONS = {
    '/api/businesses/{id}/switch': "the caller's current business (a "
    "preference of the user, no button)",
    '/api/businesses/{id}/invitations': "creates an invitation",
    '/api/inventory/products/{id}/images': "uploads an image",
    '/api/manufacturing/machines/{id}/downtime': "records a downtime",
    '/api/inventory/purchase-orders/{id}/bill': "creates the vendor bill "
    "(an invoice of its own; no button of the order)",
    }
# Actions not yet declared as the button they are: none since issue 20 (a
# new action without its button fails the test).
NOT_YET_BUTTONS = set()


def _access_patterns():
    """The messages of a refusal by access rights: Tryton's, and those of
    the project's AccessError raised with a message of a module"""
    patterns = [r'You are not allowed to ', r'Calling button ']
    ids = set()
    for path in glob.glob(os.path.join(ROOT, 'monitorbizz_app', '*',
                '*.py')):
        with open(path) as fp:
            ids.update(re.findall(
                    r"AccessError\(\s*gettext\(\s*'(\w+\.msg_\w+)'",
                    fp.read()))
    texts = {}
    for path in glob.glob(os.path.join(ROOT, 'monitorbizz_app', '*',
                'message.xml')) + [os.path.join(
                os.path.dirname(trytond.__file__), 'ir', 'message.xml')]:
        module = os.path.basename(os.path.dirname(path))
        if module != 'ir':
            module = 'monitorbizz_' + module
        for record in ET.parse(path).getroot().iter('record'):
            field = record.find("field[@name='text']")
            if field is not None:
                texts[f"{module}.{record.get('id')}"] = field.text or ''
    for id_ in ids:
        text = texts.get(id_)
        assert text is not None, f"No text for the message {id_}"
        parts = re.split(r'%\(\w+\)s', text)
        patterns.append('.*'.join(re.escape(p) for p in parts))
    return [re.compile(p, re.S) for p in patterns]


ACCESS = _access_patterns()


def refused_by_access(message):
    return any(p.match(message) for p in ACCESS)


def example(schema, components):
    "A valid value of schema (its required properties only)"
    if '$ref' in schema:
        schema = components[schema['$ref'].rsplit('/', 1)[-1]]
    for key in ['anyOf', 'oneOf']:
        if key in schema:
            return example(schema[key][0], components)
    if 'enum' in schema:
        return next(v for v in schema['enum'] if v is not None)
    types = schema.get('type', 'object')
    types = [types] if isinstance(types, str) else types
    kind = next(t for t in types if t != 'null')
    if kind == 'object':
        return {name: example(schema['properties'][name], components)
            for name in schema.get('required', [])}
    if kind == 'array':
        return [example(schema['items'], components)
            for _ in range(max(schema.get('minItems', 0), 1))]
    if kind == 'integer':
        return max(schema.get('minimum', 1), 1)
    if kind == 'number':
        return 1
    if kind == 'boolean':
        return False
    if schema.get('format') == 'date':
        return '2026-01-15'
    if schema.get('format') == 'decimal':
        return '1'
    return 'x' * max(schema.get('minLength', 1), 1)


# Factories: the records of a collection, made by the owner through the API
# ({path parameter: id})

def _customer(shop):
    return shop.customer()['id']


def lead(shop):
    return {'id': shop.post('/api/crm/leads', {
                'company_name': f"Lead {uuid.uuid4().hex[:6]}",
                'email': f'lead-{uuid.uuid4().hex[:8]}@example.com'})['id']}


def quotation(shop):
    return {'id': shop.post('/api/crm/quotations', {
                'customer_id': _customer(shop), 'lines': LINES})['id']}


def order(shop):
    return {'id': shop.post('/api/sales/orders', {
                'customer_id': _customer(shop), 'lines': LINES})['id']}


def purchase_order(shop):
    item = shop.post('/api/inventory/materials', {
            'name': f"MS Sheet {uuid.uuid4().hex[:6]}", 'unit': 'kg',
            'cost_price': 60})
    vendor = shop.post('/api/inventory/vendors', {
            'name': f"Vendor {uuid.uuid4().hex[:6]}"})
    return {'id': shop.post('/api/inventory/purchase-orders', {
                'vendor_id': vendor['id'], 'lines': [{
                        'item_id': item['id'], 'quantity': 10}]})['id']}


# 8 h of machining at 850, 12 % GST
SERVICE = [{'description': "CNC machining (hours)", 'quantity': 8,
        'unit_price': 850, 'tax_rate': 12, 'hsn_sac': '998873'}]


def invoice(shop):
    return {'id': shop.post('/api/finance/invoices', {
                'customer_id': _customer(shop), 'lines': SERVICE})['id']}


def payment(shop):
    "A cheque received for a sent invoice (so that it clears or bounces)"
    invoice_id = invoice(shop)['id']
    shop.post(f'/api/finance/invoices/{invoice_id}/send', status=200)
    return {'id': shop.post(
            f'/api/finance/invoices/{invoice_id}/record-payment', {
                'amount': 100, 'payment_method': 'cheque'})['payment']['id']}


class _Owner:
    """The owner of the shop as the manufacturing tests' Workshop uses it:
    through the API and JSON-RPC"""

    def __init__(self, shop):
        self.shop = shop
        self.session, self.context = rpc_session(shop.server, shop.token)

    def post(self, path, json=None, token=None, expect=201):
        return self.shop.post(path, json, token=token, status=expect)

    def rpc(self, model, method, *args):
        return self.shop.server.rpc(f'model.{model}.{method}',
            [*args, self.context], self.session)


def _workshop(shop):
    "The shop's workshop (machines, materials, a product with its BOM)"
    if getattr(shop, 'workshop', None) is None:
        shop.workshop = Workshop(_Owner(shop))
    return shop.workshop


def work_order(shop):
    "A work order in progress and its first operation"
    w = _workshop(shop)
    order = w.running(10)
    operation = shop.get(
        f"/api/manufacturing/work-orders/{order['id']}/operations")[
        'items'][0]
    return {'id': order['id'], 'operation_id': operation['id']}


def machine(shop):
    "A machine and an open downtime of it"
    machine = shop.post('/api/manufacturing/machines', {
            'name': f"Lathe {uuid.uuid4().hex[:6]}"})
    downtime = shop.post(
        f"/api/manufacturing/machines/{machine['id']}/downtime",
        {'reason': 'breakdown'})
    return {'id': machine['id'], 'downtime_id': downtime['id']}


def bom(shop):
    return {'id': _workshop(shop).bom}


def expense(shop):
    category = shop.get('/api/finance/expense-categories')['items'][0]
    return {'id': shop.post('/api/finance/expenses', {
                'category_id': category['id'], 'amount': 500})['id']}


FACTORIES = {
    'finance/invoices': invoice,
    'finance/payments': payment,
    'finance/expenses': expense,
    'crm/leads': lead,
    'crm/quotations': quotation,
    'sales/orders': order,
    'inventory/purchase-orders': purchase_order,
    'manufacturing/work-orders': work_order,
    'manufacturing/machines': machine,
    'manufacturing/boms': bom,
    }


def actions(openapi):
    "(path, operation) of every action of the document"
    found = []
    for path, operations in sorted(openapi['paths'].items()):
        operation = operations.get('post')
        if not operation or not ACTION.match(path) or path in NOT_ACTIONS:
            continue
        found.append((path, operation))
    # Those that end a record (cancel) last: the others act on it alive
    return sorted(found, key=lambda f: (f[0].endswith('/cancel'), f[0]))


def test_every_action_is_a_button(openapi):
    """Each action names the button it is (but those still listed); the
    matrix covers every action so declared"""
    found = actions(openapi)
    missing = {p for p, o in found if 'x-tryton-button' not in o}
    assert missing == NOT_YET_BUTTONS, (
        f"Actions without x-tryton-button: {sorted(missing)}")
    buttons = [p for p, o in found if 'x-tryton-button' in o]
    assert len(buttons) >= 11
    unknown = sorted({ACTION.match(p).group('collection') for p in buttons}
        - set(FACTORIES))
    assert not unknown, f"No factory of records for {unknown}"


@pytest.fixture(scope='module')
def members(api, mail, openapi, live_server):
    "The shop and a token of each business role"
    role = openapi['components']['schemas']['InvitationCreate'][
        'properties']['role']
    roles = role.get('enum') or components_role(openapi, role)
    assert 'owner' in roles and len(roles) >= 5
    shop = Shop(api, mail)
    shop.server = live_server
    tokens = {role: shop.token if role == 'owner' else shop.member(role)
        for role in roles}
    return shop, tokens


def components_role(openapi, schema):
    "The roles of a $ref'd role schema"
    name = schema['$ref'].rsplit('/', 1)[-1]
    return openapi['components']['schemas'][name]['enum']


def rpc_session(server, token):
    "The JSON-RPC session of an API token (the same Tryton session)"
    raw = base64.urlsafe_b64decode(token + '=' * (-len(token) % 4)).decode()
    user_id, key = raw.split(':', 1)
    session = ('api', int(user_id), key)
    context = server.rpc('model.res.user.get_preferences', [True, {}],
        session)
    return session, context


def test_permission_matrix(api, live_server, openapi, members):
    """Every action, every role: /api and the button through JSON-RPC agree
    (both refused with the same message, or both let through)"""
    shop, tokens = members
    components = openapi['components']['schemas']
    records = {}
    disagreements, cells = [], 0
    for path, operation in actions(openapi):
        if path in NOT_YET_BUTTONS:
            continue
        button = operation['x-tryton-button']
        collection = ACTION.match(path).group('collection')
        if collection not in records:
            records[collection] = FACTORIES[collection](shop)
        params = records[collection]
        url = path.format(**params)
        body = None
        if 'requestBody' in operation:
            schema = operation['requestBody']['content'][
                'application/json']['schema']
            body = example(schema, components)
        record_id = params[button['record']]
        # A button of another model than the record's (the shipment of an
        # order) is pressed on none of its records: its groups and access
        # decide, once the record acted on is read (as the desk opens it)
        record_model = button.get('record_model')
        ids = [] if record_model else [record_id]
        for role, token in tokens.items():
            cells += 1
            response = api.post(url, token=token, json=body)
            assert response.status_code not in {400, 401, 404, 500}, (
                path, role, response.text)
            api_refused = response.status_code == 403
            api_message = (response.json()['error']['message']
                if api_refused else None)
            session, context = rpc_session(live_server, token)
            try:
                if record_model:
                    live_server.rpc(f'model.{record_model}.read',
                        [[record_id], ['id'], context], session)
                live_server.rpc(
                    f"model.{button['model']}.{button['button']}",
                    [ids, context], session)
                rpc_message = None
            except RPCError as e:
                error = e.args[0]
                rpc_message = ' '.join(filter(None, error[1][:2])
                    ) if isinstance(error, list) else str(error)
            if api_refused:
                # The same refusal (a role's: an access error, or the
                # model's own refusal of the role, e.g. an approval)
                agree = rpc_message == api_message
            else:
                agree = not (rpc_message and refused_by_access(rpc_message))
            if not agree:
                disagreements.append(
                    f"{path} as {role}: API {response.status_code} "
                    f"{api_message or response.text[:200]!r}; JSON-RPC "
                    f"{button['model']}.{button['button']}: "
                    f"{rpc_message or 'allowed'!r}")
    assert not disagreements, '\n'.join(disagreements)
    assert cells >= 11 * 5
