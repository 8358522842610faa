# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/reports/<name>: the reports of monitorbizz_reports (issue 19).

Each endpoint maps its query parameters onto the report's Context (from →
from_date, to → to_date, group_by, and the report's own filters) and reads
the report model as the caller with search_read: one aggregate query of
the current business (its record rules), readable by the roles the model's
access gives (the sales role gets 403 on profitability, as in the desk).
The rows are paged (limit, offset), or the whole report (at most
EXPORT_MAX rows) downloaded with ?format=csv or ?format=xlsx.

The fields of the answers and the filters are those of the report models
and their contexts, read from their classes: a field added to a report is
in the API and its document without more."""
import csv
import datetime as dt
import io
from decimal import Decimal

import xlsxwriter

from trytond.model import fields as tfields
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction

from ..reports import machine, payment, production, profit, sales, stock
from . import schema as schema_
from .framework import ApiError, endpoint

EXPORT_MAX = 10000
# The dates a report is read at (a period's end plus a day stays a date)
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(9998, 12, 31)
# Fields of every ModelSQL that are not figures of a report
_HIDDEN = {'id', 'company', 'create_uid', 'create_date', 'write_uid',
    'write_date', 'rec_name', 'last_modified_at', 'xml_id'}
_FORMATS = {
    'csv': 'text/csv; charset=utf-8',
    'xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    }
REF = {
    'type': ['object', 'null'],
    'required': ['id', 'name'],
    'additionalProperties': False,
    'properties': {
        'id': {'type': 'integer'},
        'name': {'type': ['string', 'null']},
        },
    }


def _field_schema(field):
    "The schema of a report field's value"
    if isinstance(field, tfields.Many2One):
        return REF
    if isinstance(field, tfields.Numeric):
        return {'type': ['string', 'null'], 'format': 'decimal'}
    if isinstance(field, tfields.Integer):
        return {'type': ['integer', 'null']}
    if isinstance(field, tfields.Date):
        return {'type': ['string', 'null'], 'format': 'date'}
    if isinstance(field, tfields.Boolean):
        return {'type': ['boolean', 'null']}
    return {'type': ['string', 'null']}


def _class_fields(cls):
    "{name: field} of the fields declared on a model class (and its bases)"
    return {name: getattr(cls, name) for name in sorted(dir(cls))
        if isinstance(getattr(cls, name, None), tfields.Field)}


class Report:
    """A report of the API: path name, the report model's class and its
    context's class (their fields give the answer and the filters)"""

    def __init__(self, name, model_class, context_class, summary):
        self.name = name
        self.model = model_class.__name__
        self.context_model = context_class.__name__
        self.summary = summary
        self.fields = {n: f for n, f in _class_fields(model_class).items()
            if n not in _HIDDEN and not isinstance(f, tfields.Function)}
        self.groups = [g for g, _ in context_class.group_by.selection]
        # Filters: the context's own fields but the business and the period
        self.filters = {}
        for name, field in _class_fields(context_class).items():
            if name in {'id', 'company', 'from_date', 'to_date', 'group_by'}:
                continue
            if isinstance(field, tfields.Many2One):
                self.filters[name] = {**schema_.ID,
                    'description': f"Only the rows of this {field.string} "
                    "(its id)"}
            elif isinstance(field, tfields.Integer):
                self.filters[name] = {'type': 'integer', 'minimum': 0,
                    'maximum': 36500, 'description': field.string}
            elif isinstance(field, tfields.Boolean):
                self.filters[name] = {'type': 'boolean',
                    'description': field.help or field.string}

    @property
    def query(self):
        return {
            'from': {'type': 'string', 'format': 'date',
                'description': "First day of the period (from_date of the "
                "report's context)"},
            'to': {'type': 'string', 'format': 'date',
                'description': "Last day of the period, included (to_date; "
                "the date of positions such as stock or ageing)"},
            'group_by': {'type': 'string', 'enum': self.groups,
                'description': "Rows per (default: the first)"},
            **self.filters,
            'limit': {'type': 'integer', 'minimum': 1, 'maximum': 1000,
                'default': 100, 'description': "Page size (JSON)"},
            'offset': {'type': 'integer', 'minimum': 0,
                'maximum': schema_.MAX_ID, 'default': 0,
                'description': "Number of rows to skip (JSON)"},
            'format': {'type': 'string', 'enum': ['json', *_FORMATS],
                'default': 'json', 'description': "json (a page), or the "
                f"whole report (at most {EXPORT_MAX} rows) as csv or xlsx"},
            }

    @property
    def response(self):
        item = schema_.record({n: _field_schema(f)
                for n, f in self.fields.items()} | {'id': {'type': 'integer'}})
        return schema_.define(
            'Report' + ''.join(p.title() for p in self.name.split('-')),
            schema_.record({
                    'report': {'type': 'string'},
                    'from': {'type': ['string', 'null'], 'format': 'date'},
                    'to': {'type': ['string', 'null'], 'format': 'date'},
                    'group_by': {'type': 'string'},
                    'items': {'type': 'array', 'items': item},
                    'total': {'type': 'integer', 'minimum': 0},
                    'limit': {'type': 'integer', 'minimum': 1},
                    'offset': {'type': 'integer', 'minimum': 0},
                    }))

    def context(self, query):
        "The report's context of the query parameters"
        context = {
            'from_date': query.get('from'),
            'to_date': query.get('to'),
            'group_by': query.get('group_by') or self.groups[0],
            }
        for key, name in [('from_date', 'from'), ('to_date', 'to')]:
            date = context[key]
            if date and not (DATE_MIN <= date <= DATE_MAX):
                raise ApiError(422, 'validation_error',
                    f"{name} is out of range.", {name:
                        f"must be between {DATE_MIN} and {DATE_MAX}"})
        if (context['from_date'] and context['to_date']
                and context['from_date'] > context['to_date']):
            raise ApiError(422, 'validation_error', "from is after to.",
                {'from': "must not be after to"})
        for name in self.filters:
            if name in query:
                context[name] = query[name]
        return context

    def read(self, call):
        Model = Pool().get(self.model)
        query = call.query
        names = list(self.fields)
        read = ['id'] + names + [f'{n}.rec_name' for n, f in
            self.fields.items() if isinstance(f, tfields.Many2One)]
        context = self.context(query)
        export = query.get('format', 'json') != 'json'
        with Transaction().set_context(**context):
            if export:
                total = None
                rows = Model.search_read([], limit=EXPORT_MAX,
                    fields_names=read)
            else:
                total = Model.search_count([])
                rows = Model.search_read([], offset=query.get('offset', 0),
                    limit=query.get('limit', 100), fields_names=read)
        items = [self._item(row) for row in rows]
        if export:
            return self._download(query['format'], names, items, context)
        return {
            'report': self.name,
            'from': context['from_date'],
            'to': context['to_date'],
            'group_by': context['group_by'],
            'items': items,
            'total': total,
            'limit': query.get('limit', 100),
            'offset': query.get('offset', 0),
            }

    def _item(self, row):
        item = {'id': row['id']}
        for name, field in self.fields.items():
            value = row.get(name)
            if isinstance(field, tfields.Many2One):
                value = ({'id': value,
                        'name': (row.get(f'{name}.') or {}).get('rec_name')}
                    if value is not None else None)
            item[name] = value
        return item

    def _download(self, format_, names, items, context):
        def cell(value):
            if isinstance(value, dict):
                return value['name']
            return value
        table = [[cell(item[n]) for n in names] for item in items]
        period = '_'.join(d.isoformat() for d in [
                context['from_date'], context['to_date']] if d)
        filename = f"{self.name}{'_' + period if period else ''}.{format_}"
        if format_ == 'csv':
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(names)
            for row in table:
                writer.writerow(['' if v is None else
                        format(v, 'f') if isinstance(v, Decimal) else v
                        for v in row])
            content = out.getvalue().encode('utf-8')
        else:
            content = _xlsx(self.name, names, table)
        return Response(content, content_type=_FORMATS[format_], headers={
                'Content-Disposition': f'attachment; filename="{filename}"',
                'Cache-Control': 'no-store'})


