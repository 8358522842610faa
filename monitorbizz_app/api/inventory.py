# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/inventory/... endpoints of monitorbizz_inventory (seed sections 3.A,
4 "PROCUREMENT" and 6).

Materials and products are product.product records of the current business
(materials: goods neither made nor sold; products: made and/or sold goods).
Their stock figures, the stock-movement ledger, alerts and batch traces come
from Tryton's stock computations; purchase orders are purchase.purchase.
Every handler runs as the calling user in their current business: the
records of other businesses are invisible (404) through Tryton's rules.
"""
import base64
import binascii
import datetime as dt
from decimal import Decimal

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .framework import (
    LIST_QUERY, ApiError, Resource, endpoint, json_response, page_of,
    paginate)
from .schema import (
    ID, MAX_AMOUNT, MAX_QUANTITY, NULLABLE_ID, decimal, define, record)


MATERIAL_DOMAIN = [
    ('type', '=', 'goods'),
    ('producible', '=', False),
    ('salable', '=', False),
    ]
PRODUCT_DOMAIN = [
    ('type', '=', 'goods'),
    ['OR', ('producible', '=', True), ('salable', '=', True)],
    ]
BATCH_LOCATIONS = ['supplier', 'production', 'customer', 'lost_found']
IMAGE_TYPES = {'image/png', 'image/jpeg', 'image/webp'}
IMAGE_MAX_BYTES = 2 * 1024 * 1024


def _decimal_string(description=None):
    schema = {'type': 'string', 'format': 'decimal'}
    if description:
        schema['description'] = description
    return schema


def _quantity(description):
    return decimal(4, MAX_QUANTITY, types=['number'],
        description=description)


def _price(places=4, types=('number',), **annotations):
    return decimal(places, MAX_AMOUNT, types=types, **annotations)


DECIMAL = _decimal_string()
NULLABLE_DECIMAL = {'type': ['string', 'null'], 'format': 'decimal'}
TEXT = {'type': ['string', 'null'], 'maxLength': 2000}
UNIT = {'type': 'string', 'minLength': 1, 'maxLength': 10,
    'description': "Symbol of a unit of measure (kg, u, m, l, ...)"}
REF = {
    'type': ['object', 'null'],
    'required': ['id', 'name'],
    'additionalProperties': False,
    'properties': {
        'id': {'type': 'integer'},
        'name': {'type': ['string', 'null']},
        },
    }

_ITEM_INPUT = {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 200},
    'code': {'type': ['string', 'null'], 'maxLength': 50,
        'description': "Empty: the next MAT-/PRD- number of the business"},
    'description': TEXT,
    'category_id': {**NULLABLE_ID,
        'description': "A product category of the business"},
    'unit': UNIT,
    'cost_price': _price(),
    'reorder_level': decimal(4, MAX_QUANTITY, types=['number', 'null'],
        description="Stock below which a purchase is proposed"),
    'reorder_quantity': decimal(4, MAX_QUANTITY, types=['number', 'null'],
        description="How much to buy above the reorder level"),
    'preferred_vendor_id': {**NULLABLE_ID,
        'description': "A vendor of the business"},
    'batch_tracking': {'type': 'boolean',
        'description': "Receipts, consumption and deliveries need a batch"},
    }


def _input_schemas(name, properties):
    "The schemas of creating (name and unit required) and of changing"
    return (
        define(f'{name}Create', {
                'type': 'object',
                'required': ['name', 'unit'],
                'additionalProperties': False,
                'properties': properties,
                }),
        define(f'{name}Update', {
                'type': 'object',
                'description': "The fields to change; the others are kept",
                'additionalProperties': False,
                'properties': properties,
                }))


MATERIAL_CREATE, MATERIAL_UPDATE = _input_schemas('Material', _ITEM_INPUT)
_PRODUCT_INPUT = {
    **_ITEM_INPUT,
    'selling_price': _price(),
    'manufacturing_time': decimal(2, 10 ** 6, types=['number', 'null'],
        description="Hours to make one unit"),
    'is_manufactured': {'type': 'boolean'},
    'is_saleable': {'type': 'boolean'},
    'made_to_order': {'type': 'boolean', 'description': "Confirming a "
        "sales order of the product creates its work order (with the "
        "product's BOM and routing)"},
    'bom_id': {**NULLABLE_ID, 'description': "A BOM of the business "
        "making the product: it becomes the product's active BOM (its "
        "other versions are deactivated); null: no BOM"},
    'routing_id': {**NULLABLE_ID, 'description': "A routing of the "
        "business to make the product with its BOM (the routing is "
        "linked to the BOM); null: none"},
    }
PRODUCT_CREATE, PRODUCT_UPDATE = _input_schemas('Product', _PRODUCT_INPUT)
_ITEM_OUTPUT = {
    'id': {'type': 'integer'},
    'code': {'type': ['string', 'null']},
    'name': {'type': 'string'},
    'description': {'type': ['string', 'null']},
    'category': REF,
    'unit': {'type': 'string'},
    'cost_price': DECIMAL,
    'reorder_level': NULLABLE_DECIMAL,
    'reorder_quantity': NULLABLE_DECIMAL,
    'preferred_vendor': REF,
    'current_stock': _decimal_string("On hand in the business's warehouse"),
    'reserved_stock': _decimal_string(
        "Assigned to work orders, sales and transfers"),
    'available_stock': _decimal_string("On hand minus reserved"),
    'batch_tracking': {'type': 'boolean'},
    'active': {'type': 'boolean'},
    }
MATERIAL = define('Material', record(_ITEM_OUTPUT))
IMAGE = {
    'type': 'object',
    'required': ['id', 'name', 'content_type', 'size'],
    'additionalProperties': False,
    'properties': {
        'id': {'type': 'integer'},
        'name': {'type': 'string'},
        'content_type': {'type': ['string', 'null']},
        'size': {'type': ['integer', 'null']},
        },
    }
_PRODUCT_OUTPUT = {
    **_ITEM_OUTPUT,
    'product_code': {'type': ['string', 'null'],
        'description': "The product's code (the same as code)"},
    'selling_price': DECIMAL,
    'bom': {**REF, 'description': "The active BOM"},
    'bom_id': {'type': ['integer', 'null']},
    'routing': REF,
    'routing_id': {'type': ['integer', 'null']},
    'made_to_order': {'type': 'boolean'},
    'manufacturing_time': NULLABLE_DECIMAL,
    'is_manufactured': {'type': 'boolean'},
    'is_saleable': {'type': 'boolean'},
    'images': {'type': 'array', 'items': IMAGE},
    }
PRODUCT = define('Product', record(_PRODUCT_OUTPUT))
DELETED = define('ItemDeleted', {
        'type': 'object',
        'required': ['id', 'deleted', 'active'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'deleted': {'type': 'boolean',
                'description': "false: the item is used, so deactivated"},
            'active': {'type': 'boolean'},
            },
        })
BOM_LINE = {
    'type': 'object',
    'required': ['material', 'code', 'quantity', 'unit'],
    'additionalProperties': False,
    'properties': {
        'material': REF,
        'code': {'type': ['string', 'null']},
        'quantity': DECIMAL,
        'unit': {'type': 'string'},
        },
    }
BOM = define('BillOfMaterials', {
        'type': 'object',
        'required': ['id', 'name', 'output_quantity', 'unit', 'items',
            'routing'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'output_quantity': DECIMAL,
            'unit': {'type': 'string'},
            'items': {'type': 'array', 'items': BOM_LINE},
            'routing': REF,
            },
        })
IMAGE_UPLOAD = define('ImageUpload', {
        'type': 'object',
        'required': ['name', 'content_type', 'data'],
        'additionalProperties': False,
        'properties': {
            'name': {'type': 'string', 'minLength': 1, 'maxLength': 200},
            'content_type': {'type': 'string', 'enum': sorted(IMAGE_TYPES)},
            'data': {'type': 'string', 'minLength': 1,
                'description': "The image, base64-encoded "
                f"(at most {IMAGE_MAX_BYTES} bytes decoded)"},
            },
        })
MOVEMENT = define('StockMovement', {
        'type': 'object',
        'required': ['id', 'date', 'movement_type', 'quantity', 'balance',
            'unit', 'from_location', 'to_location', 'reference_type',
            'reference', 'batch', 'user', 'timestamp'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer', 'description': "The stock move"},
            'date': {'type': 'string', 'format': 'date'},
            'movement_type': {'type': 'string',
                'enum': ['in', 'out', 'transfer', 'adjustment']},
            'quantity': _decimal_string(
                "Change of the business's stock (negative: out)"),
            'moved_quantity': _decimal_string("Quantity moved"),
            'balance': _decimal_string(
                "The business's stock after the movement"),
            'unit': {'type': 'string'},
            'from_location': REF,
            'to_location': REF,
            'reference_type': {'type': ['string', 'null'], 'description':
                "purchase_order, sales_order, work_order, stock_count, "
                "transfer, receipt, delivery, ..."},
            'reference': {'type': ['string', 'null'],
                'description': "Number of the document"},
            'batch': REF,
            'user': REF,
            'timestamp': {'type': ['string', 'null'],
                'format': 'date-time'},
            },
        })
MOVEMENT_QUERY = {
    'limit': LIST_QUERY['limit'],
    'offset': LIST_QUERY['offset'],
    'type': {'type': 'string',
        'enum': ['in', 'out', 'transfer', 'adjustment'],
        'description': "Only movements of this type"},
    'date_from': {'type': 'string', 'format': 'date',
        'description': "From this date (YYYY-MM-DD)"},
    'date_to': {'type': 'string', 'format': 'date',
        'description': "Until this date, included"},
    }
TRANSFER_CREATE = define('TransferCreate', {
        'type': 'object',
        'required': ['item_id', 'quantity', 'from_location_id',
            'to_location_id'],
        'additionalProperties': False,
        'properties': {
            'item_id': ID,
            'quantity': _quantity("Greater than zero"),
            'unit': UNIT,
            'from_location_id': ID,
            'to_location_id': ID,
            'batch': {'type': ['string', 'null'], 'maxLength': 100,
                'description': "Number of an existing batch"},
            'notes': {'type': ['string', 'null'], 'maxLength': 200,
                'description': "Kept as the transfer's reference"},
            },
        })
TRANSFER = define('Transfer', {
        'type': 'object',
        'required': ['id', 'number', 'state', 'item_id', 'quantity', 'unit',
            'from_location', 'to_location', 'batch'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'number': {'type': ['string', 'null']},
            'state': {'type': 'string'},
            'item_id': {'type': 'integer'},
            'quantity': DECIMAL,
            'unit': {'type': 'string'},
            'from_location': REF,
            'to_location': REF,
            'batch': REF,
            },
        })
ADJUSTMENT_CREATE = define('AdjustmentCreate', {
        'type': 'object',
        'required': ['reason', 'lines'],
        'additionalProperties': False,
        'properties': {
            'location_id': {**ID, 'description':
                "The storage location counted (default: the warehouse's "
                "storage)"},
            'date': {'type': 'string', 'format': 'date'},
            'reason': {'type': 'string', 'minLength': 1, 'maxLength': 500},
            'lines': {
                'type': 'array', 'minItems': 1, 'maxItems': 10000,
                'items': {
                    'type': 'object',
                    'required': ['item_id', 'counted_quantity'],
                    'additionalProperties': False,
                    'properties': {
                        'item_id': ID,
                        'counted_quantity': _quantity(
                            "Quantity counted (0 or more), in the item's "
                            "unit"),
                        'batch': {'type': ['string', 'null'],
                            'maxLength': 100},
                        },
                    },
                },
            },
        })
ADJUSTMENT = define('Adjustment', {
        'type': 'object',
        'required': ['id', 'number', 'state', 'date', 'reason', 'location',
            'lines'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'number': {'type': ['string', 'null']},
            'state': {'type': 'string'},
            'date': {'type': 'string', 'format': 'date'},
            'reason': {'type': ['string', 'null']},
            'location': REF,
            'lines': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['item_id', 'expected_quantity',
                        'counted_quantity', 'batch'],
                    'additionalProperties': False,
                    'properties': {
                        'item_id': {'type': 'integer'},
                        'expected_quantity': NULLABLE_DECIMAL,
                        'counted_quantity': NULLABLE_DECIMAL,
                        'batch': REF,
                        },
                    }},
            },
        })
LOCATION = define('StockLocation', {
        'type': 'object',
        'required': ['id', 'name', 'code', 'type'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'code': {'type': ['string', 'null']},
            'type': {'type': 'string'},
            },
        })
ALERT = define('StockAlert', {
        'type': 'object',
        'required': ['item', 'code', 'available_stock', 'reorder_level',
            'reorder_quantity', 'unit', 'preferred_vendor'],
        'additionalProperties': False,
        'properties': {
            'item': REF,
            'code': {'type': ['string', 'null']},
            'available_stock': DECIMAL,
            'reorder_level': DECIMAL,
            'reorder_quantity': DECIMAL,
            'unit': {'type': 'string'},
            'preferred_vendor': REF,
            },
        })
ALERTS = {'type': 'object', 'required': ['items', 'total'],
    'additionalProperties': False,
    'properties': {'items': {'type': 'array', 'items': ALERT},
        'total': {'type': 'integer',
            'description': "Number of alerts (all are listed)"}}}
PO_LINE = {
    'type': 'object',
    'required': ['id', 'item', 'code', 'quantity', 'unit', 'unit_price',
        'amount', 'received_quantity'],
    'additionalProperties': False,
    'properties': {
        'id': {'type': 'integer'},
        'item': REF,
        'code': {'type': ['string', 'null']},
        'quantity': DECIMAL,
        'unit': {'type': 'string'},
        'unit_price': DECIMAL,
        'amount': DECIMAL,
        'received_quantity': DECIMAL,
        },
    }
STATUSES = ['draft', 'approved', 'awaiting_delivery', 'partially_received',
    'received', 'cancelled']
PURCHASE_ORDER = define('PurchaseOrder', {
        'type': 'object',
        'required': ['id', 'number', 'vendor', 'status', 'state',
            'order_date', 'expected_date', 'untaxed_amount', 'tax_amount',
            'total_amount', 'currency', 'approval_required', 'approved_by',
            'lines', 'bills'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'number': {'type': ['string', 'null'],
                'description': "PO-<year>-NNN once quoted or confirmed"},
            'vendor': REF,
            'status': {'type': 'string', 'enum': STATUSES},
            'state': {'type': 'string', 'description': "Tryton's state"},
            'order_date': {'type': ['string', 'null'], 'format': 'date'},
            'expected_date': {'type': ['string', 'null'], 'format': 'date'},
            'untaxed_amount': DECIMAL,
            'tax_amount': DECIMAL,
            'total_amount': DECIMAL,
            'currency': {'type': 'string'},
            'approval_required': {'type': 'boolean'},
            'approved_by': REF,
            'lines': {'type': 'array', 'items': PO_LINE},
            'bills': {'type': 'array', 'items': REF},
            },
        })
PURCHASE_ORDER_ITEM = define('PurchaseOrderItem', {
        'type': 'object',
        'required': ['id', 'number', 'vendor', 'status', 'order_date',
            'total_amount'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'number': {'type': ['string', 'null']},
            'vendor': REF,
            'status': {'type': 'string', 'enum': STATUSES},
            'order_date': {'type': ['string', 'null'], 'format': 'date'},
            'total_amount': DECIMAL,
            },
        })
PURCHASE_ORDER_CREATE = define('PurchaseOrderCreate', {
        'type': 'object',
        'required': ['vendor_id', 'lines'],
        'additionalProperties': False,
        'properties': {
            'vendor_id': ID,
            'order_date': {'type': 'string', 'format': 'date'},
            'expected_date': {'type': 'string', 'format': 'date'},
            'notes': TEXT,
            'lines': {
                'type': 'array', 'minItems': 1, 'maxItems': 500,
                'items': {
                    'type': 'object',
                    'required': ['item_id', 'quantity'],
                    'additionalProperties': False,
                    'properties': {
                        'item_id': ID,
                        'quantity': _quantity("Greater than zero"),
                        'unit': UNIT,
                        'unit_price': _price(description="Default: "
                            "the vendor's price or the cost price"),
                        },
                    },
                },
            },
        })
RECEIPT = define('Receipt', {
        'type': 'object',
        'required': ['lines'],
        'additionalProperties': False,
        'properties': {
            'date': {'type': 'string', 'format': 'date'},
            'lines': {
                'type': 'array', 'minItems': 1, 'maxItems': 500,
                'items': {
                    'type': 'object',
                    'required': ['line_id', 'quantity'],
                    'additionalProperties': False,
                    'properties': {
                        'line_id': ID,
                        'quantity': _quantity(
                            "Greater than zero, in the line's unit"),
                        'batch_number': {'type': ['string', 'null'],
                            'maxLength': 100, 'description':
                            "Creates the batch (required for items with "
                            "batch tracking)"},
                        'expiry_date': {'type': ['string', 'null'],
                            'format': 'date'},
                        },
                    },
                },
            },
        })
TRACE_STEP = {
    'type': 'object',
    'required': ['date', 'item', 'quantity', 'unit', 'from_location',
        'to_location', 'document_type', 'document', 'batch'],
    'additionalProperties': False,
    'properties': {
        'date': {'type': ['string', 'null'], 'format': 'date'},
        'item': REF,
        'quantity': DECIMAL,
        'unit': {'type': 'string'},
        'from_location': REF,
        'to_location': REF,
        'document_type': {'type': ['string', 'null']},
        'document': {'type': ['string', 'null']},
        'batch': REF,
        },
    }
TRACE = define('BatchTrace', {
        'type': 'object',
        'required': ['batch', 'item', 'backward', 'forward'],
        'additionalProperties': False,
        'properties': {
            'batch': REF,
            'item': REF,
            'expiry_date': {'type': ['string', 'null'], 'format': 'date'},
            'backward': {'type': 'array', 'items': TRACE_STEP,
                'description': "Where the batch came from (vendor "
                "receipts, work orders that made it)"},
            'forward': {'type': 'array', 'items': TRACE_STEP,
                'description': "Where it went (work orders that "
                "consumed it, deliveries of what was made from it)"},
            },
        })

_ITEM_FIELDS = {
    'cost_price': 'cost_price', 'unit': 'default_uom',
    'reorder_level': 'reorder_level', 'reorder_quantity': 'reorder_quantity',
    'preferred_vendor_id': 'preferred_vendor', 'category_id': 'category',
    'selling_price': 'list_price', 'is_manufactured': 'producible',
    'is_saleable': 'salable', 'batch_tracking': 'lot_required',
    }
_NOT_FOUND_ITEM = "The item does not exist in the current business " \
    "(not_found)"


def _invalid(field, message, code='validation_error'):
    return ApiError(422, code, message, {field: message})


def _ref(record, name=None):
    if not record:
        return None
    return {'id': record.id, 'name': name if name is not None
        else record.rec_name}


def _qty(value, unit=None):
    if value is None:
        return None
    if unit is not None:
        value = unit.round(value)
    if not value:
        return Decimal('0')
    value = Decimal(str(value)).normalize()
    # normalize() writes 50 as 5E+1
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 \
        else value


def _money(value):
    return value if value is not None else Decimal('0')


def _positive(value, field):
    if value is None or value <= 0:
        raise _invalid(field, gettext(
                'monitorbizz_inventory.msg_quantity_positive'))
    return value


def _warehouse():
    pool = Pool()
    Company = pool.get('company.company')
    company_id = Transaction().context.get('company')
    warehouse = Company(company_id).warehouse if company_id else None
    if not warehouse:
        raise ApiError(409, 'no_warehouse',
            "The current business has no warehouse.")
    return warehouse


def _unit(symbol, field='unit', category=None):
    Uom = Pool().get('product.uom')
    units = Uom.search([('symbol', '=', symbol)], limit=1)
    if not units:
        raise _invalid(field, f"{symbol!r} is not a known unit.",
            'unknown_unit')
    unit, = units
    if category and unit.category != category:
        raise _invalid(field, f"{symbol!r} is not a unit of "
            f"{category.name} like the item's.", 'incompatible_unit')
    return unit


def _visible(model, record_id, field, code='not_found', message=None):
    """The record_id of model if the caller sees it (Tryton's rules: the
    current business), else a 422 naming field"""
    Model = Pool().get(model)
    if record_id is None:
        return None
    records = Model.search([('id', '=', record_id)], limit=1)
    if not records:
        raise _invalid(field, message or
            "Not found in the current business.", code)
    return records[0]


def _vendor(vendor_id, field):
    return _visible('party.party', vendor_id, field, 'unknown_vendor',
        "No such vendor in the current business.")


def _item(id, domain=None, active_test=True):
    "The item id of the current business (404 when invisible)"
    Product = Pool().get('product.product')
    with Transaction().set_context(active_test=active_test):
        products = Product.search([('id', '=', id)] + (domain or []),
            limit=1)
    if not products:
        raise ApiError(404, 'not_found', "No such item in the current "
            "business.")
    return products[0]


# Materials and products -----------------------------------------------------

_ITEM_READ = ['id', 'code', 'name', 'description', 'default_uom.symbol',
    'default_uom', 'cost_price', 'reorder_level', 'reorder_quantity',
    'preferred_vendor', 'preferred_vendor.rec_name', 'lot_required',
    'active', 'account_category', 'account_category.rec_name', 'template',
    'list_price_used', 'producible', 'salable', 'manufacturing_time',
    'categories']


def _items(products):
    """The API items of products: one read of the fields, one stock
    computation, whatever their number"""
    pool = Pool()
    Product = pool.get('product.product')
    Category = pool.get('product.category')
    Uom = pool.get('product.uom')
    ids = [p.id for p in products]
    with Transaction().set_context(active_test=False):
        rows = Product.read(ids, _ITEM_READ)
    figures = Product.stock_figures(ids)
    category_ids = {r['categories'][0] for r in rows
        if not r['account_category'] and r['categories']}
    categories = {c.id: c.rec_name for c in Category.browse(category_ids)}
    units = {u.id: u for u in Uom.browse({r['default_uom'] for r in rows})}
    items = []
    for row in rows:
        unit = units[row['default_uom']]
        on_hand, reserved, available = figures[row['id']]
        if row['account_category']:
            category = {'id': row['account_category'],
                'name': row['account_category.']['rec_name']}
        elif row['categories']:
            category_id = row['categories'][0]
            category = {'id': category_id, 'name': categories[category_id]}
        else:
            category = None
        vendor = row.get('preferred_vendor.') or None
        items.append({
                'id': row['id'],
                'code': row['code'],
                'name': row['name'],
                'description': row['description'] or None,
                'category': category,
                'unit': row['default_uom.']['symbol'],
                'cost_price': _money(row['cost_price']),
                'reorder_level': _qty(row['reorder_level'], unit),
                'reorder_quantity': _qty(row['reorder_quantity'], unit),
                'preferred_vendor': ({'id': row['preferred_vendor'],
                        'name': vendor['rec_name']}
                    if row['preferred_vendor'] else None),
                'current_stock': _qty(on_hand, unit),
                'reserved_stock': _qty(reserved, unit),
                'available_stock': _qty(available, unit),
                'batch_tracking': bool(row['lot_required']),
                'active': bool(row['active']),
                '_row': row,
                })
    return items


def _material(item):
    item = dict(item)
    item.pop('_row')
    return item


def _product_items(products):
    pool = Pool()
    Attachment = pool.get('ir.attachment')
    ProductBom = pool.get('product.product-production.bom')
    Template = pool.get('product.template')
    items = _items(products)
    ids = [i['id'] for i in items]
    boms = {}
    # The first product BOM: what sales and work orders use
    for product_bom in ProductBom.search([('product', 'in', ids)],
            order=[('sequence', 'ASC'), ('id', 'ASC')]):
        boms.setdefault(product_bom.product.id, product_bom)
    with Transaction().set_context(active_test=False):
        supply = {t['id']: t['supply_on_sale'] for t in Template.read(
                list({i['_row']['template'] for i in items}),
                ['supply_on_sale'])}
    resources = [f'product.product,{i}' for i in ids]
    images = {}
    for attachment in Attachment.search_read(
            [('resource', 'in', resources)],
            fields_names=['resource', 'name', 'file_id', 'link', 'data_size',
                'description'],
            order=[('id', 'ASC')]):
        images.setdefault(attachment['resource'], []).append({
                'id': attachment['id'],
                'name': attachment['name'],
                'content_type': attachment['description'] or None,
                'size': attachment['data_size'],
                })
    result = []
    for item in items:
        row = item.pop('_row')
        result.append({
                **item,
                'product_code': item['code'],
                'selling_price': _money(row['list_price_used']),
                **_product_bom(boms.get(item['id'])),
                'made_to_order': supply[row['template']] == 'always',
                'manufacturing_time': row['manufacturing_time'],
                'is_manufactured': bool(row['producible']),
                'is_saleable': bool(row['salable']),
                'images': images.get(f"product.product,{item['id']}", []),
                })
    return result


def _product_bom(product_bom):
    bom = product_bom.bom if product_bom else None
    routing = product_bom.routing if product_bom else None
    return {
        'bom': _ref(bom), 'bom_id': bom.id if bom else None,
        'routing': _ref(routing), 'routing_id': routing.id if routing
        else None,
        }


def _set_production(product, body):
    """made_to_order, bom_id and routing_id of the body into the product
    (Tryton's supply on sale; the product's BOM, activated, and routing)"""
    pool = Pool()
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    if 'made_to_order' in body:
        Template.write([product.template], {'supply_on_sale':
                'always' if body['made_to_order'] else None})
    if 'bom_id' not in body and 'routing_id' not in body:
        return Product(product.id)
    current = product.boms[0] if product.boms else None
    if 'bom_id' in body:
        with Transaction().set_context(active_test=False):
            bom = _visible('production.bom', body['bom_id'], 'bom_id',
                message="No such BOM in the current business.")
        if bom and product not in {o.product for o in bom.outputs}:
            raise _invalid('bom_id', "The BOM does not make the product.")
    else:
        bom = current.bom if current else None
    routing = False
    if 'routing_id' in body:
        routing = _visible('production.routing', body['routing_id'],
            'routing_id', message="No such routing in the current business.")
        if routing and bom is None:
            raise _invalid('routing_id', "The product has no BOM: give "
                "bom_id with the routing.")
    Product.set_production_bom([product], bom, routing)
    return Product(product.id)


def _item_values(body, creating, product=None):
    """(template values, product values) from the body; 422 naming the
    field for what Tryton would not tell by name"""
    pool = Pool()
    Category = pool.get('product.category')
    template, variant = {}, {}
    unit = product.default_uom if product else None
    if 'name' in body:
        template['name'] = body['name']
    if 'code' in body:
        code = body['code'] or None
        if code is None and not creating:
            raise _invalid('code', "The code cannot be removed.")
        if code:
            template['code'] = code
    if 'description' in body:
        variant['description'] = body['description']
    if 'unit' in body:
        unit = _unit(body['unit'],
            category=product.default_uom.category if product else None)
        template['default_uom'] = unit.id
    if 'category_id' in body:
        if body['category_id'] is None:
            template['account_category'] = None
            template['categories'] = [('remove', [
                        c.id for c in (product.categories if product
                            else [])])]
        else:
            category = _visible('product.category', body['category_id'],
                'category_id', 'unknown_category',
                "No such category in the current business.")
            if category.accounting:
                template['account_category'] = category.id
            else:
                template['categories'] = [('add', [category.id])]
    if 'cost_price' in body:
        variant['cost_price'] = body['cost_price']
    if 'selling_price' in body:
        template['list_price'] = body['selling_price']
    for api, field in [('is_manufactured', 'producible'),
            ('is_saleable', 'salable')]:
        if api in body:
            template[field] = body[api]
    if 'manufacturing_time' in body:
        template['manufacturing_time'] = body['manufacturing_time']
    if 'batch_tracking' in body:
        template['lot_required'] = (BATCH_LOCATIONS
            if body['batch_tracking'] else [])
    for name in ['reorder_level', 'reorder_quantity']:
        if name in body:
            variant[name] = (float(body[name])
                if body[name] is not None else None)
    if 'preferred_vendor_id' in body:
        vendor = _vendor(body['preferred_vendor_id'], 'preferred_vendor_id')
        variant['preferred_vendor'] = vendor.id if vendor else None
    if unit is not None and creating:
        template.setdefault('purchase_uom', unit.id)
        template.setdefault('sale_uom', unit.id)
    return template, variant


def _code_conflict(template_values, product=None):
    "409 when another active item of the business has the code"
    Product = Pool().get('product.product')
    code = template_values.get('code')
    if not code:
        return
    domain = [('code', '=', code)]
    if product:
        domain.append(('id', '!=', product.id))
    if Product.search(domain, limit=1):
        raise ApiError(409, 'code_conflict',
            f"The code {code!r} is already used by another item.",
            {'code': "is already used"})


def _create_item(body, kind_values):
    pool = Pool()
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    template_values, variant_values = _item_values(body, creating=True)
    _code_conflict(template_values)
    template_values = {**kind_values, **template_values}
    template_values.setdefault('list_price', Decimal(0))
    template_values['type'] = 'goods'
    template_values['products'] = [('create', [{}])]
    template, = Template.create([template_values])
    product, = template.products
    if variant_values:
        Product.write([product], variant_values)
    return product


def _update_item(product, body):
    pool = Pool()
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    template_values, variant_values = _item_values(body, creating=False,
        product=product)
    _code_conflict(template_values, product)
    if template_values:
        Template.write([product.template], template_values)
    if variant_values:
        Product.write([product], variant_values)
    return Product(product.id)


def _delete_item(product):
    """Delete the item; one used in documents or moves is deactivated
    instead (Tryton's foreign keys tell)"""
    pool = Pool()
    Template = pool.get('product.template')
    Move = pool.get('stock.move')
    PurchaseLine = pool.get('purchase.line')
    product_id = product.id
    used = (Move.search([('product', '=', product_id)], limit=1)
        or PurchaseLine.search([('product', '=', product_id)], limit=1))
    if not used:
        try:
            Template.delete([product.template])
            return {'id': product_id, 'deleted': True, 'active': False}
        except Exception as e:  # a reference Tryton knows and we did not
            from trytond.model.exceptions import ForeignKeyError
            if not isinstance(e, ForeignKeyError):
                raise
    # DELETE is the caller's decision: Tryton's warning that stock is left
    # (answered in the desk) does not stop it
    with Transaction().set_context(_skip_warnings=True):
        Template.write([product.template], {'active': False})
        pool.get('product.product').write([product], {'active': False})
    return {'id': product_id, 'deleted': False, 'active': False}


ITEM_LIST_QUERY = {
    **LIST_QUERY,
    'category_id': {**ID,
        'description': "Only the items of this category"},
    'below_reorder_level': {'type': 'boolean',
        'description': "Only the items below their reorder level"},
    'active': {'type': 'boolean', 'default': True,
        'description': "false: the deactivated items"},
    }
_ITEM_ORDERS = {'code': 'code', 'name': 'name', 'id': 'id'}


def _item_page(call, base, convert):
    pool = Pool()
    Product = pool.get('product.product')
    OrderPoint = pool.get('stock.order_point')
    domain = list(base)
    query = call.query
    if query.get('category_id'):
        domain.append(['OR',
                ('account_category', '=', query['category_id']),
                ('categories', '=', query['category_id'])])
    if query.get('below_reorder_level'):
        points = OrderPoint.search([('type', '=', 'purchase'),
                ('below_minimum', '=', True)])
        domain.append(('id', 'in', [p.product.id for p in points]))
    with Transaction().set_context(
            active_test=query.get('active', True)):
        if query.get('active') is False:
            domain.append(('active', '=', False))
        page = paginate(call, Product, ['id'], domain=domain,
            orders=_ITEM_ORDERS, search='rec_name',
            default_order=[('code', 'ASC'), ('id', 'ASC')])
        page['items'] = convert(Product.browse(
                [r['id'] for r in page['items']]))
    return page


def _created(call, path, payload):
    location = f'{call.request.script_root}{path}/{payload["id"]}'
    return json_response(payload, 201, headers={'Location': location})


_ITEM_ERRORS = {
    403: "The caller's role may not change items (forbidden)",
    409: "Another item of the business has the code (code_conflict)",
    422: "Invalid fields, each named in error.fields: unknown or "
    "incompatible unit, vendor or category of another business; nothing "
    "is changed",
    }


@endpoint('GET', '/api/inventory/materials',
    summary="The materials of the current business",
    query=ITEM_LIST_QUERY, response=page_of(MATERIAL))
def list_materials(call):
    """Raw materials and consumables with their stock (on hand, reserved,
    available in the business's warehouse). ?q= searches code and name;
    ?order= accepts code, name, id."""
    return _item_page(call, MATERIAL_DOMAIN,
        lambda products: [_material(i) for i in _items(products)])


@endpoint('POST', '/api/inventory/materials',
    summary="Create a material", request=MATERIAL_CREATE,
    response=MATERIAL, status=201, errors=_ITEM_ERRORS)
def create_material(call):
    """Numbered MAT-001... in the business unless a code is given. The
    reorder level feeds the warehouse's order point (low-stock alerts)."""
    product = _create_item(call.body, {
            'purchasable': True, 'producible': False, 'salable': False})
    return _created(call, '/api/inventory/materials',
        _material(_items([product])[0]))


@endpoint('GET', '/api/inventory/materials/<int:id>',
    summary="A material", response=MATERIAL,
    errors={404: _NOT_FOUND_ITEM})
def get_material(call, id):
    "Deactivated materials are found too (active: false)."
    product = _item(id, MATERIAL_DOMAIN, active_test=False)
    return _material(_items([product])[0])


@endpoint('PUT', '/api/inventory/materials/<int:id>',
    summary="Change a material", request=MATERIAL_UPDATE,
    response=MATERIAL, errors={404: _NOT_FOUND_ITEM, **_ITEM_ERRORS})
def update_material(call, id):
    "The unit can only change within its kind (kg to g, not kg to m)."
    product = _update_item(_item(id, MATERIAL_DOMAIN), call.body)
    return _material(_items([product])[0])


@endpoint('DELETE', '/api/inventory/materials/<int:id>',
    summary="Delete a material", response=DELETED,
    errors={404: _NOT_FOUND_ITEM, 403: _ITEM_ERRORS[403]})
def delete_material(call, id):
    """A material never used is deleted; one with stock movements or
    purchase lines is deactivated (it leaves lists, its history stays)."""
    return _delete_item(_item(id, MATERIAL_DOMAIN))


@endpoint('GET', '/api/inventory/products',
    summary="The products (finished goods) of the current business",
    query=ITEM_LIST_QUERY, response=page_of(PRODUCT))
def list_products(call):
    """Made and/or sold goods with their stock, active BOM and images. ?q=
    searches code and name; ?order= accepts code, name, id."""
    return _item_page(call, PRODUCT_DOMAIN, _product_items)


_PRODUCT_FIELD_NAMES = {'bom': 'bom_id', 'routing': 'routing_id',
    'supply_on_sale': 'made_to_order'}


@endpoint('POST', '/api/inventory/products',
    summary="Create a product", request=PRODUCT_CREATE,
    response=PRODUCT, status=201, errors=_ITEM_ERRORS,
    field_names=_PRODUCT_FIELD_NAMES)
def create_product(call):
    """Numbered PRD-001... in the business unless a code is given; made
    (is_manufactured) and sold (is_saleable) by default."""
    body = dict(call.body)
    product = _create_item(body, {
            'producible': body.get('is_manufactured', True),
            'salable': body.get('is_saleable', True),
            'purchasable': False})
    if not (product.producible or product.salable):
        raise _invalid('is_saleable', "A product is made or sold (or "
            "both); create a material otherwise.")
    product = _set_production(product, body)
    return _created(call, '/api/inventory/products',
        _product_items([product])[0])


@endpoint('GET', '/api/inventory/products/<int:id>',
    summary="A product", response=PRODUCT,
    errors={404: _NOT_FOUND_ITEM})
def get_product(call, id):
    "Deactivated products are found too (active: false)."
    return _product_items([_item(id, PRODUCT_DOMAIN, active_test=False)])[0]


@endpoint('PUT', '/api/inventory/products/<int:id>',
    summary="Change a product", request=PRODUCT_UPDATE,
    response=PRODUCT, errors={404: _NOT_FOUND_ITEM, **_ITEM_ERRORS},
    field_names=_PRODUCT_FIELD_NAMES)
def update_product(call, id):
    "The unit can only change within its kind."
    product = _update_item(_item(id, PRODUCT_DOMAIN), call.body)
    if not (product.producible or product.salable):
        raise _invalid('is_saleable', "A product is made or sold (or "
            "both).")
    product = _set_production(product, call.body)
    return _product_items([product])[0]


@endpoint('GET', '/api/inventory/products/<int:id>/bom',
    summary="The active bill of materials of a product", response=BOM,
    errors={404: "No such product, or it has no BOM (not_found)"})
def get_product_bom(call, id):
    "The first BOM of the product (its active one) with its materials."
    product = _item(id, PRODUCT_DOMAIN, active_test=False)
    if not product.boms:
        raise ApiError(404, 'not_found', "The product has no BOM.")
    product_bom = product.boms[0]
    bom = product_bom.bom
    output = next((o for o in bom.outputs if o.product == product), None)
    return {
        'id': bom.id,
        'name': bom.name,
        'output_quantity': _qty(output.quantity if output else 1),
        'unit': (output.unit if output else product.default_uom).symbol,
        'items': [{
                'material': _ref(i.product, i.product.name),
                'code': i.product.code,
                'quantity': _qty(i.quantity, i.unit),
                'unit': i.unit.symbol,
                } for i in bom.inputs],
        'routing': _ref(product_bom.routing),
        }


@endpoint('POST', '/api/inventory/products/<int:id>/images',
    summary="Add an image to a product", request=IMAGE_UPLOAD,
    response=PRODUCT, status=201,
    errors={404: _NOT_FOUND_ITEM,
        422: "Not an image of an accepted type, or too big (invalid_image)"})
def add_product_image(call, id):
    """Stored as an attachment of the product. PNG, JPEG or WebP, at most
    2 MiB; the content must be of the type declared."""
    Attachment = Pool().get('ir.attachment')
    product = _item(id, PRODUCT_DOMAIN)
    body = call.body
    try:
        data = base64.b64decode(body['data'], validate=True)
    except (binascii.Error, ValueError):
        raise _invalid('data', "must be base64", 'invalid_image')
    if len(data) > IMAGE_MAX_BYTES:
        raise _invalid('data', f"is larger than {IMAGE_MAX_BYTES} bytes",
            'invalid_image')
    signatures = {
        'image/png': [b'\x89PNG\r\n\x1a\n'],
        'image/jpeg': [b'\xff\xd8\xff'],
        'image/webp': [b'RIFF'],
        }
    if not any(data.startswith(s)
            for s in signatures[body['content_type']]) or (
            body['content_type'] == 'image/webp' and data[8:12] != b'WEBP'):
        raise _invalid('data', f"is not a {body['content_type']} image",
            'invalid_image')
    Attachment.create([{
                'resource': str(product),
                'name': body['name'],
                'type': 'data',
                'data': data,
                'description': body['content_type'],
                }])
    return json_response(_product_items([product])[0], 201)


# Stock movements ------------------------------------------------------------

def _movements(call, product):
    Ledger = Pool().get('stock.ledger')
    query = call.query
    domain = [('product', '=', product.id)]
    if query.get('type'):
        domain.append(('movement_type', '=', query['type']))
    if query.get('date_from'):
        domain.append(('date', '>=', query['date_from']))
    if query.get('date_to'):
        domain.append(('date', '<=', query['date_to']))
    if (query.get('date_from') and query.get('date_to')
            and query['date_from'] > query['date_to']):
        raise ApiError(400, 'invalid_query', "The dates are reversed.",
            {'date_to': "is before date_from"})
    limit, offset = query.get('limit', 20), query.get('offset', 0)
    total = Ledger.search_count(domain)
    # Only the ids of the page: the columns of the rows skipped by the
    # offset would be computed too
    cursor = Transaction().connection.cursor()
    cursor.execute(*Ledger.search(domain, offset=offset, limit=limit,
            order=[('date', 'DESC'), ('id', 'DESC')], query=True))
    ids = [i for i, in cursor]
    rows = Ledger.read(ids, [
            'date', 'movement_type', 'quantity', 'balance',
            'from_location', 'from_location.rec_name', 'to_location',
            'to_location.rec_name', 'lot', 'lot.number', 'user',
            'user.name', 'timestamp', 'reference_type', 'reference',
            'moved_quantity'])
    # read answers in storage order: keep the page's (newest first)
    position = {id_: i for i, id_ in enumerate(ids)}
    rows.sort(key=lambda r: position[r['id']])
    unit = product.default_uom

    def ref(row, name, label):
        if not row[name]:
            return None
        return {'id': row[name], 'name': row[f'{name}.'][label]}
    items = [{
            'id': r['id'],
            'date': r['date'],
            'movement_type': r['movement_type'],
            'quantity': _qty(r['quantity'], unit),
            'moved_quantity': _qty(r['moved_quantity']),
            'balance': _qty(r['balance'], unit),
            'unit': unit.symbol,
            'from_location': ref(r, 'from_location', 'rec_name'),
            'to_location': ref(r, 'to_location', 'rec_name'),
            'reference_type': r['reference_type'],
            'reference': r['reference'],
            'batch': ref(r, 'lot', 'number'),
            'user': ref(r, 'user', 'name'),
            'timestamp': r['timestamp'],
            } for r in rows]
    return {'items': items, 'total': total, 'limit': limit,
        'offset': offset}


_MOVEMENTS_DOC = """Newest first, each with the business's stock after it
(running balance): in (receipts, production output), out (deliveries,
consumption), transfer (between the business's locations: balance
unchanged) and adjustment (stock counts). Filter by ?type= and
?date_from=/?date_to=."""


@endpoint('GET', '/api/inventory/materials/<int:id>/stock-movements',
    summary="The stock movements of a material", query=MOVEMENT_QUERY,
    response=page_of(MOVEMENT), description=_MOVEMENTS_DOC,
    errors={404: _NOT_FOUND_ITEM})
def material_movements(call, id):
    return _movements(call, _item(id, MATERIAL_DOMAIN, active_test=False))


@endpoint('GET', '/api/inventory/products/<int:id>/stock-movements',
    summary="The stock movements of a product", query=MOVEMENT_QUERY,
    response=page_of(MOVEMENT), description=_MOVEMENTS_DOC,
    errors={404: _NOT_FOUND_ITEM})
def product_movements(call, id):
    return _movements(call, _item(id, PRODUCT_DOMAIN, active_test=False))


# Locations, transfers and adjustments ---------------------------------------

@endpoint('GET', '/api/inventory/locations',
    summary="The storage locations of the current business",
    response={'type': 'object', 'required': ['items', 'total'],
        'additionalProperties': False,
        'properties': {'items': {'type': 'array', 'items': LOCATION},
            'total': {'type': 'integer',
                'description': "Number of locations (all are listed)"}}})
def list_locations(call):
    "Where stock is kept: transfers move between them."
    Location = Pool().get('stock.location')
    warehouse = _warehouse()
    locations = Location.search([
            ('parent', 'child_of', [warehouse.id]),
            ('type', 'in', ['storage', 'warehouse']),
            ], order=[('id', 'ASC')])
    items = [{'id': l.id, 'name': l.rec_name, 'code': l.code,
            'type': l.type} for l in locations]
    return {'items': items, 'total': len(items)}


def _storage_location(location_id, field):
    location = _visible('stock.location', location_id, field,
        'unknown_location', "No such location in the current business.")
    if location.type != 'storage':
        raise _invalid(field, "must be a storage location",
            'unknown_location')
    return location


def _batch(number, product, field):
    Lot = Pool().get('stock.lot')
    if not number:
        return None
    lots = Lot.search([('number', '=', number),
            ('product', '=', product.id)], limit=1)
    if not lots:
        raise _invalid(field, f"No batch {number!r} of this item.",
            'unknown_batch')
    return lots[0]


def _item_of_business(item_id, field):
    Product = Pool().get('product.product')
    products = Product.search([('id', '=', item_id),
            ('type', '=', 'goods')], limit=1)
    if not products:
        raise _invalid(field, "No such item in the current business.",
            'unknown_item')
    return products[0]


@endpoint('POST', '/api/inventory/transfers',
    summary="Move stock between two locations of the business",
    request=TRANSFER_CREATE, response=TRANSFER, status=201,
    errors={
        403: "The caller's role may not move stock (forbidden)",
        409: "Not enough stock at the source (insufficient_stock)",
        422: "Invalid fields, each named: quantity not above zero, "
        "unknown item, location or batch, unit incompatible with the "
        "item's; nothing is moved",
        })
def create_transfer(call):
    """An internal shipment of Tryton, done at once: it appears in the
    ledger as a transfer (the business's balance is unchanged)."""
    Shipment = Pool().get('stock.shipment.internal')
    body = call.body
    quantity = _positive(body['quantity'], 'quantity')
    product = _item_of_business(body['item_id'], 'item_id')
    unit = (_unit(body['unit'], category=product.default_uom.category)
        if body.get('unit') else product.default_uom)
    from_ = _storage_location(body['from_location_id'], 'from_location_id')
    to = _storage_location(body['to_location_id'], 'to_location_id')
    if from_ == to:
        raise _invalid('to_location_id', "must differ from the source")
    lot = _batch(body.get('batch'), product, 'batch')
    shipment = Shipment.transfer_now(product, quantity, unit, from_, to,
        lot=lot, reference=body.get('notes'))
    move, = shipment.moves
    return json_response({
            'id': shipment.id,
            'number': shipment.number,
            'state': shipment.state,
            'item_id': product.id,
            'quantity': _qty(move.quantity, unit),
            'unit': unit.symbol,
            'from_location': _ref(from_),
            'to_location': _ref(to),
            'batch': _ref(lot, lot.number) if lot else None,
            }, 201)


@endpoint('POST', '/api/inventory/adjustments',
    summary="Post a stock count", request=ADJUSTMENT_CREATE,
    response=ADJUSTMENT, status=201,
    errors={
        403: "The caller's role may not count stock (forbidden)",
        422: "Invalid fields, each named (lines.N.counted_quantity "
        "negative, unknown item or batch, reason missing); nothing is "
        "posted",
        })
def create_adjustment(call):
    """A Tryton inventory of one location with the quantities counted and
    a reason, confirmed at once: the differences are adjustments in the
    ledger."""
    from ..inventory.stock import COUNT_WINDOW
    pool = Pool()
    Inventory = pool.get('stock.inventory')
    Product = pool.get('product.product')
    Lot = pool.get('stock.lot')
    body = call.body
    location = (_storage_location(body['location_id'], 'location_id')
        if body.get('location_id') else _warehouse().storage_location)
    lines = body['lines']
    item_ids = sorted({l['item_id'] for l in lines})
    products = {}
    # By windows: records browsed together each check the whole list
    for sub_ids in grouped_slice(item_ids, COUNT_WINDOW):
        products.update((p.id, p) for p in Product.search([
                    ('id', 'in', list(sub_ids)), ('type', '=', 'goods')]))
    numbers = {l['batch'] for l in lines if l.get('batch')}
    lots = {}
    if numbers:
        for lot in Lot.search([('number', 'in', list(numbers)),
                    ('product', 'in', list(products))]):
            lots[(lot.product.id, lot.number)] = lot
    inventory_lines = []
    for i, line in enumerate(lines):
        if line['counted_quantity'] < 0:
            raise _invalid(f'lines.{i}.counted_quantity',
                "must be 0 or more")
        product = products.get(line['item_id'])
        if not product:
            raise _invalid(f'lines.{i}.item_id',
                "No such item in the current business.", 'unknown_item')
        lot = None
        if line.get('batch'):
            lot = lots.get((product.id, line['batch']))
            if not lot:
                raise _invalid(f'lines.{i}.batch',
                    f"No batch {line['batch']!r} of this item.",
                    'unknown_batch')
        inventory_lines.append({'product': product.id,
                'quantity': float(line['counted_quantity']),
                'lot': lot.id if lot else None})
    # The lines are read by windows of the count's size (see COUNT_WINDOW)
    with Transaction().set_context(_record_cache_size=COUNT_WINDOW):
        inventory, = Inventory.create([{
                    'location': location.id,
                    'date': body.get('date') or dt.date.today(),
                    'reason': body['reason'],
                    'company': Transaction().context.get('company'),
                    'lines': [('create', inventory_lines)],
                    }])
        Inventory.confirm([inventory])
        inventory = Inventory(inventory.id)
        return json_response(_adjustment(inventory), 201)


def _adjustment(inventory):
    Line = Pool().get('stock.inventory.line')
    cursor = Transaction().connection.cursor()
    # The lines in their order, read rather than browsed all together
    cursor.execute(*Line.search([('inventory', '=', inventory.id)],
            query=True))
    rows = Line.read([i for i, in cursor],
        ['product', 'expected_quantity', 'quantity', 'lot', 'lot.number'])
    return {
        'id': inventory.id,
        'number': inventory.number,
        'state': inventory.state,
        'date': inventory.date,
        'reason': inventory.reason,
        'location': _ref(inventory.location),
        'lines': [{
                'item_id': r['product'],
                'expected_quantity': _qty(r['expected_quantity']),
                'counted_quantity': _qty(r['quantity']),
                'batch': {'id': r['lot'], 'name': r['lot.']['number']}
                if r['lot'] else None,
                } for r in rows],
        }


# Alerts ---------------------------------------------------------------------

def _alerts():
    pool = Pool()
    OrderPoint = pool.get('stock.order_point')
    Product = pool.get('product.product')
    points = OrderPoint.alerts()
    figures = OrderPoint.get_stock_alert(points, ['stock_quantity'])[
        'stock_quantity']
    vendors = Product.get_preferred_vendor(
        [p.product for p in points], 'preferred_vendor')
    items = [{
                'item': _ref(p.product, p.product.name),
                'code': p.product.code,
                'available_stock': _qty(figures[p.id], p.unit),
                'reorder_level': _qty(p.min_quantity, p.unit),
                'reorder_quantity': _qty(
                    p.target_quantity - p.min_quantity, p.unit),
                'unit': p.unit.symbol,
                'preferred_vendor': _ref(pool.get('party.party')(
                        vendors[p.product.id]))
                if vendors[p.product.id] else None,
                } for p in points]
    return {'items': items, 'total': len(items)}


@endpoint('GET', '/api/inventory/alerts',
    summary="Items below their reorder level", response=ALERTS)
def list_alerts(call):
    """The low-stock alerts of the business: available stock (on hand
    minus reserved) below the reorder level."""
    return _alerts()


@endpoint('POST', '/api/inventory/alerts/reorder',
    summary="Turn the alerts into draft purchase orders",
    response={'type': 'object', 'required': ['purchase_orders'],
        'additionalProperties': False,
        'properties': {'purchase_orders': {'type': 'array',
                'items': PURCHASE_ORDER_ITEM}}},
    errors={403: "The caller's role may not request purchases "
        "(forbidden)"})
def reorder(call):
    """Purchase requests for what is missing up to each item's reorder
    level plus its reorder quantity, grouped by preferred vendor into
    draft purchase orders in one step (items without a vendor keep their
    request)."""
    PurchaseRequest = Pool().get('purchase.request')
    purchases = PurchaseRequest.reorder(_warehouse())
    return {'purchase_orders': [_purchase_item(p) for p in purchases]}


# Purchase orders ------------------------------------------------------------

def _purchase_item(purchase):
    return {
        'id': purchase.id,
        'number': purchase.number,
        'vendor': _ref(purchase.party, purchase.party.name),
        'status': purchase.status,
        'order_date': purchase.purchase_date,
        'total_amount': _money(purchase.total_amount),
        }


def _purchase(purchase):
    pool = Pool()
    Uom = pool.get('product.uom')
    Purchase = pool.get('purchase.purchase')
    purchase = Purchase(purchase.id)
    lines = []
    for line in purchase.line_lines:
        received = sum(Uom.compute_qty(m.unit, m.quantity, line.unit)
            for m in line.moves if m.state == 'done')
        lines.append({
                'id': line.id,
                'item': _ref(line.product, line.product.name),
                'code': line.product.code,
                'quantity': _qty(line.quantity, line.unit),
                'unit': line.unit.symbol,
                'unit_price': _money(line.unit_price),
                'amount': _money(line.amount),
                'received_quantity': _qty(received, line.unit),
                })
    expected = [l.delivery_date for l in purchase.line_lines
        if l.delivery_date] or [purchase.delivery_date]
    expected = [d for d in expected if d]
    return {
        'id': purchase.id,
        'number': purchase.number,
        'vendor': _ref(purchase.party, purchase.party.name),
        'status': purchase.status,
        'state': purchase.state,
        'order_date': purchase.purchase_date,
        'expected_date': min(expected) if expected else None,
        'untaxed_amount': _money(purchase.untaxed_amount),
        'tax_amount': _money(purchase.tax_amount),
        'total_amount': _money(purchase.total_amount),
        'currency': purchase.currency.code,
        'approval_required': purchase.approval_required,
        'approved_by': _ref(purchase.approved_by,
            purchase.approved_by.name) if purchase.approved_by else None,
        'lines': lines,
        'bills': [_ref(i, i.number or i.rec_name)
            for i in purchase.invoices],
        }


PURCHASE_ORDERS = Resource('/api/inventory/purchase-orders',
    'purchase.purchase', 'purchase order', lambda p: _purchase(p),
    code='not_found',
    message="No such purchase order in the current business.")
_PO_NOT_FOUND = PURCHASE_ORDERS.not_found


@endpoint('GET', '/api/inventory/purchase-orders',
    summary="The purchase orders of the current business",
    query={**LIST_QUERY, 'status': {'type': 'string', 'enum': STATUSES,
            'description': "Only the orders in this status"}},
    response=page_of(PURCHASE_ORDER_ITEM))
def list_purchase_orders(call):
    """Newest first. ?q= searches the number, vendor and reference;
    ?order= accepts number, order_date, id."""
    Purchase = Pool().get('purchase.purchase')
    status = call.query.get('status')
    domain = [('status', '=', status)] if status else []
    page = paginate(call, Purchase, ['id'], domain=domain,
        orders={'number': 'number', 'order_date': 'purchase_date',
            'id': 'id'},
        default_order=[('id', 'DESC')])
    page['items'] = [_purchase_item(p)
        for p in Purchase.browse([r['id'] for r in page['items']])]
    return page


@endpoint('POST', '/api/inventory/purchase-orders',
    summary="Create a draft purchase order", request=PURCHASE_ORDER_CREATE,
    response=PURCHASE_ORDER, status=201,
    errors={403: "The caller's role may not purchase (forbidden)",
        422: "Invalid fields, each named: vendor of another business "
        "(vendor_id), quantity not above zero, unknown item, unit "
        "incompatible with the item's; nothing is created"})
def create_purchase_order(call):
    """In the vendor's terms (payment term, addresses); prices default to
    the vendor's price list for the item, else its cost price."""
    pool = Pool()
    Purchase = pool.get('purchase.purchase')
    Line = pool.get('purchase.line')
    # Records saved as instances skip Tryton's model access: ask first
    pool.get('ir.model.access').check(Purchase.__name__, 'create')
    body = call.body
    vendor = _vendor(body['vendor_id'], 'vendor_id')
    purchase = Purchase(party=vendor)
    purchase.on_change_party()
    if body.get('order_date'):
        purchase.purchase_date = body['order_date']
    if body.get('notes'):
        purchase.comment = body['notes']
    lines = []
    for i, values in enumerate(body['lines']):
        _positive(values['quantity'], f'lines.{i}.quantity')
        product = _item_of_business(values['item_id'], f'lines.{i}.item_id')
        if not product.purchasable:
            raise _invalid(f'lines.{i}.item_id', "is not purchasable")
        line = Line(purchase=purchase, type='line', product=product,
            quantity=float(values['quantity']))
        line.on_change_product()
        if values.get('unit'):
            line.unit = _unit(values['unit'], f'lines.{i}.unit',
                product.default_uom.category)
        line.quantity = float(values['quantity'])
        line.on_change_quantity()
        if values.get('unit_price') is not None:
            line.unit_price = values['unit_price']
        lines.append(line)
    if body.get('expected_date'):
        purchase.delivery_date = body['expected_date']
    purchase.lines = lines
    purchase.save()
    return json_response(_purchase(purchase), 201, headers={
            'Location': f'{call.request.script_root}'
            f'/api/inventory/purchase-orders/{purchase.id}'})


@endpoint('GET', '/api/inventory/purchase-orders/<int:id>',
    summary="A purchase order", response=PURCHASE_ORDER,
    errors={404: _PO_NOT_FOUND})
def get_purchase_order(call, id):
    "With its lines, what was received of each, and its vendor bills."
    return _purchase(PURCHASE_ORDERS.get(id))


def _approval_error(e):
    return ApiError(403, 'approval_required', e.message)


@PURCHASE_ORDERS.action('confirm', 'confirm', press=False,
    summary="Confirm a purchase order", response=PURCHASE_ORDER,
    errors={403: "Above the business's approval threshold: an owner or a "
        "manager must approve it (approval_required)",
        409: "Not a draft (invalid_state)"})
def confirm_purchase_order(call, purchase):
    """Buyers confirm orders up to the business's approval threshold
    directly; it is then awaiting delivery."""
    from ..inventory.exceptions import ApprovalError
    Purchase = Pool().get('purchase.purchase')
    if purchase.state not in {'draft', 'quotation'}:
        raise ApiError(409, 'invalid_state',
            f"The purchase order is {purchase.status}.")
    try:
        if purchase.state == 'draft':
            Purchase.quote([purchase])
        Purchase.confirm([purchase])
    except ApprovalError as e:
        raise _approval_error(e) from e
    return _purchase(purchase)


@PURCHASE_ORDERS.action('approve', 'approve', press=False,
    summary="Approve and confirm a purchase order", response=PURCHASE_ORDER,
    errors={403: "Only owners and managers approve (approval_required)",
        409: "Not a draft (invalid_state)"})
def approve_purchase_order(call, purchase):
    "Owners and managers approve orders above the threshold."
    from ..inventory.exceptions import ApprovalError
    Purchase = Pool().get('purchase.purchase')
    if purchase.state not in {'draft', 'quotation'}:
        raise ApiError(409, 'invalid_state',
            f"The purchase order is {purchase.status}.")
    try:
        Purchase.approve([purchase])
    except ApprovalError as e:
        raise _approval_error(e) from e
    return _purchase(purchase)


@PURCHASE_ORDERS.action('receive', 'do', model='stock.shipment.in',
    press=False,
    summary="Receive goods against a purchase order", request=RECEIPT,
    response=PURCHASE_ORDER, status=201,
    errors={409: "The order is not approved or is fully received "
        "(invalid_state)",
        422: "Invalid fields, each named (lines.N.quantity not above "
        "zero or beyond the business's receipt tolerance, lines.N.line_id "
        "unknown, lines.N.batch_number missing for a batch-tracked item); "
        "nothing is received"})
def receive_purchase_order(call, purchase):
    """Partial receipts: each line received with its batch (created with
    its expiry date) goes into the warehouse; the rest stays awaited (the
    supplier shipment's Done button)."""
    pool = Pool()
    Line = pool.get('purchase.line')
    # The receipt saves instances, which skip Tryton's model access
    pool.get('ir.model.access').check('stock.shipment.in', 'create')
    if purchase.state not in {'confirmed', 'processing'}:
        raise ApiError(409, 'invalid_state',
            f"The purchase order is {purchase.status}: nothing can be "
            "received against it.")
    lines = {l.id: l for l in purchase.line_lines}
    receipts = []
    for i, values in enumerate(call.body['lines']):
        line = lines.get(values['line_id'])
        if line is None:
            raise _invalid(f'lines.{i}.line_id',
                "is not a line of this purchase order", 'unknown_line')
        if line.product.lot_is_required(
                line.from_location, line.to_location) \
                and not values.get('batch_number'):
            raise _invalid(f'lines.{i}.batch_number',
                "is required: the item is tracked by batch")
        receipts.append({'line': Line(line.id),
                'quantity': values['quantity'],
                'lot': values.get('batch_number'),
                'expiration_date': values.get('expiry_date'),
                'field': f'lines.{i}.quantity',
                'line_field': f'lines.{i}.line_id'})
    purchase.receive_goods(receipts, date=call.body.get('date'))
    return json_response(_purchase(purchase), 201)


@endpoint('POST', '/api/inventory/purchase-orders/<int:id>/bill',
    summary="The vendor bill of what was received", response=PURCHASE_ORDER,
    errors={404: _PO_NOT_FOUND,
        409: "Nothing received to bill yet (nothing_to_bill)"})
def bill_purchase_order(call, id):
    """A draft vendor bill (supplier invoice) of the received quantities
    not billed yet, for the accounts role to post."""
    Pool().get('ir.model.access').check('account.invoice', 'create')
    purchase = PURCHASE_ORDERS.get(id)
    if purchase.state not in {'processing', 'done'}:
        raise ApiError(409, 'nothing_to_bill',
            "Nothing was received against this order.")
    bills = purchase.create_vendor_bill()
    if not bills:
        raise ApiError(409, 'nothing_to_bill',
            "Nothing was received against this order.")
    return _purchase(purchase)


# Settings -------------------------------------------------------------------

SETTINGS = define('InventorySettings', {
        'type': 'object',
        'required': ['approval_threshold', 'receipt_tolerance'],
        'additionalProperties': False,
        'properties': {
            'approval_threshold': {**NULLABLE_DECIMAL, 'description':
                "Purchase orders with a total above it need an owner or a "
                "manager to approve; null: none do"},
            'receipt_tolerance': _decimal_string(
                "Percent of the ordered quantity that may be received "
                "beyond it"),
            },
        })
SETTINGS_UPDATE = define('InventorySettingsUpdate', {
        'type': 'object',
        'additionalProperties': False,
        'properties': {
            'approval_threshold': _price(2, ['number', 'null']),
            'receipt_tolerance': decimal(2, 100, types=['number']),
            },
        })


def _settings():
    from ..inventory.purchase import purchase_settings
    threshold, tolerance = purchase_settings()
    return {'approval_threshold': threshold, 'receipt_tolerance': tolerance}


@endpoint('GET', '/api/inventory/settings',
    summary="The purchase rules of the current business", response=SETTINGS)
def get_settings(call):
    "Approval threshold and receipt tolerance."
    return _settings()


@endpoint('PUT', '/api/inventory/settings',
    summary="Change the purchase rules of the current business",
    request=SETTINGS_UPDATE, response=SETTINGS,
    errors={403: "Only owners and managers change them (forbidden)"})
def update_settings(call):
    "Each business has its own; the others are not affected."
    from ..inventory.purchase import _user_approves
    Configuration = Pool().get('purchase.configuration')
    if not _user_approves():
        raise ApiError(403, 'forbidden', "Only owners and managers change "
            "the purchase rules of the business.")
    config = Configuration(1)
    for name in ['approval_threshold', 'receipt_tolerance']:
        if name in call.body:
            setattr(config, name, call.body[name])
    config.save()
    return _settings()


# Vendors --------------------------------------------------------------------

SUPPLY = {
    'type': 'object',
    'required': ['item_id', 'unit_price'],
    'additionalProperties': False,
    'properties': {
        'item_id': ID,
        'unit_price': _price(description="Price per unit of the item's "
            "purchase unit"),
        'lead_time_days': {'type': ['integer', 'null'], 'minimum': 0,
            'maximum': 365},
        'preferred': {'type': 'boolean',
            'description': "Make the vendor the item's preferred one"},
        },
    }
_VENDOR_INPUT = {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 200},
    'gstin': {'type': ['string', 'null'], 'maxLength': 20},
    'email': {'type': ['string', 'null'], 'format': 'email',
        'maxLength': 254},
    'phone': {'type': ['string', 'null'], 'maxLength': 50},
    'contact_person': {'type': ['string', 'null'], 'maxLength': 200},
    'address': {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'street': {'type': ['string', 'null'], 'maxLength': 500},
            'city': {'type': ['string', 'null'], 'maxLength': 100},
            'postal_code': {'type': ['string', 'null'], 'maxLength': 20},
            'state': {'type': ['string', 'null'], 'maxLength': 10,
                'description': "ISO 3166-2 code (IN-MH)"},
            },
        },
    'payment_term_id': {**NULLABLE_ID,
        'description': "One of the platform's payment terms"},
    'supplies': {'type': 'array', 'maxItems': 500, 'items': SUPPLY,
        'description': "Materials the vendor supplies (replaces the list "
        "on update)"},
    }
