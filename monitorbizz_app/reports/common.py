# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the reports share: Tryton's sale_reporting pattern (a read-only
ModelSQL on a table_query built by the _joins/_columns/_where/_group_by
hooks) and the Context of a period, a grouping and filters.

The Context is the whole interface of a report: the desk sets it from the
context form, an API endpoint maps `from`, `to`, `group_by` and its filters
onto the same keys (from_date, to_date, group_by, ...) and reads the model;
each report is one aggregate query per read."""
import datetime as dt
import re

from sql import Cast, Expression, Literal
from sql.conditionals import Case, Coalesce
from sql.functions import DateTrunc, Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction


class Inline(Expression):
    """A constant written into the query text rather than passed as a
    parameter: PostgreSQL matches a GROUP BY expression with the selected
    one by its text, and two parameters ($1, $2) of the same value differ.
    Only integers and lower-case words (the units of DATE_TRUNC)."""
    __slots__ = ('_value',)

    def __init__(self, value):
        super().__init__()
        if isinstance(value, bool) or not (isinstance(value, int)
                or (isinstance(value, str)
                    and re.fullmatch('[a-z]+', value))):
            raise ValueError(f"{value!r} cannot be inlined")
        self._value = value

    def __str__(self):
        if isinstance(self._value, int):
            return str(self._value)
        return f"'{self._value}'"

    @property
    def params(self):
        return ()


def truncate(unit, date):
    "The first day of the unit (day, week, month, quarter) of date"
    return Cast(DateTrunc(Inline(unit), date), 'DATE')


def to_numeric(expression):
    "expression as SQL NUMERIC"
    return Cast(expression, 'NUMERIC')


def numeric(expression, digits=4):
    "expression as SQL NUMERIC rounded (half up) to digits"
    return Round(to_numeric(expression), digits)


def money(expression, digits=2):
    """expression (NULL as 0) as an amount of digits decimals, so that
    nothing reads as 0 where the rest read 0.00"""
    return Round(to_numeric(Coalesce(expression, 0)), digits)


def percent(numerator, denominator, digits=2):
    "100 × numerator / denominator, NULL when the denominator is 0"
    return Round(Case((denominator == 0, None),
            else_=to_numeric(numerator) * 100
            / to_numeric(denominator)), digits)


def ratio(numerator, denominator, digits=4):
    "numerator / denominator, NULL when the denominator is 0"
    return Round(Case((denominator == 0, None),
            else_=to_numeric(numerator)
            / to_numeric(denominator)), digits)


class ReportMixin(ModelSQL):
    "A read-only report of the current business aggregated in SQL"
    __slots__ = ()
    company = fields.Many2One('company.company', "Business", readonly=True)
    # The Many2One fields of the groupings, naming a row
    KEYS = ()

    def get_rec_name(self, name):
        "The names of the row's keys (the grouping of the context)"
        names = []
        for key in self.KEYS:
            value = getattr(self, key, None)
            if value is not None:
                names.append(value.rec_name)
        return ' / '.join(names) or str(self.id)

    @classmethod
    def table_query(cls):
        from_item, tables = cls._joins()
        return from_item.select(*cls._columns(tables),
            where=cls._where(tables),
            group_by=cls._group_by(tables))

    @classmethod
    def _joins(cls):
        raise NotImplementedError

    @classmethod
    def _columns(cls, tables):
        raise NotImplementedError

    @classmethod
    def _where(cls, tables):
        return Literal(True)

    @classmethod
    def _group_by(cls, tables):
        return []

    @classmethod
    def _company(cls):
        "The business of the context (-1: none, nothing is shown)"
        company = Transaction().context.get('company')
        return company if company is not None else -1

    @classmethod
    def _group(cls):
        "The grouping of the context, one of the report's GROUPS"
        group_by = Transaction().context.get('group_by')
        groups = [g for g, _ in cls.GROUPS]
        return group_by if group_by in groups else groups[0]

    @classmethod
    def _period(cls):
        """(from date, to date) of the context: None when open, except for
        reports that need a closed period (_default_period)"""
        context = Transaction().context
        from_date, to_date = context.get('from_date'), context.get('to_date')
        return from_date, to_date

    @classmethod
    def _date_where(cls, column):
        from_date, to_date = cls._period()
        where = Literal(True)
        if from_date:
            where &= column >= from_date
        if to_date:
            where &= column <= to_date
        return where

    @classmethod
    def _context_ids(cls, name):
        "The ids of the context's filter name (an id or a list of ids)"
        value = Transaction().context.get(name)
        if value is None or value == []:
            return None
        if isinstance(value, int):
            return [value]
        return [int(v) for v in value]


class ContextMixin(ModelView):
    "The filters of a report: the business, a period, a grouping"
    __slots__ = ()
    company = fields.Many2One('company.company', "Business", required=True,
        readonly=True)
    from_date = fields.Date("From",
        domain=[
            If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ])
    to_date = fields.Date("To",
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ])

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_from_date(cls):
        context = Transaction().context
        if 'from_date' in context:
            return context['from_date']
        return cls._today().replace(day=1)

    @classmethod
    def default_to_date(cls):
        context = Transaction().context
        if 'to_date' in context:
            return context['to_date']
        return cls._today()

    @classmethod
    def default_group_by(cls):
        return Transaction().context.get('group_by') or cls.group_by.selection[
            0][0]

    @staticmethod
    def _today():
        Date = Pool().get('ir.date')
        return Date.today()


def period_or_month(from_date, to_date):
    "The period, this month to today when open"
    Date = Pool().get('ir.date')
    today = Date.today()
    to_date = to_date or today
    from_date = from_date or min(today, to_date).replace(day=1)
    return from_date, to_date


def weekday_counts(from_date, to_date):
    "{weekday index (Monday 0): number of such days in the period}"
    counts = dict.fromkeys(range(7), 0)
    days = (to_date - from_date).days + 1
    if days <= 0:
        return counts
    weeks, rest = divmod(days, 7)
    for index in range(7):
        counts[index] = weeks
    for n in range(rest):
        counts[(from_date + dt.timedelta(days=n)).weekday()] += 1
    return counts
