# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Work orders are Tryton's productions of a business (WO-<year>-NNN).

Material flow: scheduling reserves the planned inputs (Tryton's
assignment); starting runs the production but keeps the planned inputs
reserved instead of consuming them; each consumption is a done input move
out of the warehouse's storage (wastage on a move of its own, `wastage`
checked) and lowers the planned reservation of the material; completing
cancels what stays planned, puts the good quantity into storage under a new
batch and the rejects into the scrap location, records a quality
inspection and closes the production at cost (Tryton's set_cost: materials
consumed + the work cycles' machine time + their operators' time).

Locking: a consumption locks the material's product row (Tryton takes the
lock when it restarts the transaction, so the stock read is current);
scheduling locks the same rows before Tryton's assignment, so stock is
neither consumed twice nor consumed while it is being reserved."""
import datetime as dt
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql import Cast
from sql.aggregate import Sum
from sql.conditionals import Case
from sql.operators import Concat

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.model import ModelView, Workflow, fields
from trytond.wizard import Button, StateTransition, StateView, Wizard
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from ..business.membership import user_in_group
from ..business.workflow import guarded_button
from .exceptions import (
    BatchExhaustedError, CompletionError, ConsumptionError,
    MaterialShortageError, OperationsNotFinishedError, UnknownBatchError,
    WorkOrderPlanError,
    WorkOrderStateError, WorkOrderValueError)
from .work import state_domain

PRIORITIES = [
    ('low', "Low"),
    ('medium', "Medium"),
    ('high', "High"),
    ('urgent', "Urgent"),
    ]
WORK_ORDER_STATUSES = [
    ('draft', "Draft"),
    ('scheduled', "Scheduled"),
    ('in_progress', "In Progress"),
    ('completed', "Completed"),
    ('cancelled', "Cancelled"),
    ]
# Tryton's production states as the seed's work order statuses
STATUS_OF_STATE = {
    'request': 'draft',
    'draft': 'draft',
    'waiting': 'scheduled',
    'assigned': 'scheduled',
    'running': 'in_progress',
    'done': 'completed',
    'cancelled': 'cancelled',
    }
QUANTITY = Decimal('0.0001')
# Colours of the machines on the work order calendar
MACHINE_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
    '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']
# Context key: running a production keeps its planned inputs reserved
KEEP_PLANNED_INPUTS = '_monitorbizz_keep_planned_inputs'
# Context key: the day materials are consumed (their moves' date)
CONSUMED_ON = '_monitorbizz_consumed_on'


# A line of a consumption: quantity used and wastage lost of material, from
# batch (a stock.lot) or from the warehouse when None
ConsumedMaterial = namedtuple('ConsumedMaterial',
    ['material', 'quantity', 'wastage_quantity', 'batch'])


def to_decimal(value):
    return Decimal(str(value or 0)).quantize(QUANTITY)


def check_planner():
    """Creating, scheduling, cancelling and deleting work orders plans the
    shop: owners, managers and production supervisors (the production
    administrators), not operators"""
    if not user_in_group('production', 'group_production_admin'):
        raise AccessError(gettext(
                'monitorbizz_manufacturing.msg_work_order_planners_only'))


class Configuration(metaclass=PoolMeta):
    __name__ = 'production.configuration'
    completion_tolerance_percent = fields.MultiValue(fields.Numeric(
            "Completion Tolerance %", digits=(5, 2),
            domain=['OR',
                ('completion_tolerance_percent', '=', None),
                ('completion_tolerance_percent', '>=', 0),
                ],
            help="How much more than planned a work order may complete "
            "(good plus rejected)."))

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field == 'completion_tolerance_percent':
            # Kept beside the business's work order sequence
            return pool.get('production.configuration.production_sequence')
        return super().multivalue_model(field)

    @classmethod
    def default_completion_tolerance_percent(cls, **pattern):
        return Decimal(0)


class ConfigurationProductionSequence(metaclass=PoolMeta):
    __name__ = 'production.configuration.production_sequence'
    completion_tolerance_percent = fields.Numeric(
        "Completion Tolerance %", digits=(5, 2),
        domain=['OR',
            ('completion_tolerance_percent', '=', None),
            ('completion_tolerance_percent', '>=', 0),
            ])

    @classmethod
    def default_completion_tolerance_percent(cls):
        return Decimal(0)


class Production(metaclass=PoolMeta):
    __name__ = 'production'
    sales_order = fields.Function(fields.Many2One(
            'sale.sale', "Sales Order",
            help="The sales order the work order makes goods for."),
        'get_sales_order', searcher='search_sales_order')
    priority = fields.Selection(PRIORITIES, "Priority", required=True,
        sort=False)
    assigned_to = fields.Many2One('company.employee', "Assigned To",
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('state').in_(['done', 'cancelled'])},
        help="The member of the business responsible for the work order.")
    actual_start_time = fields.DateTime("Actual Start", readonly=True)
    actual_end_time = fields.DateTime("Actual End", readonly=True)
    quantity_planned = fields.Function(fields.Float(
            "Quantity Planned", digits='unit'), 'get_quantity_planned')
    quantity_produced = fields.Function(fields.Float(
            "Quantity Produced", digits='unit',
            help="Good quantity put into stock."), 'get_output_quantities')
    quantity_rejected = fields.Function(fields.Float(
            "Quantity Rejected", digits='unit',
            help="Quantity put into the scrap location."),
        'get_output_quantities')
    work_order_status = fields.Function(fields.Selection(
            WORK_ORDER_STATUSES, "Status"), 'get_work_order_status',
        searcher='search_work_order_status')
    reject_reason = fields.Char("Reject Reason",
        states={'readonly': Eval('state').in_(['done', 'cancelled'])})
    allow_substitutes = fields.Boolean("Allow Substitutes",
        states={'readonly': Eval('state').in_(['done', 'cancelled'])},
        help="Materials outside the BOM may be consumed.")
    notes = fields.Text("Notes")
    machine_color = fields.Function(fields.Char("Machine Colour"),
        'get_machine_color')
    machines = fields.Function(fields.Many2Many(
            'production.work.center', None, None, "Machines",
            help="The machines the work order runs on: its own and those "
            "of its operations."),
        'get_machines', searcher='search_machines')

    # What only a draft work order changes (its plan)
    PLAN_FIELDS = ['quantity', 'bom', 'routing', 'planned_start_date',
        'planned_date']

    @classmethod
    def check_modification(cls, mode, productions, values=None,
            external=False):
        # Sales confirmed by sales people create work orders internally
        if external and mode in {'create', 'write', 'delete'}:
            check_planner()
        if external and mode == 'delete':
            for production in productions:
                if production.state not in {'request', 'draft'}:
                    raise WorkOrderStateError(gettext(
                            'monitorbizz_manufacturing.msg_work_order_state',
                            work_order=production.rec_name,
                            status=production.work_order_status,
                            action='be deleted (cancel it)'),
                        code='work_order_not_draft')
        if external and mode == 'write':
            for production in productions:
                if production.state in {'done', 'cancelled'}:
                    raise WorkOrderStateError(gettext(
                            'monitorbizz_manufacturing.msg_work_order_state',
                            work_order=production.rec_name,
                            status=production.work_order_status,
                            action='change'),
                        code='work_order_closed')
                frozen = [f for f in cls.PLAN_FIELDS if f in values]
                if frozen and production.state not in {'request', 'draft'}:
                    raise WorkOrderPlanError(gettext(
                            'monitorbizz_manufacturing.msg_work_order_plan',
                            work_order=production.rec_name,
                            status=production.work_order_status),
                        code='work_order_not_draft', fields={
                            f: "is fixed once scheduled" for f in frozen})
        super().check_modification(
            mode, productions, values=values, external=external)

    @classmethod
    def validate_fields(cls, productions, field_names):
        super().validate_fields(productions, field_names)
        if field_names is None or field_names & {
                'planned_start_date', 'planned_date'}:
            for production in productions:
                production.check_planned_dates()

    def check_planned_dates(self):
        if (self.planned_start_date and self.planned_date
                and self.planned_date < self.planned_start_date):
            message = gettext(
                'monitorbizz_manufacturing.msg_work_order_end_before_start')
            raise WorkOrderValueError(message,
                fields={'planned_date': message})

    def check_work_center(self):
        "A work order made by hand with a routing runs on a machine"
        if self.routing and not self.work_center:
            message = gettext(
                'monitorbizz_manufacturing.msg_work_order_machine_required',
                routing=self.routing.rec_name)
            raise WorkOrderValueError(message,
                fields={'work_center': message})

    @fields.depends('product', 'bom', 'routing', 'work_center',
        methods=['on_change_routing'])
    def set_product_bom(self):
        """The BOM in use of the product (its first product BOM, as sales
        use) and that row's routing when none is given, and the routing's
        machine"""
        product_bom = self.product.production_bom if self.product else None
        if product_bom and not self.bom:
            self.bom = product_bom.bom
            if not self.routing:
                self.routing = product_bom.routing
        self.on_change_routing()

    @classmethod
    def prepare(cls, productions):
        """Complete work orders made by hand before they are saved: the
        product's unit, its BOM in use and routing unless given, the
        routing's machine (required then) and the planned dates (start:
        the end or today; end: the start)"""
        pool = Pool()
        Date = pool.get('ir.date')
        for production in productions:
            for name in ['unit', 'bom', 'routing', 'work_center',
                    'planned_start_date', 'planned_date']:
                # Not set on a new record until given
                if not hasattr(production, name):
                    setattr(production, name, None)
            if production.product and not production.unit:
                production.unit = production.product.default_uom
            production.set_product_bom()
            production.check_work_center()
            if not production.planned_start_date:
                production.planned_start_date = (
                    production.planned_date or Date.today())
            if not production.planned_date:
                production.planned_date = production.planned_start_date
            production.check_planned_dates()

    @classmethod
    @ModelView.button
    def replan(cls, productions):
        """Plan the materials of draft work orders afresh from their BOM
        and quantity (after they changed)"""
        pool = Pool()
        Move = pool.get('stock.move')
        productions = [p for p in productions
            if p.state in {'request', 'draft'}]
        Move.delete([m for p in productions
                for m in list(p.inputs) + list(p.outputs)])
        cls.set_moves(cls.browse(productions))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'schedule': {
                    'invisible': ~Eval('state').in_(
                        ['request', 'draft', 'waiting']),
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'start': {
                    'invisible': Eval('state') != 'assigned',
                    'icon': 'tryton-launch',
                    'depends': ['state'],
                    },
                'complete_wizard': {
                    'invisible': ~Eval('state').in_(['assigned', 'running']),
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'replan': {
                    'invisible': ~Eval('state').in_(['request', 'draft']),
                    'depends': ['state'],
                    },
                'complete': {
                    'invisible': ~Eval('state').in_(['assigned', 'running']),
                    'depends': ['state'],
                    },
                'consume': {
                    'invisible': Eval('state') != 'running',
                    'depends': ['state'],
                    },
                'consume_wizard': {
                    'invisible': Eval('state') != 'running',
                    'depends': ['state'],
                    },
                'issue_wizard': {
                    'invisible': Eval('state') != 'running',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_priority(cls):
        return 'medium'

    @classmethod
    def default_allow_substitutes(cls):
        return False

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Config = pool.get('production.configuration')
        Date = pool.get('ir.date')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            # Numbered when made (drafts too), the year of the day it is
            company_id = values.get('company', cls.default_company())
            if company_id is not None:
                sequence = Config(1).get_multivalue(
                    'production_sequence', company=company_id)
                if sequence:
                    with Transaction().set_context(company=company_id):
                        today = Date.today()
                    with Transaction().set_context(date=today):
                        values['number'] = sequence.get()
        return values

    # Derived values

    def get_sales_order(self, name):
        pool = Pool()
        SaleLine = pool.get('sale.line')
        if isinstance(self.origin, SaleLine) and self.origin.id >= 0:
            return self.origin.sale.id

    @classmethod
    def search_sales_order(cls, name, clause):
        nested = clause[0][len(name):]
        return [('origin.sale' + nested, *clause[1:3], 'sale.line')]

    def get_machine_color(self, name):
        if self.work_center:
            return MACHINE_COLORS[self.work_center.id % len(MACHINE_COLORS)]

    # The machine of the work order and of its operations: one truth

    def get_machines(self, name):
        machines = {w.work_center.id for w in self.works if w.work_center}
        if self.work_center:
            machines.add(self.work_center.id)
        return sorted(machines)

    @classmethod
    def search_machines(cls, name, clause):
        "On the machine: assigned to it or with an operation on it"
        nested = clause[0][len(name):]
        return ['OR',
            ('work_center' + nested, *clause[1:]),
            ('works.work_center' + nested, *clause[1:]),
            ]

    @classmethod
    def on_write(cls, productions, values):
        """A work order given another machine takes there its operations
        that ran on its machine and have not started"""
        callbacks = super().on_write(productions, values)
        if 'work_center' in values:
            previous = {p.id: p.work_center for p in productions}

            def follow_machine():
                Work = Pool().get('production.work')
                for production in cls.browse(list(previous)):
                    old = previous[production.id]
                    new = production.work_center
                    works = [w for w in production.works
                        if w.work_center == old and not w.cycles
                        and w.state in {'request', 'draft', 'waiting'}]
                    if new and new != old and works:
                        Work.write(works, {'work_center': new.id})
            callbacks.append(follow_machine)
        return callbacks

    def get_quantity_planned(self, name):
        return self.quantity

    @classmethod
    def output_quantities(cls, production_ids):
        """{production id: (good, rejected)} in the product's default unit
        from the done output moves of the work orders' product, one query"""
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        move = Move.__table__()
        location = Location.__table__()
        production = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {i: (0.0, 0.0) for i in production_ids}
        scrap = location.type == 'lost_found'
        for sub_ids in [production_ids]:
            if not sub_ids:
                continue
            cursor.execute(*move.join(location,
                    condition=move.to_location == location.id
                    ).join(production,
                    condition=move.production_output == production.id
                    ).select(
                    move.production_output,
                    Sum(Case((scrap, 0), else_=move.internal_quantity)),
                    Sum(Case((scrap, move.internal_quantity), else_=0)),
                    where=fields.SQL_OPERATORS['in'](
                        move.production_output, sub_ids)
                    & (move.state == 'done')
                    & (move.product == production.product),
                    group_by=move.production_output))
            for production_id, good, rejected in cursor:
                result[production_id] = (good or 0.0, rejected or 0.0)
        return result

    @classmethod
    def get_output_quantities(cls, productions, names):
        pool = Pool()
        Uom = pool.get('product.uom')
        quantities = cls.output_quantities([p.id for p in productions])
        result = {n: {} for n in names}
        for production in productions:
            good, rejected = quantities[production.id]
            for name, value in [('quantity_produced', good),
                    ('quantity_rejected', rejected)]:
                if name not in result:
                    continue
                if production.product and production.unit:
                    value = Uom.compute_qty(production.product.default_uom,
                        value, production.unit)
                result[name][production.id] = value
        return result

    def get_work_order_status(self, name):
        return STATUS_OF_STATE.get(self.state)

    @classmethod
    def search_work_order_status(cls, name, clause):
        return state_domain(clause, STATUS_OF_STATE)

    # Materials

    def _material_products(self):
        "The materials of the work order: its BOM's, else its planned inputs"
        if self.bom:
            return {i.product for i in self.bom.inputs}
        return {m.product for m in self.inputs}

    def _planned_inputs(self):
        "Input moves planned (not consumed yet)"
        return [m for m in self.inputs
            if m.state in {'staging', 'draft', 'assigned'}]

    def _planned_inputs_by_material(self):
        planned = defaultdict(list)
        for move in self._planned_inputs():
            planned[move.product].append(move)
        return planned

    def _storage(self):
        return self.picking_location

    @classmethod
    def _available(cls, location, products, lots=None, own_moves=()):
        """Quantities of products (or of (product, lot) when lots is a list
        of lots or True for all) in location that are not reserved by
        others: on hand minus assigned moves, plus the own_moves reserved,
        in the default unit"""
        pool = Pool()
        Product = pool.get('product.product')
        Date = pool.get('ir.date')
        product_ids = [p.id for p in products]
        if lots is None:
            grouping, grouping_filter = ('product',), (product_ids,)
        elif lots is True:
            grouping, grouping_filter = ('product', 'lot'), (product_ids,)
        else:
            grouping = ('product', 'lot')
            grouping_filter = (product_ids, [l.id for l in lots])
        with Transaction().set_context(
                stock_date_end=Date.today(), stock_assign=True,
                forecast=False, company=location.company.id
                if location.company else None):
            quantities = Product.products_by_location([location.id],
                with_childs=True, grouping=grouping,
                grouping_filter=grouping_filter)
        available = defaultdict(float)
        for key, quantity in quantities.items():
            available[key[1:]] += quantity
        for move in own_moves:
            if move.state != 'assigned':
                continue
            key = (move.product.id,)
            if lots is not None:
                key += (move.lot.id if move.lot else None,)
            available[key] += move.internal_quantity
        return available

    def get_shortages(self):
        """Each material the planned inputs need more of than the warehouse
        has free: required, available and short in the material's unit with
        the open purchase orders for it"""
        pool = Pool()
        Uom = pool.get('product.uom')
        planned = self._planned_inputs()
        required = defaultdict(float)
        for move in planned:
            required[move.product] += move.internal_quantity
        if not required:
            return []
        available = self._available(
            self._storage(), list(required), own_moves=planned)
        shortages = []
        for product, quantity in sorted(
                required.items(), key=lambda i: i[0].rec_name):
            unit = product.default_uom
            free = max(available.get((product.id,), 0.0), 0.0)
            short = unit.round(quantity - free)
            if short <= 0:
                continue
            shortages.append({
                    'product': product.id,
                    'code': product.code,
                    'name': product.name,
                    'unit': unit.symbol,
                    'required': to_decimal(unit.round(quantity)),
                    'available': to_decimal(unit.round(free)),
                    'short': to_decimal(short),
                    'open_purchase_orders': [],
                    })
        if shortages:
            orders = self._open_purchase_orders(
                [s['product'] for s in shortages])
            for shortage in shortages:
                shortage['open_purchase_orders'] = orders.get(
                    shortage['product'], [])
        return shortages

    def _open_purchase_orders(self, product_ids):
        """{product id: [purchase order]} of the business's confirmed or
        processing purchases with quantity still to receive"""
        pool = Pool()
        Line = pool.get('purchase.line')
        Uom = pool.get('product.uom')
        orders = defaultdict(list)
        lines = Line.search([
                ('product', 'in', product_ids),
                ('purchase.company', '=', self.company.id),
                ('purchase.state', 'in', ['confirmed', 'processing']),
                ('type', '=', 'line'),
                ], order=[('purchase.id', 'ASC'), ('id', 'ASC')])
        for line in lines:
            remaining = line._move_remaining_quantity
            if not remaining or remaining <= 0:
                continue
            quantity = Uom.compute_qty(
                line.unit, remaining, line.product.default_uom)
            orders[line.product.id].append({
                    'id': line.purchase.id,
                    'number': line.purchase.number,
                    'quantity': to_decimal(quantity),
                    'expected_date': line.delivery_date,
                    })
        return orders

    def consumption_lines(self):
        """Per material: planned (BOM quantity with wastage, scaled), actual
        and wasted quantities and the batches, from the input moves in one
        query"""
        pool = Pool()
        Move = pool.get('stock.move')
        Lot = pool.get('stock.lot')
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        move = Move.__table__()
        lot = Lot.__table__()
        cursor = Transaction().connection.cursor()
        planned = defaultdict(float)
        if self.bom and self.product and self.unit:
            factor = self.bom.compute_factor(
                self.product, self.quantity or 0, self.unit)
            for input_ in self.bom.inputs:
                planned[input_.product] += Uom.compute_qty(input_.unit,
                    input_.compute_quantity(factor),
                    input_.product.default_uom, round=False)
        else:
            for move_ in self.inputs:
                if move_.state != 'cancelled' and not move_.wastage:
                    planned[move_.product] += move_.internal_quantity
        cursor.execute(*move.join(lot, 'LEFT',
                condition=move.lot == lot.id).select(
                move.product, move.wastage, lot.number,
                Sum(move.internal_quantity),
                where=(move.production_input == self.id)
                & (move.state == 'done'),
                group_by=[move.product, move.wastage, lot.number]))
        actual, wasted = defaultdict(float), defaultdict(float)
        batches = defaultdict(set)
        rows = cursor.fetchall()
        # Read together with the BOM's materials, not one by one
        products = {p.id: p for p in Product.browse(
                {r[0] for r in rows} | {p.id for p in planned})}
        for product_id, wastage, number, quantity in rows:
            product = products[product_id]
            (wasted if wastage else actual)[product] += quantity or 0
            if number:
                batches[product].add(number)
        lines = []
        # In the order of their names "[code] name", from the fields read
        # for the lines anyway
        for product in sorted(set(planned) | set(actual) | set(wasted),
                key=lambda p: (p.code is None, p.code or '', p.name)):
            unit = product.default_uom
            lines.append({
                    'material': product.id,
                    'code': product.code,
                    'name': product.name,
                    'unit': unit.symbol,
                    'planned_quantity': to_decimal(unit.round(
                            planned.get(product, 0))),
                    'actual_quantity': to_decimal(unit.round(
                            actual.get(product, 0))),
                    'wastage_quantity': to_decimal(unit.round(
                            wasted.get(product, 0))),
                    'batches': sorted(batches.get(product, [])),
                    })
        return lines

    # Actions: buttons whose groups are in production.xml; a work order in
    # the wrong state is refused with WorkOrderStateError (its guard) once
    # the user's right to press the button is checked

    # The states each action takes a work order from
    ACTION_STATES = {
        'schedule': {'request', 'draft', 'waiting'},
        'start': {'assigned'},
        'consume': {'running'},
        'complete': {'assigned', 'running'},
        }

    @classmethod
    def _check_action_state(cls, productions, action):
        for production in productions:
            if production.state not in cls.ACTION_STATES[action]:
                raise WorkOrderStateError(gettext(
                        'monitorbizz_manufacturing.msg_work_order_state',
                        work_order=production.rec_name,
                        status=production.work_order_status,
                        action=action))

    @classmethod
    def check_cancel(cls, productions):
        for production in productions:
            if production.state in {'done', 'cancelled'}:
                raise WorkOrderStateError(gettext(
                        'monitorbizz_manufacturing.msg_work_order_state',
                        work_order=production.rec_name,
                        status=production.work_order_status,
                        action='cancel'))

    @classmethod
    @guarded_button('check_cancel')
    def cancel(cls, productions):
        "What was consumed stays consumed; the reservations are released"
        super().cancel(productions)

    @classmethod
    def check_schedule(cls, productions):
        cls._check_action_state(productions, 'schedule')

    @classmethod
    def check_start(cls, productions):
        cls._check_action_state(productions, 'start')

    @classmethod
    def check_consume(cls, productions):
        cls._check_action_state(productions, 'consume')

    @classmethod
    def check_complete(cls, productions):
        cls._check_action_state(productions, 'complete')
        for production in productions:
            unfinished = [w.rec_name for w in production.works
                if w.state not in {'finished', 'done'}]
            if unfinished:
                # Tryton's production_work completes only with every
                # operation done
                raise OperationsNotFinishedError(gettext(
                        'monitorbizz_manufacturing'
                        '.msg_work_order_operations_unfinished',
                        work_order=production.rec_name,
                        operations=', '.join(unfinished)))

    @classmethod
    @guarded_button('check_schedule')
    def schedule(cls, productions):
        """Plan the dates when missing and reserve the materials; when one is
        short, raise MaterialShortageError (nothing is kept)"""
        pool = Pool()
        Date = pool.get('ir.date')
        Product = pool.get('product.product')
        productions = [p for p in productions if p.state != 'assigned']
        if not productions:
            return
        # Consumption locks the material too: no reservation of stock
        # being consumed at the same time
        Product.lock(list({m.product for p in productions
                    for m in p._planned_inputs()}))
        to_save = []
        for production in productions:
            if production.routing and not production.work_center:
                # Work orders from sales orders get the routing's machine
                production.on_change_routing()
                to_save.append(production)
            if not production.planned_start_date:
                with Transaction().set_context(
                        company=production.company.id):
                    production.planned_start_date = (
                        production.planned_date or Date.today())
                production.on_change_planned_start_date()
                to_save.append(production)
            elif not production.planned_date:
                production.planned_date = production.planned_start_date
                to_save.append(production)
        cls.save(to_save)
        requests = [p for p in productions if p.state == 'request']
        if requests:
            cls.draft(requests)
        cls.wait([p for p in productions if p.state in {'draft', 'request'}])
        productions = cls.browse(productions)
        cls._reserve_batches(productions)
        productions = cls.browse(productions)
        cls.assign_try(productions)
        for production in cls.browse(productions):
            if production.state == 'assigned':
                continue
            shortages = production.get_shortages()
            raise MaterialShortageError(gettext(
                    'monitorbizz_manufacturing.msg_material_shortage',
                    work_order=production.rec_name,
                    materials=', '.join(
                        f"{s['name']} ({s['short']} {s['unit']})"
                        for s in shortages)),
                shortages=shortages)

    @classmethod
    def _reserve_batches(cls, productions):
        """Give the planned inputs of materials traced by batch the batches
        to use, oldest first, a move split over several batches when one is
        not enough; what no batch holds stays without (and short)"""
        pool = Pool()
        Move = pool.get('stock.move')
        Lot = pool.get('stock.lot')
        Uom = pool.get('product.uom')
        to_save = []
        for production in productions:
            moves = [m for m in production._planned_inputs()
                if m.state == 'draft' and not m.lot
                and m.product.template.lot_required]
            if not moves:
                continue
            products = list({m.product for m in moves})
            free = cls._available(
                production._storage(), products, lots=True)
            lots = defaultdict(list)
            for lot in Lot.browse(sorted({
                            lot_id for (_, lot_id), quantity in free.items()
                            if lot_id is not None and quantity > 0})):
                lots[lot.product].append(lot)
            for move in sorted(moves, key=lambda m: m.id):
                unit = move.product.default_uom
                remaining = move.internal_quantity
                pieces = []
                for lot in lots[move.product]:
                    key = (move.product.id, lot.id)
                    take = unit.round(min(free[key], remaining))
                    if take <= 0:
                        continue
                    pieces.append((lot, take))
                    free[key] -= take
                    remaining = unit.round(remaining - take)
                    if remaining <= 0:
                        break
                if not pieces:
                    continue
                if remaining > 0:
                    pieces.append((None, remaining))
                (move.lot, first), *others = pieces
                if others:
                    move.quantity = Uom.compute_qty(unit, first, move.unit)
                to_save.append(move)
                for lot, quantity in others:
                    piece, = Move.copy([move], default={
                            'lot': lot.id if lot else None,
                            'quantity': Uom.compute_qty(
                                unit, quantity, move.unit),
                            })
        Move.save(to_save)

    @classmethod
    @guarded_button('check_start')
    def start(cls, productions):
        "Run the scheduled work orders"
        cls.run(productions)

    @classmethod
    @ModelView.button
    @Workflow.transition('running')
    def run(cls, productions):
        # The planned inputs stay reserved: consumption records what is
        # actually used
        with Transaction().set_context(**{KEEP_PLANNED_INPUTS: True}):
            super().run(productions)
        now = dt.datetime.now()
        cls.write([p for p in productions if not p.actual_start_time], {
                'actual_start_time': now,
                })

    @classmethod
    @ModelView.button_action(
        'monitorbizz_manufacturing.wizard_production_consume')
    def consume_wizard(cls, productions):
        pass

    @classmethod
    @ModelView.button_action(
        'monitorbizz_manufacturing.wizard_production_issue')
    def issue_wizard(cls, productions):
        pass

    @classmethod
    @ModelView.button_action(
        'monitorbizz_manufacturing.wizard_production_complete')
    def complete_wizard(cls, productions):
        pass

    @classmethod
    @guarded_button('check_consume')
    def consume(cls, productions, lines=(), allow_substitutes=None):
        """Record the consumption of lines (ConsumedMaterial: material,
        quantity used, wastage lost, batch or None for the warehouse) on
        the work order at once: done input moves out of the storage, the
        plan lowered by what was used. All or nothing: an error names the
        line (its .line index) and the field. allow_substitutes: materials
        outside the BOM allowed for this consumption (default: the work
        order's setting)."""
        batches = []
        for production in productions:
            if allow_substitutes:
                production.allow_substitutes = True
            lines_ = production._resolve_batches(lines)
            production._consume(lines_)
            batches = [{'id': l.batch.id, 'name': l.batch.number}
                if l.batch else None for l in lines_]
        # The batch consumed from by each line
        return batches

    def _resolve_batches(self, lines):
        """The lines with their batch given by id or by number (of the
        material) as the business's batch; ConsumptionError (code
        unknown_batch) naming the line of one that is not"""
        pool = Pool()
        Lot = pool.get('stock.lot')
        resolved = []
        for i, line in enumerate(lines):
            batch = line.batch
            if batch is not None and not isinstance(batch, Lot):
                domain = [('company', '=', self.company.id)]
                if isinstance(batch, int):
                    domain.append(('id', '=', batch))
                else:
                    domain += [('number', '=', batch),
                        ('product', '=', line.material.id)]
                found = Lot.search(domain, limit=1)
                if not found:
                    raise UnknownBatchError(gettext(
                            'monitorbizz_manufacturing.msg_unknown_batch',
                            batch=batch, material=line.material.rec_name),
                        field='batch', line=i)
                batch, = found
            resolved.append(line._replace(batch=batch))
        return resolved

    def _consume(self, lines):
        pool = Pool()
        Move = pool.get('stock.move')
        Product = pool.get('product.product')
        Date = pool.get('ir.date')
        lines = [ConsumedMaterial(l.material,
                Decimal(str(l.quantity)) if l.quantity is not None else None,
                Decimal(str(l.wastage_quantity or 0)), l.batch)
            for l in lines]
        if not lines:
            return []
        # Taken before any read: Tryton restarts the transaction to lock,
        # and the stock read below must be current. One consumption of a
        # material at a time.
        Product.lock(sorted({l.material for l in lines}, key=int))
        bom_materials = (None if self.allow_substitutes
            else self._material_products())
        for i, line in enumerate(lines):
            self._check_consumption(i, line, bom_materials)

        storage = self._storage()
        planned = self._planned_inputs_by_material()
        materials = list({l.material for l in lines})
        own = [m for p in materials for m in planned.get(p, [])]
        free = self._available(storage, materials, own_moves=own)
        batches = list({l.batch for l in lines if l.batch})
        in_batch = self._available(storage, materials, lots=batches,
            own_moves=own) if batches else {}
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        moves, used = [], defaultdict(float)
        for i, line in enumerate(lines):
            material, batch = line.material, line.batch
            unit = material.default_uom
            need = float(line.quantity + line.wastage_quantity)
            key = (material.id,)
            available = free[key]
            if batch:
                available = min(available, in_batch[key + (batch.id,)])
            if unit.round(available - need) < 0:
                raise BatchExhaustedError(gettext(
                        'monitorbizz_manufacturing.msg_batch_exhausted',
                        source=batch.rec_name if batch else storage.rec_name,
                        material=material.rec_name,
                        available=unit.round(max(available, 0)),
                        unit=unit.symbol,
                        asked=unit.round(need)),
                    available=to_decimal(unit.round(max(available, 0))),
                    line=i, field='batch' if batch else 'quantity')
            # Later lines of the same material or batch see what is left
            free[key] -= need
            if batch:
                in_batch[key + (batch.id,)] -= need
            planned_move = self._planned_move_of(
                planned.get(material, []), line)
            if planned_move:
                # The plan consumed as planned: done itself, from the batch
                planned[material].remove(planned_move)
                if planned_move.lot != batch:
                    planned_move.lot = batch
                moves.append(planned_move)
                used[material] += float(line.wastage_quantity)
            else:
                used[material] += need
            for value, is_wastage in [
                    (line.quantity, False), (line.wastage_quantity, True)]:
                if not value or (planned_move and not is_wastage):
                    continue
                move = self._move('input', material, unit, float(value))
                move.from_location = storage
                move.lot = batch
                move.wastage = is_wastage
                move.effective_date = today
                move.planned_date = today
                move.origin = None
                moves.append(move)
        Move.save(moves)
        # Read afresh together: the planned ones still prefetch every input
        # of the work order
        moves = Move.browse(moves)
        with Transaction().set_context(**{CONSUMED_ON: today}):
            Move.do(moves)
        self._lower_planned(planned, used)
        return moves

    @staticmethod
    def _planned_move_of(planned, line):
        """The move of planned for exactly the quantity of line from its
        batch (or not reserved in another batch)"""
        unit = line.material.default_uom
        for move in planned:
            if (move.state in {'draft', 'assigned'}
                    and move.lot in {None, line.batch}
                    and unit.round(move.internal_quantity
                        - float(line.quantity)) == 0):
                return move

    def _check_consumption(self, index, line, bom_materials):
        "Refuse line (the index-th) with the offending field"
        material = line.material
        if bom_materials is not None and material not in bom_materials:
            raise ConsumptionError(gettext(
                    'monitorbizz_manufacturing.msg_consume_not_in_bom',
                    material=material.rec_name,
                    work_order=self.rec_name), field='material', line=index)
        if line.quantity is None or line.quantity <= 0:
            raise ConsumptionError(gettext(
                    'monitorbizz_manufacturing.msg_consume_quantity'),
                field='quantity', line=index)
        if line.wastage_quantity < 0:
            raise ConsumptionError(gettext(
                    'monitorbizz_manufacturing.msg_consume_wastage'),
                field='wastage_quantity', line=index)
        if line.batch is not None and line.batch.product != material:
            raise ConsumptionError(gettext(
                    'monitorbizz_manufacturing.msg_consume_batch_material',
                    batch=line.batch.rec_name, material=material.rec_name),
                field='batch', line=index)

    @classmethod
    def _lower_planned(cls, planned, used):
        """Lower the planned inputs ({material: [move]}) by the quantities
        used ({material: quantity in its default unit}): they hold the
        reservation of what is still to use"""
        pool = Pool()
        Move = pool.get('stock.move')
        Uom = pool.get('product.uom')
        to_cancel, to_reduce = [], []
        for material, quantity in used.items():
            for move in sorted(planned.get(material, []),
                    key=lambda m: m.state != 'assigned'):
                if quantity <= 0:
                    break
                if move.internal_quantity <= quantity:
                    to_cancel.append(move)
                    quantity -= move.internal_quantity
                else:
                    rest = move.internal_quantity - quantity
                    to_reduce.append((move, Uom.compute_qty(
                                move.product.default_uom, rest, move.unit)))
                    quantity = 0
        Move.cancel(to_cancel)
        if to_reduce:
            assigned = [m for m, _ in to_reduce if m.state == 'assigned']
            Move.draft(assigned)
            for move, rest in to_reduce:
                move.quantity = rest
            Move.save([m for m, _ in to_reduce])
            # Still ours: the materials are locked and the quantities lower
            Move.assign(assigned)

    @classmethod
    @guarded_button('check_complete')
    def complete(cls, productions, quantity_produced=None,
            quantity_rejected=0, reject_reason=None, batch_number=None):
        """Close the work orders: quantity_produced into storage under a new
        batch, quantity_rejected into scrap with reject_reason, a quality
        inspection, the unused plan cancelled, done at cost"""
        for production in productions:
            production._complete(quantity_produced, quantity_rejected,
                reject_reason, batch_number)

    def _complete(self, quantity_produced, quantity_rejected=0,
            reject_reason=None, batch_number=None):
        pool = Pool()
        Config = pool.get('production.configuration')
        Move = pool.get('stock.move')
        Lot = pool.get('stock.lot')
        Date = pool.get('ir.date')
        cls = self.__class__
        produced = (Decimal(str(quantity_produced))
            if quantity_produced is not None else None)
        rejected = Decimal(str(quantity_rejected or 0))
        if produced is None or produced <= 0:
            raise CompletionError(gettext(
                    'monitorbizz_manufacturing.msg_complete_produced'),
                field='quantity_produced')
        if rejected < 0:
            raise CompletionError(gettext(
                    'monitorbizz_manufacturing.msg_complete_rejected'),
                field='quantity_rejected')
        tolerance = Config(1).get_multivalue(
            'completion_tolerance_percent', company=self.company.id
            ) or Decimal(0)
        planned = Decimal(str(self.quantity or 0))
        limit = planned * (1 + tolerance / 100)
        if produced + rejected > limit:
            raise CompletionError(gettext(
                    'monitorbizz_manufacturing.msg_complete_beyond_tolerance',
                    work_order=self.rec_name,
                    quantity=produced + rejected,
                    planned=planned, tolerance=tolerance,
                    limit=limit.normalize()),
                field=('quantity_produced' if produced > limit
                    else 'quantity_rejected'))
        reject_reason = (reject_reason or '').strip() or None
        if rejected and not reject_reason:
            raise CompletionError(gettext(
                    'monitorbizz_manufacturing.msg_complete_reason'),
                field='reject_reason')
        if self.state == 'assigned':
            cls.run([self])
            self = cls(self.id)

        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        lot = Lot(product=self.product,
            number=(batch_number or '').strip() or self.number)
        lot.save()
        # The outputs of the product become the good and scrap moves; other
        # outputs (by-products) stay as planned
        own = [m for m in self.outputs
            if m.product == self.product and m.state not in {
                'done', 'cancelled'}]
        good = own[0] if own else self._move(
            'output', self.product, self.unit, 0)
        Move.cancel(own[1:])
        good.quantity = float(produced)
        good.unit = self.unit
        good.lot = lot
        good.effective_date = today
        outputs = [good]
        if rejected:
            scrap = self._move('output', self.product, self.unit,
                float(rejected))
            scrap.to_location = self.warehouse.lost_found_location
            # Scrap carries no value (Tryton's set_cost skips it too)
            scrap.unit_price_required = False
            scrap.unit_price = scrap.currency = None
            scrap.lot = lot
            scrap.effective_date = today
            outputs.append(scrap)
        Move.save(outputs)
        Move.cancel(self._planned_inputs())
        self.reject_reason = reject_reason
        self.actual_end_time = dt.datetime.now()
        self.save()
        # Inspected before done: it is the production's inspection of
        # Tryton's "Production Done" controls
        self.inspect(produced, rejected, reject_reason, lot)
        cls.do([cls(self.id)])
        return cls(self.id)

    def output_batch(self):
        "The batch of the good quantity produced and its unit cost"
        scrap = {self.warehouse.lost_found_location} | set(
            getattr(self.warehouse, 'waste_locations', None) or [])
        good = [m for m in self.outputs
            if m.state == 'done' and m.product == self.product
            and m.to_location not in scrap]
        lot = next((m.lot for m in good if m.lot), None)
        unit_cost = next((m.unit_price for m in good
                if m.unit_price is not None), None)
        return lot, unit_cost

    def inspect(self, produced, rejected, reject_reason, lot):
        """The output's quality inspection, with a quality alert giving the
        reason when there are rejects"""
        pool = Pool()
        Inspection = pool.get('quality.inspection')
        Alert = pool.get('quality.alert')
        control = self._output_control()
        inspection = Inspection(company=self.company, origin=self,
            control=control, reference=lot.number,
            points={'produced': float(produced),
                'rejected': float(rejected)})
        inspection.save()
        Inspection.process([inspection])
        if rejected:
            Alert(company=self.company, origin=inspection,
                title=gettext(
                    'monitorbizz_manufacturing.msg_reject_alert_title',
                    quantity=rejected.normalize(),
                    work_order=self.rec_name),
                description=reject_reason).save()
        return inspection

    def _output_control(self):
        "The business's output inspection of work orders (made once)"
        pool = Pool()
        Control = pool.get('quality.control')
        Point = pool.get('quality.control.point')
        name = gettext('monitorbizz_manufacturing.msg_output_control')
        controls = Control.search([
                ('company', '=', self.company.id),
                ('name', '=', name),
                ], limit=1)
        if controls:
            return controls[0]
        control = Control(company=self.company, name=name, frequency=1,
            operations=['production:do'],
            points=[
                Point(name='produced', string="Produced", type_='float',
                    tolerance_lower=0),
                Point(name='rejected', string="Rejected", type_='float'),
                ])
        control.save()
        return control


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'
    wastage = fields.Boolean("Wastage",
        states={
            'invisible': ~Bool(Eval('production_input')),
            },
        help="Material lost in processing (offcuts, swarf) rather than "
        "built into the output.")

    @classmethod
    def default_wastage(cls):
        return False

    def set_effective_date(self):
        # Materials are consumed on the day the consumption is recorded,
        # not on the work order's start
        consumed_on = Transaction().context.get(CONSUMED_ON)
        if not self.effective_date and consumed_on and self.production_input:
            self.effective_date = consumed_on
        super().set_effective_date()

    @classmethod
    def do(cls, moves):
        # Not a transition of its own: that would mark the moves left out
        # done
        if Transaction().context.get(KEEP_PLANNED_INPUTS):
            moves = [m for m in moves if not m.production_input]
        super().do(moves)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'
    ready_to_ship = fields.Function(fields.Boolean(
            "Ready to Ship",
            help="Every work order of the sales order is completed."),
        'get_ready_to_ship')

    @classmethod
    def get_ready_to_ship(cls, sales, name):
        pool = Pool()
        Production = pool.get('production')
        Line = pool.get('sale.line')
        production = Production.__table__()
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys([s.id for s in sales], False)
        origin = Concat('sale.line,', Cast(line.id, 'VARCHAR'))
        cursor.execute(*production.join(line,
                condition=production.origin == origin).select(
                line.sale,
                Sum(Case((production.state == 'done', 0), else_=1)),
                where=fields.SQL_OPERATORS['in'](line.sale, list(result))
                & (production.state != 'cancelled'),
                group_by=line.sale))
        for sale_id, pending in cursor:
            result[sale_id] = not pending
        return result


