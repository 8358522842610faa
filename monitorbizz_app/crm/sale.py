# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Quotations and sales orders are Tryton sales (sale.sale).

A quotation is a sale numbered QT-<year>-NNN from its business's
quotation_sequence when it is created; Tryton's state says draft or sent
("quotation"), quotation_state adds what the customer answered (accepted,
rejected) or that it expired. Converting an accepted quotation makes the
sale an order: Tryton's number takes SO-<year>-NNN from the business's
sale_sequence and confirming it (after the credit check) hands it to
Tryton's sale process. An order's status and payment status are derived
from Tryton's state, shipments, productions and invoices."""
import base64
import datetime as dt
from decimal import Decimal
from email.message import EmailMessage

from trytond import config
from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.report import Report
from trytond.rpc import RPC
from trytond.sendmail import send_message_transactional
from trytond.transaction import Transaction, without_check_access

from ..account_in.account import GST_HEADS, gst_head
from ..business.workflow import guarded_button
from .exceptions import (
    CreditLimitExceeded, CrmError, OrderStateError, QuotationStateError)
from .words import rupees_in_words

QUOTATION_STATES = [
    (None, ""),
    ('draft', "Draft"),
    ('sent', "Sent"),
    ('accepted', "Accepted"),
    ('rejected', "Rejected"),
    ('expired', "Expired"),
    ]
ORDER_STATUSES = [
    (None, ""),
    ('pending', "Pending"),
    ('confirmed', "Confirmed"),
    ('in_production', "In Production"),
    ('ready_to_ship', "Ready to Ship"),
    ('shipped', "Shipped"),
    ('delivered', "Delivered"),
    ('cancelled', "Cancelled"),
    ]
PAYMENT_STATUSES = [
    (None, ""),
    ('unpaid', "Unpaid"),
    ('partial', "Partially Paid"),
    ('paid', "Paid"),
    ]
PRIORITIES = [
    ('low', "Low"),
    ('medium', "Medium"),
    ('high', "High"),
    ('urgent', "Urgent"),
    ]
ITEM_TYPES = [
    (None, ""),
    ('material', "Material"),
    ('service', "Service"),
    ('product', "Product"),
    ]
