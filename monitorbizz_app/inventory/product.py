# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Materials and products of a business: MAT-/PRD- codes from the
business's numbering, reorder levels kept in Tryton order points, the
preferred vendor as the first product supplier, and stock figures computed
by Tryton from the moves (never stored twice)."""
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .exceptions import InventoryError


# Accounting category every business starts with: what items take unless
# another is chosen (expense and revenue accounts, GST 18 %)
GENERAL_CATEGORY = "General (GST 18%)"


def is_finished_good(values):
    "Finished goods are made (producible) or sold (salable); materials not"
    return bool(values.get('producible') or values.get('salable'))


def business_warehouse(company_id=None):
    "The warehouse of the business (of the context by default)"
    pool = Pool()
    Company = pool.get('company.company')
    company_id = company_id or Transaction().context.get('company')
    if not company_id:
        return None
    return Company(company_id).warehouse


def stock_locations(warehouse):
    "The storage locations of warehouse whose stock is the item's stock"
    return [l for l in [warehouse.input_location,
            warehouse.storage_location, warehouse.output_location] if l]


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    manufacturing_time = fields.Numeric(
        "Manufacturing Time", digits=(16, 2),
        domain=['OR',
            ('manufacturing_time', '=', None),
            ('manufacturing_time', '>=', 0),
            ],
        help="Hours to make one unit.")

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Company = pool.get('company.company')
        if mode == 'create' and not values.get('code'):
            company_id = (values.get('company')
                or Transaction().context.get('company'))
            if company_id:
                company = Company(company_id)
                sequence = (company.product_sequence
                    if is_finished_good(values)
                    else company.material_sequence)
                if sequence:
                    values = dict(values)
                    values['code'] = sequence.get()
        if (mode == 'create' and 'account_category' not in values
                and values.get('type', 'goods') != 'service'):
            category = cls._default_account_category()
            if category:
                values = dict(values, account_category=category.id)
        return super().preprocess_values(mode, values)

    @classmethod
    def _default_account_category(cls):
        "The business's general accounting category (GST 18 %)"
        Category = Pool().get('product.category')
        company = Transaction().context.get('company')
        if not company:
            return None
        categories = Category.search([
                ('company', '=', company),
                ('accounting', '=', True),
                ('name', '=', GENERAL_CATEGORY),
                ], limit=1)
        return categories[0] if categories else None


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    reorder_level = fields.Function(fields.Float(
            "Reorder Level", digits='default_uom',
            domain=['OR',
                ('reorder_level', '=', None),
                ('reorder_level', '>=', 0),
                ],
            help="Below this quantity in the business's warehouse, a "
            "purchase is proposed (the minimal quantity of the order "
            "point)."),
        'get_reorder', setter='set_reorder')
    reorder_quantity = fields.Function(fields.Float(
            "Reorder Quantity", digits='default_uom',
            domain=['OR',
                ('reorder_quantity', '=', None),
                ('reorder_quantity', '>=', 0),
                ],
            help="How much to buy above the reorder level (the order "
            "point's target is the level plus this quantity)."),
        'get_reorder', setter='set_reorder')
    preferred_vendor = fields.Function(fields.Many2One(
            'party.party', "Preferred Vendor",
            help="The first supplier of the item: purchase requests go to "
            "this vendor."),
        'get_preferred_vendor', setter='set_preferred_vendor')
    on_hand = fields.Function(fields.Float(
            "On Hand", digits='default_uom',
            help="Quantity in the business's warehouse."),
        'get_stock_figures')
    reserved = fields.Function(fields.Float(
            "Reserved", digits='default_uom',
            help="Quantity assigned to work orders, sales and transfers."),
        'get_stock_figures')
    available = fields.Function(fields.Float(
            "Available", digits='default_uom',
            help="On hand minus reserved."),
        'get_stock_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Each business numbers its items from MAT-001 / PRD-001: the code
        # is unique within a business (validate), not on the platform.
        cls._sql_constraints = [c for c in cls._sql_constraints
            if c[0] != 'code_exclude']

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        cls.__table_handler__(module).drop_constraint('code_exclude')

    @classmethod
    def validate(cls, products):
        super().validate(products)
        cls._check_code_per_business(products)

    @classmethod
    def _check_code_per_business(cls, products):
        pool = Pool()
        Template = pool.get('product.template')
        product, template = cls.__table__(), Template.__table__()
        codes = {p.code for p in products if p.code and p.active}
        if not codes:
            return
        cursor = Transaction().connection.cursor()
        cursor.execute(*product.join(template,
                condition=product.template == template.id).select(
                template.company, product.code,
                where=product.code.in_(sorted(codes))
                & (product.active == True),  # noqa: E712
                group_by=[template.company, product.code],
                having=Count(product.id) > 1))
        for company, code in cursor:
            raise InventoryError(gettext(
                    'monitorbizz_inventory.msg_item_code_unique', code=code),
                fields={'code': gettext(
                        'monitorbizz_inventory.msg_item_code_unique',
                        code=code)})

    # Reorder levels ---------------------------------------------------------

    @classmethod
    def _order_points(cls, products, warehouse):
        OrderPoint = Pool().get('stock.order_point')
        if not warehouse:
            return {}
        points = OrderPoint.search([
                ('product', 'in', [p.id for p in products]),
                ('location', '=', warehouse.id),
                ('type', '=', 'purchase'),
                ])
        return {p.product.id: p for p in points}

    @classmethod
    def get_reorder(cls, products, names):
        result = {n: {p.id: None for p in products} for n in names}
        points = cls._order_points(products, business_warehouse())
        for product_id, point in points.items():
            if 'reorder_level' in result:
                result['reorder_level'][product_id] = point.min_quantity
            if 'reorder_quantity' in result:
                result['reorder_quantity'][product_id] = (
                    point.target_quantity - (point.min_quantity or 0))
        return result

    @classmethod
    def set_reorder(cls, products, name, value):
        "The reorder level and quantity live on the order point"
        OrderPoint = Pool().get('stock.order_point')
        warehouse = business_warehouse()
        if not warehouse:
            return
        points = cls._order_points(products, warehouse)
        to_save, to_delete = [], []
        for product in products:
            point = points.get(product.id)
            if name == 'reorder_level' and value is None:
                if point:
                    to_delete.append(point)
                continue
            if not point:
                if value is None:
                    continue
                if not product.purchasable:
                    message = gettext(
                        'monitorbizz_inventory.msg_reorder_purchasable',
                        item=product.rec_name)
                    raise InventoryError(message, fields={name: message})
                point = OrderPoint(product=product, location=warehouse,
                    type='purchase', company=warehouse.company,
                    min_quantity=0, target_quantity=0)
            margin = (point.target_quantity or 0) - (point.min_quantity or 0)
            if name == 'reorder_level':
                point.min_quantity = value
                point.target_quantity = value + margin
            else:
                point.target_quantity = (point.min_quantity or 0) + (
                    value or 0)
            to_save.append(point)
        OrderPoint.save(to_save)
        OrderPoint.delete(to_delete)

    # Vendors ------------------------------------------------------------------

    @classmethod
    def get_preferred_vendor(cls, products, name):
        ProductSupplier = Pool().get('purchase.product_supplier')
        result = {p.id: None for p in products}
        suppliers = ProductSupplier.search([
                ('template', 'in', list({p.template.id for p in products})),
                ], order=[('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')])
        for supplier in suppliers:
            for product in products:
                if (product.template == supplier.template
                        and supplier.product in {None, product}
                        and result[product.id] is None):
                    result[product.id] = supplier.party.id
        return result

    @classmethod
    def set_preferred_vendor(cls, products, name, value):
        "The vendor becomes the first supplier of the item"
        ProductSupplier = Pool().get('purchase.product_supplier')
        if value is None:
            return
        for product in products:
            suppliers = list(product.template.product_suppliers)
            preferred = [s for s in suppliers if s.party.id == value]
            if not preferred:
                preferred = [ProductSupplier(template=product.template,
                        party=value, company=product.template.company)]
                preferred[0].save()
            others = [s for s in suppliers if s not in preferred]
            for sequence, supplier in enumerate(preferred + others):
                supplier.sequence = sequence
            ProductSupplier.save(preferred + others)

    # Stock ------------------------------------------------------------------

    @classmethod
    def stock_figures(cls, product_ids, warehouse=None):
        """{product id: (on hand, reserved, available)} in the business's
        warehouse, in the default unit, from Tryton's quantity computation:
        two queries whatever the number of products."""
        pool = Pool()
        Date = pool.get('ir.date')
        warehouse = warehouse or business_warehouse()
        result = {i: (0.0, 0.0, 0.0) for i in product_ids}
        if not warehouse or not product_ids:
            return result
        location_ids = [l.id for l in stock_locations(warehouse)]
        totals = []
        for assign in [False, True]:
            with Transaction().set_context(
                    stock_date_end=Date.today(), stock_assign=assign,
                    forecast=False):
                quantities = cls.products_by_location(location_ids,
                    with_childs=True, grouping_filter=(list(product_ids),))
            total = defaultdict(float)
            for (location, product), quantity in quantities.items():
                total[product] += quantity
            totals.append(total)
        on_hands, after_assign = totals
        for product_id in product_ids:
            on_hand = on_hands.get(product_id, 0.0)
            available = after_assign.get(product_id, 0.0)
            result[product_id] = (on_hand, on_hand - available, available)
        return result

    @classmethod
    def get_stock_figures(cls, products, names):
        figures = cls.stock_figures([p.id for p in products])
        index = {'on_hand': 0, 'reserved': 1, 'available': 2}
        result = {}
        for name in names:
            result[name] = {}
            for product in products:
                value = figures[product.id][index[name]]
                result[name][product.id] = product.default_uom.round(value)
        return result


def decimal_quantity(value, unit):
    "A float quantity of Tryton as the Decimal the API answers"
    return Decimal(str(unit.round(value))) if value is not None else None
