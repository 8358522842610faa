# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Buttons whose refusals are the same on every path (desk, JSON-RPC, /api).

Tryton's ModelView.button checks, for a calling user, the model's access,
the record rules, the groups of the button, then its states (invisible,
readonly), and only then runs the button's body. A record in the wrong
state for a button is refused by its states with Tryton's generic "You can
not call ..." message. `guarded_button` puts the model's own reason (a
QuotationStateError with its code, say) between the groups and the states:
a role refused the button is refused first, whatever the record's state,
and a role allowed it learns why this record cannot take the action."""
from functools import wraps

from trytond.i18n import gettext
from trytond.model import ModelView
from trytond.model.exceptions import AccessButtonError
from trytond.pool import Pool
from trytond.transaction import Transaction

__all__ = ['check_button_access', 'guarded_button']


def check_button_access(Model, records, name):
    """Raise as ModelView.button does when the calling user may not press
    the button name of Model on records: the model's read access, the
    record rules of records, then the groups of the button (or the write
    access without groups). Nothing without a user or access checks."""
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    Button = pool.get('ir.model.button')
    User = pool.get('res.user')
    transaction = Transaction()
    if not transaction.user or not transaction.check_access:
        return
    ModelAccess.check(Model.__name__, 'read')
    ids = [r.id for r in records if r.id is not None and r.id >= 0]
    if ids and hasattr(Model, 'read'):
        Model.read(ids, ['id'])
    button_groups = Button.get_groups(Model.__name__, name)
    if button_groups:
        if not set(User.get_groups()) & button_groups:
            raise AccessButtonError(gettext('ir.msg_access_button_error',
                    button=name, **Model.__names__()))
    else:
        ModelAccess.check(Model.__name__, 'write')


def guarded_button(guard):
    """ModelView.button whose classmethod guard(records) raises the model's
    reason a record cannot take the action, after the user's right to press
    the button is checked and before the button's states are."""
    def decorator(func):
        pressed = ModelView.button(func)

        @wraps(func)
        def wrapper(cls, records, *args, **kwargs):
            check_button_access(cls, records, func.__name__)
            getattr(cls, guard)(records)
            return pressed(cls, records, *args, **kwargs)
        return wrapper
    return decorator
