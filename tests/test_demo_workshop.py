"""The served platform, seen from outside: the web client page, JSON-RPC
logins and the demo workshop's records (acceptance of the foundation issue).
"""
import re
from decimal import Decimal

import pytest
import requests

from conftest import RPCError


def test_web_client_page_and_its_scripts(live_server):
    response = requests.get(live_server.url, timeout=10)
    assert response.status_code == 200
    page = response.text
    assert 'dist/tryton-sao.js' in page
    sources = re.findall(r'<(?:script[^>]*src|link[^>]*href)="([^"]+)"', page)
    assert len(sources) > 10
    for source in sources:
        asset = requests.get(live_server.url + source, timeout=10)
        assert asset.status_code == 200, source
    branding = requests.get(live_server.url + 'custom.js', timeout=10).text
    assert "Sao.config.title = 'Monitorbizz'" in branding


def test_owner_logs_in_and_works_in_the_demo_business(live_server, demo):
    owner = demo['users'][0]
    session = live_server.login(owner['login'], owner['password'])
    company, = session.search_read('company.company', [],
        ['rec_name', 'currency.code'])
    assert company['rec_name'] == demo['business']['name']
    assert company['currency.']['code'] == 'INR'
    assert session.context['company'] == company['id']
    # They work as their employee of the business (who quoted, who worked)
    employee, = session.search_read('company.employee',
        [('id', '=', session.context['employee'])], ['company', 'party.name'])
    assert employee['company'] == company['id']
    assert employee['party.']['name'] == owner['name']


def test_demo_business_has_its_records(live_server, demo):
    owner = demo['users'][0]
    session = live_server.login(owner['login'], owner['password'])

    machines = session.search_read('production.work.center',
        [('parent', '!=', None)], ['name', 'category.name', 'cost_price'])
    assert sorted(m['name'] for m in machines) == sorted(
        m['name'] for m in demo['machines'])
    assert all(m['category.'] for m in machines)

    materials = session.search_read('product.product',
        [('code', 'like', 'MAT-%')], ['code', 'purchasable'])
    assert len(materials) == 5
    assert all(m['purchasable'] for m in materials)

    products = session.search_read('product.product',
        [('code', 'like', 'PRD-%')], ['code', 'producible', 'boms'])
    assert len(products) == 2
    for product in products:
        assert product['producible']
        bom_link, = session.search_read('product.product-production.bom',
            [('id', 'in', product['boms'])], ['bom', 'routing'])
        assert bom_link['routing']
        bom, = session.search_read('production.bom',
            [('id', '=', bom_link['bom'])], ['inputs', 'outputs'])
        assert bom['inputs'] and bom['outputs']
        steps = session.search_read('production.routing.step',
            [('routing', '=', bom_link['routing'])],
            ['operation.work_center_category'])
        assert len(steps) == 2
        assert all(s['operation.']['work_center_category'] for s in steps)

    # Other tests add customers to the same demo database: look for the
    # demo's own by their codes.
    for kind in ['customers', 'vendors']:
        parties = session.search_read('party.party',
            [('code', 'in', [p['code'] for p in demo[kind]])],
            ['code', 'name', 'identifiers'])
        assert sorted((p['code'], p['name']) for p in parties) == sorted(
            (p['code'], p['name']) for p in demo[kind])
        assert all(p['identifiers'] for p in parties)


def test_opening_stock_of_the_materials(live_server, demo):
    owner = demo['users'][0]
    session = live_server.login(owner['login'], owner['password'])
    warehouse, = session.search_read('stock.location',
        [('type', '=', 'warehouse')], ['storage_location'])
    session.context['locations'] = [warehouse['storage_location']]
    materials = session.search_read('product.product',
        [('code', 'like', 'MAT-%')], ['code', 'quantity'])
    expected = {m['code']: Decimal(m['opening_stock'])
        for m in demo['materials']}
    assert {m['code']: Decimal(str(m['quantity'])) for m in materials} \
        == expected


def test_wrong_password_is_refused(live_server, demo):
    with pytest.raises(RPCError):
        live_server.login(demo['users'][0]['login'], 'not-the-password')


def test_operator_cannot_sell(live_server, demo):
    "The operator role has production rights, not sales rights."
    operator = demo['users'][1]
    session = live_server.login(operator['login'], operator['password'])
    assert session.search_read('production.work.center', [], ['name'])
    with pytest.raises(RPCError) as error:
        session.search_read('sale.sale', [], ['number'])
    assert 'access' in str(error.value).lower()


def test_demo_machines_are_numbered_with_capacity(live_server, demo):
    "monitorbizz_manufacturing: MCH- codes, types, rates, working hours"
    owner = demo['users'][0]
    session = live_server.login(owner['login'], owner['password'])
    machines = session.search_read('production.work.center',
        [('parent', '!=', None)], ['code', 'name', 'category.name',
            'cost_price', 'cost_method', 'hours_per_day', 'working_days',
            'make', 'status'], order=[('code', 'ASC')])
    assert [m['code'] for m in machines] == ['MCH-001', 'MCH-002', 'MCH-003']
    expected = {m['name']: m for m in demo['machines']}
    for machine in machines:
        values = expected[machine['name']]
        assert machine['category.']['name'] == values['type']
        assert _decimal(machine['cost_price']) == Decimal(
            values['hourly_rate'])
        assert machine['cost_method'] == 'hour'
        assert _decimal(machine['hours_per_day']) == Decimal(
            values['hours_per_day'])
        week = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
        assert sorted(machine['working_days'], key=week.index) == values[
            'working_days']
        assert machine['make'] == values['make']
        assert machine['status'] == 'available'
    # Routing steps carry the minutes that plan the operations
    steps = session.search_read('production.routing.step', [],
        ['operation.name', 'minutes_per_unit', 'setup_minutes'])
    minutes = {s['operation.']['name']: (_decimal(s['minutes_per_unit']),
            _decimal(s['setup_minutes'])) for s in steps}
    for product in demo['products']:
        for name, _, per_unit, setup in product['routing']:
            assert minutes[name] == (Decimal(per_unit), Decimal(setup))


