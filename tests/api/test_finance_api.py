"""/api/finance/invoices and /api/finance/payments against the live trytond:
invoices by hand and from sales orders, sending (PDF e-mailed), payments in
part and in full, void and cheque bounce reopening the invoice, credit
notes on a line, lists with filters and pages, and the refusals (401, 403,
404, 409, 422), each leaving the database unchanged."""
import datetime as dt
import io
from decimal import Decimal

from pypdf import PdfReader

from .test_crm_api import LINES, Shop, shop  # noqa: F401
from .test_inventory_api import error_of

YEAR = dt.date.today().year
TODAY = dt.date.today()
INVOICES = '/api/finance/invoices'
PAYMENTS = '/api/finance/payments'
# 8 h of machining at 850 (12 % GST) and 10 flanges finished at 450 (18 %):
# taxable 6800.00 + 4500.00, CGST = SGST = 408.00 + 405.00 within the state
SERVICES = [
    {'description': "CNC machining (hours)", 'quantity': 8,
        'unit_price': 850, 'tax_rate': 12, 'hsn_sac': '998873'},
    {'description': "Flange finishing", 'quantity': 10,
        'unit_price': '450.00', 'tax_rate': 18, 'hsn_sac': '998873'},
    ]


def D(value):
    return Decimal(str(value))


def finance_counts(sql, business):
    "Rows of the business's invoices, their lines, payments and moves"
    return {
        'invoices': sql('SELECT COUNT(*) FROM account_invoice '
            'WHERE company = %s', (business,))[0][0],
        'numbered': sql('SELECT COUNT(*) FROM account_invoice '
            'WHERE company = %s AND number IS NOT NULL', (business,))[0][0],
        'lines': sql('SELECT COUNT(*) FROM account_invoice_line l JOIN '
            'account_invoice i ON l.invoice = i.id WHERE i.company = %s',
            (business,))[0][0],
        'payments': sql('SELECT COUNT(*) FROM monitorbizz_finance_payment '
            'WHERE company = %s', (business,))[0][0],
        'moves': sql('SELECT COUNT(*) FROM account_move WHERE company = %s',
            (business,))[0][0],
        }


def invoice(shop, customer=None, lines=SERVICES, **values):
    customer = customer or shop.customer()
    return shop.post(INVOICES, {'customer_id': customer['id'],
            'lines': lines, **values})


