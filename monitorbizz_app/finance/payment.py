# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Payments received from customers and paid to vendors (seed section 3D):
each is one balanced journal entry made by Tryton's Invoice.pay_invoice on
the journal and account of its payment method, reconciled with the
invoice's receivable (or payable) lines; voiding or a bounced cheque
cancels the entry and reopens the invoice."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Check, ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access

from .exceptions import FinanceError
from .numbering import lock_numbering


PAYMENT_METHODS = [
    ('cash', "Cash"),
    ('upi', "UPI"),
    ('bank_transfer', "Bank Transfer"),
    ('cheque', "Cheque"),
    ('card', "Card"),
    ]
ACCOUNT_IN = 'monitorbizz_account_in'
# The Tryton payment method of each way of paying a new business gets:
# journal, account debited when money comes in, account credited when it
# goes out (a business pays vendors by cash or from its bank account).
METHOD_SETUP = {
    'cash': ('account.journal_cash',
        'account_template_cash_in', 'account_template_cash_in'),
    'upi': ('monitorbizz_finance.journal_upi',
        'account_template_upi_clearing_in', 'account_template_bank_in'),
    'bank_transfer': ('monitorbizz_finance.journal_bank',
        'account_template_bank_in', 'account_template_bank_in'),
    'cheque': ('monitorbizz_finance.journal_cheque',
        'account_template_cheques_in_hand_in', 'account_template_bank_in'),
    'card': ('monitorbizz_finance.journal_card',
        'account_template_card_clearing_in', 'account_template_bank_in'),
    }

_DRAFT = {'readonly': Eval('state') != 'draft'}


def post_reversal(move, document, description):
    """Post the reversal of the posted move of document (a payment, an
    expense) dated today, reconciled with it on its reconcilable accounts;
    returns the reversal"""
    pool = Pool()
    Date = pool.get('ir.date')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')
    company = document.company
    with Transaction().set_context(company=company.id):
        today = Date.today()
    cancel_move = move.cancel(default={
            'date': today,
            'period': Period.find(company, date=today).id,
            'origin': str(document),
            'description': description,
            }, reversal=True)
    Move.post([cancel_move])
    to_reconcile = {}
    for line in move.lines + cancel_move.lines:
        if line.account.reconcile:
            to_reconcile.setdefault(
                (line.account, line.party), []).append(line)
    MoveLine.reconcile(*to_reconcile.values(), date=today)
    return cancel_move


