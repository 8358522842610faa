# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class FinanceError(UserError):
    """A refused finance operation; fields names the fields at fault and
    their problem ({field: problem}), as BusinessError of
    monitorbizz_business"""

    def __init__(self, message, description='', fields=None, code=None):
        super().__init__(message, description)
        self.fields = fields or {}
        self.code = code
