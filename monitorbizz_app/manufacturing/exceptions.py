# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class DowntimeError(UserError):
    "A downtime conflicts with another or with the machine's state"


class OperationConflictError(UserError):
    "The machine or the operator already runs another operation"

    def __init__(self, message, description='', running=None):
        super().__init__(message, description)
        self.running = running


class BOMValidationError(ValidationError):
    pass