class PaymentError(FinanceError):
    """A refused payment; fields names the fields at fault ({field:
    problem}) and code says why, as FinanceError"""


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    def _create_chart(self):
        super()._create_chart()
        self.create_payment_methods()

    def create_payment_methods(self):
        """Give the business the accounts and payment methods of each way of
        paying it lacks (new businesses at provisioning, older ones when
        they first take a payment). Returns {method type: payment method}"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Account = pool.get('account.account')
        AccountType = pool.get('account.account.type')
        AccountTemplate = pool.get('account.account.template')
        PaymentMethod = pool.get('account.invoice.payment.method')

        with without_check_access(), Transaction().set_context(
                company=self.id, active_test=False):
            methods = {}
            for method in PaymentMethod.search([
                        ('company', '=', self.id),
                        ('method_type', '!=', None),
                        ], order=[('active', 'DESC'), ('id', 'ASC')]):
                methods.setdefault(method.method_type, method)
            missing = [t for t, _ in PAYMENT_METHODS if t not in methods]
            if not missing:
                return methods
            root = AccountTemplate(ModelData.get_id(
                    ACCOUNT_IN, 'account_template_root_in'))
            template2account = {a.template.id: a.id for a in Account.search([
                        ('company', '=', self.id),
                        ('template', '!=', None),
                        ])}
            if root.id not in template2account:
                # Not a chart of Monitorbizz: nothing to build on
                return methods
            template2type = {t.template.id: t.id for t in AccountType.search([
                        ('company', '=', self.id),
                        ('template', '!=', None),
                        ])}
            # Tryton's update of a chart: only the missing accounts
            root.create_account(self.id, template2account=template2account,
                template2type=template2type)
            names = dict(PAYMENT_METHODS)
            new = []
            for type_ in missing:
                journal, debit, credit = METHOD_SETUP[type_]
                module, fs_id = journal.split('.')
                new.append(PaymentMethod(company=self, name=names[type_],
                        method_type=type_,
                        journal=ModelData.get_id(module, fs_id),
                        debit_account=template2account[
                            ModelData.get_id(ACCOUNT_IN, debit)],
                        credit_account=template2account[
                            ModelData.get_id(ACCOUNT_IN, credit)]))
            PaymentMethod.save(new)
            methods.update((m.method_type, m) for m in new)
        return methods


class PaymentMethod(metaclass=PoolMeta):
    __name__ = 'account.invoice.payment.method'
    method_type = fields.Selection([(None, "")] + PAYMENT_METHODS,
        "Payment Method Type",
        help="The way of paying the method stands for in the business's "
        "payments.")


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['monitorbizz.finance.payment']


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'
    payments = fields.One2Many(
        'monitorbizz.finance.payment', 'invoice', "Payments", readonly=True)


class Payment(Workflow, ModelSQL, ModelView):
    "A payment received from a customer or paid to a vendor"
    __name__ = 'monitorbizz.finance.payment'
    _rec_name = 'number'
    company = fields.Many2One(
        'company.company', "Business", required=True, ondelete='RESTRICT',
        states=_DRAFT)
    number = fields.Char("Number", readonly=True,
        help="PAY-<year>-NNN, given when the payment is recorded.")
    kind = fields.Selection([
            ('receipt', "Received from Customer"),
            ('disbursement', "Paid to Vendor"),
            ], "Kind", required=True, states=_DRAFT)
    party = fields.Many2One('party.party', "Party", required=True,
        states=_DRAFT, context={'company': Eval('company', -1)},
        depends={'company'})
    invoice = fields.Many2One('account.invoice', "Invoice",
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('state') == 'draft',
                [('state', '=', 'posted'),
                    ('type', '=',
                        If(Eval('kind') == 'disbursement', 'in', 'out')),
                    If(Bool(Eval('party')),
                        ('party', '=', Eval('party', -1)), ()),
                    ],
                []),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            'required': ~Eval('advance', False),
            },
        help="The customer invoice or vendor bill the payment settles.")
    payment_date = fields.Date("Payment Date", required=True, states=_DRAFT)
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True, states=_DRAFT)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    payment_method = fields.Selection(PAYMENT_METHODS, "Payment Method",
        required=True, states=_DRAFT)
    method = fields.Many2One('account.invoice.payment.method', "Account",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('method_type', '=', Eval('payment_method')),
            ],
        states=_DRAFT,
        help="The journal and account the payment is posted to; "
        "the business's own for the payment method when left empty.")
    reference_number = fields.Char("Reference Number", states=_DRAFT,
        help="UPI transaction id, cheque number, bank reference...")
    notes = fields.Text("Notes")
    advance = fields.Boolean("Advance on Account", states=_DRAFT,
        help="What is paid above the invoice's balance, or the whole "
        "payment without an invoice, stays on the party's account.")
    invoice_balance = fields.Function(Monetary("Invoice Balance",
            currency='currency', digits='currency'), 'get_invoice_balance')
    move = fields.Many2One('account.move', "Journal Entry", readonly=True,
        domain=[('company', '=', Eval('company', -1))])
    clearing_move = fields.Many2One('account.move', "Clearing Entry",
        readonly=True, domain=[('company', '=', Eval('company', -1))],
        states={'invisible': ~Eval('clearing_move')})
    cancel_move = fields.Many2One('account.move', "Reversal Entry",
        readonly=True, domain=[('company', '=', Eval('company', -1))],
        states={'invisible': ~Eval('cancel_move')})
    state = fields.Selection([
            ('draft', "Draft"),
            ('posted', "Recorded"),
            ('cleared', "Cleared"),
            ('bounced', "Bounced"),
            ('voided', "Voided"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('amount_positive', Check(t, t.amount > 0),
                'monitorbizz_finance.msg_payment_amount_positive'),
            ]
        cls._order = [('payment_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'posted'),
            ('posted', 'voided'),
            ('posted', 'cleared'),
            ('posted', 'bounced'),
            }
        cheque_received = ((Eval('payment_method') == 'cheque')
            & (Eval('kind') == 'receipt'))
        cls._buttons.update({
                'post': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'void': {
                    'invisible': Eval('state') != 'posted',
                    'depends': ['state'],
                    },
                'clear': {
                    'invisible': ((Eval('state') != 'posted')
                        | ~cheque_received),
                    'depends': ['state', 'payment_method', 'kind'],
                    },
                'bounce': {
                    'invisible': ((Eval('state') != 'posted')
                        | ~cheque_received),
                    'depends': ['state', 'payment_method', 'kind'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_kind(cls):
        return 'receipt'

    @classmethod
    def default_payment_method(cls):
        return 'bank_transfer'

    @classmethod
    def default_advance(cls):
        return False

    @classmethod
    def default_payment_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_invoice_balance(self, name):
        if self.invoice:
            return self.invoice.amount_to_pay

    @fields.depends('invoice', 'party', 'amount', 'kind')
    def on_change_invoice(self):
        if self.invoice:
            self.party = self.invoice.party
            self.kind = ('disbursement' if self.invoice.type == 'in'
                else 'receipt')
            if self.amount is None:
                self.amount = self.invoice.amount_to_pay

    @fields.depends('company', 'payment_method', 'method')
    def on_change_payment_method(self):
        if (self.method and self.method.method_type != self.payment_method):
            self.method = None

    def get_rec_name(self, name):
        return self.number or f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        return ['OR',
            ('number', operator, value),
            ('reference_number', operator, value),
            ]

    @classmethod
    def validate_fields(cls, payments, field_names):
        super().validate_fields(payments, field_names)
        for payment in payments:
            payment.check_invoice()

    def check_invoice(self):
        if self.invoice and (self.invoice.party != self.party
                or self.invoice.company != self.company):
            raise PaymentError(gettext(
                    'monitorbizz_finance.msg_payment_invoice_party',
                    payment=self.rec_name, invoice=self.invoice.rec_name,
                    party=self.party.rec_name))

    @classmethod
    def check_modification(cls, mode, payments, values=None, external=False):
        super().check_modification(
            mode, payments, values=values, external=external)
        if mode == 'delete':
            for payment in payments:
                if payment.state != 'draft':
                    raise PaymentError(gettext(
                            'monitorbizz_finance.msg_payment_delete_draft',
                            payment=payment.rec_name))

    @classmethod
    def copy(cls, payments, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'move', 'clearing_move', 'cancel_move']:
            default.setdefault(name, None)
        default.setdefault('state', 'draft')
        return super().copy(payments, default=default)

    # Workflow

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, payments):
        "Record the payment: number it and post its journal entry"
        lock_numbering([(p.company, p.method.journal if p.method else None,
                    p.payment_date) for p in payments],
            [p.company.payment_sequence for p in payments])
        for payment in sorted(payments, key=lambda p: (p.payment_date, p.id)):
            payment._post()
            payment.save()

    def _post(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        if not self.method:
            self.method = self.company.create_payment_methods().get(
                self.payment_method)
            if not self.method:
                raise PaymentError(gettext(
                        'monitorbizz_finance.msg_payment_no_method',
                        business=self.company.rec_name,
                        method=self.payment_method))
        if self.invoice:
            # Its balance as it is now: another payment may have just been
            # recorded on it
            Invoice.lock([self.invoice])
            invoice = Invoice(self.invoice.id)
            overpayment = self._overpayment(invoice)
            self.number = self._next_number()
            self.move = self._pay_invoice(invoice, overpayment)
        else:
            self.number = self._next_number()
            self.move = self._pay_on_account()

    def _next_number(self):
        sequence = self.company.payment_sequence
        if not sequence:
            raise PaymentError(gettext(
                    'monitorbizz_finance.msg_payment_no_sequence',
                    business=self.company.rec_name))
        with Transaction().set_context(
                date=self.payment_date, company=self.company.id):
            return sequence.get()

    @property
    def _description(self):
        names = dict(PAYMENT_METHODS)
        description = f'{self.number} {names[self.payment_method]}'
        if self.reference_number:
            description += f' {self.reference_number}'
        return description

    def _overpayment(self, invoice):
        """What is paid above the invoice's balance (an advance); raise
        when the payment cannot be set against the invoice"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        balance = invoice.amount_to_pay
        if invoice.state != 'posted' or balance <= 0:
            raise PaymentError(gettext(
                    'monitorbizz_finance.msg_payment_invoice_not_open',
                    invoice=invoice.rec_name),
                fields={'invoice': 'no balance to pay'},
                code='invoice_not_open')
        if self.amount <= balance:
            return Decimal(0)
        if not self.advance:
            lang = Lang.get()
            raise PaymentError(gettext(
                    'monitorbizz_finance.msg_payment_above_balance',
                    amount=lang.currency(self.amount, invoice.currency),
                    invoice=invoice.rec_name,
                    balance=lang.currency(balance, invoice.currency)),
                fields={'amount': f'above the balance {balance}'},
                code='payment_above_balance')
        # The excess stays on the party's account, unreconciled
        return self.amount - balance

    def _pay_invoice(self, invoice, overpayment):
        "Tryton's payment of the invoice; returns the posted journal entry"
        lines = invoice.pay_invoice(self.amount, self.method,
            self.payment_date, description=self._description,
            overpayment=overpayment)
        move = lines[0].move
        self._reconcile_invoice()
        return move

    def _reconcile_invoice(self):
        """Reconcile the invoice's lines with its payments when they settle
        it (the last payment marks it paid); a part payment stays open"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        invoice = Invoice(self.invoice.id)
        lines = [l for l in invoice.lines_to_pay + invoice.payment_lines
            if not l.reconciliation
            and (not invoice.account.party_required
                or l.party == invoice.party)]
        if lines and not sum(l.debit - l.credit for l in lines):
            MoveLine.reconcile(lines, date=self.payment_date)
            Invoice.process([invoice])

    def _pay_on_account(self):
        """An advance without an invoice: cash or bank against the party's
        receivable (customer) or payable (vendor), left open to be set
        against a later invoice"""
        pool = Pool()
        Line = pool.get('account.move.line')
        with Transaction().set_context(company=self.company.id):
            if self.kind == 'receipt':
                party_account = self.party.account_receivable_used
                counterpart = self.method.debit_account
            else:
                party_account = self.party.account_payable_used
                counterpart = self.method.credit_account
        if not party_account:
            raise PaymentError(gettext(
                    'monitorbizz_finance.msg_payment_no_party_account',
                    party=self.party.rec_name))
        counterpart = counterpart.current(date=self.payment_date)
        amount = self.amount
        party_line = Line(account=party_account, party=self.party)
        money_line = Line(account=counterpart)
        if self.kind == 'receipt':
            party_line.debit, party_line.credit = 0, amount
            money_line.debit, money_line.credit = amount, 0
        else:
            party_line.debit, party_line.credit = amount, 0
            money_line.debit, money_line.credit = 0, amount
        if counterpart.party_required:
            money_line.party = self.party
        return self._post_move(self.payment_date, self._description,
            [party_line, money_line])

    def _post_move(self, date, description, lines):
        "Post the journal entry of lines on the method's journal"
        pool = Pool()
        Move = pool.get('account.move')
        Period = pool.get('account.period')
        move = Move(journal=self.method.journal,
            period=Period.find(self.company, date=date), date=date,
            origin=self, company=self.company, description=description,
            lines=lines)
        move.save()
        Move.post([move])
        return move

    @classmethod
    @ModelView.button
    @Workflow.transition('voided')
    def void(cls, payments):
        "Reverse the payment's entry and reopen its invoice"
        cls._reverse_payments(payments)

    @classmethod
    @ModelView.button
    @Workflow.transition('bounced')
    def bounce(cls, payments):
        "The cheque was dishonoured: reverse it, the invoice is due again"
        cls._reverse_payments(payments)

    @classmethod
    def _reverse_payments(cls, payments):
        for payment in payments:
            payment.cancel_move = payment._reverse()
        cls.save(payments)

    def _reverse(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Unreconcile = pool.get(
            'account.move.unreconcile_lines', type='wizard')
        move = self.move
        reconciled = [l for l in move.lines if l.reconciliation]
        if reconciled:
            Unreconcile.make_unreconciliation(reconciled)
        if self.invoice:
            invoice = Invoice(self.invoice.id)
            Invoice.process([invoice])
            invoice = Invoice(invoice.id)
            lines = [l for l in move.lines if l in invoice.payment_lines]
            if lines:
                Invoice.remove_payment_lines(lines)
        cancel_move = post_reversal(move, self, gettext(
                'monitorbizz_finance.msg_payment_reversal',
                payment=self.rec_name))
        if self.invoice:
            # Other payments and credits on it may still settle it
            self._reconcile_invoice()
        return cancel_move

    @classmethod
    @ModelView.button
    @Workflow.transition('cleared')
    def clear(cls, payments):
        "The cheque is credited by the bank: cheques in hand to the bank"
        for payment in payments:
            payment.clearing_move = payment._clear()
        cls.save(payments)

    def _clear(self):
        pool = Pool()
        Date = pool.get('ir.date')
        Line = pool.get('account.move.line')
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        method = self.method
        bank = Line(account=method.credit_account.current(date=today),
            debit=self.amount, credit=0)
        in_hand = Line(account=method.debit_account.current(date=today),
            debit=0, credit=self.amount)
        return self._post_move(today,
            gettext('monitorbizz_finance.msg_payment_cleared',
                payment=self.rec_name), [bank, in_hand])
