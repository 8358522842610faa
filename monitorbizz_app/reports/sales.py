# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Sales summary: per period (day, week, month, quarter), customer or
product, what was quoted, ordered and invoiced, in one query.

Quotations: the sales numbered as quotations (quotation_number) quoted in
the period (their quotation date, else the day they were created); sent:
those the customer got (quotation status sent, accepted, rejected or
expired); accepted: quotation status accepted (converted to orders or
not); conversion % = accepted / made; their value, untaxed.
Orders: the sales that are orders (ordered), not cancelled, by order date;
their value untaxed (the sum of their lines, quantity × unit price after
discount rounded to the paisa per line, as Tryton's line amount).
Invoiced: the customer invoices posted or paid by invoice date, untaxed
(the sum of their lines, credit notes negative), and the GST they
collected (their tax lines: CGST, SGST, IGST); per product the GST is not
split (an invoice's tax is computed on its total per rate, not per line)
and is empty. Per product a quotation or order counts once for each
product on it and its value is that of the product's lines.

Indexes: Tryton's of sale_sale (company, state), of account_invoice
(company, state) and of the Many2One columns of the lines; the orders by
business and order date are declared here."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Round

from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta

from .common import (
    ContextMixin, ReportMixin, money, percent, to_numeric, truncate)

AMOUNT = (16, 2)
PERIODS = ['day', 'week', 'month', 'quarter']
EPOCH = dt.date(1970, 1, 1)
SENT_STATES = ['sent', 'accepted', 'rejected', 'expired']


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The orders of a business in a period (sales summary)
        cls._sql_indexes.add(Index(t,
                (t.company, Index.Range()),
                (t.order_date, Index.Range()),
                where=t.ordered == Literal(True)))


class SalesSummaryContext(ContextMixin):
    "Sales Summary"
    __name__ = 'monitorbizz.report.sales_summary.context'
    group_by = fields.Selection([
            ('month', "Month"),
            ('day', "Day"),
            ('week', "Week"),
            ('quarter', "Quarter"),
            ('customer', "Customer"),
            ('product', "Product"),
            ], "Group By", required=True, sort=False)
    customer = fields.Many2One('party.party', "Customer")
    product = fields.Many2One('product.product', "Product")


class SalesSummary(ReportMixin, ModelView):
    "Sales Summary"
    __name__ = 'monitorbizz.report.sales_summary'
    KEYS = ('customer', 'product')
    GROUPS = SalesSummaryContext.group_by.selection
    period = fields.Date("Period", readonly=True,
        help="The first day of the day, week, month or quarter.")
    customer = fields.Many2One('party.party', "Customer", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    quotations = fields.Integer("Quotations", readonly=True)
    quotations_sent = fields.Integer("Quotations Sent", readonly=True)
    quotations_accepted = fields.Integer("Quotations Accepted",
        readonly=True)
    conversion_percent = fields.Numeric("Conversion %", digits=(8, 2),
        readonly=True)
    quotation_value = fields.Numeric("Quoted", digits=AMOUNT, readonly=True)
    orders = fields.Integer("Orders", readonly=True)
    order_value = fields.Numeric("Ordered", digits=AMOUNT, readonly=True)
    invoices = fields.Integer("Invoices", readonly=True)
    invoiced_value = fields.Numeric("Invoiced", digits=AMOUNT,
        readonly=True)
    gst_collected = fields.Numeric("GST Collected", digits=AMOUNT,
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'ASC'), ('invoiced_value', 'DESC'),
            ('order_value', 'DESC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        if self.period:
            return self.period.isoformat()
        return super().get_rec_name(name)

    @classmethod
    def _key(cls, date, party, product):
        group = cls._group()
        if group in PERIODS:
            return truncate(group, date)
        return {'customer': party, 'product': product}[group]

    @classmethod
    def _filter(cls, party, product):
        where = Literal(True)
        for name, column in [('customer', party), ('product', product)]:
            ids = cls._context_ids(name)
            if ids:
                where &= fields.SQL_OPERATORS['in'](column, ids)
        return where

    @staticmethod
    def _amount(line):
        "The line's amount: quantity × unit price rounded to the paisa"
        return Round(to_numeric(Coalesce(line.quantity, 0))
            * Coalesce(line.unit_price, 0), 2)

    @classmethod
    def _sales(cls, company):
        "Queries of the quotations and of the orders per key"
        pool = Pool()
        SaleModel = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        by_product = cls._group() == 'product'
        queries = []
        for kind in ['quotation', 'order']:
            sale, line = SaleModel.__table__(), SaleLine.__table__()
            if kind == 'quotation':
                date = Coalesce(sale.quotation_date,
                    Cast(sale.create_date, 'DATE'))
                where = sale.quotation_number != Null
            else:
                date = sale.order_date
                where = (sale.ordered == Literal(True)) & (
                    sale.state != 'cancelled')
            lines = line.select(line.sale.as_('sale'),
                line.product.as_('product'),
                cls._amount(line).as_('amount'),
                where=line.type == 'line')
            line = lines
            key = cls._key(date, sale.party, line.product)
            from_item = sale.join(line, 'LEFT',
                condition=line.sale == sale.id)
            where &= ((sale.company == company)
                & cls._date_where(date)
                & cls._filter(sale.party, line.product))
            if by_product:
                where &= line.product != Null
            columns = [key.as_('key'),
                Count(sale.id, distinct=True).as_('count'),
                Sum(Coalesce(line.amount, 0)).as_('amount')]
            if kind == 'quotation':
                columns += [
                    Count(Case((sale.quotation_state.in_(SENT_STATES),
                                sale.id)), distinct=True).as_('sent'),
                    Count(Case((sale.quotation_state == 'accepted',
                                sale.id)), distinct=True).as_('accepted'),
                    ]
            queries.append(from_item.select(*columns, where=where,
                    group_by=[key]))
        return queries

    @classmethod
    def _invoices(cls, company):
        "Queries of the invoiced lines and of the GST per key"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        InvoiceTax = pool.get('account.invoice.tax')
        invoice, line = Invoice.__table__(), InvoiceLine.__table__()
        posted = ((invoice.company == company)
            & (invoice.type == 'out')
            & invoice.state.in_(['posted', 'paid'])
            & cls._date_where(invoice.invoice_date))
        key = cls._key(invoice.invoice_date, invoice.party, line.product)
        invoiced = invoice.join(line, condition=line.invoice == invoice.id
            ).select(key.as_('key'),
                Count(invoice.id, distinct=True).as_('count'),
                Sum(cls._amount(line)).as_('amount'),
                where=posted & (line.type == 'line')
                & cls._filter(invoice.party, line.product)
                & ((line.product != Null) if cls._group() == 'product'
                    else Literal(True)),
                group_by=[key])
        if cls._group() == 'product' or cls._context_ids('product'):
            return invoiced, None
        tax = InvoiceTax.__table__()
        key = cls._key(invoice.invoice_date, invoice.party, None)
        taxes = invoice.join(tax, condition=tax.invoice == invoice.id
            ).select(key.as_('key'),
                Sum(tax.amount).as_('amount'),
                where=posted & cls._filter(invoice.party, Null),
                group_by=[key])
        return invoiced, taxes

    @classmethod
    def _joins(cls):
        company = cls._company()
        quotations, orders = cls._sales(company)
        invoiced, taxes = cls._invoices(company)
        keys = (quotations.select(quotations.key)
            | orders.select(orders.key)
            | invoiced.select(invoiced.key))
        from_item = (keys
            .join(quotations, 'LEFT', condition=quotations.key == keys.key)
            .join(orders, 'LEFT', condition=orders.key == keys.key)
            .join(invoiced, 'LEFT', condition=invoiced.key == keys.key))
        if taxes is not None:
            from_item = from_item.join(taxes, 'LEFT',
                condition=taxes.key == keys.key)
        tables = {
            'keys': keys,
            'quotations': quotations,
            'orders': orders,
            'invoiced': invoiced,
            'taxes': taxes,
            }
        return from_item, tables

    @classmethod
    def _columns(cls, tables):
        keys = tables['keys']
        quotations, orders = tables['quotations'], tables['orders']
        invoiced, taxes = tables['invoiced'], tables['taxes']
        group = cls._group()
        null = Cast(Null, 'INTEGER')
        if group in PERIODS:
            id_ = keys.key - Literal(EPOCH) + 1
        else:
            id_ = keys.key
        made = Coalesce(quotations.count, 0)
        accepted = Coalesce(quotations.accepted, 0)
        return [
            id_.as_('id'),
            Cast(Literal(cls._company()), 'INTEGER').as_('company'),
            (keys.key if group in PERIODS else Cast(Null, 'DATE')
                ).as_('period'),
            (keys.key if group == 'customer' else null).as_('customer'),
            (keys.key if group == 'product' else null).as_('product'),
            made.as_('quotations'),
            Coalesce(quotations.sent, 0).as_('quotations_sent'),
            accepted.as_('quotations_accepted'),
            percent(accepted, made).as_('conversion_percent'),
            money(quotations.amount).as_('quotation_value'),
            Coalesce(orders.count, 0).as_('orders'),
            money(orders.amount).as_('order_value'),
            Coalesce(invoiced.count, 0).as_('invoices'),
            money(invoiced.amount).as_('invoiced_value'),
            (money(taxes.amount) if taxes is not None
                else Cast(Null, 'NUMERIC')).as_('gst_collected'),
            ]

    @classmethod
    def _where(cls, tables):
        return tables['keys'].key != Null
