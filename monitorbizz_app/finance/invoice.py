# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Customer invoices are Tryton invoices (account.invoice).

Tryton numbers an invoice when it is posted, from the strict (gap-free)
sequences of its business's fiscal year (INV-/CN-/BILL-<year>-NNN): a draft
has no number, so deleting one leaves no gap. The status the seed asks for
(draft, posted, sent, paid, overdue, cancelled) is derived from Tryton's
state, the date the invoice was sent, its due dates and reconciliation, and
searched in SQL; it is not stored. A credit note (Tryton's credit wizard,
with a reason) reverses the lines and their GST; posted, it pays its
invoice's balance down (its receivable line becomes a payment line of the
invoice)."""
import datetime as dt
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import quote, urlencode

import segno
from genshi.input import XML

from trytond import config
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.sendmail import send_message_transactional
from trytond.transaction import Transaction

from ..account_in.account import GST_HEADS, gst_head
from ..business.india import GST_STATE_CODES
from ..crm.sale import DocumentReport, _logo_data, gst_heads, gst_rate
from ..crm.words import rupees_in_words
from .exceptions import FinanceError
from .numbering import lock_numbering

STATUSES = [
    ('draft', "Draft"),
    ('posted', "Posted"),
    ('sent', "Sent"),
    ('paid', "Paid"),
    ('overdue', "Overdue"),
    ('cancelled', "Cancelled"),
    ]


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'
    status = fields.Function(fields.Selection(STATUSES, "Status"),
        'get_finance_amounts', searcher='search_status')
    sent_date = fields.DateTime("Sent", readonly=True,
        help="When the invoice was last e-mailed to the customer.")
    due_date = fields.Function(fields.Date("Due Date"), 'get_due_date')
    sales_order = fields.Function(fields.Many2One('sale.sale', "Sales Order"),
        'get_sales_order')
    discount_amount = fields.Function(Monetary("Discount",
            currency='currency', digits='currency',
            help="The discount the lines' prices include."),
        'get_discount_amount')
    paid_amount = fields.Function(Monetary("Paid",
            currency='currency', digits='currency'),
        'get_finance_amounts')
    balance_amount = fields.Function(Monetary("Balance",
            currency='currency', digits='currency'),
        'get_finance_amounts')
    cgst_amount = fields.Function(Monetary("CGST",
            currency='currency', digits='currency'), 'get_gst_totals')
    sgst_amount = fields.Function(Monetary("SGST",
            currency='currency', digits='currency'), 'get_gst_totals')
    igst_amount = fields.Function(Monetary("IGST",
            currency='currency', digits='currency'), 'get_gst_totals')
    total_in_words = fields.Function(fields.Char("Total in Words"),
        'get_total_in_words')
    credited_invoice = fields.Many2One('account.invoice', "Credited Invoice",
        readonly=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'invisible': ~Eval('credited_invoice')},
        help="The invoice this credit note reduces.")
    credit_reason = fields.Char("Credit Reason",
        states={
            'invisible': ~Eval('credited_invoice'),
            'readonly': Eval('state') != 'draft',
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= {'sent_date'}
        cls._buttons.update({
                'send': {
                    'invisible': (~Eval('state').in_(
                            ['draft', 'validated', 'posted'])
                        | (Eval('type') != 'out')),
                    'depends': ['state', 'type'],
                    },
                'credit_note': {
                    'invisible': ((Eval('state') != 'posted')
                        | (Eval('type') != 'out')
                        | Eval('credited_invoice')),
                    'depends': ['state', 'type', 'credited_invoice'],
                    },
                })

    # Status

    def get_status(self, name):
        return self._status(self.balance_amount)

    def _status(self, balance):
        "The status of the invoice with balance left to pay"
        if self.state in {'draft', 'validated'}:
            return 'draft'
        if self.state in {'cancelled', 'paid'}:
            return self.state
        if balance == 0:
            # a credit note fully set against its invoice
            return 'paid'
        today = self._today()
        if (self.total_amount > 0 and self.due_date
                and self.due_date < today):
            return 'overdue'
        return 'sent' if self.sent_date else 'posted'

    def _today(self):
        pool = Pool()
        Date = pool.get('ir.date')
        with Transaction().set_context(company=self.company.id):
            return Date.today()

    @classmethod
    def search_status(cls, name, clause):
        pool = Pool()
        Date = pool.get('ir.date')
        _, operator, value = clause[:3]
        values = value if isinstance(value, (list, tuple)) else [value]
        if operator in {'=', 'in'}:
            negate = False
        elif operator in {'!=', 'not in'}:
            negate = True
        else:
            raise ValueError(f"status can not be searched with {operator}")
        today = Date.today()
        open_lines = [
            ('maturity_date', '!=', None),
            ('reconciliation', '=', None),
            ]
        overdue = [
            ('state', '=', 'posted'),
            ('total_amount', '>', 0),
            ('move.lines', 'where', open_lines + [
                    ('maturity_date', '<', today)]),
            ]
        # a credit note whose open line pays another invoice
        applied = [
            ('state', '=', 'posted'),
            ('move.lines', 'where', open_lines + [
                    ('invoice_payment', '!=', None)]),
            ]
        not_overdue = ['OR',
            ('total_amount', '<=', 0),
            ('move.lines', 'not where', open_lines + [
                    ('maturity_date', '<', today)]),
            ]
        not_applied = ('move.lines', 'not where', open_lines + [
                ('invoice_payment', '!=', None)])
        domains = {
            'draft': [('state', 'in', ['draft', 'validated'])],
            'cancelled': [('state', '=', 'cancelled')],
            'paid': ['OR', [('state', '=', 'paid')], applied],
            'overdue': overdue,
            'sent': [('state', '=', 'posted'), ('sent_date', '!=', None),
                not_overdue, not_applied],
            'posted': [('state', '=', 'posted'), ('sent_date', '=', None),
                not_overdue, not_applied],
            }
        domain = ['OR'] + [domains[v] for v in values if v in domains]
        if negate:
            return [('id', 'not in', cls.search(domain, query=True))]
        return domain

    def get_due_date(self, name):
        dates = [l.maturity_date for l in self.lines_to_pay
            if l.maturity_date and not l.reconciliation]
        if not dates:
            dates = [l.maturity_date for l in self.lines_to_pay
                if l.maturity_date]
        return min(dates) if dates else None

    def get_sales_order(self, name):
        sales = getattr(self, 'sales', None) or []
        return sales[0].id if sales else None

    @classmethod
    def get_discount_amount(cls, invoices, name):
        "The discount the prices of the lines from sales orders include"
        pool = Pool()
        SaleLine = pool.get('sale.line')
        result = {}
        for invoice in invoices:
            discount = Decimal(0)
            for line in invoice.line_lines:
                origin = line.origin
                if (isinstance(origin, SaleLine)
                        and origin.base_price is not None
                        and line.unit_price is not None):
                    discount += ((origin.base_price - line.unit_price)
                        * Decimal(str(line.quantity or 0)))
            result[invoice.id] = invoice.currency.round(discount)
        return result

    @classmethod
    def get_finance_amounts(cls, invoices, names):
        """Balance, paid amount and status, from one computation of the
        balance of each invoice"""
        result = {n: {} for n in names}
        for invoice in invoices:
            balance = invoice._balance()
            total = invoice.total_amount or Decimal(0)
            values = {
                'balance_amount': balance,
                'paid_amount': (total - balance
                    if invoice.state in {'posted', 'paid'} else Decimal(0)),
                }
            if 'status' in names:
                values['status'] = invoice._status(balance)
            for name in names:
                result[name][invoice.id] = values[name]
        return result

    def _balance(self):
        """What is left to pay: Tryton's amount to pay, less what the open
        lines of a credit note already pay on another invoice"""
        if self.state in {'draft', 'validated'}:
            return self.total_amount or Decimal(0)
        if self.state != 'posted':
            return Decimal(0)
        balance = self.amount_to_pay or Decimal(0)
        for line in self.lines_to_pay:
            if (not line.reconciliation and line.invoice_payment
                    and line.invoice_payment != self):
                amount = line.debit - line.credit
                balance -= -amount if self.type == 'in' else amount
        return self.currency.round(balance)

    @classmethod
    def get_gst_totals(cls, invoices, names):
        result = {n: {} for n in names}
        for invoice in invoices:
            values = {f'{h}_amount': Decimal(0) for h in GST_HEADS}
            for tax in invoice.taxes:
                head = gst_head(tax.tax) if tax.tax else None
                if head:
                    values[f'{head}_amount'] += tax.amount
            for name in names:
                result[name][invoice.id] = invoice.currency.round(
                    values[name])
        return result

    def get_total_in_words(self, name):
        if self.total_amount is not None and self.currency.code == 'INR':
            return rupees_in_words(abs(self.total_amount))

    # Tax invoice

    @property
    def upi_uri(self):
        """The UPI payment link of the open balance (NPCI's UPI linking
        specification), None without a business VPA or balance"""
        company = self.company
        if (not company.upi_vpa or self.currency.code != 'INR'
                or self.type != 'out'):
            return None
        amount = self.balance_amount
        if not amount or amount <= 0:
            return None
        query = urlencode([
                ('pa', company.upi_vpa),
                ('pn', company.party.name),
                ('am', f'{amount:.2f}'),
                ('cu', 'INR'),
                ('tn', self.number or ''),
                ], safe='@', quote_via=quote)
        return f'upi://pay?{query}'

    def upi_qr_svg(self):
        """The UPI QR code as an inline SVG stream, '' without a payment link:
        inline because Tryton's PDF conversion fetches no data: URL, a
        parsed stream because the report's translator escapes Markup"""
        uri = self.upi_uri
        if not uri:
            return ''
        return XML(segno.make(uri, error='m').svg_inline(
                scale=4, border=2, svgclass='qr', omitsize=True))

    # Sending

    @classmethod
    @ModelView.button
    def send(cls, invoices):
        """Post the invoices still in draft, render their tax invoice and
        e-mail it to the customer's invoice address"""
        pool = Pool()
        Report = pool.get('account.invoice.tax_invoice', type='report')
        for invoice in invoices:
            if invoice.type != 'out' or invoice.state not in {
                    'draft', 'validated', 'posted'}:
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_invoice_send_state',
                        invoice=invoice.rec_name),
                    code='invoice_state')
            if not invoice.customer_email():
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_invoice_no_email',
                        customer=invoice.party.rec_name),
                    fields={'email': 'the customer has no e-mail'},
                    code='customer_no_email')
        drafts = [i for i in invoices if i.state in {'draft', 'validated'}]
        if drafts:
            cls.post(drafts)
        now = dt.datetime.now()
        for invoice in invoices:
            ext, content, _, title = Report.execute([invoice.id], {
                    'model': cls.__name__, 'id': invoice.id,
                    'ids': [invoice.id]})
            invoice._send_document(content, f'{title}.{ext}')
        cls.write(list(invoices), {'sent_date': now})

    def customer_email(self):
        "The e-mail for invoices of the customer"
        mechanism = self.party.contact_mechanism_get('email', usage='invoice')
        return mechanism.value if mechanism else None

    def _send_document(self, content, filename):
        business = self.company.party.name
        msg = EmailMessage()
        msg['From'] = config.get('email', 'from')
        msg['To'] = self.customer_email()
        msg['Subject'] = gettext('monitorbizz_finance.msg_invoice_subject',
            number=self.number, business=business)
        msg.set_content(gettext('monitorbizz_finance.msg_invoice_body',
                customer=self.party.name, number=self.number,
                business=business, total=self.total_amount,
                balance=self.balance_amount,
                due_date=self.due_date or ''))
        msg.add_attachment(bytes(content), maintype='application',
            subtype='pdf', filename=filename)
        send_message_transactional(msg)

    # Credit notes

    @classmethod
    @ModelView.button
    def credit_note(cls, invoices):
        """Credit the posted invoices and post the credit notes; the reason
        (credit_reason) and the lines to credit (credit_lines: {invoice line
        id: quantity}, every line in full when absent) come from the
        context"""
        context = Transaction().context
        cls.make_credit_notes(invoices, context.get('credit_reason'),
            context.get('credit_lines'))

    @classmethod
    def make_credit_notes(cls, invoices, reason, lines=None):
        """Post a credit note of each invoice with reason: of lines
        ({invoice line id: quantity credited}) or of every line in full;
        return the credit notes. Each reverses the GST of its lines and pays
        its invoice's balance down (above the balance it is refused)."""
        reason = (reason or '').strip()
        if not reason:
            raise FinanceError(gettext(
                    'monitorbizz_finance.msg_credit_reason_required'),
                fields={'reason': 'required'}, code='credit_reason')
        for invoice in invoices:
            if (invoice.type != 'out' or invoice.state != 'posted'
                    or invoice.credited_invoice):
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_credit_invoice_state',
                        invoice=invoice.rec_name),
                    code='invoice_state')
        quantities = None
        if lines is not None:
            quantities = {int(k): Decimal(str(v)) for k, v in dict(
                    lines).items()}
            known = {l.id for i in invoices for l in i.line_lines}
            for line_id, quantity in quantities.items():
                if line_id not in known:
                    raise FinanceError(gettext(
                            'monitorbizz_finance.msg_credit_line_unknown',
                            line=line_id),
                        fields={f'lines.{line_id}': 'not a line of the '
                            'invoice'}, code='credit_line')
            if not quantities:
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_credit_line_unknown',
                        line=''),
                    fields={'lines': 'nothing to credit'},
                    code='credit_line')
        credits = cls.credit(invoices, credit_reason=reason)
        if quantities is not None:
            Line = Pool().get('account.invoice.line')
            to_delete, to_save = [], []
            for credit in credits:
                for line in credit.lines:
                    origin = line.origin
                    origin_id = getattr(origin, 'id', None)
                    if (line.type != 'line'
                            or origin_id not in quantities):
                        to_delete.append(line)
                        continue
                    quantity = quantities[origin_id]
                    if not 0 < quantity <= Decimal(str(origin.quantity)):
                        raise FinanceError(gettext(
                                'monitorbizz_finance.msg_credit_quantity',
                                line=origin.rec_name,
                                quantity=origin.quantity),
                            fields={f'lines.{origin_id}': 'more than '
                                'invoiced or not positive'},
                            code='credit_quantity')
                    line.quantity = -float(quantity)
                    to_save.append(line)
            Line.save(to_save)
            Line.delete(to_delete)
            credits = cls.browse([c.id for c in credits])
            cls.update_taxes(credits)
        cls.post(credits)
        return cls.browse([c.id for c in credits])

    def _credit(self, **values):
        credit = super()._credit(**values)
        credit.credited_invoice = self
        return credit

    @classmethod
    def copy(cls, invoices, default=None):
        default = dict(default or {})
        default.setdefault('sent_date', None)
        default.setdefault('credited_invoice', None)
        default.setdefault('credit_reason', None)
        return super().copy(invoices, default=default)

    @classmethod
    def post(cls, invoices):
        Date = Pool().get('ir.date')
        today = Date.today()
        lock_numbering([(i.company, i.journal,
                    i.accounting_date or i.invoice_date or today)
                for i in invoices if i.state in {'draft', 'validated'}])
        super().post(invoices)
        cls._apply_credit_notes(cls.browse([i.id for i in invoices]))

    @classmethod
    def _apply_credit_notes(cls, invoices):
        """Set each posted credit note against the balance of the invoice
        it credits (the credited invoice is then paid by it)"""
        payments = {}
        for credit in invoices:
            invoice = credit.credited_invoice
            if (not invoice or credit.state != 'posted'
                    or invoice.state != 'posted'
                    or credit.cancel_move or invoice.cancel_move):
                continue
            lines = [l for l in credit.lines_to_pay
                if not l.reconciliation and not l.invoice_payment]
            amount = -sum(l.debit - l.credit for l in lines)
            if invoice.type == 'in':
                amount = -amount
            if amount > invoice.balance_amount:
                raise FinanceError(gettext(
                        'monitorbizz_finance.msg_credit_above_balance',
                        credit=credit.rec_name, invoice=invoice.rec_name,
                        amount=amount, balance=invoice.balance_amount),
                    fields={'total_amount': 'above the balance of the '
                        'credited invoice'},
                    code='credit_above_balance')
            payments.setdefault(invoice, []).extend(lines)
        if payments:
            cls.add_payment_lines(payments)
            cls._reconcile_settled(cls.browse([i.id for i in payments]))

    @classmethod
    def _reconcile_settled(cls, invoices):
        "Reconcile the invoices whose payment lines settle them"
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        for invoice in invoices:
            if invoice.state == 'posted' and invoice.amount_to_pay == 0:
                lines = [l for l in invoice.lines_to_pay + invoice.payment_lines
                    if not l.reconciliation]
                if lines:
                    MoveLine.reconcile(lines)


