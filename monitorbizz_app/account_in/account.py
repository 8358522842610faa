from decimal import ROUND_HALF_UP, Decimal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .exceptions import GSTError

MODULE = 'monitorbizz_account_in'
# Must match the tax templates of account.xml
GST_RATES = ('0', '5', '12', '18', '28')
# Template id → GST head; xml ids do not change once the module is loaded
_gst_head_cache = Cache('monitorbizz_account_in.gst_head', context=False)


def gst_groups():
    "Return the ids of the GST tax groups"
    ModelData = Pool().get('ir.model.data')
    return {
        ModelData.get_id(MODULE, 'tax_group_gst_sale'),
        ModelData.get_id(MODULE, 'tax_group_gst_purchase'),
        }


GST_HEADS = ('cgst', 'sgst', 'igst')


def gst_head(tax):
    """'cgst', 'sgst' or 'igst': the GST head tax is created from (by the
    xml id of its template, not by its name which a business may change),
    else None"""
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    if not tax.template:
        return None
    heads = _gst_head_cache.get(None)
    if heads is None:
        heads = {}
        for head in GST_HEADS:
            for rate in GST_RATES:
                for kind in ['sale', 'purchase']:
                    heads[ModelData.get_id(
                            MODULE, f'tax_{head}_{rate}_{kind}')] = head
        _gst_head_cache.set(None, heads)
    return heads.get(tax.template.id)


def is_gst_tax(tax):
    # Children of the composite taxes have no group, their parent has
    while tax.parent:
        tax = tax.parent
    return bool(tax.group) and tax.group.id in gst_groups()


class GSTTaxableMixin:
    __slots__ = ()

    @fields.depends('currency')
    def _compute_tax_line(self, amount, base, tax):
        taxline = super()._compute_tax_line(amount, base, tax)
        # A tax invoice prints each line's taxable value to the paisa and
        # the GST on it: the GST is taken on the rounded value (as the
        # customer checks it), halves up as the GST Act rounds tax.
        # Rounded per line, the document's GST is the sum of its lines'
        # whatever the tax rounding of the company.
        if (self.currency and tax.type == 'percentage'
                and is_gst_tax(tax)):
            taxline.amount = self.currency.round(
                taxline.base * tax.rate, rounding=ROUND_HALF_UP)
        return taxline

    @fields.depends('currency')
    def _round_taxes(self, taxes):
        if not self.currency:
            return super()._round_taxes(taxes)
        # GST is computed and rounded per tax head so that CGST always
        # equals SGST: do not spread the rounding remainder over the heads.
        others = {}
        for key, taxline in taxes.items():
            if is_gst_tax(taxline.tax):
                taxline.amount = self.currency.round(taxline.amount)
            else:
                others[key] = taxline
        super()._round_taxes(others)


class GSTLineMixin:
    "The GST heads of a taxable line, as its document prints them"
    __slots__ = ()
    cgst_amount = fields.Function(Monetary(
            "CGST", currency='currency', digits='currency'),
        'get_gst_amounts')
    sgst_amount = fields.Function(Monetary(
            "SGST", currency='currency', digits='currency'),
        'get_gst_amounts')
    igst_amount = fields.Function(Monetary(
            "IGST", currency='currency', digits='currency'),
        'get_gst_amounts')

    @classmethod
    def get_gst_amounts(cls, lines, names):
        amounts = {n: {} for n in names}
        for line in lines:
            values = line.gst_amounts()
            for name in names:
                amounts[name][line.id] = values[name]
        return amounts

    @property
    def hsn_sac_code(self):
        "The line's HSN/SAC code, else its product's"
        if self.hsn_sac:
            return self.hsn_sac
        if self.product:
            return self.product.template.hsn_sac or ''
        return ''

    def gst_amounts(self):
        "{'cgst_amount', 'sgst_amount', 'igst_amount'}: the line's GST"
        values = {f'{h}_amount': Decimal(0) for h in GST_HEADS}
        if self.type == 'line':
            for taxline in self._get_taxes().values():
                head = gst_head(taxline.tax)
                if head:
                    values[f'{head}_amount'] += taxline.amount
        return values


