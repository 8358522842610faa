"Customer and vendor codes numbered per business (CUST-001, VEN-001)"
from trytond.model import Unique
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

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
        context = Transaction().context
        field = PARTY_KINDS.get(context.get('party_kind'))
        if field and context.get('company'):
            sequence = getattr(Company(context['company']), field)
            if sequence:
                return sequence
        return super()._code_sequence(**pattern)
