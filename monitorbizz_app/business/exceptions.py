from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class BusinessError(ValidationError):
    "Invalid business profile; fields maps field names to problems"

    def __init__(self, message, fields=None, description=''):
        super().__init__(message, description)
        self.fields = fields or {}


class MembershipError(UserError):
    pass


class InvitationError(UserError):
    pass
