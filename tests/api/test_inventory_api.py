"""/api/inventory/... against the live trytond: materials, products,
vendors, purchase orders with approval and receipts into batches, the
stock-movement ledger, transfers, stock counts, low-stock alerts and batch
traces; their refusals (401, 403, 404, 409, 422), each changing nothing."""
import base64
import datetime as dt
import re
from decimal import Decimal

import pytest

from conftest import RPCError

from .conftest import new_email

KA = {'name': "Rao Mouldings Pvt Ltd", 'state': 'IN-KA'}
PNG = (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00'
    b'\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8'
    b'\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND'
    b'\xaeB`\x82')


MH = {'name': "Kulkarni Precision Works", 'state': 'IN-MH',
    'gstin': '27AAPFD1234K1ZB'}


def error_of(response, status, code=None):
    "The error answered, checked to be of status (and code)"
    assert response.status_code == status, response.text
    error = response.json()['error']
    if code:
        assert error['code'] == code, error
    return error


class Shop:
    """A business made through the API: its owner's token (and JSON-RPC
    session), its members"""

    def __init__(self, api, mail, profile=MH, server=None):
        self.api = api
        self.mail = mail
        self.server = server
        email, password, owner = api.register(name="Meera Kulkarni")
        self.email, self.password = email, password
        self.token = owner['token']
        self.id = self.post('/api/businesses', profile)['id']
        self._session = None

    def member(self, role):
        "Token of a new member with role (invited and accepted)"
        email = new_email()
        self.post(f'/api/businesses/{self.id}/invitations',
            {'email': email, 'role': role})
        code = re.search(r'code:\s+(\S+)',
            self.mail(email).get_payload()).group(1)
        _, _, member = self.api.register(email=email)
        self.post('/api/invitations/accept', {'token': code},
            token=member['token'], expect=200)
        return member['token']

    def _check(self, response, expect):
        assert response.status_code == expect, response.text
        return response.json()

    def post(self, path, json=None, token=None, expect=201):
        return self._check(self.api.post(path, token=token or self.token,
                json=json if json is not None else {}), expect)

    def get(self, path, token=None, expect=200, **params):
        return self._check(self.api.get(path, token=token or self.token,
                params=params), expect)

    def put(self, path, json, token=None, expect=200):
        return self._check(self.api.put(path, token=token or self.token,
                json=json), expect)

    def rpc(self, model, method, *args):
        "Call model.method as the owner through JSON-RPC (the desk)"
        if self._session is None:
            self._session = self.server.login(self.email, self.password)
        return self._session.call(model, method, *args)


@pytest.fixture
def shop(api, mail, live_server):
    return Shop(api, mail, server=live_server)


def D(value):
    return Decimal(str(value))


def material(shop, **values):
    return shop.post('/api/inventory/materials', {
            'name': "EN8 Round Bar 40 mm", 'unit': 'kg',
            'cost_price': 80, **values})


def stock_rows(sql, business):
    "Rows that bad input must leave untouched"
    return {
        'moves': sql('SELECT COUNT(*), COALESCE(SUM(quantity), 0) '
            'FROM stock_move WHERE company = %s', (business,))[0],
        'lots': sql('SELECT COUNT(*) FROM stock_lot WHERE company = %s',
            (business,))[0][0],
        'templates': sql('SELECT COUNT(*) FROM product_template '
            'WHERE company = %s', (business,))[0][0],
        'purchases': sql('SELECT COUNT(*) FROM purchase_purchase '
            'WHERE company = %s', (business,))[0][0],
        'inventories': sql('SELECT COUNT(*) FROM stock_inventory '
            'WHERE company = %s', (business,))[0][0],
        }


def count(shop, item_id, quantity, reason="Count", batch=None):
    return shop.post('/api/inventory/adjustments', {
            'reason': reason, 'lines': [{'item_id': item_id,
                    'counted_quantity': quantity, 'batch': batch}]})


# Materials ------------------------------------------------------------------

def test_materials_crud(shop, api, conforms, sql, mail):
    "Create, list, read, update, delete and deactivate materials"
    path = '/api/inventory/materials'
    response = api.post(path, token=shop.token, json={
            'name': "EN8 Round Bar 40 mm", 'unit': 'kg', 'cost_price': 78.5,
            'reorder_level': 100, 'reorder_quantity': 400,
            'batch_tracking': True})
    assert response.status_code == 201, response.text
    conforms(response, path)
    bar = response.json()
    assert response.headers['Location'].endswith(f"{path}/{bar['id']}")
    assert bar['code'] == 'MAT-001'
    assert (bar['unit'], D(bar['cost_price'])) == ('kg', D('78.5'))
    assert (D(bar['reorder_level']), D(bar['reorder_quantity'])) == (
        100, 400)
    assert D(bar['current_stock']) == 0 and bar['batch_tracking']
    sheet = material(shop, name="MS Sheet 2 mm", cost_price=64)
    assert sheet['code'] == 'MAT-002'
    typed = material(shop, name="Cutting oil", code='OIL-1', unit='l')
    assert typed['code'] == 'OIL-1'
    # A product is not a material
    product = shop.post('/api/inventory/products', {
            'name': "Drive Shaft", 'unit': 'u', 'selling_price': 1450})
    shop.get(f"{path}/{product['id']}", expect=404)

    response = api.get(path, token=shop.token,
        params={'q': 'sheet', 'limit': 5})
    assert response.status_code == 200, response.text
    conforms(response, path)
    page = response.json()
    assert [i['code'] for i in page['items']] == ['MAT-002']
    page = shop.get(path, limit=2, order='-code')
    assert page['total'] == 3
    # Tryton sorts codes by length first (MAT-002 after MAT-10)
    assert [i['code'] for i in page['items']] == ['MAT-002', 'OIL-1']

    response = api.put(f"{path}/{bar['id']}", token=shop.token, json={
            'name': "EN8 Bar 40", 'reorder_level': 150, 'unit': 'g'})
    assert response.status_code == 200, response.text
    conforms(response, f'{path}/{{id}}')
    changed = response.json()
    assert (changed['name'], changed['unit']) == ("EN8 Bar 40", 'g')
    assert (D(changed['reorder_level']), D(changed['reorder_quantity'])) \
        == (150, 400)
    assert shop.get(f"{path}/{bar['id']}") == changed

    # Unused: deleted; used (counted): deactivated, still readable
    response = api.delete(f"{path}/{typed['id']}", token=shop.token)
    assert response.status_code == 200, response.text
    assert response.json() == {'id': typed['id'], 'deleted': True,
        'active': False}
    shop.get(f"{path}/{typed['id']}", expect=404)
    count(shop, sheet['id'], 10)
    response = api.delete(f"{path}/{sheet['id']}", token=shop.token)
    assert response.json() == {'id': sheet['id'], 'deleted': False,
        'active': False}
    assert shop.get(f"{path}/{sheet['id']}")['active'] is False
    assert [i['id'] for i in shop.get(path)['items']] == [bar['id']]
    assert [i['id'] for i in shop.get(path, active='false')['items']] == [
        sheet['id']]


