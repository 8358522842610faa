from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .account import MODULE, GSTLineMixin, GSTTaxableMixin, is_gst_tax
from .exceptions import GSTError
from .product import HSNSACMixin

PATTERN_KEYS = [
    'from_country', 'from_subdivision', 'to_country', 'to_subdivision']


class Invoice(GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def _check_taxes(cls, invoices):
        super()._check_taxes(invoices)
        cls._check_gst_place_of_supply(invoices)

    @classmethod
    def _check_gst_place_of_supply(cls, invoices):
        pool = Pool()
        Country = pool.get('country.country')
        for invoice in invoices:
            side = 'to' if invoice.type == 'out' else 'from'
            for line in invoice.line_lines:
                if not any(is_gst_tax(t) for t in line.taxes):
                    continue
                pattern = line._get_tax_rule_pattern()
                country = pattern.get(f'{side}_country')
                if (country is not None
                        and Country(country).code == 'IN'
                        and not pattern.get(f'{side}_subdivision')):
                    raise GSTError(gettext(
                            f'{MODULE}.msg_gst_place_of_supply_state',
                            party=invoice.party.rec_name,
                            invoice=invoice.rec_name))


class InvoiceLine(
        HSNSACMixin, GSTLineMixin, GSTTaxableMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice.line'
    hsn_sac = fields.Char("HSN/SAC",
        states={
            'invisible': Eval('type') != 'line',
            'readonly': Eval('invoice_state') != 'draft',
            },
        help="GST classification of the line: the product's HSN/SAC code "
        "unless another is given.")

    @fields.depends('product')
    def on_change_product(self):
        super().on_change_product()
        if self.product:
            self.hsn_sac = self.product.template.hsn_sac

    def _credit(self):
        "The credit note's line keeps the classification it reverses"
        line = super()._credit()
        line.hsn_sac = self.hsn_sac
        return line

    @fields.depends(
        'invoice', 'invoice_type', 'party', 'company',
        '_parent_invoice.type', '_parent_invoice.invoice_address',
        '_parent_invoice.company')
    def _get_tax_rule_pattern(self):
        pattern = super()._get_tax_rule_pattern()
        # Without sale, purchase or stock origin, the place of supply is
        # given by the invoice address and the company address.
        if any(pattern.get(k) for k in PATTERN_KEYS):
            return pattern
        if self.invoice:
            type_ = self.invoice.type
            address = self.invoice.invoice_address
            company = self.invoice.company
        else:
            type_ = self.invoice_type
            address = (
                self.party.address_get(type='invoice') if self.party
                else None)
            company = self.company
        company_address = (
            company.party.address_get(type='invoice') if company else None)
        if type_ == 'out':
            from_address, to_address = company_address, address
        elif type_ == 'in':
            from_address, to_address = address, company_address
        else:
            return pattern
        for side, address in [('from', from_address), ('to', to_address)]:
            country = address.country if address else None
            subdivision = address.subdivision if address else None
            pattern[f'{side}_country'] = country.id if country else None
            pattern[f'{side}_subdivision'] = (
                subdivision.id if subdivision else None)
        return pattern