VENDOR_CREATE = define('VendorCreate', {
        'type': 'object', 'required': ['name'],
        'additionalProperties': False, 'properties': _VENDOR_INPUT})
VENDOR_UPDATE = define('VendorUpdate', {
        'type': 'object', 'additionalProperties': False,
        'description': "The fields to change; the others are kept",
        'properties': _VENDOR_INPUT})
VENDOR = define('Vendor', {
        'type': 'object',
        'required': ['id', 'code', 'name', 'gstin', 'email', 'phone',
            'contact_person', 'address', 'payment_term', 'supplies',
            'active'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'code': {'type': ['string', 'null'],
                'description': "VEN-001... in the business"},
            'name': {'type': 'string'},
            'gstin': {'type': ['string', 'null']},
            'email': {'type': ['string', 'null']},
            'phone': {'type': ['string', 'null']},
            'contact_person': {'type': ['string', 'null']},
            'address': {'type': ['object', 'null']},
            'payment_term': REF,
            'supplies': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['item', 'code', 'unit_price', 'unit',
                        'lead_time_days'],
                    'additionalProperties': False,
                    'properties': {
                        'item': REF,
                        'code': {'type': ['string', 'null']},
                        'unit_price': NULLABLE_DECIMAL,
                        'unit': {'type': ['string', 'null']},
                        'lead_time_days': {'type': ['integer', 'null']},
                        },
                    }},
            'active': {'type': 'boolean'},
            },
        })