def test_material_refusals(shop, api, conforms, sql, mail):
    "401, 403, 404, 409 and 422, each leaving the business unchanged"
    path = '/api/inventory/materials'
    bar = material(shop)
    other = Shop(api, mail, KA)
    foreign_vendor = other.post('/api/inventory/vendors', {'name': "V"})
    foreign = material(other)
    before = stock_rows(sql, shop.id)

    error_of(api.get(path), 401, 'missing_token')
    error_of(api.post(path, json={'name': 'x', 'unit': 'kg'},
            token='bogus'), 401, 'invalid_token')
    operator = shop.member('operator')
    error_of(api.post(path, token=operator, json={
                'name': "Sneaky", 'unit': 'kg'}), 403, 'forbidden')
    # Another business's material does not exist here
    error_of(api.get(f"{path}/{foreign['id']}", token=shop.token), 404)
    error_of(api.put(f"{path}/{foreign['id']}", token=shop.token,
            json={'name': "Mine"}), 404)
    error_of(api.delete(f"{path}/{foreign['id']}", token=shop.token), 404)
    # A code already used in the business
    error = error_of(api.post(path, token=shop.token, json={
                'name': "Dup", 'unit': 'kg', 'code': bar['code']}), 409,
        'code_conflict')
    assert 'code' in error['fields']
    # ...but each business numbers its own MAT-001
    assert foreign['code'] == bar['code'] == 'MAT-001'
    for body, field, code in [
            ({'name': "X", 'unit': 'furlong'}, 'unit', 'unknown_unit'),
            ({'name': "X", 'unit': 'kg', 'cost_price': -1}, 'cost_price',
                'validation_error'),
            ({'name': "X", 'unit': 'kg', 'reorder_level': -5},
                'reorder_level', 'validation_error'),
            ({'name': "X", 'unit': 'kg',
                    'preferred_vendor_id': foreign_vendor['id']},
                'preferred_vendor_id', 'unknown_vendor'),
            ({'unit': 'kg'}, 'name', 'validation_error'),
            ]:
        error = error_of(api.post(path, token=shop.token, json=body), 422,
            code)
        assert field in error['fields'], error
    error = error_of(api.put(f"{path}/{bar['id']}", token=shop.token,
            json={'unit': 'm'}), 422, 'incompatible_unit')
    assert 'unit' in error['fields']
    assert stock_rows(sql, shop.id) == before
    assert shop.get(f"{path}/{bar['id']}") == bar


# Products -------------------------------------------------------------------

@pytest.fixture(scope='module')
def demo_owner(api, demo):
    owner = next(u for u in demo['users'] if u.get('role') == 'owner')
    response = api.post('/api/auth/login', json={
            'email': owner['login'], 'password': owner['password']})
    assert response.status_code == 200, response.text
    return response.json()['token']


