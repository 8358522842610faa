"""/api/crm/customers, /api/crm/leads, /api/crm/quotations and
/api/sales/orders against the live trytond: the sales process of the seed
(lead → customer → quotation → order), its refusals (401, 403, 404, 409,
422, each leaving the database unchanged) and per-business numbering."""
import datetime as dt
import io
import re
import threading
import uuid
from decimal import Decimal

import pytest
from pypdf import PdfReader

from .conftest import new_email

MH = {
    'name': "Kulkarni Precision Works", 'state': 'IN-MH',
    'gstin': '27AAPFD1234K1ZB', 'street': "Plot 7, MIDC Bhosari",
    'city': "Pune", 'postal_code': '411026',
    }
YEAR = dt.date.today().year
# Three lines at 5, 12 and 18 % GST, the last with a 10 % discount
LINES = [
    {'item_type': 'service', 'description': "Bar cutting to length",
        'quantity': 25, 'unit_price': '123.45', 'tax_rate': 5},
    {'item_type': 'service', 'description': "CNC machining (hours)",
        'quantity': 8, 'unit_price': 850, 'tax_rate': 12,
        'hsn_sac': '998873'},
    {'item_type': 'service', 'description': "Flange finishing",
        'quantity': 10, 'unit_price': '450.00', 'tax_rate': 18,
        'discount_percent': 10},
    ]


class Shop:
    "A business made through the API, its owner's token, its members"

    def __init__(self, api, mail, profile=MH):
        self.api = api
        self.mail = mail
        _, _, owner = api.register(name="Meera Kulkarni")
        self.token = owner['token']
        response = api.post('/api/businesses', token=self.token,
            json=profile)
        assert response.status_code == 201, response.text
        self.id = response.json()['id']

    def member(self, role):
        "Token of a new member with role (invited and accepted)"
        email = new_email()
        response = self.api.post(f'/api/businesses/{self.id}/invitations',
            token=self.token, json={'email': email, 'role': role})
        assert response.status_code == 201, response.text
        code = re.search(r'code:\s+(\S+)',
            self.mail(email).get_payload()).group(1)
        _, _, member = self.api.register(email=email)
        response = self.api.post('/api/invitations/accept',
            token=member['token'], json={'token': code})
        assert response.status_code == 200, response.text
        return member['token']

    def post(self, path, json=None, token=None, status=201):
        response = self.api.post(path, token=token or self.token,
            json=json if json is not None else {})
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path, token=None, expect=200, **params):
        response = self.api.get(path, token=token or self.token,
            params=params)
        assert response.status_code == expect, response.text
        return response.json()

    def put(self, path, json, token=None, status=200):
        response = self.api.put(path, token=token or self.token, json=json)
        assert response.status_code == status, response.text
        return response.json()

    def customer(self, state='IN-MH', **values):
        values = {'name': f"Customer {uuid.uuid4().hex[:6]}",
            'email': new_email(),
            'billing_address': {'street': "Gat 112", 'city': "Chakan",
                'state': state},
            **values}
        return self.post('/api/crm/customers', values)


@pytest.fixture
def shop(api, mail):
    return Shop(api, mail)


def error_of(response, status, code=None):
    assert response.status_code == status, response.text
    error = response.json()['error']
    if code:
        assert error['code'] == code, error
    return error


def counts(sql, business):
    "Rows of the business's CRM records"
    return {table: sql(f'SELECT COUNT(*) FROM "{table}" WHERE company = %s',
            (business,))[0][0]
        for table in ['party_party', 'sale_sale', 'sale_line',
            'sale_opportunity']
        if table != 'sale_line'} | {
        'sale_line': sql('SELECT COUNT(*) FROM sale_line l JOIN sale_sale s '
            'ON l.sale = s.id WHERE s.company = %s', (business,))[0][0],
        'party_identifier': sql('SELECT COUNT(*) FROM party_identifier i '
            'JOIN party_party p ON i.party = p.id WHERE p.company = %s',
            (business,))[0][0],
        }


# Customers ------------------------------------------------------------------

