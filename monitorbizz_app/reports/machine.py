# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Machine utilization of the whole shop: every machine of the business over
a period (this month to today when open), in one query.

The figures are those of the machine's own utilization
(production.work.center.utilization in monitorbizz_manufacturing), with
the same definitions: available hours of the working calendar, planned
hours of the operations of work orders planned to start in the period, run
hours of the work cycles (and of work orders without operations from start
to completion) clipped to the period, downtime hours clipped to the period
(here also by reason), ideal hours (quantity × minutes per unit), the good
and rejected quantities of the work orders that ran, hours rounded to
0.01 before the ratios: utilization % = run / available, availability =
run / (run + downtime), performance = ideal / run (at most 1), quality =
good / (good + rejected), OEE = their product."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce, Least
from sql.functions import Round
from sql.operators import Like

from trytond.model import ModelView, fields
from trytond.pool import Pool

from monitorbizz_app.manufacturing.machine import (
    DOWNTIME_REASONS, WEEKDAYS, overlap_seconds)

from .common import (
    ContextMixin, ReportMixin, period_or_month, ratio, to_numeric,
    weekday_counts)

HOURS = (16, 2)
RATIO = (5, 4)


def _hours(seconds):
    "Seconds as hours rounded half up to 0.01, as the machine's to_hours"
    return Round(to_numeric(Coalesce(seconds, 0)) / 3600, 2)


class UtilizationContext(ContextMixin):
    "Machine Utilization"
    __name__ = 'monitorbizz.report.machine_utilization.context'
    group_by = fields.Selection([
            ('machine', "Machine"),
            ], "Group By", required=True)
    machine = fields.Many2One('production.work.center', "Machine")


