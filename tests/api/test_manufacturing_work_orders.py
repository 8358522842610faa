"""/api/manufacturing/work-orders against the live trytond: work orders
made from a sales order and by hand, listed, read, changed and deleted;
scheduled against the stock (the exact shortage, then reserved), started,
timed operations, materials consumed from batches with wastage, completed
into a new batch with rejects into scrap; refusals (401, 403, 404, 409,
422) changing nothing; 20 simultaneous consumptions against a batch that
holds enough for 10, and two simultaneous starts on one machine."""
import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
import requests

from conftest import RPCError
from .conftest import new_email
from .test_inventory_api import Shop, error_of

WO = '/api/manufacturing/work-orders'
MACHINES = '/api/manufacturing/machines'
KA = {'name': "Rao Mouldings Pvt Ltd", 'state': 'IN-KA'}


def D(value):
    return Decimal(str(value))


@pytest.fixture
def shop(api, mail, live_server):
    return Shop(api, mail, server=live_server)


class Workshop:
    """A business ready to make flanges: two machines, two materials (the
    bar tracked by batch), the flange with its active BOM (bar 0.5 kg with
    4 % wastage, sheet 0.2 kg per flange) and its routing (turning on the
    lathe then drilling on the VMC)"""

    def __init__(self, shop):
        self.shop = shop
        self.lathe = shop.post(MACHINES, {'name': "Lathe",
                'hourly_rate': 600})
        self.vmc = shop.post(MACHINES, {'name': "VMC", 'hourly_rate': 900})
        self.bar = shop.post('/api/inventory/materials', {
                'name': "EN8 Round Bar", 'unit': 'kg', 'cost_price': 80,
                'batch_tracking': True})
        self.sheet = shop.post('/api/inventory/materials', {
                'name': "MS Sheet", 'unit': 'kg', 'cost_price': 60})
        self.oil = shop.post('/api/inventory/materials', {
                'name': "Cutting Oil", 'unit': 'kg', 'cost_price': 150})
        self.flange = shop.post('/api/inventory/products', {
                'name': "Flange 40", 'unit': 'u', 'selling_price': 450})
        template = shop.rpc('product.product', 'read', [self.flange['id']],
            ['template'])[0]['template']
        # Made to order: a confirmed sale asks for a work order
        shop.rpc('product.template', 'write', [template],
            {'supply_on_sale': 'always'})
        kg, = shop.rpc('product.uom', 'search', [('symbol', '=', 'kg')])
        unit, = shop.rpc('product.uom', 'search', [('symbol', '=', 'u')])
        self.bom, = shop.rpc('production.bom', 'create', [{
                    'name': "Flange 40",
                    'inputs': [('create', [
                                {'product': self.bar['id'], 'quantity': 0.5,
                                    'unit': kg, 'wastage_percent': '4'},
                                {'product': self.sheet['id'],
                                    'quantity': 0.2, 'unit': kg}])],
                    'outputs': [('create', [{'product': self.flange['id'],
                                    'quantity': 1, 'unit': unit}])]}])
        turning, drilling = shop.rpc('production.routing.operation',
            'create', [{'name': 'Turning'}, {'name': 'Drilling'}])
        self.routing, = shop.rpc('production.routing', 'create', [{
                    'name': "Flange 40", 'boms': [('add', [self.bom])],
                    'steps': [('create', [
                                {'operation': turning, 'sequence': 1,
                                    'work_center': self.lathe['id'],
                                    'minutes_per_unit': '3',
                                    'setup_minutes': '30'},
                                {'operation': drilling, 'sequence': 2,
                                    'work_center': self.vmc['id'],
                                    'minutes_per_unit': '1.5',
                                    'setup_minutes': '15'}])]}])
        shop.rpc('product.product', 'write', [self.flange['id']], {
                'boms': [('create', [{'bom': self.bom,
                                'routing': self.routing}])]})

    def batch(self, material, number, quantity):
        "A batch of the material counted in with quantity"
        self.shop.rpc('stock.lot', 'create', [{'number': number,
                    'product': material['id']}])
        self.shop.post('/api/inventory/adjustments', {
                'reason': "Opening stock", 'lines': [{
                        'item_id': material['id'],
                        'counted_quantity': quantity, 'batch': number}]})

    def stock(self, quantity_bar=None, quantity_sheet=None):
        "Count the bar (batch H-1) and the sheet in"
        if quantity_bar is not None:
            self.batch(self.bar, 'H-1', quantity_bar)
        if quantity_sheet is not None:
            self.shop.post('/api/inventory/adjustments', {
                    'reason': "Opening stock", 'lines': [{
                            'item_id': self.sheet['id'],
                            'counted_quantity': quantity_sheet}]})

    def work_order(self, quantity=100, **values):
        return self.shop.post(WO, {'product_id': self.flange['id'],
                'quantity_planned': quantity, **values})

    def running(self, quantity=100):
        "A work order scheduled and started, its materials in stock"
        self.stock(quantity_bar=float(D('0.52') * quantity),
            quantity_sheet=float(D('0.2') * quantity))
        order = self.work_order(quantity)
        self.shop.post(f"{WO}/{order['id']}/schedule", expect=200)
        return self.shop.post(f"{WO}/{order['id']}/start", expect=200)


def employee(shop, name):
    party, = shop.rpc('party.party', 'create', [{'name': name}])
    return shop.rpc('company.employee', 'create', [{'party': party,
                'company': shop.id}])[0]