class CreditInvoiceStart(metaclass=PoolMeta):
    __name__ = 'account.invoice.credit.start'
    reason = fields.Char("Reason", required=True,
        help="Why the invoice is credited (returned goods, price "
        "correction, ...).")


class CreditInvoice(metaclass=PoolMeta):
    __name__ = 'account.invoice.credit'

    @property
    def _credit_options(self):
        options = super()._credit_options
        options['credit_reason'] = self.start.reason
        return options


class TaxInvoiceReport(DocumentReport):
    "The GST tax invoice (and credit note) of a customer invoice"
    __name__ = 'account.invoice.tax_invoice'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['gst'] = gst_rate
        context['gst_heads'] = gst_heads
        context['hsn_summary'] = hsn_summary
        context['logo_data'] = _logo_data
        context['document_title'] = document_title
        context['state_code'] = state_code
        context['place_of_supply'] = place_of_supply
        return context


def document_title(invoice):
    if invoice.type == 'out' and invoice.total_amount is not None \
            and invoice.total_amount < 0:
        return 'Credit Note'
    return 'Tax Invoice'


def place_of_supply(invoice):
    """The state where the supply is made: where the order is shipped,
    else the invoice address's"""
    sale = invoice.sales_order
    for address in [sale.shipment_address if sale else None,
            invoice.invoice_address]:
        if address and address.subdivision:
            return address.subdivision
    return None


def state_code(subdivision):
    "The GST state code (two digits) of an Indian state"
    if not subdivision:
        return ''
    return GST_STATE_CODES.get(subdivision.code, '')


def hsn_summary(invoice):
    """[(hsn_sac, taxable value, rate, {head: amount})] of the invoice
    lines, one row per HSN/SAC code and GST rate"""
    rows = {}
    for line in invoice.line_lines:
        key = (line.hsn_sac_code, gst_rate(line.taxes))
        taxable, amounts = rows.setdefault(
            key, [Decimal(0), {h: Decimal(0) for h in GST_HEADS}])
        rows[key][0] = taxable + (line.amount or Decimal(0))
        for head, amount in line.gst_amounts().items():
            amounts[head.split('_')[0]] += amount
    return [(code, taxable, rate, amounts)
        for (code, rate), (taxable, amounts) in sorted(rows.items())]
