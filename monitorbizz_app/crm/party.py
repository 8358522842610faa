# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Customers: parties with the customer role of a business (CUST-001 codes of
monitorbizz_business), their type, status, GSTIN, payment terms in days."""
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import CrmError

CUSTOMER_TYPES = [
    (None, ""),
    ('retail', "Retail"),
    ('wholesale', "Wholesale"),
    ('distributor', "Distributor"),
    ]
CUSTOMER_STATUSES = [
    ('active', "Active"),
    ('inactive', "Inactive"),
    ('blocked', "Blocked"),
    ]
GSTIN_TYPE = 'in_vat'  # Tryton's identifier of the Indian GSTIN


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'
    quotation_validity_days = fields.Integer(
        "Quotation Validity (days)", required=True,
        domain=[('quotation_validity_days', '>=', 0)],
        help="How long a new quotation of the business is valid.")
    quotation_terms = fields.Text(
        "Quotation Terms", help="Terms and conditions of new quotations.")

    @classmethod
    def default_quotation_validity_days(cls):
        return 30


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    is_customer = fields.Boolean(
        "Customer", help="A customer of the business.")
    customer_type = fields.Selection(CUSTOMER_TYPES, "Customer Type",
        states={'invisible': ~Eval('is_customer')})
    blocked = fields.Boolean("Blocked",
        states={'invisible': ~Eval('is_customer')},
        help="No new quotations or orders for a blocked customer.")
    customer_status = fields.Function(fields.Selection(
            CUSTOMER_STATUSES, "Status"),
        'get_customer_status', setter='set_customer_status',
        searcher='search_customer_status')
    company_name = fields.Char("Company Name",
        help="The firm the customer buys for, when the party is a person.")
    crm_notes = fields.Text("Notes")
    gstin = fields.Function(fields.Char("GSTIN"),
        'get_gstin', searcher='search_gstin')
    payment_term_days = fields.Function(fields.Integer(
            "Payment Terms (days)"), 'get_payment_term_days')

    @classmethod
    def default_is_customer(cls):
        return Transaction().context.get('party_kind') == 'customer'

    @classmethod
    def default_blocked(cls):
        return False

    def get_customer_status(self, name):
        if not self.active:
            return 'inactive'
        return 'blocked' if self.blocked else 'active'

    @classmethod
    def set_customer_status(cls, parties, name, value):
        values = {
            'active': {'active': True, 'blocked': False},
            'inactive': {'active': False, 'blocked': False},
            'blocked': {'active': True, 'blocked': True},
            }[value]
        cls.write(parties, values)

    @classmethod
    def search_customer_status(cls, name, clause):
        _, operator, value = clause[:3]
        table = cls.__table__()
        status = Case(
            (table.active == False, 'inactive'),  # noqa: E712
            (table.blocked == True, 'blocked'),  # noqa: E712
            else_='active')
        Operator = fields.SQL_OPERATORS[operator]
        return [('id', 'in', table.select(table.id,
                    where=Operator(status, value)))]

    @classmethod
    def get_gstin(cls, parties, name):
        gstins = dict.fromkeys([p.id for p in parties])
        for party in parties:
            for identifier in party.identifiers:
                if identifier.type == GSTIN_TYPE:
                    gstins[party.id] = identifier.code
                    break
        return gstins

    @classmethod
    def search_gstin(cls, name, clause):
        _, operator, value = clause[:3]
        return [('identifiers', 'where', [
                    ('type', '=', GSTIN_TYPE),
                    ('code', operator, value),
                    ])]

    def get_payment_term_days(self, name):
        return payment_term_days(self.customer_payment_term)

    @classmethod
    def payment_term_of_days(cls, days):
        """The platform's payment term paying everything after days (0:
        immediately), or raise CrmError on payment_terms"""
        pool = Pool()
        PaymentTerm = pool.get('account.invoice.payment_term')
        terms = PaymentTerm.search([], order=[('id', 'ASC')])
        for term in terms:
            if payment_term_days(term) == days:
                return term
        available = sorted({d for d in map(payment_term_days, terms)
                if d is not None})
        raise CrmError(gettext('monitorbizz_crm.msg_payment_term_days',
                days=days, available=', '.join(map(str, available))),
            fields={'payment_terms': 'one of ' + ', '.join(
                    map(str, available))})

    @classmethod
    def validate(cls, parties):
        super().validate(parties)
        cls.check_gstin_unique(parties)

    @classmethod
    def check_gstin_unique(cls, parties):
        "A GSTIN identifies one party within a business"
        pool = Pool()
        Identifier = pool.get('party.identifier')
        by_company = {}
        for party in parties:
            if party.company and party.gstin:
                by_company.setdefault(party.company.id, {})[
                    party.gstin] = party
        for company_id, gstins in by_company.items():
            with without_check_access(), \
                    Transaction().set_context(active_test=False):
                others = Identifier.search([
                        ('type', '=', GSTIN_TYPE),
                        ('code', 'in', list(gstins)),
                        ('party.company', '=', company_id),
                        ('party', 'not in', [p.id for p in gstins.values()]),
                        ], limit=1)
            if others:
                other, = others
                raise CrmError(gettext('monitorbizz_crm.msg_gstin_unique',
                        gstin=other.code,
                        party=gstins[other.code].rec_name,
                        other=other.party.rec_name),
                    fields={'gstin': 'already used by another party of '
                        'the business'})

    def check_not_blocked(self):
        if self.blocked:
            raise CrmError(gettext('monitorbizz_crm.msg_customer_blocked',
                    customer=self.rec_name),
                fields={'customer_id': 'customer is blocked'},
                code='customer_blocked')

    def has_documents(self):
        "Whether sales, leads or invoices of the business name the party"
        pool = Pool()
        for model, field in [('sale.sale', 'party'),
                ('sale.opportunity', 'party'),
                ('account.invoice', 'party'),
                ('account.move.line', 'party')]:
            Model = pool.get(model)
            with without_check_access(), \
                    Transaction().set_context(active_test=False):
                if Model.search([(field, '=', self.id)], limit=1):
                    return True
        return False


def payment_term_days(term):
    "Days of a payment term that pays everything at once, else None"
    if not term:
        return None
    if len(term.lines) != 1 or term.lines[0].type != 'remainder':
        return None
    deltas = term.lines[0].relativedeltas
    if not deltas:
        return 0
    if len(deltas) == 1:
        delta = deltas[0]
        if not any([delta.day, delta.month, delta.months, delta.weeks,
                    delta.weekday]):
            return delta.days
    return None