def _xlsx(title, names, table):
    "The rows as an XLSX workbook: numbers as numbers, dates as dates"
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {'in_memory': True})
    sheet = workbook.add_worksheet(title[:31])
    bold = workbook.add_format({'bold': True})
    date_format = workbook.add_format({'num_format': 'yyyy-mm-dd'})
    sheet.write_row(0, 0, names, bold)
    for r, row in enumerate(table, 1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, Decimal):
                # the exact figure is the CSV's; a spreadsheet computes in
                # binary floats anyway
                sheet.write_number(r, c, float(value))
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c,
                    dt.datetime.combine(value, dt.time()), date_format)
            else:
                sheet.write(r, c, value)
    workbook.close()
    return out.getvalue()


REPORTS = [
    Report('sales-summary', sales.SalesSummary, sales.SalesSummaryContext,
        "Quotations, conversion, orders, invoiced value and GST per period, "
        "customer or product"),
    Report('production-efficiency', production.ProductionEfficiency,
        production.ProductionContext,
        "Planned vs actual hours and quantities, yield, scrap and on-time "
        "completion per work order, product, machine or operator"),
    Report('inventory-valuation', stock.InventoryValuation,
        stock.ValuationContext,
        "Quantity, unit cost and value of the stock at a date (to) per "
        "item, category or location; slow-moving items"),
    Report('customer-payments', payment.CustomerPayments,
        payment.CustomerPaymentsContext,
        "Receivables ageing at a date (to), average days to pay and the "
        "payment methods mix per customer or month"),
    Report('profitability', profit.Profitability,
        profit.ProfitabilityContext,
        "Invoiced revenue, cost of what was sold, gross margin, expenses "
        "by category and net profit per product, customer or period"),
    Report('material-consumption', production.MaterialConsumption,
        production.ConsumptionContext,
        "Planned vs actual consumption and wastage of materials, the worst "
        "offenders first"),
    Report('machine-utilization', machine.MachineUtilization,
        machine.UtilizationContext,
        "Available, planned, run and downtime hours, utilization and OEE "
        "of every machine over a period"),
    ]


def _declare(report):
    def handler(call):
        return report.read(call)
    handler.__name__ = 'report_' + report.name.replace('-', '_')
    handler.__doc__ = (f"{report.summary}. The report "
        f"{report.model} read as the caller with its context set from the "
        "query (from → from_date, to → to_date, group_by and the filters): "
        "one aggregate query of the current business, paged; "
        "?format=csv|xlsx downloads it whole.")
    endpoint('GET', f'/api/reports/{report.name}',
        summary=report.summary, query=report.query,
        response=report.response, tags=['reports'],
        errors={403: "The caller's role may not read this report",
            422: "from is after to, or a date out of range"})(handler)


for _report in REPORTS:
    _declare(_report)