def _vendor_of_business(id):
    Party = Pool().get('party.party')
    with Transaction().set_context(active_test=False):
        parties = Party.search([('id', '=', id),
                ('code', 'like', 'VEN-%')], limit=1)
    if not parties:
        raise ApiError(404, 'not_found',
            "No such vendor in the current business.")
    return parties[0]


def _vendor_dict(party):
    pool = Pool()
    ProductSupplier = pool.get('purchase.product_supplier')
    gstin = next((i.code for i in party.identifiers if i.type == 'in_vat'),
        None)
    address = party.addresses[0] if party.addresses else None
    contacts = {c.type: c.value for c in party.contact_mechanisms}
    supplies = []
    for supplier in ProductSupplier.search([('party', '=', party.id)],
            order=[('id', 'ASC')]):
        product = supplier.product or (supplier.template.products[0]
            if supplier.template.products else None)
        price = supplier.prices[0] if supplier.prices else None
        supplies.append({
                'item': _ref(product, supplier.template.name),
                'code': product.code if product else None,
                'unit_price': price.unit_price if price else None,
                'unit': supplier.unit.symbol if supplier.unit else None,
                'lead_time_days': (supplier.lead_time.days
                    if supplier.lead_time is not None else None),
                })
    term = party.supplier_payment_term
    return {
        'id': party.id,
        'code': party.code,
        'name': party.name,
        'gstin': gstin,
        'email': contacts.get('email'),
        'phone': contacts.get('phone'),
        'contact_person': (address.party_name or None) if address else None,
        'address': {
            'street': address.street or None,
            'city': address.city or None,
            'postal_code': address.postal_code or None,
            'state': address.subdivision.code if address.subdivision
            else None,
            } if address else None,
        'payment_term': _ref(term, term.name) if term else None,
        'supplies': supplies,
        'active': party.active,
        }


