"""/api/manufacturing/boms and /routings against the live trytond (issue 14
§2 and §3): BOMs with versions (create, read, update, new version,
activate, one active per product) and routings (operations on a machine or
a machine type); products made to order with their BOM and routing
through /api/inventory/products, and a sales order of such a product
confirmed through the API creating its work order with them; refusals
(401, 403, 404, 409, 422) changing nothing in the database.

The contract (helper "sales" relies on it):
- GET /api/manufacturing/boms (?product_id=, ?active=, pages);
  POST /api/manufacturing/boms {product_id, name?, quantity (output, default
  1), lines: [{material_id, quantity, unit?, wastage_percent?}]} -> 201, the
  next version of the product (the first one active);
  GET/PUT /api/manufacturing/boms/{id} (PUT: name always, quantity and
  lines while no work order uses the BOM, else 409 bom_in_use);
  POST /api/manufacturing/boms/{id}/new-version -> 201 (copy, version + 1,
  inactive); POST /api/manufacturing/boms/{id}/activate (the product's
  other versions inactive, the product uses it).
- GET /api/manufacturing/routings (?product_id=, ?bom_id=);
  POST /api/manufacturing/routings {name, product_id?, bom_id?,
  operations: [{sequence?, name, machine_id? | machine_type_id?,
  minutes_per_unit?, setup_minutes?}]} -> 201; GET/PUT .../routings/{id}.
- /api/inventory/products: made_to_order, bom_id, routing_id in and out.
"""
from .test_inventory_api import D, Shop, error_of, shop  # noqa: F401 (fixture)

BOMS = '/api/manufacturing/boms'
ROUTINGS = '/api/manufacturing/routings'
MACHINES = '/api/manufacturing/machines'
PRODUCTS = '/api/inventory/products'
KA = {'name': "Rao Mouldings Pvt Ltd", 'state': 'IN-KA'}


class Kit:
    "Two materials and a manufactured product made through the API"

    def __init__(self, shop):
        self.shop = shop
        self.bar = shop.post('/api/inventory/materials', {
                'name': "EN8 Round Bar", 'unit': 'kg', 'cost_price': 80})
        self.sheet = shop.post('/api/inventory/materials', {
                'name': "MS Sheet", 'unit': 'kg', 'cost_price': 60})
        self.flange = shop.post(PRODUCTS, {'name': "Flange 40",
                'unit': 'u', 'selling_price': 450})

    def bom(self, **values):
        return self.shop.post(BOMS, {'product_id': self.flange['id'],
                'lines': [
                    {'material_id': self.bar['id'], 'quantity': '0.5',
                        'wastage_percent': '4'},
                    {'material_id': self.sheet['id'], 'quantity': 200,
                        'unit': 'g'}],
                **values})


def bom_rows(sql, business):
    "What refusals must leave untouched"
    return {
        'boms': sql('SELECT id, name, version, active FROM production_bom '
            'WHERE company = %s ORDER BY id', (business,)),
        'inputs': sql('SELECT i.id, i.product, i.quantity, i.unit, '
            'i.wastage_percent FROM production_bom_input i JOIN '
            'production_bom b ON i.bom = b.id WHERE b.company = %s '
            'ORDER BY i.id', (business,)),
        'outputs': sql('SELECT o.id, o.quantity FROM production_bom_output o '
            'JOIN production_bom b ON o.bom = b.id WHERE b.company = %s '
            'ORDER BY o.id', (business,)),
        'product_boms': sql('SELECT pb.id, pb.product, pb.bom, pb.routing, '
            'pb.sequence FROM "product_product-production_bom" pb JOIN '
            'production_bom b ON pb.bom = b.id WHERE b.company = %s '
            'ORDER BY pb.id', (business,)),
        'routings': sql('SELECT id, name FROM production_routing '
            'WHERE company = %s ORDER BY id', (business,)),
        'steps': sql('SELECT s.id, s.operation, s.work_center, '
            's.minutes_per_unit FROM production_routing_step s JOIN '
            'production_routing r ON s.routing = r.id WHERE r.company = %s '
            'ORDER BY s.id', (business,)),
        'templates': sql('SELECT id, supply_on_sale FROM product_template '
            'WHERE company = %s ORDER BY id', (business,)),
        }