def test_products(shop, api, conforms):
    "Create, list, read and update products; images; BOM 404"
    path = '/api/inventory/products'
    response = api.post(path, token=shop.token, json={
            'name': "Drive Shaft DS-40", 'unit': 'u', 'selling_price': 1450,
            'cost_price': 820, 'manufacturing_time': 1.5,
            'description': "EN8, 40 mm"})
    assert response.status_code == 201, response.text
    conforms(response, path)
    shaft = response.json()
    assert shaft['product_code'] == shaft['code'] == 'PRD-001'
    assert (shaft['is_manufactured'], shaft['is_saleable']) == (True, True)
    assert D(shaft['manufacturing_time']) == D('1.5')
    assert (D(shaft['selling_price']), D(shaft['cost_price'])) == (
        1450, 820)
    assert shaft['bom'] is None and shaft['images'] == []
    bought = shop.post(path, {'name': "Resale bearing", 'unit': 'u',
            'is_manufactured': False})
    assert bought['code'] == 'PRD-002' and not bought['is_manufactured']
    error = error_of(api.post(path, token=shop.token, json={
                'name': "Neither", 'unit': 'u', 'is_manufactured': False,
                'is_saleable': False}), 422)
    assert 'is_saleable' in error['fields']

    response = api.put(f"{path}/{shaft['id']}", token=shop.token,
        json={'selling_price': 1500, 'is_saleable': True})
    assert response.status_code == 200, response.text
    conforms(response, f'{path}/{{id}}')
    assert D(response.json()['selling_price']) == 1500
    page = shop.get(path)
    assert sorted(i['code'] for i in page['items']) == ['PRD-001', 'PRD-002']
    conforms(api.get(path, token=shop.token), path)

    # Images: attachments, type and size checked
    image_path = f"{path}/{shaft['id']}/images"
    response = api.post(image_path, token=shop.token, json={
            'name': 'shaft.png', 'content_type': 'image/png',
            'data': base64.b64encode(PNG).decode()})
    assert response.status_code == 201, response.text
    image, = response.json()['images']
    assert (image['name'], image['content_type'], image['size']) == (
        'shaft.png', 'image/png', len(PNG))
    for body, code in [
            ({'content_type': 'image/png',
                    'data': base64.b64encode(b'%PDF-1.4').decode()},
                'invalid_image'),
            ({'content_type': 'image/jpeg',
                    'data': base64.b64encode(PNG).decode()},
                'invalid_image'),
            ({'content_type': 'image/png', 'data': '!!notbase64'},
                'invalid_image'),
            ({'content_type': 'application/pdf', 'data': 'AAAA'},
                'validation_error'),
            ]:
        error = error_of(api.post(image_path, token=shop.token,
                json={'name': 'x', **body}), 422, code)
        assert error['fields'], error
    # Too big: refused (by trytond's request size limit before the API's
    # own 2 MiB check)
    response = api.post(image_path, token=shop.token, json={
            'name': 'big.png', 'content_type': 'image/png',
            'data': base64.b64encode(b'\x89PNG\r\n\x1a\n'
                + b'0' * (2 * 1024 * 1024)).decode()})
    assert response.status_code in {413, 422}, response.text
    assert len(shop.get(f"{path}/{shaft['id']}")['images']) == 1

    error_of(api.get(f"{path}/{shaft['id']}/bom", token=shop.token), 404,
        'not_found')
    error_of(api.get(f"{path}/999999", token=shop.token), 404)
    error_of(api.get(path), 401)


def test_product_bom_of_demo(api, conforms, demo, demo_owner):
    "The demo's made-to-order product has its BOM of demo materials"
    page = api.get('/api/inventory/products', token=demo_owner,
        params={'q': demo['products'][0]['name']}).json()
    product, = page['items']
    assert product['bom'] is not None and product['is_manufactured']
    path = f"/api/inventory/products/{product['id']}/bom"
    response = api.get(path, token=demo_owner)
    assert response.status_code == 200, response.text
    conforms(response, '/api/inventory/products/{id}/bom')
    bom = response.json()
    expected = {code: D(quantity)
        for code, quantity in demo['products'][0]['bom']}
    assert {i['code']: D(i['quantity']) for i in bom['items']} == expected
    assert bom['routing'] is not None
    materials = api.get('/api/inventory/materials', token=demo_owner,
        params={'limit': 100}).json()
    stocks = {m['code']: D(m['current_stock']) for m in materials['items']}
    for values in demo['materials']:
        assert stocks[values['code']] == D(values['opening_stock'])


# Procurement ----------------------------------------------------------------

