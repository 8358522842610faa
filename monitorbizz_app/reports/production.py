# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Production efficiency and material consumption of the work orders.

Production efficiency: the work orders completed (done) in the period, per
work order, product, machine or operator (the work order's assignee):
planned duration (the operations' planned minutes) against actual (the
time their work cycles ran, or start to completion for a work order without
operations, as machine utilization counts it), quantities planned /
produced / rejected (the done outputs of the product: into stock good, into
scrap rejected, as the work order shows them), yield % = good / (good +
rejected), scrap value = rejected × the unit cost of the good output, and
on-time completion % (done on or before the planned date).

Material consumption: the materials of the work orders running or done whose
date (done: completion, else planned) is in the period, per material,
product made or work order: planned (the BOM quantity with its wastage
allowance, scaled to the work order, as its consumption lines show it),
actual (done input moves), wastage (done input moves marked wastage),
wastage % = wastage / actual and the BOM's allowance %; the rows come worst
first (wastage % most above the allowance).

Indexes: done work orders by business and completion date (declared
here); the rest is read through Tryton's indexes of the Many2One columns
(stock_move.production_input / production_output, production_work
.production, production_work_cycle.work)."""
import datetime as dt

from sql import Cast, Literal, Null, Union
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Ceil, Round

from trytond.model import Index, ModelView, fields
from trytond.pool import Pool, PoolMeta
from monitorbizz_app.manufacturing.machine import (
    seconds_between)

from .common import (
    ContextMixin, ReportMixin, numeric, percent, to_numeric)

QUANTITY = (16, 4)
HOURS = (16, 2)


def _null_id():
    return Cast(Null, 'INTEGER')


def _in(column, ids):
    return fields.SQL_OPERATORS['in'](column, ids)


def _to_default_unit(quantity, unit, default_unit):
    "SQL of quantity in unit converted to default_unit (Uom.compute_qty)"
    return quantity * unit.factor / default_unit.factor


class Production(metaclass=PoolMeta):
    __name__ = 'production'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The work orders of a business completed in a period (production
        # efficiency)
        cls._sql_indexes.add(Index(t,
                (t.company, Index.Equality()),
                (t.effective_date, Index.Range()),
                where=t.state == 'done'))


class ProductionContext(ContextMixin):
    "Production Efficiency"
    __name__ = 'monitorbizz.report.production.context'
    group_by = fields.Selection([
            ('work_order', "Work Order"),
            ('product', "Product"),
            ('machine', "Machine"),
            ('operator', "Operator"),
            ], "Group By", required=True, sort=False)
    product = fields.Many2One('product.product', "Product")
    machine = fields.Many2One('production.work.center', "Machine")


class ProductionEfficiency(ReportMixin, ModelView):
    "Production Efficiency"
    __name__ = 'monitorbizz.report.production'
    KEYS = ('work_order', 'product', 'machine', 'operator')
    GROUPS = ProductionContext.group_by.selection
    work_order = fields.Many2One('production', "Work Order", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    machine = fields.Many2One(
        'production.work.center', "Machine", readonly=True)
    operator = fields.Many2One('company.employee', "Operator", readonly=True)
    work_orders = fields.Integer("Work Orders", readonly=True)
    planned_hours = fields.Numeric("Planned Hours", digits=HOURS,
        readonly=True)
    actual_hours = fields.Numeric("Actual Hours", digits=HOURS,
        readonly=True)
    quantity_planned = fields.Numeric("Planned", digits=QUANTITY,
        readonly=True)
    quantity_produced = fields.Numeric("Produced", digits=QUANTITY,
        readonly=True)
    quantity_rejected = fields.Numeric("Rejected", digits=QUANTITY,
        readonly=True)
    yield_percent = fields.Numeric("Yield %", digits=(5, 2), readonly=True,
        help="Good quantity over good plus rejected.")
    scrap_value = fields.Numeric("Scrap Value", digits=(16, 2),
        readonly=True,
        help="Rejected quantity at the unit cost of the good output.")
    on_time_percent = fields.Numeric("On Time %", digits=(5, 2),
        readonly=True,
        help="Work orders completed on or before their planned date.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('work_orders', 'DESC'), ('id', 'ASC')]

    @classmethod
    def _joins(cls):
        pool = Pool()
        Production = pool.get('production')
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        Work = pool.get('production.work')
        Cycle = pool.get('production.work.cycle')
        Uom = pool.get('product.uom')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        production = Production.__table__()
        move, location = Move.__table__(), Location.__table__()
        work, cycle = Work.__table__(), Cycle.__table__()
        unit, default_unit = Uom.__table__(), Uom.__table__()
        product, template = Product.__table__(), Template.__table__()
        company = cls._company()
        now = dt.datetime.now()

        # The done outputs of the product, per work order (as
        # production.output_quantities and the machine's quality)
        scrap = location.type == 'lost_found'
        outputs = move.join(location,
            condition=move.to_location == location.id).select(
            move.production_output.as_('production'),
            move.product.as_('product'),
            Sum(Case((scrap, 0), else_=move.internal_quantity)).as_('good'),
            Sum(Case((scrap, move.internal_quantity), else_=0)
                ).as_('rejected'),
            Sum(Case((scrap, 0),
                    else_=move.quantity * Coalesce(move.unit_price, 0))
                ).as_('cost'),
            where=(move.state == 'done') & (move.production_output != Null)
            & (move.company == company),
            group_by=[move.production_output, move.product])

        # Planned minutes of the operations and the seconds their cycles
        # ran (machine utilization's run time)
        works = work.select(
            work.production.as_('production'),
            Sum(Coalesce(work.planned_duration, 0)).as_('planned_minutes'),
            where=work.company == company,
            group_by=[work.production])
        cycle_end = Coalesce(cycle.end_time, now)
        cycles = cycle.join(work, condition=cycle.work == work.id).select(
            work.production.as_('production'),
            Sum(seconds_between(cycle_end, cycle.start_time)).as_('seconds'),
            where=cycle.state.in_(['running', 'done'])
            & (cycle.start_time != Null) & (work.company == company),
            group_by=[work.production])

        tables = {
            'production': production,
            'outputs': outputs,
            'works': works,
            'cycles': cycles,
            'unit': unit,
            'default_unit': default_unit,
            }
        from_item = (production
            .join(product, condition=production.product == product.id)
            .join(template, condition=product.template == template.id)
            .join(unit, condition=production.unit == unit.id)
            .join(default_unit,
                condition=template.default_uom == default_unit.id)
            .join(outputs, 'LEFT',
                condition=(outputs.production == production.id)
                & (outputs.product == production.product))
            .join(works, 'LEFT', condition=works.production == production.id)
            .join(cycles, 'LEFT',
                condition=cycles.production == production.id))
        return from_item, tables

    @classmethod
    def _keys(cls, tables):
        "{field name: SQL column} of the grouping"
        production = tables['production']
        return {
            'work_order': {
                'work_order': production.id,
                'product': production.product,
                'machine': production.work_center,
                'operator': production.assigned_to,
                },
            'product': {'product': production.product},
            'machine': {'machine': production.work_center},
            'operator': {'operator': production.assigned_to},
            }[cls._group()]

    @classmethod
    def _columns(cls, tables):
        production = tables['production']
        outputs, works = tables['outputs'], tables['works']
        cycles = tables['cycles']
        good = Coalesce(outputs.good, 0)
        rejected = Coalesce(outputs.rejected, 0)
        # A work order without operations ran from its start to completion
        whole = Case((works.production == Null,
                seconds_between(production.actual_end_time,
                    production.actual_start_time)),
            else_=Coalesce(cycles.seconds, 0))
        planned = _to_default_unit(production.quantity, tables['unit'],
            tables['default_unit'])
        scrap_value = Case((good > 0,
                to_numeric(Coalesce(outputs.cost, 0))
                * to_numeric(rejected)
                / to_numeric(good)),
            else_=0)
        on_time = Case((production.effective_date
                <= Coalesce(production.planned_date,
                    production.effective_date), 1), else_=0)
        keys = cls._keys(tables)
        columns = [
            Min(production.id).as_('id'),
            production.company.as_('company'),
            ]
        for name in ['work_order', 'product', 'machine', 'operator']:
            columns.append(keys.get(name, _null_id()).as_(name))
        columns += [
            Count(production.id).as_('work_orders'),
            numeric(Sum(Coalesce(works.planned_minutes, 0)) / 60, 2
                ).as_('planned_hours'),
            numeric(Sum(Coalesce(whole, 0)) / 3600, 2).as_('actual_hours'),
            numeric(Sum(planned)).as_('quantity_planned'),
            numeric(Sum(good)).as_('quantity_produced'),
            numeric(Sum(rejected)).as_('quantity_rejected'),
            percent(Sum(good), Sum(good + rejected)).as_('yield_percent'),
            Round(Sum(scrap_value), 2).as_('scrap_value'),
            percent(Sum(on_time), Count(production.id)
                ).as_('on_time_percent'),
            ]
        return columns

    @classmethod
    def _where(cls, tables):
        production = tables['production']
        where = ((production.company == cls._company())
            & (production.state == 'done')
            & cls._date_where(production.effective_date))
        products = cls._context_ids('product')
        if products:
            where &= _in(production.product, products)
        machines = cls._context_ids('machine')
        if machines:
            where &= _in(production.work_center, machines)
        return where

    @classmethod
    def _group_by(cls, tables):
        production = tables['production']
        return [production.company] + list(cls._keys(tables).values())


class ConsumptionContext(ContextMixin):
    "Material Consumption"
    __name__ = 'monitorbizz.report.material_consumption.context'
    group_by = fields.Selection([
            ('material', "Material"),
            ('product', "Product and Material"),
            ('work_order', "Work Order and Material"),
            ], "Group By", required=True, sort=False)
    material = fields.Many2One('product.product', "Material")
    product = fields.Many2One('product.product', "Product")


class MaterialConsumption(ReportMixin, ModelView):
    "Material Consumption"
    __name__ = 'monitorbizz.report.material_consumption'
    KEYS = ('work_order', 'product', 'material')
    GROUPS = ConsumptionContext.group_by.selection
    material = fields.Many2One('product.product', "Material", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    work_order = fields.Many2One('production', "Work Order", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    work_orders = fields.Integer("Work Orders", readonly=True)
    planned_quantity = fields.Numeric("Planned", digits=QUANTITY,
        readonly=True,
        help="The BOM's quantity with its wastage allowance.")
    actual_quantity = fields.Numeric("Actual", digits=QUANTITY,
        readonly=True, help="Used in the output.")
    wastage_quantity = fields.Numeric("Wastage", digits=QUANTITY,
        readonly=True)
    variance_quantity = fields.Numeric("Variance", digits=QUANTITY,
        readonly=True, help="Actual plus wastage minus planned.")
    wastage_percent = fields.Numeric("Wastage %", digits=(8, 2),
        readonly=True, help="Wastage over actual.")
    allowance_percent = fields.Numeric("Allowance %", digits=(8, 2),
        readonly=True, help="The BOM's wastage allowance.")
    excess_percent = fields.Numeric("Over Allowance %", digits=(8, 2),
        readonly=True, help="Wastage % minus the allowance.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('excess_percent', 'DESC NULLS LAST'),
            ('wastage_quantity', 'DESC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def _joins(cls):
        pool = Pool()
        Production = pool.get('production')
        Move = pool.get('stock.move')
        BOMInput = pool.get('production.bom.input')
        BOMOutput = pool.get('production.bom.output')
        Uom = pool.get('product.uom')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        company = cls._company()

        production = Production.__table__()
        # The work orders of the report
        date = Coalesce(production.effective_date, production.planned_date)
        where = ((production.company == company)
            & production.state.in_(['running', 'done'])
            & cls._date_where(date))
        products = cls._context_ids('product')
        if products:
            where &= _in(production.product, products)
        orders = production.select(production.id, production.product,
            production.bom, production.quantity, production.unit,
            production.company, where=where)

        # Planned: BOM input × (1 + wastage %), scaled as Tryton's
        # compute_factor / compute_quantity (ceiled to the unit's rounding),
        # in the material's default unit (consumption_lines)
        p = Production.__table__()
        input_, output = BOMInput.__table__(), BOMOutput.__table__()
        p_unit, o_unit = Uom.__table__(), Uom.__table__()
        i_unit, d_unit = Uom.__table__(), Uom.__table__()
        material, template = Product.__table__(), Template.__table__()
        factor = (_to_default_unit(p.quantity, p_unit, o_unit)
            / output.quantity)
        wastage = Literal(1) + Coalesce(input_.wastage_percent, 0) / 100
        rounding = to_numeric(i_unit.rounding)
        in_unit = (Ceil(to_numeric(
                    input_.quantity * factor) * wastage / rounding)
            * rounding)
        planned_bom = (p
            .join(output, condition=(output.bom == p.bom)
                & (output.product == p.product))
            .join(input_, condition=input_.bom == p.bom)
            .join(p_unit, condition=p.unit == p_unit.id)
            .join(o_unit, condition=output.unit == o_unit.id)
            .join(i_unit, condition=input_.unit == i_unit.id)
            .join(material, condition=input_.product == material.id)
            .join(template, condition=material.template == template.id)
            .join(d_unit, condition=template.default_uom == d_unit.id)
            .select(p.id.as_('production'),
                input_.product.as_('material'),
                to_numeric(
                    _to_default_unit(in_unit, i_unit, d_unit)
                    ).as_('planned'),
                Cast(Literal(0), 'NUMERIC').as_('actual'),
                Cast(Literal(0), 'NUMERIC').as_('wastage'),
                input_.wastage_percent.as_('allowance'),
                where=p.id.in_(orders.select(orders.id))))

        # Without a BOM: the planned (not wastage) input moves
        move = Move.__table__()
        p2 = Production.__table__()
        planned_moves = move.join(p2,
            condition=move.production_input == p2.id).select(
            p2.id.as_('production'),
            move.product.as_('material'),
            to_numeric(move.internal_quantity
                ).as_('planned'),
            Cast(Literal(0), 'NUMERIC').as_('actual'),
            Cast(Literal(0), 'NUMERIC').as_('wastage'),
            Cast(Null, 'NUMERIC').as_('allowance'),
            where=(p2.bom == Null) & (move.state != 'cancelled')
            & ~move.wastage
            & p2.id.in_(orders.select(orders.id)))

        # Actual and wastage: the done input moves
        move2 = Move.__table__()
        used = move2.select(
            move2.production_input.as_('production'),
            move2.product.as_('material'),
            Cast(Literal(0), 'NUMERIC').as_('planned'),
            to_numeric(Case((move2.wastage, 0),
                    else_=move2.internal_quantity)).as_('actual'),
            to_numeric(Case((move2.wastage,
                        move2.internal_quantity), else_=0)).as_('wastage'),
            Cast(Null, 'NUMERIC').as_('allowance'),
            where=(move2.state == 'done')
            & (move2.company == company)
            & move2.production_input.in_(orders.select(orders.id)))

        union = Union(planned_bom, planned_moves, used, all_=True)
        where = Literal(True)
        materials = cls._context_ids('material')
        if materials:
            where &= _in(union.material, materials)
        lines = union.select(union.production, union.material,
            Sum(union.planned).as_('planned'),
            Sum(union.actual).as_('actual'),
            Sum(union.wastage).as_('wastage'),
            Max(union.allowance).as_('allowance'),
            where=where,
            group_by=[union.production, union.material])

        production = Production.__table__()
        product, template = Product.__table__(), Template.__table__()
        from_item = (lines
            .join(production, condition=lines.production == production.id)
            .join(product, condition=lines.material == product.id)
            .join(template, condition=product.template == template.id))
        tables = {
            'line': lines,
            'production': production,
            'material.template': template,
            }
        return from_item, tables

    @classmethod
    def _keys(cls, tables):
        "{field name: SQL column} of the grouping, material always"
        line, production = tables['line'], tables['production']
        return {
            'material': {'material': line.material},
            'product': {
                'product': production.product,
                'material': line.material,
                },
            'work_order': {
                'work_order': production.id,
                'product': production.product,
                'material': line.material,
                },
            }[cls._group()]

    @classmethod
    def _columns(cls, tables):
        line = tables['line']
        production = tables['production']
        template = tables['material.template']
        keys = cls._keys(tables)
        group = cls._group()
        if group == 'material':
            id_ = line.material
        else:
            # Unique per (product or work order, material), the same on
            # every read
            id_ = (Cast(keys['work_order' if group == 'work_order'
                        else 'product'], 'BIGINT') * 2147483648
                + line.material)
        columns = [id_.as_('id'), production.company.as_('company')]
        for name in ['material', 'product', 'work_order']:
            columns.append(keys.get(name, _null_id()).as_(name))
        wastage_percent = percent(Sum(line.wastage), Sum(line.actual))
        # The BOM's allowance for the material
        allowance = Max(line.allowance)
        columns += [
            Min(template.default_uom).as_('unit'),
            Count(production.id, distinct=True).as_('work_orders'),
            numeric(Sum(line.planned)).as_('planned_quantity'),
            numeric(Sum(line.actual)).as_('actual_quantity'),
            numeric(Sum(line.wastage)).as_('wastage_quantity'),
            numeric(Sum(line.actual) + Sum(line.wastage)
                - Sum(line.planned)).as_('variance_quantity'),
            wastage_percent.as_('wastage_percent'),
            Round(allowance, 2).as_('allowance_percent'),
            Round(wastage_percent - Coalesce(allowance, 0), 2
                ).as_('excess_percent'),
            ]
        return columns

    @classmethod
    def _group_by(cls, tables):
        production = tables['production']
        return [production.company] + list(cls._keys(tables).values())
