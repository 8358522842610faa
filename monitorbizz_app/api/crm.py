# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/crm/customers, /api/crm/leads, /api/crm/quotations and
/api/sales/orders (seed sections 2 A-D, 4 and 6) on monitorbizz_crm.

Customers are parties with the customer role, leads Tryton opportunities,
quotations and orders Tryton sales. Every handler runs as the calling user
in their current business: Tryton's access rights decide what their role
may do (403) and its record rules what they see, so another business's
record answers 404 as if it did not exist. Refused writes raise, and the
transaction is rolled back: nothing changes."""
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.transaction import Transaction

from ..account_in.product import hsn_sac_problem
from .businesses import _text
from .framework import (
    LIST_QUERY, ApiError, Resource, amount, endpoint, page_of, paginate)
from .schema import (
    EMAIL, ID, MAX_AMOUNT, MAX_QUANTITY, NULLABLE_ID, decimal, define, record)

__all__ = []

GST_RATES = [0, 5, 12, 18, 28]


# Schemas --------------------------------------------------------------------

MONEY_IN = decimal(2, MAX_AMOUNT,
    description="Amount in the business's currency (a JSON number or a "
    "decimal string)")
PRICE_IN = decimal(4, MAX_AMOUNT, description="Price per unit in the "
    "business's currency (a JSON number or a decimal string)")
QUANTITY_IN = decimal(4, MAX_QUANTITY)
MONEY = {'type': 'string', 'format': 'decimal',
    'description': "Amount as a decimal string, exact to the paisa"}
NULLABLE_MONEY = {'type': ['string', 'null'], 'format': 'decimal'}
DATE = {'type': 'string', 'format': 'date'}
NULLABLE_DATE = {'type': ['string', 'null'], 'format': 'date'}
TIMESTAMP = {'type': ['string', 'null'], 'format': 'date-time'}

ADDRESS = define('CrmAddress', {
        'type': 'object',
        'additionalProperties': False,
        'properties': {
            'street': _text(500),
            'city': _text(100),
            'postal_code': _text(20),
            'state': _text(10, "ISO 3166-2 code of the Indian state "
                "(e.g. IN-MH): it decides CGST+SGST or IGST"),
            },
        })
NULLABLE_ADDRESS = {'anyOf': [ADDRESS, {'type': 'null'}]}
CUSTOMER_STATUSES = ['active', 'inactive', 'blocked']
CUSTOMER_TYPES = ['retail', 'wholesale', 'distributor']
_CUSTOMER_INPUT = {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 200},
    'email': {**EMAIL, 'type': ['string', 'null']},
    'phone': _text(50),
    'company_name': _text(200),
    'gstin': _text(20, "GSTIN, checked with its check digit; unique "
        "within the business"),
    'billing_address': NULLABLE_ADDRESS,
    'shipping_address': NULLABLE_ADDRESS,
    'customer_type': {'type': ['string', 'null'],
        'enum': [*CUSTOMER_TYPES, None]},
    'credit_limit': {**MONEY_IN, 'type': ['number', 'string', 'null'],
        'description': "Credit limit (null: none)"},
    'payment_terms': {'type': ['integer', 'null'], 'minimum': 0,
        'maximum': 365, 'description': "Days to pay (one of the "
        "platform's payment terms: 0, 15, 30, 45, 60)"},
    'status': {'type': 'string', 'enum': CUSTOMER_STATUSES},
    'tags': {'type': 'array', 'maxItems': 20,
        'items': {'type': 'string', 'minLength': 1, 'maxLength': 50}},
    'notes': _text(5000),
    }
CUSTOMER_CREATE = define('CustomerCreate', {
        'type': 'object', 'required': ['name'],
        'additionalProperties': False, 'properties': _CUSTOMER_INPUT})
CUSTOMER_UPDATE = define('CustomerUpdate', {
        'type': 'object', 'additionalProperties': False,
        'description': "The fields to change; the others are kept",
        'properties': _CUSTOMER_INPUT})
_CUSTOMER_FIELDS = {
    'id': {'type': 'integer'},
    'customer_code': {'type': ['string', 'null'],
        'description': "CUST-001..., assigned on creation, immutable"},
    'name': {'type': 'string'},
    'email': {'type': ['string', 'null']},
    'phone': {'type': ['string', 'null']},
    'company_name': {'type': ['string', 'null']},
    'gstin': {'type': ['string', 'null']},
    'billing_address': NULLABLE_ADDRESS,
    'shipping_address': NULLABLE_ADDRESS,
    'customer_type': {'type': ['string', 'null'],
        'enum': [*CUSTOMER_TYPES, None]},
    'credit_limit': NULLABLE_MONEY,
    'payment_terms': {'type': ['integer', 'null']},
    'status': {'type': 'string', 'enum': CUSTOMER_STATUSES},
    'tags': {'type': 'array', 'items': {'type': 'string'}},
    'notes': {'type': ['string', 'null']},
    'created_at': TIMESTAMP,
    'updated_at': TIMESTAMP,
    }
CUSTOMER = define('Customer', record(_CUSTOMER_FIELDS))
CUSTOMER_DELETED = define('CustomerDeleted', {
        'type': 'object', 'required': ['id', 'action', 'message'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'action': {'type': 'string', 'enum': ['deleted', 'deactivated']},
            'message': {'type': 'string'},
            },
        })

LEAD_SOURCES = ['website', 'referral', 'cold_call', 'trade_show', 'other']
LEAD_STATUSES = ['new', 'contacted', 'qualified', 'converted', 'lost']
_LEAD_INPUT = {
    'assigned_to': {**NULLABLE_ID, 'description': "User id of a member "
        "of the business"},
    'lead_source': {'type': ['string', 'null'],
        'enum': [*LEAD_SOURCES, None]},
    'company_name': _text(200),
    'contact_person': _text(200),
    'email': {**EMAIL, 'type': ['string', 'null']},
    'phone': _text(50),
    'gstin': _text(20),
    'status': {'type': 'string', 'enum': ['new', 'contacted', 'qualified',
            'lost'], 'description': "converted only through /convert; "
        "lost needs lost_reason"},
    'lost_reason': _text(2000),
    'estimated_value': {**MONEY_IN, 'type': ['number', 'string', 'null']},
    'probability': {'type': 'integer', 'minimum': 0, 'maximum': 100},
    'expected_close_date': NULLABLE_DATE,
    'notes': _text(5000),
    }
LEAD_CREATE = define('LeadCreate', {
        'type': 'object', 'additionalProperties': False,
        'properties': _LEAD_INPUT})
LEAD_UPDATE = define('LeadUpdate', {
        'type': 'object', 'additionalProperties': False,
        'description': "The fields to change; the others are kept",
        'properties': _LEAD_INPUT})
_LEAD_FIELDS = {
    'id': {'type': 'integer'},
    'number': {'type': ['string', 'null']},
    'assigned_to': {'type': ['integer', 'null']},
    'lead_source': {'type': ['string', 'null']},
    'company_name': {'type': ['string', 'null']},
    'contact_person': {'type': ['string', 'null']},
    'email': {'type': ['string', 'null']},
    'phone': {'type': ['string', 'null']},
    'gstin': {'type': ['string', 'null']},
    'status': {'type': 'string', 'enum': LEAD_STATUSES},
    'lost_reason': {'type': ['string', 'null']},
    'estimated_value': NULLABLE_MONEY,
    'probability': {'type': 'integer'},
    'expected_close_date': NULLABLE_DATE,
    'notes': {'type': ['string', 'null']},
    'customer_id': {'type': ['integer', 'null']},
    'created_at': TIMESTAMP,
    'updated_at': TIMESTAMP,
    }
LEAD = define('Lead', record(_LEAD_FIELDS))
LEAD_CONVERT = define('LeadConvert', {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'create_quotation': {'type': 'boolean', 'description':
                "Also open a draft quotation for the customer"},
            },
        })
LEAD_CONVERTED = define('LeadConverted', {
        'type': 'object', 'additionalProperties': False,
        'required': ['lead', 'customer', 'quotation_id', 'customer_created'],
        'properties': {
            'lead': LEAD,
            'customer': CUSTOMER,
            'customer_created': {'type': 'boolean', 'description':
                "false when an existing customer of the business matched "
                "the lead's GSTIN or e-mail"},
            'quotation_id': {'type': ['integer', 'null']},
            },
        })

ITEM_TYPES = ['material', 'service', 'product']
LINE_INPUT = define('DocumentLineInput', {
        'type': 'object', 'additionalProperties': False,
        'required': ['quantity', 'unit_price'],
        'properties': {
            'item_type': {'type': 'string', 'enum': ITEM_TYPES,
                'description': "Checked against the item's kind"},
            'item_id': {**NULLABLE_ID, 'description': "Product variant id "
                "(material, service or product of the business)"},
            'description': _text(1000),
            'quantity': QUANTITY_IN,
            'unit_price': PRICE_IN,
            'tax_rate': {'type': 'integer', 'enum': GST_RATES,
                'description': "GST rate in percent (default 18): "
                "CGST+SGST within the business's state, IGST outside"},
            'discount_percent': decimal(4, 100),
            'hsn_sac': {'type': ['string', 'null'], 'maxLength': 12,
                'description': "HSN code (4, 6 or 8 digits) or SAC code "
                "(6 digits starting with 99); default: the item's"},
            },
        })
LINE = define('DocumentLine', {
        'type': 'object', 'additionalProperties': False,
        'required': ['id', 'item_type', 'item_id', 'description', 'quantity',
            'unit_price', 'tax_rate', 'discount_percent', 'hsn_sac',
            'total_price'],
        'properties': {
            'id': {'type': 'integer'},
            'item_type': {'type': ['string', 'null']},
            'item_id': {'type': ['integer', 'null']},
            'description': {'type': ['string', 'null']},
            'quantity': {'type': 'string', 'format': 'decimal'},
            'unit_price': MONEY,
            'tax_rate': {'type': 'string', 'format': 'decimal'},
            'discount_percent': {'type': 'string', 'format': 'decimal'},
            'hsn_sac': {'type': ['string', 'null']},
            'total_price': {**MONEY, 'description': "The line's taxable "
                "value: quantity × unit_price less discount_percent, to "
                "the paisa; its GST is taken on this value"},
            },
        })
QUOTATION_STATUSES = ['draft', 'sent', 'accepted', 'rejected', 'expired']
_QUOTATION_INPUT = {
    'customer_id': ID,
    'lead_id': NULLABLE_ID,
    'quote_date': DATE,
    'valid_until': DATE,
    'terms_conditions': _text(5000),
    'notes': _text(5000),
    'lines': {'type': 'array', 'maxItems': 200, 'items': LINE_INPUT,
        'description': "On update: replaces every line"},
    }
QUOTATION_CREATE = define('QuotationCreate', {
        'type': 'object', 'additionalProperties': False,
        'required': ['customer_id'], 'properties': _QUOTATION_INPUT})
QUOTATION_UPDATE = define('QuotationUpdate', {
        'type': 'object', 'additionalProperties': False,
        'description': "Draft quotations only; the fields to change",
        'properties': _QUOTATION_INPUT})
_AMOUNTS = {
    'subtotal': {**MONEY, 'description': "Taxable value after discount: "
        "the sum of the lines' total_price, without the shipping charge"},
    'discount_amount': {**MONEY, 'description': "Informative: the "
        "discount already deducted in subtotal (not to deduct again)"},
    'tax_amount': {**MONEY, 'description': "cgst_amount + sgst_amount + "
        "igst_amount"},
    'cgst_amount': {**MONEY, 'description': "Sum of the lines' CGST, each "
        "rate/2 of the line's taxable value rounded to the paisa"},
    'sgst_amount': {**MONEY, 'description': "Sum of the lines' SGST "
        "(equal to CGST on every line)"},
    'igst_amount': {**MONEY, 'description': "Sum of the lines' IGST, each "
        "the rate of the line's taxable value rounded to the paisa"},
    'total_amount': {**MONEY, 'description': "subtotal + shipping "
        "charge (orders) + tax_amount"},
    'total_in_words': {'type': ['string', 'null']},
    }
_QUOTATION_FIELDS = {
    'id': {'type': 'integer'},
    'quote_number': {'type': ['string', 'null']},
    'customer_id': {'type': 'integer'},
    'lead_id': {'type': ['integer', 'null']},
    'quote_date': NULLABLE_DATE,
    'valid_until': NULLABLE_DATE,
    'status': {'type': 'string', 'enum': QUOTATION_STATUSES},
    'rejection_reason': {'type': ['string', 'null']},
    'order_id': {'type': ['integer', 'null'], 'description':
        "The sales order it became (the same record, now an order)"},
    **_AMOUNTS,
    'terms_conditions': {'type': ['string', 'null']},
    'notes': {'type': ['string', 'null']},
    'lines': {'type': 'array', 'items': LINE},
    'created_at': TIMESTAMP,
    'updated_at': TIMESTAMP,
    }
QUOTATION = define('Quotation', record(_QUOTATION_FIELDS))
QUOTATION_ITEM = define('QuotationItem', {
        'type': 'object', 'additionalProperties': False,
        'required': ['id', 'quote_number', 'customer_id', 'customer_name',
            'quote_date', 'valid_until', 'status', 'subtotal', 'tax_amount',
            'total_amount'],
        'properties': {
            'id': {'type': 'integer'},
            'quote_number': {'type': ['string', 'null']},
            'customer_id': {'type': 'integer'},
            'customer_name': {'type': 'string'},
            'quote_date': NULLABLE_DATE,
            'valid_until': NULLABLE_DATE,
            'status': {'type': 'string', 'enum': QUOTATION_STATUSES},
            'subtotal': MONEY,
            'tax_amount': MONEY,
            'total_amount': MONEY,
            },
        })
QUOTATION_REJECT = define('QuotationReject', {
        'type': 'object', 'additionalProperties': False,
        'required': ['reason'],
        'properties': {'reason': {'type': 'string', 'minLength': 1,
                'maxLength': 2000}},
        })
QUOTATION_SENT = define('QuotationSent', {
        'type': 'object', 'additionalProperties': False,
        'required': ['quotation', 'sent_to'],
        'properties': {
            'quotation': QUOTATION,
            'sent_to': {'type': 'string', 'description': "The customer's "
                "e-mail address the PDF was sent to"},
            },
        })

ORDER_STATUSES = ['pending', 'confirmed', 'in_production', 'ready_to_ship',
    'shipped', 'delivered', 'cancelled']
ORDER_STATUS = {'type': 'string', 'enum': ORDER_STATUSES, 'description':
    "Derived: pending (not confirmed), confirmed, in_production (a work "
    "order of it is not completed), ready_to_ship (its work orders "
    "completed and the goods still to ship in stock), shipped (every good "
    "left on shipments), delivered (the customer received them: "
    "/deliver), cancelled"}
WORK_ORDER_REF = define('SalesOrderWorkOrder', record({
            'id': {'type': 'integer'},
            'number': {'type': ['string', 'null']},
            'status': {'type': 'string', 'enum': ['draft', 'scheduled',
                    'in_progress', 'completed', 'cancelled']},
            'quantity_planned': {'type': 'string', 'format': 'decimal'},
            }))
SHIPMENT = define('SalesOrderShipment', record({
            'id': {'type': 'integer'},
            'number': {'type': ['string', 'null']},
            'state': {'type': 'string', 'description': "Tryton's state of "
                "the customer shipment: waiting, assigned, picked, packed, "
                "shipped, done"},
            'date': NULLABLE_DATE,
            'lines': {'type': 'array', 'items': record({
                        'line_id': {'type': ['integer', 'null']},
                        'item_id': {'type': 'integer'},
                        'quantity': {'type': 'string', 'format': 'decimal'},
                        'batch_id': {'type': ['integer', 'null']},
                        'batch_number': {'type': ['string', 'null']},
                        })},
            }))
TO_SHIP = define('SalesOrderLineToShip', record({
            'line_id': {'type': 'integer'},
            'item_id': {'type': 'integer'},
            'quantity': {'type': 'string', 'format': 'decimal'},
            'quantity_shipped': {'type': 'string', 'format': 'decimal'},
            'quantity_remaining': {'type': 'string', 'format': 'decimal'},
            }))
PRIORITIES = ['low', 'medium', 'high', 'urgent']
PAYMENT_STATUSES = ['unpaid', 'partial', 'paid']
_ORDER_INPUT = {
    'customer_id': ID,
    'order_date': DATE,
    'delivery_date': NULLABLE_DATE,
    'priority': {'type': 'string', 'enum': PRIORITIES},
    'shipping_cost': MONEY_IN,
    'notes': _text(5000),
    'lines': {'type': 'array', 'maxItems': 200, 'items': LINE_INPUT,
        'description': "On update: replaces every line (pending orders "
        "not yet sent as quotations)"},
    }
ORDER_CREATE = define('OrderCreate', {
        'type': 'object', 'additionalProperties': False,
        'required': ['customer_id', 'lines'], 'properties': _ORDER_INPUT})
ORDER_UPDATE = define('OrderUpdate', {
        'type': 'object', 'additionalProperties': False,
        'description': "Pending orders; the fields to change",
        'properties': _ORDER_INPUT})
_ORDER_FIELDS = {
    'id': {'type': 'integer'},
    'order_number': {'type': ['string', 'null']},
    'customer_id': {'type': 'integer'},
    'quotation_id': {'type': ['integer', 'null']},
    'quote_number': {'type': ['string', 'null']},
    'order_date': NULLABLE_DATE,
    'delivery_date': NULLABLE_DATE,
    'status': ORDER_STATUS,
    'priority': {'type': 'string', 'enum': PRIORITIES},
    'payment_status': {'type': 'string', 'enum': PAYMENT_STATUSES},
    'work_orders': {'type': 'array', 'items': WORK_ORDER_REF,
        'description': "The work orders confirming the order created (made-"
        "to-order products)"},
    'goods': {'type': 'array', 'items': TO_SHIP, 'description': "Per line "
        "of goods: ordered, shipped and still to ship"},
    'shipments': {'type': 'array', 'items': SHIPMENT},
    'delivered_date': {**NULLABLE_DATE, 'description': "When the customer "
        "received the goods (/deliver)"},
    **_AMOUNTS,
    'shipping_cost': MONEY,
    'credit_approved_by': {'type': ['integer', 'null']},
    'credit_approved_at': TIMESTAMP,
    'notes': {'type': ['string', 'null']},
    'lines': {'type': 'array', 'items': LINE},
    'created_at': TIMESTAMP,
    'updated_at': TIMESTAMP,
    }
ORDER = define('SalesOrder', record(_ORDER_FIELDS))
ORDER_ITEM = define('SalesOrderItem', {
        'type': 'object', 'additionalProperties': False,
        'required': ['id', 'order_number', 'customer_id', 'customer_name',
            'order_date', 'delivery_date', 'status', 'priority',
            'total_amount'],
        'properties': {
            'id': {'type': 'integer'},
            'order_number': {'type': ['string', 'null']},
            'customer_id': {'type': 'integer'},
            'customer_name': {'type': 'string'},
            'order_date': NULLABLE_DATE,
            'delivery_date': NULLABLE_DATE,
            'status': ORDER_STATUS,
            'priority': {'type': 'string', 'enum': PRIORITIES},
            'total_amount': MONEY,
            },
        })
ORDER_SHIP = define('OrderShip', {
        'type': 'object', 'additionalProperties': False,
        'required': ['lines'],
        'properties': {
            'lines': {'type': 'array', 'minItems': 1, 'maxItems': 200,
                'items': {
                    'type': 'object', 'additionalProperties': False,
                    'required': ['line_id', 'quantity'],
                    'properties': {
                        'line_id': ID,
                        'quantity': {**QUANTITY_IN, 'description':
                            "In the line's unit; at most what remains to "
                            "ship of the line"},
                        'batch_id': {**NULLABLE_ID, 'description':
                            "The batch picked; empty: Tryton picks from "
                            "the batches in stock"},
                        },
                    }},
            },
        })
ORDER_DELIVER = define('OrderDeliver', {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'delivered_date': {**DATE, 'description': "Default today; not "
                "before the last shipment nor after today"},
            },
        })
ORDER_CONFIRM = define('OrderConfirm', {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'approve_credit_override': {'type': 'boolean', 'description':
                "Owners and managers: confirm even above the customer's "
                "credit limit (recorded on the order)"},
            },
        })


# Helpers --------------------------------------------------------------------

def _company():
    "The caller's current business (the context of the transaction)"
    company = Transaction().context.get('company')
    if not company:
        raise ApiError(409, 'no_business',
            "Create or switch to a business first.")
    return company


def _invalid(field, problem):
    return ApiError(422, 'validation_error', f"{field}: {problem}",
        {field: problem})


def _decimal(value, field, minimum=Decimal(0)):
    value = Decimal(str(value))
    if not value.is_finite() or value < minimum:
        raise _invalid(field, f"must be at least {minimum}")
    return value


def _money(value):
    return amount(value or 0)


def _timestamps(row):
    return {
        'created_at': row.get('create_date'),
        'updated_at': row.get('write_date') or row.get('create_date'),
        }


# Customers ------------------------------------------------------------------

def _state(code, field):
    Subdivision = Pool().get('country.subdivision')
    states = Subdivision.search([
            ('code', '=', code), ('country.code', '=', 'IN')], limit=1)
    if not states:
        raise _invalid(field, "unknown Indian state code")
    return states[0]


def _address_values(values, field):
    result = {}
    for name in ['street', 'city', 'postal_code']:
        if name in values:
            result[name] = values[name] or None
    if values.get('state'):
        state = _state(values['state'], f'{field}.state')
        result['country'] = state.country.id
        result['subdivision'] = state.id
    elif 'state' in values:
        result['subdivision'] = None
    return result


def _apply_customer(party, body):
    "Write body onto party (saved): contacts, GSTIN, addresses, terms"
    pool = Pool()
    Party = pool.get('party.party')
    Address = pool.get('party.address')
    Mechanism = pool.get('party.contact_mechanism')
    Identifier = pool.get('party.identifier')
    Category = pool.get('party.category')
    company = _company()
    values = {}
    for api, name in [('name', 'name'), ('company_name', 'company_name'),
            ('customer_type', 'customer_type'), ('notes', 'crm_notes')]:
        if api in body:
            values[name] = body[api]
    if 'status' in body:
        values['customer_status'] = body['status']
    if 'credit_limit' in body:
        values['credit_limit_amount'] = (None if body['credit_limit'] is None
            else _decimal(body['credit_limit'], 'credit_limit'))
    if 'payment_terms' in body:
        values['customer_payment_term'] = (None
            if body['payment_terms'] is None
            else Party.payment_term_of_days(body['payment_terms']).id)
    if 'tags' in body:
        names = sorted(set(body['tags']))
        existing = {c.name: c for c in Category.search(
                [('name', 'in', names), ('company', '=', company)])}
        missing = [{'name': n, 'company': company} for n in names
            if n not in existing]
        wanted = {c.id for c in [*existing.values(),
                *(Category.create(missing) if missing else [])]}
        current = ({c.id for c in party.categories}
            if party.id is not None else set())
        values['categories'] = [('remove', sorted(current - wanted)),
            ('add', sorted(wanted - current))]
    if party.id is None:
        values.setdefault('is_customer', True)
        with Transaction().set_context(party_kind='customer'):
            party, = Party.create([values])
    elif values:
        Party.write([party], values)
    for kind in ['email', 'phone']:
        if kind not in body:
            continue
        mechanisms = [m for m in party.contact_mechanisms if m.type == kind]
        if body[kind]:
            if mechanisms:
                Mechanism.write(mechanisms[:1], {'value': body[kind]})
            else:
                Mechanism.create([{'party': party.id, 'type': kind,
                            'value': body[kind]}])
        elif mechanisms:
            Mechanism.delete(mechanisms)
    if 'gstin' in body:
        identifiers = [i for i in party.identifiers if i.type == 'in_vat']
        gstin = (body['gstin'] or '').replace(' ', '').upper()
        try:
            if gstin and identifiers:
                Identifier.write(identifiers[:1], {'code': gstin})
            elif gstin:
                Identifier.create([{'party': party.id, 'type': 'in_vat',
                            'code': gstin}])
            elif identifiers:
                Identifier.delete(identifiers)
        except ValidationError as e:
            raise _invalid('gstin', e.message) from e
        Party.check_gstin_unique([Party(party.id)])
    party = Party(party.id)
    for api, flag in [('billing_address', 'invoice'),
            ('shipping_address', 'delivery')]:
        if api not in body or body[api] is None:
            continue
        address_values = _address_values(body[api], api)
        current = [a for a in party.addresses if getattr(a, flag, False)]
        other = 'delivery' if flag == 'invoice' else 'invoice'
        if current and not (getattr(current[0], other, False)
                and api == 'shipping_address'
                and body.get('billing_address') != body[api]):
            Address.write(current[:1], address_values)
        else:
            flags = {flag: True, other: False}
            if current:
                Address.write(current[:1], {flag: False})
            Address.create([{'party': party.id, **flags, **address_values}])
    return Party(party.id)


def _address(row):
    if not row:
        return None
    return {
        'street': row.get('street') or None,
        'city': row.get('city') or None,
        'postal_code': row.get('postal_code') or None,
        'state': (row.get('subdivision.') or {}).get('code'),
        }


def _customers(ids):
    """The customers ids, read in a constant number of queries whatever
    their number"""
    pool = Pool()
    Party = pool.get('party.party')
    Mechanism = pool.get('party.contact_mechanism')
    Identifier = pool.get('party.identifier')
    Address = pool.get('party.address')
    Category = pool.get('party.category')
    CreditLimit = pool.get('party.party.credit_limit_amount')
    PartyTerm = pool.get('party.party.payment_term')
    PaymentTerm = pool.get('account.invoice.payment_term')
    company = _company()
    from ..crm.party import payment_term_days
    with Transaction().set_context(active_test=False):
        rows = {r['id']: r for r in Party.read(ids, [
                    'code', 'name', 'company_name', 'customer_type', 'active',
                    'blocked', 'crm_notes', 'categories', 'create_date',
                    'write_date'])}
        mechanisms = Mechanism.search_read([('party', 'in', ids)],
            fields_names=['party', 'type', 'value'],
            order=[('sequence', 'ASC'), ('id', 'ASC')])
        identifiers = Identifier.search_read(
            [('party', 'in', ids), ('type', '=', 'in_vat')],
            fields_names=['party', 'code'])
        addresses = Address.search_read([('party', 'in', ids)],
            fields_names=['party', 'street', 'city', 'postal_code',
                'subdivision.code', 'invoice', 'delivery'],
            order=[('sequence', 'ASC'), ('id', 'ASC')])
    category_ids = sorted({c for r in rows.values() for c in r['categories']})
    categories = {c['id']: c['name'] for c in Category.read(
            category_ids, ['name'])}
    limits = {r['party']: r['credit_limit_amount']
        for r in CreditLimit.search_read([('party', 'in', ids),
                ('company', '=', company)],
            fields_names=['party', 'credit_limit_amount'])}
    term_days = {t.id: payment_term_days(t) for t in PaymentTerm.search([])}
    terms = {r['party']: term_days.get(r['customer_payment_term'])
        for r in PartyTerm.search_read([('party', 'in', ids)],
            fields_names=['party', 'customer_payment_term'])
        if r['customer_payment_term']}
    items = []
    for id_ in ids:
        row = rows[id_]
        contacts = {}
        for m in mechanisms:
            if m['party'] == id_:
                contacts.setdefault(m['type'], m['value'])
        own = [a for a in addresses if a['party'] == id_]
        billing = next((a for a in own if a.get('invoice')),
            own[0] if own else None)
        shipping = next((a for a in own if a.get('delivery')), billing)
        gstin = next((i['code'] for i in identifiers if i['party'] == id_),
            None)
        status = ('inactive' if not row['active']
            else 'blocked' if row['blocked'] else 'active')
        limit = limits.get(id_)
        items.append({
                'id': id_,
                'customer_code': row['code'],
                'name': row['name'],
                'email': contacts.get('email'),
                'phone': contacts.get('phone'),
                'company_name': row['company_name'] or None,
                'gstin': gstin,
                'billing_address': _address(billing),
                'shipping_address': _address(shipping),
                'customer_type': row['customer_type'] or None,
                'credit_limit': None if limit is None else _money(limit),
                'payment_terms': terms.get(id_),
                'status': status,
                'tags': sorted(categories[c] for c in row['categories']),
                'notes': row['crm_notes'] or None,
                **_timestamps(row),
                })
    return items


def _customer(party_id):
    return _customers([party_id])[0]


CUSTOMERS = Resource('/api/crm/customers', 'party.party', 'customer',
    lambda party: _customer(party.id), domain=[('is_customer', '=', True)])
_INVALID = ("Invalid fields, each named in error.fields (validation_error); "
    "nothing is changed")
_FORBIDDEN = "The caller's role may not do this (forbidden)"
CUSTOMER_QUERY = {**LIST_QUERY,
    'status': {'type': 'string', 'enum': CUSTOMER_STATUSES, 'description':
        "Only this status (default: active and blocked; inactive "
        "customers are hidden)"},
    'customer_type': {'type': 'string', 'enum': CUSTOMER_TYPES},
    }


@endpoint('GET', '/api/crm/customers', summary="The business's customers",
    query=CUSTOMER_QUERY, response=page_of(CUSTOMER),
    errors={403: _FORBIDDEN})
def list_customers(call):
    """?q= searches name, code, company name, GSTIN and e-mail; ?order=
    accepts name, customer_code and created_at."""
    Party = Pool().get('party.party')
    domain = [('is_customer', '=', True)]
    status = call.query.get('status')
    if status:
        domain.append(('customer_status', '=', status))
    if call.query.get('customer_type'):
        domain.append(('customer_type', '=', call.query['customer_type']))
    search = call.query.pop('q', None)
    if search:
        like = f'%{search}%'
        domain.append(['OR', ('name', 'ilike', like), ('code', 'ilike', like),
                ('company_name', 'ilike', like), ('gstin', 'ilike', like),
                ('contact_mechanisms.value', 'ilike', like)])
    # Inactive customers are hidden unless asked for
    with Transaction().set_context(active_test=status is None):
        page = paginate(call, Party, ['id'], domain=domain,
            orders={'name': 'name', 'customer_code': 'code',
                'created_at': 'create_date'},
            default_order=[('id', 'ASC')])
    page['items'] = _customers([r['id'] for r in page['items']])
    return page


@endpoint('POST', '/api/crm/customers', summary="Create a customer",
    request=CUSTOMER_CREATE, response=CUSTOMER, status=201,
    errors={403: _FORBIDDEN, 409: "The GSTIN is already another party's "
        "of the business (validation_error on gstin answers 422)",
        422: _INVALID})
def create_customer(call):
    """The customer gets the next CUST-NNN code of the business."""
    Party = Pool().get('party.party')
    party = _apply_customer(Party(), call.body)
    return _customer(party.id)


CUSTOMERS.read("A customer", response=CUSTOMER, module=__name__)


@CUSTOMERS.route('PUT', summary="Change a customer",
    request=CUSTOMER_UPDATE, response=CUSTOMER,
    errors={403: _FORBIDDEN, 422: _INVALID})
def update_customer(call, party):
    "The customer code cannot change."
    _apply_customer(party, call.body)
    return _customer(party.id)


@CUSTOMERS.route('DELETE', summary="Delete a customer",
    response=CUSTOMER_DELETED, errors={403: _FORBIDDEN})
def delete_customer(call, party):
    """A customer with documents (leads, quotations, orders, invoices) is
    deactivated, and the answer says so; one without is deleted."""
    Party = Pool().get('party.party')
    id = party.id
    if party.has_documents():
        Party.write([party], {'active': False})
        return {'id': id, 'action': 'deactivated', 'message':
            "The customer has documents: it is deactivated (status "
            "inactive) and hidden from the default lists."}
    Party.delete([party])
    return {'id': id, 'action': 'deleted',
        'message': "The customer is deleted."}


# Leads ----------------------------------------------------------------------

_LEAD_READ = ['number', 'assigned_to', 'lead_source', 'company_name',
    'contact_person', 'email', 'phone', 'gstin', 'lead_status',
    'lost_reason', 'amount', 'conversion_probability',
    'expected_close_date', 'comment', 'party', 'create_date', 'write_date']


def _lead(row):
    probability = row['conversion_probability']
    return {
        'id': row['id'],
        'number': row['number'],
        'assigned_to': row['assigned_to'],
        'lead_source': row['lead_source'] or None,
        'company_name': row['company_name'] or None,
        'contact_person': row['contact_person'] or None,
        'email': row['email'] or None,
        'phone': row['phone'] or None,
        'gstin': row['gstin'] or None,
        'status': row['lead_status'],
        'lost_reason': row['lost_reason'] or None,
        'estimated_value': (None if row['amount'] is None
            else _money(row['amount'])),
        'probability': int(round((probability or 0) * 100)),
        'expected_close_date': row['expected_close_date'],
        'notes': row['comment'] or None,
        'customer_id': row['party'],
        **_timestamps(row),
        }


def _read_lead(id_):
    Opportunity = Pool().get('sale.opportunity')
    row, = Opportunity.read([id_], _LEAD_READ)
    return _lead(row)


LEADS = Resource('/api/crm/leads', 'sale.opportunity', 'lead',
    lambda opportunity: _read_lead(opportunity.id))


def _lead_values(body):
    values = {}
    for api, name in [('assigned_to', 'assigned_to'),
            ('lead_source', 'lead_source'), ('company_name', 'company_name'),
            ('contact_person', 'contact_person'), ('email', 'email'),
            ('phone', 'phone'), ('expected_close_date',
                'expected_close_date'), ('notes', 'comment')]:
        if api in body:
            values[name] = body[api]
    if body.get('gstin'):
        from stdnum.in_ import gstin
        code = gstin.compact(body['gstin'])
        if not gstin.is_valid(code):
            raise _invalid('gstin', "invalid GSTIN")
        values['gstin'] = code
    elif 'gstin' in body:
        values['gstin'] = None
    if 'estimated_value' in body:
        values['amount'] = (None if body['estimated_value'] is None
            else _decimal(body['estimated_value'], 'estimated_value'))
    if 'probability' in body:
        values['conversion_probability'] = body['probability'] / 100
    return values


def _set_lead_status(opportunity, body):
    Opportunity = Pool().get('sale.opportunity')
    status = body.get('status')
    if status is None or status == opportunity.lead_status:
        return
    if opportunity.state in {'converted', 'won'}:
        raise ApiError(409, 'lead_converted',
            "The lead is converted: it cannot change.")
    if status == 'lost':
        if not body.get('lost_reason'):
            raise _invalid('lost_reason', "required to lose a lead")
        Opportunity.mark_lost([opportunity], body['lost_reason'])
        return
    if opportunity.state != 'lead':
        Opportunity.lead([opportunity])
    if status == 'contacted':
        Opportunity.mark_contacted([opportunity])
    elif status == 'qualified':
        Opportunity.opportunity([opportunity])
    elif status == 'new':
        Opportunity.write([opportunity], {'contacted': False})


LEAD_QUERY = {**LIST_QUERY,
    'status': {'type': 'string', 'enum': LEAD_STATUSES},
    'assigned_to': ID,
    }


@endpoint('GET', '/api/crm/leads', summary="The business's leads",
    query=LEAD_QUERY, response=page_of(LEAD), errors={403: _FORBIDDEN})
def list_leads(call):
    """?q= searches company name, contact person and e-mail; ?order=
    accepts created_at, expected_close_date and estimated_value."""
    Opportunity = Pool().get('sale.opportunity')
    domain = []
    if call.query.get('status'):
        domain.append(('lead_status', '=', call.query['status']))
    if call.query.get('assigned_to'):
        domain.append(('assigned_to', '=', call.query['assigned_to']))
    search = call.query.pop('q', None)
    if search:
        like = f'%{search}%'
        domain.append(['OR', ('company_name', 'ilike', like),
                ('contact_person', 'ilike', like), ('email', 'ilike', like),
                ('number', 'ilike', like)])
    page = paginate(call, Opportunity, ['id', *_LEAD_READ], domain=domain,
        orders={'created_at': 'create_date',
            'expected_close_date': 'expected_close_date',
            'estimated_value': 'amount'},
        default_order=[('id', 'DESC')], serialize=_lead)
    return page


@endpoint('POST', '/api/crm/leads', summary="Record a lead",
    request=LEAD_CREATE, response=LEAD, status=201,
    errors={403: _FORBIDDEN, 422: _INVALID})
def create_lead(call):
    "A new lead; status may be new, contacted or qualified."
    Opportunity = Pool().get('sale.opportunity')
    _company()
    body = call.body
    if not (body.get('company_name') or body.get('contact_person')):
        raise ApiError(422, 'validation_error',
            "A lead needs a company name or a contact person.",
            {'company_name': 'required without contact_person'})
    values = _lead_values(body)
    opportunity, = Opportunity.create([values])
    _set_lead_status(opportunity, body)
    return _read_lead(opportunity.id)


LEADS.read("A lead", response=LEAD, module=__name__)


@LEADS.route('PUT', summary="Change a lead",
    request=LEAD_UPDATE, response=LEAD,
    errors={403: _FORBIDDEN,
        409: "The lead is converted and read-only (lead_converted)",
        422: _INVALID})
def update_lead(call, opportunity):
    """Changes the fields sent and moves the status: new, contacted,
    qualified, or lost with a lost_reason."""
    Opportunity = Pool().get('sale.opportunity')
    id = opportunity.id
    if opportunity.state in {'converted', 'won'}:
        raise ApiError(409, 'lead_converted',
            "The lead is converted: it cannot change.",
            {'customer_id': str(opportunity.party.id)})
    values = _lead_values(call.body)
    if values:
        Opportunity.write([opportunity], values)
    _set_lead_status(Opportunity(id), call.body)
    return _read_lead(id)


@LEADS.route('DELETE', summary="Delete a lead",
    status=204, errors={403: _FORBIDDEN,
        409: "The lead is converted (lead_converted)"})
def delete_lead(call, opportunity):
    "Converted leads stay: they are the history of their customer."
    Opportunity = Pool().get('sale.opportunity')
    id = opportunity.id
    if opportunity.state in {'converted', 'won'}:
        raise ApiError(409, 'lead_converted',
            "A converted lead cannot be deleted.")
    # Tryton deletes cancelled opportunities only
    if opportunity.state == 'lost':
        Opportunity.lead([opportunity])
    if opportunity.state != 'cancelled':
        Opportunity.cancel([Opportunity(id)])
    Opportunity.delete([Opportunity(id)])


@LEADS.action('convert', 'convert', press=False,
    summary="Convert a lead into a customer",
    request=LEAD_CONVERT, response=LEAD_CONVERTED,
    errors={403: _FORBIDDEN,
        409: "Already converted (lead_converted; error.fields.customer_id "
        "is the customer made) or lost (lead_lost)",
        422: "The matching customer is blocked (customer_blocked)"})
def convert_lead(call, opportunity):
    """Reuses the customer of the business with the lead's GSTIN, else
    its e-mail; otherwise creates one (CUST-NNN). With create_quotation a
    draft quotation is opened for it, linked to the lead."""
    Opportunity = Pool().get('sale.opportunity')
    id = opportunity.id
    existing = opportunity.party or (opportunity.find_customer()
        if opportunity.state not in {'converted', 'won'} else None)
    party, sale = Opportunity.convert_lead(opportunity.id,
        bool(call.body.get('create_quotation')))
    return {
        'lead': _read_lead(id),
        'customer': _customer(party.id),
        'customer_created': existing is None,
        'quotation_id': sale.id if sale else None,
        }


# Quotations and orders ------------------------------------------------------

def _product(item_id, index):
    Product = Pool().get('product.product')
    products = Product.search([('id', '=', item_id)], limit=1)
    if not products:
        raise _invalid(f'lines.{index}.item_id',
            "no such item in your business")
    return products[0]


def _gst_taxes(sale, line, rate, index):
    """The sale taxes of GST at rate for line: the business's "GST x%
    (CGST+SGST)" turned into IGST by its place-of-supply rule when the
    customer is in another state"""
    pool = Pool()
    Tax = pool.get('account.tax')
    ModelData = pool.get('ir.model.data')
    template = ModelData.get_id('monitorbizz_account_in',
        f'tax_gst_{rate}_sale')
    taxes = Tax.search([('company', '=', sale.company.id),
            ('template', '=', template)], limit=1)
    if not taxes:
        raise _invalid(f'lines.{index}.tax_rate',
            "the business has no such GST tax")
    tax, = taxes
    party = sale.party
    if party.customer_tax_rule:
        ids = party.customer_tax_rule.apply(tax, line._get_tax_rule_pattern())
        if ids:
            return ids
    return [tax.id]


def _set_lines(sale, lines, shipping_cost=None):
    "Replace the lines of the draft sale"
    pool = Pool()
    Line = pool.get('sale.line')
    from ..crm.sale import item_type
    Line.delete([l for l in sale.lines])
    new = []
    for index, values in enumerate(lines):
        line = _new(Line, sale=sale, type='line')
        quantity = _decimal(values['quantity'], f'lines.{index}.quantity',
            Decimal('0.001'))
        line.quantity = float(quantity)
        if values.get('item_id'):
            product = _product(values['item_id'], index)
            kind = item_type(product)
            if values.get('item_type') and values['item_type'] != kind:
                raise _invalid(f'lines.{index}.item_type',
                    f"the item is a {kind}")
            line.product = product
            line.on_change_product()
        elif values.get('item_type') and values['item_type'] != 'service':
            raise _invalid(f'lines.{index}.item_id',
                "required for materials and products")
        if values.get('description'):
            line.description = values['description']
        if values.get('hsn_sac'):
            code = ''.join(values['hsn_sac'].split())
            problem = hsn_sac_problem(code)
            if problem:
                raise _invalid(f'lines.{index}.hsn_sac', {
                        'digits': "digits only",
                        'hsn_length': "an HSN code has 4, 6 or 8 digits",
                        'sac_length': "a SAC code has 6 digits",
                        }[problem])
            line.hsn_sac = code
        if not (getattr(line, 'description', None)
                or getattr(line, 'product', None)):
            raise _invalid(f'lines.{index}.description',
                "required without item_id")
        if not getattr(line, 'unit', None):
            line.unit = _unit()
        price = _decimal(values['unit_price'], f'lines.{index}.unit_price')
        discount = _decimal(values.get('discount_percent', 0),
            f'lines.{index}.discount_percent')
        if discount > 100:
            raise _invalid(f'lines.{index}.discount_percent',
                "must be at most 100")
        line.base_price = price
        line.unit_price = (price * (1 - discount / 100)).quantize(
            Decimal('0.0001'))
        line.taxes = _gst_taxes(sale, line, values.get('tax_rate', 18),
            index)
        new.append(line)
    if shipping_cost:
        cost = _decimal(shipping_cost, 'shipping_cost')
        line = _new(Line, sale=sale, type='line', shipping=True,
            quantity=1.0,
            description="Shipping", unit=_unit(), unit_price=cost,
            base_price=cost)
        line.taxes = _gst_taxes(sale, line, 18, 'shipping')
        new.append(line)
    Line.save(new)


def _unit():
    Uom = Pool().get('product.uom')
    unit, = Uom.search([('symbol', '=', 'u')], limit=1)
    return unit


_LINE_READ = ['sale', 'type', 'product', 'item_type', 'description',
    'quantity', 'base_price', 'unit_price', 'gst_rate', 'discount_percent',
    'amount', 'shipping', 'hsn_sac']


def _lines(sale_ids):
    "{sale id: [line]} read in one query batch"
    Line = Pool().get('sale.line')
    lines = {i: [] for i in sale_ids}
    for row in Line.search_read([('sale', 'in', sale_ids),
                ('type', '=', 'line'), ('shipping', '=', False)],
            fields_names=_LINE_READ,
            order=[('sequence', 'ASC'), ('id', 'ASC')]):
        price = (row['base_price'] if row['base_price'] is not None
            else row['unit_price'])
        lines[row['sale']].append({
                'id': row['id'],
                'item_type': row['item_type'] or (
                    'service' if not row['product'] else None),
                'item_id': row['product'],
                'description': row['description'] or None,
                'quantity': str(Decimal(str(row['quantity']))),
                'unit_price': _money(price),
                'tax_rate': str(row['gst_rate']),
                'discount_percent': str(row['discount_percent']),
                'hsn_sac': row['hsn_sac'] or None,
                'total_price': _money(row['amount']),
                })
    return lines


def _amounts(sale):
    shipping = sale.shipping_cost or Decimal(0)
    return {
        'subtotal': _money(sale.untaxed_amount - shipping),
        'discount_amount': _money(sale.discount_total),
        'tax_amount': _money(sale.tax_amount),
        'cgst_amount': _money(sale.cgst_amount),
        'sgst_amount': _money(sale.sgst_amount),
        'igst_amount': _money(sale.igst_amount),
        'total_amount': _money(sale.total_amount),
        'total_in_words': sale.total_in_words,
        }


def _quotation_status(state, valid_until):
    "A sent quotation past its validity is expired, whether or not the "
    "daily task has cancelled it yet"
    if state == 'sent' and valid_until and valid_until < dt.date.today():
        return 'expired'
    return state or 'draft'


def _quotation(sale):
    lines = _lines([sale.id])[sale.id]
    return {
        'id': sale.id,
        'quote_number': sale.quotation_number,
        'customer_id': sale.party.id,
        'lead_id': sale.lead.id if sale.lead else None,
        'quote_date': sale.quotation_date,
        'valid_until': sale.quotation_expire,
        'status': _quotation_status(sale.quotation_state,
            sale.quotation_expire),
        'rejection_reason': sale.rejection_reason or None,
        'order_id': sale.id if sale.ordered else None,
        **_amounts(sale),
        'terms_conditions': sale.terms_conditions or None,
        'notes': sale.comment or None,
        'lines': lines,
        'created_at': sale.create_date,
        'updated_at': sale.write_date or sale.create_date,
        }


def _work_orders(sale):
    return [{
            'id': p.id,
            'number': p.number,
            'status': p.work_order_status,
            'quantity_planned': _quantity(p.quantity),
            } for line in sale.lines
        for p in sorted(getattr(line, 'productions', ()) or (),
            key=lambda p: p.id)]


def _quantity(value):
    "A float quantity as a plain decimal string (7, 8.82)"
    return format(Decimal(str(value or 0)).normalize(), 'f')


def _goods(sale):
    if not sale.ordered or sale.state in {'draft', 'quotation'}:
        return []
    return [{
            'line_id': line.id,
            'item_id': line.product.id,
            'quantity': _quantity(line.quantity),
            'quantity_shipped': _quantity(line.quantity - remaining),
            'quantity_remaining': _quantity(remaining),
            } for line, remaining in sale.quantities_to_ship().items()]


def _shipments(sale):
    return [{
            'id': shipment.id,
            'number': shipment.number,
            'state': shipment.state,
            'date': shipment.effective_date or shipment.planned_date,
            'lines': [{
                    'line_id': (move.origin.id
                        if getattr(move.origin, '__name__', None)
                        == 'sale.line' else None),
                    'item_id': move.product.id,
                    'quantity': _quantity(move.quantity),
                    'batch_id': move.lot.id if move.lot else None,
                    'batch_number': move.lot.number if move.lot else None,
                    } for move in shipment.outgoing_moves
                if move.state != 'cancelled'],
            } for shipment in sorted(sale.shipments, key=lambda s: s.id)
        if shipment.state != 'cancelled']


def _order(sale):
    return {
        'id': sale.id,
        'order_number': sale.number,
        'customer_id': sale.party.id,
        'quotation_id': sale.id if sale.quotation_number else None,
        'quote_number': sale.quotation_number,
        'order_date': sale.order_date,
        'delivery_date': sale.delivery_date,
        'status': sale.order_status,
        'priority': sale.priority,
        'payment_status': sale.payment_status,
        'work_orders': _work_orders(sale),
        'goods': _goods(sale),
        'shipments': _shipments(sale),
        'delivered_date': sale.delivered_date,
        **_amounts(sale),
        'shipping_cost': _money(sale.shipping_cost),
        'credit_approved_by': (sale.credit_override_by.id
            if sale.credit_override_by else None),
        'credit_approved_at': sale.credit_override_date,
        'notes': sale.comment or None,
        'lines': _lines([sale.id])[sale.id],
        'created_at': sale.create_date,
        'updated_at': sale.write_date or sale.create_date,
        }


_QUOTATION_DOMAIN = [('quotation_number', '!=', None)]
_ORDER_DOMAIN = [('ordered', '=', True)]
QUOTATIONS = Resource('/api/crm/quotations', 'sale.sale', 'quotation',
    _quotation, domain=_QUOTATION_DOMAIN)
ORDERS = Resource('/api/sales/orders', 'sale.sale', 'sales order', _order,
    code='order_not_found', domain=_ORDER_DOMAIN)


def _new(Model, **values):
    "An unsaved record with its defaults (those of the business)"
    return Model(**{**Model.default_get(list(Model._fields),
                with_rec_name=False), **values})


def _new_sale():
    return _new(Pool().get('sale.sale'))


def _customer_of(body):
    Party = Pool().get('party.party')
    parties = Party.search([('id', '=', body['customer_id']),
            ('is_customer', '=', True)], limit=1)
    if not parties:
        raise _invalid('customer_id', "no such customer in your business")
    return parties[0]


def _sale_header(sale, body):
    "Set the header fields of body on sale (not saved)"
    pool = Pool()
    Opportunity = pool.get('sale.opportunity')
    party = getattr(sale, 'party', None)
    if 'customer_id' in body and (
            not party or party.id != body['customer_id']):
        sale.party = _customer_of(body)
        sale.on_change_party()
    if body.get('lead_id'):
        leads = Opportunity.search([('id', '=', body['lead_id'])], limit=1)
        if not leads:
            raise _invalid('lead_id', "no such lead in your business")
        sale.origin = leads[0]
    elif 'lead_id' in body:
        sale.origin = None
    if 'quote_date' in body:
        sale.quotation_date = body['quote_date']
    if 'valid_until' in body:
        start = getattr(sale, 'quotation_date', None) or dt.date.today()
        if body['valid_until'] < start:
            raise _invalid('valid_until', "must not be before quote_date")
        sale.quotation_validity = body['valid_until'] - start
    for api, name in [('terms_conditions', 'terms_conditions'),
            ('notes', 'comment'), ('delivery_date', 'delivery_date'),
            ('priority', 'priority'), ('order_date', 'order_date')]:
        if api in body:
            setattr(sale, name, body[api])


QUOTATION_QUERY = {**LIST_QUERY,
    'status': {'type': 'string', 'enum': QUOTATION_STATUSES},
    'customer_id': ID,
    }


def _quotation_item(row):
    return {
        'id': row['id'],
        'quote_number': row['quotation_number'],
        'customer_id': row['party'],
        'customer_name': row['party.']['name'],
        'quote_date': row['quotation_date'],
        'valid_until': row['quotation_expire'],
        'status': _quotation_status(row['quotation_state'],
            row['quotation_expire']),
        'subtotal': _money(row['untaxed_amount']),
        'tax_amount': _money(row['tax_amount']),
        'total_amount': _money(row['total_amount']),
        }


@endpoint('GET', '/api/crm/quotations', summary="The business's quotations",
    query=QUOTATION_QUERY, response=page_of(QUOTATION_ITEM),
    errors={403: _FORBIDDEN})
def list_quotations(call):
    """Quotations, converted ones included (status accepted). ?q= searches
    the number and the customer; ?order= accepts quote_date, quote_number
    and total_amount."""
    Sale = Pool().get('sale.sale')
    domain = list(_QUOTATION_DOMAIN)
    if call.query.get('status'):
        domain.append(('quotation_state', '=', call.query['status']))
    if call.query.get('customer_id'):
        domain.append(('party', '=', call.query['customer_id']))
    search = call.query.pop('q', None)
    if search:
        like = f'%{search}%'
        domain.append(['OR', ('quotation_number', 'ilike', like),
                ('party.name', 'ilike', like)])
    return paginate(call, Sale, ['id', 'quotation_number', 'party',
            'party.name', 'quotation_date', 'quotation_expire',
            'quotation_state', 'untaxed_amount', 'tax_amount',
            'total_amount'], domain=domain,
        orders={'quote_date': 'quotation_date',
            'quote_number': 'quotation_number',
            'total_amount': 'total_amount_cache'},
        default_order=[('id', 'DESC')], serialize=_quotation_item)


@endpoint('POST', '/api/crm/quotations', summary="Create a quotation",
    request=QUOTATION_CREATE, response=QUOTATION, status=201,
    errors={403: _FORBIDDEN, 422: _INVALID + "; a blocked customer "
        "(customer_blocked)"})
def create_quotation(call):
    """Numbered QT-<year>-NNN in the business; valid for the business's
    validity (30 days) unless valid_until says otherwise."""
    Sale = Pool().get('sale.sale')
    _company()
    sale = _new_sale()
    _sale_header(sale, call.body)
    sale.save()
    _set_lines(sale, call.body.get('lines', []))
    return _quotation(Sale(sale.id))


QUOTATIONS.read("A quotation", response=QUOTATION, module=__name__)


@QUOTATIONS.route('PUT', summary="Change a quotation",
    request=QUOTATION_UPDATE, response=QUOTATION,
    errors={403: _FORBIDDEN,
        409: "Only draft quotations change (quotation_not_draft)",
        422: _INVALID})
def update_quotation(call, sale):
    "lines, when sent, replace every line."
    Sale = Pool().get('sale.sale')
    id = sale.id
    if sale.state != 'draft' or sale.ordered:
        raise ApiError(409, 'quotation_not_draft',
            "Only a draft quotation can change: this one is "
            f"{sale.quotation_state}.")
    _sale_header(sale, call.body)
    sale.save()
    if 'lines' in call.body:
        _set_lines(sale, call.body['lines'])
    return _quotation(Sale(id))


@QUOTATIONS.action('send', 'send_quotation',
    summary="E-mail a quotation", response=QUOTATION_SENT,
    errors={403: _FORBIDDEN,
        409: "Not a draft or sent quotation (quotation_<status>)",
        422: "The customer has no e-mail (customer_no_email) or is "
        "blocked (customer_blocked)"})
def send_quotation(call, sale):
    """Renders the quotation PDF and e-mails it to the customer; a draft
    becomes sent."""
    return {'quotation': _quotation(sale), 'sent_to': sale.customer_email()}


@QUOTATIONS.action('accept', 'accept',
    summary="The customer accepts", response=QUOTATION,
    errors={403: _FORBIDDEN,
        409: "Not a sent quotation (quotation_<status>), or past its "
        "validity (quotation_expired)"})
def accept_quotation(call, sale):
    return _quotation(sale)


@QUOTATIONS.action('reject', 'reject',
    summary="The customer declines", request=QUOTATION_REJECT,
    response=QUOTATION,
    context=lambda call: {'rejection_reason': call.body['reason']},
    errors={403: _FORBIDDEN,
        409: "Not a draft or sent quotation (quotation_<status>)"})
def reject_quotation(call, sale):
    return _quotation(sale)


@QUOTATIONS.action('convert-to-order', 'convert_to_order',
    summary="Make the accepted quotation an order", response=ORDER,
    status=201,
    errors={403: _FORBIDDEN,
        409: "Already converted (quotation_converted) or not accepted "
        "(quotation_<status>)"})
def convert_quotation(call, sale):
    """The quotation becomes the pending sales order SO-<year>-NNN with the
    quotation's lines; confirm it with /api/sales/orders/{id}/confirm."""
    return _order(sale)