def _apply_vendor(party, body):
    "Write body on the vendor party; 422 naming the field"
    pool = Pool()
    Party = pool.get('party.party')
    Identifier = pool.get('party.identifier')
    Address = pool.get('party.address')
    Contact = pool.get('party.contact_mechanism')
    Subdivision = pool.get('country.subdivision')
    PaymentTerm = pool.get('account.invoice.payment_term')
    ProductSupplier = pool.get('purchase.product_supplier')
    Price = pool.get('purchase.product_supplier.price')
    values = {}
    if 'name' in body:
        values['name'] = body['name']
    if 'payment_term_id' in body:
        if body['payment_term_id'] and not PaymentTerm.search(
                [('id', '=', body['payment_term_id'])]):
            raise _invalid('payment_term_id', "No such payment term.")
        values['supplier_payment_term'] = body['payment_term_id']
    if values:
        Party.write([party], values)
    if body.get('gstin'):
        from stdnum.in_ import gstin
        code = gstin.compact(body['gstin'])
        if not gstin.is_valid(code):
            raise _invalid('gstin', "is not a valid GSTIN", 'invalid_gstin')
        Identifier.delete([i for i in party.identifiers
                if i.type == 'in_vat'])
        Identifier.create([{'party': party.id, 'type': 'in_vat',
                    'code': code}])
    elif 'gstin' in body:
        Identifier.delete([i for i in party.identifiers
                if i.type == 'in_vat'])
    for kind in ['email', 'phone']:
        if kind in body:
            Contact.delete([c for c in party.contact_mechanisms
                    if c.type == kind])
            if body[kind]:
                Contact.create([{'party': party.id, 'type': kind,
                            'value': body[kind]}])
    if 'address' in body or 'contact_person' in body:
        given = body.get('address') or {}
        address_values = {k: given[k] or None
            for k in ['street', 'city', 'postal_code'] if k in given}
        if given.get('state'):
            states = Subdivision.search([('code', '=', given['state']),
                    ('country.code', '=', 'IN')], limit=1)
            if not states:
                raise _invalid('address.state', "unknown Indian state code")
            address_values['subdivision'] = states[0].id
            address_values['country'] = states[0].country.id
        if 'contact_person' in body:
            address_values['party_name'] = body['contact_person']
        if party.addresses:
            Address.write([party.addresses[0]], address_values)
        else:
            Address.create([{'party': party.id, **address_values}])
    if 'supplies' in body:
        ProductSupplier.delete(ProductSupplier.search(
                [('party', '=', party.id)]))
        preferred = []
        for i, supply in enumerate(body['supplies']):
            product = _item_of_business(supply['item_id'],
                f'supplies.{i}.item_id')
            lead = supply.get('lead_time_days')
            supplier, = ProductSupplier.create([{
                        'template': product.template.id,
                        'product': product.id,
                        'party': party.id,
                        'lead_time': (dt.timedelta(days=lead)
                            if lead is not None else None),
                        }])
            Price.create([{'product_supplier': supplier.id,
                        'quantity': 0, 'unit_price': supply['unit_price']}])
            if supply.get('preferred'):
                preferred.append(product)
        if preferred:
            pool.get('product.product').write(preferred,
                {'preferred_vendor': party.id})
    return Party(party.id)


