"""HSN/SAC codes of products: GST law asks for them on every line of tax
documents (HSN for goods, SAC for services)."""
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import PoolMeta

from .account import MODULE
from .exceptions import HSNSACError

# HSN codes have 4, 6 or 8 digits; SAC codes are 6 digits of chapter 99,
# which HSN does not use.
HSN_LENGTHS = {4, 6, 8}
SAC_CHAPTER = '99'
SAC_LENGTH = 6


def hsn_sac_problem(code):
    "What is wrong with code as an HSN/SAC code, or None"
    if not code.isdigit() or not code.isascii():
        return 'digits'
    if code.startswith(SAC_CHAPTER):
        if len(code) != SAC_LENGTH:
            return 'sac_length'
    elif len(code) not in HSN_LENGTHS:
        return 'hsn_length'
    return None


class HSNSACMixin:
    "Checks and compacts the hsn_sac field of the model"
    __slots__ = ()

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('hsn_sac'):
            values = dict(values, hsn_sac=''.join(values['hsn_sac'].split()))
        return values

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if field_names is None or 'hsn_sac' in field_names:
            for record in records:
                record.check_hsn_sac()

    def check_hsn_sac(self):
        problem = self.hsn_sac and hsn_sac_problem(self.hsn_sac)
        if problem:
            raise HSNSACError(gettext(f'{MODULE}.msg_hsn_sac_{problem}',
                    code=self.hsn_sac, product=self.rec_name))


class Template(HSNSACMixin, metaclass=PoolMeta):
    __name__ = 'product.template'
    hsn_sac = fields.Char("HSN/SAC",
        help="The GST classification of the item: HSN code of goods "
        "(4, 6 or 8 digits) or SAC code of services (6 digits starting "
        "with 99).")