ORDER_QUERY = {**LIST_QUERY,
    'status': {'type': 'string', 'enum': ['pending', 'open', 'cancelled',
            'done'], 'description': "pending: not confirmed; open: "
        "confirmed, in production or shipping; done; cancelled"},
    'customer_id': ID,
    }
_ORDER_STATES = {
    'pending': ['draft', 'quotation'],
    'open': ['confirmed', 'processing'],
    'done': ['done'],
    'cancelled': ['cancelled'],
    }


def _order_item(row):
    return {
        'id': row['id'],
        'order_number': row['number'],
        'customer_id': row['party'],
        'customer_name': row['party.']['name'],
        'order_date': row['order_date'],
        'delivery_date': row['delivery_date'],
        'status': row['order_status'],
        'priority': row['priority'],
        'total_amount': _money(row['total_amount']),
        }


@endpoint('GET', '/api/sales/orders', summary="The business's sales orders",
    query=ORDER_QUERY, response=page_of(ORDER_ITEM),
    errors={403: _FORBIDDEN})
def list_orders(call):
    """?q= searches the number and the customer; ?order= accepts
    order_date, delivery_date, priority and order_number."""
    Sale = Pool().get('sale.sale')
    domain = list(_ORDER_DOMAIN)
    if call.query.get('status'):
        domain.append(('state', 'in', _ORDER_STATES[call.query['status']]))
    if call.query.get('customer_id'):
        domain.append(('party', '=', call.query['customer_id']))
    search = call.query.pop('q', None)
    if search:
        like = f'%{search}%'
        domain.append(['OR', ('number', 'ilike', like),
                ('party.name', 'ilike', like)])
    return paginate(call, Sale, ['id', 'number', 'party', 'party.name',
            'order_date', 'delivery_date', 'order_status', 'priority',
            'total_amount'], domain=domain,
        orders={'order_date': 'order_date', 'delivery_date': 'delivery_date',
            'priority': 'priority', 'order_number': 'number'},
        default_order=[('id', 'DESC')], serialize=_order_item)


