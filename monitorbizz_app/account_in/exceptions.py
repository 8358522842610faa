from trytond.exceptions import UserError


class GSTError(UserError):
    pass
