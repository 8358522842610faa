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

Indexes: Tryton's of account_invoice (company, state), of the invoice
lines' Many2One columns and of the invoice line - stock move relation."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Abs, DateTrunc, Round

from trytond.model import ModelView, fields
from trytond.pool import Pool

from .common import ContextMixin, ReportMixin, percent, to_numeric

AMOUNT = (16, 2)
PERIODS = ['day', 'week', 'month', 'quarter']
EPOCH = dt.date(1970, 1, 1)


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

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'ASC'), ('margin', 'DESC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        if self.period:
            return self.period.isoformat()
        return super().get_rec_name(name)

    @classmethod
    def _joins(cls):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        LineMove = pool.get('account.invoice.line-stock.move')
        Move = pool.get('stock.move')
        CostPrice = pool.get('product.cost_price')
        company = cls._company()
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
        tables = {
            'invoice': invoice,
            'line': line,
            'moved': moved,
            'cost_price': cost_price,
            }
        return from_item, tables

    @classmethod
    def _key(cls, tables):
        invoice, line = tables['invoice'], tables['line']
        group = cls._group()
        if group in PERIODS:
            return Cast(DateTrunc(group, invoice.invoice_date), 'DATE')
        return {'customer': invoice.party, 'product': line.product}[group]

    @classmethod
    def _columns(cls, tables):
        line, moved = tables['line'], tables['moved']
        cost_price = tables['cost_price']
        group = cls._group()
        key = cls._key(tables)
        quantity = to_numeric(Coalesce(line.quantity, 0))
        revenue = Sum(Round(quantity * Coalesce(line.unit_price, 0), 2))
        sign = Case((quantity < 0, -1), else_=1)
        line_cost = Round(Coalesce(sign * Abs(moved.cost),
                quantity * Coalesce(cost_price.cost_price, 0)), 2)
        cost = Sum(line_cost)
        null = Cast(Null, 'INTEGER')
        id_ = key - Literal(EPOCH) + 1 if group in PERIODS else key
        return [
            id_.as_('id'),
            Cast(Literal(cls._company()), 'INTEGER').as_('company'),
            (key if group in PERIODS else Cast(Null, 'DATE')).as_('period'),
            (key if group == 'product' else null).as_('product'),
            (key if group == 'customer' else null).as_('customer'),
            (Sum(quantity) if group == 'product'
                else Cast(Null, 'NUMERIC')).as_('quantity'),
            Count(tables['invoice'].id, distinct=True).as_('invoices'),
            revenue.as_('revenue'),
            cost.as_('cost'),
            (revenue - cost).as_('margin'),
            percent(revenue - cost, revenue).as_('margin_percent'),
            ]

    @classmethod
    def _where(cls, tables):
        invoice, line = tables['invoice'], tables['line']
        where = ((invoice.company == cls._company())
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
        return where

    @classmethod
    def _group_by(cls, tables):
        return [cls._key(tables)]