@endpoint('POST', '/api/sales/orders', summary="Enter a sales order",
    request=ORDER_CREATE, response=ORDER, status=201,
    errors={403: _FORBIDDEN, 422: _INVALID + "; a blocked customer "
        "(customer_blocked)"})
def create_order(call):
    """An order taken without a quotation: numbered SO-<year>-NNN, pending
    until confirmed. shipping_cost is charged on its own line."""
    Sale = Pool().get('sale.sale')
    _company()
    with Transaction().set_context(sale_order=True):
        sale = _new_sale()
        _sale_header(sale, call.body)
        sale.save()
    _set_lines(sale, call.body['lines'], call.body.get('shipping_cost'))
    Sale.make_orders([Sale(sale.id)])
    return _order(Sale(sale.id))


ORDERS.read("A sales order", response=ORDER, name='get_order',
    module=__name__)


@ORDERS.route('PUT', summary="Change a sales order",
    request=ORDER_UPDATE, response=ORDER,
    errors={403: _FORBIDDEN,
        409: "The order is no longer pending, or its lines are those of "
        "its quotation (order_not_pending, order_lines_fixed)",
        422: _INVALID})
def update_order(call, sale):
    """Priority, delivery date and notes change until the order is done or
    cancelled; the customer, lines and shipping only while it is pending
    and was not a quotation."""
    Sale = Pool().get('sale.sale')
    id = sale.id
    body = dict(call.body)
    if sale.state in {'done', 'cancelled'}:
        raise ApiError(409, 'order_not_pending',
            f"The order is {sale.order_status}: it cannot change.")
    fixed = {'customer_id', 'lines', 'shipping_cost', 'order_date'} & set(
        body)
    if fixed and sale.state != 'draft':
        raise ApiError(409, 'order_lines_fixed',
            "Only a pending order entered directly can change its customer, "
            "lines or shipping.", {f: 'cannot change' for f in fixed})
    _sale_header(sale, body)
    sale.save()
    if 'lines' in body or 'shipping_cost' in body:
        lines = body.get('lines')
        if lines is None:
            lines = [_line_input(l) for l in _lines([id])[id]]
        shipping = body.get('shipping_cost', sale.shipping_cost)
        _set_lines(Sale(id), lines, shipping)
    return _order(Sale(id))