def test_procurement_acceptance(shop, api, conforms, sql, mail):
    """Material below reorder level → alert → purchase request → purchase
    order → approval needed above the threshold → approved → partial
    receipt with two batches → stock, reservation and ledger right → rest
    received → vendor bill"""
    stores = shop.member('stores')
    # The owner sets the business's purchase rules; stores may not
    settings = shop.put('/api/inventory/settings', {
            'approval_threshold': 20000, 'receipt_tolerance': 5})
    assert (D(settings['approval_threshold']),
        D(settings['receipt_tolerance'])) == (20000, 5)
    error_of(api.put('/api/inventory/settings', token=stores,
            json={'approval_threshold': 10 ** 9}), 403)
    assert shop.get('/api/inventory/settings', token=stores) == settings

    bar = material(shop, batch_tracking=True, reorder_level=100,
        reorder_quantity=400)
    response = api.post('/api/inventory/vendors', token=stores, json={
            'name': "Vardhman Steel Traders", 'gstin': '27AAFCV4321H1ZE',
            'email': 'sales@vardhman.example.in', 'phone': '+91 98200 77889',
            'contact_person': "Mr. Jain",
            'address': {'street': "Iron Market", 'city': "Kalamboli",
                'postal_code': '410218', 'state': 'IN-MH'},
            'supplies': [{'item_id': bar['id'], 'unit_price': 80,
                    'lead_time_days': 3, 'preferred': True}]})
    assert response.status_code == 201, response.text
    conforms(response, '/api/inventory/vendors')
    vendor = response.json()
    assert vendor['code'] == 'VEN-001'
    assert vendor['gstin'] == '27AAFCV4321H1ZE'
    supply, = vendor['supplies']
    assert (supply['item']['id'], D(supply['unit_price']),
        supply['lead_time_days']) == (bar['id'], 80, 3)
    bar = shop.get(f"/api/inventory/materials/{bar['id']}")
    assert bar['preferred_vendor']['id'] == vendor['id']

    # Opening count: 60 kg of heat H-100 (a batch counted in)
    lot_id = _rpc_lot(shop, api, bar['id'], 'H-100')
    count(shop, bar['id'], 60, "Opening stock", batch='H-100')
    response = api.get('/api/inventory/alerts', token=stores)
    assert response.status_code == 200, response.text
    conforms(response, '/api/inventory/alerts')
    alert, = response.json()['items']
    assert alert['item']['id'] == bar['id']
    assert (D(alert['available_stock']), D(alert['reorder_level'])) == (
        60, 100)
    assert alert['preferred_vendor']['id'] == vendor['id']

    # Reorder: request and draft PO to the preferred vendor in one step
    response = api.post('/api/inventory/alerts/reorder', token=stores)
    assert response.status_code == 200, response.text
    conforms(response, '/api/inventory/alerts/reorder')
    po_item, = response.json()['purchase_orders']
    assert (po_item['vendor']['id'], po_item['status']) == (
        vendor['id'], 'draft')
    assert sql('SELECT COUNT(*) FROM purchase_request WHERE company = %s '
        'AND purchase_line IS NOT NULL', (shop.id,))[0][0] == 1
    po_path = f"/api/inventory/purchase-orders/{po_item['id']}"
    response = api.get(po_path, token=stores)
    conforms(response, '/api/inventory/purchase-orders/{id}')
    po = response.json()
    line, = po['lines']
    assert (D(line['quantity']), D(line['unit_price'])) == (440, 80)
    assert po['approval_required'] and D(po['total_amount']) > 20000

    # Above the threshold: stores cannot confirm nor approve
    error_of(api.post(f'{po_path}/confirm', token=stores), 403,
        'approval_required')
    error_of(api.post(f'{po_path}/approve', token=stores), 403)
    assert shop.get(po_path)['status'] == 'draft'
    response = api.post(f'{po_path}/approve', token=shop.token)
    assert response.status_code == 200, response.text
    po = response.json()
    assert po['number'].startswith(f'PO-{dt.date.today().year}-')
    assert po['approved_by'] is not None
    assert po['status'] in {'approved', 'awaiting_delivery'}
    error_of(api.post(f'{po_path}/approve', token=shop.token), 409,
        'invalid_state')
    assert shop.get(po_path)['status'] == 'awaiting_delivery'

    # A work order reserves 20 kg of the counted heat
    production = _rpc_work_order(shop, api, bar['id'], lot_id, 20)
    bar = shop.get(f"/api/inventory/materials/{bar['id']}")
    assert [D(bar[k]) for k in ['current_stock', 'reserved_stock',
            'available_stock']] == [60, 20, 40]

    # Partial receipt, two batches (one with an expiry)
    expiry = (dt.date.today() + dt.timedelta(days=180)).isoformat()
    before = stock_rows(sql, shop.id)
    for lines, field, code in [
            ([{'line_id': line['id'], 'quantity': 0, 'batch_number': 'A'}],
                'lines.0.quantity', 'validation_error'),
            ([{'line_id': line['id'], 'quantity': -3, 'batch_number': 'A'}],
                'lines.0.quantity', 'validation_error'),
            ([{'line_id': line['id'], 'quantity': 470,
                        'batch_number': 'A'}],
                'lines.0.quantity', 'validation_error'),
            ([{'line_id': line['id'], 'quantity': 10}],
                'lines.0.batch_number', 'validation_error'),
            ([{'line_id': 999999, 'quantity': 10, 'batch_number': 'A'}],
                'lines.0.line_id', 'unknown_line'),
            ]:
        error = error_of(api.post(f'{po_path}/receive', token=stores,
                json={'lines': lines}), 422, code)
        assert field in error['fields'], error
    assert stock_rows(sql, shop.id) == before
    response = api.post(f'{po_path}/receive', token=stores, json={'lines': [
                {'line_id': line['id'], 'quantity': 120,
                    'batch_number': 'H-201'},
                {'line_id': line['id'], 'quantity': 80,
                    'batch_number': 'H-202', 'expiry_date': expiry}]})
    assert response.status_code == 201, response.text
    conforms(response, '/api/inventory/purchase-orders/{id}/receive')
    po = response.json()
    assert po['status'] == 'partially_received'
    assert D(po['lines'][0]['received_quantity']) == 200
    bar = shop.get(f"/api/inventory/materials/{bar['id']}")
    assert [D(bar[k]) for k in ['current_stock', 'reserved_stock',
            'available_stock']] == [260, 20, 240]
    assert shop.get('/api/inventory/alerts')['items'] == []

    # The ledger: receipts in, each with the PO's number and its batch
    response = api.get(
        f"/api/inventory/materials/{bar['id']}/stock-movements",
        token=stores, params={'type': 'in'})
    assert response.status_code == 200, response.text
    conforms(response, '/api/inventory/materials/{id}/stock-movements')
    entries = response.json()['items']
    assert [(D(e['quantity']), D(e['balance']), e['batch']['name'],
            e['reference_type'], e['reference']) for e in entries] == [
        (80, 260, 'H-202', 'purchase_order', po['number']),
        (120, 180, 'H-201', 'purchase_order', po['number'])]
    assert all(e['user']['name'] for e in entries)
    trace = shop.get(f"/api/inventory/batches/{_lot_id(sql, shop.id, 'H-202')}"
        "/trace")
    assert trace['expiry_date'] == expiry

    # Beyond the 5 % tolerance: refused, nothing received
    before = stock_rows(sql, shop.id)
    error = error_of(api.post(f'{po_path}/receive', token=stores,
            json={'lines': [{'line_id': line['id'], 'quantity': 300,
                        'batch_number': 'H-203'}]}), 422)
    assert 'lines.0.quantity' in error['fields']
    assert stock_rows(sql, shop.id) == before
    # Within it: the rest, 240 kg (+ 10 over)
    po = shop.post(f'{po_path}/receive', {'lines': [
                {'line_id': line['id'], 'quantity': 250,
                    'batch_number': 'H-203'}]})
    assert po['status'] == 'received'
    assert D(shop.get(f"/api/inventory/materials/{bar['id']}")[
            'current_stock']) == 510

    # The vendor bill of what was received
    error_of(api.post(f'{po_path}/bill', token=stores), 403)
    response = api.post(f'{po_path}/bill', token=shop.token)
    assert response.status_code == 200, response.text
    po = response.json()
    assert po['bills']
    bills = sql('SELECT i.type, i.state, SUM(l.quantity) FROM '
        'account_invoice i JOIN account_invoice_line l ON l.invoice = i.id '
        'WHERE i.company = %s AND i.party = %s GROUP BY i.type, i.state',
        (shop.id, vendor['id']))
    assert [(t, s, D(q)) for t, s, q in bills] == [('in', 'draft', 450)]
    # Asking again creates nothing more: the same bills
    again = shop.post(f'{po_path}/bill', expect=200)
    assert again['bills'] == po['bills']
    listed = api.get('/api/inventory/purchase-orders', token=shop.token,
        params={'status': 'received'}).json()
    assert [p['id'] for p in listed['items']] == [po['id']]
    assert production