class TaxRule(metaclass=PoolMeta):
    __name__ = 'account.tax.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'create_gst_tax_rules': RPC(
                    readonly=False,
                    result=lambda rules: [r.id for r in rules]),
                })

    @classmethod
    def create_gst_tax_rules(cls, company, state=None):
        """Create the GST place of supply rules of company

        company and state are records or ids. state is the Indian state
        (country.subdivision) where the company is registered for GST; it
        defaults to the state of the company address.
        The customer rule keeps "GST x% (CGST+SGST)" when the customer
        address is in state and replaces it by "IGST x%" when it is in
        another Indian state; the supplier rule does the same with the
        supplier address and the input taxes. Both are set as default tax
        rules of the company for new parties.
        Return the customer and the supplier rules.
        """
        pool = Pool()
        Company = pool.get('company.company')
        Configuration = pool.get('account.configuration')
        ModelData = pool.get('ir.model.data')
        Subdivision = pool.get('country.subdivision')
        Tax = pool.get('account.tax')

        company = Company(int(company))
        if state is None:
            address = company.party.address_get(type='invoice')
            state = address.subdivision if address else None
            if not state:
                raise GSTError(gettext(
                        f'{MODULE}.msg_gst_state_missing',
                        company=company.rec_name))
        else:
            state = Subdivision(int(state))
        if state.country.code != 'IN':
            raise GSTError(gettext(
                    f'{MODULE}.msg_gst_state_not_indian',
                    state=state.rec_name))
        india = state.country

        with Transaction().set_context(company=company.id):
            config = Configuration(1)
            if (config.default_customer_tax_rule
                    or config.default_supplier_tax_rule):
                raise GSTError(gettext(
                        f'{MODULE}.msg_gst_tax_rules_exist',
                        company=company.rec_name))

        def get_tax(fs_id):
            taxes = Tax.search([
                    ('company', '=', company.id),
                    ('template', '=', ModelData.get_id(MODULE, fs_id)),
                    ], limit=1)
            if not taxes:
                raise GSTError(gettext(
                        f'{MODULE}.msg_gst_taxes_missing',
                        company=company.rec_name,
                        tax=fs_id))
            tax, = taxes
            return tax

        rules = []
        for kind, party_side, label in [
                ('sale', 'to', "customers"),
                ('purchase', 'from', "suppliers"),
                ]:
            group = ModelData.get_id(MODULE, f'tax_group_gst_{kind}')
            lines = []
            for rate in GST_RATES:
                gst = get_tax(f'tax_gst_{rate}_{kind}')
                igst = get_tax(f'tax_igst_{rate}_{kind}')
                intra_state = {
                    'sequence': 10,
                    'group': group,
                    f'{party_side}_country': india.id,
                    f'{party_side}_subdivision': state.id,
                    'tax': gst.id,
                    }
                lines.append({'origin_tax': gst.id, **intra_state})
                lines.append({'origin_tax': igst.id, **intra_state})
                # Any other Indian state, the line above matched first
                lines.append({
                        'sequence': 20,
                        'group': group,
                        f'{party_side}_country': india.id,
                        'origin_tax': gst.id,
                        'tax': igst.id,
                        })
            rules.append({
                    'name': f"GST place of supply for {label} "
                    f"({state.name})",
                    'kind': kind,
                    'company': company.id,
                    'lines': [('create', lines)],
                    })
        customer_rule, supplier_rule = cls.create(rules)

        with Transaction().set_context(company=company.id):
            config = Configuration(1)
            config.default_customer_tax_rule = customer_rule
            config.default_supplier_tax_rule = supplier_rule
            config.save()
        return customer_rule, supplier_rule


class AccountType(metaclass=PoolMeta):
    __name__ = 'account.account.type'

    kind = fields.Function(fields.Selection([
                (None, ""),
                ('asset', "Asset"),
                ('liability', "Liability"),
                ('equity', "Equity"),
                ('income', "Income"),
                ('expense', "Expense"),
                ], "Kind",
            help="Where the type's accounts stand in the accounts "
            "equation (assets = liabilities + equity + income - expense)"),
        'get_kind')

    @classmethod
    def get_kind(cls, types, name):
        """By the flags of the type and its parents, the Equity type of the
        chart, and for a heading the kind all its sub-types share"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        equity = ModelData.get_id(
            'monitorbizz_account_in', 'account_type_template_equity_in')
        every = cls.search([
                ('company', 'in', list({t.company.id for t in types}))])
        children = {}
        for type_ in every:
            if type_.parent:
                children.setdefault(type_.parent.id, []).append(type_)

        def own(type_):
            chain, parent = [], type_
            while parent:
                chain.append(parent)
                parent = parent.parent
            if any(t.revenue for t in chain):
                return 'income'
            elif any(t.expense for t in chain):
                return 'expense'
            elif any(t.assets for t in chain):
                return 'asset'
            elif any(t.template and t.template.id == equity for t in chain):
                return 'equity'

        def kind(type_):
            found = own(type_)
            if found or type_.statement != 'balance':
                return found
            below = {kind(c) for c in children.get(type_.id, [])}
            if len(below) == 1:
                return below.pop()
            return 'liability'
        return {t.id: kind(t) for t in types}


class CreateChart(metaclass=PoolMeta):
    __name__ = 'account.create_chart'

    def default_properties(self, fields):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        defaults = super().default_properties(fields)
        template = self.account.account_template
        # The chart has many revenue and expense accounts
        if template.id == ModelData.get_id(MODULE, 'account_template_root_in'):
            for field, name in [
                    ('category_account_expense', 'purchases'),
                    ('category_account_revenue', 'sales'),
                    ]:
                if field in fields and not defaults.get(field):
                    defaults[field] = self.get_account(
                        f'{MODULE}.account_template_{name}_in')
        return defaults