def test_invoice_payments(shop, api, conforms, sql, mail):
    "By hand → sent (PDF mailed) → paid in part and in full; void, bounce"
    customer = shop.customer(name="Bharat Pumps")
    response = api.post(INVOICES, token=shop.token, json={
            'customer_id': customer['id'], 'lines': SERVICES,
            'notes': "Job 114"})
    assert response.status_code == 201, response.text
    conforms(response, INVOICES)
    draft = response.json()
    iid = draft['id']
    assert (draft['invoice_number'], draft['status'], draft['kind'],
        draft['customer_id'], draft['notes']) == (
        None, 'draft', 'invoice', customer['id'], "Job 114")
    assert [(l['hsn_sac'], l['taxable_value'], l['cgst_amount'],
            l['sgst_amount'], l['igst_amount']) for l in draft['lines']] == [
        ('998873', '6800.00', '408.00', '408.00', '0.00'),
        ('998873', '4500.00', '405.00', '405.00', '0.00')]
    assert [draft[k] for k in ['subtotal', 'cgst_amount', 'sgst_amount',
            'igst_amount', 'tax_amount', 'total_amount', 'paid_amount',
            'balance_amount']] == ['11300.00', '813.00', '813.00', '0.00',
        '1626.00', '12926.00', '0.00', '12926.00']
    assert draft['pdf_url'] == f'{INVOICES}/{iid}/pdf'
    response = api.get(f'{INVOICES}/{iid}', token=shop.token)
    conforms(response, f'{INVOICES}/{{id}}')
    assert response.json() == draft

    # A draft changes
    changed = shop.put(f'{INVOICES}/{iid}', {'notes': "Job 114/A",
            'lines': SERVICES[:1] + [{**SERVICES[1], 'quantity': 10}]})
    assert (changed['notes'], changed['total_amount']) == (
        "Job 114/A", '12926.00')

    # Sent: posted with the first number, the tax invoice e-mailed
    response = api.post(f'{INVOICES}/{iid}/send', token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, f'{INVOICES}/{{id}}/send')
    sent = response.json()
    assert (sent['invoice_number'], sent['status'], sent['invoice_date'],
        sent['balance_amount']) == (
        f'INV-{YEAR}-001', 'sent', str(TODAY), '12926.00')
    assert sent['sent_at']
    message = mail(customer['email'])
    attachment, = [p for p in message.walk() if p.get_filename()]
    text = ' '.join(p.extract_text() for p in PdfReader(io.BytesIO(
                attachment.get_payload(decode=True))).pages)
    assert 'Tax Invoice' in text and f'INV-{YEAR}-001' in text, text
    response = api.get(f'{INVOICES}/{iid}/pdf', token=shop.token)
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/pdf'
    text = ' '.join(p.extract_text()
        for p in PdfReader(io.BytesIO(response.content)).pages)
    assert f'INV-{YEAR}-001' in text and '12,926.00' in text, text

    # Posted: the invoice model refuses changes of its figures (409),
    # nothing changes; a note may still be added (Tryton allows it)
    error = error_of(api.put(f'{INVOICES}/{iid}', token=shop.token,
            json={'invoice_date': str(TODAY - dt.timedelta(days=1))}), 409,
        'invoice_not_draft')
    assert f'INV-{YEAR}-001' in error['message']
    error_of(api.put(f'{INVOICES}/{iid}', token=shop.token,
            json={'customer_id': shop.customer()['id']}), 409,
        'invoice_not_draft')
    before = finance_counts(sql, shop.id)
    error_of(api.put(f'{INVOICES}/{iid}', token=shop.token,
            json={'lines': SERVICES[:1]}), 409, 'invoice_not_draft')
    # Above the balance: 422 naming it, nothing recorded
    error = error_of(api.post(f'{INVOICES}/{iid}/record-payment',
            token=shop.token, json={'amount': '13000',
                'payment_method': 'upi'}), 422, 'payment_above_balance')
    assert '12926.00' in error['message'], error
    assert error['fields'] == {'amount': 'above the balance 12926.00'}
    # A cancelled posted invoice: credit it instead
    error_of(api.post(f'{INVOICES}/{iid}/cancel', token=shop.token), 409,
        'invalid_state')
    assert finance_counts(sql, shop.id) == before
    invoice_now = shop.get(f'{INVOICES}/{iid}')
    assert (invoice_now['notes'], invoice_now['status'],
        invoice_now['invoice_date'], invoice_now['customer_id'],
        len(invoice_now['lines'])) == (
        "Job 114/A", 'sent', str(TODAY), customer['id'], 2)

    # Part payment by UPI: the balance stays open
    response = api.post(f'{INVOICES}/{iid}/record-payment', token=shop.token,
        json={'amount': '5000', 'payment_method': 'upi',
            'reference_number': 'UPI-417823', 'payment_date': str(TODAY)})
    assert response.status_code == 201, response.text
    conforms(response, f'{INVOICES}/{{id}}/record-payment')
    recorded = response.json()
    upi = recorded['payment']
    assert (upi['payment_number'], upi['amount'], upi['payment_method'],
        upi['status'], upi['invoice_id'], upi['reference_number']) == (
        f'PAY-{YEAR}-001', '5000.00', 'upi', 'recorded', iid, 'UPI-417823')
    assert [recorded['invoice'][k] for k in ['status', 'paid_amount',
            'balance_amount']] == ['sent', '5000.00', '7926.00']
    # The rest by cheque: paid
    cheque = shop.post(f'{INVOICES}/{iid}/record-payment', {
            'amount': '7926.00', 'payment_method': 'cheque',
            'reference_number': '004512'})
    assert [cheque['invoice'][k] for k in ['status', 'paid_amount',
            'balance_amount']] == ['paid', '12926.00', '0.00']
    cheque = cheque['payment']
    assert cheque['payment_number'] == f'PAY-{YEAR}-002'
    paid = shop.get(f'{INVOICES}/{iid}')
    assert [p['id'] for p in paid['payments']] == [upi['id'], cheque['id']]
    # Paid: the payment's invoice must be an open one (the payment
    # model's domain), nothing recorded
    before = finance_counts(sql, shop.id)
    error_of(api.post(f'{INVOICES}/{iid}/record-payment', token=shop.token,
            json={'amount': 1, 'payment_method': 'cash'}), 422,
        'domain_validation')
    assert finance_counts(sql, shop.id) == before

    # The payments: read, listed with filters
    response = api.get(f"{PAYMENTS}/{upi['id']}", token=shop.token)
    conforms(response, f'{PAYMENTS}/{{id}}')
    assert response.json() == upi
    page = shop.get(PAYMENTS, invoice_id=iid)
    assert [p['id'] for p in page['items']] == [cheque['id'], upi['id']]
    assert shop.get(PAYMENTS, payment_method='cheque')['items'] == [cheque]
    assert shop.get(PAYMENTS, q='UPI-417823')['total'] == 1

    # Voiding the UPI payment reopens the invoice for its amount
    response = api.post(f"{PAYMENTS}/{upi['id']}/void", token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, f'{PAYMENTS}/{{id}}/void')
    assert response.json()['status'] == 'voided'
    reopened = shop.get(f'{INVOICES}/{iid}')
    assert [reopened[k] for k in ['status', 'paid_amount',
            'balance_amount']] == ['sent', '7926.00', '5000.00']
    assert shop.get(PAYMENTS, status='voided')['total'] == 1
    # Voided or not a cheque: the buttons do not apply (409)
    before = finance_counts(sql, shop.id)
    error_of(api.post(f"{PAYMENTS}/{upi['id']}/void", token=shop.token),
        409, 'invalid_state')
    error_of(api.post(f"{PAYMENTS}/{upi['id']}/clear", token=shop.token),
        409, 'invalid_state')
    assert finance_counts(sql, shop.id) == before

    # The cheque bounces: the whole balance is due again
    bounced = shop.post(f"{PAYMENTS}/{cheque['id']}/bounce", status=200)
    assert bounced['status'] == 'bounced'
    assert shop.get(f'{INVOICES}/{iid}')['balance_amount'] == '12926.00'
    # A new cheque, cleared by the bank
    again = shop.post(f'{INVOICES}/{iid}/record-payment', {
            'amount': '12926', 'payment_method': 'cheque'})['payment']
    cleared = shop.post(f"{PAYMENTS}/{again['id']}/clear", status=200)
    assert cleared['status'] == 'cleared'
    assert shop.get(f'{INVOICES}/{iid}')['status'] == 'paid'
    # Every journal entry of the business is balanced
    assert sql('SELECT COUNT(*) FROM (SELECT m.id FROM account_move m '
        'JOIN account_move_line l ON l.move = m.id WHERE m.company = %s '
        'GROUP BY m.id HAVING SUM(l.debit) != SUM(l.credit)) AS x',
        (shop.id,))[0][0] == 0