def _lot_id(sql, business, number):
    return sql('SELECT id FROM stock_lot WHERE company = %s AND number = %s',
        (business, number))[0][0]


def _rpc_lot(shop, api, product_id, number):
    return shop.rpc('stock.lot', 'create', [{'number': number,
                'product': product_id}])[0]


def _rpc_work_order(shop, api, material_id, lot_id, quantity):
    """A work order consuming quantity of the material from its batch,
    waiting and assigned (reserved), through JSON-RPC as the owner"""
    business = shop.rpc('company.company', 'read', [shop.id],
        ['warehouse'])[0]
    warehouse = shop.rpc('stock.location', 'read', [business['warehouse']],
        ['storage_location', 'production_location'])[0]
    product = shop.post('/api/inventory/products', {
            'name': "Shaft for the work order", 'unit': 'u'})
    kg, = shop.rpc('product.uom', 'search', [('symbol', '=', 'kg')])
    unit, = shop.rpc('product.uom', 'search', [('symbol', '=', 'u')])
    today = {'__class__': 'date', 'year': dt.date.today().year,
        'month': dt.date.today().month, 'day': dt.date.today().day}
    production, = shop.rpc('production', 'create', [{
                'product': product['id'], 'quantity': 2, 'unit': unit,
                'warehouse': business['warehouse'],
                'location': warehouse['production_location'],
                'planned_date': today, 'planned_start_date': today,
                'inputs': [('create', [{
                                'product': material_id,
                                'quantity': quantity, 'unit': kg,
                                'lot': lot_id,
                                'from_location':
                                warehouse['storage_location'],
                                'to_location':
                                warehouse['production_location'],
                                }])],
                }])
    shop.rpc('production', 'wait', [production])
    shop.rpc('production', 'assign_try', [production])
    return production


def _rpc_run_and_do(shop, production):
    """Run the work order, consume its inputs (their moves done, as Tryton's
    own run does) and finish it, through JSON-RPC as the owner"""
    shop.rpc('production', 'run', [production])
    inputs = shop.rpc('production', 'read', [production],
        ['inputs'])[0]['inputs']
    planned = [m['id'] for m in shop.rpc('stock.move', 'read', inputs,
            ['state']) if m['state'] != 'done']
    if planned:
        shop.rpc('stock.move', 'do', planned)
    shop.rpc('production', 'do', [production])


# Stock ----------------------------------------------------------------------