def active_boms(sql, product_id):
    return sql('SELECT b.id FROM production_bom b JOIN '
        'production_bom_output o ON o.bom = b.id WHERE o.product = %s '
        'AND b.active ORDER BY b.id', (product_id,))


def test_bom_versions(shop, api, conforms, sql):
    """Create (the first version active, the next inactive), list, read,
    change, copy as a new version and activate it: one active BOM per
    product, the product and its /bom follow the active one"""
    kit = Kit(shop)
    response = api.post(BOMS, token=shop.token, json={
            'product_id': kit.flange['id'], 'quantity': 2,
            'lines': [
                {'material_id': kit.bar['id'], 'quantity': '1.0',
                    'wastage_percent': '4'},
                {'material_id': kit.sheet['id'], 'quantity': 400,
                    'unit': 'g'}]})
    assert response.status_code == 201, response.text
    conforms(response, BOMS)
    first = response.json()
    assert response.headers['Location'].endswith(f"{BOMS}/{first['id']}")
    assert (first['name'], first['version'], first['active'],
        first['used']) == ("Flange 40", 1, True, False)
    assert first['product']['id'] == kit.flange['id']
    assert (D(first['quantity']), first['unit']) == (2, 'u')
    assert [(l['material']['id'], D(l['quantity']), l['unit'],
            D(l['wastage_percent'])) for l in first['lines']] == [
        (kit.bar['id'], 1, 'kg', 4), (kit.sheet['id'], 400, 'g', 0)]
    # The first version is the product's BOM
    product = shop.get(f"{PRODUCTS}/{kit.flange['id']}")
    assert (product['bom_id'], product['bom']['id']) == (first['id'],
        first['id'])
    bom = shop.get(f"{PRODUCTS}/{kit.flange['id']}/bom")
    assert (bom['id'], D(bom['output_quantity'])) == (first['id'], 2)

    second = kit.bom(name="Flange 40 (thin sheet)")
    assert (second['version'], second['active']) == (2, False)
    assert [r[0] for r in active_boms(sql, kit.flange['id'])] == [
        first['id']]

    response = api.get(BOMS, token=shop.token,
        params={'product_id': kit.flange['id']})
    conforms(response, BOMS)
    page = response.json()
    assert (page['total'], [b['version'] for b in page['items']]) == (
        2, [1, 2])
    assert [b['id'] for b in shop.get(BOMS, active='true')['items']] == [
        first['id']]
    assert [b['id'] for b in shop.get(BOMS, active='false')['items']] == [
        second['id']]
    assert shop.get(BOMS, limit=1, offset=1, order='-version')[
        'items'][0]['id'] == first['id']

    # Changed while no work order uses it
    response = api.put(f"{BOMS}/{second['id']}", token=shop.token, json={
            'name': "Flange 40 v2", 'quantity': 1,
            'lines': [{'material_id': kit.bar['id'], 'quantity': '0.55',
                    'wastage_percent': '5.5'}]})
    conforms(response, f'{BOMS}/{{id}}', 'put')
    changed = response.json()
    assert (changed['name'], D(changed['quantity'])) == ("Flange 40 v2", 1)
    assert [(D(l['quantity']), D(l['wastage_percent']))
        for l in changed['lines']] == [(D('0.55'), D('5.5'))]
    response = api.get(f"{BOMS}/{second['id']}", token=shop.token)
    conforms(response, f'{BOMS}/{{id}}')
    assert response.json() == changed

    # A new version of the first: its copy, version 3, inactive
    response = api.post(f"{BOMS}/{first['id']}/new-version",
        token=shop.token)
    assert response.status_code == 201, response.text
    conforms(response, f'{BOMS}/{{id}}/new-version')
    third = response.json()
    assert (third['version'], third['active'], third['name']) == (
        3, False, "Flange 40")
    assert [(l['material']['id'], D(l['quantity']), l['unit'])
        for l in third['lines']] == [(kit.bar['id'], 1, 'kg'),
        (kit.sheet['id'], 400, 'g')]
    assert third['id'] not in {first['id'], second['id']}

    # Activated: the others inactive, the product uses it
    response = api.post(f"{BOMS}/{second['id']}/activate",
        token=shop.token)
    conforms(response, f'{BOMS}/{{id}}/activate')
    assert response.json()['active'] is True
    assert [r[0] for r in active_boms(sql, kit.flange['id'])] == [
        second['id']]
    assert shop.get(f"{BOMS}/{first['id']}")['active'] is False
    assert shop.get(f"{PRODUCTS}/{kit.flange['id']}")['bom_id'] == \
        second['id']
    assert shop.get(f"{PRODUCTS}/{kit.flange['id']}/bom")['id'] == \
        second['id']
    # Activating the active one changes nothing
    assert shop.post(f"{BOMS}/{second['id']}/activate",
        expect=200)['active'] is True
    shop.post(f"{BOMS}/{third['id']}/activate", expect=200)
    assert [r[0] for r in active_boms(sql, kit.flange['id'])] == [
        third['id']]
    assert shop.get(f"{PRODUCTS}/{kit.flange['id']}/bom")['id'] == \
        third['id']


