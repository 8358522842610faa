# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Machines are Tryton's work centers (production.work.center) of a
business: numbered MCH-001 from the business's machine sequence, with make,
model, capacity (hours per day, working days), a location on the shop
floor, a status derived from running work cycles and open downtime, a
downtime log and utilization / OEE figures computed in SQL."""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce, Greatest, Least
from sql.functions import Extract

from trytond.i18n import gettext
from trytond.model import (
    Check, Index, ModelSQL, ModelView, Unique, fields)
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from ..business.workflow import guarded_button
from .exceptions import DowntimeEndError, DowntimeError

WEEKDAYS = [
    ('mon', "Monday"),
    ('tue', "Tuesday"),
    ('wed', "Wednesday"),
    ('thu', "Thursday"),
    ('fri', "Friday"),
    ('sat', "Saturday"),
    ('sun', "Sunday"),
    ]
STATUSES = [
    ('available', "Available"),
    ('running', "Running"),
    ('idle', "Idle"),
    ('maintenance', "Maintenance"),
    ('breakdown', "Breakdown"),
    ]
DOWNTIME_REASONS = [
    ('maintenance', "Maintenance"),
    ('breakdown', "Breakdown"),
    ('setup', "Set-up"),
    ('no_operator', "No Operator"),
    ('other', "Other"),
    ]
# Open downtime of these reasons is the machine's status; others make it idle
STATUS_REASONS = {'maintenance', 'breakdown'}
HOURS = Decimal('0.01')
RATIO = Decimal('0.0001')


def seconds_between(end, start):
    "SQL expression of the seconds from start to end (timestamps)"
    return Extract('EPOCH', end) - Extract('EPOCH', start)


def overlap_seconds(start, end, period_start, period_end):
    "SQL expression of the seconds [start, end] shares with the period"
    return Greatest(
        seconds_between(
            Least(end, period_end), Greatest(start, period_start)),
        Literal(0))


def to_hours(seconds):
    return (Decimal(str(seconds or 0)) / 3600).quantize(
        HOURS, rounding=ROUND_HALF_UP)


def ratio(numerator, denominator, cap=None):
    if not denominator:
        return None
    value = numerator / denominator
    if cap is not None:
        value = min(value, cap)
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


class WorkCenter(metaclass=PoolMeta):
    __name__ = 'production.work.center'
    code = fields.Char(
        "Code", strip=True,
        help="Empty: the next MCH-001... number of the business.")
    make = fields.Char("Make", help="Manufacturer of the machine.")
    machine_model = fields.Char("Model")
    location = fields.Char(
        "Location", help="Where the machine stands on the shop floor.")
    hours_per_day = fields.Numeric(
        "Hours per Day", digits=(2, 2), required=True,
        domain=[
            ('hours_per_day', '>', 0),
            ('hours_per_day', '<=', 24),
            ],
        help="Hours the machine can work on a working day.")
    working_days = fields.MultiSelection(
        WEEKDAYS, "Working Days", sort=False,
        help="The days of the week the machine works.")
    status = fields.Function(fields.Selection(STATUSES, "Status"),
        'get_status', searcher='search_status')
    running_work = fields.Function(fields.Many2One(
            'production.work', "Running Operation"), 'get_status')
    downtimes = fields.One2Many(
        'production.work.center.downtime', 'work_center', "Downtime Log",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_company_uniq', Unique(t, t.company, t.code),
                'monitorbizz_manufacturing.msg_machine_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.code, Index.Similarity())))
        cls.__rpc__['utilization'] = RPC(readonly=True, instantiate=0)

    @classmethod
    def default_hours_per_day(cls):
        return Decimal(8)

    @classmethod
    def default_working_days(cls):
        return ['mon', 'tue', 'wed', 'thu', 'fri', 'sat']

    @fields.depends('cost_price', 'cost_method')
    def on_change_cost_price(self):
        # Machines are costed by the hour unless told otherwise
        if self.cost_price is not None and not self.cost_method:
            self.cost_method = 'hour'

    def get_rec_name(self, name):
        if self.code:
            return f'[{self.code}] {self.name}'
        return super().get_rec_name(name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            super().search_rec_name(name, clause),
            ('code', operator, operand, *extra),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Company = pool.get('company.company')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('code'):
            company_id = values.get('company', cls.default_company())
            if company_id is not None:
                company = Company(company_id)
                if company.machine_sequence:
                    values['code'] = company.machine_sequence.get()
        return values

    @classmethod
    def _activity(cls, ids):
        """Return {machine id: (status, running work id)} of the machines
        that are not available, in two queries"""
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        Work = pool.get('production.work')
        Downtime = pool.get('production.work.center.downtime')
        cursor = Transaction().connection.cursor()
        cycle, work = Cycle.__table__(), Work.__table__()
        downtime = Downtime.__table__()
        running_where = cycle.state == 'running'
        downtime_where = downtime.end_time == Null
        if ids is not None:
            running_where &= fields.SQL_OPERATORS['in'](
                work.work_center, ids)
            downtime_where &= fields.SQL_OPERATORS['in'](
                downtime.work_center, ids)
        activity = {}
        cursor.execute(*downtime.select(
                downtime.work_center, downtime.reason,
                where=downtime_where))
        for machine_id, reason in cursor:
            status = reason if reason in STATUS_REASONS else 'idle'
            activity[machine_id] = (status, None)
        cursor.execute(*cycle.join(work,
                condition=cycle.work == work.id).select(
                work.work_center, work.id, where=running_where))
        for machine_id, work_id in cursor:
            status, _ = activity.get(machine_id, (None, None))
            if status not in STATUS_REASONS:
                status = 'running'
            activity[machine_id] = (status, work_id)
        return activity

    @classmethod
    def get_status(cls, machines, names):
        activity = cls._activity([m.id for m in machines])
        result = {n: {} for n in names}
        for machine in machines:
            status, work_id = activity.get(machine.id, ('available', None))
            if 'status' in result:
                result['status'][machine.id] = status
            if 'running_work' in result:
                result['running_work'][machine.id] = work_id
        return result

    @classmethod
    def search_status(cls, name, clause):
        _, operator, value = clause[:3]
        values = [value] if isinstance(value, str) else list(value or [])
        positive = operator in {'=', 'in'}
        if operator not in {'=', 'in', '!=', 'not in'}:
            values, positive = [], False
        activity = cls._activity(None)
        if 'available' in values:
            # available: none of the machines with activity of another kind
            others = [i for i, (s, _) in activity.items()
                if s not in values]
            return [('id', 'not in' if positive else 'in', others)]
        ids = [i for i, (s, _) in activity.items() if s in values]
        return [('id', 'in' if positive else 'not in', ids)]

    @classmethod
    def check_operation_allowed(cls, machines):
        "Raise when a machine is under maintenance or broken down"
        for machine in machines:
            if machine.status in STATUS_REASONS:
                raise DowntimeError(gettext(
                        'monitorbizz_manufacturing.msg_machine_down',
                        machine=machine.rec_name,
                        status=machine.status))

    # Utilization

    @classmethod
    def available_hours(cls, machine, start_date, end_date):
        "Hours of the working calendar between the dates (inclusive)"
        days = set(machine.working_days or [])
        keys = [k for k, _ in WEEKDAYS]
        count = sum(1
            for n in range((end_date - start_date).days + 1)
            if keys[(start_date + dt.timedelta(days=n)).weekday()] in days)
        return (machine.hours_per_day or 0) * count

    @classmethod
    def _quality_query(cls, production, where):
        """Query of the good and rejected quantities of the productions
        (in their unit): done ones count their output of the product into
        stock as good and into scrap as rejected; the others their
        planned quantity as good"""
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        move, location = Move.__table__(), Location.__table__()
        scrap = location.type == 'lost_found'
        outputs = move.join(location,
            condition=move.to_location == location.id).select(
            move.production_output.as_('production'),
            move.product.as_('product'),
            Sum(Case((scrap, 0), else_=move.quantity)).as_('good'),
            Sum(Case((scrap, move.quantity), else_=0)).as_('rejected'),
            where=(move.state == 'done') & (move.production_output != Null),
            group_by=[move.production_output, move.product])
        done = production.state == 'done'
        return production.join(outputs, 'LEFT',
            condition=(outputs.production == production.id)
            & (outputs.product == production.product)).select(
            Sum(Case((done, Coalesce(outputs.good, 0)),
                    else_=production.quantity)),
            Sum(Case((done, Coalesce(outputs.rejected, 0)), else_=0)),
            where=where)

    def is_used(self):
        "Whether routing steps, operations or other machines name it"
        pool = Pool()
        Work = pool.get('production.work')
        Step = pool.get('production.routing.step')
        with Transaction().set_context(active_test=False):
            return bool(Work.search([('work_center', '=', self.id)], limit=1)
                or Step.search([('work_center', '=', self.id)], limit=1)
                or self.__class__.search(
                    [('parent', '=', self.id)], limit=1))

    @classmethod
    def utilization(cls, machine, start_date, end_date):
        """Figures of the machine between the dates (inclusive), each
        computed by one SQL aggregation; see the API's description"""
        pool = Pool()
        Cycle = pool.get('production.work.cycle')
        Work = pool.get('production.work')
        Production = pool.get('production')
        Downtime = pool.get('production.work.center.downtime')
        cursor = Transaction().connection.cursor()
        period_start = dt.datetime.combine(start_date, dt.time())
        period_end = dt.datetime.combine(
            end_date + dt.timedelta(days=1), dt.time())
        now = min(dt.datetime.now(), period_end)
        cycle, work = Cycle.__table__(), Work.__table__()
        production = Production.__table__()
        downtime = Downtime.__table__()

        # Run time: work cycles on the machine, clipped to the period
        cycle_end = Coalesce(cycle.end_time, now)
        in_period = ((cycle.start_time < period_end)
            & (cycle_end > period_start)
            & cycle.state.in_(['running', 'done'])
            & (work.work_center == machine.id))
        cycles = cycle.join(work, condition=cycle.work == work.id)
        cursor.execute(*cycles.select(
                Sum(overlap_seconds(cycle.start_time, cycle_end,
                        period_start, period_end)),
                Sum(Coalesce(cycle.quantity, 0)
                    * Coalesce(work.minutes_per_unit, 0) * 60),
                where=in_period))
        run_seconds, ideal_seconds = cursor.fetchone()

        # Work orders on the machine without operations (no routing) run
        # on it from their start to their completion
        span_end = Coalesce(production.actual_end_time, now)
        operations = Work.__table__()
        whole = ((production.work_center == machine.id)
            & production.state.in_(['running', 'done'])
            & (production.actual_start_time != Null)
            & ~production.id.in_(operations.select(operations.production))
            & (production.actual_start_time < period_end)
            & (span_end > period_start))
        cursor.execute(*production.select(
                Sum(overlap_seconds(production.actual_start_time, span_end,
                        period_start, period_end)),
                where=whole))
        whole_seconds, = cursor.fetchone()
        run_seconds = (run_seconds or 0) + (whole_seconds or 0)

        # Downtime entries overlapping the period
        downtime_end = Coalesce(downtime.end_time, now)
        cursor.execute(*downtime.select(
                Sum(overlap_seconds(downtime.start_time, downtime_end,
                        period_start, period_end)),
                where=(downtime.work_center == machine.id)
                & (downtime.start_time < period_end)
                & (downtime_end > period_start)))
        downtime_seconds, = cursor.fetchone()

        # Planned: operations on the machine of productions planned to
        # start in the period
        planned_start = Coalesce(
            production.planned_start_date, production.planned_date)
        cursor.execute(*work.join(production,
                condition=work.production == production.id).select(
                Sum(Coalesce(work.planned_duration, 0)),
                where=(work.work_center == machine.id)
                & (production.state != 'cancelled')
                & (planned_start >= start_date)
                & (planned_start <= end_date)))
        planned_minutes, = cursor.fetchone()

        # Quality of the productions whose operations ran in the period
        ran = cycles.select(work.production, where=in_period)
        cursor.execute(*cls._quality_query(
                production, production.id.in_(ran) | whole))
        good_quantity, rejected_quantity = cursor.fetchone()

        available = Decimal(
            cls.available_hours(machine, start_date, end_date)).quantize(
            HOURS)
        run = to_hours(run_seconds)
        down = to_hours(downtime_seconds)
        ideal = to_hours(ideal_seconds)
        planned = (Decimal(str(planned_minutes or 0)) / 60).quantize(
            HOURS, rounding=ROUND_HALF_UP)
        good_quantity = Decimal(str(good_quantity or 0))
        rejected_quantity = Decimal(str(rejected_quantity or 0))
        availability = ratio(run, run + down)
        performance = ratio(ideal, run, cap=Decimal(1))
        quality = ratio(good_quantity, good_quantity + rejected_quantity)
        oee = None
        if None not in {availability, performance, quality}:
            oee = (availability * performance * quality).quantize(RATIO)
        utilization = ratio(run, available)
        return {
            'from': start_date,
            'to': end_date,
            'available_hours': available,
            'planned_hours': planned,
            'run_hours': run,
            'downtime_hours': down,
            'ideal_hours': ideal,
            'utilization_pct': (utilization * 100).quantize(HOURS)
            if utilization is not None else None,
            'good_quantity': good_quantity,
            'rejected_quantity': rejected_quantity,
            'availability': availability,
            'performance': performance,
            'quality': quality,
            'oee': oee,
            }


