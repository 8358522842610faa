# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Operations are Tryton's production works: timed by work cycles on a
machine by an operator; one running cycle per machine and per operator."""
import datetime as dt
from decimal import Decimal

from sql import Null
from sql.aggregate import Sum
from sql.conditionals import Coalesce
from sql.functions import Extract

from trytond import backend

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction, without_check_access

from ..business.workflow import guarded_button
from .exceptions import OperationConflictError, OperationStateError

MINUTES = (16, 2)
OPERATION_STATUSES = [
    ('pending', "Pending"),
    ('in_progress', "In Progress"),
    ('completed', "Completed"),
    ]
# Tryton's work states as the seed's operation statuses
STATUS_OF_STATE = {
    'request': 'pending',
    'draft': 'pending',
    'waiting': 'in_progress',
    'running': 'in_progress',
    'finished': 'completed',
    'done': 'completed',
    }


def state_domain(clause, status_of_state):
    "Domain on Tryton's state for a clause on a status mapped from it"
    _, operator, value = clause[:3]
    values = [value] if isinstance(value, str) else list(value or [])
    states = [s for s, v in status_of_state.items() if v in values]
    if operator in {'!=', 'not in'}:
        return [('state', 'not in', states)]
    return [('state', 'in', states)]


class Routing(metaclass=PoolMeta):
    __name__ = 'production.routing'

    @classmethod
    def on_modification(cls, mode, routings, field_names=None):
        super().on_modification(mode, routings, field_names=field_names)
        if mode == 'create' or (mode == 'write' and 'boms' in field_names):
            cls.use_in_products(routings)

    @classmethod
    def use_in_products(cls, routings):
        """A routing of a BOM becomes the routing of the products using
        that BOM without one"""
        pool = Pool()
        ProductBom = pool.get('product.product-production.bom')
        to_save = []
        for routing in routings:
            bom_ids = [b.id for b in routing.boms]
            if not bom_ids:
                continue
            with without_check_access():
                rows = ProductBom.search([
                        ('bom', 'in', bom_ids),
                        ('routing', '=', None),
                        ])
            for row in rows:
                row.routing = routing
                to_save.append(row)
        ProductBom.save(to_save)


class RoutingOperation(metaclass=PoolMeta):
    __name__ = 'production.routing.operation'

    @classmethod
    def get_or_create(cls, name, work_center_category=None):
        "The business's operation of the name on machines of the category"
        category = work_center_category.id if work_center_category else None
        found = cls.search([
                ('name', '=', name),
                ('work_center_category', '=', category),
                ], limit=1)
        if found:
            return found[0]
        operation, = cls.create([{'name': name,
                    'work_center_category': category}])
        return operation


class RoutingStep(metaclass=PoolMeta):
    __name__ = 'production.routing.step'
    minutes_per_unit = fields.Numeric("Minutes per Unit", digits=MINUTES,
        domain=['OR',
            ('minutes_per_unit', '=', None),
            ('minutes_per_unit', '>=', 0),
            ],
        help="Machine minutes to process one unit of the output.")
    setup_minutes = fields.Numeric("Set-up Minutes", digits=MINUTES,
        domain=['OR',
            ('setup_minutes', '=', None),
            ('setup_minutes', '>=', 0),
            ],
        help="Minutes to set the machine up, once per work order.")
    work_center = fields.Many2One('production.work.center', "Machine",
        domain=[
            ('company', '=', Eval('_parent_routing', {}).get('company', -1)),
            ],
        help="The machine of the step; empty: one of the operation's "
        "machine type.")

    def planned_minutes(self, quantity):
        "Minutes of the step for quantity units of the output"
        return ((self.minutes_per_unit or 0) * Decimal(str(quantity or 0))
            + (self.setup_minutes or 0)).quantize(Decimal('0.01'))

    def get_work(self, production, work_center_picker):
        if self.work_center:
            # The step's own machine rather than one picked by type
            def work_center_picker(parent, category):
                return self.work_center
        work = super().get_work(production, work_center_picker)
        if self.work_center:
            work.work_center = self.work_center
        work.minutes_per_unit = self.minutes_per_unit
        work.setup_minutes = self.setup_minutes
        work.planned_duration = self.planned_minutes(production.quantity)
        return work


class Work(metaclass=PoolMeta):
    __name__ = 'production.work'
    operation_name = fields.Function(
        fields.Char("Operation Name"), 'get_operation_name')
    operator = fields.Many2One('company.employee', "Operator",
        domain=[('company', '=', Eval('company', -1))],
        help="The member of the business who runs the operation.")
    minutes_per_unit = fields.Numeric("Minutes per Unit", digits=MINUTES,
        readonly=True)
    setup_minutes = fields.Numeric("Set-up Minutes", digits=MINUTES,
        readonly=True)
    planned_duration = fields.Numeric("Planned Duration", digits=MINUTES,
        domain=['OR',
            ('planned_duration', '=', None),
            ('planned_duration', '>=', 0),
            ],
        help="Minutes: the routing's minutes per unit times the quantity "
        "plus the set-up minutes.")
    actual_duration = fields.Function(
        fields.TimeDelta("Actual Duration"), 'get_actual_duration')
    status = fields.Function(fields.Selection(
            OPERATION_STATUSES, "Status"), 'get_status',
        searcher='search_status')
    paused = fields.Boolean("Paused", readonly=True,
        help="Stopped for now: its cycles are done but it is not "
        "completed.")
    completed = fields.Function(fields.Boolean("Completed"), 'get_status')

    @classmethod
    def default_paused(cls):
        return False

    def get_operation_name(self, name):
        return self.operation.name if self.operation else None

    @classmethod
    def _get_cost(cls, works):
        "Machine cost of the cycles plus the operators' time at their rate"
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        Employee = pool.get('company.employee')
        costs = super()._get_cost(works)
        cycle, work = Cycle.__table__(), cls.__table__()
        employee = Employee.__table__()
        cursor = Transaction().connection.cursor()
        hours = Extract('EPOCH', cycle.duration) / 3600
        query = cycle.join(work, condition=cycle.work == work.id).join(
            employee, condition=employee.id == Coalesce(
                cycle.operator, work.operator)).select(
            cycle.work.as_('work'),
            Sum(Coalesce(employee.hourly_cost, 0) * hours).as_('cost'),
            where=fields.SQL_OPERATORS['in'](cycle.work, list(map(int, works)))
            & (cycle.state == 'done') & (cycle.duration != Null),
            group_by=cycle.work)
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None, 'NUMERIC'])
        cursor.execute(*query)
        for work_id, cost in cursor:
            costs[work_id] += Decimal(str(cost or 0))
        return costs

    @classmethod
    def get_actual_duration(cls, works, name):
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        cycle = Cycle.__table__()
        cursor = Transaction().connection.cursor()
        durations = dict.fromkeys([w.id for w in works])
        for sub_ids in [[w.id for w in works]]:
            cursor.execute(*cycle.select(cycle.work, cycle.duration,
                    where=fields.SQL_OPERATORS['in'](cycle.work, sub_ids)
                    & (cycle.state == 'done') & (cycle.duration != Null)))
            for work_id, duration in cursor:
                if not isinstance(duration, dt.timedelta):
                    duration = dt.timedelta(seconds=duration)
                durations[work_id] = (
                    durations[work_id] or dt.timedelta()) + duration
        return durations

    def get_status(self, name):
        status = STATUS_OF_STATE.get(self.state, 'pending')
        if self.state == 'finished' and self.paused:
            # Every cycle done because it was paused, not completed
            status = 'in_progress'
        if name == 'completed':
            return status == 'completed'
        return status

    @classmethod
    def search_status(cls, name, clause):
        _, operator, value = clause[:3]
        values = {value} if isinstance(value, str) else set(value or [])
        if operator in {'!=', 'not in'}:
            values = {s for s, _ in OPERATION_STATUSES} - values
        paused = ('paused', '=', True)
        clauses = {
            'pending': [('state', 'in', ['request', 'draft'])],
            'in_progress': [('state', 'in', ['waiting', 'running']),
                [('state', '=', 'finished'), paused]],
            'completed': [('state', '=', 'done'),
                [('state', '=', 'finished'), ('paused', '!=', True)]],
            }
        return ['OR', ('id', '=', -1)] + [
            c for v in sorted(values) for c in clauses.get(v, [])]

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'resume': {
                    'invisible': (Bool(Eval('active_cycles', []))
                        | ~Eval('paused', False)),
                    'depends': ['active_cycles', 'paused'],
                    },
                'pause': {
                    'invisible': ~Bool(Eval('active_cycles', [])),
                    'depends': ['active_cycles'],
                    },
                'complete': {
                    'invisible': Eval('state').in_(['request', 'done']),
                    'depends': ['state'],
                    },
                })

    # Actions: buttons whose groups are in work.xml; an operation in the
    # wrong state is refused with OperationStateError (its guard) once the
    # user's right to press the button is checked

    def _refuse(self, code, message=None):
        if message is None:
            message = gettext(f'monitorbizz_manufacturing.msg_{code}',
                operation=self.rec_name)
        raise OperationStateError(message, code=code)

    @classmethod
    def check_start(cls, works, resume=False):
        for work in works:
            if work.production.state != 'running':
                work._refuse('invalid_state', gettext(
                        'monitorbizz_manufacturing'
                        '.msg_operation_work_order_not_running',
                        operation=work.rec_name,
                        status=work.production.work_order_status))
            if work.active_cycles:
                work._refuse('operation_running')
            if work.completed:
                work._refuse('operation_completed')
            if resume and not work.cycles:
                work._refuse('operation_not_started')

    @classmethod
    def check_resume(cls, works):
        cls.check_start(works, resume=True)

    @classmethod
    def check_pause(cls, works):
        for work in works:
            if not work.active_cycles:
                work._refuse('operation_not_running')

    @classmethod
    def check_complete(cls, works):
        for work in works:
            if not work.active_cycles and not work.cycles:
                work._refuse('operation_not_running')

    @classmethod
    @guarded_button('check_start')
    def start(cls, works, operator=None):
        """Start a work cycle of each operation now, run by operator (who
        becomes the operation's operator when it has none), else by the
        operation's operator or the user's employee. A machine runs one
        operation at a time and an operator one at a time."""
        cls._start_cycles(works, operator)

    @classmethod
    @guarded_button('check_resume')
    def resume(cls, works, operator=None):
        "Start another work cycle of each paused operation"
        cls._start_cycles(works, operator)

    @classmethod
    def _start_cycles(cls, works, operator=None):
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        Employee = pool.get('company.employee')
        if operator is not None and not isinstance(operator, Employee):
            operator = Employee(operator)
        if operator:
            cls.write([w for w in works if not w.operator],
                {'operator': operator.id})
        cycles = [Cycle(work=w, operator=operator) for w in works]
        Cycle.save(cycles)
        Cycle.run(cycles)

    @classmethod
    @guarded_button('check_pause')
    def pause(cls, works, quantity=None):
        """Stop the running cycles of the operations, to resume them later;
        they processed quantity (default none)"""
        cls._stop(works, quantity if quantity is not None else 0)
        cls.write(works, {'paused': True})

    @classmethod
    @guarded_button('check_complete')
    def complete(cls, works, quantity=None):
        """Stop the running cycles of the operations: they are completed,
        having processed quantity (default: what remains of the work
        order's)"""
        cls._stop(works, quantity)
        cls.write(works, {'paused': False})

    @classmethod
    def _stop(cls, works, quantity=None):
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        running = [c for w in works for c in w.cycles
            if c.state == 'running']
        if quantity is not None:
            for cycle in running:
                cycle.quantity = float(quantity)
            Cycle.save(running)
        Cycle.do(running)

    @classmethod
    def running_conflicts(cls, cycles):
        """Raise OperationConflictError when a cycle would run on a machine
        or by an operator already running another cycle"""
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        WorkCenter = pool.get('production.work.center')
        Employee = pool.get('company.employee')
        machines = {c.work.work_center for c in cycles if c.work.work_center}
        operators = {c.operator for c in cycles if c.operator}
        # Lock first: a second start waits for the first one to commit
        WorkCenter.lock(list(machines))
        Employee.lock(list(operators))
        WorkCenter.check_operation_allowed(list(machines))
        starting = {c.id for c in cycles}
        seen_machines, seen_operators = {}, {}
        for cycle in cycles:
            machine, operator = cycle.work.work_center, cycle.operator
            for key, seen in [(machine, seen_machines),
                    (operator, seen_operators)]:
                if key and key in seen:
                    cls._raise_conflict(cycle, seen[key], key)
                if key:
                    seen[key] = cycle
        cycle_table = Cycle.__table__()
        work = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = (cycle_table.state == 'running')
        match = None
        if machines:
            match = fields.SQL_OPERATORS['in'](
                work.work_center, [m.id for m in machines])
        if operators:
            by_operator = fields.SQL_OPERATORS['in'](
                Coalesce(cycle_table.operator, work.operator),
                [o.id for o in operators])
            match = by_operator if match is None else (match | by_operator)
        if match is None:
            return
        cursor.execute(*cycle_table.join(work,
                condition=cycle_table.work == work.id).select(
                cycle_table.id, where=where & match))
        running = [Cycle(i) for i, in cursor if i not in starting]
        for other in running:
            for cycle in cycles:
                if (cycle.work.work_center
                        and other.work.work_center == cycle.work.work_center):
                    cls._raise_conflict(cycle, other,
                        cycle.work.work_center)
                if cycle.operator and other.operator == cycle.operator:
                    cls._raise_conflict(cycle, other, cycle.operator)

    @classmethod
    def _raise_conflict(cls, cycle, other, resource):
        pool = Pool()
        WorkCenter = pool.get('production.work.center')
        message = ('monitorbizz_manufacturing.msg_machine_busy'
            if isinstance(resource, WorkCenter)
            else 'monitorbizz_manufacturing.msg_operator_busy')
        raise OperationConflictError(gettext(message,
                operation=cycle.work.rec_name,
                resource=resource.rec_name,
                running=other.work.rec_name),
            running=other.work)


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'
    hourly_cost = fields.Numeric("Hourly Cost", digits=price_digits,
        domain=['OR',
            ('hourly_cost', '=', None),
            ('hourly_cost', '>=', 0),
            ],
        help="Cost of an hour of the employee's time on operations: it "
        "joins the cost of the work orders.")


class WorkCycle(metaclass=PoolMeta):
    __name__ = 'production.work.cycle'
    start_time = fields.DateTime("Start",
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="When the cycle started running (now when empty).")
    end_time = fields.DateTime("End",
        domain=['OR',
            ('end_time', '=', None),
            ('end_time', '>=', Eval('start_time', None)),
            ],
        states={
            'readonly': Eval('state').in_(['done', 'cancelled']),
            },
        help="When the cycle stopped (now when empty).")
    operator = fields.Many2One('company.employee', "Operator",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="Who runs the cycle: the operator of the operation, else "
        "the employee who starts it.")
    quantity = fields.Float("Quantity Processed",
        domain=['OR',
            ('quantity', '=', None),
            ('quantity', '>=', 0),
            ],
        states={
            'readonly': Eval('state').in_(['done', 'cancelled']),
            },
        help="Units of the output processed in the cycle; when it is "
        "stopped empty, what remains of the work order's quantity.")
    machine = fields.Function(fields.Many2One(
            'production.work.center', "Machine"), 'get_machine')

    def get_machine(self, name):
        return self.work.work_center if self.work.work_center else None

    @classmethod
    def run(cls, cycles):
        pool = Pool()
        Work = pool.get('production.work')
        now = dt.datetime.now()
        employee = Transaction().context.get('employee')
        starting = [c for c in cycles if c.state == 'draft']
        for cycle in starting:
            if not cycle.start_time:
                cycle.start_time = now
            if not cycle.operator:
                cycle.operator = cycle.work.operator or employee
        cls.save(starting)
        with without_check_access():
            Work.running_conflicts(cls.browse(starting))
            # Resuming a paused operation
            Work.write([w for w in {c.work for c in cycles} if w.paused], {
                    'paused': False,
                    })
        super().run(cycles)

    @classmethod
    def do(cls, cycles):
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        now = dt.datetime.now()
        for cycle in (c for c in cycles if c.state == 'running'):
            if not cycle.end_time:
                cycle.end_time = max(now, cycle.start_time or now)
            if cycle.quantity is None:
                done = sum(c.quantity or 0 for c in cycle.work.cycles
                    if c.state == 'done' and c.id != cycle.id)
                cycle.quantity = max(
                    (cycle.work.production.quantity or 0) - done, 0)
        Cycle.save([c for c in cycles if c.state == 'running'])
        super().do(cycles)

    def set_duration(self, now):
        if self.duration is None and self.start_time and self.end_time:
            self.duration = self.end_time - self.start_time
        super().set_duration(now)


class Production(metaclass=PoolMeta):
    __name__ = 'production'

    @fields.depends('routing', 'work_center')
    def on_change_routing(self):
        try:
            super_on_change = super().on_change_routing
        except AttributeError:
            pass
        else:
            super_on_change()
        if self.routing and not self.work_center:
            # The machine of the first step that names one: Tryton picks
            # the machines of the other steps under it or by type
            for step in self.routing.steps:
                if step.work_center:
                    self.work_center = step.work_center
                    break