def wo_rows(sql, business):
    "What refusals must leave untouched"
    return {
        'productions': sql('SELECT COUNT(*), COALESCE(SUM(quantity), 0) '
            'FROM production WHERE company = %s', (business,))[0],
        'states': sql('SELECT id, state FROM production WHERE company = %s '
            'ORDER BY id', (business,)),
        'moves': sql('SELECT COUNT(*), COALESCE(SUM(quantity), 0) FROM '
            'stock_move WHERE company = %s', (business,))[0],
        'move_states': sql('SELECT state, COUNT(*) FROM stock_move '
            'WHERE company = %s GROUP BY state ORDER BY state',
            (business,)),
        'lots': sql('SELECT COUNT(*) FROM stock_lot WHERE company = %s',
            (business,))[0][0],
        'cycles': sql('SELECT COUNT(*) FROM production_work_cycle c '
            'JOIN production_work w ON c.work = w.id '
            'WHERE w.company = %s', (business,))[0][0],
        }


def lot_balance(sql, lot_number, business):
    "Done stock of the batch in the business's storage locations"
    return sql(
        'SELECT COALESCE(SUM(CASE WHEN t.type = %s THEN m.quantity '
        'ELSE 0 END) - SUM(CASE WHEN f.type = %s THEN m.quantity ELSE 0 '
        'END), 0) FROM stock_move m '
        'JOIN stock_lot l ON m.lot = l.id '
        'JOIN stock_location f ON m.from_location = f.id '
        'JOIN stock_location t ON m.to_location = t.id '
        'WHERE m.state = %s AND l.number = %s AND l.company = %s',
        ('storage', 'storage', 'done', lot_number, business))[0][0]


def material_line(materials, material):
    line, = [m for m in materials if m['material']['id'] == material['id']]
    return line


# CRUD -----------------------------------------------------------------------

def test_work_orders_crud(shop, api, conforms, sql):
    """Create by hand with the product's active BOM, list with filters and
    pages, read, change (a draft's quantity recomputes its materials),
    delete a draft"""
    w = Workshop(shop)
    assigned = employee(shop, "Suresh Patil")
    response = api.post(WO, token=shop.token, json={
            'product_id': w.flange['id'], 'quantity_planned': 100,
            'machine_id': w.lathe['id'], 'priority': 'high',
            'assigned_to': assigned, 'planned_start_date': '2026-12-01',
            'planned_end_date': '2026-12-03', 'notes': "Rush job"})
    assert response.status_code == 201, response.text
    conforms(response, WO)
    order = response.json()
    assert response.headers['Location'].endswith(f"{WO}/{order['id']}")
    assert (order['status'], order['priority']) == ('draft', 'high')
    assert (order['product']['id'], order['bom']['id'],
        order['routing']['id']) == (w.flange['id'], w.bom, w.routing)
    assert (D(order['quantity_planned']), D(order['quantity_produced']),
        D(order['quantity_rejected'])) == (100, 0, 0)
    assert order['machine']['id'] == w.lathe['id']
    assert order['assigned_to']['id'] == assigned
    assert (order['planned_start_date'], order['planned_end_date']) == (
        '2026-12-01', '2026-12-03')
    assert order['sales_order'] is None
    # Planned materials: BOM quantity × (1 + wastage) × 100
    response = api.get(f"{WO}/{order['id']}/materials", token=shop.token)
    conforms(response, f'{WO}/{{id}}/materials')
    materials = response.json()['items']
    assert {m['material']['id']: D(m['planned_quantity'])
        for m in materials} == {w.bar['id']: 52, w.sheet['id']: 20}
    assert all(D(m['actual_quantity']) == 0 for m in materials)

    second = w.work_order(10, priority='low',
        planned_start_date='2026-12-05')
    third = w.work_order(5, machine_id=w.vmc['id'],
        planned_start_date='2026-11-20')
    response = api.get(WO, token=shop.token)
    conforms(response, WO)
    page = response.json()
    assert page['total'] == 3
    # Latest planned start first
    assert [o['id'] for o in page['items']] == [
        second['id'], order['id'], third['id']]
    assert [o['id'] for o in shop.get(WO, priority='high')['items']] == [
        order['id']]
    assert [o['id'] for o in shop.get(WO,
            machine_id=w.vmc['id'])['items']] == [third['id']]
    assert [o['id'] for o in shop.get(WO, status='draft', **{
                'from': '2026-12-01', 'to': '2026-12-04'})['items']] == [
        order['id']]
    assert shop.get(WO, status='scheduled')['total'] == 0
    assert shop.get(WO, q='flange 40')['total'] == 3
    assert shop.get(WO, q='no such thing')['total'] == 0
    page = shop.get(WO, limit=1, offset=1, order='planned_start_date')
    assert (page['total'], [o['id'] for o in page['items']]) == (
        3, [order['id']])

    response = api.get(f"{WO}/{order['id']}", token=shop.token)
    conforms(response, f'{WO}/{{id}}')
    assert response.json() == order
    response = api.put(f"{WO}/{order['id']}", token=shop.token, json={
            'quantity_planned': 50, 'priority': 'urgent',
            'notes': "Half now"})
    conforms(response, f'{WO}/{{id}}', 'put')
    changed = response.json()
    assert (D(changed['quantity_planned']), changed['priority']) == (
        50, 'urgent')
    materials = shop.get(f"{WO}/{order['id']}/materials")['items']
    assert {m['material']['id']: D(m['planned_quantity'])
        for m in materials} == {w.bar['id']: 26, w.sheet['id']: 10}

    response = api.delete(f"{WO}/{third['id']}", token=shop.token)
    assert response.status_code == 204, response.text
    shop.get(f"{WO}/{third['id']}", expect=404)
    assert shop.get(WO)['total'] == 2
    assert sql('SELECT COUNT(*) FROM stock_move WHERE production_input = %s '
        'OR production_output = %s', (third['id'], third['id']))[0][0] == 0