def test_routings_and_made_to_order(shop, api, conforms, sql):
    """A routing for the product (turning on the lathe, drilling on a
    machine of the VMC type); the product made to order with its BOM and
    routing; a sales order confirmed through the API creates its work
    order with them, whose operations run on those machines"""
    kit = Kit(shop)
    vmc_type = shop.rpc('production.work.center.category', 'create',
        [{'name': 'VMC'}])[0]
    lathe = shop.post(MACHINES, {'name': "Lathe", 'hourly_rate': 600})
    vmc = shop.post(MACHINES, {'name': "VMC 850", 'hourly_rate': 900,
            'machine_type_id': vmc_type})
    bom = kit.bom()
    response = api.post(ROUTINGS, token=shop.token, json={
            'name': "Flange 40", 'product_id': kit.flange['id'],
            'operations': [
                {'name': 'Turning', 'machine_id': lathe['id'],
                    'minutes_per_unit': '3', 'setup_minutes': 30},
                {'name': 'Drilling', 'machine_type_id': vmc_type,
                    'minutes_per_unit': 1.5, 'setup_minutes': '15'}]})
    assert response.status_code == 201, response.text
    conforms(response, ROUTINGS)
    routing = response.json()
    assert response.headers['Location'].endswith(
        f"{ROUTINGS}/{routing['id']}")
    assert [b['id'] for b in routing['boms']] == [bom['id']]
    assert [p['id'] for p in routing['products']] == [kit.flange['id']]
    assert [(o['sequence'], o['name'], (o['machine'] or {}).get('id'),
            (o['machine_type'] or {}).get('id'), D(o['minutes_per_unit']),
            D(o['setup_minutes'])) for o in routing['operations']] == [
        (1, 'Turning', lathe['id'], None, 3, 30),
        (2, 'Drilling', None, vmc_type, D('1.5'), 15)]
    product = shop.get(f"{PRODUCTS}/{kit.flange['id']}")
    assert (product['bom_id'], product['routing_id']) == (bom['id'],
        routing['id'])
    assert shop.get(f"{PRODUCTS}/{kit.flange['id']}/bom")['routing'][
        'id'] == routing['id']
    assert shop.get(f"{BOMS}/{bom['id']}")['routings'] == [
        {'id': routing['id'], 'name': "Flange 40"}]

    response = api.get(ROUTINGS, token=shop.token,
        params={'product_id': kit.flange['id']})
    conforms(response, ROUTINGS)
    assert [r['id'] for r in response.json()['items']] == [routing['id']]
    assert shop.get(ROUTINGS, bom_id=bom['id'])['total'] == 1
    assert shop.get(ROUTINGS, q='nothing like it')['total'] == 0

    # Changed: the drilling on the VMC itself, a deburring added
    response = api.put(f"{ROUTINGS}/{routing['id']}", token=shop.token,
        json={'operations': [
                {'sequence': 10, 'name': 'Turning', 'machine_id': lathe['id'],
                    'minutes_per_unit': 3, 'setup_minutes': 30},
                {'sequence': 20, 'name': 'Drilling', 'machine_id': vmc['id'],
                    'minutes_per_unit': 2, 'setup_minutes': 15},
                {'sequence': 30, 'name': 'Deburring',
                    'machine_id': lathe['id'], 'minutes_per_unit': 1}]})
    conforms(response, f'{ROUTINGS}/{{id}}', 'put')
    changed = response.json()
    assert [(o['sequence'], o['name'], o['machine']['id'],
            (o['machine_type'] or {}).get('id'))
        for o in changed['operations']] == [
        (10, 'Turning', lathe['id'], None),
        (20, 'Drilling', vmc['id'], vmc_type),
        (30, 'Deburring', lathe['id'], None)]
    response = api.get(f"{ROUTINGS}/{routing['id']}", token=shop.token)
    conforms(response, f'{ROUTINGS}/{{id}}')
    assert response.json() == changed

    # Made to order through the API, with a BOM and routing given
    response = api.put(f"{PRODUCTS}/{kit.flange['id']}", token=shop.token,
        json={'made_to_order': True, 'bom_id': bom['id'],
            'routing_id': routing['id']})
    conforms(response, f'{PRODUCTS}/{{id}}', 'put')
    product = response.json()
    assert (product['made_to_order'], product['bom_id'],
        product['routing_id'], product['routing']['id']) == (
        True, bom['id'], routing['id'], routing['id'])
    assert sql('SELECT supply_on_sale FROM product_template t JOIN '
        'product_product p ON p.template = t.id WHERE p.id = %s',
        (kit.flange['id'],)) == [('always',)]
    # A second product created made to order with the BOM of another: 422
    error = error_of(api.post(PRODUCTS, token=shop.token, json={
                'name': "Flange 50", 'unit': 'u', 'made_to_order': True,
                'bom_id': bom['id']}), 422)
    assert 'bom_id' in error['fields'], error
    assert shop.get(PRODUCTS, q='Flange 50')['total'] == 0
    made = shop.post(PRODUCTS, {'name': "Flange 50", 'unit': 'u',
            'made_to_order': True})
    assert (made['made_to_order'], made['bom_id'], made['routing_id']) == (
        True, None, None)

    customer = shop.post('/api/crm/customers', {'name': "Kirloskar Pumps",
            'billing_address': {'street': "Gat 112", 'city': "Chakan",
                'postal_code': '410501', 'state': 'IN-MH'}})
    sale = shop.post('/api/sales/orders', {'customer_id': customer['id'],
            'lines': [{'item_type': 'product', 'item_id': kit.flange['id'],
                    'quantity': 40, 'unit_price': 450}]})
    shop.post(f"/api/sales/orders/{sale['id']}/confirm", {}, expect=200)
    page = shop.get('/api/manufacturing/work-orders',
        sales_order_id=sale['id'])
    assert page['total'] == 1, page
    order, = page['items']
    assert (order['bom']['id'], order['routing']['id'],
        D(order['quantity_planned']), order['status']) == (
        bom['id'], routing['id'], 40, 'draft')
    # Scheduled (materials counted in): the operations on their machines
    shop.post('/api/inventory/adjustments', {'reason': "Opening stock",
            'lines': [{'item_id': kit.bar['id'], 'counted_quantity': 25},
                {'item_id': kit.sheet['id'], 'counted_quantity': 10}]})
    shop.post(f"/api/manufacturing/work-orders/{order['id']}/schedule",
        expect=200)
    operations = shop.get(
        f"/api/manufacturing/work-orders/{order['id']}/operations")['items']
    assert [(o['operation_name'], o['machine']['id'],
            D(o['planned_duration'])) for o in operations] == [
        ('Turning', lathe['id'], 40 * 3 + 30),
        ('Drilling', vmc['id'], 40 * 2 + 15),
        ('Deburring', lathe['id'], 40)]
    # Planned materials: 40 × 0.5 kg × 1.04 of bar, 40 × 200 g of sheet
    materials = shop.get(
        f"/api/manufacturing/work-orders/{order['id']}/materials")['items']
    assert {m['material']['id']: D(m['planned_quantity'])
        for m in materials} == {kit.bar['id']: D('20.8'),
        kit.sheet['id']: D('8')}


