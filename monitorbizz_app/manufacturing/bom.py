# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""BOMs with versions, one active BOM per product (Tryton's `active`) and
wastage on the inputs: a work order plans quantity × (1 + wastage %)."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

from .exceptions import BOMValidationError


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


class BOMOutput(metaclass=PoolMeta):
    __name__ = 'production.bom.output'

    @classmethod
    def validate(cls, outputs):
        pool = Pool()
        BOM = pool.get('production.bom')
        super().validate(outputs)
        BOM.check_one_active(list({o.bom for o in outputs}))


class BOMInput(metaclass=PoolMeta):
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