_VENDOR_ERRORS = {
    403: "The caller's role may not change vendors (forbidden)",
    422: "Invalid fields, each named (gstin, address.state, "
    "supplies.N.item_id of another business, payment_term_id); nothing is "
    "changed",
    }


@endpoint('GET', '/api/inventory/vendors',
    summary="The vendors of the current business", query=LIST_QUERY,
    response=page_of(VENDOR))
def list_vendors(call):
    """With what each supplies, at what price and lead time. ?q= searches
    code and name; ?order= accepts code, name, id."""
    Party = Pool().get('party.party')
    page = paginate(call, Party, ['id'], domain=[('code', 'like', 'VEN-%')],
        orders={'code': 'code', 'name': 'name', 'id': 'id'},
        default_order=[('code', 'ASC'), ('id', 'ASC')])
    page['items'] = [_vendor_dict(p)
        for p in Party.browse([r['id'] for r in page['items']])]
    return page


@endpoint('POST', '/api/inventory/vendors',
    summary="Create a vendor", request=VENDOR_CREATE, response=VENDOR,
    status=201, errors=_VENDOR_ERRORS)
def create_vendor(call):
    "Numbered VEN-001... in the business."
    Party = Pool().get('party.party')
    with Transaction().set_context(party_kind='vendor'):
        party, = Party.create([{'name': call.body['name']}])
    party = _apply_vendor(party, call.body)
    return _created(call, '/api/inventory/vendors', _vendor_dict(party))


