# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Stock of a business: the stock-movement ledger (a query over the done
stock moves with a running balance), stock counts with a reason, batch
expiry, low-stock alerts from the order points and the reorder run that
turns them into draft purchase orders."""
import logging
from collections import defaultdict
from email.message import EmailMessage

from sql import Literal, Null, Window
from sql.operators import Or
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce

from trytond import config
from trytond.i18n import gettext
from trytond.modules.stock.exceptions import InventoryValidationError
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.wizard import StateAction, Wizard
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.sendmail import send_message_transactional
from trytond.transaction import Transaction

from .exceptions import StockShortageError, TransferError
from .product import GENERAL_CATEGORY, business_warehouse

logger = logging.getLogger(__name__)

# Records of a stock count read and checked together. Tryton reads a field
# of a record for the records instantiated with it, up to the record cache
# size (2000), and each record instantiated checks the whole list it
# shares: the cost per record grows with the window, the queries shrink.
COUNT_WINDOW = 200

MOVEMENT_TYPES = [
    ('in', "In"),
    ('out', "Out"),
    ('transfer', "Transfer"),
    ('adjustment', "Adjustment"),
    ]
# Kinds of the documents a movement comes from, by model
REFERENCE_TYPES = {
    'purchase.line': 'purchase_order',
    'purchase.purchase': 'purchase_order',
    'sale.line': 'sales_order',
    'sale.sale': 'sales_order',
    'production': 'work_order',
    'stock.inventory.line': 'stock_count',
    'stock.inventory': 'stock_count',
    'stock.shipment.in': 'receipt',
    'stock.shipment.out': 'delivery',
    'stock.shipment.out.return': 'customer_return',
    'stock.shipment.in.return': 'vendor_return',
    'stock.shipment.internal': 'transfer',
    }


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    def _create_chart(self):
        """A new business also gets its general accounting category, so
        that its first materials can be bought and sold with GST"""
        pool = Pool()
        Category = pool.get('product.category')
        Configuration = pool.get('account.configuration')
        Tax = pool.get('account.tax')
        super()._create_chart()
        config = Configuration(1)

        def tax(name):
            return Tax.search([('company', '=', self.id),
                    ('name', '=', name), ('parent', '=', None)], limit=1)
        Category.create([{
                    'name': GENERAL_CATEGORY, 'accounting': True,
                    'company': self.id,
                    'account_expense': (
                        config.default_category_account_expense.id
                        if config.default_category_account_expense
                        else None),
                    'account_revenue': (
                        config.default_category_account_revenue.id
                        if config.default_category_account_revenue
                        else None),
                    'customer_taxes': [('add', [
                                t.id for t in tax('GST 18% (CGST+SGST)')])],
                    'supplier_taxes': [('add', [
                                t.id for t in tax(
                                    'Input GST 18% (CGST+SGST)')])],
                    }])


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The ledger's pages (newest first) and balances of an item
        cls._sql_indexes.add(
            Index(t,
                (t.product, Index.Equality()),
                (t.effective_date, Index.Range()),
                (t.id, Index.Range()),
                include=[t.company, t.from_location, t.to_location,
                    t.internal_quantity],
                where=t.state == 'done'))

    @classmethod
    def write(cls, *args):
        # Move.do saves each move done by itself
        super().write(*merge_writes(args))

    @classmethod
    def do(cls, moves):
        """Done under the lock of the products they take out of storage,
        then refused if a storage location (with its children) or a batch
        in it would hold less than nothing: whatever the path (a
        consumption, an issue of many lines, a transfer, a delivery, a
        stock count or a draft move done directly from the desk), the
        check and the write are under the same lock. Not a transition of
        its own (as manufacturing's): the moves others leave out are not
        marked done."""
        taking = cls._taking_stock(
            [m for m in moves if m.state != 'done'], 'from_location')
        cls.lock_stock(taking)
        super().do(moves)
        cls.check_stock(taking, 'from_location')

    @classmethod
    def cancel(cls, moves):
        "Cancelling a done receipt takes its goods out of storage: as do"
        taking = cls._taking_stock(
            [m for m in moves if m.state == 'done'], 'to_location')
        cls.lock_stock(taking)
        super().cancel(moves)
        cls.check_stock(taking, 'to_location')

    @classmethod
    def _taking_stock(cls, moves, location):
        """The moves whose location (from_location for done, to_location
        for cancelled) is a storage location they take goods out of.
        Consumables are left out: Tryton keeps no stock of them."""
        return [m for m in moves
            if getattr(m, location).type == 'storage'
            and m.product.type == 'goods' and not m.product.consumable]

    @classmethod
    def lock_stock(cls, moves):
        """Lock the products of moves (by id; on PostgreSQL NOWAIT, retried:
        no deadlock). Tryton restarts the transaction to take the lock at
        its start, so what is read after is current: one writer of a
        product's stock at a time, as consumptions and scheduling do."""
        product_ids = sorted({m.product.id for m in moves})
        if product_ids:
            Pool().get('product.product').lock(product_ids)

    @classmethod
    def check_stock(cls, moves, location):
        """Raise StockShortageError when the location of a move (with its
        children) holds less than nothing of its product, or of its batch,
        now that the moves are done (quantities of done moves to today)"""
        pool = Pool()
        Product = pool.get('product.product')
        Date = pool.get('ir.date')
        by_company = defaultdict(list)
        for move in moves:
            by_company[move.company].append(move)
        for company, company_moves in by_company.items():
            location_ids = sorted({getattr(m, location).id
                    for m in company_moves})
            product_ids = sorted({m.product.id for m in company_moves})
            lot_ids = sorted({m.lot.id for m in company_moves if m.lot})
            with Transaction().set_context(company=company.id):
                today = Date.today()
            with Transaction().set_context(company=company.id,
                    stock_date_end=today, stock_assign=False,
                    forecast=False):
                quantities = Product.products_by_location(location_ids,
                    with_childs=True, grouping=('product',),
                    grouping_filter=(product_ids,))
                if lot_ids:
                    quantities.update(Product.products_by_location(
                            location_ids, with_childs=True,
                            grouping=('product', 'lot'),
                            grouping_filter=(product_ids, lot_ids)))
            for move in company_moves:
                place = getattr(move, location)
                keys = [(place.id, move.product.id)]
                if move.lot:
                    # The batch named first: it is what the user picked
                    keys.insert(0, keys[0] + (move.lot.id,))
                unit = move.product.default_uom
                for key in keys:
                    quantity = unit.round(quantities.get(key, 0))
                    if quantity < 0:
                        raise StockShortageError(gettext(
                                'monitorbizz_inventory.msg_stock_below_zero',
                                source=(move.lot.rec_name if len(key) > 2
                                    else move.product.rec_name),
                                location=place.rec_name,
                                available=unit.round(
                                    quantity + move.internal_quantity),
                                asked=unit.round(move.internal_quantity),
                                unit=unit.symbol))

    @classmethod
    def _assign_try_lock(cls, product_ids, location_ids, company_ids, date,
            grouping):
        """Lock the products too, as consumptions and scheduling do: every
        path that takes stock (transfer, delivery, reservation, consumption)
        checks availability under the same lock. Tryton restarts the
        transaction to take it, so the quantities read after are current;
        its own lock of the moves does not stop a concurrent insert."""
        Pool().get('product.product').lock(sorted(product_ids))
        super()._assign_try_lock(product_ids, location_ids, company_ids,
            date, grouping)


def merge_writes(args):
    """The (records, values) pairs of a write with the same values as one
    pair: Tryton's save passes one pair per record, and each pair is
    checked (closed period, access) and updated by itself. Pairs sharing a
    record are kept as they are, in order."""
    if len(args) <= 2:
        return args
    merged, seen = {}, set()
    actions = iter(args)
    for records, values in zip(actions, actions):
        ids = {r.id for r in records}
        if ids & seen or len(ids) < len(records):
            return args
        seen |= ids
        # By representation: 1 and 1.0 or Decimal('1.0') and Decimal('1.00')
        # are not merged
        key = tuple(sorted((k, repr(v)) for k, v in values.items()))
        if key in merged:
            merged[key][0].extend(records)
        else:
            merged[key] = (list(records), values)
    return [a for pair in merged.values() for a in pair]


def lock_products_created(vlist, field):
    """Lock the products of the lines (field) created with vlist, before
    the document takes its number: done, its moves take the lock
    (Move.do), and a transaction restarted to take it then would lose the
    number drawn from a PostgreSQL sequence (a gap in the numbering)"""
    product_ids = set()
    for values in vlist:
        for action in values.get(field) or []:
            if action[0] == 'create':
                product_ids.update(v['product'] for v in action[1]
                    if v.get('product') is not None)
    if product_ids:
        Pool().get('product.product').lock(sorted(product_ids))


class ShipmentInternal(metaclass=PoolMeta):
    __name__ = 'stock.shipment.internal'

    @classmethod
    def create(cls, vlist):
        lock_products_created(vlist, 'moves')
        return super().create(vlist)

    @classmethod
    def transfer_now(cls, product, quantity, unit, from_location,
            to_location, lot=None, reference=None):
        """Move quantity of product (in unit, from lot if given) from
        from_location to to_location of the current business at once: an
        internal shipment made, reserved and done today; TransferError
        (insufficient_stock) when the source holds less"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        Date = pool.get('ir.date')
        # Saved as instances: the user's right to create them asked first
        ModelAccess.check(cls.__name__, 'create')
        company = Transaction().context.get('company')
        shipment = cls(from_location=from_location, to_location=to_location,
            company=company, reference=reference)
        shipment.moves = [{
                'product': product.id, 'quantity': float(quantity),
                'unit': unit.id, 'from_location': from_location.id,
                'to_location': to_location.id,
                'lot': lot.id if lot else None, 'company': company,
                }]
        shipment.planned_date = shipment.planned_start_date = Date.today()
        shipment.save()
        cls.wait([shipment])
        cls.assign_try([shipment])
        if cls(shipment.id).state != 'assigned':
            raise TransferError(gettext(
                    'monitorbizz_inventory.msg_transfer_insufficient_stock',
                    product=product.rec_name,
                    location=from_location.rec_name))
        cls.do([shipment])
        return cls(shipment.id)


class Lot(metaclass=PoolMeta):
    __name__ = 'stock.lot'
    expiration_date = fields.Date("Expiration Date")


class Inventory(metaclass=PoolMeta):
    "A stock count, with why it was made"
    __name__ = 'stock.inventory'
    reason = fields.Char("Reason",
        states={'readonly': Eval('state') != 'draft'},
        help="Why the stock was counted or adjusted.")

    @classmethod
    def create(cls, vlist):
        # The expected quantities are computed at creation: under the lock
        lock_products_created(vlist, 'lines')
        return super().create(vlist)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def confirm(cls, inventories):
        """Tryton's confirm (one move per line that differs, saved and
        done), with the lines read and the moves saved by windows of
        COUNT_WINDOW records: the work per line no longer grows with the
        size of the count. The moves are done in one call, as Tryton does
        (one warning for a date in the future, cost prices in order)."""
        pool = Pool()
        Move = pool.get('stock.move')
        Line = pool.get('stock.inventory.line')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        moves = []
        # The moves are instantiated in the context (Tryton sets
        # _product_replacement only around their save, which uses the
        # context they were made in)
        with transaction.set_context(
                _record_cache_size=COUNT_WINDOW,
                _product_replacement=False):
            for inventory in inventories:
                keys = set()
                # The ids in the lines' order, without instantiating them
                # all together
                cursor.execute(*Line.search(
                        [('inventory', '=', inventory.id)], query=True))
                line_ids = [i for i, in cursor]
                for sub_ids in grouped_slice(line_ids, COUNT_WINDOW):
                    for line in Line.browse(sub_ids):
                        key = line.unique_key
                        if key in keys:
                            raise InventoryValidationError(
                                gettext('stock.msg_inventory_line_unique',
                                    line=line.rec_name,
                                    inventory=inventory.rec_name))
                        keys.add(key)
                        move = line.get_move()
                        if move:
                            moves.append(move)
            if moves:
                for sub_moves in grouped_slice(moves, COUNT_WINDOW):
                    Move.save(list(sub_moves))
                Move.do(moves)


class InventoryLine(metaclass=PoolMeta):
    __name__ = 'stock.inventory.line'

    @classmethod
    def write(cls, *args):
        # Completing a count saves each line's expected quantity by itself
        super().write(*merge_writes(args))


class Ledger(ModelSQL, ModelView):
    """The stock movements of an item in its business: every done move
    entering, leaving or moving within the business's storage, with the
    running balance of the business's stock after it"""
    __name__ = 'stock.ledger'

    company = fields.Many2One('company.company', "Business", readonly=True)
    product = fields.Many2One('product.product', "Item", readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    move = fields.Many2One('stock.move', "Move", readonly=True)
    date = fields.Date("Date", readonly=True)
    movement_type = fields.Selection(MOVEMENT_TYPES, "Type", readonly=True)
    quantity = fields.Float("Quantity", digits='unit', readonly=True,
        help="In the item's unit: positive in, negative out.")
    balance = fields.Function(fields.Float("Balance", digits='unit',
            help="The business's stock of the item after the movement."),
        'get_balance')
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    from_location = fields.Many2One('stock.location', "From",
        readonly=True)
    to_location = fields.Many2One('stock.location', "To", readonly=True)
    lot = fields.Many2One('stock.lot', "Batch", readonly=True)
    origin = fields.Reference("Origin", selection='get_origins',
        readonly=True)
    shipment = fields.Reference("Shipment", selection='get_shipments',
        readonly=True)
    production = fields.Many2One('production', "Work Order", readonly=True)
    moved_quantity = fields.Float("Moved Quantity", digits='unit',
        readonly=True, help="The quantity of the move in its own unit.")
    user = fields.Many2One('res.user', "User", readonly=True)
    timestamp = fields.Timestamp("Timestamp", readonly=True)
    reference_type = fields.Function(fields.Char("Reference Type"),
        'get_references')
    reference = fields.Function(fields.Char("Reference"), 'get_references')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def get_origins(cls):
        return Pool().get('stock.move').get_origin()

    @classmethod
    def get_shipments(cls):
        Move = Pool().get('stock.move')
        return [(None, '')] + Move.get_shipment()

    @classmethod
    def _movements(cls):
        """The done moves of the ledger: (move table, signed quantity in
        the item's unit, condition), for its rows and their balance. The
        location types are looked up in hashed sub-queries rather than
        joined, so that counting and summing an item's moves reads only
        the ledger index of stock.move."""
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        move = Move.__table__()

        def of_type(column, type_):
            location = Location.__table__()
            return column.in_(location.select(location.id,
                    where=location.type == type_))
        stored_from = of_type(move.from_location, 'storage')
        stored_to = of_type(move.to_location, 'storage')
        quantity = Case(
            (stored_to & ~stored_from, move.internal_quantity),
            (stored_from & ~stored_to, -move.internal_quantity),
            else_=Literal(0.0))
        where = (move.state == 'done') & (stored_from | stored_to)
        return move, quantity, where

    @classmethod
    def table_query(cls):
        pool = Pool()
        Location = pool.get('stock.location')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        move, quantity, where = cls._movements()
        product = Product.__table__()
        template = Template.__table__()
        location = Location.__table__()
        stored = location.select(location.id,
            where=location.type == 'storage')
        lost_found = location.select(location.id,
            where=location.type == 'lost_found')
        adjustment = (move.origin.like('stock.inventory.line,%')
            | move.from_location.in_(lost_found)
            | move.to_location.in_(lost_found))
        movement_type = Case(
            (adjustment, 'adjustment'),
            (move.from_location.in_(stored) & move.to_location.in_(stored),
                'transfer'),
            (move.to_location.in_(stored), 'in'),
            else_='out')
        unit = (product
            .join(template, condition=product.template == template.id)
            .select(template.default_uom,
                where=product.id == move.product))
        # No window for the balance here: it would run over every move of
        # the item before a single row of a page could be answered
        return move.select(
            move.id.as_('id'),
            move.company.as_('company'),
            move.product.as_('product'),
            move.id.as_('move'),
            move.effective_date.as_('date'),
            movement_type.as_('movement_type'),
            quantity.as_('quantity'),
            unit.as_('unit'),
            move.from_location.as_('from_location'),
            move.to_location.as_('to_location'),
            move.lot.as_('lot'),
            move.origin.as_('origin'),
            move.shipment.as_('shipment'),
            Coalesce(move.production_input, move.production_output).as_(
                'production'),
            move.quantity.as_('moved_quantity'),
            Case((move.write_uid != Null, move.write_uid),
                else_=move.create_uid).as_('user'),
            Case((move.write_date != Null, move.write_date),
                else_=move.create_date).as_('timestamp'),
            where=where)

    @classmethod
    def get_balance(cls, entries, name):
        """The business's stock of the item after each entry: its stock
        now less the movements after the entry. The stock now is one sum
        per item (read from the ledger index); the movements after the
        entries are summed from the oldest entry of the page on only: a
        first page reads a few moves beyond that sum, whatever the
        history."""
        location = Pool().get('stock.location').__table__()
        cursor = Transaction().connection.cursor()
        move, quantity, where = cls._movements()
        items = defaultdict(list)
        for entry in entries:
            items[(entry.company.id, entry.product.id)].append(entry)
        # Summed by pair of locations, the storage ones picked out of a few
        # groups here: cheaper per move than the signed quantity in SQL
        stock = defaultdict(float)
        storage = set()
        for sub_items in grouped_slice(list(items), 100):
            sub_items = list(sub_items)
            cursor.execute(*move.select(
                    move.company, move.product, move.from_location,
                    move.to_location, Sum(move.internal_quantity),
                    where=(move.state == 'done') & move.product.in_(
                        list({p for _, p in sub_items})),
                    group_by=[move.company, move.product,
                        move.from_location, move.to_location]))
            groups = cursor.fetchall()
            locations = {l for g in groups for l in g[2:4]} - storage
            if locations:
                cursor.execute(*location.select(location.id,
                        where=location.id.in_(list(locations))
                        & (location.type == 'storage')))
                storage.update(i for i, in cursor)
            for company, product, from_, to, quantity_ in groups:
                if (to in storage) and (from_ not in storage):
                    stock[(company, product)] += quantity_
                elif (from_ in storage) and (to not in storage):
                    stock[(company, product)] -= quantity_

        # The movements after each entry, as a running sum from the newest
        # down to the oldest entry of the page
        later = Sum(quantity, window=Window(
                [move.company, move.product],
                order_by=[move.effective_date.desc, move.id.desc],
                frame='ROWS', start=None, end=-1))
        oldest = {}
        for item, item_entries in items.items():
            oldest[item] = min((e.date, e.id) for e in item_entries)
        result = {}
        for sub_items in grouped_slice(list(items), 100):
            sub_items = list(sub_items)
            since = Or([(move.company == company) & (move.product == product)
                    # the first condition bounds the index scan
                    & (move.effective_date >= oldest[(company, product)][0])
                    & ((move.effective_date > oldest[(company, product)][0])
                        | (move.id >= oldest[(company, product)][1]))
                    for company, product in sub_items])
            ids = [e.id for i in sub_items for e in items[i]]
            movements = move.select(move.id, move.company, move.product,
                later.as_('later'), where=where & since)
            cursor.execute(*movements.select(
                    movements.id, movements.company, movements.product,
                    movements.later, where=movements.id.in_(ids)))
            for id_, company, product, later_ in cursor:
                result[id_] = stock[(company, product)] - (later_ or 0)
        return result

    @classmethod
    def get_references(cls, entries, names):
        """The document of each movement (purchase order, sales order, work
        order, stock count, transfer) and its number, read per kind of
        document for the whole list"""
        pool = Pool()
        result = {n: {e.id: None for e in entries} for n in names}
        documents = {}
        by_model = defaultdict(list)
        for entry in entries:
            record = entry.origin
            if record is None or record.__name__ == 'stock.move':
                # Moves made from moves (put away after a receipt) belong
                # to the shipment's document
                record = entry.shipment or record
            if record is not None and record.id is not None \
                    and record.id >= 0:
                by_model[record.__name__].append((entry.id, record.id))
        for model, pairs in by_model.items():
            Model = pool.get(model)
            records = Model.browse([r for _, r in pairs])
            for (entry_id, _), record in zip(pairs, records):
                document = record
                for parent in ['purchase', 'sale', 'inventory']:
                    if model.endswith('.line') and hasattr(record, parent):
                        document = getattr(record, parent)
                documents[entry_id] = document
        for entry in entries:
            document = documents.get(entry.id)
            if document is None:
                document = entry.production
            if document is None:
                continue
            if 'reference_type' in result:
                result['reference_type'][entry.id] = REFERENCE_TYPES.get(
                    document.__name__, document.__name__)
            if 'reference' in result:
                result['reference'][entry.id] = (
                    getattr(document, 'number', None) or document.rec_name)
        return result


class OrderPoint(metaclass=PoolMeta):
    "Order points of the reorder levels are the low-stock alerts"
    __name__ = 'stock.order_point'

    below_minimum = fields.Function(fields.Boolean(
            "Below Reorder Level",
            help="The stock in the warehouse is below the minimal "
            "quantity."),
        'get_stock_alert', searcher='search_below_minimum')
    stock_quantity = fields.Function(fields.Float(
            "Stock", digits='unit',
            help="Available stock (on hand minus reserved)."),
        'get_stock_alert')

    @classmethod
    def _available(cls, points):
        "{point id: available quantity} for purchase order points"
        pool = Pool()
        Product = pool.get('product.product')
        by_warehouse = defaultdict(list)
        for point in points:
            if point.type == 'purchase':
                by_warehouse[point.location].append(point)
        result = {}
        for warehouse, sub_points in by_warehouse.items():
            figures = Product.stock_figures(
                list({p.product.id for p in sub_points}), warehouse)
            for point in sub_points:
                result[point.id] = figures[point.product.id][2]
        return result

    @classmethod
    def get_stock_alert(cls, points, names):
        available = cls._available(points)
        result = {n: {} for n in names}
        for point in points:
            quantity = available.get(point.id)
            if 'stock_quantity' in result:
                result['stock_quantity'][point.id] = quantity
            if 'below_minimum' in result:
                result['below_minimum'][point.id] = bool(
                    quantity is not None and point.min_quantity is not None
                    and quantity < point.min_quantity)
        return result

    @classmethod
    def search_below_minimum(cls, name, clause):
        _, operator, value = clause[:3]
        points = cls.search([('type', '=', 'purchase')])
        below = cls.get_stock_alert(points, ['below_minimum'])[
            'below_minimum']
        ids = [i for i, v in below.items() if v]
        wanted = (operator == '=') == bool(value)
        return [('id', 'in' if wanted else 'not in', ids)]

    @classmethod
    def alerts(cls):
        "The order points of the business below their reorder level"
        domain = [
            ('type', '=', 'purchase'),
            ('below_minimum', '=', True),
            ]
        company = Transaction().context.get('company')
        if company:
            # The scheduler runs without record rules
            domain.append(('company', '=', company))
        return cls.search(domain, order=[('product', 'ASC'), ('id', 'ASC')])


class PurchaseRequest(metaclass=PoolMeta):
    __name__ = 'purchase.request'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'reorder_purchases': RPC(readonly=False),
                })

    @classmethod
    def reorder_purchases(cls):
        "The ids of the draft purchase orders of the reorder run"
        return [p.id for p in cls.reorder()]

    @classmethod
    def reorder(cls, warehouse=None):
        """Turn the low-stock alerts of the business into purchase requests
        and the requests with a vendor into draft purchase orders, one per
        vendor (Tryton's create purchase wizard). Returns the purchases."""
        pool = Pool()
        CreatePurchase = pool.get('purchase.request.create_purchase',
            type='wizard')
        warehouse = warehouse or business_warehouse()
        if not warehouse:
            return []
        cls.generate_requests(warehouses=[warehouse])
        requests = cls.search([
                ('state', '=', 'draft'),
                ('purchase_line', '=', None),
                ('party', '!=', None),
                ('warehouse', '=', warehouse.id),
                ])
        if not requests:
            return []
        with Transaction().set_context(active_model=cls.__name__,
                active_ids=[r.id for r in requests],
                active_id=requests[0].id):
            session_id, _, _ = CreatePurchase.create()
            CreatePurchase.execute(session_id, {}, 'start')
            CreatePurchase.delete(session_id)
        purchases = {r.purchase for r in cls.browse(requests)
            if r.purchase}
        return sorted(purchases, key=lambda p: p.id)

    @classmethod
    def reorder_all_businesses(cls):
        """Scheduled: the reorder run of every business with a warehouse,
        then the digest of its alerts to its stores members"""
        pool = Pool()
        Company = pool.get('company.company')
        for company in Company.search([('warehouse', '!=', None)]):
            with Transaction().set_context(company=company.id,
                    companies=[company.id]):
                purchases = cls.reorder(company.warehouse)
                cls.send_alert_digest(company, purchases)

    @classmethod
    def send_alert_digest(cls, company, purchases):
        "E-mail the low-stock alerts to the business's stores members"
        pool = Pool()
        OrderPoint = pool.get('stock.order_point')
        UserRole = pool.get('res.user.role')
        alerts = OrderPoint.alerts()
        if not alerts:
            return None
        memberships = UserRole.search([
                ('company', '=', company.id),
                ('role.code', '=', 'stores'),
                ])
        recipients = sorted({m.user.email for m in memberships
                if m.user.email and m.user.active})
        if not recipients:
            return None
        lines = [gettext('monitorbizz_inventory.msg_digest_line',
                item=a.product.rec_name, stock=a.stock_quantity,
                level=a.min_quantity, unit=a.unit.symbol)
            for a in alerts]
        if purchases:
            lines.append('')
            lines.append(gettext('monitorbizz_inventory.msg_digest_purchases',
                    purchases=', '.join(p.rec_name for p in purchases)))
        message = EmailMessage()
        message['From'] = config.get('email', 'from')
        message['To'] = ', '.join(recipients)
        message['Subject'] = gettext(
            'monitorbizz_inventory.msg_digest_subject',
            business=company.rec_name, count=len(alerts))
        message.set_content('\n'.join(lines))
        send_message_transactional(message)
        return message


class Reorder(Wizard):
    "Turn the low-stock alerts into draft purchase orders now"
    __name__ = 'stock.reorder'
    start_state = 'open_'
    open_ = StateAction('purchase.act_purchase_form')

    def do_open_(self, action):
        PurchaseRequest = Pool().get('purchase.request')
        purchases = PurchaseRequest.reorder()
        action['domains'] = []
        return action, {'res_id': [p.id for p in purchases]}


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('purchase.request|reorder_all_businesses',
                "Reorder Low Stock of Every Business"))