# Roles that may let an order exceed its customer's credit limit
CREDIT_OVERRIDE_ROLES = {'owner', 'manager'}


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'
    quotation_number = fields.Char("Quotation Number", readonly=True)
    quotation_state = fields.Selection(
        QUOTATION_STATES, "Quotation Status", readonly=True,
        states={'invisible': ~Eval('quotation_number')})
    rejection_reason = fields.Text("Rejection Reason",
        states={
            'readonly': ((Eval('state') != 'quotation')
                | (Eval('quotation_state') != 'sent')),
            'invisible': ~Eval('quotation_state').in_(['sent', 'rejected']),
            },
        help="Why the customer declined the quotation.")
    terms_conditions = fields.Text("Terms and Conditions",
        states={'readonly': Eval('state') != 'draft'})
    ordered = fields.Boolean("Ordered", readonly=True,
        help="The sale is an order: converted from its quotation or "
        "entered as an order.")
    order_date = fields.Date("Order Date", readonly=True)
    delivery_date = fields.Date("Delivery Date",
        states={'readonly': Eval('state').in_(['done', 'cancelled'])})
    priority = fields.Selection(PRIORITIES, "Priority", required=True,
        states={'readonly': Eval('state').in_(['done', 'cancelled'])})
    credit_override_by = fields.Many2One('res.user', "Credit Approved By",
        readonly=True, states={'invisible': ~Eval('credit_override_by')})
    credit_override_date = fields.DateTime("Credit Approved At",
        readonly=True, states={'invisible': ~Eval('credit_override_by')})
    order_status = fields.Function(fields.Selection(
            ORDER_STATUSES, "Order Status"), 'get_order_status')
    payment_status = fields.Function(fields.Selection(
            PAYMENT_STATUSES, "Payment Status"), 'get_payment_status')
    lead = fields.Function(fields.Many2One('sale.opportunity', "Lead"),
        'get_lead')
    delivered_date = fields.Date("Delivered On", readonly=True,
        states={'invisible': ~Eval('delivered_date')},
        help="When the customer received the last of the order's goods.")
    delivered_by = fields.Many2One('res.user', "Delivery Recorded By",
        readonly=True, states={'invisible': ~Eval('delivered_by')})
    discount_total = fields.Function(Monetary(
            "Discount", currency='currency', digits='currency'),
        'get_crm_amounts')
    shipping_cost = fields.Function(Monetary(
            "Shipping Cost", currency='currency', digits='currency'),
        'get_crm_amounts')
    cgst_amount = fields.Function(Monetary(
            "CGST", currency='currency', digits='currency'),
        'get_crm_amounts')
    sgst_amount = fields.Function(Monetary(
            "SGST", currency='currency', digits='currency'),
        'get_crm_amounts')
    igst_amount = fields.Function(Monetary(
            "IGST", currency='currency', digits='currency'),
        'get_crm_amounts')
    total_in_words = fields.Function(fields.Char("Total in Words"),
        'get_total_in_words')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'accept': {
                    'invisible': ((Eval('state') != 'quotation')
                        | (Eval('quotation_state') != 'sent')),
                    'depends': ['state', 'quotation_state'],
                    },
                'reject': {
                    # Drafts too: a customer may decline before it is sent
                    'invisible': (Bool(Eval('ordered'))
                        | ~Eval('quotation_state').in_(['draft', 'sent'])),
                    'depends': ['ordered', 'quotation_state'],
                    },
                'convert_to_order': {
                    'invisible': (Bool(Eval('ordered'))
                        | (Eval('quotation_state') != 'accepted')),
                    'depends': ['ordered', 'quotation_state'],
                    },
                'send_quotation': {
                    'invisible': (~Eval('state').in_(['draft', 'quotation'])
                        | Bool(Eval('ordered'))),
                    'depends': ['state', 'ordered'],
                    },
                'approve_credit': {
                    'invisible': (~Eval('state').in_(['draft', 'quotation'])
                        | ~Eval('ordered') | Bool(Eval('credit_override_by'))),
                    'depends': ['state', 'ordered', 'credit_override_by'],
                    },
                'deliver': {
                    # Refused with its reason unless the order is shipped
                    'invisible': ~Eval('ordered'),
                    'depends': ['ordered'],
                    },
                })

        cls.__rpc__.update({
                'reject_quotations': RPC(instantiate=0, readonly=False),
                })

    @classmethod
    def default_priority(cls):
        return 'medium'

    @classmethod
    def default_quotation_date(cls):
        # A quotation is dated when it is made (editable while a draft);
        # orders entered directly have no quotation
        if not Transaction().context.get('sale_order'):
            return Pool().get('ir.date').today()

    @classmethod
    def default_ordered(cls):
        return bool(Transaction().context.get('sale_order'))

    @classmethod
    def default_terms_conditions(cls):
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        if company:
            return Company(company).quotation_terms

    @classmethod
    def default_quotation_validity(cls, **pattern):
        pool = Pool()
        Company = pool.get('company.company')
        company = pattern.get('company') or Transaction().context.get(
            'company')
        if company is not None and company >= 0:
            return dt.timedelta(
                days=Company(company).quotation_validity_days)
        return super().default_quotation_validity(**pattern)

    # Numbering

    @classmethod
    def create(cls, vlist):
        sales = super().create(vlist)
        if not Transaction().context.get('_crm_lead_conversion'):
            cls.set_quotation_number([s for s in sales if not s.ordered])
        for sale in sales:
            if sale.party:
                sale.party.check_not_blocked()
        return sales

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        for sales, values in zip(actions, actions):
            if values.get('party'):
                for sale in sales:
                    sale.party.check_not_blocked()

    @classmethod
    def set_quotation_number(cls, sales):
        "Number the quotations from their business's quotation sequence"
        pool = Pool()
        Date = pool.get('ir.date')
        for sale in sales:
            if sale.quotation_number:
                continue
            sequence = sale.company.quotation_sequence
            if not sequence:
                continue
            with Transaction().set_context(company=sale.company.id):
                date = sale.quotation_date or Date.today()
            with without_check_access(), Transaction().set_context(
                    date=date):
                sale.quotation_number = sequence.get()
            sale.quotation_state = 'draft'
        cls.save(sales)

    @classmethod
    def set_number(cls, sales):
        # The SO number is the order's: quotations keep their QT number
        # until the customer accepts and the quotation becomes an order.
        super().set_number([s for s in sales if s.ordered])

    @classmethod
    def copy(cls, sales, default=None):
        default = dict(default or {})
        for name in ['quotation_number', 'quotation_state',
                'rejection_reason', 'ordered', 'order_date',
                'credit_override_by', 'credit_override_date',
                'delivered_date', 'delivered_by']:
            default.setdefault(name, None)
        return super().copy(sales, default=default)

    def get_rec_name(self, name):
        if not self.ordered and self.quotation_number:
            return self.quotation_number
        return super().get_rec_name(name)

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = super().search_rec_name(name, clause)
        return ['OR', domain, ('quotation_number',) + tuple(clause[1:])]

    # Quotation workflow

    @classmethod
    def _check_customers(cls, sales):
        for sale in sales:
            if sale.party:
                sale.party.check_not_blocked()

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, sales):
        super().draft(sales)
        cls.write([s for s in sales if s.quotation_number
                and not s.ordered], {'quotation_state': 'draft'})

    @classmethod
    @ModelView.button
    @Workflow.transition('quotation')
    def quote(cls, sales):
        cls._check_customers(sales)
        super().quote(sales)
        cls.write([s for s in sales if s.quotation_number
                and not s.ordered], {'quotation_state': 'sent'})

    @classmethod
    @guarded_button('_check_accept')
    def accept(cls, sales):
        "The customer accepts the quotation"
        cls.write(sales, {'quotation_state': 'accepted'})

    @classmethod
    def _check_accept(cls, sales):
        pool = Pool()
        Date = pool.get('ir.date')
        for sale in sales:
            sale._check_quotation_state({'sent'}, 'accept')
            with Transaction().set_context(company=sale.company.id):
                today = Date.today()
            if sale.quotation_expire and sale.quotation_expire < today:
                # Past its validity (the daily task expires it)
                raise QuotationStateError(
                    gettext('monitorbizz_crm.msg_quotation_expired',
                        quotation=sale.rec_name,
                        date=sale.quotation_expire),
                    code='quotation_expired')

    @classmethod
    @guarded_button('_check_reject')
    def reject(cls, sales):
        """The customer declines the quotation, for the context's
        rejection_reason (else the one recorded on it)"""
        reason = Transaction().context.get('rejection_reason')
        for sale in sales:
            cls.write([sale], {
                    'quotation_state': 'rejected',
                    'rejection_reason': reason or sale.rejection_reason,
                    })
        cls.cancel(sales)

    @classmethod
    def _check_reject(cls, sales):
        for sale in sales:
            sale._check_quotation_state({'sent', 'draft'}, 'reject')

    @classmethod
    def reject_quotations(cls, sales, reason):
        "The customer declines the quotation for reason (the Reject button)"
        with Transaction().set_context(rejection_reason=reason):
            cls.reject(sales)

    def _check_quotation_state(self, states, action):
        if self.ordered or self.quotation_state not in states:
            raise QuotationStateError(
                gettext('monitorbizz_crm.msg_quotation_state',
                    quotation=self.rec_name, action=action,
                    state=self.quotation_state or 'order'),
                code=f'quotation_{self.quotation_state or "ordered"}')

    @classmethod
    def cancel_expired_quotation(cls):
        "Expire the quotations past their validity (scheduled task)"
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        sales = cls.search([
                ('state', '=', 'quotation'),
                ('quotation_expire', '<', today),
                ('quotation_state', '=', 'sent'),
                ('ordered', '=', False),
                ('company', '=', Transaction().context.get('company', -1)),
                ])
        cls.write(sales, {'quotation_state': 'expired'})
        cls.cancel(sales)

    @classmethod
    @guarded_button('_check_convert')
    def convert_to_order(cls, sales):
        "The accepted quotation becomes an order (SO number)"
        pool = Pool()
        Date = pool.get('ir.date')
        cls._check_customers(sales)
        for sale in sales:
            with Transaction().set_context(company=sale.company.id):
                sale.order_date = Date.today()
            sale.ordered = True
        cls.save(sales)
        cls.set_number(sales)

    @classmethod
    def _check_convert(cls, sales):
        for sale in sales:
            if sale.ordered:
                raise QuotationStateError(
                    gettext('monitorbizz_crm.msg_quotation_converted',
                        quotation=sale.quotation_number,
                        order=sale.number),
                    code='quotation_converted')
            sale._check_quotation_state({'accepted'}, 'convert')

    @classmethod
    def make_orders(cls, sales):
        "Sales entered as orders: their SO number and order date"
        pool = Pool()
        Date = pool.get('ir.date')
        for sale in sales:
            with Transaction().set_context(company=sale.company.id):
                sale.order_date = sale.order_date or Date.today()
            sale.ordered = True
        cls.save(sales)
        cls.set_number(sales)

    # Orders

    @classmethod
    @guarded_button('_check_pending')
    @Workflow.transition('confirmed')
    def confirm(cls, sales):
        cls._check_customers(sales)
        # Confirming a quotation in the desk (Tryton's own flow) means the
        # customer accepted it: it becomes an order first.
        quotations = [s for s in sales if not s.ordered]
        cls.write([s for s in quotations if s.quotation_number],
            {'quotation_state': 'accepted'})
        # Orders entered in the desk get their order date and number too
        cls.make_orders(sales)
        for sale in sales:
            sale.check_crm_credit_limit()
        super().confirm(sales)

    @classmethod
    def _check_pending(cls, sales):
        "Only pending orders are confirmed or approved above their credit"
        for sale in sales:
            if sale.ordered and sale.state not in {'draft', 'quotation'}:
                raise OrderStateError(gettext(
                        'monitorbizz_crm.msg_order_not_pending',
                        order=sale.rec_name, status=sale.order_status),
                    code='order_not_pending')

    def must_check_credit_limit(self):
        # Checked by check_crm_credit_limit, which lets only owners and
        # managers approve an excess (Tryton's check warns any user of the
        # credit limit group).
        return False

    def credit_figures(self):
        """The figures of the credit check in the business's currency:
        limit, receivable and open orders (Tryton's credit amount of the
        party) and this order's untaxed amount; limit is None without
        limit"""
        party = self.invoice_party or self.party
        with Transaction().set_context(company=self.company.id):
            party = party.__class__(party.id)
            limit = party.get_multivalue(
                'credit_limit_amount', company=self.company.id)
            credit_amount = party.credit_amount or Decimal(0)
        return {
            'credit_limit': limit,
            'open_amount': credit_amount,
            'order_amount': self.credit_limit_amount,
            }

    def check_crm_credit_limit(self):
        if self.shipment_method != 'order' or self.credit_override_by:
            return
        figures = self.credit_figures()
        if figures['credit_limit'] is None:
            return
        total = figures['open_amount'] + figures['order_amount']
        if total > figures['credit_limit']:
            party = self.invoice_party or self.party
            raise CreditLimitExceeded(
                gettext('monitorbizz_crm.msg_credit_limit_exceeded',
                    customer=party.rec_name, order=self.rec_name,
                    limit=figures['credit_limit'],
                    open=figures['open_amount'],
                    amount=figures['order_amount']),
                fields={k: self._amount(v) for k, v in {
                        **figures,
                        'exceeded_by': total - figures['credit_limit'],
                        }.items()},
                code='credit_limit_exceeded')

    def _amount(self, value):
        "value as a string to the digits of the order's currency"
        return format(self.currency.round(value), 'f')

    @classmethod
    @guarded_button('_check_pending')
    def approve_credit(cls, sales):
        """An owner or manager of the business lets the order exceed the
        customer's credit limit (recorded: who, when)"""
        pool = Pool()
        Company = pool.get('company.company')
        transaction = Transaction()
        for sale in sales:
            # The button's body runs without access checks: the role is
            # the caller's in the order's business
            if transaction.user:
                role = Company.member_role(sale.company)
                if role not in CREDIT_OVERRIDE_ROLES:
                    raise AccessError(gettext(
                            'monitorbizz_crm.msg_credit_override_role',
                            order=sale.rec_name))
        cls.write(sales, {
                'credit_override_by': transaction.user,
                'credit_override_date': dt.datetime.now(),
                })

    # Derived values

    @classmethod
    def get_order_status(cls, sales, name):
        statuses = {}
        for sale in sales:
            statuses[sale.id] = sale._order_status() if sale.ordered else None
        return statuses

    def _order_status(self):
        if self.state == 'cancelled':
            return 'cancelled'
        if self.state in {'draft', 'quotation'}:
            return 'pending'
        remaining = self.quantities_to_ship()
        if remaining and not any(remaining.values()):
            return 'delivered' if self.delivered_date else 'shipped'
        if (not remaining and self.shipment_state == 'sent'
                and self.delivered_date):
            return 'delivered'
        productions = [p for line in self.lines
            for p in getattr(line, 'productions', []) or []
            if p.state != 'cancelled']
        if any(p.state != 'done' for p in productions):
            return 'in_production'
        if remaining and self.goods_in_stock(remaining):
            return 'ready_to_ship'
        return 'in_production' if productions else 'confirmed'

    # Shipping

    def _goods_lines(self):
        "The lines whose goods leave the warehouse to the customer"
        pool = Pool()
        Move = pool.get('stock.move')
        return [l for l in self.lines
            if l.type == 'line' and l.product and not l.shipping
            and l.product.type in Move.get_product_types()
            and (l.quantity or 0) > 0]

    def quantities_to_ship(self):
        """{line: quantity in the line's unit still to ship}: ordered less
        what left on shipments shipped or done (and what was let go)"""
        pool = Pool()
        Uom = pool.get('product.uom')
        remaining = {}
        for line in self._goods_lines():
            ignored = set(line.moves_ignored)
            shipped = 0
            for move in line.moves:
                if (move.state == 'done' or move in ignored
                        or (move.shipment and getattr(
                                move.shipment, 'state', None) == 'shipped'
                            and move.state != 'cancelled')):
                    shipped += Uom.compute_qty(move.unit, move.quantity,
                        line.unit, round=False)
            remaining[line] = max(line.unit.round(line.quantity - shipped),
                0)
        return remaining

    def goods_in_stock(self, remaining):
        """Whether the warehouse holds what remains to ship: available
        (not reserved for others) plus what is reserved for this order"""
        pool = Pool()
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        Date = pool.get('ir.date')
        needed = {}
        for line, quantity in remaining.items():
            if quantity:
                product = line.product
                needed[product.id] = needed.get(product.id, 0) + (
                    Uom.compute_qty(line.unit, quantity,
                        product.default_uom, round=False))
        if not needed or not self.warehouse:
            return not needed
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        with Transaction().set_context(company=self.company.id,
                stock_date_end=today, stock_assign=True, forecast=False):
            quantities = Product.products_by_location([self.warehouse.id],
                with_childs=True, grouping_filter=(list(needed),))
        available = {}
        for (_, product), quantity in quantities.items():
            available[product] = available.get(product, 0) + quantity
        # Reserved for this order: its own moves assigned in the warehouse
        for shipment in self.shipments:
            if shipment.state in {'done', 'cancelled'}:
                continue
            for move in shipment.moves:
                if move.state == 'assigned' and move.product.id in needed:
                    available[move.product.id] = available.get(
                        move.product.id, 0) + move.internal_quantity
        return all(available.get(p, 0) >= q - 1e-9
            for p, q in needed.items())

    def ship_goods(self, deliveries):
        """Ship deliveries out of the warehouse on the order's shipment:
        dicts of line (sale.line), quantity (Decimal, in the line's unit)
        and lot (stock.lot, optional). Partial quantities are allowed; the
        rest stays to ship on a new shipment (Tryton's sale process). The
        shipment is picked, packed and done by its buttons: the goods leave
        the stock to the customer. Returns the shipment."""
        pool = Pool()
        Move = pool.get('stock.move')
        Shipment = pool.get('stock.shipment.out')
        if (not self.ordered or self.state not in {'processing', 'confirmed'}
                or self.order_status in {'shipped', 'delivered'}):
            raise OrderStateError(gettext(
                    'monitorbizz_crm.msg_order_not_shippable',
                    order=self.rec_name, status=self.order_status),
                code='order_not_shippable')
        remaining = self.quantities_to_ship()
        wanted = {}
        for index, delivery in enumerate(deliveries):
            line, quantity = delivery['line'], delivery['quantity']
            if line not in remaining:
                raise CrmError(gettext('monitorbizz_crm.msg_ship_line',
                        order=self.rec_name),
                    fields={f'lines.{index}.line_id':
                        "not a line of goods of this order"},
                    code='validation_error')
            if quantity <= 0:
                raise CrmError(gettext(
                        'monitorbizz_crm.msg_ship_quantity_positive'),
                    fields={f'lines.{index}.quantity': "must be above 0"},
                    code='validation_error')
            wanted[line] = wanted.get(line, 0) + quantity
            if wanted[line] > Decimal(str(remaining[line])):
                raise CrmError(gettext('monitorbizz_crm.msg_ship_quantity',
                        line=line.rec_name, remaining=remaining[line]),
                    fields={f'lines.{index}.quantity':
                        f"at most {remaining[line]} remain to ship"},
                    code='validation_error')
            lot = delivery.get('lot')
            if lot and lot.product != line.product:
                raise CrmError(gettext('monitorbizz_crm.msg_ship_lot',
                        lot=lot.rec_name, product=line.product.rec_name),
                    fields={f'lines.{index}.batch_id':
                        "a batch of another item"},
                    code='validation_error')
        # The order's pending moves of each line, on one shipment
        shipments = set()
        for index, delivery in enumerate(deliveries):
            line = delivery['line']
            pending = [m for m in line.moves
                if m.state not in {'done', 'cancelled'}
                and isinstance(m.shipment, Shipment)
                and m.shipment.state in {'draft', 'waiting', 'assigned'}]
            if not pending or any(m.state == 'staging' for m in pending):
                raise OrderStateError(gettext(
                        'monitorbizz_crm.msg_ship_not_ready',
                        line=line.rec_name, order=self.rec_name),
                    fields={f'lines.{index}.line_id':
                        "not ready to ship (in production, or the rest "
                        "not yet on a shipment)"},
                    code='order_not_ready')
            shipments.update(m.shipment for m in pending)
        if len(shipments) > 1:
            raise OrderStateError(gettext(
                    'monitorbizz_crm.msg_ship_shipments',
                    order=self.rec_name), code='order_not_ready')
        shipment, = shipments
        # Back to waiting: the inventory moves are made afresh from the
        # outgoing moves, none reserved
        Shipment.wait([shipment])
        shipment = Shipment(shipment.id)
        by_outgoing = {}
        for move in shipment.inventory_moves:
            if move.state == 'draft':
                by_outgoing.setdefault(move.origin, []).append(move)
        to_ship, rest = [], []
        for outgoing in shipment.outgoing_moves:
            rest.extend(by_outgoing.get(outgoing, []))
        for delivery in deliveries:
            line = delivery['line']
            outgoing = next(m for m in shipment.outgoing_moves
                if m.origin == line and m.state == 'draft')
            template = by_outgoing[outgoing][0]
            move, = Move.copy([template], default={
                    'quantity': float(delivery['quantity']),
                    'lot': delivery['lot'].id if delivery.get('lot')
                    else None,
                    })
            to_ship.append(move)
        # What is not shipped now stays on the order (Tryton's sale process
        # puts it on a new shipment)
        Move.delete(rest)
        if not Move.assign_try(to_ship, grouping=('product', 'lot')):
            short = [m for m in Move.browse(to_ship) if m.state != 'assigned']
            raise OrderStateError(gettext(
                    'monitorbizz_crm.msg_ship_stock',
                    product=short[0].product.rec_name if short else '',
                    order=self.rec_name),
                code='insufficient_stock')
        Shipment.assign([Shipment(shipment.id)])
        # Each step reads the shipment's moves afresh
        for step in [Shipment.pick, Shipment.pack, Shipment.do]:
            step([Shipment(shipment.id)])
        return Shipment(shipment.id)

    @classmethod
    @ModelView.button
    def deliver(cls, sales):
        """The customer received every good of the shipped orders (on the
        context's delivered_date, else today); shipments still in transit
        are done"""
        date = Transaction().context.get('delivered_date')
        pool = Pool()
        Date = pool.get('ir.date')
        Shipment = pool.get('stock.shipment.out')
        for sale in sales:
            if sale.order_status != 'shipped':
                raise OrderStateError(gettext(
                        'monitorbizz_crm.msg_order_not_shipped',
                        order=sale.rec_name, status=sale.order_status),
                    code='order_not_shipped')
        Shipment.do([s for sale in sales for s in sale.shipments
                if s.state == 'shipped'])
        for sale in sales:
            with Transaction().set_context(company=sale.company.id):
                today = Date.today()
            day = date or today
            last = max((s.effective_date for s in sale.shipments
                    if s.state == 'done' and s.effective_date),
                default=None)
            if day > today or (last and day < last):
                raise CrmError(gettext(
                        'monitorbizz_crm.msg_delivery_date',
                        order=sale.rec_name),
                    fields={'delivered_date': "between the last shipment "
                        f"({last}) and today" if last else
                        "not after today"},
                    code='validation_error')
            sale.delivered_date = day
            sale.delivered_by = Transaction().user
        cls.save(sales)

    @classmethod
    def get_payment_status(cls, sales, name):
        statuses = {}
        for sale in sales:
            if not sale.ordered:
                statuses[sale.id] = None
            elif sale.invoice_state == 'paid':
                statuses[sale.id] = 'paid'
            else:
                paid = any(i.state in {'posted', 'paid'}
                    and i.amount_to_pay < i.total_amount
                    for i in sale.invoices)
                statuses[sale.id] = 'partial' if paid else 'unpaid'
        return statuses

    def get_lead(self, name):
        pool = Pool()
        Opportunity = pool.get('sale.opportunity')
        if isinstance(self.origin, Opportunity):
            return self.origin.id

    @classmethod
    def get_crm_amounts(cls, sales, names):
        amounts = {n: {} for n in names}
        for sale in sales:
            values = sale._crm_amounts()
            for name in names:
                amounts[name][sale.id] = values[name]
        return amounts

    def _crm_amounts(self):
        "Discount, shipping and the GST heads, rounded as Tryton does"
        currency = self.currency
        zero = Decimal(0)
        discount = shipping = zero
        for line in self.lines:
            if line.type != 'line':
                continue
            if line.shipping:
                shipping += line.amount or zero
            elif line.base_price is not None and line.unit_price is not None:
                discount += currency.round(Decimal(str(line.quantity))
                    * (line.base_price - line.unit_price))
        values = {
            'discount_total': discount,
            'shipping_cost': shipping,
            'cgst_amount': zero,
            'sgst_amount': zero,
            'igst_amount': zero,
            }
        # The tax lines Tryton computes the tax amount from
        for taxline in self._get_taxes().values():
            head = gst_head(taxline.tax)
            if head:
                values[f'{head}_amount'] += taxline.amount
        return {k: currency.round(v) for k, v in values.items()}

    def get_total_in_words(self, name):
        if self.total_amount is not None and self.currency.code == 'INR':
            return rupees_in_words(self.total_amount)

    # Sending

    @classmethod
    @guarded_button('_check_send')
    def send_quotation(cls, sales):
        """Quote the draft quotations, render their PDF and e-mail it to
        the customer"""
        pool = Pool()
        QuotationReport = pool.get('sale.sale.quotation', type='report')
        drafts = [s for s in sales if s.state == 'draft']
        if drafts:
            cls.quote(drafts)
        for sale in sales:
            ext, content, _, title = QuotationReport.execute(
                [sale.id], {'model': cls.__name__, 'id': sale.id,
                    'ids': [sale.id]})
            sale._send_document(content, f'{title}.{ext}')

    @classmethod
    def _check_send(cls, sales):
        for sale in sales:
            if sale.ordered or sale.state not in {'draft', 'quotation'}:
                sale._check_quotation_state({'draft', 'sent'}, 'send')
            if not sale.customer_email():
                raise CrmError(gettext('monitorbizz_crm.msg_no_email',
                        customer=sale.party.rec_name),
                    fields={'email': 'the customer has no e-mail'},
                    code='customer_no_email')

    def customer_email(self):
        party = self.invoice_party or self.party
        mechanism = party.contact_mechanism_get('email')
        return mechanism.value if mechanism else None

    def _send_document(self, content, filename):
        business = self.company.party.name
        msg = EmailMessage()
        msg['From'] = config.get('email', 'from')
        msg['To'] = self.customer_email()
        msg['Subject'] = gettext('monitorbizz_crm.msg_quotation_subject',
            quotation=self.quotation_number, business=business)
        msg.set_content(gettext('monitorbizz_crm.msg_quotation_body',
                customer=self.party.name, quotation=self.quotation_number,
                business=business, total=self.total_amount,
                valid_until=self.quotation_expire or ''))
        msg.add_attachment(content if isinstance(content, bytes)
            else bytes(content), maintype='application', subtype='pdf',
            filename=filename)
        send_message_transactional(msg)


