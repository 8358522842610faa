# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/finance/invoices and /api/finance/payments (seed sections 3D and 6)
on monitorbizz_finance.

Invoices are Tryton's customer invoices (account.invoice of type out),
credit notes among them; payments are monitorbizz.finance.payment. Every
handler runs as the calling user in their current business: the models'
access rights and button groups decide what a role may do (owners,
managers and accounts invoice and take payments, sales people read), their
record rules what is seen (another business's record answers 404), and the
models refuse what their state does not allow (409) or what is invalid
(422, e.g. a payment above the balance, naming it)."""
import base64
import binascii
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction

from ..account_in.product import hsn_sac_problem
from .crm import (
    DATE, MONEY, MONEY_IN, NULLABLE_DATE, PRICE_IN,
    QUANTITY_IN, TIMESTAMP, _company, _customer_of, _decimal, _gst_taxes,
    _invalid, _money, _new, _product, _quantity, _unit)
from .framework import (
    LIST_QUERY, ApiError, Resource, endpoint, page_of, paginate)
from .schema import ID, define, record

__all__ = []

_FORBIDDEN = ("The caller's role may not do this: owners, managers and "
    "accounts invoice and take payments, sales people only read "
    "(forbidden)")
_INVALID = ("Invalid fields, each named in error.fields (validation_error); "
    "nothing is changed")
INVOICE_STATUSES = ['draft', 'posted', 'sent', 'paid', 'overdue',
    'cancelled']
PAYMENT_METHODS = ['cash', 'upi', 'bank_transfer', 'cheque', 'card']
PAYMENT_STATUSES = ['draft', 'recorded', 'cleared', 'bounced', 'voided']
# The API's payment status of each state of the model
_PAYMENT_STATES = {'draft': 'draft', 'posted': 'recorded',
    'cleared': 'cleared', 'bounced': 'bounced', 'voided': 'voided'}
GST_RATES = [0, 5, 12, 18, 28]


# Schemas --------------------------------------------------------------------

INVOICE_LINE = define('InvoiceLine', record({
            'id': {'type': 'integer'},
            'item_id': {'type': ['integer', 'null']},
            'description': {'type': ['string', 'null']},
            'hsn_sac': {'type': ['string', 'null']},
            'quantity': {'type': 'string', 'format': 'decimal',
                'description': "Negative on a credit note"},
            'unit': {'type': ['string', 'null']},
            'unit_price': MONEY,
            'tax_rate': {'type': 'string', 'format': 'decimal',
                'description': "GST rate in percent"},
            'taxable_value': MONEY,
            'cgst_amount': MONEY,
            'sgst_amount': MONEY,
            'igst_amount': MONEY,
            'total_amount': MONEY,
            }))
PAYMENT = define('Payment', record({
            'id': {'type': 'integer'},
            'payment_number': {'type': ['string', 'null'],
                'description': "PAY-<year>-NNN, from a gap-free sequence"},
            'invoice_id': {'type': ['integer', 'null']},
            'invoice_number': {'type': ['string', 'null']},
            'customer_id': {'type': 'integer'},
            'customer_name': {'type': 'string'},
            'payment_date': DATE,
            'amount': MONEY,
            'payment_method': {'type': 'string', 'enum': PAYMENT_METHODS},
            'reference_number': {'type': ['string', 'null']},
            'notes': {'type': ['string', 'null']},
            'advance': {'type': 'boolean',
                'description': "What is above the balance stays on the "
                "customer's account"},
            'status': {'type': 'string', 'enum': PAYMENT_STATUSES,
                'description': "recorded; a cheque is then cleared or "
                "bounced; voided"},
            'created_at': TIMESTAMP,
            'updated_at': TIMESTAMP,
            }))
INVOICE = define('Invoice', record({
            'id': {'type': 'integer'},
            'invoice_number': {'type': ['string', 'null'],
                'description': "INV-<year>-NNN (CN-<year>-NNN for a credit "
                "note), given when posted: a draft has none"},
            'kind': {'type': 'string', 'enum': ['invoice', 'credit_note']},
            'customer_id': {'type': 'integer'},
            'customer_name': {'type': 'string'},
            'sales_order_id': {'type': ['integer', 'null']},
            'credited_invoice_id': {'type': ['integer', 'null'],
                'description': "The invoice a credit note reduces"},
            'credit_reason': {'type': ['string', 'null']},
            'invoice_date': NULLABLE_DATE,
            'due_date': NULLABLE_DATE,
            'payment_terms': {'type': ['string', 'null']},
            'status': {'type': 'string', 'enum': INVOICE_STATUSES},
            'subtotal': MONEY,
            'discount_amount': MONEY,
            'tax_amount': MONEY,
            'cgst_amount': MONEY,
            'sgst_amount': MONEY,
            'igst_amount': MONEY,
            'total_amount': MONEY,
            'paid_amount': MONEY,
            'balance_amount': MONEY,
            'total_in_words': {'type': ['string', 'null']},
            'sent_at': TIMESTAMP,
            'notes': {'type': ['string', 'null']},
            'lines': {'type': 'array', 'items': INVOICE_LINE},
            'payments': {'type': 'array', 'items': PAYMENT},
            'credit_note_ids': {'type': 'array',
                'items': {'type': 'integer'}},
            'pdf_url': {'type': 'string',
                'description': "The GST tax invoice (PDF)"},
            'created_at': TIMESTAMP,
            'updated_at': TIMESTAMP,
            }))
INVOICE_ITEM = define('InvoiceItem', record({
            'id': {'type': 'integer'},
            'invoice_number': {'type': ['string', 'null']},
            'kind': {'type': 'string', 'enum': ['invoice', 'credit_note']},
            'customer_id': {'type': 'integer'},
            'customer_name': {'type': 'string'},
            'invoice_date': NULLABLE_DATE,
            'due_date': NULLABLE_DATE,
            'status': {'type': 'string', 'enum': INVOICE_STATUSES},
            'total_amount': MONEY,
            'balance_amount': MONEY,
            }))
_LINE_INPUT = define('InvoiceLineInput', {
        'type': 'object',
        'required': ['quantity', 'unit_price'],
        'additionalProperties': False,
        'properties': {
            'item_id': {**ID, 'description': "A product, material or "
                "service of the business (its HSN/SAC and unit)"},
            'description': {'type': 'string', 'minLength': 1,
                'maxLength': 500,
                'description': "Required without item_id (services, job "
                "work)"},
            'quantity': {**QUANTITY_IN, 'minimum': 0},
            'unit_price': PRICE_IN,
            'tax_rate': {'type': 'integer', 'enum': GST_RATES,
                'default': 18, 'description': "GST in percent: CGST+SGST "
                "within the business's state, IGST outside"},
            'hsn_sac': {'type': 'string', 'minLength': 4, 'maxLength': 8,
                'pattern': '^[0-9]+$',
                'description': "Default: the item's"},
            },
        })
INVOICE_CREATE = define('InvoiceCreate', {
        'type': 'object',
        'additionalProperties': False,
        'description': "Either sales_order_id (the order's invoice, as "
        "Tryton makes it), or customer_id and lines (an invoice by hand)",
        'properties': {
            'sales_order_id': ID,
            'customer_id': ID,
            'invoice_date': {**DATE, 'description': "Default: the day it "
                "is posted"},
            'notes': {'type': 'string', 'maxLength': 5000},
            'lines': {'type': 'array', 'minItems': 1, 'maxItems': 500,
                'items': _LINE_INPUT},
            },
        })
INVOICE_UPDATE = define('InvoiceUpdate', {
        'type': 'object',
        'additionalProperties': False,
        'description': "The fields to change (lines, when sent, replace "
        "every line); only a draft changes",
        'properties': {
            'customer_id': ID,
            'invoice_date': {**DATE, 'type': ['string', 'null']},
            'notes': {'type': ['string', 'null'], 'maxLength': 5000},
            'lines': {'type': 'array', 'minItems': 1, 'maxItems': 500,
                'items': _LINE_INPUT},
            },
        })
PAYMENT_CREATE = define('PaymentCreate', {
        'type': 'object',
        'required': ['amount', 'payment_method'],
        'additionalProperties': False,
        'properties': {
            'amount': {**MONEY_IN, 'minimum': 0.01},
            'payment_method': {'type': 'string', 'enum': PAYMENT_METHODS},
            'payment_date': {**DATE, 'description': "Default today"},
            'reference_number': {'type': 'string', 'maxLength': 100,
                'description': "UPI transaction id, cheque number, bank "
                "reference..."},
            'notes': {'type': 'string', 'maxLength': 5000},
            'advance': {'type': 'boolean', 'default': False,
                'description': "Keep what is above the balance on the "
                "customer's account (otherwise refused)"},
            },
        })
PAYMENT_RECORDED = define('PaymentRecorded', record({
            'payment': PAYMENT,
            'invoice': INVOICE,
            }))
CREDIT_NOTE_CREATE = define('CreditNoteCreate', {
        'type': 'object',
        'required': ['reason'],
        'additionalProperties': False,
        'properties': {
            'reason': {'type': 'string', 'minLength': 1, 'maxLength': 500},
            'lines': {'type': 'array', 'minItems': 1, 'maxItems': 500,
                'description': "The lines credited and how many of each; "
                "every line in full when absent",
                'items': {
                    'type': 'object',
                    'required': ['line_id', 'quantity'],
                    'additionalProperties': False,
                    'properties': {
                        'line_id': ID,
                        'quantity': {**QUANTITY_IN, 'minimum': 0},
                        },
                    }},
            },
        })
CREDIT_NOTE_MADE = define('CreditNoteMade', record({
            'credit_note': INVOICE,
            'invoice': INVOICE,
            }))


# Invoices -------------------------------------------------------------------

def _kind(invoice_total, credited):
    return ('credit_note' if credited or (invoice_total or 0) < 0
        else 'invoice')


def _payment(payment):
    invoice = payment.invoice
    return {
        'id': payment.id,
        'payment_number': payment.number,
        'invoice_id': invoice.id if invoice else None,
        'invoice_number': invoice.number if invoice else None,
        'customer_id': payment.party.id,
        'customer_name': payment.party.name,
        'payment_date': payment.payment_date,
        'amount': _money(payment.amount),
        'payment_method': payment.payment_method,
        'reference_number': payment.reference_number or None,
        'notes': payment.notes or None,
        'advance': bool(payment.advance),
        'status': _PAYMENT_STATES[payment.state],
        'created_at': payment.create_date,
        'updated_at': payment.write_date or payment.create_date,
        }


def _invoice_line(line):
    from ..crm.sale import gst_rate
    quantity = line.quantity or 0
    return {
        'id': line.id,
        'item_id': line.product.id if line.product else None,
        'description': line.description or (
            line.product.rec_name if line.product else None),
        'hsn_sac': line.hsn_sac_code or None,
        'quantity': _quantity(quantity),
        'unit': line.unit.symbol if line.unit else None,
        'unit_price': _money(line.unit_price),
        'tax_rate': str(gst_rate(line.taxes)),
        'taxable_value': _money(line.amount),
        'cgst_amount': _money(line.cgst_amount),
        'sgst_amount': _money(line.sgst_amount),
        'igst_amount': _money(line.igst_amount),
        'total_amount': _money((line.amount or 0) + (line.cgst_amount or 0)
            + (line.sgst_amount or 0) + (line.igst_amount or 0)),
        }


def _invoice(invoice):
    Invoice = Pool().get('account.invoice')
    credits = Invoice.search([('credited_invoice', '=', invoice.id)],
        order=[('id', 'ASC')])
    return {
        'id': invoice.id,
        'invoice_number': invoice.number,
        'kind': _kind(invoice.total_amount, invoice.credited_invoice),
        'customer_id': invoice.party.id,
        'customer_name': invoice.party.name,
        'sales_order_id': invoice.sales_order.id
        if invoice.sales_order else None,
        'credited_invoice_id': invoice.credited_invoice.id
        if invoice.credited_invoice else None,
        'credit_reason': invoice.credit_reason or None,
        'invoice_date': invoice.invoice_date,
        'due_date': invoice.due_date,
        'payment_terms': invoice.payment_term.name
        if invoice.payment_term else None,
        'status': invoice.status,
        'subtotal': _money(invoice.untaxed_amount),
        'discount_amount': _money(invoice.discount_amount),
        'tax_amount': _money(invoice.tax_amount),
        'cgst_amount': _money(invoice.cgst_amount),
        'sgst_amount': _money(invoice.sgst_amount),
        'igst_amount': _money(invoice.igst_amount),
        'total_amount': _money(invoice.total_amount),
        'paid_amount': _money(invoice.paid_amount),
        'balance_amount': _money(invoice.balance_amount),
        'total_in_words': invoice.total_in_words,
        'sent_at': invoice.sent_date,
        'notes': invoice.comment or None,
        'lines': [_invoice_line(l) for l in invoice.line_lines],
        'payments': [_payment(p) for p in sorted(invoice.payments,
                key=lambda p: p.id)],
        'credit_note_ids': [c.id for c in credits],
        'pdf_url': f'/api/finance/invoices/{invoice.id}/pdf',
        'created_at': invoice.create_date,
        'updated_at': invoice.write_date or invoice.create_date,
        }


_INVOICE_DOMAIN = [('type', '=', 'out')]
INVOICES = Resource('/api/finance/invoices', 'account.invoice', 'invoice',
    _invoice, domain=_INVOICE_DOMAIN)
PAYMENTS = Resource('/api/finance/payments', 'monitorbizz.finance.payment',
    'payment', _payment, domain=[('kind', '=', 'receipt')])


INVOICE_QUERY = {**LIST_QUERY,
    'status': {'type': 'string', 'enum': INVOICE_STATUSES},
    'customer_id': ID,
    'sales_order_id': ID,
    'kind': {'type': 'string', 'enum': ['invoice', 'credit_note']},
    'overdue': {'type': 'boolean', 'description': "true: only the overdue "
        "(posted, unpaid, past due); false: all but them"},
    'date_from': {**DATE, 'description': "Invoice date on or after"},
    'date_to': {**DATE, 'description': "Invoice date on or before"},
    }


def _invoice_item(row):
    return {
        'id': row['id'],
        'invoice_number': row['number'],
        'kind': _kind(row['total_amount'], row['credited_invoice']),
        'customer_id': row['party'],
        'customer_name': row['party.']['name'],
        'invoice_date': row['invoice_date'],
        'due_date': row['due_date'],
        'status': row['status'],
        'total_amount': _money(row['total_amount']),
        'balance_amount': _money(row['balance_amount']),
        }


@endpoint('GET', '/api/finance/invoices',
    summary="The business's customer invoices and credit notes",
    query=INVOICE_QUERY, response=page_of(INVOICE_ITEM),
    errors={403: _FORBIDDEN})
def list_invoices(call):
    """Newest first. ?q= searches the number and the customer; ?order=
    accepts invoice_date, invoice_number and total_amount."""
    Invoice = Pool().get('account.invoice')
    query = call.query
    domain = list(_INVOICE_DOMAIN)
    if query.get('status'):
        domain.append(('status', '=', query['status']))
    if query.get('overdue') is not None:
        domain.append(('status', '=' if query['overdue'] else '!=',
                'overdue'))
    if query.get('customer_id'):
        domain.append(('party', '=', query['customer_id']))
    if query.get('sales_order_id'):
        domain.append(('sales', '=', query['sales_order_id']))
    if query.get('kind') == 'credit_note':
        domain.append(['OR', ('credited_invoice', '!=', None),
                ('total_amount_cache', '<', 0)])
    elif query.get('kind') == 'invoice':
        domain.append(('credited_invoice', '=', None))
        domain.append(['OR', ('total_amount_cache', '=', None),
                ('total_amount_cache', '>=', 0)])
    if query.get('date_from'):
        domain.append(('invoice_date', '>=', query['date_from']))
    if query.get('date_to'):
        domain.append(('invoice_date', '<=', query['date_to']))
    search = query.pop('q', None)
    if search:
        like = f'%{search}%'
        domain.append(['OR', ('number', 'ilike', like),
                ('party.name', 'ilike', like)])
    return paginate(call, Invoice, ['id', 'number', 'party', 'party.name',
            'invoice_date', 'due_date', 'status', 'total_amount',
            'balance_amount', 'credited_invoice'], domain=domain,
        orders={'invoice_date': 'invoice_date', 'invoice_number': 'number',
            'total_amount': 'total_amount_cache'},
        default_order=[('id', 'DESC')], serialize=_invoice_item)


def _revenue_account(invoice):
    AccountConfiguration = Pool().get('account.configuration')
    account = AccountConfiguration(1).get_multivalue(
        'default_category_account_revenue', company=invoice.company.id)
    if not account:
        raise ApiError(409, 'no_revenue_account',
            "The business has no default revenue account.")
    return account


def _set_invoice_lines(invoice, lines):
    "Replace the lines of the draft invoice"
    pool = Pool()
    Line = pool.get('account.invoice.line')
    Line.delete(list(invoice.lines))
    new = []
    for index, values in enumerate(lines):
        line = Line(invoice=invoice, type='line', company=invoice.company,
            currency=invoice.currency, party=invoice.party,
            invoice_type='out')
        line.quantity = float(_decimal(values['quantity'],
                f'lines.{index}.quantity', Decimal('0.001')))
        if values.get('item_id'):
            line.product = _product(values['item_id'], index)
            line.on_change_product()
        if values.get('description'):
            line.description = values['description']
        if not (getattr(line, 'description', None)
                or getattr(line, 'product', None)):
            raise _invalid(f'lines.{index}.description',
                "required without item_id")
        if values.get('hsn_sac'):
            problem = hsn_sac_problem(values['hsn_sac'])
            if problem:
                raise _invalid(f'lines.{index}.hsn_sac', {
                        'digits': "digits only",
                        'hsn_length': "an HSN code has 4, 6 or 8 digits",
                        'sac_length': "a SAC code has 6 digits",
                        }[problem])
            line.hsn_sac = values['hsn_sac']
        if not getattr(line, 'unit', None):
            line.unit = _unit()
        if not getattr(line, 'account', None):
            line.account = _revenue_account(invoice)
        line.unit_price = _decimal(values['unit_price'],
            f'lines.{index}.unit_price')
        line.taxes = _gst_taxes(invoice, line, values.get('tax_rate', 18),
            index)
        new.append(line)
    Line.save(new)
    Pool().get('account.invoice').update_taxes([invoice])


def _invoice_of_order(sales_order_id):
    """The invoice of what the order has to invoice, made by the order's
    own processing (the business's invoice method: on order or on
    shipment)"""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Invoice = pool.get('account.invoice')
    sales = Sale.search([('id', '=', sales_order_id),
            ('ordered', '=', True)], limit=1)
    if not sales:
        raise _invalid('sales_order_id', "no such sales order in your "
            "business")
    sale, = sales
    before = {i.id for i in sale.invoices}
    if sale.state in {'confirmed', 'processing', 'done'}:
        with Transaction().set_context(_sale_manual_invoice=True):
            Sale.process([sale])
    made = [i for i in Sale(sale.id).invoices if i.id not in before]
    if not made:
        raise ApiError(409, 'nothing_to_invoice',
            f"The order {sale.number} has nothing more to invoice now"
            + (" (not confirmed)" if sale.state in {'draft', 'quotation'}
                else "") + ".",
            details={'invoice_ids': sorted(before)})
    return Invoice(made[0].id)


@endpoint('POST', '/api/finance/invoices', summary="Create an invoice",
    request=INVOICE_CREATE, response=INVOICE, status=201,
    errors={403: _FORBIDDEN,
        409: "The sales order has nothing more to invoice: it was "
        "invoiced when confirmed (or shipped), details.invoice_ids "
        "(nothing_to_invoice)",
        422: _INVALID})
def create_invoice(call):
    """A draft, without number until posted (sent). From a sales order:
    the invoice of what the order has not invoiced yet, its lines and GST
    those of the order. By hand: the customer and the lines (services, job
    work)."""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    _company()
    # Saving records is trusted code in Tryton: the caller's right first
    pool.get('ir.model.access').check(Invoice.__name__, 'create')
    body = call.body
    if body.get('sales_order_id'):
        for name in ['customer_id', 'lines']:
            if name in body:
                raise _invalid(name, "not with sales_order_id")
        invoice = _invoice_of_order(body['sales_order_id'])
    else:
        for name in ['customer_id', 'lines']:
            if name not in body:
                raise _invalid(name, "required without sales_order_id")
        with Transaction().set_context(type='out'):
            invoice = _new(Invoice, type='out')
            invoice.on_change_type()
            invoice.party = _customer_of(body)
            invoice.on_change_party()
        invoice.save()
        _set_invoice_lines(invoice, body['lines'])
    changes = {}
    if body.get('invoice_date'):
        changes['invoice_date'] = body['invoice_date']
    if body.get('notes'):
        changes['comment'] = body['notes']
    if changes:
        Invoice.write([invoice], changes)
    return _invoice(Invoice(invoice.id))


INVOICES.read("An invoice or credit note", response=INVOICE,
    module=__name__)


def _not_draft(invoice, exception):
    "Whether exception is the invoice model's refusal of a posted invoice"
    for message in ['account_invoice.msg_invoice_modify',
            'account_invoice.msg_invoice_line_modify']:
        if exception.message.startswith(gettext(message,
                    invoice=invoice.rec_name, line='\0').split('\0')[0]):
            return True
    return False


@INVOICES.route('PUT', summary="Change a draft invoice",
    request=INVOICE_UPDATE, response=INVOICE,
    errors={403: _FORBIDDEN,
        409: "Only a draft changes: the invoice is posted "
        "(invoice_not_draft)",
        422: _INVALID})
def update_invoice(call, invoice):
    "The invoice model refuses the change of a posted invoice."
    pool = Pool()
    Invoice = pool.get('account.invoice')
    # Saving records is trusted code in Tryton: the caller's right first
    pool.get('ir.model.access').check(Invoice.__name__, 'write')
    body = call.body
    id_ = invoice.id
    try:
        if 'customer_id' in body and body['customer_id'] != invoice.party.id:
            invoice.party = _customer_of(body)
            invoice.on_change_party()
        if 'invoice_date' in body:
            invoice.invoice_date = body['invoice_date']
        if 'notes' in body:
            invoice.comment = body['notes']
        invoice.save()
        if 'lines' in body:
            _set_invoice_lines(Invoice(id_), body['lines'])
    except AccessError as e:
        if not Invoice(id_).is_modifiable and _not_draft(invoice, e):
            raise ApiError(409, 'invoice_not_draft', e.message)
        raise
    return _invoice(Invoice(id_))


INVOICES.action('post', 'post', summary="Post an invoice",
    response=INVOICE, module=__name__,
    description="The draft is numbered INV-<year>-NNN (CN- for a credit "
    "note) from the gap-free sequence of the fiscal year and its journal "
    "entry posted; its figures no longer change. /send posts and e-mails.",
    errors={403: _FORBIDDEN,
        409: "Not a draft (invalid_state), or a warning to confirm "
        "(user_warning)"})(None)


@INVOICES.action('send', 'send', summary="Post and e-mail an invoice",
    response=INVOICE,
    errors={403: _FORBIDDEN,
        409: "Not a draft or posted invoice (invoice_state)",
        422: "The customer has no e-mail for invoices (customer_no_email)"})
def send_invoice(call, invoice):
    """A draft is posted (numbered INV-<year>-NNN); the GST tax invoice
    with its UPI QR code is e-mailed to the customer's invoice address;
    the invoice is sent."""
    return _invoice(invoice)


@INVOICES.action('record-payment', 'post',
    model='monitorbizz.finance.payment', press=False,
    summary="Record a payment of an invoice", request=PAYMENT_CREATE,
    response=PAYMENT_RECORDED, status=201,
    errors={403: _FORBIDDEN,
        409: "The posted invoice has no balance left to pay "
        "(invoice_not_open)",
        422: "The amount is above the invoice's balance, which the "
        "message names (payment_above_balance, error.fields.amount); the "
        "invoice is not a posted one: a draft, paid or cancelled invoice "
        "(domain_validation); " + _INVALID})
def record_payment(call, invoice):
    """The payment PAY-<year>-NNN is posted to the journal and account of
    its method (cash, UPI clearing, bank, cheques in hand, card clearing)
    and set against the invoice: a part payment leaves the balance open,
    the last one makes the invoice paid. Above the balance it is refused,
    unless recorded as an advance (the excess stays on the customer's
    account)."""
    pool = Pool()
    Payment = pool.get('monitorbizz.finance.payment')
    Invoice = pool.get('account.invoice')
    body = call.body
    values = {
        'company': invoice.company.id,
        'kind': 'receipt',
        'party': invoice.party.id,
        'invoice': invoice.id,
        'amount': _decimal(body['amount'], 'amount', Decimal('0.01')),
        'payment_method': body['payment_method'],
        'reference_number': body.get('reference_number') or None,
        'notes': body.get('notes') or None,
        'advance': bool(body.get('advance')),
        }
    if body.get('payment_date'):
        values['payment_date'] = body['payment_date']
    payment, = Payment.create([values])
    Payment.post([payment])
    return {'payment': _payment(Payment(payment.id)),
        'invoice': _invoice(Invoice(invoice.id))}


@INVOICES.action('credit-note', 'credit_note', press=False,
    summary="Credit an invoice", request=CREDIT_NOTE_CREATE,
    response=CREDIT_NOTE_MADE, status=201,
    errors={403: _FORBIDDEN,
        409: "Not a posted invoice (invoice_state)",
        422: "A line not of the invoice or a quantity above the invoiced "
        "(credit_line, credit_quantity), or the credit note above the "
        "invoice's balance (credit_above_balance)"})
def credit_invoice(call, invoice):
    """The credit note CN-<year>-NNN, with the reason, of the lines given
    (every line in full without lines) is posted: it reverses the GST of
    the same lines and pays the invoice's balance down (the sales order's
    payment status follows)."""
    Invoice = Pool().get('account.invoice')
    body = call.body
    lines = None
    if 'lines' in body:
        lines = {}
        for index, value in enumerate(body['lines']):
            lines[value['line_id']] = lines.get(value['line_id'], 0) \
                + _decimal(value['quantity'], f'lines.{index}.quantity',
                    Decimal('0.001'))
    credit, = Invoice.make_credit_notes([invoice], body['reason'], lines)
    return {'credit_note': _invoice(credit),
        'invoice': _invoice(Invoice(invoice.id))}


INVOICES.action('cancel', 'cancel', summary="Cancel an invoice",
    response=INVOICE, module=__name__,
    description="A draft is cancelled; a posted customer invoice is not "
    "(credit it instead): 409.",
    errors={403: _FORBIDDEN,
        409: "Posted or paid: credit it instead (invalid_state)"})(None)


@INVOICES.route('GET', '/pdf', summary="The GST tax invoice (PDF)",
    response={'type': 'string', 'contentMediaType': 'application/pdf'},
    content_type='application/pdf', errors={403: _FORBIDDEN})
def invoice_pdf(call, invoice):
    """The tax invoice (or credit note) as e-mailed: both GSTINs, each
    line's HSN/SAC and GST, the HSN summary, the total in words, the bank
    details and the UPI QR code of the balance."""
    Report = Pool().get('account.invoice.tax_invoice', type='report')
    ext, content, _, title = Report.execute([invoice.id], {
            'model': 'account.invoice', 'id': invoice.id,
            'ids': [invoice.id]})
    name = (invoice.number or f'draft-{invoice.id}').replace('"', '')
    return Response(bytes(content), mimetype='application/pdf', headers={
            'Content-Disposition': f'inline; filename="{name}.{ext}"',
            'Cache-Control': 'no-store'})


# Settings -------------------------------------------------------------------

_SETTINGS_FIELDS = {
    'invoice_method': {'type': 'string', 'enum': ['order', 'fulfillment'],
        'description': "Sales orders are invoiced when confirmed (order) "
        "or as they are shipped (fulfillment)"},
    'upi_vpa': {'type': ['string', 'null'], 'maxLength': 320,
        'description': "The UPI address (handle@provider) the invoices' "
        "QR code pays"},
    'bank_account_name': {'type': ['string', 'null'], 'maxLength': 200},
    'bank_name': {'type': ['string', 'null'], 'maxLength': 200},
    'bank_account_number': {'type': ['string', 'null'], 'maxLength': 50},
    'bank_ifsc': {'type': ['string', 'null'], 'maxLength': 11,
        'description': "e.g. HDFC0001234"},
    }
FINANCE_SETTINGS = define('FinanceSettings', record(_SETTINGS_FIELDS))
FINANCE_SETTINGS_UPDATE = define('FinanceSettingsUpdate', {
        'type': 'object', 'additionalProperties': False,
        'description': "The settings to change; the others are kept",
        'properties': _SETTINGS_FIELDS})


def _settings():
    Company = Pool().get('company.company')
    company = Company(_company())
    return {name: getattr(company, name) or None for name in _SETTINGS_FIELDS}


@endpoint('GET', '/api/finance/settings',
    summary="The invoicing settings of the business",
    response=FINANCE_SETTINGS)
def get_finance_settings(call):
    "Printed on the tax invoices: the bank account and the UPI address."
    return _settings()


@endpoint('PUT', '/api/finance/settings',
    summary="Change the invoicing settings of the business",
    request=FINANCE_SETTINGS_UPDATE, response=FINANCE_SETTINGS,
    errors={403: "Only owners and managers change them (forbidden)",
        422: "A malformed UPI address or IFSC (validation_error)"})
def update_finance_settings(call):
    "The business's update_finance_settings (owners and managers)."
    Company = Pool().get('company.company')
    Company.update_finance_settings(_company(), dict(call.body))
    return _settings()


# Payments -------------------------------------------------------------------

PAYMENT_QUERY = {**LIST_QUERY,
    'status': {'type': 'string', 'enum': PAYMENT_STATUSES},
    'payment_method': {'type': 'string', 'enum': PAYMENT_METHODS},
    'customer_id': ID,
    'invoice_id': ID,
    'date_from': {**DATE, 'description': "Payment date on or after"},
    'date_to': {**DATE, 'description': "Payment date on or before"},
    }


@endpoint('GET', '/api/finance/payments',
    summary="The payments received by the business",
    query=PAYMENT_QUERY, response=page_of(PAYMENT),
    errors={403: _FORBIDDEN})
def list_payments(call):
    """Newest first. ?q= searches the number and the reference; ?order=
    accepts payment_date, payment_number and amount."""
    Payment = Pool().get('monitorbizz.finance.payment')
    query = call.query
    domain = [('kind', '=', 'receipt')]
    if query.get('status'):
        state, = [s for s, v in _PAYMENT_STATES.items()
            if v == query['status']]
        domain.append(('state', '=', state))
    for name, field in [('payment_method', 'payment_method'),
            ('customer_id', 'party'), ('invoice_id', 'invoice')]:
        if query.get(name):
            domain.append((field, '=', query[name]))
    if query.get('date_from'):
        domain.append(('payment_date', '>=', query['date_from']))
    if query.get('date_to'):
        domain.append(('payment_date', '<=', query['date_to']))
    page = paginate(call, Payment, ['id'], domain=domain,
        orders={'payment_date': 'payment_date', 'payment_number': 'number',
            'amount': 'amount'},
        default_order=[('payment_date', 'DESC'), ('id', 'DESC')])
    page['items'] = [_payment(p)
        for p in Payment.browse([r['id'] for r in page['items']])]
    return page


PAYMENTS.read("A payment", response=PAYMENT, module=__name__)

PAYMENTS.action('void', 'void', summary="Void a payment", response=PAYMENT,
    module=__name__,
    description="Its journal entry is reversed and the invoice reopened "
    "(its balance due again).",
    errors={403: _FORBIDDEN,
        409: "Not a recorded payment (invalid_state)"})(None)

PAYMENTS.action('clear', 'clear', summary="A cheque is cleared",
    response=PAYMENT, module=__name__,
    description="The bank credited the cheque: moved from cheques in hand "
    "to the bank.",
    errors={403: _FORBIDDEN,
        409: "Not a recorded cheque (invalid_state)"})(None)

PAYMENTS.action('bounce', 'bounce', summary="A cheque bounced",
    response=PAYMENT, module=__name__,
    description="The cheque was dishonoured: its entry is reversed and the "
    "invoice is due again.",
    errors={403: _FORBIDDEN,
        409: "Not a recorded cheque (invalid_state)"})(None)


# Expenses -------------------------------------------------------------------

EXPENSE_KINDS = ['material', 'labor', 'overhead', 'utilities', 'maintenance']
EXPENSE_STATUSES = ['draft', 'posted', 'cancelled']
EXPENSE_METHODS = [*PAYMENT_METHODS, 'unpaid']
# A receipt of at most 5 MiB, in base64
RECEIPT_BASE64_MAX = 4 * (5 * 1024 * 1024 // 3 + 1)
EXPENSE = define('Expense', record({
            'id': {'type': 'integer'},
            'expense_number': {'type': ['string', 'null'],
                'description': "EXP-<year>-NNN, given when posted"},
            'category_id': {'type': 'integer'},
            'category_name': {'type': 'string'},
            'kind': {'type': 'string', 'enum': EXPENSE_KINDS},
            'expense_date': DATE,
            'amount': {**MONEY, 'description': "Before GST"},
            'gst_rate': {'type': 'integer', 'enum': GST_RATES},
            'interstate': {'type': 'boolean'},
            'claim_gst': {'type': 'boolean'},
            'cgst_amount': MONEY,
            'sgst_amount': MONEY,
            'igst_amount': MONEY,
            'total_amount': MONEY,
            'vendor_id': {'type': ['integer', 'null']},
            'payment_method': {'type': 'string', 'enum': EXPENSE_METHODS},
            'reference_number': {'type': ['string', 'null']},
            'description': {'type': ['string', 'null']},
            'receipt_url': {'type': ['string', 'null'],
                'description': "The receipt, when one was uploaded"},
            'status': {'type': 'string', 'enum': EXPENSE_STATUSES},
            'created_at': TIMESTAMP,
            'updated_at': TIMESTAMP,
            }))
_EXPENSE_INPUT = {
    'category_id': {**ID, 'description': "A base category or one of the "
        "business's subcategories"},
    'expense_date': {**DATE, 'description': "Not after today (default "
        "today)"},
    'amount': {**MONEY_IN, 'minimum': 0.01, 'description': "Before GST"},
    'gst_rate': {'type': 'integer', 'enum': GST_RATES},
    'interstate': {'type': 'boolean', 'description': "IGST rather than "
        "CGST+SGST"},
    'claim_gst': {'type': 'boolean', 'description': "Claim the input GST "
        "(the vendor needs a GSTIN)"},
    'vendor_id': {**ID, 'type': ['integer', 'null']},
    'payment_method': {'type': 'string', 'enum': EXPENSE_METHODS,
        'description': "unpaid: owed to the vendor"},
    'reference_number': {'type': ['string', 'null'], 'maxLength': 100},
    'description': {'type': ['string', 'null'], 'maxLength': 500},
    }
EXPENSE_CREATE = define('ExpenseCreate', {
        'type': 'object', 'required': ['category_id', 'amount'],
        'additionalProperties': False, 'properties': _EXPENSE_INPUT})
EXPENSE_UPDATE = define('ExpenseUpdate', {
        'type': 'object', 'additionalProperties': False,
        'description': "The fields to change; only a draft changes",
        'properties': _EXPENSE_INPUT})
RECEIPT_UPLOAD = define('ReceiptUpload', {
        'type': 'object', 'required': ['data'],
        'additionalProperties': False,
        'properties': {
            'data': {'type': 'string', 'minLength': 1,
                'maxLength': RECEIPT_BASE64_MAX,
                'description': "The file in base64: PNG, JPEG, WebP or PDF "
                "(known by its content), at most 5 MiB"},
            },
        })
_RECEIPT_TYPES = {'png': 'image/png', 'jpg': 'image/jpeg',
    'webp': 'image/webp', 'pdf': 'application/pdf'}


def _expense(expense):
    return {
        'id': expense.id,
        'expense_number': expense.number,
        'category_id': expense.category.id,
        'category_name': expense.category.rec_name,
        'kind': expense.kind,
        'expense_date': expense.expense_date,
        'amount': _money(expense.amount),
        'gst_rate': int(expense.gst_rate),
        'interstate': bool(expense.interstate),
        'claim_gst': bool(expense.claim_gst),
        'cgst_amount': _money(expense.cgst_amount),
        'sgst_amount': _money(expense.sgst_amount),
        'igst_amount': _money(expense.igst_amount),
        'total_amount': _money(expense.total_amount),
        'vendor_id': expense.vendor.id if expense.vendor else None,
        'payment_method': expense.payment_method,
        'reference_number': expense.reference_number or None,
        'description': expense.description or None,
        'receipt_url': (f'/api/finance/expenses/{expense.id}/receipt'
            if expense.receipt_name else None),
        'status': expense.state,
        'created_at': expense.create_date,
        'updated_at': expense.write_date or expense.create_date,
        }


EXPENSE_CATEGORY = define('ExpenseCategory', record({
            'id': {'type': 'integer'},
            'name': {'type': 'string', 'description': "With its parent's: "
                "Overhead / Rent"},
            'kind': {'type': 'string', 'enum': EXPENSE_KINDS},
            'parent_id': {'type': ['integer', 'null']},
            }))


@endpoint('GET', '/api/finance/expense-categories',
    summary="The business's expense categories", query=LIST_QUERY,
    response=page_of(EXPENSE_CATEGORY), errors={403: _FORBIDDEN})
def list_expense_categories(call):
    """The five base categories and the business's subcategories; ?q=
    searches the name."""
    Category = Pool().get('monitorbizz.finance.expense.category')
    return paginate(call, Category, ['id', 'rec_name', 'kind', 'parent'],
        orders={'name': 'name'}, default_order=[('id', 'ASC')],
        search='name', serialize=lambda r: {'id': r['id'],
            'name': r['rec_name'], 'kind': r['kind'],
            'parent_id': r['parent']})


EXPENSES = Resource('/api/finance/expenses', 'monitorbizz.finance.expense',
    'expense', _expense)
EXPENSE_QUERY = {**LIST_QUERY,
    'status': {'type': 'string', 'enum': EXPENSE_STATUSES},
    'kind': {'type': 'string', 'enum': EXPENSE_KINDS},
    'category_id': ID,
    'payment_method': {'type': 'string', 'enum': EXPENSE_METHODS},
    'date_from': {**DATE, 'description': "Expense date on or after"},
    'date_to': {**DATE, 'description': "Expense date on or before"},
    }


@endpoint('GET', '/api/finance/expenses',
    summary="The business's expenses", query=EXPENSE_QUERY,
    response=page_of(EXPENSE), errors={403: _FORBIDDEN})
def list_expenses(call):
    """Newest first. ?q= searches the number and the description; ?order=
    accepts expense_date, expense_number and amount."""
    Expense = Pool().get('monitorbizz.finance.expense')
    query = call.query
    domain = []
    for name, field in [('status', 'state'), ('kind', 'kind'),
            ('category_id', 'category'),
            ('payment_method', 'payment_method')]:
        if query.get(name):
            domain.append((field, '=', query[name]))
    if query.get('date_from'):
        domain.append(('expense_date', '>=', query['date_from']))
    if query.get('date_to'):
        domain.append(('expense_date', '<=', query['date_to']))
    search = query.pop('q', None)
    if search:
        like = f'%{search}%'
        domain.append(['OR', ('number', 'ilike', like),
                ('description', 'ilike', like)])
    page = paginate(call, Expense, ['id'], domain=domain,
        orders={'expense_date': 'expense_date', 'expense_number': 'number',
            'amount': 'amount'},
        default_order=[('expense_date', 'DESC'), ('id', 'DESC')])
    page['items'] = [_expense(e)
        for e in Expense.browse([r['id'] for r in page['items']])]
    return page


def _expense_values(body):
    pool = Pool()
    Category = pool.get('monitorbizz.finance.expense.category')
    Party = pool.get('party.party')
    values = {}
    if 'category_id' in body:
        if not Category.search([('id', '=', body['category_id'])], limit=1):
            raise _invalid('category_id', "no such category in your "
                "business")
        values['category'] = body['category_id']
    if body.get('vendor_id'):
        if not Party.search([('id', '=', body['vendor_id'])], limit=1):
            raise _invalid('vendor_id', "no such vendor in your business")
    if 'vendor_id' in body:
        values['vendor'] = body['vendor_id']
    if 'amount' in body:
        values['amount'] = _decimal(body['amount'], 'amount',
            Decimal('0.01'))
    if 'gst_rate' in body:
        values['gst_rate'] = str(body['gst_rate'])
    for name in ['expense_date', 'interstate', 'claim_gst',
            'payment_method', 'reference_number', 'description']:
        if name in body:
            values[name] = body[name]
    return values


_EXPENSE_FIELDS = {'category': 'category_id', 'vendor': 'vendor_id'}


@endpoint('POST', '/api/finance/expenses', summary="Record an expense",
    request=EXPENSE_CREATE, response=EXPENSE, status=201,
    field_names=_EXPENSE_FIELDS,
    errors={403: _FORBIDDEN, 422: "An unknown category or vendor, a date "
        "after today (expense_future), unpaid without a vendor "
        "(vendor_required), GST claimed without the vendor's GSTIN "
        "(gstin_required); " + _INVALID})
def create_expense(call):
    "A draft, numbered when posted; every member may record one."
    Expense = Pool().get('monitorbizz.finance.expense')
    _company()
    expense, = Expense.create([_expense_values(call.body)])
    return _expense(Expense(expense.id))


EXPENSES.read("An expense", response=EXPENSE, module=__name__)


@EXPENSES.route('PUT', summary="Change a draft expense",
    request=EXPENSE_UPDATE, response=EXPENSE, field_names=_EXPENSE_FIELDS,
    errors={403: _FORBIDDEN,
        409: "Only a draft changes (expense_not_draft)", 422: _INVALID})
def update_expense(call, expense):
    "The expense model refuses the change of a posted one."
    Expense = Pool().get('monitorbizz.finance.expense')
    values = _expense_values(call.body)
    if values:
        Expense.write([expense], values)
    return _expense(Expense(expense.id))


@EXPENSES.route('DELETE', summary="Delete a draft expense", status=204,
    errors={403: _FORBIDDEN,
        409: "Posted or cancelled: cancel it instead (expense_not_draft)"})
def delete_expense(call, expense):
    "Only drafts are deleted; a posted expense is cancelled (reversed)."
    Pool().get('monitorbizz.finance.expense').delete([expense])


EXPENSES.action('post', 'post', summary="Post an expense", response=EXPENSE,
    module=__name__,
    description="Numbered EXP-<year>-NNN; its balanced journal entry is "
    "posted (the category's account and the input GST claimed, against the "
    "method's account or the vendor's payable).",
    errors={403: _FORBIDDEN, 409: "Not a draft (invalid_state)"})(None)

EXPENSES.action('cancel', 'cancel', summary="Cancel a posted expense",
    response=EXPENSE, module=__name__,
    description="Its journal entry is reversed; the expense stays, "
    "cancelled.",
    errors={403: _FORBIDDEN, 409: "Not posted (invalid_state), or its "
        "payable already paid (expense_paid)"})(None)


@EXPENSES.route('PUT', '/receipt', summary="Attach the receipt",
    request=RECEIPT_UPLOAD, response=EXPENSE,
    field_names={'receipt': 'data'},
    errors={403: _FORBIDDEN, 422: "Not base64, not a PNG, JPEG, WebP or "
        "PDF by its content (receipt_type), or above 5 MiB "
        "(receipt_too_large)"})
def upload_receipt(call, expense):
    "Replaces the receipt; allowed whatever the expense's state."
    Expense = Pool().get('monitorbizz.finance.expense')
    try:
        data = base64.b64decode(call.body['data'], validate=True)
    except (binascii.Error, ValueError):
        raise _invalid('data', "must be base64")
    Expense.write([expense], {'receipt': data})
    return _expense(Expense(expense.id))


@EXPENSES.route('GET', '/receipt', summary="The receipt of an expense",
    response={'type': 'string', 'contentMediaType':
        'application/octet-stream'},
    content_type='application/octet-stream',
    errors={403: _FORBIDDEN, 404: "No such expense, or it has no receipt "
        "(receipt_not_found)"})
def get_receipt(call, expense):
    "Served with the type of its content (PNG, JPEG, WebP or PDF)."
    name = expense.receipt_name
    if not name:
        raise ApiError(404, 'receipt_not_found',
            "The expense has no receipt.")
    extension = name.rsplit('.', 1)[-1]
    return Response(bytes(expense.receipt),
        mimetype=_RECEIPT_TYPES.get(extension, 'application/octet-stream'),
        headers={'Content-Disposition':
            f'inline; filename="{expense.number or expense.id}.{extension}"',
            'Cache-Control': 'no-store'})
