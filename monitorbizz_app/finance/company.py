# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The finance settings of a business (company.company): the invoice method
of its orders, the bank account and UPI VPA printed on its tax invoices, its
reminder (dunning) procedure; provisioning sets them up, and a scheduled
task opens each business's next fiscal year before it is needed."""
import datetime as dt
import re

from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from ..business.isolation import _is_platform
from .exceptions import FinanceError

# Days past due of the reminder levels of a new business
DUNNING_DAYS = (7, 15, 30)
# How long before its end a fiscal year gets its successor
FISCAL_YEAR_LEAD = dt.timedelta(days=45)
INVOICE_METHODS = [
    ('order', "On Order"),
    ('fulfillment', "On Shipment"),
    ]
# A UPI virtual payment address: handle@provider
VPA_PATTERN = re.compile(r'[A-Za-z0-9.\-_]{2,256}@[A-Za-z][A-Za-z0-9]{1,63}')
IFSC_PATTERN = re.compile(r'[A-Z]{4}0[A-Z0-9]{6}')
# What owners and managers set with update_finance_settings
FINANCE_SETTINGS = {'invoice_method', 'upi_vpa', 'bank_account_name',
    'bank_name', 'bank_account_number', 'bank_ifsc'}


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'
    upi_vpa = fields.Char("UPI VPA",
        help="The UPI address (handle@provider) the invoices' QR code pays.")
    bank_account_name = fields.Char("Bank Account Name")
    bank_name = fields.Char("Bank")
    bank_account_number = fields.Char("Bank Account Number")
    bank_ifsc = fields.Char("IFSC")
    invoice_method = fields.Selection(INVOICE_METHODS, "Invoice Method",
        required=True,
        help="When the business's sales orders are invoiced: when the order "
        "is confirmed or as it is shipped.")
    dunning_procedure = fields.Many2One(
        'account.dunning.procedure', "Reminders", ondelete='RESTRICT',
        domain=[('company', '=', Eval('id', -1))],
        help="The reminder levels of the business's overdue invoices.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__['update_finance_settings'] = RPC(readonly=False)
        cls.__rpc__['create_next_fiscal_years'] = RPC(readonly=False,
            result=lambda years: [y.id for y in years])

    @classmethod
    def validate_fields(cls, companies, field_names):
        super().validate_fields(companies, field_names)
        if field_names is None or field_names & {'upi_vpa', 'bank_ifsc'}:
            for company in companies:
                if company.upi_vpa and not VPA_PATTERN.fullmatch(
                        company.upi_vpa):
                    raise FinanceError(gettext(
                            'monitorbizz_finance.msg_upi_vpa_invalid',
                            vpa=company.upi_vpa),
                        fields={'upi_vpa': 'handle@provider expected'})
                if company.bank_ifsc and not IFSC_PATTERN.fullmatch(
                        company.bank_ifsc):
                    raise FinanceError(gettext(
                            'monitorbizz_finance.msg_ifsc_invalid',
                            ifsc=company.bank_ifsc),
                        fields={'bank_ifsc': '11 characters, e.g. '
                            'HDFC0001234'})

    @classmethod
    def update_finance_settings(cls, company_id, values):
        """Change the invoicing settings of a business (owners and
        managers): invoice method, bank account, UPI address"""
        company = cls(company_id)
        cls.check_role(company, {'owner', 'manager'})
        unknown = sorted(set(values) - FINANCE_SETTINGS)
        if unknown:
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_finance_setting_unknown',
                    names=', '.join(unknown),
                    settings=', '.join(sorted(FINANCE_SETTINGS))),
                fields={n: 'not a finance setting' for n in unknown})
        with without_check_access():
            cls.write([company], values)

    @classmethod
    def default_invoice_method(cls):
        return 'order'

    @classmethod
    def provision(cls, values, owner=None):
        company_id = super().provision(values, owner=owner)
        company = cls(company_id)
        with without_check_access(), \
                Transaction().set_context(company=company_id):
            company._create_dunning_procedure()
        return company_id

    def _create_dunning_procedure(self, days=DUNNING_DAYS):
        pool = Pool()
        Procedure = pool.get('account.dunning.procedure')
        Level = pool.get('account.dunning.level')
        procedure = Procedure(name="Payment reminders", company=self,
            levels=[Level(sequence=i, overdue=dt.timedelta(days=d),
                    send_email=True, email_contact_mechanism='invoice')
                for i, d in enumerate(days, 1)])
        procedure.save()
        self.dunning_procedure = procedure
        self.save()
        return procedure

    # Fiscal years

    @classmethod
    def create_next_fiscal_years(cls, date=None):
        """Open for every business the fiscal year (with its periods and
        invoice sequences) that starts within FISCAL_YEAR_LEAD of date
        (today), and any missing one up to date"""
        pool = Pool()
        Date = pool.get('ir.date')
        FiscalYear = pool.get('account.fiscalyear')
        if Transaction().user and not _is_platform():
            raise AccessError(gettext(
                    'monitorbizz_finance.msg_fiscal_year_platform'))
        if date is None:
            date = Date.today()
        created = []
        with without_check_access():
            for company in cls.search([]):
                with Transaction().set_context(company=company.id):
                    while True:
                        last = FiscalYear.search([
                                ('company', '=', company.id),
                                ], order=[('end_date', 'DESC')], limit=1)
                        if not last:
                            break
                        last, = last
                        if last.end_date - date > FISCAL_YEAR_LEAD:
                            break
                        created.append(company._create_fiscal_year(
                                last.end_date + dt.timedelta(days=1)))
        return created


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('company.company|create_next_fiscal_years',
                "Open the Next Fiscal Year of Every Business"))