def test_customers(shop, api, conforms, sql):
    "Create, read, list, update, delete and deactivate customers"
    response = api.post('/api/crm/customers', token=shop.token, json={
            'name': "Bharat Pumps", 'company_name': "Bharat Pumps Pvt Ltd",
            'email': 'purchase@bharatpumps.example.in',
            'phone': '+91 20 2345 6789', 'gstin': '27AADCB2230M1ZT',
            'billing_address': {'street': "Gat 112, Chakan", 'city': "Pune",
                'postal_code': '410501', 'state': 'IN-MH'},
            'shipping_address': {'street': "Plant 2, Talegaon",
                'city': "Pune", 'state': 'IN-MH'},
            'customer_type': 'wholesale', 'credit_limit': '250000.00',
            'payment_terms': 30, 'tags': ['pumps', 'key account'],
            'notes': "Wants 1 mm chamfers"})
    assert response.status_code == 201, response.text
    conforms(response, '/api/crm/customers')
    customer = response.json()
    assert customer['customer_code'] == 'CUST-001'
    assert {k: customer[k] for k in ['name', 'company_name', 'gstin',
            'customer_type', 'credit_limit', 'payment_terms', 'status',
            'tags', 'email', 'phone']} == {
        'name': "Bharat Pumps", 'company_name': "Bharat Pumps Pvt Ltd",
        'gstin': '27AADCB2230M1ZT', 'customer_type': 'wholesale',
        'credit_limit': '250000.00', 'payment_terms': 30,
        'status': 'active', 'tags': ['key account', 'pumps'],
        'email': 'purchase@bharatpumps.example.in',
        'phone': '+91 20 2345 6789'}
    assert customer['billing_address'] == {'street': "Gat 112, Chakan",
        'city': "Pune", 'postal_code': '410501', 'state': 'IN-MH'}
    assert customer['shipping_address']['street'] == "Plant 2, Talegaon"
    cid = customer['id']

    response = api.get(f'/api/crm/customers/{cid}', token=shop.token)
    conforms(response, '/api/crm/customers/{id}')
    assert response.json() == customer

    # The code is immutable; other fields change
    changed = shop.put(f'/api/crm/customers/{cid}', {
            'payment_terms': 45, 'customer_type': 'distributor',
            'tags': ['pumps'], 'status': 'blocked', 'phone': None})
    assert changed['customer_code'] == 'CUST-001'
    assert (changed['payment_terms'], changed['customer_type'],
        changed['tags'], changed['status'], changed['phone']) == (
        45, 'distributor', ['pumps'], 'blocked', None)

    second = shop.customer(name="Raj Pumps")
    assert second['customer_code'] == 'CUST-002'
    page = shop.get('/api/crm/customers')
    assert [c['id'] for c in page['items']] == [cid, second['id']]
    assert shop.get('/api/crm/customers', q='raj')['total'] == 1
    assert shop.get('/api/crm/customers', status='blocked')['total'] == 1

    # Without documents a customer is deleted
    response = api.delete(f"/api/crm/customers/{second['id']}",
        token=shop.token)
    conforms(response, '/api/crm/customers/{id}')
    assert response.json()['action'] == 'deleted'
    shop.get(f"/api/crm/customers/{second['id']}", expect=404)

    # With a document it is deactivated, and hidden from the default list
    shop.put(f'/api/crm/customers/{cid}', {'status': 'active'})
    shop.post('/api/crm/quotations', {'customer_id': cid, 'lines': LINES})
    response = api.delete(f'/api/crm/customers/{cid}', token=shop.token)
    assert response.json()['action'] == 'deactivated', response.text
    assert shop.get(f'/api/crm/customers/{cid}')['status'] == 'inactive'
    assert shop.get('/api/crm/customers')['total'] == 0
    assert shop.get('/api/crm/customers', status='inactive')['total'] == 1


