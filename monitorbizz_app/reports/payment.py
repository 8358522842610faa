# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Customer payments: who owes what and for how long, how fast customers
pay and how they pay, per customer or per month, in one query.

Receivables ageing at the date (the context's To, today when open): the
open receivable lines of the business's customers as Tryton's aged balance
(account.aged_balance) selects them: lines with a party on a receivable
account (or an account whose debit/credit type is receivable), of moves
dated up to the date, not reconciled or reconciled after the date; each
line is aged by its maturity date (else its move's date), a payment set
against an invoice (one of the invoice's payment lines) by the maturity of
the invoice it pays, so that a part payment lowers that invoice's bucket
(Tryton ages it by its own date); days overdue = date − maturity.
Buckets: not due (maturity after the date), 0–30 (due at the date up to
30 days past due, Tryton's "Now" term), 31–60, 61–90 and over 90 days;
Tryton's terms are half-open (a line 30 days past due is in its second
term), here the bounds are the seed's, inclusive. The balance is the sum
of the buckets (advances on account are negative lines); overdue = the
buckets from 0–30 on. The overdue list is this report with "Overdue
only" set.

Average days to pay: customer invoices (debit to the receivable) paid in
the period: days from the invoice date to the date their lines to pay were
reconciled (Tryton's Invoice.reconciled: the last reconciliation of the
invoice's move lines on its account; a delegated reconciliation counts at
the date of the one it was delegated to), averaged per customer or per
month of payment.

Payment methods mix: the payments received from customers
(monitorbizz.finance.payment of kind receipt, recorded or cleared: not
voided, bounced or draft) dated in the period, their amount per payment
method (cash, UPI, bank transfer, cheque, card) and in all.

Grouped per month, the ageing (a position at a date, not a flow) is
empty.

Indexes: the payments received by business and date (declared here); the
open receivable lines use Tryton's index of account_move_line on
(account, party) where not reconciled and the one on reconciliation, the
invoices Tryton's on state and company."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Avg, Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Round

from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from monitorbizz_app.finance.payment import PAYMENT_METHODS

from .common import ContextMixin, ReportMixin, money, truncate

AMOUNT = (16, 2)
BUCKETS = [
    # name, label, lowest days overdue, highest (None: open)
    ('not_due', "Not Due", None, -1),
    ('overdue_0_30', "0-30 Days", 0, 30),
    ('overdue_31_60', "31-60 Days", 31, 60),
    ('overdue_61_90', "61-90 Days", 61, 90),
    ('overdue_over_90', "Over 90 Days", 91, None),
    ]
RECEIVED_STATES = ['posted', 'cleared']
EPOCH = dt.date(1970, 1, 1)


class Payment(metaclass=PoolMeta):
    __name__ = 'monitorbizz.finance.payment'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The payments received by a business in a period (methods mix)
        cls._sql_indexes.add(Index(t,
                (t.company, Index.Range()),
                (t.payment_date, Index.Range()),
                where=(t.kind == 'receipt')
                & t.state.in_(RECEIVED_STATES)))


class CustomerPaymentsContext(ContextMixin):
    "Customer Payments"
    __name__ = 'monitorbizz.report.customer_payments.context'
    group_by = fields.Selection([
            ('customer', "Customer"),
            ('month', "Month"),
            ], "Group By", required=True, sort=False)
    customer = fields.Many2One('party.party', "Customer")
    overdue_only = fields.Boolean("Overdue Only",
        help="Only the customers with an amount past due at the date "
        "(the overdue list).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.to_date.help = ("The date of the ageing and the end of the "
            "period of the payments.")

    @classmethod
    def default_overdue_only(cls):
        return bool(Transaction().context.get('overdue_only'))


class CustomerPayments(ReportMixin, ModelView):
    "Customer Payments"
    __name__ = 'monitorbizz.report.customer_payments'
    KEYS = ('customer',)
    GROUPS = CustomerPaymentsContext.group_by.selection
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    month = fields.Date("Month", readonly=True)
    balance = fields.Numeric("Receivable", digits=AMOUNT, readonly=True)
    not_due = fields.Numeric("Not Due", digits=AMOUNT, readonly=True)
    overdue_0_30 = fields.Numeric("0-30 Days", digits=AMOUNT, readonly=True)
    overdue_31_60 = fields.Numeric("31-60 Days", digits=AMOUNT,
        readonly=True)
    overdue_61_90 = fields.Numeric("61-90 Days", digits=AMOUNT,
        readonly=True)
    overdue_over_90 = fields.Numeric("Over 90 Days", digits=AMOUNT,
        readonly=True)
    overdue = fields.Numeric("Overdue", digits=AMOUNT, readonly=True)
    invoices_paid = fields.Integer("Invoices Paid", readonly=True)
    average_days_to_pay = fields.Numeric("Average Days to Pay",
        digits=(16, 2), readonly=True)
    received_cash = fields.Numeric("Cash", digits=AMOUNT, readonly=True)
    received_upi = fields.Numeric("UPI", digits=AMOUNT, readonly=True)
    received_bank_transfer = fields.Numeric("Bank Transfer", digits=AMOUNT,
        readonly=True)
    received_cheque = fields.Numeric("Cheque", digits=AMOUNT, readonly=True)
    received_card = fields.Numeric("Card", digits=AMOUNT, readonly=True)
    received = fields.Numeric("Received", digits=AMOUNT, readonly=True)
    payments = fields.Integer("Payments", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'ASC'), ('overdue', 'DESC'),
            ('balance', 'DESC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        if self.month:
            return self.month.strftime('%Y-%m')
        return super().get_rec_name(name)

    @classmethod
    def _date(cls):
        "The date of the ageing: the context's To, today when open"
        date = Transaction().context.get('to_date')
        if isinstance(date, dt.datetime):
            date = date.date()
        return date or Pool().get('ir.date').today()

    @classmethod
    def _key(cls, date_column):
        "The grouping column: the party, else the month of date_column"
        if cls._group() == 'month':
            return truncate('month', date_column)
        return None

    @classmethod
    def _customer_where(cls, column):
        "The filter of the context's customers on column"
        customers = cls._context_ids('customer')
        if customers:
            return fields.SQL_OPERATORS['in'](column, customers)
        return Literal(True)

    @classmethod
    def _ageing(cls, company, date):
        "Query of the open receivable per party and bucket at the date"
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        Reconciliation = pool.get('account.move.reconciliation')
        Account = pool.get('account.account')
        Type = pool.get('account.account.type')
        line, move = MoveLine.__table__(), Move.__table__()
        reconciliation = Reconciliation.__table__()
        account = Account.__table__()
        type_, debit_type, credit_type = (
            Type.__table__(), Type.__table__(), Type.__table__())
        # Tryton's selection of the aged balance's lines, for customers
        receivable = (type_.receivable
            | (debit_type.receivable & (line.debit != 0))
            | (credit_type.receivable & (line.credit != 0)))
        # A payment set against an invoice (its payment lines) is aged
        # with the invoice it pays: a part payment lowers the invoice's
        # bucket
        InvoicePaymentLine = pool.get('account.invoice-account.move.line')
        Invoice = pool.get('account.invoice')
        payment_line = InvoicePaymentLine.__table__()
        invoice = Invoice.__table__()
        invoice_line = MoveLine.__table__()
        paid = (payment_line
            .join(invoice, condition=payment_line.invoice == invoice.id)
            .join(invoice_line, condition=(invoice_line.move == invoice.move)
                & (invoice_line.account == invoice.account))
            .select(payment_line.line.as_('line'),
                Min(Coalesce(invoice_line.maturity_date,
                        invoice.invoice_date)).as_('maturity_date'),
                where=invoice.company == company,
                group_by=[payment_line.line]))
        days = Literal(date) - Coalesce(paid.maturity_date,
            line.maturity_date, move.date)
        amount = line.debit - line.credit
        columns = [line.party.as_('party')]
        for name, _, low, high in BUCKETS:
            condition = Literal(True)
            if low is not None:
                condition &= days >= low
            if high is not None:
                condition &= days <= high
            columns.append(
                Sum(Case((condition, amount), else_=0)).as_(name))
        columns.append(Sum(amount).as_('balance'))
        return (line
            .join(move, condition=line.move == move.id)
            .join(account, condition=line.account == account.id)
            .join(type_, condition=account.type == type_.id)
            .join(debit_type, 'LEFT',
                condition=account.debit_type == debit_type.id)
            .join(credit_type, 'LEFT',
                condition=account.credit_type == credit_type.id)
            .join(reconciliation, 'LEFT',
                condition=reconciliation.id == line.reconciliation)
            .join(paid, 'LEFT', condition=paid.line == line.id)
            .select(*columns,
                where=(line.party != Null)
                & receivable
                & ((line.reconciliation == Null)
                    | (reconciliation.date > date))
                & (move.date <= date)
                & (account.company == company)
                & cls._customer_where(line.party),
                group_by=[line.party]))

    @classmethod
    def _days_to_pay(cls, company):
        """Query of the number of customer invoices paid in the period and
        the average days from invoice date to payment, per key"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        invoice, line = Invoice.__table__(), MoveLine.__table__()
        reconciliation = Reconciliation.__table__()
        delegate = Reconciliation.__table__()
        # Each paid invoice with the date its lines to pay were reconciled
        paid = (invoice
            .join(line, condition=(line.move == invoice.move)
                & (line.account == invoice.account))
            .join(reconciliation,
                condition=reconciliation.id == line.reconciliation)
            .join(delegate, 'LEFT',
                condition=delegate.id == reconciliation.delegate_to)
            .select(invoice.id.as_('invoice'),
                invoice.party.as_('party'),
                invoice.invoice_date.as_('invoice_date'),
                Max(Coalesce(delegate.date, reconciliation.date)
                    ).as_('paid_date'),
                where=(invoice.company == company)
                & (invoice.type == 'out')
                & (invoice.state == 'paid')
                & cls._customer_where(invoice.party),
                group_by=[invoice.id, invoice.party, invoice.invoice_date],
                having=Sum(line.debit - line.credit) > 0))
        key = cls._key(paid.paid_date)
        key = paid.party if key is None else key
        return paid.select(key.as_('key'),
            Count(paid.invoice).as_('invoices'),
            Round(Avg(paid.paid_date - paid.invoice_date), 2).as_('days'),
            where=cls._date_where(paid.paid_date),
            group_by=[key])

    @classmethod
    def _received(cls, company):
        "Query of the payments received in the period per key and method"
        Payment = Pool().get('monitorbizz.finance.payment')
        payment = Payment.__table__()
        key = cls._key(payment.payment_date)
        key = payment.party if key is None else key
        columns = [key.as_('key')]
        for method, _ in PAYMENT_METHODS:
            columns.append(Sum(Case((payment.payment_method == method,
                            payment.amount), else_=0)).as_(method))
        columns += [
            Sum(payment.amount).as_('amount'),
            Count(payment.id).as_('payments'),
            ]
        return payment.select(*columns,
            where=(payment.company == company)
            & (payment.kind == 'receipt')
            & payment.state.in_(RECEIVED_STATES)
            & cls._date_where(payment.payment_date)
            & cls._customer_where(payment.party),
            group_by=[key])

    @classmethod
    def _joins(cls):
        company = cls._company()
        date = cls._date()
        by_month = cls._group() == 'month'
        days = cls._days_to_pay(company)
        received = cls._received(company)
        keys = days.select(days.key) | received.select(received.key)
        if by_month:
            ageing = None
        else:
            ageing = cls._ageing(company, date)
            keys |= ageing.select(ageing.party.as_('key'))
        from_item = (keys
            .join(days, 'LEFT', condition=days.key == keys.key)
            .join(received, 'LEFT', condition=received.key == keys.key))
        if ageing is not None:
            from_item = from_item.join(ageing, 'LEFT',
                condition=ageing.party == keys.key)
        tables = {
            'keys': keys,
            'days': days,
            'received': received,
            'ageing': ageing,
            }
        return from_item, tables

    @classmethod
    def _overdue(cls, ageing):
        return sum((Coalesce(getattr(ageing, name), 0)
                for name, _, low, _ in BUCKETS if low is not None),
            Literal(0))

    @classmethod
    def _columns(cls, tables):
        keys, days = tables['keys'], tables['days']
        received, ageing = tables['received'], tables['ageing']
        by_month = ageing is None
        null_amount = Cast(Null, 'NUMERIC')
        if by_month:
            columns = [
                (keys.key - Literal(EPOCH) + 1).as_('id'),
                Cast(Null, 'INTEGER').as_('customer'),
                keys.key.as_('month'),
                ]
        else:
            columns = [
                keys.key.as_('id'),
                keys.key.as_('customer'),
                Cast(Null, 'DATE').as_('month'),
                ]
        columns.append(
            Cast(Literal(cls._company()), 'INTEGER').as_('company'))
        for name, _, _, _ in BUCKETS + [('balance', None, None, None)]:
            columns.append((null_amount if by_month
                    else money(getattr(ageing, name))).as_(name))
        columns += [
            (null_amount if by_month
                else money(cls._overdue(ageing))).as_('overdue'),
            Coalesce(days.invoices, 0).as_('invoices_paid'),
            days.days.as_('average_days_to_pay'),
            ]
        for method, _ in PAYMENT_METHODS:
            columns.append(money(getattr(received, method)
                    ).as_(f'received_{method}'))
        columns += [
            money(received.amount).as_('received'),
            Coalesce(received.payments, 0).as_('payments'),
            ]
        return columns

    @classmethod
    def _where(cls, tables):
        ageing = tables['ageing']
        context = Transaction().context
        where = Literal(True)
        if context.get('overdue_only') and ageing is not None:
            where &= cls._overdue(ageing) > 0
        return where