@endpoint('GET', '/api/inventory/vendors/<int:id>',
    summary="A vendor", response=VENDOR,
    errors={404: "No such vendor in the current business (not_found)"})
def get_vendor(call, id):
    return _vendor_dict(_vendor_of_business(id))


@endpoint('PUT', '/api/inventory/vendors/<int:id>',
    summary="Change a vendor", request=VENDOR_UPDATE, response=VENDOR,
    errors={404: "No such vendor in the current business (not_found)",
        **_VENDOR_ERRORS})
def update_vendor(call, id):
    return _vendor_dict(_apply_vendor(_vendor_of_business(id), call.body))


# Batches --------------------------------------------------------------------

def _trace_steps(traces):
    return [{
            'date': t.date,
            'item': _ref(t.product, t.product.name),
            'quantity': _qty(t.quantity, t.unit),
            'unit': t.unit.symbol,
            'from_location': _ref(t.from_location),
            'to_location': _ref(t.to_location),
            'document_type': _document_type(t.document),
            'document': (getattr(t.document, 'number', None)
                or t.document.rec_name) if t.document else None,
            'batch': _ref(t.lot, t.lot.number),
            } for t in traces]


def _document_type(document):
    from ..inventory.stock import REFERENCE_TYPES
    if document is None:
        return None
    return REFERENCE_TYPES.get(document.__name__, document.__name__)


