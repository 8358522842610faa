"""A business is a company.company with a business profile; provisioning
leaves a new one ready to trade (chart of accounts with GST, fiscal year,
document sequences, warehouse)."""
import base64
import binascii
import datetime as dt

from dateutil.relativedelta import relativedelta
from stdnum.in_ import gstin as stdnum_gstin

from trytond.i18n import gettext
from trytond.model import fields
from trytond.exceptions import UserError
from trytond.modules.company.exceptions import LogoValidationError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools.email_ import validate_email
from trytond.transaction import Transaction, without_check_access

from .exceptions import BusinessError, MembershipError
from .india import GST_STATE_CODES
from .isolation import _is_platform

MONTHS = [(str(m), dt.date(2000, m, 1).strftime('%B')) for m in range(1, 13)]

# Document sequences of a new business: field, sequence type, prefix.
# ${year} is the year of the document date (ir.sequence substitution).
SEQUENCES = [
    ('customer_sequence', 'monitorbizz_business.sequence_type_customer',
        'CUST-'),
    ('vendor_sequence', 'monitorbizz_business.sequence_type_vendor', 'VEN-'),
    ('material_sequence', 'monitorbizz_business.sequence_type_material',
        'MAT-'),
    ('product_sequence', 'monitorbizz_business.sequence_type_product',
        'PRD-'),
    ('machine_sequence', 'monitorbizz_business.sequence_type_machine',
        'MCH-'),
    ('quotation_sequence', 'monitorbizz_business.sequence_type_quotation',
        'QT-${year}-'),
    ('sale_sequence', 'sale.sequence_type_sale', 'SO-${year}-'),
    ('purchase_sequence', 'purchase.sequence_type_purchase', 'PO-${year}-'),
    ('production_sequence', 'production.sequence_type_production',
        'WO-${year}-'),
    ('payment_sequence', 'monitorbizz_business.sequence_type_payment',
        'PAY-${year}-'),
    ('lead_sequence', 'sale_opportunity.sequence_type_sale_opportunity',
        'LEAD-'),
    ]
# Tryton configurations numbering their documents per company: model, its
# field, the business's sequence field.
CONFIGURATION_SEQUENCES = [
    ('sale.configuration', 'sale_sequence', 'sale_sequence'),
    ('purchase.configuration', 'purchase_sequence', 'purchase_sequence'),
    ('production.configuration', 'production_sequence',
        'production_sequence'),
    ('sale.configuration', 'sale_opportunity_sequence', 'lead_sequence'),
    ]
PROFILE_FIELDS = {'name', 'trade_name', 'gstin', 'state', 'street', 'city',
    'postal_code', 'phone', 'email', 'currency', 'fiscal_year_start_month',
    'logo'}
# A logo is a PNG, JPEG or WebP image of at most LOGO_SIZE_MAX bytes, given
# in base64 (optionally as a data: URL); Tryton stores it as PNG.
LOGO_SIZE_MAX = 1024 * 1024
LOGO_SIGNATURES = [b'\x89PNG\r\n\x1a\n', b'\xff\xd8\xff', b'RIFF']


# Numbers the law wants gap-free come from strict sequences: drawn inside
# the transaction, so a refused or rolled-back document gives its number back
STRICT_SEQUENCES = {'payment_sequence'}