class Downtime(ModelSQL, ModelView):
    "A period a machine could not run: maintenance, breakdown, set-up..."
    __name__ = 'production.work.center.downtime'
    _rec_name = 'description'
    company = fields.Many2One(
        'company.company', "Business", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    work_center = fields.Many2One(
        'production.work.center', "Machine", required=True,
        ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('id', -1) >= 0})
    reason = fields.Selection(DOWNTIME_REASONS, "Reason", required=True,
        states={'readonly': Bool(Eval('end_time'))})
    description = fields.Text("Description")
    start_time = fields.DateTime("Start", required=True,
        states={'readonly': Bool(Eval('end_time'))})
    end_time = fields.DateTime("End",
        domain=['OR',
            ('end_time', '=', None),
            ('end_time', '>=', Eval('start_time', None)),
            ])
    duration = fields.Function(
        fields.TimeDelta("Duration"), 'get_duration')
    state = fields.Function(fields.Selection([
                ('open', "Open"),
                ('closed', "Closed"),
                ], "State"), 'get_state', searcher='search_state')
    started_by = employee_field("Started By")
    ended_by = employee_field("Ended By")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._order = [('start_time', 'DESC'), ('id', 'DESC')]
        cls._sql_constraints += [
            ('end_after_start', Check(t,
                    (t.end_time == Null) | (t.end_time >= t.start_time)),
                'monitorbizz_manufacturing.msg_downtime_end_before_start'),
            ]
        cls._sql_indexes.add(Index(t,
                (t.work_center, Index.Range()),
                where=t.end_time == Null))
        cls._buttons.update({
                'end': {
                    'invisible': Bool(Eval('end_time')),
                    'depends': ['end_time'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_start_time(cls):
        return dt.datetime.now()

    @classmethod
    def default_started_by(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_reason(cls):
        return 'breakdown'

    def get_rec_name(self, name):
        reasons = dict(self.__class__.fields_get(['reason'])['reason'][
                'selection'])
        return f'{reasons.get(self.reason, self.reason)} @ ' \
            f'{self.work_center.rec_name}'

    def get_duration(self, name):
        end = self.end_time or dt.datetime.now()
        if self.start_time:
            return end - self.start_time

    def get_state(self, name):
        return 'closed' if self.end_time else 'open'

    @classmethod
    def search_state(cls, name, clause):
        _, operator, value = clause[:3]
        values = [value] if isinstance(value, str) else list(value or [])
        if operator in {'!=', 'not in'}:
            values = {'open', 'closed'} - set(values)
        domain = ['OR']
        if 'open' in values:
            domain.append(('end_time', '=', None))
        if 'closed' in values:
            domain.append(('end_time', '!=', None))
        return domain

    @classmethod
    def _check_one_open(cls, downtimes):
        """Refuse a second open downtime on a machine, the machine locked so
        that two simultaneous starts do not both pass"""
        pool = Pool()
        WorkCenter = pool.get('production.work.center')
        machines = {d.work_center for d in downtimes if not d.end_time}
        if not machines:
            return
        WorkCenter.lock(list(machines))
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.work_center, Count(table.id),
                where=fields.SQL_OPERATORS['in'](table.work_center,
                    [m.id for m in machines]) & (table.end_time == Null),
                group_by=table.work_center,
                having=Count(table.id) > 1))
        row = cursor.fetchone()
        if row:
            machine = WorkCenter(row[0])
            open_, = cls.search([
                    ('work_center', '=', machine.id),
                    ('end_time', '=', None),
                    ], order=[('id', 'ASC')], limit=1)
            raise DowntimeError(gettext(
                    'monitorbizz_manufacturing.msg_downtime_open',
                    machine=machine.rec_name,
                    downtime=open_.rec_name,
                    start=open_.start_time))

    @classmethod
    def on_modification(cls, mode, downtimes, field_names=None):
        super().on_modification(mode, downtimes, field_names=field_names)
        if mode in {'create', 'write'}:
            with without_check_access():
                cls._check_one_open(cls.browse(downtimes))

    @classmethod
    def check_end(cls, downtimes):
        for downtime in downtimes:
            if downtime.end_time:
                raise DowntimeError(gettext(
                        'monitorbizz_manufacturing.msg_downtime_closed',
                        downtime=downtime.rec_name), code='downtime_closed')

    @classmethod
    @guarded_button('check_end')
    @set_employee('ended_by')
    def end(cls, downtimes, end_time=None):
        """End the open downtimes at end_time (default: now, or their start
        when it is later)"""
        now = dt.datetime.now()
        for downtime in downtimes:
            if end_time is not None and end_time < downtime.start_time:
                raise DowntimeEndError(gettext(
                        'monitorbizz_manufacturing'
                        '.msg_downtime_end_before_start'))
            downtime.end_time = end_time or max(now, downtime.start_time)
        cls.save(downtimes)