def test_customer_refusals(shop, api, sql):
    "Bad input answers 422 naming the field and changes nothing"
    first = shop.customer(gstin='27AADCB2230M1ZT')
    before = counts(sql, shop.id)
    for values, field in [
            ({'name': "X", 'gstin': '27AADCB2230M1ZX'}, 'gstin'),
            ({'name': "X", 'gstin': '27AADCB2230M1ZT'}, 'gstin'),
            ({'name': "X", 'payment_terms': 11}, 'payment_terms'),
            ({'name': "X", 'billing_address': {'state': 'IN-XX'}},
                'billing_address.state'),
            ({'name': "X", 'credit_limit': '-5'}, 'credit_limit'),
            ({'name': "X", 'customer_type': 'vip'}, 'customer_type'),
            ({'email': 'a@b.in'}, 'name'),
            ]:
        response = api.post('/api/crm/customers', token=shop.token,
            json=values)
        error = error_of(response, 422)
        assert field in error['fields'], (values, error)
    response = api.put(f"/api/crm/customers/{first['id']}",
        token=shop.token, json={'gstin': 'not a gstin', 'name': "Changed"})
    assert 'gstin' in error_of(response, 422)['fields']
    assert counts(sql, shop.id) == before
    assert shop.get(f"/api/crm/customers/{first['id']}") == first

    error_of(api.get('/api/crm/customers'), 401, 'missing_token')
    error_of(api.get('/api/crm/customers', token='nope'), 401)
    error_of(api.get('/api/crm/customers/999999', token=shop.token), 404,
        'customer_not_found')


def test_isolation_and_roles(api, mail, sql):
    """Another business's customer is 404 for every verb; an operator may
    not sell"""
    a, b = Shop(api, mail), Shop(api, mail)
    customer = a.customer()
    quotation = a.post('/api/crm/quotations', {
            'customer_id': customer['id'], 'lines': LINES})
    lead = a.post('/api/crm/leads', {'company_name': "Kolhapur Castings"})
    order = a.post('/api/sales/orders', {
            'customer_id': customer['id'], 'lines': LINES})
    before = counts(sql, a.id)
    for method, path in [
            ('GET', f"/api/crm/customers/{customer['id']}"),
            ('PUT', f"/api/crm/customers/{customer['id']}"),
            ('DELETE', f"/api/crm/customers/{customer['id']}"),
            ('GET', f"/api/crm/quotations/{quotation['id']}"),
            ('PUT', f"/api/crm/quotations/{quotation['id']}"),
            ('POST', f"/api/crm/quotations/{quotation['id']}/send"),
            ]:
        body = {}
        if method == 'PUT':
            body = ({'name': "Stolen"} if 'customers' in path
                else {'notes': "Stolen"})
        response = api.request(method, path, token=b.token, json=body)
        error_of(response, 404)
    response = api.post('/api/crm/quotations', token=b.token,
        json={'customer_id': customer['id'], 'lines': LINES})
    assert 'customer_id' in error_of(response, 422)['fields']
    assert b.get('/api/crm/customers')['total'] == 0
    assert counts(sql, a.id) == before

    # An operator works on the shop floor: no leads, quotations or orders,
    # whichever endpoint writes them (each body valid, so that the refusal
    # is the role's)
    operator = a.member('operator')
    qpath = f"/api/crm/quotations/{quotation['id']}"
    lpath = f"/api/crm/leads/{lead['id']}"
    opath = f"/api/sales/orders/{order['id']}"
    for method, path, body in [
            ('GET', '/api/crm/leads', None),
            ('POST', '/api/crm/leads', {'company_name': "Nope"}),
            ('GET', lpath, None),
            ('PUT', lpath, {'notes': "Nope"}),
            ('DELETE', lpath, None),
            ('POST', f'{lpath}/convert', {}),
            ('GET', '/api/crm/quotations', None),
            ('POST', '/api/crm/quotations', {
                    'customer_id': customer['id'], 'lines': LINES}),
            ('GET', qpath, None),
            ('PUT', qpath, {'notes': "Nope"}),
            ('POST', f'{qpath}/send', None),
            ('POST', f'{qpath}/accept', None),
            ('POST', f'{qpath}/reject', {'reason': "Nope"}),
            ('POST', f'{qpath}/convert-to-order', None),
            ('GET', '/api/sales/orders', None),
            ('POST', '/api/sales/orders', {
                    'customer_id': customer['id'], 'lines': LINES}),
            ('GET', opath, None),
            ('PUT', opath, {'notes': "Nope"}),
            ('POST', f'{opath}/confirm', {}),
            ]:
        error_of(api.request(method, path, token=operator, json=body), 403,
            'forbidden')
    # nor keeps customers: they read them (a work order names its customer)
    # but may not create, change or delete them
    assert a.get('/api/crm/customers', token=operator)['total'] == 1
    for method, path, body in [
            ('POST', '/api/crm/customers', {'name': "Nope",
                    'email': new_email()}),
            ('PUT', f"/api/crm/customers/{customer['id']}",
                {'name': "Renamed", 'phone': '+91 98200 00000',
                    'gstin': '27AADCB2230M1ZT'}),
            ('DELETE', f"/api/crm/customers/{customer['id']}", None),
            ]:
        error_of(api.request(method, path, token=operator, json=body), 403,
            'forbidden')
    assert counts(sql, a.id) == before
    assert a.get(f"/api/crm/customers/{customer['id']}")['name'] == (
        customer['name'])
    # A salesman sells, and keeps the customers
    sales = a.member('sales')
    assert a.get('/api/crm/customers', token=sales)['total'] == 1
    a.put(f"/api/crm/customers/{customer['id']}", {'phone': '+91 98200 11111'},
        token=sales)
    a.post('/api/crm/customers', {'name': "Deccan Valves",
            'email': new_email()}, token=sales)
    # The stores keep the vendors, not the customers
    stores = a.member('stores')
    before = counts(sql, a.id)
    for method, path, body in [
            ('POST', '/api/crm/customers', {'name': "Nope",
                    'email': new_email()}),
            ('PUT', f"/api/crm/customers/{customer['id']}",
                {'name': "Renamed"}),
            ('DELETE', f"/api/crm/customers/{customer['id']}", None),
            ]:
        error_of(api.request(method, path, token=stores, json=body), 403,
            'forbidden')
    assert counts(sql, a.id) == before
    vendor = a.post('/api/inventory/vendors', {'name': "Vardhman Steel"},
        token=stores)
    assert vendor['name'] == "Vardhman Steel"
    a.post('/api/crm/quotations', {'customer_id': customer['id'],
            'lines': LINES}, token=sales)
    a.post('/api/crm/leads', {'company_name': "Deccan Valves"}, token=sales)


