from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class GSTError(UserError):
    pass


class HSNSACError(ValidationError):
    pass