class Line(metaclass=PoolMeta):
    __name__ = 'sale.line'
    item_type = fields.Function(fields.Selection(ITEM_TYPES, "Item Type"),
        'get_item_type')
    shipping = fields.Boolean("Shipping Charge",
        states={'readonly': Eval('sale_state') != 'draft'},
        help="The line charges the delivery of the order.")
    gst_rate = fields.Function(fields.Numeric("GST %", digits=(None, 2)),
        'get_gst_rate')
    discount_percent = fields.Function(fields.Numeric(
            "Discount %", digits=(None, 2)), 'get_discount_percent')

    @classmethod
    def default_shipping(cls):
        return False

    def get_item_type(self, name):
        return item_type(self.product)

    def get_gst_rate(self, name):
        return gst_rate(self.taxes)

    def get_discount_percent(self, name):
        if self.base_price and self.unit_price is not None:
            return ((1 - self.unit_price / self.base_price) * 100).quantize(
                Decimal('0.01'))
        return Decimal(0)


def item_type(product):
    "service, product (producible) or material: the kind of a sold item"
    if not product:
        return None
    template = product.template
    if template.type == 'service':
        return 'service'
    return 'product' if template.producible else 'material'


def gst_rate(taxes):
    "The GST rate (percent) of a line's taxes: CGST+SGST or IGST"
    rate = Decimal(0)
    for tax in taxes:
        children = list(tax.childs) or [tax]
        for child in children:
            if child.type == 'percentage' and child.rate:
                rate += child.rate
    return (rate * 100).quantize(Decimal('0.01'))