def _decimal(value):
    "A Decimal of Tryton's JSON encoding"
    if isinstance(value, dict):
        value = value['decimal']
    return Decimal(str(value))


def test_demo_sales_pipeline(live_server, demo):
    """monitorbizz_crm: leads in every status for the pipeline graph, the
    quotations by status and a confirmed order, HSN/SAC codes on the items"""
    owner = demo['users'][0]
    seller, = [u for u in demo['users'] if u['role'] == 'sales']
    session = live_server.login(owner['login'], owner['password'])
    leads = session.search_read('sale.opportunity',
        [('company_name', 'in', [l['company_name'] for l in demo['leads']])],
        ['company_name', 'lead_status', 'amount', 'assigned_to.name',
            'lost_reason', 'party.code'])
    by_name = {l['company_name']: l for l in leads}
    assert len(by_name) == len(demo['leads'])
    for values in demo['leads']:
        lead = by_name[values['company_name']]
        assert lead['lead_status'] == values['status']
        assert _decimal(lead['amount']) == Decimal(values['estimated_value'])
        assert lead['assigned_to.']['name'] == seller['name']
    lost, = [l for l in leads if l['lead_status'] == 'lost']
    assert lost['lost_reason']
    # The converted lead found its customer by GSTIN: no duplicate
    converted, = [l for l in leads if l['lead_status'] == 'converted']
    assert converted['party.']['code'] == 'CUST-003'
    shakti = session.search_read('party.party',
        [('name', '=', converted['company_name'])], ['code'])
    assert [p['code'] for p in shakti] == ['CUST-003']

    # The pipeline graph's figures: estimated value by status
    pipeline = {}
    for lead in leads:
        pipeline[lead['lead_status']] = pipeline.get(
            lead['lead_status'], 0) + _decimal(lead['amount'])
    assert set(pipeline) == {'new', 'contacted', 'qualified', 'converted',
        'lost'}

    sales = session.search_read('sale.sale',
        [('quotation_number', '!=', None)],
        ['quotation_number', 'quotation_state', 'ordered', 'number',
            'order_status', 'state', 'party.code', 'lead', 'priority'],
        order=[('id', 'ASC')])
    expected = sorted((q['customer'], 'accepted' if q['status'] == 'ordered'
            else q['status']) for q in demo['quotations'])
    assert sorted((s['party.']['code'], s['quotation_state'])
        for s in sales) == expected
    order, = [s for s in sales if s['ordered']]
    assert order['number'].startswith('SO-')
    assert order['state'] == 'processing'
    assert order['priority'] == 'high'
    # Its made-to-order products were asked of the shop floor
    assert order['order_status'] == 'in_production'
    from_lead, = [s for s in sales if s['lead']]
    assert from_lead['party.']['code'] == 'CUST-003'
    assert from_lead['quotation_state'] == 'draft'

    items = session.search_read('product.template',
        [('code', 'in', [i['code'] for i in demo['materials']
                    + demo['products']])], ['code', 'hsn_sac'])
    assert {i['code']: i['hsn_sac'] for i in items} == {
        i['code']: i['hsn_sac'] for i in demo['materials'] + demo['products']}


def test_demo_reorder_levels_and_vendor_supplies(live_server, demo):
    """monitorbizz_inventory: reorder levels on the materials (order points)
    and what each vendor supplies, at which price and lead time"""
    owner = demo['users'][0]
    session = live_server.login(owner['login'], owner['password'])
    materials = session.search_read('product.product',
        [('code', 'like', 'MAT-%')],
        ['code', 'reorder_level', 'reorder_quantity', 'preferred_vendor.code'])
    levels = {m['code']: (Decimal(str(m['reorder_level'])),
            Decimal(str(m['reorder_quantity']))) for m in materials}
    assert levels == {m['code']: (Decimal(m['reorder_level']),
            Decimal(m['reorder_quantity'])) for m in demo['materials']}
    first_vendor = {}
    for supply in demo['supplies']:
        first_vendor.setdefault(supply['material'], supply['vendor'])
    assert {m['code']: m['preferred_vendor.']['code']
        for m in materials} == first_vendor

    supplies = session.search_read('purchase.product_supplier',
        [('template.code', 'like', 'MAT-%')],
        ['template.code', 'party.code', 'lead_time', 'prices'])
    assert sorted((s['template.']['code'], s['party.']['code'])
        for s in supplies) == sorted(
        (s['material'], s['vendor']) for s in demo['supplies'])
    expected = {(s['material'], s['vendor']): s for s in demo['supplies']}
    for supply in supplies:
        values = expected[(supply['template.']['code'],
                supply['party.']['code'])]
        assert _days(supply['lead_time']) == values['lead_time_days']
        prices = session.search_read('purchase.product_supplier.price',
            [('id', 'in', supply['prices'])], ['quantity', 'unit_price'],
            order=[('quantity', 'ASC')])
        assert [(Decimal(str(p['quantity'])), _decimal(p['unit_price']))
            for p in prices] == [(Decimal(0), Decimal(values['unit_price']))] + [
            (Decimal(q), Decimal(u)) for q, u in values.get('price_breaks', [])]


def _days(value):
    "Days of Tryton's JSON encoding of a timedelta"
    if isinstance(value, dict):
        value = value['seconds']
    return value / 86400
