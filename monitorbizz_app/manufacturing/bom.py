# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""BOMs with versions, one active BOM per product (Tryton's `active`) and
wastage on the inputs: a work order plans quantity × (1 + wastage %).

A product's versions are the BOMs making it; "New Version" copies one
(version + 1, inactive) and "Activate" makes one the active BOM of its
products: the others are deactivated and the product's BOM (the first of
its product BOMs, what sales and work orders use) becomes it, keeping its
routing. A BOM used by a work order keeps its materials and outputs: it is
changed by a new version."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .exceptions import BOMUsedError, BOMValidationError


class BOM(metaclass=PoolMeta):
    __name__ = 'production.bom'
    version = fields.Integer("Version", required=True,
        domain=[('version', '>=', 1)])
    output_quantity = fields.Function(fields.Float(
            "Output Quantity",
            help="Quantity of the main output the BOM makes."),
        'get_output_quantity')
    is_active = fields.Function(fields.Boolean(
            "Is Active",
            help="The BOM in use for its products: only one per product."),
        'get_is_active')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'new_version': {
                    'icon': 'tryton-copy',
                    'depends': ['id'],
                    },
                'activate': {
                    'icon': 'tryton-ok',
                    },
                })

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        # Inactive versions are read-only, yet they are activated and
        # copied as new versions
        for button in ['new_version', 'activate']:
            cls._buttons[button].pop('readonly', None)

    @classmethod
    def default_version(cls):
        return 1

    def get_output_quantity(self, name):
        return self.outputs[0].quantity if self.outputs else None

    def get_is_active(self, name):
        return bool(self.active)

    @classmethod
    def validate(cls, boms):
        super().validate(boms)
        cls.check_one_active(boms)

    # Versions

    @classmethod
    def versions(cls, products):
        "The BOMs making any of products, active or not"
        pool = Pool()
        Output = pool.get('production.bom.output')
        if not products:
            return []
        with without_check_access(), \
                Transaction().set_context(active_test=False):
            outputs = Output.search([
                    ('product', 'in', [p.id for p in products]),
                    ])
            return cls.browse(sorted({o.bom.id for o in outputs}))

    @classmethod
    def next_version(cls, products):
        "The version a new BOM of products takes"
        return max([b.version or 0 for b in cls.versions(products)],
            default=0) + 1

    def made_products(self):
        return list({o.product for o in self.outputs})

    @classmethod
    def create_version(cls, product, name, quantity, inputs):
        """Create the next version of the BOMs of product making quantity
        of it from inputs (values of production.bom.input); the first one
        is active and the product's BOM, later ones inactive until
        activated"""
        first = not any(b.active for b in cls.versions([product]))
        boms = cls.create([{
                    'name': name or product.name,
                    'version': cls.next_version([product]),
                    'active': first,
                    'inputs': [('create', inputs)],
                    'outputs': [('create', [{
                                    'product': product.id,
                                    'quantity': float(quantity),
                                    'unit': product.default_uom.id,
                                    }])],
                    }])
        if first:
            cls.use_in_products(boms)
        return boms

    @classmethod
    @ModelView.button
    def new_version(cls, boms):
        "Copy each BOM as the next version of its products, inactive"
        cls.copy_versions(boms)

    @classmethod
    def copy_versions(cls, boms):
        """Copy each BOM as the next version of its products, inactive;
        return the copies"""
        copies = []
        for bom in boms:
            copy, = cls.copy([bom], default={
                    'active': False,
                    'version': cls.next_version(bom.made_products()),
                    })
            copies.append(copy)
        return copies

    @classmethod
    @ModelView.button
    def activate(cls, boms):
        """Make each BOM the active one of its products: their other
        versions are deactivated and the products use it"""
        products = {p for b in boms for p in b.made_products()}
        seen = {}
        for bom in boms:
            for product in bom.made_products():
                if product in seen:
                    raise BOMValidationError(gettext(
                            'monitorbizz_manufacturing.msg_bom_one_active',
                            bom=bom.rec_name, product=product.rec_name,
                            other=seen[product].rec_name))
                seen[product] = bom
        others = [b for b in cls.versions(list(products))
            if b not in boms and b.active]
        # The one writing BOMs may deactivate the other versions
        cls.write(others, {'active': False})
        cls.write([b for b in boms if not b.active], {'active': True})
        cls.use_in_products(cls.browse(boms))

    @classmethod
    def use_in_products(cls, boms):
        """Make the active boms the BOM of the products they make (their
        first product BOM, keeping its routing)"""
        pool = Pool()
        Product = pool.get('product.product')
        for bom in boms:
            if bom.active:
                Product.put_bom_first(Product.browse(
                        [p.id for p in bom.made_products()]), bom)

    def is_used(self):
        "Whether a work order (not cancelled) uses the BOM"
        Production = Pool().get('production')
        # Whoever reads the BOM learns it is used (as check_used tells)
        with without_check_access():
            return bool(Production.search([
                        ('bom', '=', self.id),
                        ('state', '!=', 'cancelled'),
                        ], limit=1))

    @classmethod
    def check_used(cls, boms):
        "Refuse to change the materials or outputs of a BOM in use"
        pool = Pool()
        Production = pool.get('production')
        ids = [b.id for b in boms if b.id is not None and b.id >= 0]
        if not ids:
            return
        with without_check_access():
            used = Production.search([
                    ('bom', 'in', ids),
                    ('state', '!=', 'cancelled'),
                    ], limit=1)
        if used:
            production, = used
            raise BOMUsedError(gettext(
                    'monitorbizz_manufacturing.msg_bom_used',
                    bom=production.bom.rec_name,
                    work_order=production.rec_name))

    @classmethod
    def check_modification(cls, mode, boms, values=None, external=False):
        super().check_modification(
            mode, boms, values=values, external=external)
        if mode == 'write' and values and (
                {'inputs', 'outputs'} & set(values)):
            cls.check_used(boms)
        elif mode == 'delete':
            cls.check_used(boms)

    @classmethod
    def check_one_active(cls, boms):
        "Refuse a second active BOM making the same product"
        pool = Pool()
        Output = pool.get('production.bom.output')
        active = [b for b in boms if b.active]
        products = {o.product.id: b for b in active for o in b.outputs}
        if not products:
            return
        with without_check_access():
            others = Output.search([
                    ('product', 'in', list(products)),
                    ('bom.active', '=', True),
                    ('bom', 'not in', [b.id for b in active]),
                    ], limit=1)
        if others:
            other, = others
            raise BOMValidationError(gettext(
                    'monitorbizz_manufacturing.msg_bom_one_active',
                    bom=products[other.product.id].rec_name,
                    product=other.product.rec_name,
                    other=other.bom.rec_name))