def _walk(trace, name, seen):
    "Every trace reached from trace through name (upward/downward)"
    result = []
    for step in getattr(trace, name):
        if step.id in seen:
            continue
        seen.add(step.id)
        result.append(step)
        result.extend(_walk(step, name, seen))
    return result


@endpoint('GET', '/api/inventory/batches/<int:id>/trace',
    summary="Where a batch came from and where it went", response=TRACE,
    errors={404: "No such batch in the current business (not_found)"})
def trace_batch(call, id):
    """Tryton's lot trace: backward to the vendor receipt (or the work
    order that made the batch), forward to the work orders that consumed
    it and the deliveries of what was made from it."""
    pool = Pool()
    Lot = pool.get('stock.lot')
    Trace = pool.get('stock.lot.trace')
    lots = Lot.search([('id', '=', id)], limit=1)
    if not lots:
        raise ApiError(404, 'not_found', "No such batch in the current "
            "business.")
    lot, = lots
    traces = Trace.search([('lot', '=', lot.id)])
    outside = {'supplier', 'customer', 'production', 'lost_found'}
    seen = {t.id for t in traces}
    # Backward: how the batch entered (vendor receipt, work order output)
    # and, through Tryton's downward traces, what it was made from
    backward = [t for t in traces if t.from_location.type in outside]
    for trace in list(backward):
        backward.extend(_walk(trace, 'downward_traces', seen))
    # Forward: how it left (work order consumption, delivery) and,
    # through the upward traces, what was made from it and delivered
    forward = [t for t in traces if t.to_location.type in outside]
    for trace in list(forward):
        forward.extend(_walk(trace, 'upward_traces', seen))
    key = (lambda t: (t.date or dt.date.min, t.id))
    return {
        'batch': _ref(lot, lot.number),
        'item': _ref(lot.product, lot.product.name),
        'expiry_date': lot.expiration_date,
        'backward': _trace_steps(sorted(backward, key=key)),
        'forward': _trace_steps(sorted(forward, key=key)),
        }