def test_work_order_refusals(shop, api, mail, live_server, sql):
    """401, 403, 404, 409 and 422 answers change nothing"""
    w = Workshop(shop)
    other = Shop(api, mail, profile=KA, server=live_server)
    their_machine = other.post(MACHINES, {'name': "Their VMC"})
    their_product = other.post('/api/inventory/products', {
            'name': "Their flange", 'unit': 'u'})
    their_employee = employee(other, "Their fitter")
    theirs = other.post(WO, {'product_id': their_product['id'],
            'quantity_planned': 3})
    order = w.work_order(10)
    before = wo_rows(sql, shop.id)
    their_before = wo_rows(sql, other.id)

    # Without a valid token, every work-order operation answers 401
    one = f"{WO}/{order['id']}"
    for method, path, body in [
            ('get', WO, None),
            ('post', WO, {'product_id': w.flange['id'],
                    'quantity_planned': 1}),
            ('get', one, None), ('put', one, {'priority': 'low'}),
            ('delete', one, None), ('post', f'{one}/schedule', None),
            ('post', f'{one}/start', None), ('post', f'{one}/cancel', None),
            ('post', f'{one}/consume-material', {'material': w.bar['id'],
                    'quantity': 1}),
            ('post', f'{one}/consume-materials', {'lines': [
                        {'material': w.bar['id'], 'quantity': 1}]}),
            ('post', f'{one}/complete', {'quantity_produced': 1}),
            ('get', f'{one}/materials', None),
            ('get', f'{one}/operations', None)] + [
            ('post', f'{one}/operations/1/{action}', {})
            for action in ['start', 'pause', 'resume', 'complete']]:
        kwargs = {} if body is None else {'json': body}
        error_of(getattr(api, method)(path, **kwargs), 401, 'missing_token')
        error_of(getattr(api, method)(path, token='nope', **kwargs), 401,
            'invalid_token')
    for bad, field in [
            ({}, 'product_id'),
            ({'product_id': w.flange['id']}, 'quantity_planned'),
            ({'product_id': w.flange['id'], 'quantity_planned': 0},
                'quantity_planned'),
            ({'product_id': w.flange['id'], 'quantity_planned': -5},
                'quantity_planned'),
            ({'product_id': w.bar['id'], 'quantity_planned': 1},
                'product_id'),
            ({'product_id': their_product['id'], 'quantity_planned': 1},
                'product_id'),
            ({'product_id': w.flange['id'], 'quantity_planned': 1,
                    'machine_id': their_machine['id']}, 'machine_id'),
            ({'product_id': w.flange['id'], 'quantity_planned': 1,
                    'assigned_to': their_employee}, 'assigned_to'),
            ({'product_id': w.flange['id'], 'quantity_planned': 1,
                    'sales_order_id': 999999}, 'sales_order_id'),
            ({'product_id': w.flange['id'], 'quantity_planned': 1,
                    'planned_start_date': '2026-12-05',
                    'planned_end_date': '2026-12-01'}, 'planned_end_date'),
            ({'product_id': w.flange['id'], 'quantity_planned': 1,
                    'priority': 'whenever'}, 'priority'),
            ({'product_id': w.flange['id'], 'quantity_planned': 1,
                    'colour': 'red'}, 'colour'),
            ]:
        error = error_of(api.post(WO, token=shop.token, json=bad), 422)
        assert field in error['fields'], (bad, error)
    error = error_of(api.put(f"{WO}/{order['id']}", token=shop.token,
            json={'machine_id': their_machine['id']}), 422)
    assert 'machine_id' in error['fields']
    # Another business's work order is not found, whatever is asked
    for method, suffix, body in [
            ('get', '', None), ('put', '', {'priority': 'low'}),
            ('delete', '', None), ('post', '/schedule', None),
            ('post', '/start', None), ('post', '/cancel', None),
            ('post', '/consume-material', {'material': w.bar['id'],
                    'quantity': 1}),
            ('post', '/consume-materials', {'lines': [
                        {'material': w.bar['id'], 'quantity': 1}]}),
            ('post', '/complete', {'quantity_produced': 1}),
            ('get', '/materials', None), ('get', '/operations', None),
            ('post', '/operations/1/start', {}),
            ('post', '/operations/1/complete', {})]:
        kwargs = {'token': shop.token}
        if body is not None:
            kwargs['json'] = body
        error_of(getattr(api, method)(f"{WO}/{theirs['id']}{suffix}",
                **kwargs), 404, 'not_found')
    # Not in progress: no consumption, no completion, no start of a draft
    error_of(api.post(f"{WO}/{order['id']}/start", token=shop.token), 409,
        'invalid_state')
    error_of(api.post(f"{WO}/{order['id']}/consume-material",
            token=shop.token, json={'material': w.sheet['id'],
                'quantity': 1}), 409, 'invalid_state')
    error_of(api.post(f"{WO}/{order['id']}/consume-materials",
            token=shop.token, json={'lines': [{'material': w.sheet['id'],
                        'quantity': 1}]}), 409, 'invalid_state')
    error_of(api.post(f"{WO}/{order['id']}/complete", token=shop.token,
            json={'quantity_produced': 1}), 409, 'invalid_state')
    # Roles: an operator runs production but does not plan it; sales
    # people do neither
    operator = shop.member('operator')
    sales = shop.member('sales')
    assert shop.get(WO, token=operator)['total'] == 1
    for method, suffix, body in [
            ('post', '', {'product_id': w.flange['id'],
                    'quantity_planned': 1}),
            ('put', f"/{order['id']}", {'priority': 'low'}),
            ('delete', f"/{order['id']}", None),
            ('post', f"/{order['id']}/schedule", None),
            ('post', f"/{order['id']}/cancel", None)]:
        kwargs = {'token': operator}
        if body is not None:
            kwargs['json'] = body
        error_of(getattr(api, method)(f"{WO}{suffix}", **kwargs), 403,
            'forbidden')
    error_of(api.post(f"{WO}/{order['id']}/start", token=sales), 403)
    error_of(api.post(f"{WO}/{order['id']}/operations/1/start", token=sales,
            json={}), 403)
    error_of(api.post(f"{WO}/{order['id']}/complete", token=sales,
            json={'quantity_produced': 1}), 403)
    # No such operation of the work order
    error_of(api.post(f"{WO}/{order['id']}/operations/999999/start",
            token=shop.token, json={}), 404, 'not_found')
    error_of(api.post(f"{WO}/{order['id']}/consume-material", token=sales,
            json={'material': w.sheet['id'], 'quantity': 1}), 403)
    error_of(api.post(f"{WO}/{order['id']}/consume-materials", token=sales,
            json={'lines': [{'material': w.sheet['id'], 'quantity': 1}]}),
        403)
    assert wo_rows(sql, shop.id) == before
    assert wo_rows(sql, other.id) == their_before
    assert other.get(f"{WO}/{theirs['id']}")['status'] == 'draft'