def test_bom_refusals(shop, api, mail, live_server, sql):
    """401, 403, 404, 409 and 422 answers change nothing (checked in the
    database)"""
    kit = Kit(shop)
    bom = kit.bom()
    machine = shop.post(MACHINES, {'name': "Lathe"})
    routing = shop.post(ROUTINGS, {'name': "Flange",
            'product_id': kit.flange['id'],
            'operations': [{'name': 'Turning', 'machine_id': machine['id'],
                    'minutes_per_unit': 2}]})
    other = Shop(api, mail, profile=KA, server=live_server)
    other_kit = Kit(other)
    theirs = other_kit.bom()
    their_machine = other.post(MACHINES, {'name': "Their lathe"})
    their_routing = other.post(ROUTINGS, {'name': "Theirs",
            'bom_id': theirs['id'],
            'operations': [{'name': 'Turning',
                    'machine_id': their_machine['id']}]})
    operator = shop.member('operator')
    salesman = shop.member('sales')
    before = bom_rows(sql, shop.id)
    their_before = bom_rows(sql, other.id)

    def unchanged():
        assert bom_rows(sql, shop.id) == before
        assert bom_rows(sql, other.id) == their_before

    good_bom = {'product_id': kit.flange['id'], 'lines': [
            {'material_id': kit.bar['id'], 'quantity': 1}]}
    good_routing = {'name': "R", 'operations': [{'name': 'Op'}]}
    writes = [
        ('post', BOMS, good_bom),
        ('put', f"{BOMS}/{bom['id']}", {'name': "Taken"}),
        ('post', f"{BOMS}/{bom['id']}/new-version", None),
        ('post', f"{BOMS}/{bom['id']}/activate", None),
        ('post', ROUTINGS, good_routing),
        ('put', f"{ROUTINGS}/{routing['id']}", {'name': "Taken"}),
        ]
    # 401 first, whatever the body
    for method, path, body in writes + [('get', BOMS, None),
            ('get', f"{ROUTINGS}/{routing['id']}", None)]:
        error_of(api.request(method.upper(), path, json=body), 401)
        error_of(api.request(method.upper(), path, json={'junk': 1},
                token='nope'), 401)
    # 403: operators and salesmen read BOMs and routings, not change them;
    # before any field is looked at
    for token in [operator, salesman]:
        assert api.get(f"{BOMS}/{bom['id']}", token=token).status_code \
            == 200
        for method, path, body in writes:
            error_of(api.request(method.upper(), path, json=body,
                    token=token), 403, 'forbidden')
        error_of(api.post(BOMS, token=token, json={
                    'product_id': theirs['product']['id'],
                    'lines': [{'material_id': 999999, 'quantity': 1}]}),
            403)
    unchanged()

    # 404: another business's BOM and routing, and ids of nothing
    for method, path, body in [
            ('get', f"{BOMS}/{theirs['id']}", None),
            ('put', f"{BOMS}/{theirs['id']}", {'name': "Taken"}),
            ('post', f"{BOMS}/{theirs['id']}/new-version", None),
            ('post', f"{BOMS}/{theirs['id']}/activate", None),
            ('get', f"{ROUTINGS}/{their_routing['id']}", None),
            ('put', f"{ROUTINGS}/{their_routing['id']}", {'name': "Taken"}),
            ('get', f"{BOMS}/2147483647", None),
            ('get', f"{ROUTINGS}/2147483647", None)]:
        error_of(api.request(method.upper(), path, json=body,
                token=shop.token), 404, 'not_found')
    unchanged()

    # 422 naming the field
    bar, sheet, flange = kit.bar['id'], kit.sheet['id'], kit.flange['id']
    for body, field in [
            ({'lines': [{'material_id': bar, 'quantity': 1}]},
                'product_id'),
            ({'product_id': theirs['product']['id'],
                    'lines': [{'material_id': bar, 'quantity': 1}]},
                'product_id'),
            ({'product_id': bar,
                    'lines': [{'material_id': sheet, 'quantity': 1}]},
                'product_id'),
            ({'product_id': flange, 'lines': []}, 'lines'),
            ({'product_id': flange,
                    'lines': [{'material_id': other_kit.bar['id'],
                            'quantity': 1}]}, 'lines.0.material_id'),
            ({'product_id': flange,
                    'lines': [{'material_id': flange, 'quantity': 1}]},
                'lines.0.material_id'),
            ({'product_id': flange,
                    'lines': [{'material_id': bar, 'quantity': 0}]},
                'lines.0.quantity'),
            ({'product_id': flange,
                    'lines': [{'material_id': bar, 'quantity': 1,
                            'unit': 'm'}]}, 'lines.0.unit'),
            ({'product_id': flange,
                    'lines': [{'material_id': bar, 'quantity': 1,
                            'wastage_percent': 101}]},
                'lines.0.wastage_percent'),
            ({'product_id': flange, 'quantity': '-1',
                    'lines': [{'material_id': bar, 'quantity': 1}]},
                'quantity'),
            ]:
        error = error_of(api.post(BOMS, token=shop.token, json=body), 422)
        assert field in error['fields'], (body, error)
    for body, field in [
            ({'operations': [{'name': 'Op'}]}, 'name'),
            ({'name': 'R', 'operations': []}, 'operations'),
            ({'name': 'R', 'operations': [{'name': 'Op',
                        'machine_id': their_machine['id']}]},
                'operations.0.machine_id'),
            ({'name': 'R', 'bom_id': theirs['id'],
                    'operations': [{'name': 'Op'}]}, 'bom_id'),
            ({'name': 'R', 'product_id': flange, 'bom_id': other_kit.bom()[
                        'id'], 'operations': [{'name': 'Op'}]}, 'bom_id'),
            ({'name': 'R', 'product_id': kit.bar['id'],
                    'operations': [{'name': 'Op'}]}, 'product_id'),
            ({'name': 'R', 'operations': [{'name': 'Op',
                        'minutes_per_unit': -1}]},
                'operations.0.minutes_per_unit'),
            ]:
        error = error_of(api.post(ROUTINGS, token=shop.token, json=body),
            422)
        assert field in error['fields'], (body, error)
    error = error_of(api.put(f"{BOMS}/{bom['id']}", token=shop.token,
            json={'product_id': flange}), 422)
    assert 'product_id' in error['fields']
    error = error_of(api.put(f"{PRODUCTS}/{flange}", token=shop.token,
            json={'routing_id': their_routing['id']}), 422)
    assert 'routing_id' in error['fields']
    their_before = bom_rows(sql, other.id)  # other_kit.bom() above
    unchanged()

    # 409: a BOM used by a work order keeps its lines and quantity
    shop.post('/api/manufacturing/work-orders', {'product_id': flange,
            'quantity_planned': 10, 'bom_id': bom['id']})
    before = bom_rows(sql, shop.id)
    assert shop.get(f"{BOMS}/{bom['id']}")['used'] is True
    for body in [{'lines': [{'material_id': bar, 'quantity': 2}]},
            {'quantity': 3},
            {'name': "Renamed", 'lines': [
                    {'material_id': sheet, 'quantity': 2}]}]:
        error = error_of(api.put(f"{BOMS}/{bom['id']}", token=shop.token,
                json=body), 409, 'bom_in_use')
        assert 'new version' in error['message']
    unchanged()
    # Its name changes; a new version takes the change
    assert shop.put(f"{BOMS}/{bom['id']}", {'name': "Flange 40 (2026)"})[
        'name'] == "Flange 40 (2026)"
    copy = shop.post(f"{BOMS}/{bom['id']}/new-version")
    changed = shop.put(f"{BOMS}/{copy['id']}", {'lines': [
                {'material_id': bar, 'quantity': 2}]})
    assert [D(l['quantity']) for l in changed['lines']] == [2]