def test_credit_note(shop, api, conforms, sql):
    "A credit note on part of a line reverses its GST, pays the balance down"
    customer = shop.customer()
    iid = invoice(shop, customer)['id']
    flange = shop.get(f'{INVOICES}/{iid}')['lines'][1]
    # A draft is not credited
    error_of(api.post(f'{INVOICES}/{iid}/credit-note', token=shop.token,
            json={'reason': "Returned"}), 409, 'invoice_state')
    shop.post(f'{INVOICES}/{iid}/send', status=200)
    before = finance_counts(sql, shop.id)
    error_of(api.post(f'{INVOICES}/{iid}/credit-note', token=shop.token,
            json={'lines': [{'line_id': flange['id'], 'quantity': 4}]}),
        422, 'validation_error')
    error_of(api.post(f'{INVOICES}/{iid}/credit-note', token=shop.token,
            json={'reason': "Returned", 'lines': [
                    {'line_id': flange['id'], 'quantity': 11}]}),
        422, 'credit_quantity')
    error_of(api.post(f'{INVOICES}/{iid}/credit-note', token=shop.token,
            json={'reason': "Returned", 'lines': [
                    {'line_id': 999999, 'quantity': 1}]}),
        422, 'credit_line')
    assert finance_counts(sql, shop.id) == before

    response = api.post(f'{INVOICES}/{iid}/credit-note', token=shop.token,
        json={'reason': "Four flanges out of tolerance", 'lines': [
                {'line_id': flange['id'], 'quantity': 4}]})
    assert response.status_code == 201, response.text
    conforms(response, f'{INVOICES}/{{id}}/credit-note')
    made = response.json()
    credit = made['credit_note']
    # 4 × 450 = 1800.00 taxable, CGST = SGST = 162.00
    assert (credit['invoice_number'], credit['kind'],
        credit['credited_invoice_id'], credit['credit_reason'],
        credit['status']) == (f'CN-{YEAR}-001', 'credit_note', iid,
        "Four flanges out of tolerance", 'paid')
    line, = credit['lines']
    assert (D(line['quantity']), line['taxable_value'], line['cgst_amount'],
        line['sgst_amount'], line['hsn_sac']) == (
        -4, '-1800.00', '-162.00', '-162.00', '998873')
    assert credit['total_amount'] == '-2124.00'
    assert [made['invoice'][k] for k in ['status', 'paid_amount',
            'balance_amount']] == ['sent', '2124.00', '10802.00']
    assert made['invoice']['credit_note_ids'] == [credit['id']]
    assert shop.get(INVOICES, kind='credit_note')['items'][0]['id'] == \
        credit['id']
    # Crediting everything now is above the balance: refused, unchanged
    before = finance_counts(sql, shop.id)
    error_of(api.post(f'{INVOICES}/{iid}/credit-note', token=shop.token,
            json={'reason': "Everything"}), 422, 'credit_above_balance')
    assert finance_counts(sql, shop.id) == before
    # The rest paid, the invoice is paid
    paid = shop.post(f'{INVOICES}/{iid}/record-payment', {
            'amount': '10802.00', 'payment_method': 'bank_transfer'})
    assert paid['invoice']['status'] == 'paid'


