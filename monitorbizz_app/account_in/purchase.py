from trytond.pool import PoolMeta

from .account import GSTTaxableMixin


class Purchase(GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'purchase.purchase'


class Line(GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'purchase.line'
