"""The seed's "Typical Workshop Flow" (section 4) through /api only, in a
new business registered through the API (issue 14, acceptance):

lead → quotation → sales order of a made-to-order flange → its work order,
created by the confirmation with the BOM and routing made through the API
→ materials bought on a purchase order and received into a batch →
scheduled (materials reserved from that batch) → started, its operations
timed on two machines → materials consumed with wastage → completed with a
reject → the order ready to ship → shipped in two parts, from batches →
delivered → invoiced (made when the order was confirmed) → sent, the tax
invoice e-mailed with its UPI QR code → paid in part by UPI → one flange
credited → the rest paid by cheque. Every figure is checked: GST to the
paisa, stock of material and product, ledger rows, scrap, the machines'
views, utilization and OEE quality, the order's payment status and the
customer's receivable. The reports issue extends this test with the
reports."""
import datetime as dt
import time
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qs, urlparse

import pypdfium2
import zxingcpp

from .test_inventory_api import D, Shop, error_of, shop  # noqa: F401

YEAR = dt.date.today().year
TODAY = str(dt.date.today())
WO = '/api/manufacturing/work-orders'
MACHINES = '/api/manufacturing/machines'


def ledger(shop, kind, item):
    """The stock-movement ledger of an item, oldest first, without the
    transfers inside the warehouse (they change no stock)"""
    rows = shop.get(f"/api/inventory/{kind}/{item['id']}/stock-movements",
        limit=100)['items']
    return [(r['movement_type'], D(r['quantity']), D(r['balance']),
            r['reference_type'], (r['batch'] or {}).get('name'))
        for r in reversed(rows) if r['movement_type'] != 'transfer']


def stock(shop, kind, item):
    item = shop.get(f"/api/inventory/{kind}/{item['id']}")
    return (D(item['current_stock']), D(item['reserved_stock']),
        D(item['available_stock']))


def receivable(sql, customer_id):
    "The customer's balance on the receivable account (journal entries)"
    return sql('SELECT COALESCE(SUM(l.debit - l.credit), 0) '
        'FROM account_move_line l JOIN account_account a ON l.account = a.id '
        'JOIN account_account_type t ON a.type = t.id '
        'WHERE l.party = %s AND t.receivable', (customer_id,))[0][0]


def invoice_mail(smtp, number, to, timeout=30):
    "The e-mail of the invoice number to the address to"
    deadline = time.monotonic() + timeout
    while True:
        for message in smtp.messages:
            if number in (message['Subject'] or '') and message['To'] == to:
                return message
        assert time.monotonic() < deadline, f"No e-mail of {number}"
        time.sleep(0.1)


