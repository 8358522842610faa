"Customer and vendor codes numbered per business (CUST-001, VEN-001)"
from trytond.i18n import gettext
from trytond.model import Unique
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .isolation import _is_platform

# Context key telling which numbering a new party takes.
PARTY_KINDS = {
    'customer': 'customer_sequence',
    'vendor': 'vendor_sequence',
    }


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # Each business numbers from 001: codes are unique per business.
        cls._sql_constraints = [c for c in cls._sql_constraints
            if c[0] != 'code_uniq'] + [
            ('code_company_uniq', Unique(t, t.company, t.code),
                'party.msg_party_code_unique'),
            ]

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Tryton keeps constraints it no longer declares: drop party's own.
        cls.__table_handler__(module).drop_constraint('code_uniq')

    @classmethod
    def _code_sequence(cls, **pattern):
        pool = Pool()
        Company = pool.get('company.company')
        User = pool.get('res.user')
        context = Transaction().context
        field = PARTY_KINDS.get(context.get('party_kind'))
        if field and context.get('company'):
            company = Company(context['company'])
            # Draw nothing from another business's numbering: PostgreSQL
            # sequences are not rolled back with the refused creation.
            if (Transaction().user and not _is_platform()
                    and company.id not in User.get_companies()):
                raise AccessError(gettext(
                        'monitorbizz_business.msg_not_your_business',
                        business=company.id))
            sequence = getattr(company, field)
            if sequence:
                return sequence
        return super()._code_sequence(**pattern)
