# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/finance/accounts, /transactions, /trial-balance, /profit-and-loss
and /balance-sheet (seed section 3E "accounts", "transactions"; basic
accounting of section 5): the business's ledger as Tryton keeps it.

Each endpoint reads one of Tryton's own account reports as the calling
user, with the report's context: the chart with balances (account.account),
the general ledger's lines with their running balance and its accounts'
start/debit/credit/end figures (account.general_ledger.line and .account,
readable by the accounting roles only), the income statement and the
balance sheet (account.account.type amounts). Nothing is computed here but
totals of the rows answered."""
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from .crm import DATE, MONEY, _company
from .framework import LIST_QUERY, ApiError, amount, endpoint, page_of
from .schema import ID, define, record

__all__ = []

KINDS = ['asset', 'liability', 'equity', 'income', 'expense']
_FORBIDDEN = ("The caller's role may not read the ledger: owners, managers "
    "and accounts do (forbidden)")
_DATE_QUERY = {'type': 'string', 'format': 'date'}
PERIOD_QUERY = {
    'from': {**_DATE_QUERY, 'description': "First day (default: the start "
        "of the fiscal year of `to`)"},
    'to': {**_DATE_QUERY, 'description': "Last day (default: today)"},
    }

ACCOUNT = define('LedgerAccount', record({
            'id': {'type': 'integer'},
            'code': {'type': ['string', 'null']},
            'name': {'type': 'string'},
            'kind': {'type': ['string', 'null'], 'enum': KINDS + [None],
                'description': "asset, liability, equity, income or "
                "expense; none for a heading"},
            'type': {'type': ['string', 'null'],
                'description': "The account type of the chart"},
            'parent_id': {'type': ['integer', 'null']},
            'closed': {'type': 'boolean'},
            'debit': MONEY,
            'credit': MONEY,
            'balance': {**MONEY, 'description': "Debit minus credit, at the "
                "date asked (all entries up to it; income and expense "
                "accounts within its fiscal year)"},
            }))
TRANSACTION = define('LedgerTransaction', record({
            'id': {'type': 'integer'},
            'date': DATE,
            'account_id': {'type': 'integer'},
            'account_code': {'type': ['string', 'null']},
            'account_name': {'type': 'string'},
            'entry_number': {'type': ['string', 'null'],
                'description': "The journal entry (JV-<year>-NNN)"},
            'debit': MONEY,
            'credit': MONEY,
            'amount': {**MONEY, 'description': "Debit minus credit"},
            'balance': {**MONEY, 'description': "The account's running "
                "balance after this line, within the period asked"},
            'party_id': {'type': ['integer', 'null']},
            'party_name': {'type': ['string', 'null']},
            'reference_type': {'type': ['string', 'null'],
                'description': "What made the entry: invoice, payment, "
                "expense, stock, ..."},
            'reference_id': {'type': ['integer', 'null']},
            'reference': {'type': ['string', 'null'],
                'description': "Its number or name"},
            'description': {'type': ['string', 'null']},
            'state': {'type': 'string', 'enum': ['draft', 'posted']},
            }))
TRIAL_ROW = define('TrialBalanceRow', record({
            'account_id': {'type': 'integer'},
            'code': {'type': ['string', 'null']},
            'name': {'type': 'string'},
            'kind': {'type': ['string', 'null']},
            'opening_balance': MONEY,
            'debit': MONEY,
            'credit': MONEY,
            'closing_balance': MONEY,
            }))
TRIAL_BALANCE = define('TrialBalance', record({
            'from': DATE,
            'to': DATE,
            'rows': {'type': 'array', 'items': TRIAL_ROW},
            'total_debit': MONEY,
            'total_credit': MONEY,
            'balanced': {'type': 'boolean',
                'description': "Debits equal credits"},
            }))
STATEMENT_LINE = define('StatementLine', record({
            'type_id': {'type': 'integer'},
            'name': {'type': 'string'},
            'parent_id': {'type': ['integer', 'null']},
            'kind': {'type': ['string', 'null']},
            'amount': MONEY,
            }))
PROFIT_AND_LOSS = define('ProfitAndLoss', record({
            'from': DATE,
            'to': DATE,
            'lines': {'type': 'array', 'items': STATEMENT_LINE},
            'income': MONEY,
            'expense': MONEY,
            'net_profit': {**MONEY, 'description': "Income minus expense"},
            }))
BALANCE_SHEET = define('BalanceSheet', record({
            'date': DATE,
            'lines': {'type': 'array', 'items': STATEMENT_LINE},
            'assets': MONEY,
            'liabilities': MONEY,
            'equity': {**MONEY, 'description': "Capital and reserves plus "
                "the profit or loss of the fiscal year so far"},
            'balanced': {'type': 'boolean',
                'description': "Assets equal liabilities plus equity"},
            }))

TRANSACTION_QUERY = {
    'limit': LIST_QUERY['limit'],
    'offset': LIST_QUERY['offset'],
    'account_id': {**ID, 'description': "Lines of this account only"},
    'reference_type': {'type': 'string', 'maxLength': 60,
        'description': "invoice, payment, expense, stock, work_order, ... "
        "(the kind of document behind the entry)"},
    **PERIOD_QUERY,
    }
# Documents behind journal entries, by the API's name
REFERENCE_TYPES = {
    'account.invoice': 'invoice',
    'monitorbizz.finance.payment': 'payment',
    'monitorbizz.finance.expense': 'expense',
    'stock.move': 'stock',
    'production': 'work_order',
    'account.move': 'journal_entry',
    'account.statement': 'bank_statement',
    }


def _date(value, name, default):
    "The date of the query (validated by its format), else default"
    return value or default


def _period(call):
    "(from, to) of the query: by default the fiscal year up to today"
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    Date = pool.get('ir.date')
    to_date = _date(call.query.get('to'), 'to', Date.today())
    from_date = call.query.get('from')
    if from_date:
        from_date = _date(from_date, 'from', None)
    else:
        years = FiscalYear.search([
                ('company', '=', _company()),
                ('start_date', '<=', to_date),
                ('end_date', '>=', to_date),
                ], limit=1)
        from_date = years[0].start_date if years else to_date.replace(
            month=1, day=1)
    if from_date > to_date:
        raise ApiError(422, 'validation_error',
            "from: after to", {'from': "after to"})
    return from_date, to_date


def _kinds(types):
    "{type id: kind} read in one call"
    Type = Pool().get('account.account.type')
    return {r['id']: r['kind'] for r in Type.read(
            list({t for t in types if t}), ['kind'])}


@endpoint('GET', '/api/finance/accounts',
    summary="The chart of accounts, with balances at a date",
    query={'date': {**_DATE_QUERY, 'description': "Default: today"},
        'kind': {'type': 'string', 'enum': KINDS}},
    response={'type': 'object', 'additionalProperties': False,
        'required': ['date', 'items', 'total'],
        'properties': {'date': DATE,
            'items': {'type': 'array', 'items': ACCOUNT},
            'total': {'type': 'integer', 'minimum': 0,
                'description': "Number of accounts (all are listed)"}}},
    errors={403: _FORBIDDEN})
def list_accounts(call):
    """Every account of the business, each naming its parent (the tree),
    in code order. A heading's balance is that of the accounts below it."""
    pool = Pool()
    Account = pool.get('account.account')
    Date = pool.get('ir.date')
    _company()
    date = _date(call.query.get('date'), 'date', Date.today())
    with Transaction().set_context(date=date):
        rows = Account.search_read([], order=[('code', 'ASC'), ('id', 'ASC')],
            fields_names=['code', 'name', 'type', 'type.name', 'parent',
                'closed', 'debit', 'credit', 'balance'])
    kinds = _kinds(r['type'] for r in rows)
    items = [{
            'id': r['id'], 'code': r['code'], 'name': r['name'],
            'kind': kinds.get(r['type']),
            'type': (r.get('type.') or {}).get('name'),
            'parent_id': r['parent'], 'closed': bool(r['closed']),
            'debit': amount(r['debit']), 'credit': amount(r['credit']),
            'balance': amount(r['balance']),
            } for r in rows]
    if call.query.get('kind'):
        items = [i for i in items if i['kind'] == call.query['kind']]
    return {'date': date, 'items': items, 'total': len(items)}