def gst_heads(lines):
    "The GST heads of the lines' taxes: cgst and sgst, igst or all three"
    heads = {gst_head(child) for line in lines for tax in line.taxes
        for child in (list(tax.childs) or [tax])}
    return [h for h in GST_HEADS if h in heads]


class DocumentReport(Report):
    """A printed business document: its HTML is converted to PDF with only
    data: URLs fetched (the logo embedded in it), never a network address"""

    @classmethod
    def convert(cls, report, data, timeout=5 * 60, retry=5):
        if (report.template_extension in {'html', 'xhtml'}
                and (report.extension or report.template_extension)
                == 'pdf'):
            import weasyprint
            return 'pdf', weasyprint.HTML(string=data,
                url_fetcher=weasyprint.URLFetcher(
                    allowed_protocols={'data'})).write_pdf()
        return super().convert(report, data, timeout=timeout, retry=retry)


class QuotationReport(DocumentReport):
    __name__ = 'sale.sale.quotation'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['document_title'] = 'Quotation'
        context['gst'] = gst_rate
        context['gst_heads'] = gst_heads
        context['item_type'] = item_type
        context['logo_data'] = _logo_data
        return context


class OrderReport(QuotationReport):
    __name__ = 'sale.sale.order'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['document_title'] = 'Sales Order'
        return context


def _logo_data(company):
    "The business's logo as a data: URL"
    if company.logo:
        kind = 'svg+xml' if company.logo.lstrip()[:1] == b'<' else 'png'
        return (f'data:image/{kind};base64,'
            + base64.b64encode(company.logo).decode('ascii'))
    return ''