# Schedule, start, consume, complete ----------------------------------------

def test_operators_do_not_plan_through_the_desk(shop, api, live_server, sql):
    """The desk (JSON-RPC) holds operators to the API's rule: they may not
    create, schedule, cancel or delete work orders; the owner may"""
    w = Workshop(shop)
    order = w.work_order(10)
    email = new_email()
    shop.post(f'/api/businesses/{shop.id}/invitations',
        {'email': email, 'role': 'operator'})
    code = re.search(r'code:\s+(\S+)',
        shop.mail(email).get_payload()).group(1)
    _, password, member = api.register(email=email)
    shop.post('/api/invitations/accept', {'token': code},
        token=member['token'], expect=200)
    operator = live_server.login(email, password)
    before = wo_rows(sql, shop.id)
    for method, args in [
            ('create', [[{'product': w.flange['id'], 'quantity': 1,
                            'company': shop.id}]]),
            ('schedule', [[order['id']]]),
            ('cancel', [[order['id']]]),
            ('delete', [[order['id']]])]:
        try:
            operator.call('production', method, *args)
        except RPCError as refusal:
            assert ('Only owners' in str(refusal)
                or 'not allowed' in str(refusal)), (method, refusal)
        else:
            pytest.fail(f"an operator could {method} a work order")
    assert wo_rows(sql, shop.id) == before
    # The operator still reads the work order; the owner plans it
    assert operator.call('production', 'read', [order['id']],
        ['state'])[0]['state'] == 'draft'
    shop.rpc('production', 'cancel', [order['id']])
    assert shop.get(f"{WO}/{order['id']}")['status'] == 'cancelled'


