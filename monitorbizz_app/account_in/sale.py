# Indian chart of accounts and GST taxes for Monitorbizz businesses.
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from .account import GSTLineMixin, GSTTaxableMixin
from .product import HSNSACMixin


class Sale(GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'


class Line(
        HSNSACMixin, GSTLineMixin, GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'sale.line'
    hsn_sac = fields.Char("HSN/SAC",
        states={
            'invisible': Eval('type') != 'line',
            'readonly': Eval('sale_state') != 'draft',
            },
        help="GST classification printed on the line: the product's "
        "HSN/SAC code unless another is given.")

    @fields.depends('product')
    def on_change_product(self):
        super().on_change_product()
        if self.product:
            self.hsn_sac = self.product.template.hsn_sac

    def get_invoice_line(self):
        lines = super().get_invoice_line()
        for line in lines:
            line.hsn_sac = self.hsn_sac_code or None
        return lines