def test_refusals_and_roles(shop, api, sql, mail):
    "401 before 403 before 404/409/422; each refusal changes nothing"
    customer = shop.customer()
    iid = invoice(shop, customer)['id']
    sales = shop.member('sales')
    accounts = shop.member('accounts')
    before = finance_counts(sql, shop.id)
    # 401: no token, a bad token
    error_of(api.get(INVOICES), 401, 'missing_token')
    error_of(api.post(f'{INVOICES}/{iid}/record-payment', token='nope',
            json={'amount': 1, 'payment_method': 'cash'}), 401,
        'invalid_token')
    # Sales people read, but neither invoice nor take payments (403)
    assert shop.get(f'{INVOICES}/{iid}', token=sales)['id'] == iid
    assert shop.get(INVOICES, token=sales)['total'] == 1
    error_of(api.post(INVOICES, token=sales, json={
                'customer_id': customer['id'], 'lines': SERVICES}), 403)
    error_of(api.put(f'{INVOICES}/{iid}', token=sales,
            json={'notes': "x"}), 403)
    for action, body in [('send', None), ('cancel', None),
            ('record-payment', {'amount': 1, 'payment_method': 'cash'}),
            ('credit-note', {'reason': "x"})]:
        error_of(api.post(f'{INVOICES}/{iid}/{action}', token=sales,
                json=body), 403, 'forbidden')
    # 404: unknown, and another business's invoice
    error_of(api.get(f'{INVOICES}/999999', token=shop.token), 404,
        'invoice_not_found')
    other = Shop(api, mail)
    error_of(api.get(f'{INVOICES}/{iid}', token=other.token), 404,
        'invoice_not_found')
    error_of(api.post(f'{INVOICES}/{iid}/send', token=other.token), 404,
        'invoice_not_found')
    assert other.get(INVOICES)['total'] == 0
    # 422: fields named
    error = error_of(api.post(INVOICES, token=shop.token, json={
                'customer_id': customer['id']}), 422, 'validation_error')
    assert 'lines' in error['fields']
    error = error_of(api.post(INVOICES, token=shop.token, json={
                'customer_id': customer['id'], 'lines': [
                    {'quantity': 1, 'unit_price': 10}]}), 422)
    assert 'lines.0.description' in error['fields']
    error = error_of(api.post(INVOICES, token=shop.token, json={
                'customer_id': customer['id'], 'lines': [
                    {**SERVICES[0], 'item_id': 999999}]}), 422)
    assert 'lines.0.item_id' in error['fields']
    error_of(api.post(INVOICES, token=shop.token, json={
                'customer_id': customer['id'], 'lines': SERVICES,
                'sales_order_id': 999999}), 422)
    # A draft takes no payment
    error_of(api.post(f'{INVOICES}/{iid}/record-payment', token=shop.token,
            json={'amount': 1, 'payment_method': 'cash'}), 422)
    assert finance_counts(sql, shop.id) == before

    # Accounts invoice and take payments
    sent = shop.post(f'{INVOICES}/{iid}/send', token=accounts, status=200)
    assert sent['status'] == 'sent'
    payment = shop.post(f'{INVOICES}/{iid}/record-payment', {
            'amount': 100, 'payment_method': 'cash'},
        token=accounts)['payment']
    # ... sales people read the payments, but do not void them
    assert shop.get(f"{PAYMENTS}/{payment['id']}", token=sales)['id'] == \
        payment['id']
    error_of(api.post(f"{PAYMENTS}/{payment['id']}/void", token=sales), 403,
        'forbidden')
    error_of(api.get(f"{PAYMENTS}/{payment['id']}", token=other.token), 404,
        'payment_not_found')
    # The invoicing settings: owners and managers change them
    error_of(api.put('/api/finance/settings', token=accounts,
            json={'upi_vpa': 'kpw@okhdfcbank'}), 403, 'forbidden')
    error = error_of(api.put('/api/finance/settings', token=shop.token,
            json={'upi_vpa': 'kpw at hdfc'}), 422)
    assert list(error['fields']) == ['upi_vpa']
    settings = shop.put('/api/finance/settings', {
            'upi_vpa': 'kpw@okhdfcbank', 'bank_ifsc': 'HDFC0001234'})
    assert (settings['upi_vpa'], settings['bank_ifsc'],
        settings['invoice_method']) == ('kpw@okhdfcbank', 'HDFC0001234',
        'order')
    assert shop.get('/api/finance/settings', token=accounts) == settings
    # A draft is cancelled, then it is no longer sent
    draft = invoice(shop, customer)
    cancelled = shop.post(f"{INVOICES}/{draft['id']}/cancel", status=200)
    assert cancelled['status'] == 'cancelled'
    error_of(api.post(f"{INVOICES}/{draft['id']}/send", token=shop.token),
        409, 'invalid_state')