class _MaterialUsed:
    "What was used of a material and lost, from a batch"
    __slots__ = ()
    company = fields.Many2One('company.company', "Business", readonly=True)
    material = fields.Many2One('product.product', "Material", required=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    unit = fields.Function(fields.Many2One('product.uom', "Unit"),
        'on_change_with_unit')
    quantity = fields.Numeric("Quantity", digits=(16, 4), required=True)
    wastage_quantity = fields.Numeric("Wastage", digits=(16, 4),
        required=True,
        help="Material lost in processing (offcuts, swarf).")
    batch = fields.Many2One('stock.lot', "Batch",
        domain=[('product', '=', Eval('material', -1))])

    @fields.depends('material')
    def on_change_with_unit(self, name=None):
        return self.material.default_uom if self.material else None

    def consumed(self):
        return ConsumedMaterial(self.material, self.quantity,
            self.wastage_quantity, self.batch)


class ConsumeStart(_MaterialUsed, ModelView):
    "Consume Material"
    __name__ = 'production.consume.start'
    production = fields.Many2One('production', "Work Order", readonly=True)


class Consume(Wizard):
    "Consume Material"
    __name__ = 'production.consume'
    start = StateView('production.consume.start',
        'monitorbizz_manufacturing.production_consume_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Consume", 'consume', 'tryton-ok', default=True),
            ])
    consume = StateTransition()

    def default_start(self, fields):
        return {
            'production': self.record.id,
            'company': self.record.company.id,
            'wastage_quantity': Decimal(0),
            }

    def transition_consume(self):
        self.model.consume([self.record], [self.start.consumed()])
        return 'end'