def _sequence_field(string, model='ir.sequence'):
    return fields.Many2One(
        model, string, readonly=True,
        domain=[('company', '=', Eval('id', -1))])


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'
    trade_name = fields.Char("Trade Name")
    gstin = fields.Function(fields.Char("GSTIN"), 'get_profile')
    state = fields.Function(
        fields.Many2One('country.subdivision', "State"), 'get_profile')
    phone = fields.Function(fields.Char("Phone"), 'get_profile')
    email = fields.Function(fields.Char("E-mail"), 'get_profile')
    fiscal_year_start_month = fields.Selection(
        MONTHS, "Fiscal Year Start", sort=False, required=True)
    members = fields.One2Many(
        'res.user.role', 'company', "Members", readonly=True)
    owner = fields.Function(
        fields.Many2One('res.user', "Owner"), 'get_owner')
    warehouse = fields.Many2One(
        'stock.location', "Warehouse", readonly=True,
        domain=[('type', '=', 'warehouse')])
    customer_sequence = _sequence_field("Customer Sequence")
    vendor_sequence = _sequence_field("Vendor Sequence")
    material_sequence = _sequence_field("Material Sequence")
    product_sequence = _sequence_field("Product Sequence")
    machine_sequence = _sequence_field("Machine Sequence")
    quotation_sequence = _sequence_field("Quotation Sequence")
    sale_sequence = _sequence_field("Sales Order Sequence")
    purchase_sequence = _sequence_field("Purchase Order Sequence")
    production_sequence = _sequence_field("Work Order Sequence")
    payment_sequence = _sequence_field(
        "Payment Sequence", 'ir.sequence.strict')
    lead_sequence = _sequence_field("Lead Sequence")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'provision': RPC(readonly=False),
                'update_profile': RPC(readonly=False),
                'set_member_role': RPC(readonly=False),
                'remove_member': RPC(readonly=False),
                })

    @classmethod
    def default_fiscal_year_start_month(cls):
        return '4'  # Indian fiscal years start on 1 April

    def get_profile(self, name):
        party = self.party
        if name == 'gstin':
            for identifier in party.identifiers:
                if identifier.type == 'in_vat':
                    return identifier.code
        elif name == 'state':
            address = party.address_get('invoice')
            if address and address.subdivision:
                return address.subdivision.id
        elif name in {'phone', 'email'}:
            mechanism = party.contact_mechanism_get(name)
            if mechanism:
                return mechanism.value

    @classmethod
    def get_owner(cls, companies, name):
        pool = Pool()
        UserRole = pool.get('res.user.role')
        owners = dict.fromkeys([c.id for c in companies])
        with without_check_access():
            for membership in UserRole.search([
                        ('company', 'in', [c.id for c in companies]),
                        ('role.code', '=', 'owner'),
                        ], order=[('id', 'DESC')]):
                owners[membership.company.id] = membership.user.id
        return owners

    @classmethod
    def check_owner(cls, company):
        "Raise unless the calling user owns the business"
        cls.check_role(company, {'owner'})

    @classmethod
    def check_role(cls, company, roles):
        "Raise unless the calling user has one of roles in the business"
        transaction = Transaction()
        if not transaction.user or not transaction.check_access:
            return
        role = cls.member_role(company)
        if role is None:
            # Not a member: tell nothing of the business, not even its name
            raise AccessError(gettext(
                    'monitorbizz_business.msg_not_your_business',
                    business=company.id))
        if role not in roles:
            raise AccessError(gettext(
                    'monitorbizz_business.msg_owner_only',
                    business=company.rec_name))

    @classmethod
    def member_role(cls, company, user_id=None):
        "Code of the role the user has in the business, or None"
        pool = Pool()
        UserRole = pool.get('res.user.role')
        if user_id is None:
            user_id = Transaction().user
        with without_check_access():
            memberships = UserRole.search([
                    ('company', '=', company.id),
                    ('user', '=', user_id),
                    ], limit=1)
        return memberships[0].role.code if memberships else None

    @classmethod
    def _membership(cls, company_id, user_id):
        pool = Pool()
        UserRole = pool.get('res.user.role')
        company = cls(company_id)
        cls.check_owner(company)
        with without_check_access():
            memberships = UserRole.search([
                    ('company', '=', company.id),
                    ('user', '=', user_id),
                    ], limit=1)
        if not memberships:
            raise MembershipError(gettext(
                    'monitorbizz_business.msg_not_member_of',
                    business=company.rec_name))
        return memberships[0]

    @classmethod
    def set_member_role(cls, company_id, user_id, role_code):
        "Give the member another role (owners only)"
        pool = Pool()
        Role = pool.get('res.role')
        UserRole = pool.get('res.user.role')
        membership = cls._membership(company_id, user_id)
        role = Role.get_business_role(role_code)
        with without_check_access():
            UserRole.write([membership], {'role': role.id})

    @classmethod
    def remove_member(cls, company_id, user_id):
        "Remove the member from the business (owners only)"
        pool = Pool()
        UserRole = pool.get('res.user.role')
        membership = cls._membership(company_id, user_id)
        with without_check_access():
            UserRole.delete([membership])

    # Profile

    @classmethod
    def _check_profile(cls, values, creating):
        "Return cleaned values or raise BusinessError naming the fields"
        pool = Pool()
        Subdivision = pool.get('country.subdivision')
        Currency = pool.get('currency.currency')
        unknown = set(values) - PROFILE_FIELDS
        if unknown:
            raise BusinessError(
                gettext('monitorbizz_business.msg_unknown_fields',
                    fields=', '.join(sorted(unknown))),
                fields={f: 'unknown' for f in unknown})
        values = {k: (v.strip() if isinstance(v, str) else v)
            for k, v in values.items()}
        problems = {}
        if creating:
            for name in ['name', 'state']:
                if not values.get(name):
                    problems[name] = 'required'
        elif 'name' in values and not values['name']:
            problems['name'] = 'required'
        state = None
        if values.get('state'):
            with without_check_access():
                states = Subdivision.search([
                        ('code', '=', values['state']),
                        ('country.code', '=', 'IN'),
                        ], limit=1)
            if states:
                state, = states
                values['state'] = state
            else:
                problems['state'] = 'unknown Indian state code'
        gstin = values.get('gstin')
        if gstin:
            gstin = stdnum_gstin.compact(gstin)
            if not stdnum_gstin.is_valid(gstin):
                problems['gstin'] = 'invalid GSTIN'
            elif state and GST_STATE_CODES.get(state.code) != gstin[:2]:
                problems['gstin'] = (
                    'GSTIN state code does not match the state')
            values['gstin'] = gstin
        if values.get('email'):
            try:
                validate_email(values['email'])
            except Exception:
                problems['email'] = 'invalid e-mail'
        currency_code = values.get('currency') or ('INR' if creating else None)
        if currency_code:
            with without_check_access():
                currencies = Currency.search(
                    [('code', '=', currency_code)], limit=1)
            if currencies:
                values['currency'], = currencies
            else:
                problems['currency'] = 'unknown currency'
        if 'logo' in values:
            logo, problem = cls._decode_logo(values['logo'])
            if problem:
                problems['logo'] = problem
            else:
                values['logo'] = logo
        month = values.get('fiscal_year_start_month')
        if month is not None:
            if str(month) not in dict(MONTHS):
                problems['fiscal_year_start_month'] = 'must be 1 to 12'
            values['fiscal_year_start_month'] = str(month)
        if problems:
            raise BusinessError(
                gettext('monitorbizz_business.msg_invalid_profile',
                    fields=', '.join(sorted(problems))),
                fields=problems)
        return values

    @classmethod
    def _logo_convert(cls, image, **params):
        # Tryton turns an unknown format into a clear error, not a broken
        # or hostile image of a known format: do the same for those.
        from PIL import Image
        try:
            return super()._logo_convert(image, **params)
        except (OSError, SyntaxError, ValueError, EOFError,
                Image.DecompressionBombError) as e:
            raise LogoValidationError(
                gettext('company.msg_company_logo_error'), str(e)) from e

    @classmethod
    def _decode_logo(cls, value):
        "Return (image bytes or None, problem)"
        if not value:
            return None, None
        if isinstance(value, bytes):
            data = value
        elif isinstance(value, str):
            if value.startswith('data:'):
                header, _, value = value.partition(',')
                if not header.endswith(';base64'):
                    return None, 'data URL must be base64'
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return None, 'not base64'
        else:
            return None, 'must be a base64 string'
        if len(data) > LOGO_SIZE_MAX:
            return None, f'larger than {LOGO_SIZE_MAX // 1024} KiB'
        if not any(data.startswith(s) for s in LOGO_SIGNATURES) or (
                data.startswith(b'RIFF') and data[8:12] != b'WEBP'):
            return None, 'not a PNG, JPEG or WebP image'
        try:
            cls._logo_convert(data)
        except UserError:
            return None, 'unreadable image'
        return data, None

    def _apply_profile(self, values):
        pool = Pool()
        Address = pool.get('party.address')
        Identifier = pool.get('party.identifier')
        ContactMechanism = pool.get('party.contact_mechanism')
        party = self.party
        if values.get('name'):
            party.name = values['name']
        party.save()
        if 'gstin' in values:
            identifiers = [i for i in party.identifiers if i.type == 'in_vat']
            if values['gstin']:
                identifier = (identifiers.pop(0) if identifiers
                    else Identifier(party=party, type='in_vat'))
                identifier.code = values['gstin']
                identifier.save()
            Identifier.delete(identifiers)
        address_fields = {'street', 'city', 'postal_code', 'state'}
        if address_fields & set(values):
            address = party.address_get('invoice') or Address(party=party)
            for name in ['street', 'city', 'postal_code']:
                if name in values:
                    setattr(address, name, values[name])
            if values.get('state'):
                address.country = values['state'].country
                address.subdivision = values['state']
            address.save()
        for type_ in ['phone', 'email']:
            if type_ in values:
                mechanism = party.contact_mechanism_get(type_)
                if values[type_]:
                    if not mechanism:
                        mechanism = ContactMechanism(party=party, type=type_)
                    mechanism.value = values[type_]
                    mechanism.save()
                elif mechanism:
                    ContactMechanism.delete([mechanism])
        for name in ['trade_name', 'currency', 'fiscal_year_start_month',
                'logo']:
            if name in values:
                setattr(self, name, values[name])
        self.save()

    @classmethod
    def update_profile(cls, company_id, values):
        "Change the profile of a business (owners and managers)"
        company = cls(company_id)
        cls.check_role(company, {'owner', 'manager'})
        values = cls._check_profile(values, creating=False)
        if values.get('state') and values['state'] != company.state:
            # The GSTIN and the place-of-supply tax rules are those of the
            # state the business is registered in.
            raise BusinessError(
                gettext('monitorbizz_business.msg_state_fixed'),
                fields={'state': 'cannot change'})
        if values.get('gstin') and company.state and (
                GST_STATE_CODES.get(company.state.code)
                != values['gstin'][:2]):
            raise BusinessError(
                gettext('monitorbizz_business.msg_invalid_profile',
                    fields='gstin'),
                fields={'gstin': 'GSTIN state code does not match the state'})
        if 'currency' in values and values['currency'] != company.currency:
            raise BusinessError(
                gettext('monitorbizz_business.msg_currency_fixed'),
                fields={'currency': 'cannot change'})
        with without_check_access():
            company._apply_profile(values)
        return company.id

    # Provisioning

    @classmethod
    def provision(cls, values, owner=None):
        """Create a business ready to trade, owned by the calling user (or
        by owner when the administrator calls). Returns the company id."""
        pool = Pool()
        Party = pool.get('party.party')
        Role = pool.get('res.role')
        UserRole = pool.get('res.user.role')
        User = pool.get('res.user')
        transaction = Transaction()
        # Creating the fiscal year locks these tables (Tryton checks years
        # and periods do not overlap); asking for them first restarts the
        # transaction before any work instead of after the chart, which
        # made every provisioning run three times.
        for Model in [pool.get('account.fiscalyear'),
                pool.get('account.period')]:
            transaction.lock_table(Model._table)
        values = cls._check_profile(values, creating=True)
        # The platform administrator provisions for others; anybody else
        # provisions for themselves.
        if not _is_platform():
            owner = transaction.user
        with without_check_access():
            party = Party(name=values['name'])
            party.save()
            company = cls(party=party, currency=values['currency'])
            company._apply_profile(values)
            with transaction.set_context(company=company.id):
                Party.write([party], {'company': company.id})
                company._create_chart()
                company._create_fiscal_year(dt.date.today())
                company._create_sequences()
                company._create_warehouse()
                if owner:
                    UserRole.create([{
                                'user': owner,
                                'company': company.id,
                                'role': Role.get_business_role('owner').id,
                                }])
                    company._create_employee(User(owner))
        return company.id

    def _create_chart(self):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        AccountTemplate = pool.get('account.account.template')
        TaxTemplate = pool.get('account.tax.template')
        TaxCodeTemplate = pool.get('account.tax.code.template')
        TaxCodeLineTemplate = pool.get('account.tax.code.line.template')
        TaxRuleTemplate = pool.get('account.tax.rule.template')
        TaxRuleLineTemplate = pool.get('account.tax.rule.line.template')
        Account = pool.get('account.account')
        Configuration = pool.get('account.configuration')
        TaxRule = pool.get('account.tax.rule')

        # The same steps as Tryton's account.create_chart wizard.
        template = AccountTemplate(ModelData.get_id(
                'monitorbizz_account_in', 'account_template_root_in'))
        template2type, template2account, template2tax = {}, {}, {}
        template2tax_code, template2tax_code_line = {}, {}
        template2rule, template2rule_line = {}, {}
        template.type.create_type(self.id, template2type=template2type)
        template.create_account(self.id, template2account=template2account,
            template2type=template2type)
        TaxTemplate.create_tax(template.id, self.id,
            template2account=template2account, template2tax=template2tax)
        TaxCodeTemplate.create_tax_code(template.id, self.id,
            template2tax_code=template2tax_code)
        TaxCodeLineTemplate.create_tax_code_line(template.id,
            template2tax=template2tax, template2tax_code=template2tax_code,
            template2tax_code_line=template2tax_code_line)
        template.update_account2(template2account, template2tax)
        TaxRuleTemplate.create_rule(template.id, self.id,
            template2rule=template2rule)
        TaxRuleLineTemplate.create_rule_line(template.id, template2tax,
            template2rule, template2rule_line=template2rule_line)

        def account(kind):
            accounts = Account.search([
                    (f'type.{kind}', '=', True),
                    ('company', '=', self.id),
                    ('closed', '!=', True),
                    ], order=[('code', 'ASC')], limit=1)
            return accounts[0] if accounts else None

        config = Configuration(1)
        config.default_account_receivable = account('receivable')
        config.default_account_payable = account('payable')
        config.default_category_account_revenue = account('revenue')
        config.default_category_account_expense = account('expense')
        config.save()
        TaxRule.create_gst_tax_rules(self, self.state)

    def _create_fiscal_year(self, today):
        pool = Pool()
        FiscalYear = pool.get('account.fiscalyear')
        InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
        Sequence = pool.get('ir.sequence.strict')
        ModelData = pool.get('ir.model.data')

        start = dt.date(today.year, int(self.fiscal_year_start_month), 1)
        if start > today:
            start -= relativedelta(years=1)
        end = start + relativedelta(years=1, days=-1)
        name = f"{start.year}-{str(end.year)[-2:]}"

        def sequence(xml_id, prefix):
            module, fs_id = xml_id.split('.')
            return Sequence(name=f"{prefix}{name}", company=self,
                sequence_type=ModelData.get_id(module, fs_id),
                prefix=prefix, padding=3)

        fiscalyear = FiscalYear(name=name, start_date=start, end_date=end,
            company=self)
        fiscalyear.move_sequence = sequence(
            'account.sequence_type_account_move', f"JV-{start.year}-")
        fiscalyear.move_sequence.save()
        invoice = sequence('account_invoice.sequence_type_account_invoice',
            f"INV-{start.year}-")
        credit_note = sequence(
            'account_invoice.sequence_type_account_invoice',
            f"CN-{start.year}-")
        bill = sequence('account_invoice.sequence_type_account_invoice',
            f"BILL-{start.year}-")
        Sequence.save([invoice, credit_note, bill])
        fiscalyear.invoice_sequences = [InvoiceSequence(company=self,
                out_invoice_sequence=invoice,
                out_credit_note_sequence=credit_note,
                in_invoice_sequence=bill, in_credit_note_sequence=bill)]
        fiscalyear.save()
        FiscalYear.create_period([fiscalyear])
        return fiscalyear

    def _create_sequences(self):
        """The business's own numbering: each sequence of SEQUENCES it does
        not have yet, set on it and on Tryton's configurations"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        missing = [(field, xml_id, prefix)
            for field, xml_id, prefix in SEQUENCES
            if not getattr(self, field, None)]
        sequences = []
        for field, xml_id, prefix in missing:
            module, fs_id = xml_id.split('.')
            Sequence = pool.get('ir.sequence.strict'
                if field in STRICT_SEQUENCES else 'ir.sequence')
            sequence = Sequence(name=f"{prefix.split('-')[0]} numbers",
                company=self, prefix=prefix, padding=3,
                sequence_type=ModelData.get_id(module, fs_id))
            sequences.append(sequence)
        for strict in [True, False]:
            batch = [q for q in sequences
                if (q.__name__ == 'ir.sequence.strict') == strict]
            if batch:
                batch[0].__class__.save(batch)
        for (field, _, _), sequence in zip(missing, sequences):
            setattr(self, field, sequence)
        self.save()
        created = {field for field, _, _ in missing}
        with Transaction().set_context(company=self.id):
            for model, field, company_field in CONFIGURATION_SEQUENCES:
                if company_field not in created:
                    continue
                Configuration = pool.get(model)
                config = Configuration(1)
                setattr(config, field, getattr(self, company_field))
                config.save()

    @classmethod
    def __register__(cls, module):
        cls._migrate_payment_sequence(module)
        super().__register__(module)
        # Businesses provisioned before a sequence joined SEQUENCES (the
        # lead numbering LEAD-001) get it when the module is updated
        table = cls.__table_handler__(module)
        if all(table.column_exist(f) for f, _, _ in SEQUENCES):
            with without_check_access(), Transaction().set_context(
                    active_test=False):
                companies = cls.search(['OR'] + [(f, '=', None)
                        for f, _, _ in SEQUENCES])
                for company in companies:
                    company._create_sequences()

    @classmethod
    def _migrate_payment_sequence(cls, module):
        """Payments were numbered by a plain sequence, which loses a number
        to every rolled-back payment: each becomes a strict sequence going
        on from the same next number"""
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        Strict = pool.get('ir.sequence.strict')
        ModelData = pool.get('ir.model.data')
        table = cls.__table_handler__(module)
        if not table.column_exist('payment_sequence'):
            return
        with without_check_access(), Transaction().set_context(
                active_test=False):
            try:
                type_id = ModelData.get_id(
                    'monitorbizz_business', 'sequence_type_payment')
            except KeyError:
                return
            plain = Sequence.search([('sequence_type', '=', type_id)])
            if not plain:
                return
            table.drop_fk('payment_sequence')
            cursor = Transaction().connection.cursor()
            company = cls.__table__()
            for sequence in plain:
                strict = Strict(name=sequence.name,
                    company=sequence.company, prefix=sequence.prefix,
                    suffix=sequence.suffix, padding=sequence.padding,
                    sequence_type=type_id,
                    number_next=sequence.number_next)
                strict.save()
                cursor.execute(*company.update([company.payment_sequence],
                        [strict.id],
                        where=company.payment_sequence == sequence.id))
            Sequence.delete(plain)

    def _create_warehouse(self):
        pool = Pool()
        Location = pool.get('stock.location')
        name = self.trade_name or self.party.name

        def location(name, type_, code=None, **kwargs):
            return Location(name=name, type=type_, code=code, company=self,
                **kwargs)

        warehouse = location(name, 'warehouse', code='WH',
            input_location=location("Input", 'storage'),
            output_location=location("Output", 'storage'),
            storage_location=location("Storage", 'storage'),
            production_location=location("Production", 'production'),
            lost_found_location=location("Scrap", 'lost_found'))
        # The five in one create, in the same order (and so with the same
        # ids) as one by one
        Location.save([getattr(warehouse, child) for child in [
                    'input_location', 'output_location', 'storage_location',
                    'production_location', 'lost_found_location']])
        warehouse.save()
        # Production and scrap stand beside the warehouse, as in Tryton's
        # own set-up: inside it, its stock would not go down when material
        # is consumed or counted short
        Location.write([getattr(warehouse, c) for c in [
                    'input_location', 'output_location',
                    'storage_location']],
            {'parent': warehouse.id})
        warehouse.waste_locations = [warehouse.lost_found_location]
        warehouse.save()
        self.warehouse = warehouse
        self.save()
        return warehouse

    def _create_employee(self, user):
        "The user works in the business as an employee (timesheets, shop)"
        pool = Pool()
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        User = pool.get('res.user')
        ContactMechanism = pool.get('party.contact_mechanism')
        party = Party(name=user.name or user.login, company=self)
        if user.email:
            party.contact_mechanisms = [
                ContactMechanism(type='email', value=user.email)]
        party.save()
        employee = Employee(party=party, company=self)
        employee.save()
        # res.user reads its company from the context: validate the user
        # in their own business, not in the one being set up.
        with Transaction().reset_context(), without_check_access():
            user = User(user.id)
            User.write([user], {'employees': [('add', [employee.id])]})
            if user.company == self and not user.employee:
                User.write([user], {'employee': employee.id})
        return employee

