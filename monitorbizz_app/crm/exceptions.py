# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class CrmError(UserError):
    """A refused CRM operation; fields names the fields at fault and their
    problem ({field: problem}), as BusinessError of monitorbizz_business;
    code is its stable code and http_status the status the API answers it
    with (422: the request cannot be done as asked)"""
    http_status = 422

    def __init__(self, message, description='', fields=None, code=None):
        super().__init__(message, description)
        self.fields = fields or {}
        self.code = code


class BlockedCustomerError(CrmError):
    pass


class QuotationStateError(CrmError):
    "The quotation is not in the status the action needs (a conflict)"
    http_status = 409


class OrderStateError(CrmError):
    "The order is not in the status the action needs (a conflict)"
    http_status = 409


class CreditLimitExceeded(CrmError):
    pass
