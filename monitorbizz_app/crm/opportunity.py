# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Leads are Tryton opportunities (sale.opportunity).

The seed's statuses map onto Tryton's states: new and contacted are leads
(contacted once someone spoke to them), qualified is an opportunity,
converted is converted or won, lost is lost or cancelled (with the reason
for loss). Converting a lead finds or makes its customer and opens a draft
quotation with Tryton's own conversion."""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .exceptions import CrmError, QuotationStateError
from .party import GSTIN_TYPE

LEAD_SOURCES = [
    (None, ""),
    ('website', "Website"),
    ('referral', "Referral"),
    ('cold_call', "Cold Call"),
    ('trade_show', "Trade Show"),
    ('other', "Other"),
    ]
LEAD_STATUSES = [
    ('new', "New"),
    ('contacted', "Contacted"),
    ('qualified', "Qualified"),
    ('converted', "Converted"),
    ('lost', "Lost"),
    ]
STATUS_DOMAINS = {
    'new': [('state', '=', 'lead'), ('contacted', '=', False)],
    'contacted': [('state', '=', 'lead'), ('contacted', '=', True)],
    'qualified': [('state', '=', 'opportunity')],
    'converted': [('state', 'in', ['converted', 'won'])],
    'lost': [('state', 'in', ['lost', 'cancelled'])],
    }
CLOSED = {'converted', 'won', 'lost', 'cancelled'}
_readonly = {'readonly': Eval('state').in_(list(CLOSED))}


