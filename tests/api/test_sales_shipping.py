"""Issue 14 §4 and §6 against the live trytond: a sales order ready to
ship, shipped in parts from batches (POST /api/sales/orders/{id}/ship) and
delivered (/deliver), with their refusals (401, 403, 404, 409, 422) each
leaving the database unchanged; leads numbered LEAD-001 per business;
quote_date set when the quotation is made; a purchase order confirmed
within the approval threshold awaiting delivery at once."""
import datetime as dt

from .test_inventory_api import D, KA, Shop, error_of, shop  # noqa: F401

TODAY = str(dt.date.today())
ORDERS = '/api/sales/orders'


def rows(sql, business):
    "What a refused shipment or delivery must leave as it was"
    return {
        'moves': sql('SELECT id, state, quantity, lot, shipment '
            'FROM stock_move WHERE company = %s ORDER BY id', (business,)),
        'shipments': sql('SELECT id, state FROM stock_shipment_out '
            'WHERE company = %s ORDER BY id', (business,)),
        'sales': sql('SELECT id, state, shipment_state, delivered_date, '
            'delivered_by FROM sale_sale WHERE company = %s ORDER BY id',
            (business,)),
        }


class Stockist:
    "A business selling valves from stock: 5 in batch V-1, 3 unbatched"

    def __init__(self, shop):
        self.shop = shop
        self.valve = shop.post('/api/inventory/products', {
                'name': "Gate Valve 50", 'unit': 'u',
                'selling_price': 2500})
        self.cap = shop.post('/api/inventory/products', {
                'name': "End Cap", 'unit': 'u', 'selling_price': 100})
        self.v1, = shop.rpc('stock.lot', 'create', [{'number': 'V-1',
                    'product': self.valve['id']}])
        self.c1, = shop.rpc('stock.lot', 'create', [{'number': 'C-1',
                    'product': self.cap['id']}])
        shop.post('/api/inventory/adjustments', {'reason': "Opening stock",
                'lines': [
                    {'item_id': self.valve['id'], 'counted_quantity': 5,
                        'batch': 'V-1'},
                    {'item_id': self.cap['id'], 'counted_quantity': 2,
                        'batch': 'C-1'}]})
        shop.post('/api/inventory/adjustments', {'reason': "Opening stock",
                'lines': [{'item_id': self.valve['id'],
                        'counted_quantity': 8}]})
        self.customer = shop.post('/api/crm/customers', {
                'name': "Thermax Ltd", 'billing_address': {
                    'city': "Pune", 'state': 'IN-MH'}})

    def order(self, quantity=8, confirm=True):
        order = self.shop.post(ORDERS, {'customer_id': self.customer['id'],
                'lines': [{'item_type': 'product',
                        'item_id': self.valve['id'], 'quantity': quantity,
                        'unit_price': 2500}]})
        if confirm:
            order = self.shop.post(f"{ORDERS}/{order['id']}/confirm", {},
                expect=200)
        return order


def test_ship_in_parts_and_deliver(shop, api, conforms, sql):
    "Ready to ship → 3 from V-1 → 5 picked by Tryton → shipped → delivered"
    s = Stockist(shop)
    order = s.order(8)
    assert order['status'] == 'ready_to_ship'
    assert order['work_orders'] == []
    path = f"{ORDERS}/{order['id']}"
    line_id = order['goods'][0]['line_id']
    order = shop.post(f'{path}/ship', {'lines': [{'line_id': line_id,
                    'quantity': 3, 'batch_id': s.v1}]}, expect=200)
    assert order['status'] == 'ready_to_ship'
    assert [D(order['goods'][0][k]) for k in ['quantity_shipped',
            'quantity_remaining']] == [3, 5]
    done, = [x for x in order['shipments'] if x['state'] == 'done']
    assert [(D(l['quantity']), l['batch_number'], l['line_id'])
        for l in done['lines']] == [(3, 'V-1', line_id)]
    # 13 in stock (5 in V-1, 8 unbatched), 3 left
    valve = shop.get(f"/api/inventory/products/{s.valve['id']}")
    assert D(valve['current_stock']) == 10
    movements = shop.get(
        f"/api/inventory/products/{s.valve['id']}/stock-movements",
        type='out')['items']
    assert [(m['movement_type'], D(m['quantity']), D(m['balance']),
            m['batch']['name']) for m in movements] == [
        ('out', -3, 10, 'V-1')]
    # Delivered only when all is shipped
    before = rows(sql, shop.id)
    error_of(api.post(f'{path}/deliver', token=shop.token, json={}), 409,
        'order_not_shipped')
    assert rows(sql, shop.id) == before

    response = api.post(f'{path}/ship', token=shop.token, json={
            'lines': [{'line_id': line_id, 'quantity': 5}]})
    assert response.status_code == 200, response.text
    conforms(response, '/api/sales/orders/{id}/ship')
    order = response.json()
    assert order['status'] == 'shipped'
    assert D(order['goods'][0]['quantity_remaining']) == 0
    valve = shop.get(f"/api/inventory/products/{s.valve['id']}")
    assert D(valve['current_stock']) == 5
    # Nothing left to ship
    before = rows(sql, shop.id)
    error_of(api.post(f'{path}/ship', token=shop.token, json={
                'lines': [{'line_id': line_id, 'quantity': 1}]}), 409,
        'order_not_shippable')
    error_of(api.post(f'{path}/deliver', token=shop.token, json={
                'delivered_date': str(dt.date.today()
                    + dt.timedelta(days=1))}), 422)
    assert rows(sql, shop.id) == before

    # A salesman records the delivery
    sales = shop.member('sales')
    response = api.post(f'{path}/deliver', token=sales, json={
            'delivered_date': TODAY})
    assert response.status_code == 200, response.text
    conforms(response, '/api/sales/orders/{id}/deliver')
    assert (response.json()['status'],
        response.json()['delivered_date']) == ('delivered', TODAY)
    error_of(api.post(f'{path}/deliver', token=shop.token, json={}), 409,
        'order_not_shipped')


