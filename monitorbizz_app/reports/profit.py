# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Profitability: per product, customer or period (day, week, month,
quarter), invoiced revenue less the cost of what was sold, gross margin and
margin %, in one query.

Revenue: the lines of the customer invoices posted or paid in the period
(by invoice date), quantity × unit price rounded to the paisa per line as
Tryton's line amount, credit notes negative.
Cost: Tryton's own figure where it has one: the goods of an invoice line
that left the stock (its done stock moves, account.invoice.line-stock.move)
at the cost price Tryton recorded on each move when it was done
(stock.move.cost_price, per unit of the product's unit: the figure Tryton's
anglo-saxon COGS entry is made of); for a line without stock moves
(services, goods invoiced before or without shipment) the quantity × the
product's cost price in the business (product.cost_price, the figure of a
manufactured item being its work order's cost of materials and machine
time). Each line's cost is rounded to the paisa; a credit note's is
negative. Gross margin = revenue − cost; margin % = margin / revenue.

Expenses (per period and for the whole period, not per product or
customer): the posted expenses of the business (monitorbizz.finance.expense)
dated in the period, per base category (material, labour, overhead,
utilities, maintenance: the kind of the expense's category), what each
costs the business: its amount before GST when the input GST is claimed
(or at 0 %), else its amount plus the GST paid rounded half up to the paisa
(as the expense computes its total). Net profit = gross margin − expenses.

Indexes: Tryton's of account_invoice (company, state), of the invoice
lines' Many2One columns and of the invoice line - stock move relation; the
posted expenses by business and date (declared here)."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Abs, Round

from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta

from monitorbizz_app.finance.expense import KINDS

from .common import (
    ContextMixin, Inline, ReportMixin, money, numeric, percent, to_numeric,
    truncate)

AMOUNT = (16, 2)
PERIODS = ['day', 'week', 'month', 'quarter']
EPOCH = dt.date(1970, 1, 1)


class Expense(metaclass=PoolMeta):
    __name__ = 'monitorbizz.finance.expense'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The posted expenses of a business in a period (profitability)
        cls._sql_indexes.add(Index(t,
                (t.company, Index.Range()),
                (t.expense_date, Index.Range()),
                where=t.state == 'posted'))


class ProfitabilityContext(ContextMixin):
    "Profitability"
    __name__ = 'monitorbizz.report.profitability.context'
    group_by = fields.Selection([
            ('product', "Product"),
            ('customer', "Customer"),
            ('month', "Month"),
            ('day', "Day"),
            ('week', "Week"),
            ('quarter', "Quarter"),
            ('total', "Whole Period"),
            ], "Group By", required=True, sort=False)
    customer = fields.Many2One('party.party', "Customer")
    product = fields.Many2One('product.product', "Product")


class Profitability(ReportMixin, ModelView):
    "Profitability"
    __name__ = 'monitorbizz.report.profitability'
    KEYS = ('product', 'customer')
    GROUPS = ProfitabilityContext.group_by.selection
    period = fields.Date("Period", readonly=True,
        help="The first day of the day, week, month or quarter.")
    product = fields.Many2One('product.product', "Product", readonly=True)
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    quantity = fields.Numeric("Quantity", digits=(16, 4), readonly=True)
    invoices = fields.Integer("Invoices", readonly=True)
    revenue = fields.Numeric("Revenue", digits=AMOUNT, readonly=True)
    cost = fields.Numeric("Cost of Sales", digits=AMOUNT, readonly=True)
    margin = fields.Numeric("Gross Margin", digits=AMOUNT, readonly=True)
    margin_percent = fields.Numeric("Margin %", digits=(8, 2),
        readonly=True)
    # One per base category of KINDS
    expense_material = fields.Numeric("Material Expenses", digits=AMOUNT,
        readonly=True)
    expense_labor = fields.Numeric("Labour Expenses", digits=AMOUNT,
        readonly=True)
    expense_overhead = fields.Numeric("Overhead Expenses", digits=AMOUNT,
        readonly=True)
    expense_utilities = fields.Numeric("Utilities Expenses", digits=AMOUNT,
        readonly=True)
    expense_maintenance = fields.Numeric("Maintenance Expenses",
        digits=AMOUNT, readonly=True)
    expenses = fields.Numeric("Expenses", digits=AMOUNT, readonly=True)
    net_profit = fields.Numeric("Net Profit", digits=AMOUNT, readonly=True)
    net_margin_percent = fields.Numeric("Net Margin %", digits=(8, 2),
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'ASC'), ('margin', 'DESC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        if self.period:
            return self.period.isoformat()
        return super().get_rec_name(name)

    @classmethod
    def _with_expenses(cls):
        "Whether the grouping shows the expenses (periods, whole period)"
        return cls._group() in PERIODS + ['total']

    @classmethod
    def _key(cls, date, party, product):
        group = cls._group()
        if group in PERIODS:
            return truncate(group, date)
        if group == 'total':
            # an expression (GROUP BY 1 would name the first column)
            return Cast(Inline(1), 'INTEGER')
        return {'customer': party, 'product': product}[group]

    @classmethod
    def _sales(cls, company):
        "Query of the revenue and cost of the invoiced lines per key"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        LineMove = pool.get('account.invoice.line-stock.move')
        Move = pool.get('stock.move')
        CostPrice = pool.get('product.cost_price')
        invoice, line = Invoice.__table__(), InvoiceLine.__table__()
        line_move, move = LineMove.__table__(), Move.__table__()
        cost_price = CostPrice.__table__()
        # The cost Tryton recorded on the done moves of each invoice line
        moved = (line_move
            .join(move, condition=line_move.stock_move == move.id)
            .select(line_move.invoice_line.as_('line'),
                Sum(to_numeric(Coalesce(move.internal_quantity, 0))
                    * Coalesce(move.cost_price, 0)).as_('cost'),
                where=(move.state == 'done') & (move.company == company),
                group_by=[line_move.invoice_line]))
        from_item = (invoice
            .join(line, condition=line.invoice == invoice.id)
            .join(moved, 'LEFT', condition=moved.line == line.id)
            .join(cost_price, 'LEFT',
                condition=(cost_price.product == line.product)
                & (cost_price.company == company)))
        key = cls._key(invoice.invoice_date, invoice.party, line.product)
        quantity = to_numeric(Coalesce(line.quantity, 0))
        # A credit note's lines have negative quantities; their returned
        # goods come back at the cost they left
        sign = Case((quantity < 0, -1), else_=1)
        line_cost = Round(Coalesce(sign * Abs(moved.cost),
                quantity * Coalesce(cost_price.cost_price, 0)), 2)
        where = ((invoice.company == company)
            & (invoice.type == 'out')
            & invoice.state.in_(['posted', 'paid'])
            & (line.type == 'line')
            & (line.product != Null)
            & cls._date_where(invoice.invoice_date))
        for name, column in [
                ('customer', invoice.party), ('product', line.product)]:
            ids = cls._context_ids(name)
            if ids:
                where &= fields.SQL_OPERATORS['in'](column, ids)
        return from_item.select(
            key.as_('key'),
            Sum(quantity).as_('quantity'),
            Count(invoice.id, distinct=True).as_('invoices'),
            Sum(Round(quantity * Coalesce(line.unit_price, 0), 2)
                ).as_('revenue'),
            Sum(line_cost).as_('cost'),
            where=where,
            group_by=[key])

    @classmethod
    def _expenses(cls, company):
        "Query of the posted expenses per key and base category"
        pool = Pool()
        Expense = pool.get('monitorbizz.finance.expense')
        Category = pool.get('monitorbizz.finance.expense.category')
        expense, category = Expense.__table__(), Category.__table__()
        amount = Round(to_numeric(expense.amount), 2)
        rate = to_numeric(Coalesce(expense.gst_rate, '0'))
        # What the expense costs: the GST paid is part of it unless claimed
        cost = Case(
            (expense.claim_gst == Literal(True), amount),
            else_=amount + Round(amount * rate / 100, 2))
        key = cls._key(expense.expense_date, None, None)
        columns = [key.as_('key')]
        for kind, _ in KINDS:
            columns.append(Sum(Case((category.kind == kind, cost),
                        else_=0)).as_(kind))
        columns.append(Sum(cost).as_('amount'))
        return (expense
            .join(category, condition=expense.category == category.id)
            .select(*columns,
                where=(expense.company == company)
                & (expense.state == 'posted')
                & cls._date_where(expense.expense_date),
                group_by=[key]))

    @classmethod
    def _joins(cls):
        company = cls._company()
        sales = cls._sales(company)
        keys = sales.select(sales.key)
        expenses = None
        if cls._with_expenses():
            expenses = cls._expenses(company)
            keys |= expenses.select(expenses.key)
        from_item = keys.join(sales, 'LEFT', condition=sales.key == keys.key)
        if expenses is not None:
            from_item = from_item.join(expenses, 'LEFT',
                condition=expenses.key == keys.key)
        tables = {
            'keys': keys,
            'sales': sales,
            'expenses': expenses,
            }
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        keys, sales = tables['keys'], tables['sales']
        expenses = tables['expenses']
        group = cls._group()
        key = keys.key
        revenue = money(sales.revenue)
        cost = money(sales.cost)
        margin = revenue - cost
        null = Cast(Null, 'INTEGER')
        null_amount = Cast(Null, 'NUMERIC')
        id_ = key - Literal(EPOCH) + 1 if group in PERIODS else key
        columns = [
            id_.as_('id'),
            Cast(Literal(cls._company()), 'INTEGER').as_('company'),
            (key if group in PERIODS else Cast(Null, 'DATE')).as_('period'),
            (key if group == 'product' else null).as_('product'),
            (key if group == 'customer' else null).as_('customer'),
            (numeric(Coalesce(sales.quantity, 0)) if group == 'product'
                else null_amount).as_('quantity'),
            Coalesce(sales.invoices, 0).as_('invoices'),
            revenue.as_('revenue'),
            cost.as_('cost'),
            margin.as_('margin'),
            percent(margin, revenue).as_('margin_percent'),
            ]
        if expenses is not None:
            spent = money(expenses.amount)
            columns += [money(getattr(expenses, kind)).as_(
                    f'expense_{kind}') for kind, _ in KINDS]
            columns += [
                spent.as_('expenses'),
                (margin - spent).as_('net_profit'),
                percent(margin - spent, revenue).as_('net_margin_percent'),
                ]
        else:
            columns += [null_amount.as_(f'expense_{kind}')
                for kind, _ in KINDS]
            columns += [null_amount.as_(name) for name in [
                    'expenses', 'net_profit', 'net_margin_percent']]
        return columns

    @classmethod
    def _where(cls, tables):
        return tables['keys'].key != Null
