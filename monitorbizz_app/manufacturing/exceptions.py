# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ManufacturingError(UserError):
    """A refusal of the module; error_code is its stable code (the code
    given instead, if any) and http_status the status the API answers it
    with (None: the API's default for its kind)"""
    http_status = None
    error_code = None

    def __init__(self, message, description='', code=None):
        super().__init__(message, description)
        if code or self.error_code:
            self.code = code or self.error_code


class StateError(ManufacturingError):
    """The action is not allowed in the record's state: answered 409 with
    its code by the API (invalid_state unless said)"""
    http_status = 409
    error_code = 'invalid_state'


class DowntimeError(StateError):
    "A downtime conflicts with another or with the machine's state"
    error_code = 'downtime_open'


class DowntimeEndError(ManufacturingError):
    "The end of a downtime is before its start (422 naming end_time)"
    http_status = 422
    error_code = 'validation_error'

    @property
    def fields(self):
        return {'end_time': self.message}


class OperationConflictError(ManufacturingError):
    "The machine or the operator already runs another operation"

    def __init__(self, message, description='', running=None):
        super().__init__(message, description)
        self.running = running


class BOMValidationError(ValidationError):
    pass


class BOMUsedError(ManufacturingError):
    "The materials or outputs of a BOM used by a work order are changed"
    http_status = 409
    error_code = 'bom_in_use'


class WorkOrderStateError(StateError):
    "The action is not allowed in the work order's state"


class WorkOrderPlanError(StateError):
    "The plan of a work order no longer draft is changed (fields named)"

    def __init__(self, message, description='', code=None, fields=None):
        super().__init__(message, description, code=code)
        self.fields = fields or {}


class WorkOrderValueError(ValidationError):
    "Invalid values of a work order, fields maps field names to problems"

    def __init__(self, message, description='', fields=None):
        super().__init__(message, description)
        self.fields = fields or {}


class OperationStateError(StateError):
    """The operation cannot take the action in its state (code:
    operation_running, operation_completed, operation_not_started,
    operation_not_running; invalid_state for its work order's)"""


class MaterialShortageError(UserError):
    """Scheduling found materials short: shortages lists, per material, what
    is required, available, short and the open purchase orders for it"""

    def __init__(self, message, description='', shortages=None):
        super().__init__(message, description)
        self.shortages = shortages or []


class _FieldError(ManufacturingError):
    """An input refused, naming the offending field in .field (and its line
    in .line, an index, when the input has lines)"""

    def __init__(self, message, description='', field=None, line=None):
        super().__init__(message, description)
        self.field = field
        self.line = line


class ConsumptionError(_FieldError):
    """A consumption is refused: field is material, quantity,
    wastage_quantity or batch"""
    http_status = 422
    error_code = 'invalid_consumption'


class UnknownBatchError(ConsumptionError):
    "The batch of a consumption is none of the material in the business"
    error_code = 'unknown_batch'


class BatchExhaustedError(_FieldError):
    """The batch or the warehouse holds less than the consumption asks:
    field is batch or quantity"""
    http_status = 409
    error_code = 'batch_exhausted'

    def __init__(self, message, description='', available=None, field=None,
            line=None):
        super().__init__(message, description, field=field, line=line)
        self.available = available


class CompletionError(_FieldError):
    """A completion is refused: field is quantity_produced,
    quantity_rejected or reject_reason"""
    http_status = 422
    error_code = 'invalid_completion'

    @property
    def fields(self):
        return {self.field: self.message} if self.field else {}


class OperationsNotFinishedError(ManufacturingError):
    "A work order is completed before its operations"
    http_status = 409
    error_code = 'operations_not_finished'

    @property
    def fields(self):
        return {'operations': self.message}