def test_sales_order_to_finished_batch(shop, api, conforms, sql):
    """Sales order confirmed → its work order → schedule refused with the
    exact shortage → materials counted in → scheduled (reserved) →
    started → two operations timed on two machines → materials consumed
    from batches with wastage → completed with 95 good and 5 rejected"""
    w = Workshop(shop)
    customer = shop.post('/api/crm/customers', {'name': "Kirloskar Pumps",
            'billing_address': {'street': "Gat 112", 'city': "Chakan",
                'postal_code': '410501', 'state': 'IN-MH'}})
    sale = shop.post('/api/sales/orders', {'customer_id': customer['id'],
            'lines': [{'item_type': 'product', 'item_id': w.flange['id'],
                    'quantity': 100, 'unit_price': 450}]})
    shop.post(f"/api/sales/orders/{sale['id']}/confirm", {}, expect=200)
    page = shop.get(WO, sales_order_id=sale['id'])
    assert page['total'] == 1, page
    order, = page['items']
    path = f"{WO}/{order['id']}"
    assert order['sales_order']['id'] == sale['id']
    assert order['sales_order']['number'] == shop.get(
        f"/api/sales/orders/{sale['id']}")['order_number']
    assert (order['status'], D(order['quantity_planned'])) == ('draft', 100)
    assert order['bom']['id'] == w.bom

    # Short: 52 kg of bar needed, 30 kg in stock (heat H-1); no sheet; an
    # approved purchase order brings 40 kg of sheet
    w.stock(quantity_bar=30)
    vendor = shop.post('/api/inventory/vendors', {'name': "Steel Mart",
            'address': {'street': "Iron Market", 'city': "Kalamboli",
                'postal_code': '410218', 'state': 'IN-MH'}})
    po = shop.post('/api/inventory/purchase-orders', {
            'vendor_id': vendor['id'], 'expected_date': '2026-12-10',
            'lines': [{'item_id': w.sheet['id'], 'quantity': 40,
                    'unit_price': 60}]})
    shop.post(f"/api/inventory/purchase-orders/{po['id']}/confirm",
        expect=200)
    before = wo_rows(sql, shop.id)
    response = api.post(f'{path}/schedule', token=shop.token)
    conforms(response, f'{WO}/{{id}}/schedule')
    error = error_of(response, 409, 'material_shortage')
    shortages = {s['material']['id']: s
        for s in error['details']['shortages']}
    assert set(shortages) == {w.bar['id'], w.sheet['id']}
    bar, sheet = shortages[w.bar['id']], shortages[w.sheet['id']]
    assert [D(bar[k]) for k in ['required', 'available', 'short']] == [
        52, 30, 22]
    assert (bar['unit'], bar['open_purchase_orders']) == ('kg', [])
    assert [D(sheet[k]) for k in ['required', 'available', 'short']] == [
        20, 0, 20]
    open_po, = sheet['open_purchase_orders']
    assert (open_po['id'], D(open_po['quantity']),
        open_po['expected_date']) == (po['id'], 40, '2026-12-10')
    assert wo_rows(sql, shop.id) == before
    assert shop.get(path)['status'] == 'draft'

    # Counted in: 30 + 30 kg of bar in two heats, 25 kg of sheet
    w.batch(w.bar, 'H-2', 30)
    w.stock(quantity_sheet=25)
    response = api.post(f'{path}/schedule', token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, f'{WO}/{{id}}/schedule')
    order = response.json()
    assert order['status'] == 'scheduled'
    assert order['work_order_number'].startswith(
        f'WO-{dt.date.today().year}-')
    bar_item = shop.get(f"/api/inventory/materials/{w.bar['id']}")
    assert (D(bar_item['current_stock']), D(bar_item['reserved_stock'])) \
        == (60, 52)
    assert shop.get(f"/api/sales/orders/{sale['id']}")['status'] in {
        'confirmed', 'in_production'}

    response = api.post(f'{path}/start', token=shop.token)
    assert response.status_code == 200, response.text
    order = response.json()
    assert order['status'] == 'in_progress' and order['actual_start_time']
    assert shop.get(f"/api/sales/orders/{sale['id']}")['status'] == \
        'in_production'

    # Operations: turning on the lathe, paused and resumed, drilling on
    # the VMC at the same time
    fitter = employee(shop, "Ramesh Jadhav")
    response = api.get(f'{path}/operations', token=shop.token)
    conforms(response, f'{WO}/{{id}}/operations')
    turn, drill = response.json()['items']
    assert (turn['operation_name'], turn['machine']['id'],
        D(turn['planned_duration']), turn['status']) == (
        'Turning', w.lathe['id'], 330, 'pending')
    assert (drill['operation_name'], drill['machine']['id'],
        D(drill['planned_duration'])) == ('Drilling', w.vmc['id'], 165)
    op = f'{path}/operations'
    response = api.post(f"{op}/{turn['id']}/start", token=shop.token,
        json={'operator_id': fitter})
    assert response.status_code == 200, response.text
    conforms(response, f'{WO}/{{id}}/operations/{{operation_id}}/start')
    started = response.json()
    assert (started['status'], started['running'],
        started['operator']['id']) == ('in_progress', True, fitter)
    assert shop.get(f"{MACHINES}/{w.lathe['id']}")['status'] == 'running'
    for operation, action, code in [
            (turn, 'start', 'operation_running'),
            (drill, 'pause', 'operation_not_running'),
            (drill, 'resume', 'operation_not_started')]:
        error_of(api.post(f"{op}/{operation['id']}/{action}",
                token=shop.token, json={}), 409, code)
    paused = shop.post(f"{op}/{turn['id']}/pause", {'quantity': 40},
        expect=200)
    assert paused['running'] is False
    assert shop.get(f"{MACHINES}/{w.lathe['id']}")['status'] == 'available'
    resumed = shop.post(f"{op}/{turn['id']}/resume", {}, expect=200)
    assert resumed['running']
    shop.post(f"{op}/{drill['id']}/start", {}, expect=200)
    done = shop.post(f"{op}/{turn['id']}/complete", {}, expect=200)
    assert (done['status'], done['running']) == ('completed', False)
    assert D(done['actual_duration']) >= 0
    shop.post(f"{op}/{drill['id']}/complete", {'quantity': 100}, expect=200)
    assert [o['status'] for o in shop.get(f'{path}/operations')['items']] \
        == ['completed', 'completed']

    # Consumption: bar from two heats with wastage, sheet without batch
    response = api.post(f'{path}/consume-material', token=shop.token,
        json={'material': w.bar['id'], 'quantity': 28,
            'wastage_quantity': '1.5', 'batch': 'H-1'})
    assert response.status_code == 201, response.text
    conforms(response, f'{WO}/{{id}}/consume-material')
    consumed = response.json()
    assert consumed['batch']['name'] == 'H-1'
    line = material_line(consumed['materials'], w.bar)
    assert [D(line[k]) for k in ['planned_quantity', 'actual_quantity',
            'wastage_quantity']] == [52, 28, D('1.5')]
    lot_h2 = sql('SELECT id FROM stock_lot WHERE company = %s AND '
        'number = %s', (shop.id, 'H-2'))[0][0]
    shop.post(f'{path}/consume-material', {'material': w.bar['id'],
            'quantity': 21, 'wastage_quantity': 1, 'batch': lot_h2})
    shop.post(f'{path}/consume-material', {'material': w.sheet['id'],
            'quantity': 19, 'wastage_quantity': '0.5'})
    response = api.get(f'{path}/materials', token=shop.token)
    conforms(response, f'{WO}/{{id}}/materials')
    materials = response.json()['items']
    line = material_line(materials, w.bar)
    assert [D(line[k]) for k in ['planned_quantity', 'actual_quantity',
            'wastage_quantity']] == [52, 49, D('2.5')]
    assert sorted(line['batches']) == ['H-1', 'H-2']
    line = material_line(materials, w.sheet)
    assert [D(line[k]) for k in ['planned_quantity', 'actual_quantity',
            'wastage_quantity']] == [20, 19, D('0.5')]

    # Completed: 95 good under a new batch, 5 rejected into scrap
    response = api.post(f'{path}/complete', token=shop.token, json={
            'quantity_produced': 95, 'quantity_rejected': 5,
            'reject_reason': "Bore oversize", 'batch_number': 'FL-0001'})
    assert response.status_code == 200, response.text
    conforms(response, f'{WO}/{{id}}/complete')
    completed = response.json()
    assert completed['output_batch']['name'] == 'FL-0001'
    assert (D(completed['quantity_produced']),
        D(completed['scrap_quantity'])) == (95, 5)
    order = completed['work_order']
    assert (order['status'], D(order['quantity_produced']),
        D(order['quantity_rejected']), order['reject_reason']) == (
        'completed', 95, 5, "Bore oversize")
    assert order['actual_end_time'] >= order['actual_start_time']
    # Materials at cost: (49 + 2.5) kg × 80 + (19 + 0.5) kg × 60 = 5290,
    # plus the machines' hours
    assert D(completed['cost']) >= D('5290')
    assert D(completed['unit_cost']) > 0
    assert lot_balance(sql, 'FL-0001', shop.id) == 95
    flange = shop.get(f"/api/inventory/products/{w.flange['id']}")
    assert D(flange['current_stock']) == 95
    bar_item = shop.get(f"/api/inventory/materials/{w.bar['id']}")
    assert (D(bar_item['current_stock']), D(bar_item['reserved_stock'])) \
        == (D('8.5'), 0)
    assert lot_balance(sql, 'H-1', shop.id) == D('0.5')
    assert lot_balance(sql, 'H-2', shop.id) == 8
    sheet_item = shop.get(f"/api/inventory/materials/{w.sheet['id']}")
    assert D(sheet_item['current_stock']) == D('5.5')
    scrap = sql('SELECT COALESCE(SUM(m.quantity), 0) FROM stock_move m '
        'JOIN stock_location t ON m.to_location = t.id '
        'WHERE m.production_output = %s AND t.type = %s AND m.state = %s',
        (order['id'], 'lost_found', 'done'))[0][0]
    assert scrap == 5
    assert [o['id'] for o in shop.get(WO, status='completed')['items']] \
        == [order['id']]
    # Closed: no more changes, no cancel, no delete
    error_of(api.post(f'{path}/complete', token=shop.token,
            json={'quantity_produced': 1}), 409, 'invalid_state')
    error_of(api.put(path, token=shop.token, json={'priority': 'low'}),
        409, 'work_order_closed')
    error_of(api.post(f'{path}/cancel', token=shop.token), 409,
        'invalid_state')
    error_of(api.delete(path, token=shop.token), 409, 'work_order_not_draft')


