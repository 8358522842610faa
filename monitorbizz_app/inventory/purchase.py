# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Purchase orders of a business: approval above the business's threshold,
receipt into batches within the business's tolerance, vendor bills from
what was received, and the seed's order status derived from Tryton's
purchase and shipment states."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from ..business.membership import user_in_group
from .exceptions import ApprovalError, InventoryError

STATUSES = [
    ('draft', "Draft"),
    ('approved', "Approved"),
    ('awaiting_delivery', "Awaiting Delivery"),
    ('partially_received', "Partially Received"),
    ('received', "Received"),
    ('cancelled', "Cancelled"),
    ]

approval_threshold = fields.Numeric(
    "Approval Threshold", digits=(16, 2),
    domain=['OR',
        ('approval_threshold', '=', None),
        ('approval_threshold', '>=', 0),
        ],
    help="Purchase orders whose total is above this amount must be "
    "approved by an owner or a manager; empty: no approval.")
receipt_tolerance = fields.Numeric(
    "Receipt Tolerance (%)", digits=(16, 2),
    domain=['OR',
        ('receipt_tolerance', '=', None),
        ('receipt_tolerance', '>=', 0),
        ],
    help="How much more than ordered may be received, in percent of the "
    "ordered quantity.")


class Configuration(metaclass=PoolMeta):
    __name__ = 'purchase.configuration'
    approval_threshold = fields.MultiValue(approval_threshold)
    receipt_tolerance = fields.MultiValue(receipt_tolerance)

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in {'approval_threshold', 'receipt_tolerance'}:
            return pool.get('purchase.configuration.approval')
        return super().multivalue_model(field)

    @classmethod
    def default_receipt_tolerance(cls, **pattern):
        return cls.multivalue_model(
            'receipt_tolerance').default_receipt_tolerance()


class ConfigurationApproval(ModelSQL, CompanyValueMixin):
    "The purchase approval and receipt rules of a business"
    __name__ = 'purchase.configuration.approval'
    approval_threshold = approval_threshold
    receipt_tolerance = receipt_tolerance

    @classmethod
    def default_receipt_tolerance(cls):
        return Decimal(0)


class ConfigurationPurchaseMethod(metaclass=PoolMeta):
    __name__ = 'purchase.configuration.purchase_method'

    @classmethod
    def default_purchase_invoice_method(cls):
        # A workshop pays its vendors for what it received
        return 'fulfillment'


def purchase_settings(company_id=None):
    "(approval threshold, receipt tolerance %) of the business"
    Configuration = Pool().get('purchase.configuration')
    company_id = company_id or Transaction().context.get('company')
    config = Configuration(1)
    threshold = config.get_multivalue('approval_threshold',
        company=company_id)
    tolerance = config.get_multivalue('receipt_tolerance',
        company=company_id)
    return threshold, tolerance or Decimal(0)


def _user_approves():
    "Whether the user approves purchases (owners and managers)"
    return (not Transaction().check_access
        or user_in_group('purchase', 'group_purchase_admin'))


