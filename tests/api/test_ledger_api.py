"""/api/finance/accounts, /transactions, /trial-balance, /profit-and-loss
and /balance-sheet against the live trytond: a business invoices a job and
is paid in part, and its ledger shows it — the accounting identities hold
(debits = credits, assets = liabilities + equity, the year's profit is in
equity), the receivable's balance is what the customer still owes, the
ledger's lines carry their document and running balance; roles and
businesses see only what they may."""
import datetime as dt
from decimal import Decimal

from .test_crm_api import Shop, shop  # noqa: F401
from .test_finance_api import INVOICES, SERVICES, invoice
from .test_inventory_api import error_of

TODAY = dt.date.today()
LEDGER = '/api/finance'


def D(value):
    return Decimal(value)


def test_ledger_of_a_paid_job(shop, api, conforms):
    "Invoice 12 926.00 (11 300 + GST 1 626), 5 000 received by UPI"
    empty = shop.get(f'{LEDGER}/trial-balance')
    assert (empty['rows'], empty['balanced']) == ([], True)
    sent = invoice(shop)
    iid = sent['id']
    shop.post(f'{INVOICES}/{iid}/send', status=200)
    shop.post(f'{INVOICES}/{iid}/record-payment', {'amount': '5000',
            'payment_method': 'upi', 'reference_number': 'UPI-1'})

    # The chart: a tree of the business's accounts with their kinds
    response = api.get(f'{LEDGER}/accounts', token=shop.token)
    assert response.status_code == 200, response.text
    conforms(response, f'{LEDGER}/accounts')
    accounts = response.json()['items']
    ids = {a['id'] for a in accounts}
    assert all(a['parent_id'] in ids for a in accounts if a['parent_id'])
    by_kind = {}
    for account in accounts:
        by_kind.setdefault(account['kind'], []).append(account)
    assert set(KINDS) <= set(by_kind), set(by_kind)
    receivable, = [a for a in accounts if a['kind'] == 'asset'
        and a['balance'] == '7926.00']
    income = [a for a in by_kind['income'] if a['balance'] != '0.00']
    assert [a['balance'] for a in income] == ['-11300.00'], income
    assert shop.get(f'{LEDGER}/accounts', kind='income')['items'] == (
        by_kind['income'])

    # Trial balance: every account moved, debits = credits
    response = api.get(f'{LEDGER}/trial-balance', token=shop.token)
    conforms(response, f'{LEDGER}/trial-balance')
    trial = response.json()
    assert trial['balanced'] and trial['total_debit'] == trial['total_credit']
    # invoice 12926 + payment 5000 on the debit side
    assert trial['total_debit'] == '17926.00', trial
    closing = {r['account_id']: D(r['closing_balance']) for r in trial['rows']}
    assert closing[receivable['id']] == D('7926.00')
    assert sum(closing.values()) == 0
    assert sum(D(r['closing_balance']) for r in trial['rows']
        if r['kind'] == 'liability') == D('-1626.00')  # GST output

    # Profit and loss: the job's taxable value is the income
    response = api.get(f'{LEDGER}/profit-and-loss', token=shop.token)
    conforms(response, f'{LEDGER}/profit-and-loss')
    pnl = response.json()
    assert (pnl['income'], pnl['expense'], pnl['net_profit']) == (
        '11300.00', '0.00', '11300.00')

    # Balance sheet: receivable + bank = GST owed + the year's profit
    response = api.get(f'{LEDGER}/balance-sheet', token=shop.token)
    conforms(response, f'{LEDGER}/balance-sheet')
    sheet = response.json()
    assert (sheet['assets'], sheet['liabilities'], sheet['equity'],
        sheet['balanced']) == ('12926.00', '1626.00', '11300.00', True)

    # The ledger: newest first, the receivable's running balance
    response = api.get(f'{LEDGER}/transactions', token=shop.token,
        params={'account_id': receivable['id']})
    conforms(response, f'{LEDGER}/transactions')
    page = response.json()
    assert page['total'] == 2
    payment, posting = page['items']
    assert [(l['reference_type'], l['debit'], l['credit'], l['balance'])
        for l in [posting, payment]] == [
        ('invoice', '12926.00', '0.00', '12926.00'),
        ('payment', '0.00', '5000.00', '7926.00')]
    assert posting['reference_id'] == iid
    assert posting['entry_number'] and posting['state'] == 'posted'
    lines = shop.get(f'{LEDGER}/transactions', reference_type='payment')
    assert lines['total'] == 2 and {l['reference_type']
        for l in lines['items']} == {'payment'}
    assert shop.get(f'{LEDGER}/transactions', limit=1,
        offset=1)['items'][0]['id'] == shop.get(
        f'{LEDGER}/transactions')['items'][1]['id']

    # A period before the invoice: nothing moved
    before = str(TODAY - dt.timedelta(days=1))
    assert shop.get(f'{LEDGER}/profit-and-loss', to=before,
        **{'from': before})['income'] == '0.00'


KINDS = ['asset', 'liability', 'equity', 'income', 'expense']


def test_ledger_refusals(shop, api):
    "401 without a token, 403 for sales people, bad periods, other business"
    assert api.get(f'{LEDGER}/trial-balance').status_code == 401
    sales = shop.member('sales')
    for path in ['transactions', 'trial-balance']:
        error_of(api.get(f'{LEDGER}/{path}', token=sales), 403)
    accounts = shop.member('accounts')
    assert api.get(f'{LEDGER}/trial-balance',
        token=accounts).status_code == 200
    error = error_of(api.get(f'{LEDGER}/trial-balance', token=shop.token,
            params={'from': str(TODAY), 'to': '2000-01-01'}), 422)
    assert 'from' in error['fields']
    assert api.get(f'{LEDGER}/balance-sheet', token=shop.token,
        params={'date': '2026-13-01'}).status_code in {400, 422}

    # Another business sees none of this one's accounts or lines
    shop.post(f'{INVOICES}/{invoice(shop)["id"]}/send', status=200)
    other = Shop(api, shop.mail)
    mine = {a['id'] for a in shop.get(f'{LEDGER}/accounts')['items']}
    theirs = {a['id'] for a in other.get(f'{LEDGER}/accounts')['items']}
    assert mine and theirs and not mine & theirs
    account = next(iter(mine))
    assert other.get(f'{LEDGER}/transactions',
        account_id=account)['total'] == 0