def test_scheduled_changes_and_cancel(shop, api, conforms, sql):
    """A scheduled work order keeps its quantity (409) but changes its
    priority; cancelling releases its reservations"""
    w = Workshop(shop)
    w.stock(quantity_bar=60, quantity_sheet=30)
    order = w.work_order(100)
    path = f"{WO}/{order['id']}"
    shop.post(f'{path}/schedule', expect=200)
    bar = shop.get(f"/api/inventory/materials/{w.bar['id']}")
    assert D(bar['reserved_stock']) == 52
    error = error_of(api.put(path, token=shop.token,
            json={'quantity_planned': 10}), 409, 'work_order_not_draft')
    assert 'quantity_planned' in error['fields']
    error_of(api.post(f'{path}/schedule', token=shop.token), 409,
        'invalid_state')
    error_of(api.delete(path, token=shop.token), 409, 'work_order_not_draft')
    changed = shop.put(path, {'priority': 'urgent', 'notes': "Call first"})
    assert (changed['priority'], changed['status']) == ('urgent', 'scheduled')
    response = api.post(f'{path}/cancel', token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, f'{WO}/{{id}}/cancel')
    assert response.json()['status'] == 'cancelled'
    bar = shop.get(f"/api/inventory/materials/{w.bar['id']}")
    assert (D(bar['current_stock']), D(bar['reserved_stock'])) == (60, 0)
    error_of(api.post(f'{path}/cancel', token=shop.token), 409,
        'invalid_state')