def _reference(origin):
    "(type, id) of a ledger line's origin"
    if not origin:
        return None, None
    return (REFERENCE_TYPES.get(origin.__name__,
            origin.__name__.replace('.', '_')), origin.id)


@endpoint('GET', '/api/finance/transactions',
    summary="The ledger: journal entry lines, newest first",
    query=TRANSACTION_QUERY, response=page_of(TRANSACTION),
    errors={403: _FORBIDDEN})
def list_transactions(call):
    """Lines of the journal entries of the period, newest first, each with
    the running balance of its account (Tryton's general ledger, computed
    by the database for the page asked)."""
    pool = Pool()
    Line = pool.get('account.general_ledger.line')
    Payment = pool.get('monitorbizz.finance.payment')
    query = call.query
    from_date, to_date = _period(call)
    domain = []
    if query.get('account_id'):
        domain.append(('account.account', '=', query['account_id']))
    if query.get('reference_type'):
        models = [m for m, k in REFERENCE_TYPES.items()
            if k == query['reference_type']] or [
            query['reference_type'].replace('_', '.')]
        clause = ['OR', *[('move.origin', 'like', f'{m},%')
                for m in models]]
        if query['reference_type'] == 'payment':
            clause.append(('move', 'in', [p.move.id for p in Payment.search(
                            [('move', '!=', None)])]))
        domain.append(clause)
    context = {'company': _company(), 'from_date': from_date,
        'to_date': to_date}
    with Transaction().set_context(context):
        total = Line.search_count(domain)
        lines = Line.search(domain, offset=query.get('offset', 0),
            limit=query.get('limit', 20),
            order=[('date', 'DESC'), ('id', 'DESC')])
        # Tryton's entry of an invoice's payment names the invoice
        payments = {p.move.id: p for p in Payment.search([
                    ('move', 'in', list({l.move.id for l in lines
                                if l.move}))])}
        items = []
        for line in lines:
            # The document that made the entry (a payment's line may
            # name the invoice it settles)
            origin = (payments.get(line.move.id) or line.move.origin
                if line.move else None) or line.origin
            kind, ref_id = _reference(origin)
            items.append({
                    'id': line.id, 'date': line.date,
                    'account_id': line.account.account.id,
                    'account_code': line.account.account.code,
                    'account_name': line.account.account.name,
                    'entry_number': line.move.number if line.move else None,
                    'debit': amount(line.debit),
                    'credit': amount(line.credit),
                    'amount': amount(line.debit - line.credit),
                    'balance': amount(line.balance),
                    'party_id': line.party.id if line.party else None,
                    'party_name': line.party.name if line.party else None,
                    'reference_type': kind, 'reference_id': ref_id,
                    'reference': origin.rec_name if origin else None,
                    'description': line.description,
                    'state': line.state,
                    })
    return {'items': items, 'total': total,
        'limit': query.get('limit', 20), 'offset': query.get('offset', 0)}


