# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Expenses of the workshop (seed section 3E, "Expense management"): what
it pays outside vendor bills — consumables bought for cash, wages, power,
repairs, rent — each in a category mapped to an expense account, numbered
EXP-<year>-NNN per business when posted.

Posting makes one balanced journal entry: the category's expense account
(and the input GST, when claimed on the vendor's GSTIN, through the
business's Tryton purchase taxes so that the tax codes count it) debited,
the cash, bank, UPI, cheque or card account of the payment method credited
— or the vendor's payable when not paid yet. Cancelling a posted expense
reverses its entry; only drafts are deleted. The receipt (a photo or a PDF)
is kept as an attachment of the expense."""
from decimal import ROUND_HALF_UP, Decimal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    Check, DeactivableMixin, ModelSQL, ModelView, Workflow, fields, tree)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access

from ..account_in.account import gst_head
from .exceptions import FinanceError
from .numbering import lock_numbering
from .payment import ACCOUNT_IN, PAYMENT_METHODS, post_reversal

KINDS = [
    ('material', "Material"),
    ('labor', "Labour"),
    ('overhead', "Overhead"),
    ('utilities', "Utilities"),
    ('maintenance', "Maintenance"),
    ]
# The expense account of the chart each base category posts to
KIND_ACCOUNTS = {
    'material': 'account_template_purchases_in',
    'labor': 'account_template_direct_wages_in',
    'overhead': 'account_template_other_expenses_in',
    'utilities': 'account_template_power_fuel_in',
    'maintenance': 'account_template_machine_maintenance_in',
    }
GST_RATES = [('0', "0 %"), ('5', "5 %"), ('12', "12 %"), ('18', "18 %"),
    ('28', "28 %")]
UNPAID = 'unpaid'
# A receipt is a photo or a PDF, known by its first bytes (not its name)
RECEIPT_SIZE_MAX = 5 * 1024 * 1024
RECEIPT_TYPES = [
    (b'\x89PNG\r\n\x1a\n', 'png'),
    (b'\xff\xd8\xff', 'jpg'),
    (b'%PDF-', 'pdf'),
    ]

_DRAFT = {'readonly': Eval('state') != 'draft'}


def receipt_extension(data):
    "The file extension of a receipt's content, None when not accepted"
    for signature, extension in RECEIPT_TYPES:
        if data.startswith(signature):
            return extension
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'webp'
    return None


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'
    expense_sequence = fields.Many2One('ir.sequence.strict',
        "Expense Sequence", readonly=True,
        domain=[('company', '=', Eval('id', -1))])

    def _create_chart(self):
        super()._create_chart()
        self.create_expense_setup()

    def create_expense_setup(self):
        """The base expense categories and the EXP numbering the business
        lacks (new businesses at provisioning, older ones at their first
        expense)"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Account = pool.get('account.account')
        Category = pool.get('monitorbizz.finance.expense.category')
        Sequence = pool.get('ir.sequence.strict')
        with without_check_access(), Transaction().set_context(
                company=self.id, active_test=False):
            if not self.expense_sequence:
                self.expense_sequence = Sequence(name="EXP numbers",
                    company=self, prefix='EXP-${year}-', padding=3,
                    sequence_type=ModelData.get_id(
                        'monitorbizz_finance', 'sequence_type_expense'))
                self.expense_sequence.save()
                self.save()
            have = {c.kind for c in Category.search([
                        ('company', '=', self.id),
                        ('parent', '=', None),
                        ])}
            new = []
            for kind, name in KINDS:
                if kind in have:
                    continue
                account = Account.search([
                        ('company', '=', self.id),
                        ('template', '=', ModelData.get_id(
                                ACCOUNT_IN, KIND_ACCOUNTS[kind])),
                        ], limit=1)
                if not account:
                    continue  # not a chart of Monitorbizz
                new.append(Category(company=self, name=name, kind=kind,
                        account=account[0]))
            Category.save(new)


class ExpenseCategory(DeactivableMixin, tree(separator=' / '), ModelSQL,
        ModelView):
    "What an expense is spent on: a base category or the business's own "
    "subcategory of one, with the expense account it posts to"
    __name__ = 'monitorbizz.finance.expense.category'
    company = fields.Many2One('company.company', "Business", required=True,
        ondelete='CASCADE')
    name = fields.Char("Name", required=True, translate=True)
    parent = fields.Many2One('monitorbizz.finance.expense.category',
        "Parent", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('parent', '=', None),
            ])
    childs = fields.One2Many('monitorbizz.finance.expense.category',
        'parent', "Subcategories", readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True,
        states={'readonly': Bool(Eval('parent'))})
    account = fields.Many2One('account.account', "Expense Account",
        required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type.expense', '=', True),
            ('closed', '!=', True),
            ],
        context={'company': Eval('company', -1)}, depends={'company'})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('kind', 'ASC'), ('parent', 'ASC NULLS FIRST'),
            ('name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('parent', 'kind', 'account', '_parent_parent.kind',
        '_parent_parent.account')
    def on_change_parent(self):
        if self.parent:
            self.kind = self.parent.kind
            if not self.account:
                self.account = self.parent.account

    @classmethod
    def validate_fields(cls, categories, field_names):
        super().validate_fields(categories, field_names)
        for category in categories:
            if category.parent and category.parent.kind != category.kind:
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_expense_category_kind',
                        category=category.rec_name,
                        parent=category.parent.rec_name),
                    fields={'kind': 'must be the parent category\'s'},
                    code='category_kind')


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['monitorbizz.finance.expense']