def test_invoice_of_sales_order(shop, api):
    "An order's invoice is made by the order (on confirmation by default)"
    customer = shop.customer()
    order = shop.post('/api/sales/orders', {'customer_id': customer['id'],
            'lines': LINES})
    error = error_of(api.post(INVOICES, token=shop.token,
            json={'sales_order_id': order['id']}), 409, 'nothing_to_invoice')
    assert error['details'] == {'invoice_ids': []}
    shop.post(f"/api/sales/orders/{order['id']}/confirm", status=200)
    made, = shop.get(INVOICES, sales_order_id=order['id'])['items']
    error = error_of(api.post(INVOICES, token=shop.token,
            json={'sales_order_id': order['id']}), 409, 'nothing_to_invoice')
    assert error['details'] == {'invoice_ids': [made['id']]}
    invoice = shop.get(f"{INVOICES}/{made['id']}")
    assert (invoice['sales_order_id'], invoice['status'],
        invoice['total_amount'], invoice['discount_amount']) == (
        order['id'], 'draft', order['total_amount'],
        order['discount_amount'])
    assert [l['taxable_value'] for l in invoice['lines']] == [
        l['total_price'] for l in order['lines']]
    sent = shop.post(f"{INVOICES}/{made['id']}/send", status=200)
    assert shop.get(f"/api/sales/orders/{order['id']}")[
        'payment_status'] == 'unpaid'
    shop.post(f"{INVOICES}/{made['id']}/record-payment", {
            'amount': 1000, 'payment_method': 'upi'})
    assert shop.get(f"/api/sales/orders/{order['id']}")[
        'payment_status'] == 'partial'
    shop.post(f"{INVOICES}/{made['id']}/record-payment", {
            'amount': str(D(sent['total_amount']) - 1000),
            'payment_method': 'cash'})
    assert shop.get(f"/api/sales/orders/{order['id']}")[
        'payment_status'] == 'paid'