def test_transfer_adjustment_ledger(shop, api, conforms, sql):
    """A transfer and a stock count each appear in the ledger with the
    right running balance; bad input changes nothing"""
    bar = material(shop)
    response = api.get('/api/inventory/locations', token=shop.token)
    conforms(response, '/api/inventory/locations')
    locations = response.json()['items']
    storage = next(l for l in locations if l['name'].endswith('Storage'))
    output = next(l for l in locations if l['name'].endswith('Output'))
    today = dt.date.today()
    opening_date = today - dt.timedelta(days=5)
    response = api.post('/api/inventory/adjustments', token=shop.token,
        json={'reason': "Opening stock", 'date': opening_date.isoformat(),
            'lines': [{'item_id': bar['id'], 'counted_quantity': 100}]})
    assert response.status_code == 201, response.text
    conforms(response, '/api/inventory/adjustments')
    opening = response.json()
    assert opening['reason'] == "Opening stock" and opening['state'] == 'done'
    assert D(opening['lines'][0]['counted_quantity']) == 100

    response = api.post('/api/inventory/transfers', token=shop.token, json={
            'item_id': bar['id'], 'quantity': 30,
            'from_location_id': storage['id'],
            'to_location_id': output['id']})
    assert response.status_code == 201, response.text
    conforms(response, '/api/inventory/transfers')
    assert response.json()['state'] == 'done'
    count(shop, bar['id'], 65, "Cycle count: 5 kg short")  # storage: 70

    path = f"/api/inventory/materials/{bar['id']}/stock-movements"
    page = shop.get(path)
    assert page['total'] == 3
    assert [(e['movement_type'], D(e['quantity']), D(e['balance']),
            e['reference_type']) for e in page['items']] == [
        ('adjustment', -5, 95, 'stock_count'),
        ('transfer', 0, 100, 'transfer'),
        ('adjustment', 100, 100, 'stock_count')]
    transfer = page['items'][1]
    assert (transfer['from_location']['id'], transfer['to_location']['id'],
        D(transfer['moved_quantity'])) == (storage['id'], output['id'], 30)
    assert shop.get(path, type='transfer')['total'] == 1
    assert shop.get(path, date_from=(today + dt.timedelta(days=1))
        .isoformat())['total'] == 0
    assert shop.get(path, date_to=today.isoformat(), limit=1,
        offset=2)['items'][0]['movement_type'] == 'adjustment'

    def balances(**params):
        page = shop.get(path, **params)
        return page['total'], [(e['movement_type'], D(e['balance']))
            for e in page['items']]
    # The balance is the business's stock after each movement whatever
    # the page or the filter: later pages, dates and types leave it alone
    assert balances(limit=1, offset=1) == (3, [('transfer', 100)])
    assert balances(limit=2, offset=1) == (3, [
            ('transfer', 100), ('adjustment', 100)])
    assert balances(date_from=today.isoformat()) == (2, [
            ('adjustment', 95), ('transfer', 100)])
    assert balances(date_to=opening_date.isoformat()) == (1, [
            ('adjustment', 100)])
    assert balances(type='adjustment', limit=1, offset=1) == (2, [
            ('adjustment', 100)])
    assert balances(type='adjustment', date_from=today.isoformat()) == (
        1, [('adjustment', 95)])
    error_of(api.get(path, token=shop.token, params={'type': 'gift'}), 400)
    assert D(shop.get(f"/api/inventory/materials/{bar['id']}")[
            'current_stock']) == 95

    # Bad input: 422 naming the field (409 for missing stock), nothing moved
    before = stock_rows(sql, shop.id)
    base = {'item_id': bar['id'], 'quantity': 5,
        'from_location_id': storage['id'], 'to_location_id': output['id']}
    for body, status, field, code in [
            ({'quantity': 0}, 422, 'quantity', 'validation_error'),
            ({'quantity': -2}, 422, 'quantity', 'validation_error'),
            ({'batch': 'NO-SUCH'}, 422, 'batch', 'unknown_batch'),
            ({'unit': 'm'}, 422, 'unit', 'incompatible_unit'),
            ({'to_location_id': storage['id']}, 422, 'to_location_id',
                'validation_error'),
            ({'item_id': 999999}, 422, 'item_id', 'unknown_item'),
            ({'quantity': 1000}, 409, 'quantity', 'insufficient_stock'),
            ]:
        error = error_of(api.post('/api/inventory/transfers',
                token=shop.token, json={**base, **body}), status, code)
        assert field in error['fields'], error
    for line, field, code in [
            ({'counted_quantity': -1}, 'lines.0.counted_quantity',
                'validation_error'),
            ({'batch': 'NO-SUCH'}, 'lines.0.batch', 'unknown_batch'),
            ({'item_id': 999999}, 'lines.0.item_id', 'unknown_item'),
            ]:
        error = error_of(api.post('/api/inventory/adjustments',
                token=shop.token, json={'reason': "x", 'lines': [{
                            'item_id': bar['id'], 'counted_quantity': 1,
                            **line}]}), 422, code)
        assert field in error['fields'], error
    error = error_of(api.post('/api/inventory/adjustments', token=shop.token,
            json={'lines': [{'item_id': bar['id'],
                        'counted_quantity': 1}]}), 422)
    assert 'reason' in error['fields']
    sales = shop.member('sales')
    error_of(api.post('/api/inventory/transfers', token=sales, json=base),
        403)
    error_of(api.get(path, token=sales), 403)
    assert stock_rows(sql, shop.id) == before