def test_ship_refusals(shop, api, sql):
    "Each refusal answers its status and changes nothing"
    s = Stockist(shop)
    pending = s.order(2, confirm=False)
    order = s.order(8)
    other = s.shop.post(ORDERS, {'customer_id': s.customer['id'],
            'lines': [{'item_type': 'product', 'item_id': s.cap['id'],
                    'quantity': 2, 'unit_price': 100}]})
    other = shop.post(f"{ORDERS}/{other['id']}/confirm", {}, expect=200)
    path = f"{ORDERS}/{order['id']}/ship"
    line_id = order['goods'][0]['line_id']
    sales = shop.member('sales')
    stranger = Shop(api, shop.mail, KA)
    before = rows(sql, shop.id)

    def ship(lines, token=shop.token, url=path):
        return api.post(url, token=token, json={'lines': lines})

    assert ship([{'line_id': line_id, 'quantity': 1}],
        token=None).status_code == 401
    error_of(ship([{'line_id': line_id, 'quantity': 1}],
            token=stranger.token), 404, 'order_not_found')
    error_of(ship([{'line_id': line_id, 'quantity': 1}], token=sales), 403)
    error_of(ship([{'line_id': pending['lines'][0]['id'], 'quantity': 1}],
            url=f"{ORDERS}/{pending['id']}/ship"), 409,
        'order_not_shippable')
    error = error_of(ship([{'line_id': line_id, 'quantity': 9}]), 422)
    assert 'lines.0.quantity' in error['fields']
    error = error_of(ship([{'line_id': line_id, 'quantity': 5},
                {'line_id': line_id, 'quantity': 4}]), 422)
    assert 'lines.1.quantity' in error['fields']
    error = error_of(ship([{'line_id': other['goods'][0]['line_id'],
                    'quantity': 1}]), 422)
    assert 'lines.0.line_id' in error['fields']
    error = error_of(ship([{'line_id': line_id, 'quantity': 1,
                    'batch_id': s.c1}]), 422)
    assert 'lines.0.batch_id' in error['fields']
    error = error_of(ship([{'line_id': line_id, 'quantity': 0}]), 422)
    assert 'lines.0.quantity' in error['fields']
    error_of(ship([]), 422)
    # V-1 holds 5
    error_of(ship([{'line_id': line_id, 'quantity': 6,
                    'batch_id': s.v1}]), 409, 'insufficient_stock')
    error_of(api.post(f"{ORDERS}/{order['id']}/deliver", token=shop.token,
            json={}), 409, 'order_not_shipped')
    assert rows(sql, shop.id) == before
    assert shop.get(f"{ORDERS}/{order['id']}")['status'] == 'ready_to_ship'


def test_leads_numbered_per_business(shop, api):
    "LEAD-001, LEAD-002 in a business; another business starts at 001"
    first = shop.post('/api/crm/leads', {'company_name': "Alpha Pumps"})
    second = shop.post('/api/crm/leads', {'contact_person': "B. Rao"})
    assert (first['number'], second['number']) == ('LEAD-001', 'LEAD-002')
    other = Shop(api, shop.mail, KA)
    assert other.post('/api/crm/leads', {'company_name': "Gamma"})[
        'number'] == 'LEAD-001'
    assert [l['number'] for l in shop.get('/api/crm/leads',
            q='LEAD-002')['items']] == ['LEAD-002']


def test_quote_date_at_creation(shop):
    "A quotation is dated when made; the date can be changed while a draft"
    customer = shop.post('/api/crm/customers', {'name': "Thermax Ltd",
            'billing_address': {'city': "Pune", 'state': 'IN-MH'}})
    quotation = shop.post('/api/crm/quotations', {
            'customer_id': customer['id'], 'lines': [{
                    'item_type': 'service', 'description': "Machining",
                    'quantity': 1, 'unit_price': 1000}]})
    assert quotation['quote_date'] == TODAY
    assert quotation['valid_until'] == str(
        dt.date.today() + dt.timedelta(days=30))
    earlier = str(dt.date.today() - dt.timedelta(days=3))
    changed = shop.put(f"/api/crm/quotations/{quotation['id']}",
        {'quote_date': earlier})
    assert changed['quote_date'] == earlier
    assert shop.get('/api/crm/quotations')['items'][0]['quote_date'] == \
        earlier


def test_purchase_order_confirmed_awaits_delivery(shop):
    "Confirmed within the threshold: awaiting delivery in the answer itself"
    shop.put('/api/inventory/settings', {'approval_threshold': 10000,
            'receipt_tolerance': 0})
    bar = shop.post('/api/inventory/materials', {'name': "EN8 Round Bar",
            'unit': 'kg', 'cost_price': 80})
    vendor = shop.post('/api/inventory/vendors', {'name': "Vardhman",
            'address': {'city': "Kalamboli", 'state': 'IN-MH'}})
    path = '/api/inventory/purchase-orders'
    po = shop.post(path, {'vendor_id': vendor['id'], 'lines': [
                {'item_id': bar['id'], 'quantity': 10, 'unit_price': 80}]})
    confirmed = shop.post(f"{path}/{po['id']}/confirm", expect=200)
    assert (confirmed['status'], confirmed['approved_by']) == (
        'awaiting_delivery', None)
    assert shop.get(f"{path}/{po['id']}")['status'] == 'awaiting_delivery'
    assert [p['id'] for p in shop.get(path,
            status='awaiting_delivery')['items']] == [po['id']]
    assert shop.get(path, status='approved')['total'] == 0