class MachineUtilization(ReportMixin, ModelView):
    "Machine Utilization"
    __name__ = 'monitorbizz.report.machine_utilization'
    KEYS = ('machine',)
    GROUPS = UtilizationContext.group_by.selection
    machine = fields.Many2One(
        'production.work.center', "Machine", readonly=True)
    available_hours = fields.Numeric("Available Hours", digits=HOURS,
        readonly=True)
    planned_hours = fields.Numeric("Planned Hours", digits=HOURS,
        readonly=True)
    run_hours = fields.Numeric("Run Hours", digits=HOURS, readonly=True)
    downtime_hours = fields.Numeric("Downtime Hours", digits=HOURS,
        readonly=True)
    # One per reason of DOWNTIME_REASONS
    downtime_maintenance_hours = fields.Numeric("Maintenance Hours",
        digits=HOURS, readonly=True)
    downtime_breakdown_hours = fields.Numeric("Breakdown Hours",
        digits=HOURS, readonly=True)
    downtime_setup_hours = fields.Numeric("Set-up Hours",
        digits=HOURS, readonly=True)
    downtime_no_operator_hours = fields.Numeric("No Operator Hours",
        digits=HOURS, readonly=True)
    downtime_other_hours = fields.Numeric("Other Downtime Hours",
        digits=HOURS, readonly=True)
    ideal_hours = fields.Numeric("Ideal Hours", digits=HOURS, readonly=True)
    utilization_percent = fields.Numeric("Utilization %", digits=(8, 2),
        readonly=True)
    good_quantity = fields.Numeric("Good", digits=(16, 4), readonly=True)
    rejected_quantity = fields.Numeric("Rejected", digits=(16, 4),
        readonly=True)
    availability = fields.Numeric("Availability", digits=RATIO,
        readonly=True)
    performance = fields.Numeric("Performance", digits=RATIO, readonly=True)
    quality = fields.Numeric("Quality", digits=RATIO, readonly=True)
    oee = fields.Numeric("OEE", digits=RATIO, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('machine', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _joins(cls):
        pool = Pool()
        WorkCenter = pool.get('production.work.center')
        Cycle = pool.get('production.work.cycle')
        Work = pool.get('production.work')
        Production = pool.get('production')
        Downtime = pool.get('production.work.center.downtime')
        company = cls._company()
        start_date, end_date = period_or_month(*cls._period())
        period_start = dt.datetime.combine(start_date, dt.time())
        period_end = dt.datetime.combine(
            end_date + dt.timedelta(days=1), dt.time())
        now = min(dt.datetime.now(), period_end)
        machine = WorkCenter.__table__()

        # Run time: work cycles on the machine clipped to the period, and
        # their ideal time
        cycle, work = Cycle.__table__(), Work.__table__()
        cycle_end = Coalesce(cycle.end_time, now)
        in_period = ((cycle.start_time < period_end)
            & (cycle_end > period_start)
            & cycle.state.in_(['running', 'done'])
            & (work.company == company))
        cycles = cycle.join(work, condition=cycle.work == work.id)
        runs = cycles.select(
            work.work_center.as_('machine'),
            Sum(overlap_seconds(cycle.start_time, cycle_end,
                    period_start, period_end)).as_('seconds'),
            Sum(Coalesce(cycle.quantity, 0)
                * Coalesce(work.minutes_per_unit, 0) * 60).as_('ideal'),
            where=in_period,
            group_by=[work.work_center])

        # Work orders without operations run on their machine from start
        # to completion
        production, operations = Production.__table__(), Work.__table__()
        span_end = Coalesce(production.actual_end_time, now)
        whole = ((production.company == company)
            & production.state.in_(['running', 'done'])
            & (production.actual_start_time != Null)
            & ~production.id.in_(operations.select(operations.production))
            & (production.actual_start_time < period_end)
            & (span_end > period_start))
        spans = production.select(
            production.work_center.as_('machine'),
            Sum(overlap_seconds(production.actual_start_time, span_end,
                    period_start, period_end)).as_('seconds'),
            where=whole & (production.work_center != Null),
            group_by=[production.work_center])

        # Downtime overlapping the period, in all and by reason
        downtime = Downtime.__table__()
        downtime_end = Coalesce(downtime.end_time, now)
        overlap = overlap_seconds(downtime.start_time, downtime_end,
            period_start, period_end)
        downtimes = downtime.select(
            downtime.work_center.as_('machine'),
            Sum(overlap).as_('seconds'),
            *[Sum(Case((downtime.reason == reason, overlap), else_=0)
                    ).as_(reason)
                for reason, _ in DOWNTIME_REASONS],
            where=(downtime.company == company)
            & (downtime.start_time < period_end)
            & (downtime_end > period_start),
            group_by=[downtime.work_center])

        # Planned: operations of work orders planned to start in the period
        planned_work, planned_production = Work.__table__(), \
            Production.__table__()
        planned_start = Coalesce(planned_production.planned_start_date,
            planned_production.planned_date)
        plans = planned_work.join(planned_production,
            condition=planned_work.production == planned_production.id
            ).select(
            planned_work.work_center.as_('machine'),
            Sum(Coalesce(planned_work.planned_duration, 0)).as_('minutes'),
            where=(planned_production.company == company)
            & (planned_production.state != 'cancelled')
            & (planned_start >= start_date)
            & (planned_start <= end_date),
            group_by=[planned_work.work_center])

        # Quality of the work orders that ran on the machine in the period:
        # done ones their output of the product (good into stock, rejected
        # into scrap), the others their planned quantity as good
        quality = cls._quality(company, in_period, cycles, work, whole,
            production)

        tables = {
            'machine': machine,
            'runs': runs,
            'spans': spans,
            'downtimes': downtimes,
            'plans': plans,
            'quality': quality,
            'period': (start_date, end_date),
            }
        from_item = (machine
            .join(runs, 'LEFT', condition=runs.machine == machine.id)
            .join(spans, 'LEFT', condition=spans.machine == machine.id)
            .join(downtimes, 'LEFT',
                condition=downtimes.machine == machine.id)
            .join(plans, 'LEFT', condition=plans.machine == machine.id)
            .join(quality, 'LEFT', condition=quality.machine == machine.id))
        return from_item, tables

    @classmethod
    def _quality(cls, company, in_period, cycles, work, whole, production):
        """Query of the good and rejected quantities per machine: the
        machine's own quality query (WorkCenter._quality_query) over the
        (machine, work order) pairs that ran, grouped by machine"""
        pool = Pool()
        WorkCenter = pool.get('production.work.center')
        Production = pool.get('production')
        ran = cycles.select(work.work_center.as_('machine'),
            work.production.as_('production'), where=in_period)
        ran = ran | production.select(production.work_center.as_('machine'),
            production.id.as_('production'), where=whole)
        order = Production.__table__()
        # Shaped as the production table the query reads, with the machine
        orders = ran.join(order, condition=ran.production == order.id
            ).select(order.id.as_('id'), order.state.as_('state'),
                order.quantity.as_('quantity'),
                order.product.as_('product'), ran.machine.as_('machine'),
                where=order.company == company)
        query = WorkCenter._quality_query(orders, Literal(True))
        good, rejected = query.columns
        query.columns = [orders.machine.as_('machine'), good.as_('good'),
            rejected.as_('rejected')]
        query.group_by = [orders.machine]
        return query

    @classmethod
    def _available(cls, tables):
        "Hours per day × working days of the machine in the period"
        machine = tables['machine']
        counts = weekday_counts(*tables['period'])
        days = Literal(0)
        for index, (key, _) in enumerate(WEEKDAYS):
            if counts[index]:
                # A JSON list of the day keys (jsonb on PostgreSQL)
                days += Case((Like(Cast(machine.working_days, 'VARCHAR'),
                            f'%"{key}"%'),
                        counts[index]), else_=0)
        return to_numeric(
            Coalesce(machine.hours_per_day, 0) * days)

    @classmethod
    def _columns(cls, tables):
        machine = tables['machine']
        runs, spans = tables['runs'], tables['spans']
        downtimes, plans = tables['downtimes'], tables['plans']
        quality = tables['quality']
        available = Round(cls._available(tables), 2)
        run = _hours(Coalesce(runs.seconds, 0) + Coalesce(spans.seconds, 0))
        down = _hours(downtimes.seconds)
        ideal = _hours(runs.ideal)
        planned = Round(to_numeric(
                Coalesce(plans.minutes, 0)) / 60, 2)
        good = to_numeric(Coalesce(quality.good, 0))
        rejected = to_numeric(Coalesce(quality.rejected, 0))
        availability = ratio(run, run + down)
        # LEAST ignores NULL: none without run time, as the machine's
        performance = Case((run == 0, Null), else_=Least(ratio(ideal, run), 1))
        quality_ratio = ratio(good, good + rejected)
        utilization = ratio(run, available)
        return [
            machine.id.as_('id'),
            machine.company.as_('company'),
            machine.id.as_('machine'),
            available.as_('available_hours'),
            planned.as_('planned_hours'),
            run.as_('run_hours'),
            down.as_('downtime_hours'),
            *[_hours(getattr(downtimes, reason)).as_(
                    f'downtime_{reason}_hours')
                for reason, _ in DOWNTIME_REASONS],
            ideal.as_('ideal_hours'),
            Round(utilization * 100, 2).as_('utilization_percent'),
            good.as_('good_quantity'),
            rejected.as_('rejected_quantity'),
            availability.as_('availability'),
            performance.as_('performance'),
            quality_ratio.as_('quality'),
            Round(availability * performance * quality_ratio, 4).as_('oee'),
            ]

    @classmethod
    def _where(cls, tables):
        machine = tables['machine']
        where = machine.company == cls._company()
        machines = cls._context_ids('machine')
        if machines:
            where &= fields.SQL_OPERATORS['in'](machine.id, machines)
        return where
