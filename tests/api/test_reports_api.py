"""/api/reports/<name> against the live trytond: every report answers the
owner as the document says; an invoice sent through the API is in the
sales summary (invoiced value, GST) and the customer payments (its balance)
of its business only; CSV and XLSX downloads carry the same figures; the
sales role reads the sales summary but not the profitability (403); bad
queries are refused (401, 400, 422)."""
import csv
import datetime as dt
import io
import zipfile

from .test_crm_api import Shop, shop  # noqa: F401
from .test_finance_api import INVOICES, SERVICES, invoice
from .test_inventory_api import error_of

TODAY = dt.date.today()
REPORTS = ['sales-summary', 'production-efficiency', 'inventory-valuation',
    'customer-payments', 'profitability', 'material-consumption',
    'machine-utilization']


def test_reports(shop, api, conforms, mail):
    "An invoice sent → its figures in the reports, JSON, CSV and XLSX"
    customer = shop.customer(name="Apex Motors")
    draft = invoice(shop, customer)
    sent = shop.post(f"{INVOICES}/{draft['id']}/send", status=200)
    # 8 h at 850 (12 %) and 10 at 450 (18 %), as test_finance_api
    assert (sent['subtotal'], sent['tax_amount'], sent['total_amount']) == (
        '11300.00', '1626.00', '12926.00')
    period = {'from': str(TODAY.replace(day=1)), 'to': str(TODAY)}

    for name in REPORTS:
        response = api.get(f'/api/reports/{name}', token=shop.token,
            params=period)
        assert response.status_code == 200, (name, response.text)
        conforms(response, f'/api/reports/{name}')
        body = response.json()
        assert (body['report'], body['from'], body['to']) == (
            name, period['from'], period['to'])
        assert body['total'] == len(body['items'])

    summary = shop.get('/api/reports/sales-summary', group_by='customer',
        **period)
    row, = [r for r in summary['items']
        if r['customer'] and r['customer']['id'] == customer['id']]
    assert (row['customer']['name'], row['invoices'], row['invoiced_value'],
        row['gst_collected']) == ("Apex Motors", 1, '11300.00', '1626.00')
    month, = shop.get('/api/reports/sales-summary', group_by='month',
        **period)['items']
    assert month['period'] == period['from']
    assert month['invoiced_value'] == '11300.00'

    # The customer's balance is the invoice's total, in its buckets
    payments = shop.get('/api/reports/customer-payments',
        customer=customer['id'], **period)
    row, = payments['items']
    assert row['balance'] == '12926.00'
    assert sum(float(row[k]) for k in ['not_due', 'overdue_0_30',
            'overdue_31_60', 'overdue_61_90', 'overdue_over_90']) == 12926
    # A filter on another customer leaves it out
    other = shop.customer()
    assert shop.get('/api/reports/customer-payments',
        customer=other['id'], **period)['items'] == []

    # Pages
    page = shop.get('/api/reports/sales-summary', group_by='customer',
        limit=1, offset=0, **period)
    assert (page['limit'], page['offset'], len(page['items'])) == (1, 0, 1)

    # Downloads of the whole report
    response = api.get('/api/reports/sales-summary', token=shop.token,
        params={'group_by': 'customer', 'format': 'csv', **period})
    assert response.status_code == 200, response.text
    assert response.headers['Content-Type'].startswith('text/csv')
    assert 'attachment' in response.headers['Content-Disposition']
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    row, = [r for r in rows if r['customer'] == "Apex Motors"]
    assert (row['invoiced_value'], row['gst_collected']) == (
        '11300.00', '1626.00')
    response = api.get('/api/reports/sales-summary', token=shop.token,
        params={'group_by': 'customer', 'format': 'xlsx', **period})
    assert response.status_code == 200, response.text
    assert response.headers['Content-Type'] == (
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        strings = book.read('xl/sharedStrings.xml').decode()
        sheet = book.read('xl/worksheets/sheet1.xml').decode()
    assert 'Apex Motors' in strings and 'invoiced_value' in strings
    assert '<v>11300</v>' in sheet and '<v>1626</v>' in sheet, sheet


def test_reports_refusals(shop, api, mail):
    "Roles, other businesses and bad queries"
    customer = shop.customer(name="Bharat Pumps")
    draft = invoice(shop, customer, lines=SERVICES[:1])
    shop.post(f"{INVOICES}/{draft['id']}/send", status=200)

    # Sales reads the sales summary, not the profitability (403)
    sales = shop.member('sales')
    rows = shop.get('/api/reports/sales-summary', token=sales,
        group_by='customer')['items']
    assert [r['invoiced_value'] for r in rows
        if r['customer']['id'] == customer['id']] == ['6800.00']
    error_of(api.get('/api/reports/profitability', token=sales), 403,
        'forbidden')
    # (the owner reads it: lines without a product are no product's
    # revenue, and there is no expense)
    assert shop.get('/api/reports/profitability',
        group_by='total')['items'] == []

    # Another business sees none of it
    other = Shop(api, mail)
    for name in ['sales-summary', 'customer-payments', 'profitability']:
        assert shop.get(f'/api/reports/{name}', token=other.token,
            group_by='customer')['items'] == [], name

    error_of(api.get('/api/reports/sales-summary'), 401)
    error_of(api.get('/api/reports/sales-summary', token=shop.token,
            params={'group_by': 'salesperson'}), 400, 'invalid_query')
    error_of(api.get('/api/reports/sales-summary', token=shop.token,
            params={'format': 'pdf'}), 400, 'invalid_query')
    error_of(api.get('/api/reports/sales-summary', token=shop.token,
            params={'colour': 'red'}), 400, 'invalid_query')
    error = error_of(api.get('/api/reports/sales-summary', token=shop.token,
            params={'from': '2026-02-01', 'to': '2026-01-01'}), 422,
        'validation_error')
    assert 'from' in error['fields']
    error = error_of(api.get('/api/reports/machine-utilization',
            token=shop.token, params={'to': '9999-12-31'}), 422,
        'validation_error')
    assert 'to' in error['fields']