def test_batch_trace(shop, api, conforms, sql):
    """Backward to the vendor receipt, forward to the work order that
    consumed the batch"""
    shop.put('/api/inventory/settings', {'approval_threshold': None})
    bar = material(shop, batch_tracking=True)
    vendor = shop.post('/api/inventory/vendors', {'name': "Vardhman",
            'address': {'city': "Kalamboli", 'state': 'IN-MH'},
            'supplies': [{'item_id': bar['id'], 'unit_price': 80}]})
    po = shop.post('/api/inventory/purchase-orders', {
            'vendor_id': vendor['id'],
            'expected_date': dt.date.today().isoformat(),
            'lines': [{'item_id': bar['id'], 'quantity': 50}]})
    assert po['status'] == 'draft' and not po['approval_required']
    assert po['expected_date'] == dt.date.today().isoformat()
    po = shop.post(f"/api/inventory/purchase-orders/{po['id']}/confirm",
        expect=200)
    po = shop.post(f"/api/inventory/purchase-orders/{po['id']}/receive", {
            'lines': [{'line_id': po['lines'][0]['id'], 'quantity': 50,
                    'batch_number': 'H-900'}]})
    lot_id = _lot_id(sql, shop.id, 'H-900')
    production = _rpc_work_order(shop, api, bar['id'], lot_id, 12)
    _rpc_run_and_do(shop, production)

    path = f'/api/inventory/batches/{lot_id}/trace'
    response = api.get(path, token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/inventory/batches/{id}/trace')
    trace = response.json()
    assert trace['batch']['name'] == 'H-900'
    assert trace['backward'][0]['document_type'] == 'receipt'
    assert D(trace['backward'][0]['quantity']) == 50
    assert any(s['document_type'] == 'work_order'
        and D(s['quantity']) == 12 for s in trace['forward'])
    other = Shop(api, shop.mail, KA)
    error_of(api.get(path, token=other.token), 404)


def test_purchase_orders_by_status(shop, api):
    """?status= filters on the derived status in the search itself: the
    total and the pages count only the orders in that status"""
    shop.put('/api/inventory/settings', {'approval_threshold': None})
    bar = material(shop)
    vendor = shop.post('/api/inventory/vendors', {'name': "Vardhman",
            'address': {'city': "Kalamboli", 'state': 'IN-MH'},
            'supplies': [{'item_id': bar['id'], 'unit_price': 80}]})
    path = '/api/inventory/purchase-orders'
    pos = [shop.post(path, {'vendor_id': vendor['id'],
                'lines': [{'item_id': bar['id'], 'quantity': 10 + i}]})
        for i in range(5)]
    for po in pos[1:4]:
        shop.post(f"{path}/{po['id']}/confirm", expect=200)
    received = pos[3]
    shop.post(f"{path}/{received['id']}/receive", {'lines': [{
                    'line_id': received['lines'][0]['id'],
                    'quantity': 13}]})
    partial = pos[2]
    shop.post(f"{path}/{partial['id']}/receive", {'lines': [{
                    'line_id': partial['lines'][0]['id'], 'quantity': 5}]})
    expected = {
        'draft': [pos[4]['id'], pos[0]['id']],
        'awaiting_delivery': [pos[1]['id']],
        'partially_received': [partial['id']],
        'received': [received['id']],
        'approved': [],
        'cancelled': [],
        }
    for status, ids in expected.items():
        page = shop.get(path, status=status)
        assert (page['total'], [p['id'] for p in page['items']]) == (
            len(ids), ids), status
        assert {p['status'] for p in page['items']} <= {status}
    # Pages of the filtered orders, newest first
    first = shop.get(path, status='draft', limit=1)
    second = shop.get(path, status='draft', limit=1, offset=1)
    assert (first['total'], second['total']) == (2, 2)
    assert [p['id'] for p in first['items'] + second['items']] == (
        expected['draft'])
    assert shop.get(path, status='draft', limit=1, offset=2)['items'] == []
    error_of(api.get(path, token=shop.token, params={'status': 'lost'}),
        400, 'invalid_query')


def _today():
    today = dt.date.today()
    return {'__class__': 'date', 'year': today.year, 'month': today.month,
        'day': today.day}


def test_batch_trace_to_delivery(shop, api, conforms, sql):
    """A heat received from the vendor is consumed by a work order whose
    output batch is delivered to a customer: the heat traces forward to
    the delivery, the delivered batch backward to the vendor receipt
    (Tryton's lot trace, plain Tryton production and customer shipment)"""
    shop.put('/api/inventory/settings', {'approval_threshold': None})
    bar = material(shop, batch_tracking=True)
    vendor = shop.post('/api/inventory/vendors', {'name': "Vardhman",
            'address': {'city': "Kalamboli", 'state': 'IN-MH'},
            'supplies': [{'item_id': bar['id'], 'unit_price': 80}]})
    po = shop.post('/api/inventory/purchase-orders', {
            'vendor_id': vendor['id'],
            'lines': [{'item_id': bar['id'], 'quantity': 50}]})
    po = shop.post(f"/api/inventory/purchase-orders/{po['id']}/confirm",
        expect=200)
    shop.post(f"/api/inventory/purchase-orders/{po['id']}/receive", {
            'lines': [{'line_id': po['lines'][0]['id'], 'quantity': 50,
                    'batch_number': 'H-950'}]})
    heat = _lot_id(sql, shop.id, 'H-950')
    shaft = shop.post('/api/inventory/products', {
            'name': "Drive shaft", 'unit': 'u', 'selling_price': 900})
    business = shop.rpc('company.company', 'read', [shop.id],
        ['warehouse'])[0]
    warehouse = shop.rpc('stock.location', 'read', [business['warehouse']],
        ['storage_location', 'production_location', 'output_location'])[0]
    kg, = shop.rpc('product.uom', 'search', [('symbol', '=', 'kg')])
    unit, = shop.rpc('product.uom', 'search', [('symbol', '=', 'u')])
    currency = shop.rpc('company.company', 'read', [shop.id],
        ['currency'])[0]['currency']
    batch = _rpc_lot(shop, api, shaft['id'], 'SH-001')
    storage = warehouse['storage_location']
    floor = warehouse['production_location']

    def move(product, quantity, unit, lot, from_, to, **values):
        return {'product': product, 'quantity': quantity, 'unit': unit,
            'lot': lot, 'from_location': from_, 'to_location': to, **values}
    production, = shop.rpc('production', 'create', [{
                'product': shaft['id'], 'quantity': 4, 'unit': unit,
                'warehouse': business['warehouse'], 'location': floor,
                'planned_date': _today(), 'planned_start_date': _today(),
                'inputs': [('create', [
                            move(bar['id'], 12, kg, heat, storage, floor)])],
                'outputs': [('create', [
                            move(shaft['id'], 4, unit, batch, floor, storage,
                                unit_price=300, currency=currency)])],
                }])
    shop.rpc('production', 'wait', [production])
    shop.rpc('production', 'assign_try', [production])
    _rpc_run_and_do(shop, production)
    assert shop.rpc('production', 'read', [production],
        ['state'])[0]['state'] == 'done'

    # Three of the four shafts are delivered to a customer
    customer, = shop.rpc('party.party', 'create', [{'name': "Patil Pumps",
                'addresses': [('create', [{'city': "Satara"}])]}])
    address, = shop.rpc('party.party', 'read', [customer],
        ['addresses'])[0]['addresses']
    customer_location, = shop.rpc('stock.location', 'search',
        [('type', '=', 'customer')], 0, 1)
    shipment, = shop.rpc('stock.shipment.out', 'create', [{
                'customer': customer, 'delivery_address': address,
                'warehouse': business['warehouse'],
                'warehouse_storage': storage,
                'warehouse_output': warehouse['output_location'],
                'planned_date': _today(),
                'outgoing_moves': [('create', [
                            move(shaft['id'], 3, unit, batch,
                                warehouse['output_location'],
                                customer_location, unit_price=900,
                                currency=currency)])],
                }])
    for method in ['wait', 'assign_try', 'pick', 'pack', 'do']:
        try:
            shop.rpc('stock.shipment.out', method, [shipment])
        except RPCError as error:
            # Tryton warns of moves without a sales order; the desk's user
            # answers yes (as sao does: res.user.warning.skip) and the call is
            # repeated
            kind, (warning, *_) = error.args[0]
            assert kind == 'UserWarning', error
            shop.rpc('res.user.warning', 'skip', warning)
            shop.rpc('stock.shipment.out', method, [shipment])
    delivery = shop.rpc('stock.shipment.out', 'read', [shipment],
        ['state', 'number'])[0]
    assert delivery['state'] == 'done'

    # Forward from the heat: the work order that consumed it, then the
    # shafts it made, delivered to the customer
    response = api.get(f'/api/inventory/batches/{heat}/trace',
        token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/inventory/batches/{id}/trace')
    forward = response.json()['forward']
    assert [(s['batch']['name'], s['document_type'], D(s['quantity']))
        for s in forward if s['document_type'] in {'work_order',
            'delivery'} and s['to_location']['id'] in {
            floor, customer_location}] == [
        ('H-950', 'work_order', 12), ('SH-001', 'delivery', 3)]
    delivered = next(s for s in forward
        if s['to_location']['id'] == customer_location)
    assert delivered['document'] == delivery['number']
    assert delivered['item']['id'] == shaft['id']

    # Backward from the delivered batch: made by the work order from the
    # heat, which came from the vendor's receipt
    trace = shop.get(f'/api/inventory/batches/{batch}/trace')
    backward = trace['backward']
    made = [s for s in backward if s['batch']['name'] == 'SH-001']
    assert [(s['document_type'], s['from_location']['id'], D(s['quantity']))
        for s in made] == [('work_order', floor, 4)]
    received = [s for s in backward if s['batch']['name'] == 'H-950'
        and s['document_type'] == 'receipt']
    assert received and D(received[0]['quantity']) == 50
    supplier = [s for s in received if s['to_location']['id'] != storage]
    assert supplier, received
    # The delivery itself is where the batch went, not where it came from
    assert not [s for s in backward if s['document_type'] == 'delivery']


def test_purchase_order_refusals(shop, api, sql, mail):
    "A vendor of another business, bad quantities, units, states"
    bar = material(shop)
    vendor = shop.post('/api/inventory/vendors', {'name': "Local"})
    other = Shop(api, mail, KA)
    foreign_vendor = other.post('/api/inventory/vendors', {'name': "Far"})
    foreign_bar = material(other)
    before = stock_rows(sql, shop.id)
    path = '/api/inventory/purchase-orders'
    good_line = {'item_id': bar['id'], 'quantity': 10}
    for body, field, code in [
            ({'vendor_id': foreign_vendor['id'], 'lines': [good_line]},
                'vendor_id', 'unknown_vendor'),
            ({'vendor_id': vendor['id'], 'lines': [{**good_line,
                            'quantity': 0}]},
                'lines.0.quantity', 'validation_error'),
            ({'vendor_id': vendor['id'], 'lines': [{**good_line,
                            'unit': 'm'}]},
                'lines.0.unit', 'incompatible_unit'),
            ({'vendor_id': vendor['id'], 'lines': [{
                            'item_id': foreign_bar['id'], 'quantity': 1}]},
                'lines.0.item_id', 'unknown_item'),
            ({'vendor_id': vendor['id'], 'lines': []}, 'lines',
                'validation_error'),
            ]:
        error = error_of(api.post(path, token=shop.token, json=body), 422,
            code)
        assert field in error['fields'], error
    assert stock_rows(sql, shop.id) == before
    po = shop.post(path, {'vendor_id': vendor['id'], 'lines': [good_line]})
    foreign_po = other.post(path, {'vendor_id': foreign_vendor['id'],
            'lines': [{'item_id': foreign_bar['id'], 'quantity': 1}]})
    error_of(api.get(f"{path}/{foreign_po['id']}", token=shop.token), 404)
    error_of(api.post(f"{path}/{foreign_po['id']}/confirm",
            token=shop.token), 404)
    # Nothing to receive against a draft
    error_of(api.post(f"{path}/{po['id']}/receive", token=shop.token,
            json={'lines': [{'line_id': po['lines'][0]['id'],
                        'quantity': 1}]}), 409, 'invalid_state')
    error_of(api.post(f"{path}/{po['id']}/bill", token=shop.token), 409)
    operator = shop.member('operator')
    error_of(api.post(path, token=operator, json={
                'vendor_id': vendor['id'], 'lines': [good_line]}), 403)
    error_of(api.get(path), 401)
    page = shop.get(path)
    assert [p['id'] for p in page['items']] == [po['id']]
    vendors = shop.get('/api/inventory/vendors')
    assert [v['code'] for v in vendors['items']] == ['VEN-001']
    error_of(api.get(f"/api/inventory/vendors/{foreign_vendor['id']}",
            token=shop.token), 404)
    error = error_of(api.put(f"/api/inventory/vendors/{vendor['id']}",
            token=shop.token, json={'gstin': '27AAAAA0000A1Z0'}), 422)
    assert 'gstin' in error['fields']
