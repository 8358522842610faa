# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Inventory valuation at a date: per item, category or location of the
business's storage, the quantity, unit cost and value, and the items not
moved for N days (slow-moving).

The quantities are Tryton's own stock computation
(stock.move.compute_quantities_query at the date, per storage location):
where a stock period is closed before the date its cached quantities
(stock.period.cache) are read instead of every move since the beginning.
The unit cost is the item's cost price in the business, the figure Tryton's
stock value (product.cost_value) multiplies the quantity by; value =
quantity × unit cost rounded to the paisa per item and location.

Indexes: the done moves of an item by date (declared here, for the last
movement); the quantities use Tryton's stock_move indexes on (company,
location, date, product) and the period caches."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Max, Min, Sum
from sql.conditionals import Coalesce
from sql.functions import Round

from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .common import ContextMixin, ReportMixin, numeric, to_numeric

QUANTITY = (16, 4)


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The last movement of an item at a date (slow-moving items of the
        # inventory valuation)
        cls._sql_indexes.add(Index(t,
                (t.product, Index.Range()),
                (t.effective_date, Index.Range()),
                where=t.state == 'done'))


class ValuationContext(ContextMixin):
    "Inventory Valuation"
    __name__ = 'monitorbizz.report.inventory_valuation.context'
    group_by = fields.Selection([
            ('product', "Item"),
            ('category', "Category"),
            ('location', "Location"),
            ('product_location', "Item and Location"),
            ], "Group By", required=True, sort=False)
    warehouse = fields.Many2One('stock.location', "Warehouse",
        domain=[('type', '=', 'warehouse')])
    category = fields.Many2One('product.category', "Category")
    slow_days = fields.Integer("Not Moved for Days",
        domain=['OR',
            ('slow_days', '=', None),
            ('slow_days', '>=', 0),
            ],
        help="Only the items with no movement in so many days before the "
        "date (slow-moving).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.to_date.string = "At Date"


class InventoryValuation(ReportMixin, ModelView):
    "Inventory Valuation"
    __name__ = 'monitorbizz.report.inventory_valuation'
    KEYS = ('product', 'category', 'location')
    GROUPS = ValuationContext.group_by.selection
    product = fields.Many2One('product.product', "Item", readonly=True)
    category = fields.Many2One('product.category', "Category",
        readonly=True)
    location = fields.Many2One('stock.location', "Location", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    quantity = fields.Numeric("Quantity", digits=QUANTITY, readonly=True)
    unit_cost = fields.Numeric("Unit Cost", digits=(16, 4), readonly=True)
    value = fields.Numeric("Value", digits=(16, 2), readonly=True)
    last_move_date = fields.Date("Last Movement", readonly=True)
    days_not_moved = fields.Integer("Days Not Moved", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('value', 'DESC'), ('id', 'ASC')]

    @classmethod
    def _date(cls):
        "The date of the valuation: the context's, at most today"
        Date = Pool().get('ir.date')
        today = Date.today()
        date = Transaction().context.get('to_date') or today
        if isinstance(date, dt.datetime):
            date = date.date()
        return min(date, today)

    @classmethod
    def _locations(cls):
        "The storage locations of the business (of the warehouse)"
        Location = Pool().get('stock.location')
        domain = [
            ('type', '=', 'storage'),
            ('company', '=', cls._company()),
            ]
        warehouse = Transaction().context.get('warehouse')
        if warehouse:
            domain.append(('parent', 'child_of', [warehouse]))
        return [l.id for l in Location.search(domain)]

    @classmethod
    def _joins(cls):
        pool = Pool()
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        CostPrice = pool.get('product.cost_price')
        TemplateCategory = pool.get('product.template-product.category')
        company = cls._company()
        date = cls._date()

        locations = cls._locations()
        with Transaction().set_context(
                stock_date_end=date, stock_assign=False, forecast=False,
                stock_date_start=None, stock_destinations=None,
                stock_invert=False):
            stock = Move.compute_quantities_query(
                locations, with_childs=False, grouping=('product',))
        if stock is None:
            move = Move.__table__()
            stock = move.select(move.to_location.as_('location'),
                move.product.as_('product'),
                Cast(Literal(0), 'FLOAT').as_('quantity'),
                where=Literal(False))

        product, template = Product.__table__(), Template.__table__()
        cost_price = CostPrice.__table__()
        template_category = TemplateCategory.__table__()
        # One category per item: its first category, else its accounting
        # category (so that the categories add up to the total)
        categories = template_category.select(
            template_category.template.as_('template'),
            Min(template_category.category).as_('category'),
            group_by=[template_category.template])
        # The last movement of each item in the storage up to the date
        move = Move.__table__()
        last = move.select(move.product.as_('product'),
            Max(move.effective_date).as_('date'),
            where=(move.state == 'done')
            & (move.effective_date <= date)
            & (move.company == company)
            & (move.from_location.in_(locations or [-1])
                | move.to_location.in_(locations or [-1])),
            group_by=[move.product])

        from_item = (stock
            .join(product, condition=stock.product == product.id)
            .join(template, condition=product.template == template.id)
            .join(cost_price, 'LEFT',
                condition=(cost_price.product == product.id)
                & (cost_price.company == company))
            .join(categories, 'LEFT',
                condition=categories.template == template.id)
            .join(last, 'LEFT', condition=last.product == product.id))
        tables = {
            'stock': stock,
            'product': product,
            'template': template,
            'cost_price': cost_price,
            'category': categories,
            'last': last,
            'date': date,
            }
        return from_item, tables

    @classmethod
    def _keys(cls, tables):
        stock = tables['stock']
        category = Coalesce(tables['category'].category,
            tables['template'].account_category)
        return {
            'product': {'product': stock.product},
            'category': {'category': category},
            'location': {'location': stock.location},
            'product_location': {
                'product': stock.product,
                'location': stock.location,
                },
            }[cls._group()]

    @classmethod
    def _columns(cls, tables):
        stock = tables['stock']
        template = tables['template']
        cost_price = tables['cost_price'].cost_price
        last = tables['last']
        date = tables['date']
        group = cls._group()
        keys = cls._keys(tables)
        quantity = to_numeric(stock.quantity)
        value = Round(quantity * Coalesce(cost_price, 0), 2)
        if group in {'product', 'location'}:
            id_ = keys[group]
        elif group == 'category':
            # The categories partition the items
            id_ = Min(stock.product)
        else:
            id_ = (Cast(stock.product, 'BIGINT') * 2147483648
                + stock.location)
        columns = [
            id_.as_('id'),
            Cast(Literal(cls._company()), 'INTEGER').as_('company'),
            ]
        for name in ['product', 'category', 'location']:
            columns.append(keys.get(name, Cast(Null, 'INTEGER')).as_(name))
        by_item = 'product' in keys
        last_date = Max(last.date)
        columns += [
            (Min(template.default_uom) if by_item
                else Cast(Null, 'INTEGER')).as_('unit'),
            (numeric(Sum(quantity)) if by_item
                else Cast(Null, 'NUMERIC')).as_('quantity'),
            (Round(Max(Coalesce(cost_price, 0)), 4) if by_item
                else Cast(Null, 'NUMERIC')).as_('unit_cost'),
            Sum(value).as_('value'),
            last_date.as_('last_move_date'),
            (Literal(date) - last_date).as_('days_not_moved'),
            ]
        return columns

    @classmethod
    def _where(cls, tables):
        stock = tables['stock']
        template = tables['template']
        last = tables['last']
        context = Transaction().context
        where = (stock.quantity != 0) & (template.type == 'goods')
        category = context.get('category')
        if category:
            where &= Coalesce(tables['category'].category,
                template.account_category) == category
        slow_days = context.get('slow_days')
        if slow_days is not None:
            since = tables['date'] - dt.timedelta(days=slow_days)
            where &= (last.date == Null) | (last.date <= since)
        return where

    @classmethod
    def _group_by(cls, tables):
        return list(cls._keys(tables).values())