# Leads ----------------------------------------------------------------------

def test_lead_to_customer(shop, api, conforms, sql):
    """new → contacted → qualified → convert (customer and draft
    quotation); converting twice answers 409 with the customer"""
    response = api.post('/api/crm/leads', token=shop.token, json={
            'company_name': "Shakti Agro Equipments",
            'contact_person': "Ravi Shah", 'email': 'ravi@shakti.example.in',
            'phone': '+91 97250 33445', 'lead_source': 'trade_show',
            'estimated_value': '180000', 'probability': 40,
            'expected_close_date': str(dt.date.today()
                + dt.timedelta(days=30)),
            'notes': "Met at IMTEX"})
    assert response.status_code == 201, response.text
    conforms(response, '/api/crm/leads')
    lead = response.json()
    assert (lead['status'], lead['estimated_value'], lead['probability'],
        lead['customer_id']) == ('new', '180000.00', 40, None)
    lid = lead['id']
    assert shop.put(f'/api/crm/leads/{lid}',
        {'status': 'contacted'})['status'] == 'contacted'
    assert shop.put(f'/api/crm/leads/{lid}',
        {'status': 'qualified', 'probability': 70})['probability'] == 70
    assert shop.get('/api/crm/leads', status='qualified')['total'] == 1

    response = api.post(f'/api/crm/leads/{lid}/convert', token=shop.token,
        json={'create_quotation': True})
    assert response.status_code == 200, response.text
    conforms(response, '/api/crm/leads/{id}/convert')
    converted = response.json()
    assert converted['customer_created'] is True
    assert converted['lead']['status'] == 'converted'
    customer = converted['customer']
    assert (customer['customer_code'], customer['name'],
        customer['email']) == ('CUST-001', "Shakti Agro Equipments",
        'ravi@shakti.example.in')
    quotation = shop.get(
        f"/api/crm/quotations/{converted['quotation_id']}")
    assert (quotation['lead_id'], quotation['customer_id'],
        quotation['status'], quotation['quote_number']) == (
        lid, customer['id'], 'draft', f'QT-{YEAR}-001')

    before = counts(sql, shop.id)
    error = error_of(api.post(f'/api/crm/leads/{lid}/convert',
            token=shop.token, json={}), 409, 'lead_converted')
    assert error['fields'] == {'customer_id': str(customer['id'])}
    error_of(api.put(f'/api/crm/leads/{lid}', token=shop.token,
            json={'phone': '1'}), 409, 'lead_converted')
    error_of(api.delete(f'/api/crm/leads/{lid}', token=shop.token), 409)
    assert counts(sql, shop.id) == before

    # A second lead of the same firm finds the customer by GSTIN or e-mail
    other = shop.post('/api/crm/leads', {'contact_person': "Ravi Shah",
            'email': 'RAVI@shakti.example.in'})
    converted = shop.post(f"/api/crm/leads/{other['id']}/convert", {},
        status=200)
    assert converted['customer_created'] is False
    assert converted['customer']['id'] == customer['id']
    assert converted['quotation_id'] is None
    assert counts(sql, shop.id)['party_party'] == before['party_party']