def test_list_filters_and_pages(shop, api, conforms, sql):
    "Status, overdue, customer, dates; pages"
    # Payment in 15 days: an invoice of 40 days ago is overdue
    slow = shop.customer(payment_terms=15)
    other = shop.customer(state='IN-KA')
    late = invoice(shop, slow, lines=SERVICES[:1])
    response = api.post(f"{INVOICES}/{late['id']}/post", token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, f'{INVOICES}/{{id}}/post')
    assert response.json()['invoice_number'] == f'INV-{YEAR}-001'
    # ... an invoice of 40 days ago (Tryton warns of a due date in the past
    # when posting it: made old in the database, as time would)
    old = TODAY - dt.timedelta(days=40)
    sql('UPDATE account_invoice SET invoice_date = %s WHERE id = %s',
        (old, late['id']))
    sql('UPDATE account_move_line SET maturity_date = %s WHERE move = '
        '(SELECT move FROM account_invoice WHERE id = %s) '
        'AND maturity_date IS NOT NULL', (old + dt.timedelta(days=15),
            late['id']))
    sent = invoice(shop, slow)
    shop.post(f"{INVOICES}/{sent['id']}/send", status=200)
    # Outside the state: IGST
    posted = invoice(shop, other, lines=SERVICES[:1])
    assert (posted['igst_amount'], posted['cgst_amount'],
        posted['total_amount']) == ('816.00', '0.00', '7616.00')
    assert shop.post(f"{INVOICES}/{posted['id']}/post",
        status=200)['status'] == 'posted'
    draft = invoice(shop, other, lines=SERVICES[:1])

    def ids(**query):
        return [i['id'] for i in shop.get(INVOICES, **query)['items']]
    assert ids() == [draft['id'], posted['id'], sent['id'], late['id']]
    assert ids(status='draft') == [draft['id']]
    assert ids(status='posted') == [posted['id']]
    assert ids(status='sent') == [sent['id']]
    assert ids(status='overdue') == ids(overdue='true') == [late['id']]
    assert ids(overdue='false') == [draft['id'], posted['id'], sent['id']]
    assert ids(customer_id=slow['id']) == [sent['id'], late['id']]
    assert ids(date_to=str(TODAY - dt.timedelta(days=1))) == [late['id']]
    assert ids(date_from=str(TODAY)) == [posted['id'], sent['id']]
    assert ids(q=slow['name']) == [sent['id'], late['id']]
    response = api.get(INVOICES, token=shop.token,
        params={'status': 'overdue'})
    conforms(response, INVOICES)
    item, = response.json()['items']
    assert (item['status'], item['due_date'], item['balance_amount'],
        item['invoice_number']) == ('overdue',
        str(TODAY - dt.timedelta(days=25)), '7616.00', f'INV-{YEAR}-001')
    # A posted invoice is not posted twice
    error_of(api.post(f"{INVOICES}/{late['id']}/post", token=shop.token),
        409, 'invalid_state')
    # Pages
    page = shop.get(INVOICES, limit=2, order='invoice_number')
    assert (page['total'], page['limit'], page['offset']) == (4, 2, 0)
    assert [i['invoice_number'] for i in page['items']] == [
        f'INV-{YEAR}-001', f'INV-{YEAR}-002']
    assert ids(limit=1, offset=1, order='invoice_number') == [sent['id']]
    assert ids(limit=2, offset=2) == [sent['id'], late['id']]
    shop.get(INVOICES, expect=400, order='nope')
    shop.get(INVOICES, expect=400, status='lost')


EXPENSES = '/api/finance/expenses'
PNG = (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01'
    b'\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00'
    b'\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82')


def expense_counts(sql, business):
    return {
        'expenses': sql('SELECT COUNT(*) FROM monitorbizz_finance_expense '
            'WHERE company = %s', (business,))[0][0],
        'moves': sql('SELECT COUNT(*) FROM account_move WHERE company = %s',
            (business,))[0][0],
        'receipts': sql("SELECT COUNT(*) FROM ir_attachment WHERE resource "
            "LIKE 'monitorbizz.finance.expense,%%'")[0][0],
        }


