from trytond.pool import PoolMeta

from .account import GSTTaxableMixin


class Sale(GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'


class Line(GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'sale.line'