def test_lead_refusals(shop, api, sql):
    lead = shop.post('/api/crm/leads', {'company_name': "Lost Cause"})
    before = counts(sql, shop.id)
    for path, body, status, field in [
            ('/api/crm/leads', {'email': 'x@y.in'}, 422, 'company_name'),
            ('/api/crm/leads', {'company_name': "X", 'probability': 120},
                422, 'probability'),
            ('/api/crm/leads', {'company_name': "X", 'gstin': '123'}, 422,
                'gstin'),
            ('/api/crm/leads', {'company_name': "X", 'assigned_to': 1},
                403, None),
            ]:
        error = error_of(api.post(path, token=shop.token, json=body), status)
        if field:
            assert field in error['fields'], error
    error = error_of(api.put(f"/api/crm/leads/{lead['id']}",
            token=shop.token, json={'status': 'lost'}), 422)
    assert 'lost_reason' in error['fields']
    assert counts(sql, shop.id) == before
    lost = shop.put(f"/api/crm/leads/{lead['id']}",
        {'status': 'lost', 'lost_reason': "Went to a Chinese supplier"})
    assert (lost['status'], lost['lost_reason']) == (
        'lost', "Went to a Chinese supplier")
    error_of(api.post(f"/api/crm/leads/{lead['id']}/convert",
            token=shop.token, json={}), 409, 'lead_lost')
    response = api.delete(f"/api/crm/leads/{lead['id']}", token=shop.token)
    assert response.status_code == 204, response.text
    error_of(api.get(f"/api/crm/leads/{lead['id']}", token=shop.token), 404,
        'lead_not_found')


# Quotations and orders ------------------------------------------------------

def pdf_text(message):
    attachment, = [p for p in message.walk() if p.get_filename()]
    assert attachment.get_content_type() == 'application/pdf'
    reader = PdfReader(io.BytesIO(attachment.get_payload(decode=True)))
    return ' '.join(page.extract_text() for page in reader.pages)