@endpoint('GET', '/api/finance/trial-balance',
    summary="Trial balance of a period",
    query=PERIOD_QUERY, response=TRIAL_BALANCE, errors={403: _FORBIDDEN})
def trial_balance(call):
    """Every account with entries: balance at the start of the period,
    debits and credits within it, balance at its end (Tryton's general
    ledger accounts, one query); debits equal credits."""
    pool = Pool()
    LedgerAccount = pool.get('account.general_ledger.account')
    from_date, to_date = _period(call)
    with Transaction().set_context(company=_company(), from_date=from_date,
            to_date=to_date):
        rows = LedgerAccount.search_read([],
            fields_names=['account', 'account.code', 'account.name',
                'account.type', 'start_balance', 'debit', 'credit',
                'end_balance'])
    rows = [r for r in rows if r['start_balance'] or r['debit']
        or r['credit'] or r['end_balance']]
    rows.sort(key=lambda r: (r['account.']['code'] or '', r['account']))
    kinds = _kinds(r['account.']['type'] for r in rows)
    debit = sum((r['debit'] for r in rows), Decimal(0))
    credit = sum((r['credit'] for r in rows), Decimal(0))
    return {
        'from': from_date, 'to': to_date,
        'rows': [{
                'account_id': r['account'],
                'code': r['account.']['code'],
                'name': r['account.']['name'],
                'kind': kinds.get(r['account.']['type']),
                'opening_balance': amount(r['start_balance']),
                'debit': amount(r['debit']),
                'credit': amount(r['credit']),
                'closing_balance': amount(r['end_balance']),
                } for r in rows],
        'total_debit': amount(debit), 'total_credit': amount(credit),
        'balanced': debit == credit,
        }