class Expense(Workflow, ModelSQL, ModelView):
    "An expense paid (or owed) by the workshop"
    __name__ = 'monitorbizz.finance.expense'
    _rec_name = 'number'
    company = fields.Many2One('company.company', "Business", required=True,
        ondelete='RESTRICT', states=_DRAFT)
    number = fields.Char("Number", readonly=True,
        help="EXP-<year>-NNN, given when the expense is posted.")
    category = fields.Many2One('monitorbizz.finance.expense.category',
        "Category", required=True, ondelete='RESTRICT', states=_DRAFT,
        domain=[('company', '=', Eval('company', -1))])
    kind = fields.Function(fields.Selection(KINDS, "Kind"), 'get_kind',
        searcher='search_kind')
    expense_date = fields.Date("Date", required=True, states=_DRAFT)
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True, states=_DRAFT,
        help="What the expense costs before GST.")
    gst_rate = fields.Selection(GST_RATES, "GST Rate", required=True,
        sort=False, states=_DRAFT)
    interstate = fields.Boolean("Inter-State (IGST)", states=_DRAFT,
        help="Bought from another state: IGST instead of CGST and SGST.")
    claim_gst = fields.Boolean("Claim Input GST",
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': Eval('gst_rate') == '0',
            },
        help="Take the GST as input tax credit (the vendor's GSTIN is "
        "required); otherwise it is part of the cost.")
    cgst_amount = fields.Function(Monetary("CGST", currency='currency',
            digits='currency'), 'on_change_with_cgst_amount')
    sgst_amount = fields.Function(Monetary("SGST", currency='currency',
            digits='currency'), 'on_change_with_sgst_amount')
    igst_amount = fields.Function(Monetary("IGST", currency='currency',
            digits='currency'), 'on_change_with_igst_amount')
    total_amount = fields.Function(Monetary("Total", currency='currency',
            digits='currency'), 'on_change_with_total_amount')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    vendor = fields.Many2One('party.party', "Vendor", states=_DRAFT,
        context={'company': Eval('company', -1)}, depends={'company'})
    vendor_gstin = fields.Function(fields.Char("Vendor GSTIN"),
        'on_change_with_vendor_gstin')
    payment_method = fields.Selection(
        PAYMENT_METHODS + [(UNPAID, "Not Paid Yet")], "Payment Method",
        required=True, states=_DRAFT,
        help="How it was paid; not paid yet, it is owed to the vendor.")
    method = fields.Many2One('account.invoice.payment.method', "Account",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('method_type', '=', Eval('payment_method')),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': Eval('payment_method') == UNPAID,
            },
        help="The journal and account paid from; the business's own for "
        "the payment method when left empty.")
    reference_number = fields.Char("Reference Number", states=_DRAFT,
        help="Bill number, UPI transaction id, cheque number...")
    description = fields.Char("Description", states=_DRAFT)
    receipt = fields.Function(fields.Binary("Receipt",
            filename='receipt_name'), 'get_receipt', setter='set_receipt')
    receipt_name = fields.Function(fields.Char("Receipt Name"),
        'get_receipt_name')
    move = fields.Many2One('account.move', "Journal Entry", readonly=True,
        domain=[('company', '=', Eval('company', -1))])
    cancel_move = fields.Many2One('account.move', "Reversal Entry",
        readonly=True, domain=[('company', '=', Eval('company', -1))],
        states={'invisible': ~Eval('cancel_move')})
    state = fields.Selection([
            ('draft', "Draft"),
            ('posted', "Posted"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)

    # the business's purchase tax of a GST head and rate (a list reads one
    # per expense)
    _gst_tax_cache = Cache('monitorbizz.finance.expense.gst_tax',
        context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('amount_positive', Check(t, t.amount > 0),
                'monitorbizz_finance.msg_expense_amount_positive'),
            ]
        cls._order = [('expense_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'posted'),
            ('posted', 'cancelled'),
            }
        cls._buttons.update({
                'post': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'posted',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_expense_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_gst_rate(cls):
        return '0'

    @classmethod
    def default_interstate(cls):
        return False

    @classmethod
    def default_claim_gst(cls):
        return False

    @classmethod
    def default_payment_method(cls):
        return 'cash'

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @fields.depends('vendor')
    def on_change_with_vendor_gstin(self, name=None):
        if self.vendor:
            for identifier in self.vendor.identifiers:
                if identifier.type == 'in_vat':
                    return identifier.code

    @fields.depends('vendor', 'company', 'claim_gst',
        methods=['on_change_with_vendor_gstin'])
    def on_change_vendor(self):
        "Inter-state when the vendor's state is not the business's"
        if not self.vendor or not self.company:
            return
        address = self.vendor.address_get(type='invoice')
        state = address.subdivision if address else None
        if state and self.company.state:
            self.interstate = state != self.company.state
        self.claim_gst = bool(self.on_change_with_vendor_gstin())

    def get_kind(self, name):
        return self.category.kind if self.category else None

    @classmethod
    def search_kind(cls, name, clause):
        return [('category.kind',) + tuple(clause[1:])]

    def get_rec_name(self, name):
        return self.number or f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        return ['OR',
            ('number', operator, value),
            ('reference_number', operator, value),
            ('description', operator, value),
            ]

    # GST

    def gst_tax(self):
        """The business's purchase tax of the rate (CGST+SGST or IGST),
        None at 0 % or when the GST is not claimed"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Tax = pool.get('account.tax')
        if self.gst_rate == '0' or not self.claim_gst or not self.company:
            return None
        head = 'igst' if self.interstate else 'gst'
        key = (self.company.id, head, self.gst_rate)
        tax_id = self._gst_tax_cache.get(key, -1)
        if tax_id == -1:
            with without_check_access():
                taxes = Tax.search([
                        ('company', '=', self.company.id),
                        ('template', '=', ModelData.get_id(ACCOUNT_IN,
                                f'tax_{head}_{self.gst_rate}_purchase')),
                        ], limit=1)
            tax_id = self._gst_tax_cache.set(
                key, taxes[0].id if taxes else None)
        return Tax(tax_id) if tax_id is not None else None

    def gst_lines(self):
        """[(tax, amount)] of each GST head, rounded to the paisa each (the
        figures a vendor's bill prints)"""
        tax = self.gst_tax()
        if tax is None:
            return []
        currency = self.company.currency
        # halves up, as the GST Act rounds tax (and account_in the invoices')
        return [(child, currency.round(self.amount * child.rate,
                    rounding=ROUND_HALF_UP))
            for child in (tax.childs or [tax])]

    def _gst(self):
        "{head: amount} and the total of the expense"
        heads = {'cgst': Decimal(0), 'sgst': Decimal(0), 'igst': Decimal(0)}
        if self.amount is None or not self.company:
            return heads, None
        if not self.claim_gst:
            # not claimed, the GST paid is part of the cost
            rate = Decimal(self.gst_rate or '0') / 100
            return heads, self.amount + self.company.currency.round(
                self.amount * rate, rounding=ROUND_HALF_UP)
        for tax, amount in self.gst_lines():
            heads[gst_head(tax)] += amount
        return heads, self.amount + sum(heads.values())

    @fields.depends('amount', 'gst_rate', 'claim_gst', 'interstate',
        'company')
    def on_change_with_cgst_amount(self, name=None):
        return self._gst()[0]['cgst']

    @fields.depends('amount', 'gst_rate', 'claim_gst', 'interstate',
        'company')
    def on_change_with_sgst_amount(self, name=None):
        return self._gst()[0]['sgst']

    @fields.depends('amount', 'gst_rate', 'claim_gst', 'interstate',
        'company')
    def on_change_with_igst_amount(self, name=None):
        return self._gst()[0]['igst']

    @fields.depends('amount', 'gst_rate', 'claim_gst', 'interstate',
        'company')
    def on_change_with_total_amount(self, name=None):
        return self._gst()[1]

    # Receipt

    def _receipt_attachment(self):
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        attachments = Attachment.search([
                ('resource', '=', str(self)),
                ('name', 'like', 'receipt.%'),
                ], limit=1)
        return attachments[0] if attachments else None

    @classmethod
    def get_receipt(cls, expenses, name):
        result = {}
        for expense in expenses:
            attachment = expense._receipt_attachment()
            result[expense.id] = attachment.data if attachment else None
        return result

    def get_receipt_name(self, name):
        attachment = self._receipt_attachment()
        return attachment.name if attachment else None

    @classmethod
    def set_receipt(cls, expenses, name, value):
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        if value is not None:
            value = bytes(value)
            cls.check_receipt(value)
        for expense in expenses:
            old = expense._receipt_attachment()
            if old:
                Attachment.delete([old])
            if value:
                Attachment.create([{
                            'resource': str(expense),
                            'name': f'receipt.{receipt_extension(value)}',
                            'type': 'data',
                            'data': value,
                            }])

    @classmethod
    def check_receipt(cls, data):
        if not data:
            return
        if len(data) > RECEIPT_SIZE_MAX:
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_expense_receipt_size',
                    size=len(data), limit=RECEIPT_SIZE_MAX),
                fields={'receipt': 'larger than 5 MiB'},
                code='receipt_too_large')
        if not receipt_extension(data):
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_expense_receipt_type'),
                fields={'receipt': 'not a PNG, JPEG, WebP or PDF file'},
                code='receipt_type')

    # Checks

    @classmethod
    def validate_fields(cls, expenses, field_names):
        super().validate_fields(expenses, field_names)
        for expense in expenses:
            expense.check_expense()

    def check_expense(self):
        pool = Pool()
        Date = pool.get('ir.date')
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        if self.expense_date > today:
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_expense_future',
                    expense=self.rec_name, date=self.expense_date),
                fields={'expense_date': 'after today'},
                code='expense_future')
        if self.category.company != self.company:
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_expense_category_business',
                    category=self.category.rec_name),
                fields={'category': 'of another business'},
                code='category_business')
        if self.payment_method == UNPAID and not self.vendor:
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_expense_unpaid_vendor',
                    expense=self.rec_name),
                fields={'vendor': 'required when not paid yet'},
                code='vendor_required')
        if (self.claim_gst and self.gst_rate != '0'
                and not self.on_change_with_vendor_gstin()):
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_expense_claim_gstin',
                    expense=self.rec_name),
                fields={'claim_gst': 'the vendor has no GSTIN'},
                code='gstin_required')

    @classmethod
    def check_modification(cls, mode, expenses, values=None, external=False):
        super().check_modification(
            mode, expenses, values=values, external=external)
        if mode == 'delete':
            for expense in expenses:
                if expense.state != 'draft':
                    raise FinanceError(gettext(
                            'monitorbizz_finance.msg_expense_delete_draft',
                            expense=expense.rec_name),
                        code='expense_not_draft')
        elif mode == 'write' and external and (
                values.keys() - {'receipt'}):
            for expense in expenses:
                if expense.state != 'draft':
                    raise FinanceError(gettext(
                            'monitorbizz_finance.msg_expense_modify_draft',
                            expense=expense.rec_name),
                        code='expense_not_draft')

    @classmethod
    def copy(cls, expenses, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'move', 'cancel_move']:
            default.setdefault(name, None)
        default.setdefault('state', 'draft')
        default.setdefault('expense_date', cls.default_expense_date())
        return super().copy(expenses, default=default)

    # Workflow

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, expenses):
        "Number the expense and post its journal entry"
        lock_numbering([(e.company, e.method.journal if e.method else None,
                    e.expense_date) for e in expenses],
            [e.company.expense_sequence for e in expenses])
        for expense in sorted(expenses, key=lambda e: (e.expense_date, e.id)):
            expense._post()
        cls.save(expenses)

    def _post(self):
        self.company.create_expense_setup()
        if self.payment_method != UNPAID and not self.method:
            self.method = self.company.create_payment_methods().get(
                self.payment_method)
            if not self.method:
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_payment_no_method',
                        business=self.company.rec_name,
                        method=self.payment_method))
        with Transaction().set_context(
                date=self.expense_date, company=self.company.id):
            self.number = self.company.expense_sequence.get()
        self.move = self._post_move()

    def _post_move(self):
        pool = Pool()
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        TaxLine = pool.get('account.tax.line')
        Period = pool.get('account.period')
        Journal = pool.get('account.journal')
        date = self.expense_date
        _, total = self._gst()
        gst = self.gst_lines()
        cost = total - sum(a for _, a in gst)
        expense_line = Line(account=self.category.account.current(date=date),
            debit=cost, credit=0,
            tax_lines=[TaxLine(tax=t, amount=self.amount, type='base')
                for t, _ in gst])
        lines = [expense_line]
        for tax, amount in gst:
            lines.append(Line(account=tax.invoice_account.current(date=date),
                    debit=amount, credit=0,
                    tax_lines=[TaxLine(tax=tax, amount=amount, type='tax')]))
        if self.payment_method == UNPAID:
            with Transaction().set_context(company=self.company.id):
                payable = self.vendor.account_payable_used
            if not payable:
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_payment_no_party_account',
                        party=self.vendor.rec_name))
            credit = Line(account=payable, party=self.vendor)
            journal, = Journal.search([('type', '=', 'expense')], limit=1)
        else:
            credit = Line(account=self.method.credit_account.current(
                    date=date))
            if credit.account.party_required:
                credit.party = self.vendor
            journal = self.method.journal
        credit.debit, credit.credit = 0, total
        lines.append(credit)
        for line in lines:
            if line.account.party_required and not getattr(
                    line, 'party', None):
                line.party = self.vendor
        move = Move(journal=journal,
            period=Period.find(self.company, date=date), date=date,
            origin=self, company=self.company,
            description=self._description, lines=lines)
        move.save()
        Move.post([move])
        return move

    @property
    def _description(self):
        parts = [self.number, self.category.rec_name]
        if self.description:
            parts.append(self.description)
        if self.reference_number:
            parts.append(self.reference_number)
        return ' '.join(parts)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, expenses):
        "Reverse the posted entry; the expense stays, cancelled"
        for expense in expenses:
            expense.cancel_move = expense._reverse()
        cls.save(expenses)

    def _reverse(self):
        move = self.move
        if any(l.reconciliation for l in move.lines):
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_expense_cancel_paid',
                    expense=self.rec_name),
                code='expense_paid')
        return post_reversal(move, self, gettext(
                'monitorbizz_finance.msg_expense_reversal',
                expense=self.rec_name))
