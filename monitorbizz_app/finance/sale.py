# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Sales orders are invoiced as their business says (on order or shipment)"
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def default_invoice_method(cls, **pattern):
        pool = Pool()
        Company = pool.get('company.company')
        company = pattern.get('company', Transaction().context.get('company'))
        if company is not None and company >= 0:
            method = Company(company).invoice_method
            if method:
                return method
        return super().default_invoice_method(**pattern)