def test_consumption_and_completion_refusals(shop, api, sql):
    """Bad consumption and completion: 422 naming the field (or 409 for an
    exhausted batch), nothing changed"""
    w = Workshop(shop)
    order = w.running(100)
    path = f"{WO}/{order['id']}"
    w.batch(w.oil, 'OIL-7', 5)
    w.batch(w.bar, 'H-9', 3)
    other_lot = 'OIL-7'  # a batch of another material than the bar
    before = wo_rows(sql, shop.id)
    for body, field in [
            ({'material': w.oil['id'], 'quantity': 1}, 'material'),
            ({'material': w.bar['id'], 'quantity': 0, 'batch': 'H-1'},
                'quantity'),
            ({'material': w.bar['id'], 'quantity': -2, 'batch': 'H-1'},
                'quantity'),
            ({'material': w.bar['id'], 'quantity': 1,
                    'wastage_quantity': -1, 'batch': 'H-1'},
                'wastage_quantity'),
            ({'material': w.bar['id'], 'quantity': 1, 'batch': other_lot},
                'batch'),
            ({'material': w.bar['id'], 'quantity': 1, 'batch': 'NOPE'},
                'batch'),
            ({'material': 999999, 'quantity': 1}, 'material'),
            ({'material': w.bar['id']}, 'quantity'),
            ]:
        error = error_of(api.post(f'{path}/consume-material',
                token=shop.token, json=body), 422)
        assert field in error['fields'], (body, error)
    oil_lot = sql('SELECT id FROM stock_lot WHERE company = %s AND '
        'number = %s', (shop.id, 'OIL-7'))[0][0]
    error = error_of(api.post(f'{path}/consume-material', token=shop.token,
            json={'material': w.bar['id'], 'quantity': 1,
                'batch': oil_lot}), 422)
    assert 'batch' in error['fields'], error
    # More than the batch holds
    error_of(api.post(f'{path}/consume-material', token=shop.token, json={
                'material': w.bar['id'], 'quantity': 3,
                'wastage_quantity': 1, 'batch': 'H-9'}), 409,
        'batch_exhausted')
    # Operations not finished: not completed yet
    error = error_of(api.post(f'{path}/complete', token=shop.token, json={
                'quantity_produced': 100}), 409, 'operations_not_finished')
    assert 'Turning' in error['message'] and 'Drilling' in error['message']
    assert wo_rows(sql, shop.id) == before
    # An operator runs the operations
    operator = shop.member('operator')
    for operation in shop.get(f'{path}/operations', token=operator)[
            'items']:
        shop.post(f"{path}/operations/{operation['id']}/start", {},
            token=operator, expect=200)
        shop.post(f"{path}/operations/{operation['id']}/complete", {},
            token=operator, expect=200)
    before = wo_rows(sql, shop.id)
    for body, field in [
            ({'quantity_produced': 0}, 'quantity_produced'),
            ({'quantity_produced': -1}, 'quantity_produced'),
            # Beyond the planned 100 and the default tolerance of 0 %: the
            # rejects are one too many
            ({'quantity_produced': 100, 'quantity_rejected': 1,
                    'reject_reason': "Burr"}, 'quantity_rejected'),
            ({'quantity_produced': 101}, 'quantity_produced'),
            ({'quantity_produced': 90, 'quantity_rejected': 5},
                'reject_reason'),
            ({'quantity_produced': 90, 'quantity_rejected': -5},
                'quantity_rejected'),
            ]:
        error = error_of(api.post(f'{path}/complete', token=shop.token,
                json=body), 422)
        assert field in error['fields'], (body, error)
    assert wo_rows(sql, shop.id) == before
    assert shop.get(path)['status'] == 'in_progress'
    # A substitute, when allowed for the consumption
    consumed = shop.post(f'{path}/consume-material', {
            'material': w.oil['id'], 'quantity': 2, 'batch': 'OIL-7',
            'allow_substitute': True})
    line = material_line(consumed['materials'], w.oil)
    assert (D(line['planned_quantity']), D(line['actual_quantity'])) == (
        0, 2)
    # The operator consumes and completes
    response = api.post(f'{path}/consume-material', token=operator, json={
            'material': w.bar['id'], 'quantity': 2, 'batch': 'H-1'})
    assert response.status_code == 201, response.text
    response = api.post(f'{path}/complete', token=operator, json={
            'quantity_produced': 100})
    assert response.status_code == 200, response.text
    assert response.json()['work_order']['status'] == 'completed'


def test_materials_issued_in_one_request(shop, api, conforms, sql):
    """Scheduling reserves the oldest batches first (a move split over two
    heats); a whole issue of materials is one request, all or nothing:
    refusals name lines.N.<field> and change nothing; lines of one batch
    add up against what it holds"""
    w = Workshop(shop)
    w.batch(w.bar, 'H-1', 30)
    w.batch(w.bar, 'H-2', 30)
    w.stock(quantity_sheet=20)
    order = w.work_order(100)  # 52 kg of bar (0.5 kg + 4 %), 20 kg of sheet
    path = f"{WO}/{order['id']}"
    shop.post(f'{path}/schedule', expect=200)
    reserved = sql('SELECT l.number, SUM(m.quantity) FROM stock_move m '
        'LEFT JOIN stock_lot l ON m.lot = l.id WHERE m.production_input = '
        '%s AND m.product = %s AND m.state = %s GROUP BY l.number '
        'ORDER BY l.number', (order['id'], w.bar['id'], 'assigned'))
    assert [(n, D(q)) for n, q in reserved] == [
        ('H-1', 30), ('H-2', 22)], reserved
    shop.post(f'{path}/start', expect=200)

    before = wo_rows(sql, shop.id)
    bar, sheet = w.bar['id'], w.sheet['id']
    error = error_of(api.post(f'{path}/consume-materials', token=shop.token,
            json={'lines': [
                    {'material': bar, 'quantity': 10, 'batch': 'H-1'},
                    {'material': sheet, 'quantity': 0}]}), 422)
    assert 'lines.1.quantity' in error['fields'], error
    error = error_of(api.post(f'{path}/consume-materials', token=shop.token,
            json={'lines': [
                    {'material': sheet, 'quantity': 5},
                    {'material': bar, 'quantity': 1, 'batch': 'NOPE'}]}),
        422, 'unknown_batch')
    assert 'lines.1.batch' in error['fields'], error
    # Together more than H-1 holds
    error = error_of(api.post(f'{path}/consume-materials', token=shop.token,
            json={'lines': [
                    {'material': bar, 'quantity': 20, 'batch': 'H-1'},
                    {'material': bar, 'quantity': 15, 'batch': 'H-1'}]}),
        409, 'batch_exhausted')
    assert 'lines.1.batch' in error['fields'], error
    error_of(api.post(f'{path}/consume-materials', token=shop.token,
            json={'lines': []}), 422)
    assert wo_rows(sql, shop.id) == before

    operator = shop.member('operator')
    response = api.post(f'{path}/consume-materials', token=operator, json={
            'lines': [
                {'material': bar, 'quantity': 30, 'batch': 'H-1'},
                {'material': bar, 'quantity': 20, 'wastage_quantity': 2,
                    'batch': 'H-2'},
                {'material': sheet, 'quantity': '20.0'}]})
    assert response.status_code == 201, response.text
    conforms(response, f'{WO}/{{id}}/consume-materials')
    issued = response.json()
    assert [(l['material']['id'], l['batch'] and l['batch']['name'],
            D(l['quantity']), D(l['wastage_quantity']))
        for l in issued['lines']] == [
        (bar, 'H-1', 30, 0), (bar, 'H-2', 20, 2), (sheet, None, 20, 0)]
    line = material_line(issued['materials'], w.bar)
    assert (D(line['planned_quantity']), D(line['actual_quantity']),
        D(line['wastage_quantity']), line['batches']) == (
        52, 50, 2, ['H-1', 'H-2'])
    assert D(material_line(issued['materials'], w.sheet)[
            'actual_quantity']) == 20
    assert (lot_balance(sql, 'H-1', shop.id),
        lot_balance(sql, 'H-2', shop.id)) == (0, 8)
    # Consumed on the day it is recorded; nothing of the bar left planned
    assert sql('SELECT DISTINCT effective_date = CURRENT_DATE FROM '
        'stock_move WHERE production_input = %s AND state = %s',
        (order['id'], 'done')) == [(True,)]
    assert sql('SELECT COUNT(*) FROM stock_move WHERE production_input = %s '
        'AND product = %s AND state IN (%s, %s)',
        (order['id'], bar, 'draft', 'assigned'))[0][0] == 0