class _UsedBOMLine:
    "A line of a BOM changes only while no work order uses the BOM"
    __slots__ = ()

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        pool = Pool()
        BOM = pool.get('production.bom')
        super().check_modification(
            mode, lines, values=values, external=external)
        boms = {l.bom for l in lines if l.bom}
        if values and values.get('bom') is not None:
            boms.add(BOM(values['bom']))
        BOM.check_used(list(boms))


class BOMOutput(_UsedBOMLine, metaclass=PoolMeta):
    __name__ = 'production.bom.output'

    @classmethod
    def validate(cls, outputs):
        pool = Pool()
        BOM = pool.get('production.bom')
        super().validate(outputs)
        BOM.check_one_active(list({o.bom for o in outputs}))


class BOMInput(_UsedBOMLine, metaclass=PoolMeta):
    __name__ = 'production.bom.input'
    wastage_percent = fields.Numeric("Wastage %", digits=(5, 2),
        required=True,
        domain=[
            ('wastage_percent', '>=', 0),
            ('wastage_percent', '<=', 100),
            ],
        help="Material lost in processing (offcuts, swarf): the work "
        "order plans this much more.")

    @classmethod
    def default_wastage_percent(cls):
        return Decimal(0)

    def compute_quantity(self, factor):
        wastage = 1 + (self.wastage_percent or Decimal(0)) / 100
        return super().compute_quantity(factor * float(wastage))


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @property
    def production_bom(self):
        "The product BOM in use: the first (what sales and work orders use)"
        return self.boms[0] if self.boms else None

    @classmethod
    def put_bom_first(cls, products, bom, routing=False):
        """Make bom the first product BOM of the products: the row of bom,
        else the first row (another version) now of bom, else a new row;
        routing False: the row's routing is kept (a routing listing bom
        gets it), else it is set"""
        pool = Pool()
        ProductBom = pool.get('product.product-production.bom')
        Routing = pool.get('production.routing')
        to_save, routings = [], {}
        for product in products:
            rows = list(product.boms)
            row = next((r for r in rows if r.bom == bom), None)
            if row is None:
                if rows:
                    row = rows[0]
                else:
                    row = ProductBom(product=product, routing=None)
                    rows.append(row)
                row.bom = bom
            if routing is not False:
                row.routing = routing
            elif not row.routing and bom.routings:
                row.routing = bom.routings[0]
            if row.routing and bom not in row.routing.boms:
                routings.setdefault(row.routing, set()).add(bom.id)
            rows.remove(row)
            for sequence, each in enumerate([row] + rows, 1):
                if each is row or each.sequence != sequence:
                    each.sequence = sequence
                    to_save.append(each)
        for routing_, bom_ids in routings.items():
            Routing.write([routing_], {'boms': [('add', list(bom_ids))]})
        ProductBom.save(to_save)

    @classmethod
    def set_production_bom(cls, products, bom, routing=None):
        """Make bom (with routing) the BOM the products are made by: it is
        activated (its other versions deactivated), it becomes their first
        product BOM and the routing lists it; bom None: the products have
        no BOM any more"""
        pool = Pool()
        BOM = pool.get('production.bom')
        ProductBom = pool.get('product.product-production.bom')
        if bom is None:
            ProductBom.delete([r for p in products for r in p.boms])
            return
        cls.put_bom_first(products, bom, routing)
        if not bom.active:
            BOM.activate([bom])
