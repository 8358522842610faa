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


class BOMUsedError(UserError):
    "The materials or outputs of a BOM used by a work order are changed"


class WorkOrderStateError(UserError):
    "The action is not allowed in the work order's state"


class MaterialShortageError(UserError):
    """Scheduling found materials short: shortages lists, per material, what
    is required, available, short and the open purchase orders for it"""

    def __init__(self, message, description='', shortages=None):
        super().__init__(message, description)
        self.shortages = shortages or []


class _FieldError(UserError):
    """An input refused, naming the offending field in .field (and its line
    in .line, an index, when the input has lines)"""

    def __init__(self, message, description='', field=None, line=None):
        super().__init__(message, description)
        self.field = field
        self.line = line


class ConsumptionError(_FieldError):
    """A consumption is refused: field is material, quantity,
    wastage_quantity or batch"""


class BatchExhaustedError(_FieldError):
    """The batch or the warehouse holds less than the consumption asks:
    field is batch or quantity"""

    def __init__(self, message, description='', available=None, field=None,
            line=None):
        super().__init__(message, description, field=field, line=line)
        self.available = available


class CompletionError(_FieldError):
    """A completion is refused: field is quantity_produced,
    quantity_rejected or reject_reason"""