def test_paused_operation_is_in_progress(shop, api):
    """A paused operation is still in progress and resumes; a completed one
    does not resume"""
    w = Workshop(shop)
    order = w.running(10)
    path = f"{WO}/{order['id']}/operations"
    turn, _ = shop.get(path)['items']
    shop.post(f"{path}/{turn['id']}/start", {}, expect=200)
    paused = shop.post(f"{path}/{turn['id']}/pause", {}, expect=200)
    assert (paused['status'], paused['running']) == ('in_progress', False)
    assert shop.post(f"{path}/{turn['id']}/resume", {}, expect=200)[
        'running']
    done = shop.post(f"{path}/{turn['id']}/complete", {}, expect=200)
    assert done['status'] == 'completed'
    error_of(api.post(f"{path}/{turn['id']}/resume", token=shop.token,
            json={}), 409, 'operation_completed')


# Concurrency ----------------------------------------------------------------

def test_twenty_simultaneous_consumptions(shop, api, live_server, sql):
    """20 requests consume 2 kg each at once from a batch of 20 kg: exactly
    10 succeed, the others answer 409, and the batch never goes below 0"""
    w = Workshop(shop)
    # 40 flanges: 20.8 kg of bar planned; the batch H-1 holds 20 kg, the
    # heat H-2 the rest so that the order is scheduled
    w.stock(quantity_bar=20, quantity_sheet=8)
    w.batch(w.bar, 'H-2', 1)
    order = w.work_order(40)
    path = f"{WO}/{order['id']}"
    shop.post(f'{path}/schedule', expect=200)
    shop.post(f'{path}/start', expect=200)
    barrier = threading.Barrier(20)
    statuses = []
    lock = threading.Lock()

    def consume():
        with requests.Session() as session:
            barrier.wait()
            response = session.post(api.url + f'{path}/consume-material',
                headers={'Authorization': f'Bearer {shop.token}'},
                json={'material': w.bar['id'], 'quantity': 2,
                    'batch': 'H-1'}, timeout=120)
        with lock:
            statuses.append((response.status_code,
                    response.json().get('error', {}).get('code')))
    threads = [threading.Thread(target=consume) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s for s, _ in statuses) == [201] * 10 + [409] * 10, \
        statuses
    assert {c for s, c in statuses if s == 409} == {'batch_exhausted'}
    assert lot_balance(sql, 'H-1', shop.id) == 0
    # No move out of the batch left it below zero at any point: what left
    # is exactly what came in
    assert sql('SELECT COUNT(*) FROM stock_move m JOIN stock_lot l '
        'ON m.lot = l.id WHERE l.number = %s AND l.company = %s '
        'AND m.production_input = %s AND m.state = %s',
        ('H-1', shop.id, order['id'], 'done'))[0][0] >= 10
    line = material_line(shop.get(f'{path}/materials')['items'], w.bar)
    assert D(line['actual_quantity']) == 20
    assert D(shop.get(f"/api/inventory/materials/{w.bar['id']}")[
            'current_stock']) == 1


def test_simultaneous_operation_starts_on_one_machine(shop, api, mail,
        live_server, sql):
    """Two operations on the lathe started at once by two operators: one
    runs, the other answers 409 naming it"""
    w = Workshop(shop)
    order = w.running(10)
    path = f"{WO}/{order['id']}/operations"
    turn, drill = shop.get(path)['items']
    # An operator of another business is refused, nothing starts
    other = Shop(api, mail, profile=KA, server=live_server)
    before = wo_rows(sql, shop.id)
    error = error_of(api.post(f"{path}/{turn['id']}/start", token=shop.token,
            json={'operator_id': employee(other, "Their fitter")}), 422)
    assert 'operator_id' in error['fields'], error
    assert wo_rows(sql, shop.id) == before
    # Both on the lathe
    shop.rpc('production.work', 'write', [drill['id']],
        {'work_center': w.lathe['id']})
    operators = [employee(shop, "Sagar"), employee(shop, "Vinod")]
    barrier = threading.Barrier(2)
    answers = {}

    def start(operation, operator):
        with requests.Session() as session:
            barrier.wait()
            answers[operation] = session.post(
                api.url + f"{path}/{operation}/start",
                headers={'Authorization': f'Bearer {shop.token}'},
                json={'operator_id': operator}, timeout=120)
    threads = [threading.Thread(target=start, args=(o['id'], e))
        for o, e in zip([turn, drill], operators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers.values()) == [200, 409], \
        {k: r.text for k, r in answers.items()}
    ran, = [k for k, r in answers.items() if r.status_code == 200]
    refused, = [r for r in answers.values() if r.status_code == 409]
    error = refused.json()['error']
    assert error['code'] == 'operation_conflict'
    running = error['details']['running_operation']
    assert running['id'] == ran
    assert running['name'] in error['message']
    assert error['fields']['running_operation'] == running['name']
    statuses = {o['id']: o['running'] for o in shop.get(path)['items']}
    assert statuses == {turn['id']: ran == turn['id'],
        drill['id']: ran == drill['id']}
