# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError

# The codes of refusals by the state of a record (the API answers 409); the
# other coded refusals are invalid input (422)
CONFLICTS = {
    'invoice_state', 'invoice_not_open', 'invoice_not_draft',
    'expense_not_draft', 'expense_paid',
    }


class FinanceError(UserError):
    """A refused finance operation; fields names the fields at fault and
    their problem ({field: problem}), as BusinessError of
    monitorbizz_business; code says why, and with it the HTTP status the
    API answers (409 for a record in the wrong state, else 422)"""

    def __init__(self, message, description='', fields=None, code=None):
        super().__init__(message, description)
        self.fields = fields or {}
        self.code = code

    @property
    def http_status(self):
        if self.code:
            return 409 if self.code in CONFLICTS else 422