def test_expenses(shop, api, conforms, sql):
    "Drafts by any member, posted and cancelled by accounts; receipts"
    import base64
    categories = shop.get('/api/finance/expense-categories')
    kinds = {c['kind']: c for c in categories['items']}
    assert set(kinds) == {'material', 'labor', 'overhead', 'utilities',
        'maintenance'}
    production = shop.member('production')
    # Any member records a draft: power bill, 18 % GST not claimed (a cost)
    response = api.post(EXPENSES, token=production, json={
            'category_id': kinds['utilities']['id'], 'amount': '1000',
            'gst_rate': 18, 'payment_method': 'upi',
            'reference_number': 'MSEDCL-2291', 'description': "Power, shed 2"})
    assert response.status_code == 201, response.text
    conforms(response, EXPENSES)
    draft = response.json()
    eid = draft['id']
    assert (draft['expense_number'], draft['status'], draft['kind'],
        draft['total_amount'], draft['expense_date'],
        draft['receipt_url']) == (
        None, 'draft', 'utilities', '1180.00', str(TODAY), None)

    # Refusals: nothing changes
    before = expense_counts(sql, shop.id)
    for body, field in [
            ({'category_id': 999999, 'amount': 10}, 'category_id'),
            ({'category_id': kinds['labor']['id'], 'amount': -5}, 'amount'),
            ({'category_id': kinds['labor']['id'], 'amount': 5,
                    'expense_date': str(TODAY + dt.timedelta(days=2))},
                'expense_date'),
            ({'category_id': kinds['labor']['id'], 'amount': 5,
                    'payment_method': 'unpaid'}, 'vendor_id'),
            ]:
        error = error_of(api.post(EXPENSES, token=shop.token, json=body),
            422)
        assert field in error['fields'], (body, error)
    error_of(api.post(f'{EXPENSES}/{eid}/post', token=production), 403,
        'forbidden')
    error_of(api.get(f'{EXPENSES}/{eid}'), 401, 'missing_token')
    error_of(api.get(f'{EXPENSES}/999999', token=shop.token), 404,
        'expense_not_found')
    error_of(api.get(f'{EXPENSES}/{eid}/receipt', token=shop.token), 404,
        'receipt_not_found')
    # A receipt is checked by its content, not its name
    error = error_of(api.put(f'{EXPENSES}/{eid}/receipt', token=production,
            json={'data': base64.b64encode(b'GIF89a not accepted').decode()}),
        422, 'receipt_type')
    assert list(error['fields']) == ['data']
    assert expense_counts(sql, shop.id) == before

    # A draft changes; its receipt is kept and served back
    changed = shop.put(f'{EXPENSES}/{eid}', {'amount': '1200.50'},
        token=production)
    assert changed['total_amount'] == '1416.59'
    response = api.put(f'{EXPENSES}/{eid}/receipt', token=production,
        json={'data': base64.b64encode(PNG).decode()})
    assert response.status_code == 200, response.text
    assert response.json()['receipt_url'] == f'{EXPENSES}/{eid}/receipt'
    response = api.get(f'{EXPENSES}/{eid}/receipt', token=shop.token)
    assert (response.status_code, response.headers['Content-Type'],
        response.content) == (200, 'image/png', PNG)

    # Posted by the owner: numbered, one balanced entry
    response = api.post(f'{EXPENSES}/{eid}/post', token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, f'{EXPENSES}/{{id}}/post')
    posted = response.json()
    assert (posted['expense_number'], posted['status']) == (
        f'EXP-{YEAR}-001', 'posted')
    assert sql('SELECT SUM(l.debit), SUM(l.credit) FROM account_move_line l '
        'JOIN monitorbizz_finance_expense e ON l.move = e.move '
        'WHERE e.id = %s', (eid,))[0] == (D('1416.59'), D('1416.59'))
    # Posted: neither changed nor deleted (409), cancelled instead
    before = expense_counts(sql, shop.id)
    error_of(api.put(f'{EXPENSES}/{eid}', token=shop.token,
            json={'amount': 1}), 409, 'expense_not_draft')
    error_of(api.delete(f'{EXPENSES}/{eid}', token=shop.token), 409,
        'expense_not_draft')
    error_of(api.post(f'{EXPENSES}/{eid}/post', token=shop.token), 409,
        'invalid_state')
    assert expense_counts(sql, shop.id) == before
    cancelled = shop.post(f'{EXPENSES}/{eid}/cancel', status=200)
    assert cancelled['status'] == 'cancelled'

    # Lists; a draft is deleted
    other = shop.post(EXPENSES, {'category_id': kinds['labor']['id'],
            'amount': 800})
    assert [e['id'] for e in shop.get(EXPENSES)['items']] == [
        other['id'], eid]
    assert [e['id'] for e in shop.get(EXPENSES, status='cancelled')[
            'items']] == [eid]
    assert [e['id'] for e in shop.get(EXPENSES, kind='labor')[
            'items']] == [other['id']]
    response = api.delete(f"{EXPENSES}/{other['id']}", token=shop.token)
    assert response.status_code == 204, response.text
    shop.get(f"{EXPENSES}/{other['id']}", expect=404)