def _line_input(line):
    return {
        'item_id': line['item_id'],
        'description': line['description'],
        'quantity': line['quantity'],
        'unit_price': line['unit_price'],
        'tax_rate': int(Decimal(line['tax_rate'])),
        'discount_percent': line['discount_percent'],
        'hsn_sac': line['hsn_sac'],
        }


@ORDERS.action('confirm', 'confirm', press=False,
    summary="Confirm a sales order", request=ORDER_CONFIRM, response=ORDER,
    errors={
        403: "The caller's role may not confirm orders, or may not "
        "approve a credit override (forbidden)",
        409: "Not a pending order (order_not_pending)",
        422: "Above the customer's credit limit (credit_limit_exceeded, "
        "error.fields gives credit_limit, open_amount, order_amount and "
        "exceeded_by), or a blocked customer (customer_blocked)",
        })
def confirm_order(call, sale):
    """Checks the customer's credit: open receivables + open orders + this
    order above the credit limit is refused, unless an owner or manager
    approves the override (approve_credit_override: the order's Approve
    Credit button), which is recorded on the order."""
    Sale = Pool().get('sale.sale')
    if call.body.get('approve_credit_override'):
        Sale.approve_credit([sale])
    # An order entered directly is a draft: quoted first, as in the desk
    Sale.quote([s for s in [Sale(sale.id)] if s.state == 'draft'])
    Sale.confirm([Sale(sale.id)])
    return _order(Sale(sale.id))