class Opportunity(metaclass=PoolMeta):
    __name__ = 'sale.opportunity'
    lead_source = fields.Selection(LEAD_SOURCES, "Lead Source",
        states=_readonly)
    company_name = fields.Char("Company Name", states=_readonly)
    contact_person = fields.Char("Contact Person", states=_readonly)
    email = fields.Char("E-mail", states=_readonly)
    phone = fields.Char("Phone", states=_readonly)
    gstin = fields.Char("GSTIN", states=_readonly,
        help="To find the customer when the lead is converted.")
    assigned_to = fields.Many2One('res.user', "Assigned To",
        states=_readonly, help="The member of the business who follows "
        "the lead.")
    contacted = fields.Boolean("Contacted", readonly=True)
    expected_close_date = fields.Date("Expected Close Date",
        states=_readonly)
    lead_status = fields.Function(fields.Selection(
            LEAD_STATUSES, "Status"),
        'get_lead_status', searcher='search_lead_status')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # A qualified lead may still have no customer: it gets one when it
        # is converted.
        cls.party.states['required'] = Eval('state').in_(
            ['converted', 'won'])
        # Who follows the lead is assigned_to, a member of the business:
        # members need not be employees.
        cls.employee.states.pop('required', None)
        cls.__rpc__.update({
                'convert_lead': RPC(readonly=False,
                    result=lambda r: [r[0].id, r[1].id if r[1] else None]),
                'mark_lost': RPC(instantiate=0, readonly=False),
                })
        cls._buttons.update({
                'mark_contacted': {
                    'invisible': ((Eval('state') != 'lead')
                        | Eval('contacted', False)),
                    'depends': ['state', 'contacted'],
                    },
                })

    @classmethod
    def default_contacted(cls):
        return False

    def get_lead_status(self, name):
        for status, domain in STATUS_DOMAINS.items():
            if all(self._matches(clause) for clause in domain):
                return status

    def _matches(self, clause):
        name, operator, value = clause
        current = getattr(self, name)
        return current == value if operator == '=' else current in value

    @classmethod
    def search_lead_status(cls, name, clause):
        _, operator, value = clause[:3]
        values = {value} if operator in {'=', '!='} else set(value or [])
        if operator in {'!=', 'not in'}:
            values = set(STATUS_DOMAINS) - values
        domain = ['OR'] + [STATUS_DOMAINS[v] for v in sorted(values)
            if v in STATUS_DOMAINS]
        if len(domain) == 1:
            return [('id', '=', -1)]
        return [domain]

    @classmethod
    def validate(cls, opportunities):
        super().validate(opportunities)
        for opportunity in opportunities:
            opportunity.check_assigned_member()

    def check_assigned_member(self):
        pool = Pool()
        Company = pool.get('company.company')
        if self.assigned_to and Company.member_role(
                self.company, self.assigned_to.id) is None:
            raise CrmError(gettext('monitorbizz_crm.msg_assigned_not_member',
                    user=self.assigned_to.rec_name,
                    business=self.company.rec_name),
                fields={'assigned_to': 'not a member of the business'})

    @classmethod
    def check_modification(cls, mode, opportunities, values=None,
            external=False):
        super().check_modification(
            mode, opportunities, values=values, external=external)
        if external and mode == 'write':
            changed = set(values) - {'state', 'end_date', 'lost_reason',
                'write_uid', 'write_date', 'lines', 'sales'}
            for opportunity in opportunities:
                if opportunity.state in {'converted', 'won'} and changed:
                    raise QuotationStateError(
                        gettext('monitorbizz_crm.msg_lead_converted',
                            lead=opportunity.rec_name),
                        code='lead_converted')

    @classmethod
    @ModelView.button
    def mark_contacted(cls, opportunities):
        "Someone of the business spoke to the lead"
        cls.write([o for o in opportunities if o.state == 'lead'],
            {'contacted': True})

    @classmethod
    def mark_lost(cls, opportunities, reason):
        cls.write(opportunities, {'lost_reason': reason})
        cls.lost(opportunities)

    def find_customer(self):
        """The customer of the business with the lead's GSTIN, else with its
        e-mail, or None"""
        pool = Pool()
        Party = pool.get('party.party')
        ContactMechanism = pool.get('party.contact_mechanism')
        base = [('company', '=', self.company.id)]
        if self.gstin:
            parties = Party.search(base + [('identifiers', 'where', [
                                ('type', '=', GSTIN_TYPE),
                                ('code', '=', self.gstin),
                                ])], limit=1)
            if parties:
                return parties[0]
        if self.email:
            mechanisms = ContactMechanism.search([
                    ('type', '=', 'email'),
                    ('value', 'ilike', self.email.strip()),
                    ('party.company', '=', self.company.id),
                    ], limit=1)
            if mechanisms:
                return mechanisms[0].party

    def _new_customer(self):
        pool = Pool()
        Party = pool.get('party.party')
        ContactMechanism = pool.get('party.contact_mechanism')
        Identifier = pool.get('party.identifier')
        party = Party(name=self.company_name or self.contact_person
            or self.rec_name, company=self.company, is_customer=True)
        mechanisms = []
        if self.email:
            mechanisms.append(ContactMechanism(type='email',
                    value=self.email))
        if self.phone:
            mechanisms.append(ContactMechanism(type='phone',
                    value=self.phone))
        party.contact_mechanisms = mechanisms
        if self.gstin:
            party.identifiers = [Identifier(type=GSTIN_TYPE,
                    code=self.gstin)]
        return party

    @classmethod
    def convert_lead(cls, opportunity_id, create_quotation=False):
        """Convert the lead: its customer (found by GSTIN or e-mail, else
        created with a CUST code) and, when asked, a draft quotation made by
        Tryton's conversion. Returns (party, sale or None)."""
        pool = Pool()
        Sale = pool.get('sale.sale')
        opportunity = cls(opportunity_id)
        if opportunity.state in {'converted', 'won'}:
            raise QuotationStateError(
                gettext('monitorbizz_crm.msg_lead_converted',
                    lead=opportunity.rec_name),
                fields={'customer_id': str(opportunity.party.id)},
                code='lead_converted')
        if opportunity.state in {'lost', 'cancelled'}:
            raise QuotationStateError(
                gettext('monitorbizz_crm.msg_lead_lost',
                    lead=opportunity.rec_name),
                code='lead_lost')
        party = opportunity.party or opportunity.find_customer()
        if not party:
            with Transaction().set_context(party_kind='customer',
                    company=opportunity.company.id):
                party = opportunity._new_customer()
                party.save()
        party.check_not_blocked()
        if not party.is_customer:
            party.is_customer = True
            party.save()
        opportunity.party = party
        opportunity.save()
        if opportunity.state == 'lead':
            # Converting a lead qualifies it (Tryton converts opportunities)
            cls.opportunity([opportunity])
        with Transaction().set_context(_crm_lead_conversion=True):
            cls.convert([opportunity])
        opportunity = cls(opportunity.id)
        sales = list(opportunity.sales)
        sale = sales[-1] if sales else None
        if sale and create_quotation:
            Sale.set_quotation_number([sale])
        elif sale:
            # Tryton's conversion always opens a sale: none was asked for
            Sale.delete([sale])
            sale = None
        return party, sale