def _statement(statements, context):
    "The account types of the statements with their amounts, in tree order"
    Type = Pool().get('account.account.type')
    with Transaction().set_context(company=_company(), **context):
        types = Type.search([('statement', 'in', statements)],
            order=[('sequence', 'ASC'), ('id', 'ASC')])
        rows = Type.read([t.id for t in types],
            ['name', 'parent', 'kind', 'amount', 'statement'])
    return [{'type_id': r['id'], 'name': r['name'],
            'parent_id': r['parent'], 'kind': r['kind'],
            'amount': r['amount'], 'statement': r['statement']}
        for r in rows]


def _total(lines, kinds):
    """Sum of the types of kinds that have no sub-type (a heading's amount
    is theirs, and Tryton gives an assets heading the other sign)"""
    parents = {line['parent_id'] for line in lines}
    return sum((line['amount'] for line in lines if line['kind'] in kinds
            and line['type_id'] not in parents), Decimal(0))


def _amounts(lines, statement):
    return [{k: v for k, v in line.items() if k != 'statement'}
        | {'amount': amount(line['amount'])}
        for line in lines if line['statement'] == statement]


@endpoint('GET', '/api/finance/profit-and-loss',
    summary="Profit and loss (income statement) of a period",
    query=PERIOD_QUERY, response=PROFIT_AND_LOSS, errors={403: _FORBIDDEN})
def profit_and_loss(call):
    """Tryton's income statement for the period: each income and expense
    type with its amount, and the net profit."""
    from_date, to_date = _period(call)
    lines = _statement(['income'], {'from_date': from_date,
            'to_date': to_date})
    income = _total(lines, {'income'})
    # Expense types' amounts are credit - debit: negative for a cost
    expense = -_total(lines, {'expense'})
    return {'from': from_date, 'to': to_date,
        'lines': _amounts(lines, 'income'),
        'income': amount(income), 'expense': amount(expense),
        'net_profit': amount(income - expense)}


@endpoint('GET', '/api/finance/balance-sheet',
    summary="Balance sheet at a date",
    query={'date': {**_DATE_QUERY, 'description': "Default: today"}},
    response=BALANCE_SHEET, errors={403: _FORBIDDEN})
def balance_sheet(call):
    """Tryton's balance sheet at the date: assets, liabilities and equity
    (with the profit or loss of the fiscal year so far)."""
    Date = Pool().get('ir.date')
    date = _date(call.query.get('date'), 'date', Date.today())
    # The fiscal year's income and expense are the equity's profit or loss
    lines = _statement(['balance', 'income'], {'date': date})
    assets = _total(lines, {'asset'})
    liabilities = _total(lines, {'liability'})
    equity = _total(lines, {'equity', 'income', 'expense'})
    return {'date': date, 'lines': _amounts(lines, 'balance'),
        'assets': amount(assets), 'liabilities': amount(liabilities),
        'equity': amount(equity),
        'balanced': assets == liabilities + equity}