def test_quotation_to_order(shop, api, conforms, mail):
    """Three GST rates, exact totals and CGST+SGST within the state; send
    (PDF by e-mail), accept, convert (409 twice), confirm"""
    customer = shop.customer(gstin='27AADCB2230M1ZT')
    response = api.post('/api/crm/quotations', token=shop.token, json={
            'customer_id': customer['id'], 'lines': LINES,
            'terms_conditions': "50% advance", 'notes': "Drawing rev B"})
    assert response.status_code == 201, response.text
    conforms(response, '/api/crm/quotations')
    quotation = response.json()
    qid = quotation['id']
    assert quotation['quote_number'] == f'QT-{YEAR}-001'
    assert quotation['status'] == 'draft'
    assert [(l['total_price'], l['tax_rate'], l['discount_percent'])
        for l in quotation['lines']] == [
        ('3086.25', '5.00', '0.00'), ('6800.00', '12.00', '0.00'),
        ('4050.00', '18.00', '10.00')]
    # HSN/SAC per line: given, else the item's (none for these services)
    assert [l['hsn_sac'] for l in quotation['lines']] == [
        None, '998873', None]
    assert {k: quotation[k] for k in ['subtotal', 'discount_amount',
            'cgst_amount', 'sgst_amount', 'igst_amount', 'tax_amount',
            'total_amount']} == {
        'subtotal': '13936.25', 'discount_amount': '450.00',
        'cgst_amount': '849.66', 'sgst_amount': '849.66',
        'igst_amount': '0.00', 'tax_amount': '1699.32',
        'total_amount': '15635.57'}
    assert quotation['valid_until'] == str(
        dt.date.today() + dt.timedelta(days=30))

    response = api.post(f'/api/crm/quotations/{qid}/send', token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/crm/quotations/{id}/send')
    assert response.json()['quotation']['status'] == 'sent'
    text = pdf_text(mail(customer['email']))
    for expected in [f'QT-{YEAR}-001', MH['name'], MH['gstin'],
            customer['name'], '27AADCB2230M1ZT', 'CGST', '849.66',
            'HSN/SAC', '998873',
            '15,635.57', 'Rupees Fifteen Thousand Six Hundred Thirty Five '
            'and Fifty Seven Paise Only']:
        assert expected in text, (expected, text)
    # A sent quotation no longer changes
    error_of(api.put(f'/api/crm/quotations/{qid}', token=shop.token,
            json={'notes': "x"}), 409, 'quotation_not_draft')

    accepted = shop.post(f'/api/crm/quotations/{qid}/accept', status=200)
    assert accepted['status'] == 'accepted'
    response = api.post(f'/api/crm/quotations/{qid}/convert-to-order',
        token=shop.token)
    assert response.status_code == 201, response.text
    conforms(response, '/api/crm/quotations/{id}/convert-to-order')
    order = response.json()
    assert (order['order_number'], order['quotation_id'], order['status'],
        order['total_amount']) == (f'SO-{YEAR}-001', qid, 'pending',
        '15635.57')
    assert [l['total_price'] for l in order['lines']] == [
        '3086.25', '6800.00', '4050.00']
    error_of(api.post(f'/api/crm/quotations/{qid}/convert-to-order',
            token=shop.token), 409, 'quotation_converted')

    response = api.post(f"/api/sales/orders/{order['id']}/confirm",
        token=shop.token, json={})
    assert response.status_code == 200, response.text
    conforms(response, '/api/sales/orders/{id}/confirm')
    confirmed = response.json()
    assert (confirmed['status'], confirmed['payment_status']) == (
        'confirmed', 'unpaid')
    error_of(api.post(f"/api/sales/orders/{order['id']}/confirm",
            token=shop.token, json={}), 409, 'order_not_pending')
    page = shop.get('/api/sales/orders')
    assert [o['order_number'] for o in page['items']] == [f'SO-{YEAR}-001']
    assert shop.get('/api/crm/quotations', status='accepted')['total'] == 1


def test_other_state_igst(shop):
    "A customer in Karnataka pays IGST, rounded once per rate"
    customer = shop.customer(state='IN-KA')
    quotation = shop.post('/api/crm/quotations', {
            'customer_id': customer['id'], 'lines': LINES})
    assert {k: quotation[k] for k in ['cgst_amount', 'sgst_amount',
            'igst_amount', 'tax_amount', 'total_amount']} == {
        'cgst_amount': '0.00', 'sgst_amount': '0.00',
        'igst_amount': '1699.31', 'tax_amount': '1699.31',
        'total_amount': '15635.56'}


def test_quotation_refusals(shop, api, sql):
    """Invalid lines, blocked customers, expired and rejected quotations"""
    customer = shop.customer()
    before = counts(sql, shop.id)
    for lines, field in [
            ([{**LINES[0], 'tax_rate': 7}], 'lines.0.tax_rate'),
            ([{**LINES[0], 'quantity': 0}], 'lines.0.quantity'),
            ([{**LINES[0], 'discount_percent': 150}],
                'lines.0.discount_percent'),
            ([LINES[0], {'quantity': 1, 'unit_price': 5}],
                'lines.1.description'),
            ([{**LINES[0], 'item_type': 'material'}], 'lines.0.item_id'),
            ([{**LINES[0], 'item_id': 999999}], 'lines.0.item_id'),
            ([LINES[0], {**LINES[1], 'hsn_sac': '99887'}],
                'lines.1.hsn_sac'),
            ([{**LINES[0], 'hsn_sac': '72141'}], 'lines.0.hsn_sac'),
            ([{**LINES[0], 'hsn_sac': 'HSN7214'}], 'lines.0.hsn_sac'),
            ]:
        response = api.post('/api/crm/quotations', token=shop.token,
            json={'customer_id': customer['id'], 'lines': lines})
        assert field in error_of(response, 422)['fields'], lines
    assert counts(sql, shop.id) == before

    blocked = shop.customer(status='blocked')
    before = counts(sql, shop.id)
    error_of(api.post('/api/crm/quotations', token=shop.token,
            json={'customer_id': blocked['id'], 'lines': LINES}), 422,
        'customer_blocked')
    error_of(api.post('/api/sales/orders', token=shop.token,
            json={'customer_id': blocked['id'], 'lines': LINES}), 422,
        'customer_blocked')
    assert counts(sql, shop.id) == before

    # Past its validity a sent quotation cannot be accepted
    late = shop.post('/api/crm/quotations', {
            'customer_id': customer['id'], 'lines': LINES,
            'quote_date': str(dt.date.today() - dt.timedelta(days=40))})
    shop.post(f"/api/crm/quotations/{late['id']}/send", status=200)
    error_of(api.post(f"/api/crm/quotations/{late['id']}/accept",
            token=shop.token), 409, 'quotation_expired')
    assert shop.get(f"/api/crm/quotations/{late['id']}")['status'] == \
        'expired'
    error_of(api.post(f"/api/crm/quotations/{late['id']}/convert-to-order",
            token=shop.token), 409)

    # A rejected quotation keeps its reason and cannot be accepted
    quotation = shop.post('/api/crm/quotations', {
            'customer_id': customer['id'], 'lines': LINES})
    shop.post(f"/api/crm/quotations/{quotation['id']}/send", status=200)
    error_of(api.post(f"/api/crm/quotations/{quotation['id']}/reject",
            token=shop.token, json={}), 422)
    rejected = shop.post(f"/api/crm/quotations/{quotation['id']}/reject",
        {'reason': "Price too high"}, status=200)
    assert (rejected['status'], rejected['rejection_reason']) == (
        'rejected', "Price too high")
    error_of(api.post(f"/api/crm/quotations/{quotation['id']}/accept",
            token=shop.token), 409, 'quotation_rejected')
    # A customer without e-mail gets nothing sent
    silent = shop.customer(email=None)
    draft = shop.post('/api/crm/quotations', {
            'customer_id': silent['id'], 'lines': LINES})
    error_of(api.post(f"/api/crm/quotations/{draft['id']}/send",
            token=shop.token), 422, 'customer_no_email')
    assert shop.get(f"/api/crm/quotations/{draft['id']}")['status'] == \
        'draft'


def test_order_credit_limit(shop, api, conforms, sql):
    """Open receivables + open orders + this order above the credit limit
    is refused with the figures; a salesman cannot approve, the owner
    can, and it is recorded"""
    customer = shop.customer(credit_limit='20000')
    first = shop.post('/api/sales/orders', {'customer_id': customer['id'],
            'lines': LINES, 'priority': 'high', 'shipping_cost': 500,
            'delivery_date': str(dt.date.today() + dt.timedelta(days=10))})
    assert (first['order_number'], first['status'], first['priority'],
        first['shipping_cost'], first['subtotal']) == (
        f'SO-{YEAR}-001', 'pending', 'high', '500.00', '13936.25')
    # 500 of shipping at 18 % GST: 90.00 of tax
    assert (first['tax_amount'], first['total_amount']) == (
        '1789.32', '16225.57')
    confirmed = shop.post(f"/api/sales/orders/{first['id']}/confirm",
        {}, status=200)
    assert confirmed['status'] == 'confirmed'

    second = shop.post('/api/sales/orders', {'customer_id': customer['id'],
            'lines': LINES})
    before = counts(sql, shop.id)
    response = api.post(f"/api/sales/orders/{second['id']}/confirm",
        token=shop.token, json={})
    conforms(response, '/api/sales/orders/{id}/confirm')
    error = error_of(response, 422, 'credit_limit_exceeded')
    assert error['fields'] == {'credit_limit': '20000.00',
        'open_amount': '14436.25', 'order_amount': '13936.25',
        'exceeded_by': '8372.50'}
    assert shop.get(f"/api/sales/orders/{second['id']}")['status'] == \
        'pending'

    sales = shop.member('sales')
    error_of(api.post(f"/api/sales/orders/{second['id']}/confirm",
            token=sales, json={'approve_credit_override': True}), 403)
    assert counts(sql, shop.id) == before
    approved = shop.post(f"/api/sales/orders/{second['id']}/confirm",
        {'approve_credit_override': True}, status=200)
    assert approved['status'] == 'confirmed'
    assert approved['credit_approved_by'] is not None
    assert approved['credit_approved_at'] is not None

    # Pending orders change; confirmed ones keep their lines
    third = shop.post('/api/sales/orders', {'customer_id': customer['id'],
            'lines': LINES[:1]})
    changed = shop.put(f"/api/sales/orders/{third['id']}",
        {'lines': LINES[1:2], 'priority': 'urgent'})
    assert (changed['total_amount'], changed['priority']) == (
        '7616.00', 'urgent')
    error_of(api.put(f"/api/sales/orders/{first['id']}", token=shop.token,
            json={'lines': LINES}), 409, 'order_lines_fixed')
    assert shop.put(f"/api/sales/orders/{first['id']}",
        {'notes': "Call before delivery"})['notes'] == "Call before delivery"
    error_of(api.get('/api/sales/orders/999999', token=shop.token), 404,
        'order_not_found')


def test_numbering_per_business_and_concurrent(api, mail):
    """QT and SO numbers restart in each business; 20 quotations and 20
    orders created at once in one business get 20 distinct numbers each"""
    a, b = Shop(api, mail), Shop(api, mail)
    customer = a.customer()
    b_customer = b.customer()
    results, errors = [], []

    def create(path):
        response = api.post(path, token=a.token, json={
                'customer_id': customer['id'], 'lines': LINES[:1]})
        if response.status_code == 201:
            results.append((path, response.json()))
        else:
            errors.append(response.text)

    threads = [threading.Thread(target=create, args=(path,))
        for path in ['/api/crm/quotations', '/api/sales/orders'] * 20]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    quotes = {r['quote_number'] for p, r in results
        if p == '/api/crm/quotations'}
    orders = {r['order_number'] for p, r in results
        if p == '/api/sales/orders'}
    assert quotes == {f'QT-{YEAR}-{n:03d}' for n in range(1, 21)}
    assert orders == {f'SO-{YEAR}-{n:03d}' for n in range(1, 21)}

    other = b.post('/api/crm/quotations', {
            'customer_id': b_customer['id'], 'lines': LINES[:1]})
    assert other['quote_number'] == f'QT-{YEAR}-001'


def test_list_pagination(shop):
    customer = shop.customer()
    for _ in range(3):
        shop.post('/api/crm/quotations', {'customer_id': customer['id'],
                'lines': LINES[:1]})
    page = shop.get('/api/crm/quotations', limit=2, order='quote_number')
    assert (page['total'], len(page['items'])) == (3, 2)
    assert [q['quote_number'] for q in page['items']] == [
        f'QT-{YEAR}-001', f'QT-{YEAR}-002']
    assert Decimal(page['items'][0]['total_amount']) == Decimal('3240.57')
    shop.get('/api/crm/quotations', expect=400, order='nope')