@ORDERS.action('ship', 'do', model='stock.shipment.out', press=False,
    summary="Ship goods of a sales order", request=ORDER_SHIP,
    response=ORDER,
    errors={
        403: "The caller's role may not ship goods (forbidden)",
        409: "Nothing to ship: pending, cancelled or already shipped "
        "(order_not_shippable); a line still in production or its rest not "
        "yet on a shipment (order_not_ready); not enough in stock of the "
        "batch (insufficient_stock)",
        422: "A line not of the order, a quantity above what remains to "
        "ship of its line, a batch of another item: lines.N.<field>",
        })
def ship_order(call, sale):
    """The goods of the lines leave the warehouse to the customer on the
    order's shipment (Tryton's customer shipment: picked, packed, done),
    each from the batch given. Partial quantities are allowed; the rest
    stays to ship on a new shipment. When every good has left the order is
    shipped; the stock-movement ledger shows the out moves."""
    pool = Pool()
    Sale = pool.get('sale.sale')
    Line = pool.get('sale.line')
    Lot = pool.get('stock.lot')
    deliveries = []
    for index, values in enumerate(call.body['lines']):
        lines = Line.search([('id', '=', values['line_id']),
                ('sale', '=', sale.id)], limit=1)
        if not lines:
            raise _invalid(f'lines.{index}.line_id',
                "no such line in this order")
        lot = None
        if values.get('batch_id'):
            lots = Lot.search([('id', '=', values['batch_id'])], limit=1)
            if not lots:
                raise _invalid(f'lines.{index}.batch_id',
                    "no such batch in your business")
            lot, = lots
        deliveries.append({
                'line': lines[0],
                'quantity': _decimal(values['quantity'],
                    f'lines.{index}.quantity'),
                'lot': lot,
                })
    sale.ship_goods(deliveries)
    return _order(Sale(sale.id))


@ORDERS.action('deliver', 'deliver',
    summary="Record the delivery of a shipped order",
    request=ORDER_DELIVER, response=ORDER,
    context=lambda call: {
        'delivered_date': call.body.get('delivered_date')},
    errors={
        403: "The caller's role may not record deliveries (forbidden)",
        409: "Not shipped yet, or delivered already (order_not_shipped)",
        422: "delivered_date before the last shipment or after today",
        })
def deliver_order(call, sale):
    """The customer received the order's goods: the order is delivered
    (the order's Delivered button)."""
    return _order(sale)
