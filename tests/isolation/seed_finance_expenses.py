"""Expenses of a business (monitorbizz_finance): its own subcategory of
overhead, a posted cash expense in it with a receipt attached (an
ir.attachment of the expense) and a draft one, each marked with the
label."""
import base64
import datetime as dt

from .seed import jdate

# a PNG by its signature: receipts are checked by content
RECEIPT = b'\x89PNG\r\n\x1a\n' + b'\x00' * 32


def seed(owner, ids, label, session):
    o = owner
    today = dt.date.today()
    overhead, = o.search('monitorbizz.finance.expense.category', [
            ('kind', '=', 'overhead'), ('parent', '=', None)], limit=1)
    ids['expense_category'] = o.create('monitorbizz.finance.expense.category',
        {'name': f'{label} canteen', 'parent': overhead, 'kind': 'overhead',
            'account': o.read('monitorbizz.finance.expense.category',
                overhead, ['account'])['account']})
    ids['expense'] = o.create('monitorbizz.finance.expense', {
            'category': ids['expense_category'],
            'expense_date': jdate(today), 'amount': 250,
            'payment_method': 'cash', 'vendor': ids['vendor'],
            'reference_number': f'{label} bill 1',
            'description': f'{label} canteen supplies',
            'receipt': {'__class__': 'bytes',
                'base64': base64.b64encode(RECEIPT).decode()}})
    o.call('monitorbizz.finance.expense', 'post', [ids['expense']])
    ids['expense_draft'] = o.create('monitorbizz.finance.expense', {
            'category': ids['expense_category'],
            'expense_date': jdate(today), 'amount': 40,
            'payment_method': 'cash',
            'description': f'{label} draft expense'})