class IssueStart(ModelView):
    "Issue Materials"
    __name__ = 'production.issue.start'
    production = fields.Many2One('production', "Work Order", readonly=True)
    company = fields.Many2One('company.company', "Business", readonly=True)
    lines = fields.One2Many('production.issue.line', None, "Materials",
        help="What was used of each material; a line left at 0 is not "
        "issued now.")


class IssueLine(_MaterialUsed, ModelView):
    "Material to Issue"
    __name__ = 'production.issue.line'
    planned_quantity = fields.Numeric("Planned", digits=(16, 4),
        readonly=True, help="Still to use by the plan, as reserved.")


class Issue(Wizard):
    """Issue Materials: the planned materials of the work order, each from
    its reserved batch, consumed at once (all or nothing)"""
    __name__ = 'production.issue'
    start = StateView('production.issue.start',
        'monitorbizz_manufacturing.production_issue_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Issue", 'issue', 'tryton-ok', default=True),
            ])
    issue = StateTransition()

    def default_start(self, fields):
        company = self.record.company.id
        lines = []
        for move in sorted(self.record._planned_inputs(),
                key=lambda m: (m.product.rec_name, m.id)):
            planned = to_decimal(move.product.default_uom.round(
                    move.internal_quantity))
            lines.append({
                    'company': company,
                    'material': move.product.id,
                    'batch': move.lot.id if move.lot else None,
                    'planned_quantity': planned,
                    'quantity': planned,
                    'wastage_quantity': Decimal(0),
                    })
        return {
            'production': self.record.id,
            'company': company,
            'lines': lines,
            }

    def transition_issue(self):
        lines = [l.consumed() for l in self.start.lines
            if l.quantity or l.wastage_quantity]
        if not lines:
            raise ConsumptionError(gettext(
                    'monitorbizz_manufacturing.msg_consume_quantity'),
                field='quantity')
        self.model.consume([self.record], lines)
        return 'end'


class CompleteStart(ModelView):
    "Complete Work Order"
    __name__ = 'production.complete.start'
    production = fields.Many2One('production', "Work Order", readonly=True)
    quantity_produced = fields.Numeric("Good Quantity", digits=(16, 4),
        required=True)
    quantity_rejected = fields.Numeric("Rejected Quantity", digits=(16, 4),
        required=True)
    reject_reason = fields.Char("Reject Reason",
        states={'required': Eval('quantity_rejected', 0) > 0})
    batch_number = fields.Char("Batch Number",
        help="Empty: the work order's number.")


class Complete(Wizard):
    "Complete Work Order"
    __name__ = 'production.complete'
    start = StateView('production.complete.start',
        'monitorbizz_manufacturing.production_complete_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Complete", 'complete', 'tryton-ok', default=True),
            ])
    complete = StateTransition()

    def default_start(self, fields):
        return {
            'production': self.record.id,
            'quantity_produced': Decimal(str(self.record.quantity or 0)),
            'quantity_rejected': Decimal(0),
            }

    def transition_complete(self):
        self.model.complete([self.record], self.start.quantity_produced,
            self.start.quantity_rejected, self.start.reject_reason,
            self.start.batch_number)
        return 'end'
