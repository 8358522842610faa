"""Payments of a business (monitorbizz_finance): a posted invoice paid in
part by UPI (the payment recorded: numbered, with its journal entry) and a
draft cash advance on account, each marked with the label."""
import datetime as dt

from .seed import jdate


def seed(owner, ids, label, session):
    o = owner
    today = dt.date.today()
    # created over RPC, an invoice gets no journal from a form's on_change
    revenue, = o.search('account.journal', [('type', '=', 'revenue')],
        limit=1)
    ids['payment_invoice'] = o.create('account.invoice', {
            'type': 'out', 'party': ids['customer'], 'journal': revenue,
            'invoice_address': ids['customer_address'],
            'account': ids['receivable_account'],
            'invoice_date': jdate(today),
            'description': f'{label} invoice paid in part',
            'lines': [('create', [{'product': ids['product'], 'quantity': 2,
                            'unit': ids['unit'], 'unit_price': 450,
                            'account': ids['revenue_account'],
                            'taxes': [('add', [ids['sale_tax']])],
                            'description': f'{label} flanges'}])]})
    o.call('account.invoice', 'post', [ids['payment_invoice']])
    ids['finance_payment'] = o.create('monitorbizz.finance.payment', {
            'kind': 'receipt', 'party': ids['customer'],
            'invoice': ids['payment_invoice'], 'amount': 500,
            'payment_date': jdate(today), 'payment_method': 'upi',
            'reference_number': f'{label} UPI-1',
            'notes': f'{label} part payment'})
    o.call('monitorbizz.finance.payment', 'post', [ids['finance_payment']])
    ids['finance_advance'] = o.create('monitorbizz.finance.payment', {
            'kind': 'receipt', 'party': ids['customer'], 'advance': True,
            'amount': 50, 'payment_date': jdate(today),
            'payment_method': 'cash', 'notes': f'{label} advance'})
