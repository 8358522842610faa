# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reminders of overdue invoices are Tryton's dunning: each business has its
own procedure (levels at 7, 15 and 30 days past due when provisioned), which
applies to every customer that names no other."""
from trytond.pool import PoolMeta

from ..business.isolation import BusinessMixin


class Procedure(BusinessMixin, metaclass=PoolMeta):
    __name__ = 'account.dunning.procedure'


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @property
    def dunning_procedure(self):
        procedure = super().dunning_procedure
        if not procedure and self.move and self.move.company:
            procedure = self.move.company.dunning_procedure
        return procedure