def test_workshop_flow(shop, api, conforms, sql, smtp):
    # A new business of the API client (Shop registered the owner and
    # created it through /api/businesses)
    business = shop.get(f'/api/businesses/{shop.id}')
    assert business['name'] == "Kulkarni Precision Works"

    # The shop floor: two machines, two materials, the made-to-order
    # flange with its BOM and routing, all through the API
    lathe = shop.post(MACHINES, {'name': "CNC Lathe", 'hourly_rate': 600})
    vmc = shop.post(MACHINES, {'name': "VMC", 'hourly_rate': 900})
    bar = shop.post('/api/inventory/materials', {'name': "EN8 Round Bar",
            'unit': 'kg', 'cost_price': 80, 'batch_tracking': True})
    sheet = shop.post('/api/inventory/materials', {'name': "MS Sheet",
            'unit': 'kg', 'cost_price': 60})
    flange = shop.post('/api/inventory/products', {'name': "Flange 40",
            'unit': 'u', 'selling_price': 1234.5})
    bom = shop.post('/api/manufacturing/boms', {'product_id': flange['id'],
            'quantity': 1, 'lines': [
                {'material_id': bar['id'], 'quantity': '1.2',
                    'wastage_percent': '5'},
                {'material_id': sheet['id'], 'quantity': '0.25'}]})
    routing = shop.post('/api/manufacturing/routings', {
            'name': "Flange 40", 'bom_id': bom['id'], 'operations': [
                {'sequence': 1, 'name': "Turning", 'machine_id': lathe['id'],
                    'minutes_per_unit': 3, 'setup_minutes': 30},
                {'sequence': 2, 'name': "Drilling", 'machine_id': vmc['id'],
                    'minutes_per_unit': '1.5', 'setup_minutes': 15}]})
    flange = shop.put(f"/api/inventory/products/{flange['id']}", {
            'made_to_order': True, 'bom_id': bom['id'],
            'routing_id': routing['id']})
    assert (flange['made_to_order'], flange['bom_id'],
        flange['routing_id']) == (True, bom['id'], routing['id'])
    # One flange is on the shelf from before (counted in, no batch)
    shop.post('/api/inventory/adjustments', {'reason': "Opening stock",
            'lines': [{'item_id': flange['id'], 'counted_quantity': 1}]})

    # 1. SALES: the lead, numbered in the business, qualified and
    # converted into a customer with a draft quotation
    lead = shop.post('/api/crm/leads', {
            'company_name': "Kirloskar Pumps", 'contact_person': "A. Joshi",
            'email': 'purchase@kirloskar.example.in',
            'lead_source': 'referral', 'estimated_value': 9000})
    assert (lead['number'], lead['status']) == ('LEAD-001', 'new')
    assert shop.put(f"/api/crm/leads/{lead['id']}",
        {'status': 'qualified'})['status'] == 'qualified'
    converted = shop.post(f"/api/crm/leads/{lead['id']}/convert", {},
        expect=200)
    customer = converted['customer']
    assert customer['customer_code'] == 'CUST-001'
    shop.put(f"/api/crm/customers/{customer['id']}", {'billing_address': {
                'street': "Gat 112", 'city': "Chakan",
                'postal_code': '410501', 'state': 'IN-MH'}})
    # 7 flanges at 1234.50 less 7.5 %, GST 18 % within the state: the
    # taxable value 7 × 1141.9125 = 7993.39 to the paisa, CGST = SGST =
    # 9 % of it = 719.41 (719.405 rounded half up)
    quotation = shop.post('/api/crm/quotations', {
            'customer_id': customer['id'], 'lead_id': lead['id'],
            'lines': [{'item_type': 'product', 'item_id': flange['id'],
                    'quantity': 7, 'unit_price': '1234.50',
                    'discount_percent': '7.5', 'tax_rate': 18}]})
    qid = quotation['id']
    assert (quotation['quote_number'], quotation['quote_date'],
        quotation['lead_id']) == (f'QT-{YEAR}-001', TODAY, lead['id'])
    line, = quotation['lines']
    assert line['total_price'] == '7993.39'
    assert [quotation[k] for k in ['subtotal', 'discount_amount',
            'cgst_amount', 'sgst_amount', 'igst_amount', 'tax_amount',
            'total_amount']] == ['7993.39', '648.11', '719.41', '719.41',
        '0.00', '1438.82', '9432.21']
    sent = shop.post(f'/api/crm/quotations/{qid}/send', expect=200)
    assert sent['sent_to'] == 'purchase@kirloskar.example.in'
    assert shop.post(f'/api/crm/quotations/{qid}/accept',
        expect=200)['status'] == 'accepted'
    order = shop.post(f'/api/crm/quotations/{qid}/convert-to-order')
    oid = order['id']
    assert order['order_number'] == f'SO-{YEAR}-001'
    assert (order['status'], order['total_amount'], order['cgst_amount'],
        order['sgst_amount']) == ('pending', '9432.21', '719.41', '719.41')

    # 3. PRODUCTION: confirming the order creates its work order with the
    # flange's BOM and routing
    response = api.post(f'/api/sales/orders/{oid}/confirm',
        token=shop.token, json={})
    assert response.status_code == 200, response.text
    conforms(response, '/api/sales/orders/{id}/confirm')
    order = shop.get(f'/api/sales/orders/{oid}')
    assert order['status'] == 'in_production'
    work_order, = order['work_orders']
    assert (work_order['number'], work_order['status'],
        D(work_order['quantity_planned'])) == (f'WO-{YEAR}-001', 'draft', 7)
    path = f"{WO}/{work_order['id']}"
    wo = shop.get(path)
    assert (wo['bom']['id'], wo['routing']['id'],
        wo['sales_order']['id']) == (bom['id'], routing['id'], oid)

    # 2. PROCUREMENT: the materials are short; a purchase order below the
    # approval threshold is confirmed (awaiting delivery) and received,
    # the bar into heat HT-2291
    error = error_of(api.post(f'{path}/schedule', token=shop.token), 409,
        'material_shortage')
    short = {s['material']['id']: [D(s[k]) for k in
            ['required', 'available', 'short']]
        for s in error['details']['shortages']}
    # 7 × 1.2 kg × 1.05 = 8.82 kg of bar, 7 × 0.25 = 1.75 kg of sheet
    assert short == {bar['id']: [D('8.82'), 0, D('8.82')],
        sheet['id']: [D('1.75'), 0, D('1.75')]}
    shop.put('/api/inventory/settings', {'approval_threshold': 50000,
            'receipt_tolerance': 0})
    vendor = shop.post('/api/inventory/vendors', {'name': "Vardhman Steel",
            'address': {'city': "Kalamboli", 'state': 'IN-MH'}})
    po = shop.post('/api/inventory/purchase-orders', {
            'vendor_id': vendor['id'], 'expected_date': TODAY, 'lines': [
                {'item_id': bar['id'], 'quantity': 20, 'unit_price': 80},
                {'item_id': sheet['id'], 'quantity': 5, 'unit_price': 60}]})
    po_path = f"/api/inventory/purchase-orders/{po['id']}"
    confirmed = shop.post(f'{po_path}/confirm', expect=200)
    assert confirmed['status'] == 'awaiting_delivery'
    assert D(confirmed['untaxed_amount']) == 1900
    assert shop.get(po_path)['status'] == 'awaiting_delivery'
    bar_line, sheet_line = confirmed['lines']
    shop.post(f'{po_path}/receive', {'lines': [
                {'line_id': bar_line['id'], 'quantity': 20,
                    'batch_number': 'HT-2291'},
                {'line_id': sheet_line['id'], 'quantity': 5}]})
    assert shop.get(po_path)['status'] == 'received'
    assert stock(shop, 'materials', bar) == (20, 0, 20)

    # Scheduled: the materials reserved from the received heat
    scheduled = shop.post(f'{path}/schedule', expect=200)
    assert scheduled['status'] == 'scheduled'
    assert stock(shop, 'materials', bar) == (20, D('8.82'), D('11.18'))
    assert stock(shop, 'materials', sheet) == (5, D('1.75'), D('3.25'))
    materials = {m['material']['id']: m
        for m in shop.get(f'{path}/materials')['items']}
    assert D(materials[bar['id']]['planned_quantity']) == D('8.82')

    # The machines see the work order through its operations
    for machine in [lathe, vmc]:
        listed = shop.get(f"{MACHINES}/{machine['id']}/work-orders")
        assert [w['id'] for w in listed['items']] == [work_order['id']]

    # Started; the two operations timed on their machines
    started = shop.post(f'{path}/start', expect=200)
    assert started['status'] == 'in_progress'
    assert shop.get(f'/api/sales/orders/{oid}')['status'] == 'in_production'
    turn, drill = shop.get(f'{path}/operations')['items']
    # planned: 7 × 3 + 30 = 51 min on the lathe, 7 × 1.5 + 15 = 25.5 min
    assert [(o['operation_name'], o['machine']['id'],
            D(o['planned_duration'])) for o in [turn, drill]] == [
        ("Turning", lathe['id'], 51), ("Drilling", vmc['id'], D('25.5'))]
    for operation in [turn, drill]:
        op = f"{path}/operations/{operation['id']}"
        shop.post(f'{op}/start', {}, expect=200)
        shop.post(f'{op}/complete', {'quantity': 7}, expect=200)

    # Consumed with wastage: 8.4 kg of bar (+ 0.42 kg offcuts) from the
    # heat, 1.75 kg of sheet (+ 0.05 kg)
    shop.post(f'{path}/consume-materials', {'lines': [
                {'material': bar['id'], 'quantity': '8.4',
                    'wastage_quantity': '0.42', 'batch': 'HT-2291'},
                {'material': sheet['id'], 'quantity': '1.75',
                    'wastage_quantity': '0.05'}]})
    materials = {m['material']['id']: m
        for m in shop.get(f'{path}/materials')['items']}
    assert [D(materials[bar['id']][k]) for k in ['planned_quantity',
            'actual_quantity', 'wastage_quantity']] == [
        D('8.82'), D('8.4'), D('0.42')]
    assert materials[bar['id']]['batches'] == ['HT-2291']
    assert [D(materials[sheet['id']][k]) for k in ['actual_quantity',
            'wastage_quantity']] == [D('1.75'), D('0.05')]
    assert stock(shop, 'materials', bar)[0] == D('11.18')
    assert stock(shop, 'materials', sheet)[0] == D('3.2')
    assert ledger(shop, 'materials', bar) == [
        ('in', 20, 20, 'purchase_order', 'HT-2291'),
        ('out', D('-8.4'), D('11.6'), 'work_order', 'HT-2291'),
        ('out', D('-0.42'), D('11.18'), 'work_order', 'HT-2291')]

    # Completed: 6 good flanges under batch FL-0701, 1 rejected to scrap
    completed = shop.post(f'{path}/complete', {'quantity_produced': 6,
            'quantity_rejected': 1, 'reject_reason': "Bore oversize",
            'batch_number': 'FL-0701'}, expect=200)
    assert completed['output_batch']['name'] == 'FL-0701'
    assert (D(completed['quantity_produced']),
        D(completed['scrap_quantity'])) == (6, 1)
    # Materials at cost: (8.4 + 0.42) × 80 + (1.75 + 0.05) × 60 = 813.60,
    # plus the machines' time
    assert D(completed['cost']) >= D('813.60')
    scrap = sql('SELECT COALESCE(SUM(m.quantity), 0) FROM stock_move m '
        'JOIN stock_location t ON m.to_location = t.id '
        'WHERE m.production_output = %s AND t.type = %s AND m.state = %s',
        (work_order['id'], 'lost_found', 'done'))[0][0]
    assert scrap == 1
    assert stock(shop, 'products', flange)[0] == 7
    # Nothing stays reserved of the materials; the heat keeps 11.18 kg
    assert stock(shop, 'materials', bar) == (D('11.18'), 0, D('11.18'))
    assert stock(shop, 'materials', sheet) == (D('3.2'), 0, D('3.2'))
    assert ledger(shop, 'products', flange) == [
        ('adjustment', 1, 1, 'stock_count', None),
        ('in', 6, 7, 'work_order', 'FL-0701')]

    # The machines count the work order: 6 good, 1 rejected, quality
    # 6 / 7 = 0.8571
    for machine in [lathe, vmc]:
        figures = shop.get(f"{MACHINES}/{machine['id']}/utilization",
            **{'from': TODAY, 'to': TODAY})
        assert (D(figures['good_quantity']),
            D(figures['rejected_quantity'])) == (6, 1), figures
        assert D(figures['oee']['quality']) == D('0.8571'), figures
        assert D(figures['run_hours']) >= 0

    # 4. DELIVERY: the order is ready to ship, its work order completed
    order = shop.get(f'/api/sales/orders/{oid}')
    assert order['status'] == 'ready_to_ship'
    assert order['work_orders'][0]['status'] == 'completed'
    goods, = order['goods']
    line_id = goods['line_id']
    assert [D(goods[k]) for k in ['quantity', 'quantity_shipped',
            'quantity_remaining']] == [7, 0, 7]

    # Shipped in two parts: 4 from batch FL-0701 first
    response = api.post(f'/api/sales/orders/{oid}/ship', token=shop.token,
        json={'lines': [{'line_id': line_id, 'quantity': 4,
                    'batch_id': completed['output_batch']['id']}]})
    assert response.status_code == 200, response.text
    conforms(response, '/api/sales/orders/{id}/ship')
    order = response.json()
    assert order['status'] == 'ready_to_ship'
    assert [D(order['goods'][0][k]) for k in ['quantity_shipped',
            'quantity_remaining']] == [4, 3]
    first, = [s for s in order['shipments'] if s['state'] == 'done']
    assert [(D(l['quantity']), l['batch_number']) for l in first['lines']] \
        == [(4, 'FL-0701')]
    assert stock(shop, 'products', flange)[0] == 3
    # The rest: Tryton picks the 2 left of FL-0701 and the unbatched one
    order = shop.post(f'/api/sales/orders/{oid}/ship', {'lines': [
                {'line_id': line_id, 'quantity': 3}]}, expect=200)
    assert order['status'] == 'shipped'
    assert [D(order['goods'][0][k]) for k in ['quantity_shipped',
            'quantity_remaining']] == [7, 0]
    done = [s for s in order['shipments'] if s['state'] == 'done']
    assert len(done) == 2
    assert sorted((D(l['quantity']), l['batch_number'] or '')
        for l in done[1]['lines']) == [(1, ''), (2, 'FL-0701')]
    assert stock(shop, 'products', flange) == (0, 0, 0)
    rows = ledger(shop, 'products', flange)
    assert rows[:2] == [
        ('adjustment', 1, 1, 'stock_count', None),
        ('in', 6, 7, 'work_order', 'FL-0701')]
    assert rows[2] == ('out', -4, 3, 'sales_order', 'FL-0701')
    assert sorted((r[0], r[1], r[3], r[4] or '') for r in rows[3:]) == [
        ('out', -2, 'sales_order', 'FL-0701'),
        ('out', -1, 'sales_order', '')]
    assert rows[-1][2] == 0

    # Delivered: the customer received the goods
    response = api.post(f'/api/sales/orders/{oid}/deliver', token=shop.token,
        json={})
    assert response.status_code == 200, response.text
    conforms(response, '/api/sales/orders/{id}/deliver')
    order = response.json()
    assert (order['status'], order['delivered_date'], order['total_amount'],
        order['payment_status']) == ('delivered', TODAY, '9432.21', 'unpaid')
    assert shop.get('/api/sales/orders', q=order['order_number'])[
        'items'][0]['status'] == 'delivered'

    # 5. INVOICING: the order was invoiced when confirmed (the business's
    # invoice method); there is nothing more to invoice
    made, = shop.get('/api/finance/invoices', sales_order_id=oid)['items']
    iid = made['id']
    error = error_of(api.post('/api/finance/invoices', token=shop.token,
            json={'sales_order_id': oid}), 409, 'nothing_to_invoice')
    assert error['details'] == {'invoice_ids': [iid]}
    invoice = shop.get(f'/api/finance/invoices/{iid}')
    assert (invoice['status'], invoice['invoice_number'],
        invoice['customer_id'], invoice['sales_order_id']) == (
        'draft', None, customer['id'], oid)
    assert [invoice[k] for k in ['subtotal', 'discount_amount',
            'cgst_amount', 'sgst_amount', 'igst_amount', 'tax_amount',
            'total_amount']] == ['7993.39', '648.11', '719.41', '719.41',
        '0.00', '1438.82', '9432.21']
    line, = invoice['lines']
    assert (D(line['quantity']), line['taxable_value'], line['cgst_amount'],
        line['sgst_amount']) == (7, '7993.39', '719.41', '719.41')
    assert receivable(sql, customer['id']) == 0

    # Sent: posted as INV-<year>-001, the tax invoice e-mailed with the UPI
    # QR code of the balance (read from the rendered page)
    shop.put('/api/finance/settings', {'upi_vpa': 'kpw@okhdfcbank'})
    response = api.post(f'/api/finance/invoices/{iid}/send',
        token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/finance/invoices/{id}/send')
    invoice = response.json()
    number = f'INV-{YEAR}-001'
    assert (invoice['invoice_number'], invoice['status']) == (number, 'sent')
    message = invoice_mail(smtp, number, 'purchase@kirloskar.example.in')
    attachment, = [p for p in message.walk() if p.get_filename()]
    assert attachment.get_content_type() == 'application/pdf'
    pdf = attachment.get_payload(decode=True)
    code, = [c for page in pypdfium2.PdfDocument(pdf)
        for c in zxingcpp.read_barcodes(page.render(scale=3).to_pil())]
    upi = urlparse(code.text)
    query = parse_qs(upi.query)
    assert (upi.scheme, query['pa'], query['am'], query['tn'],
        query['cu']) == ('upi', ['kpw@okhdfcbank'], ['9432.21'], [number],
        ['INR'])
    assert shop.get(f'/api/sales/orders/{oid}')['payment_status'] == 'unpaid'
    assert receivable(sql, customer['id']) == D('9432.21')

    # Part payment by UPI: the order is partly paid
    paid = shop.post(f'/api/finance/invoices/{iid}/record-payment', {
            'amount': 4000, 'payment_method': 'upi',
            'reference_number': '412345678901'})
    assert paid['payment']['payment_number'] == f'PAY-{YEAR}-001'
    assert [paid['invoice'][k] for k in ['status', 'paid_amount',
            'balance_amount']] == ['sent', '4000.00', '5432.21']
    assert shop.get(f'/api/sales/orders/{oid}')['payment_status'] == \
        'partial'
    assert receivable(sql, customer['id']) == D('5432.21')

    # One flange of the line comes back: credited with its GST
    # (1141.9125 → 1141.91 taxable, 9 % = 102.77 each of CGST and SGST)
    response = api.post(f'/api/finance/invoices/{iid}/credit-note',
        token=shop.token, json={'reason': "One flange bore oversize",
            'lines': [{'line_id': line['id'], 'quantity': 1}]})
    assert response.status_code == 201, response.text
    conforms(response, '/api/finance/invoices/{id}/credit-note')
    credit = response.json()
    note = credit['credit_note']
    taxable = Decimal('1141.9125').quantize(Decimal('0.01'), ROUND_HALF_UP)
    gst = (taxable * Decimal('0.09')).quantize(Decimal('0.01'),
        ROUND_HALF_UP)
    credited = taxable + 2 * gst
    assert (note['invoice_number'], note['subtotal'], note['cgst_amount'], note['sgst_amount'], note['total_amount']) == (
        f'CN-{YEAR}-001', str(-taxable), str(-gst), str(-gst),
        str(-credited))
    rest = D('5432.21') - credited
    assert [credit['invoice'][k] for k in ['status', 'balance_amount']] == [
        'sent', str(rest)]
    assert receivable(sql, customer['id']) == rest

    # The rest by cheque: the invoice and the order are paid
    paid = shop.post(f'/api/finance/invoices/{iid}/record-payment', {
            'amount': str(rest), 'payment_method': 'cheque',
            'reference_number': '004512'})
    assert [paid['invoice'][k] for k in ['status', 'balance_amount']] == [
        'paid', '0.00']
    assert shop.get(f'/api/sales/orders/{oid}')['payment_status'] == 'paid'
    assert [(p['payment_method'], p['amount'])
        for p in shop.get(f'/api/finance/invoices/{iid}')['payments']] == [
        ('upi', '4000.00'), ('cheque', str(rest))]
    assert receivable(sql, customer['id']) == 0
    assert shop.get('/api/finance/invoices', customer_id=customer['id'],
        status='paid')['total'] == 2