class Purchase(metaclass=PoolMeta):
    __name__ = 'purchase.purchase'

    approved_by = fields.Many2One(
        'res.user', "Approved by", readonly=True, ondelete='RESTRICT')
    approved_at = fields.DateTime("Approved at", readonly=True)
    approval_required = fields.Function(fields.Boolean(
            "Approval Required",
            help="The total is above the business's approval threshold."),
        'get_approval_required')
    status = fields.Function(fields.Selection(
            STATUSES, "Status",
            help="Where the order stands, from its state and receipts."),
        'get_status', searcher='search_status')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'approve': {
                    'invisible': (~Eval('state').in_(['draft', 'quotation'])
                        | ~Eval('approval_required', False)
                        | Bool(Eval('approved_by'))),
                    'depends': ['state', 'approval_required',
                        'approved_by'],
                    },
                })
        cls.__rpc__.update({
                'receive': RPC(readonly=False, instantiate=0),
                'create_vendor_bills': RPC(readonly=False, instantiate=0),
                })

    @classmethod
    def get_approval_required(cls, purchases, name):
        result = {}
        thresholds = {}
        for purchase in purchases:
            company = purchase.company.id
            if company not in thresholds:
                thresholds[company] = purchase_settings(company)[0]
            threshold = thresholds[company]
            result[purchase.id] = bool(threshold is not None
                and (purchase.total_amount or 0) > threshold)
        return result

    def get_status(self, name):
        if self.state in {'draft', 'quotation'}:
            return 'draft'
        if self.state == 'cancelled':
            return 'cancelled'
        if self.state == 'confirmed':
            # Tryton processes a confirmed order after the commit: one
            # confirmed within the threshold is ordered, awaiting delivery;
            # one an owner or manager approved reads approved until then
            return 'approved' if self.approved_by else 'awaiting_delivery'
        shipment_state = self.shipment_state
        if shipment_state == 'received':
            return 'received'
        if shipment_state in {'partially shipped', 'exception'}:
            return 'partially_received'
        return 'awaiting_delivery'

    @classmethod
    def _status_domain(cls, status):
        "The domain of the purchases in status, as get_status tells them"
        ordered = ('state', 'not in',
            ['draft', 'quotation', 'cancelled', 'confirmed'])
        partially = ['partially shipped', 'exception']
        return {
            'draft': [('state', 'in', ['draft', 'quotation'])],
            'cancelled': [('state', '=', 'cancelled')],
            'approved': [('state', '=', 'confirmed'),
                ('approved_by', '!=', None)],
            'received': [ordered, ('shipment_state', '=', 'received')],
            'partially_received': [
                ordered, ('shipment_state', 'in', partially)],
            'awaiting_delivery': ['OR',
                [('state', '=', 'confirmed'), ('approved_by', '=', None)],
                [ordered,
                    ('shipment_state', 'not in', ['received'] + partially)]],
            }.get(status, [('id', '=', -1)])

    @classmethod
    def search_status(cls, name, clause):
        _, operator, value = clause[:3]
        if operator in {'=', '!='}:
            values = {value}
        elif operator in {'in', 'not in'}:
            values = set(value or [])
        else:
            return [('id', '=', -1)]
        if operator.startswith('!') or operator.startswith('not'):
            # Every purchase has one status
            values = {s for s, _ in STATUSES} - values
        return ['OR'] + [cls._status_domain(s) for s in sorted(values)]

    @classmethod
    def copy(cls, purchases, default=None):
        default = dict(default or {})
        default.setdefault('approved_by', None)
        default.setdefault('approved_at', None)
        return super().copy(purchases, default=default)

    @classmethod
    def draft(cls, purchases):
        super().draft(purchases)
        cls.write(purchases, {'approved_by': None, 'approved_at': None})

    @classmethod
    def confirm(cls, purchases):
        to_approve = [p for p in purchases
            if p.approval_required and not p.approved_by]
        if to_approve:
            if not _user_approves():
                purchase = to_approve[0]
                threshold, _ = purchase_settings(purchase.company.id)
                raise ApprovalError(gettext(
                        'monitorbizz_inventory.msg_purchase_needs_approval',
                        purchase=purchase.rec_name,
                        threshold=threshold))
            # An owner or a manager confirming approves
            cls._set_approved(to_approve)
        super().confirm(purchases)

    @classmethod
    def _set_approved(cls, purchases):
        cls.write(purchases, {
                'approved_by': Transaction().user,
                'approved_at': dt.datetime.now(),
                })

    @classmethod
    @ModelView.button
    def approve(cls, purchases):
        "Owners and managers approve and confirm"
        if not _user_approves():
            raise ApprovalError(gettext(
                    'monitorbizz_inventory.msg_purchase_approve_role'))
        drafts = [p for p in purchases if p.state == 'draft']
        if drafts:
            cls.quote(drafts)
        cls._set_approved(purchases)
        cls.confirm(purchases)

    # Receipts -----------------------------------------------------------------

    @classmethod
    def receive(cls, purchases, receipts, date=None):
        """Receive against one purchase order: receipts are dicts of line
        (id), quantity, lot (number) and expiration_date. Returns the id of
        the supplier shipment."""
        pool = Pool()
        Line = pool.get('purchase.line')
        purchase, = purchases
        receipts = [dict(r, line=Line(r['line'])) for r in receipts]
        return purchase.receive_goods(receipts, date=date).id

    @classmethod
    def create_vendor_bills(cls, purchases):
        "Ids of the vendor bills of what was received"
        return [i.id for p in purchases for i in p.create_vendor_bill()]

    def pending_moves(self, line):
        "The incoming moves of line still to receive"
        return [m for m in line.moves
            if m.state in {'draft', 'staging'} and not m.shipment]

    def receive_goods(self, receipts, date=None):
        """Receive receipts: a list of dicts with line (purchase.line),
        quantity (in the line's unit), lot (number), expiration_date
        (optional). Creates the batches and a done supplier shipment; the
        rest of each line stays to receive. Returns the shipment."""
        pool = Pool()
        Move = pool.get('stock.move')
        Lot = pool.get('stock.lot')
        Line = pool.get('purchase.line')
        Shipment = pool.get('stock.shipment.in')
        Date = pool.get('ir.date')
        # Tryton restarts the transaction to take the lock before any read:
        # a receipt of the same line at the same time waits, then is checked
        # against this one's quantities
        Line.lock(sorted({r['line'] for r in receipts}, key=int))
        if self.state not in {'processing', 'confirmed'}:
            raise InventoryError(gettext(
                    'monitorbizz_inventory.msg_receipt_not_confirmed',
                    purchase=self.rec_name), fields={'id': gettext(
                        'monitorbizz_inventory.msg_receipt_not_confirmed',
                        purchase=self.rec_name)})
        date = date or Date.today()
        self.check_receipts(receipts)
        lots = {}
        by_line = defaultdict(list)
        for receipt in receipts:
            by_line[receipt['line']].append(receipt)
        moves = []
        for line, line_receipts in by_line.items():
            pending = self.pending_moves(line)
            for receipt in line_receipts:
                lot = None
                if receipt.get('lot'):
                    key = (line.product.id, receipt['lot'])
                    if key not in lots:
                        lots[key] = Lot(number=receipt['lot'],
                            product=line.product, company=self.company,
                            expiration_date=receipt.get('expiration_date'))
                        lots[key].save()
                    lot = lots[key]
                if pending:
                    move = pending.pop(0)
                else:
                    move, = Move.copy([line.moves[0]], default={
                            'shipment': None, 'lot': None,
                            'state': 'draft', 'effective_date': None})
                move.quantity = float(receipt['quantity'])
                move.unit = line.unit
                move.lot = lot
                move.effective_date = date
                move.planned_date = move.planned_date or date
                moves.append(move)
        Move.save(moves)
        shipment = Shipment(company=self.company, effective_date=date,
            reference=self.number)
        shipment.supplier = self.party
        shipment.on_change_supplier()
        shipment.warehouse = self.warehouse
        shipment.on_change_warehouse()
        shipment.incoming_moves = moves
        shipment.save()
        # Within the business's tolerance (checked above): Tryton's warning
        # on receiving more than ordered is answered
        with Transaction().set_context(_skip_warnings=True):
            Shipment.receive([shipment])
            Shipment.do([shipment])
        # What Tryton's queue does after a receipt (the rest of each line
        # awaited, the bill of what was received), done now so that the
        # order's status is right at once; a consequence of the receipt,
        # not an action of the user's on bills.
        with without_check_access():
            self.__class__.process([self])
        return shipment

    def check_receipts(self, receipts):
        """Refuse, naming the field, a quantity that is not positive or that
        takes a line beyond the business's receipt tolerance"""
        pool = Pool()
        Uom = pool.get('product.uom')
        _, tolerance = purchase_settings(self.company.id)
        received = defaultdict(float)
        for line in self.line_lines:
            for move in line.moves:
                if move.state == 'done':
                    received[line] += Uom.compute_qty(
                        move.unit, move.quantity, line.unit)
        for i, receipt in enumerate(receipts):
            line = receipt['line']
            field = receipt.get('field', f'lines.{i}.quantity')
            if line not in self.line_lines:
                message = gettext(
                    'monitorbizz_inventory.msg_receipt_line_unknown',
                    purchase=self.rec_name)
                raise InventoryError(message, fields={
                        receipt.get('line_field', f'lines.{i}.line_id'):
                        message})
            if receipt['quantity'] <= 0:
                message = gettext(
                    'monitorbizz_inventory.msg_quantity_positive')
                raise InventoryError(message, fields={field: message})
            received[line] += float(receipt['quantity'])
            limit = line.quantity * float(1 + tolerance / 100)
            if received[line] > line.unit.round(limit) + 1e-9:
                message = gettext(
                    'monitorbizz_inventory.msg_receipt_beyond_tolerance',
                    product=line.product.rec_name,
                    ordered=line.quantity, tolerance=tolerance,
                    received=received[line])
                raise InventoryError(message, fields={field: message})

    def create_vendor_bill(self):
        """The draft vendor bills of what was received (Tryton creates them
        when the receipts are processed)"""
        Purchase = Pool().get('purchase.purchase')
        Purchase.process([self])
        self.create_invoice()
        return list(Purchase(self.id).invoices)


