# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class InventoryError(ValidationError):
    """Invalid inventory input; fields maps the names of the fields at fault
    to their problem (the Monitorbizz API answers them in error.fields)"""

    def __init__(self, message, fields=None, description=''):
        super().__init__(message, description)
        self.fields = fields or {}


class ApprovalError(UserError):
    "A purchase order above the business's threshold is not approved"
    pass


class StockShortageError(UserError):
    "Not enough stock to move what was asked"
    pass


class TransferError(StockShortageError):
    """The source of a transfer holds less than asked (the API answers 409
    insufficient_stock naming the quantity)"""
    http_status = 409

    def __init__(self, message, description=''):
        super().__init__(message, description)
        self.code = 'insufficient_stock'
        self.fields = {'quantity': "exceeds the available stock"}