class ShipmentIn(metaclass=PoolMeta):
    __name__ = 'stock.shipment.in'

    @classmethod
    def receive(cls, shipments):
        cls._check_purchase_tolerance(shipments)
        super().receive(shipments)

    @classmethod
    def _check_purchase_tolerance(cls, shipments):
        "Receipts in the desk obey the business's tolerance too"
        pool = Pool()
        Uom = pool.get('product.uom')
        PurchaseLine = pool.get('purchase.line')
        lines = {}
        for shipment in shipments:
            for move in shipment.incoming_moves:
                if isinstance(move.origin, PurchaseLine):
                    lines[move.origin.id] = move.origin
        # As receive_goods: one receipt of a line at a time
        PurchaseLine.lock(sorted(lines))
        for line in lines.values():
            _, tolerance = purchase_settings(line.purchase.company.id)
            quantity = sum(Uom.compute_qty(m.unit, m.quantity, line.unit)
                for m in line.moves if m.state != 'cancelled'
                and (m.state == 'done' or m.shipment in shipments))
            limit = line.quantity * float(1 + tolerance / 100)
            if quantity > line.unit.round(limit) + 1e-9:
                raise InventoryError(gettext(
                        'monitorbizz_inventory.msg_receipt_beyond_tolerance',
                        product=line.product.rec_name,
                        ordered=line.quantity, tolerance=tolerance,
                        received=quantity), fields={'quantity': gettext(
                            'monitorbizz_inventory.msg_receipt_beyond_tolerance',
                            product=line.product.rec_name,
                            ordered=line.quantity, tolerance=tolerance,
                            received=quantity)})
