# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/manufacturing/... endpoints of monitorbizz_manufacturing (seed
sections 3.B and 6).

Machines are Tryton's work centers (production.work.center) of the current
business; their downtime log is production.work.center.downtime; work
orders are productions, their operations Tryton's production works timed
by work cycles; BOMs and routings are Tryton's. Each is a Resource (one
lookup in the current business, 404 otherwise), and every action is the
button of the desk pressed as the calling user: the button's groups refuse
a role, the model refuses a record in the wrong state (409 with its code).
"""
import datetime as dt
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from ..business.workflow import check_button_access
from ..manufacturing import exceptions as mfg_errors
from ..manufacturing.production import ConsumedMaterial
from .framework import (
    LIST_QUERY, ApiError, Resource, endpoint, json_response, page_of,
    paginate)
from .inventory import _unit, _warehouse
from .schema import (
    ID, MAX_AMOUNT, MAX_ID, MAX_QUANTITY, NULLABLE_ID, decimal, define,
    record)

DECIMAL = {'type': 'string', 'format': 'decimal'}
NULLABLE_DECIMAL = {'type': ['string', 'null'], 'format': 'decimal'}
TEXT = {'type': ['string', 'null'], 'maxLength': 2000}
REF = {
    'type': ['object', 'null'],
    'required': ['id', 'name'],
    'additionalProperties': False,
    'properties': {
        'id': {'type': 'integer'},
        'name': {'type': ['string', 'null']},
        },
    }
WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
STATUSES = ['available', 'running', 'idle', 'maintenance', 'breakdown']
REASONS = ['maintenance', 'breakdown', 'setup', 'no_operator', 'other']

_MACHINE_INPUT = {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 200},
    'machine_type_id': {**NULLABLE_ID,
        'description': "A machine type (work center category) of the "
        "business"},
    'make': {'type': ['string', 'null'], 'maxLength': 200},
    'model': {'type': ['string', 'null'], 'maxLength': 200},
    'hourly_rate': decimal(4, MAX_AMOUNT, types=['number'],
        description="Cost of an hour of the machine (business currency)"),
    'hours_per_day': decimal(2, 24, minimum=0.01, types=['number'],
        description="Hours the machine works on a working day"),
    'working_days': {'type': 'array', 'maxItems': 7,
        'items': {'type': 'string', 'enum': WEEKDAYS}},
    'location': {'type': ['string', 'null'], 'maxLength': 200},
    }
MACHINE_CREATE = define('MachineCreate', {
        'type': 'object',
        'required': ['name'],
        'additionalProperties': False,
        'properties': _MACHINE_INPUT,
        })
MACHINE_UPDATE = define('MachineUpdate', {
        'type': 'object',
        'description': "The fields to change; the others are kept",
        'additionalProperties': False,
        'properties': _MACHINE_INPUT,
        })
_MACHINE_OUTPUT = {
    'id': {'type': 'integer'},
    'code': {'type': ['string', 'null'],
        'description': "MCH-001... numbered in the business"},
    'name': {'type': 'string'},
    'machine_type': REF,
    'make': {'type': ['string', 'null']},
    'model': {'type': ['string', 'null']},
    'hourly_rate': NULLABLE_DECIMAL,
    'hours_per_day': DECIMAL,
    'working_days': {'type': 'array',
        'items': {'type': 'string', 'enum': WEEKDAYS}},
    'location': {'type': ['string', 'null']},
    'status': {'type': 'string', 'enum': STATUSES,
        'description': "running: an operation runs on it; maintenance, "
        "breakdown: an open downtime of that reason; idle: an open "
        "downtime of another reason; else available"},
    'running_operation': REF,
    'active': {'type': 'boolean'},
    }
MACHINE = define('Machine', record(_MACHINE_OUTPUT))
MACHINE_DELETED = define('MachineDeleted', {
        'type': 'object',
        'required': ['id', 'deleted', 'active'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'deleted': {'type': 'boolean',
                'description': "false: the machine is used by routings or "
                "operations, so deactivated"},
            'active': {'type': 'boolean'},
            },
        })
DOWNTIME_START = define('DowntimeStart', {
        'type': 'object',
        'required': ['reason'],
        'additionalProperties': False,
        'properties': {
            'reason': {'type': 'string', 'enum': REASONS},
            'description': TEXT,
            'start': {'type': 'string', 'format': 'date-time',
                'description': "Default: now"},
            },
        })
DOWNTIME_END = define('DowntimeEnd', {
        'type': 'object',
        'additionalProperties': False,
        'properties': {
            'end': {'type': 'string', 'format': 'date-time',
                'description': "Default: now"},
            },
        })
DOWNTIME = define('Downtime', {
        'type': 'object',
        'required': ['id', 'machine', 'reason', 'description', 'start',
            'end', 'open'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'machine': REF,
            'reason': {'type': 'string', 'enum': REASONS},
            'description': {'type': ['string', 'null']},
            'start': {'type': 'string', 'format': 'date-time'},
            'end': {'type': ['string', 'null'], 'format': 'date-time'},
            'open': {'type': 'boolean'},
            },
        })
_FACTOR = {'type': ['string', 'null'], 'format': 'decimal'}
UTILIZATION = define('MachineUtilization', {
        'type': 'object',
        'required': ['machine', 'from', 'to', 'available_hours',
            'planned_hours', 'run_hours', 'downtime_hours', 'ideal_hours',
            'utilization_pct', 'good_quantity', 'rejected_quantity', 'oee'],
        'additionalProperties': False,
        'properties': {
            'machine': REF,
            'from': {'type': 'string', 'format': 'date'},
            'to': {'type': 'string', 'format': 'date'},
            'available_hours': {**DECIMAL, 'description':
                "Working days of the machine in the period × its hours "
                "per day"},
            'planned_hours': {**DECIMAL, 'description':
                "Planned durations of the operations on the machine of "
                "work orders planned to start in the period"},
            'run_hours': {**DECIMAL, 'description':
                "Time of the work cycles on the machine within the period "
                "(a running cycle counts until now), plus the time from "
                "start to completion of the work orders on the machine "
                "without operations"},
            'downtime_hours': {**DECIMAL, 'description':
                "Time of the downtime entries within the period (an open "
                "one counts until now)"},
            'ideal_hours': {**DECIMAL, 'description':
                "Σ quantity processed in the cycles × the routing's "
                "minutes per unit / 60"},
            'utilization_pct': {**_FACTOR, 'description':
                "run_hours / available_hours × 100"},
            'good_quantity': {**DECIMAL, 'description':
                "Good quantity of the work orders whose operations ran on "
                "the machine in the period (or, without operations, that "
                "ran on it)"},
            'rejected_quantity': {**DECIMAL, 'description':
                "Rejected quantity of those work orders"},
            'oee': {
                'type': 'object',
                'required': ['availability', 'performance', 'quality',
                    'oee'],
                'additionalProperties': False,
                'description': "Overall equipment effectiveness = "
                "availability × performance × quality, each a ratio from 0 "
                "to 1 (null when its denominator is 0)",
                'properties': {
                    'availability': {**_FACTOR, 'description':
                        "run_hours / (run_hours + downtime_hours)"},
                    'performance': {**_FACTOR, 'description':
                        "ideal_hours / run_hours, at most 1"},
                    'quality': {**_FACTOR, 'description':
                        "good / (good + rejected)"},
                    'oee': _FACTOR,
                    },
                },
            },
        })
WORK_ORDER = define('MachineWorkOrder', {
        'type': 'object',
        'required': ['id', 'number', 'product', 'quantity', 'state',
            'planned_start_date', 'operations'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'number': {'type': ['string', 'null']},
            'product': REF,
            'quantity': {'type': ['number', 'null']},
            'state': {'type': 'string'},
            'planned_start_date': {'type': ['string', 'null'],
                'format': 'date'},
            'operations': {'type': 'array', 'items': {
                    'type': 'object',
                    'required': ['id', 'operation_name', 'status',
                        'planned_duration', 'operator'],
                    'additionalProperties': False,
                    'properties': {
                        'id': {'type': 'integer'},
                        'operation_name': {'type': ['string', 'null']},
                        'status': {'type': 'string'},
                        'planned_duration': {**NULLABLE_DECIMAL,
                            'description': "Minutes"},
                        'operator': REF,
                        },
                    }},
            },
        })


_FIELD_NAMES = {'category': 'machine_type_id', 'machine_model': 'model',
    'cost_price': 'hourly_rate', 'work_center': 'machine',
    'start_time': 'start', 'end_time': 'end'}
_MACHINE_READ = ['id', 'code', 'name', 'category', 'category.rec_name',
    'make', 'machine_model', 'cost_price', 'hours_per_day', 'working_days',
    'location', 'status', 'running_work', 'running_work.rec_name', 'active']
_MACHINE_ERRORS = {
    403: "The caller's role may not change machines (forbidden)",
    422: "Invalid fields, each named in error.fields (a machine type of "
    "another business included); nothing is changed",
    }


def _ref(row, name):
    if not row.get(name):
        return None
    return {'id': row[name], 'name': (row.get(f'{name}.') or {}).get(
            'rec_name')}


def _named(record):
    return {'id': record.id, 'name': record.rec_name} if record else None


def _machine_item(row):
    return {
        'id': row['id'],
        'code': row['code'],
        'name': row['name'],
        'machine_type': _ref(row, 'category'),
        'make': row['make'],
        'model': row['machine_model'],
        'hourly_rate': row['cost_price'],
        'hours_per_day': row['hours_per_day'],
        # Tryton stores a multi-selection sorted by name: in week order
        'working_days': sorted(row['working_days'] or [],
            key=WEEKDAYS.index),
        'location': row['location'],
        'status': row['status'],
        'running_operation': _ref(row, 'running_work'),
        'active': bool(row['active']),
        }


def _read_machine(machine):
    WorkCenter = Pool().get('production.work.center')
    with Transaction().set_context(active_test=False):
        row, = WorkCenter.read([machine.id], _MACHINE_READ)
    return _machine_item(row)


def _resource(path, model, label, render, **kwargs):
    "A Resource of the module: 404 not_found for an unknown id"
    return Resource(path, model, label, render, code='not_found',
        message=f"No such {label} in the current business.", **kwargs)


MACHINES = _resource('/api/manufacturing/machines', 'production.work.center',
    'machine', _read_machine)


def _of_business(model, id, field, domain=None, message=None):
    "The record id of model in the current business, else 422 on field"
    Model = Pool().get(model)
    with Transaction().set_context(active_test=False):
        records = Model.search([('id', '=', id)] + (domain or []), limit=1)
    if not records:
        raise ApiError(422, 'validation_error', message
            or "No such record in the current business.",
            {field: message or "is not one of the business"})
    return records[0]


def _values(body, mapping, references=None):
    """Tryton values of the body's fields: mapping {API: Tryton};
    references {API: (model, label)}: ids of records of the business"""
    values = {}
    for api, name in mapping.items():
        if api not in body:
            continue
        value = body[api]
        if value and api in (references or {}):
            model, label = references[api]
            value = _of_business(model, value, api,
                message=f"No such {label} in the current business.").id
        values[name] = value
    return values


def _machine_values(body):
    values = _values(body, {'name': 'name', 'make': 'make',
            'model': 'machine_model', 'location': 'location',
            'machine_type_id': 'category', 'hours_per_day': 'hours_per_day',
            'hourly_rate': 'cost_price'},
        {'machine_type_id': ('production.work.center.category',
                'machine type')})
    if 'hourly_rate' in body:
        values['cost_method'] = 'hour'
    if 'working_days' in body:
        values['working_days'] = sorted(set(body['working_days']),
            key=WEEKDAYS.index)
    return values


MACHINE_LIST_QUERY = {
    **LIST_QUERY,
    'status': {'type': 'string', 'enum': STATUSES,
        'description': "Only the machines of this status"},
    'machine_type_id': {**ID,
        'description': "Only the machines of this type"},
    'active': {'type': 'boolean', 'default': True,
        'description': "false: the deactivated machines"},
    }


def _filters(query, mapping):
    "The domain of the query's filters: mapping {API: Tryton field}"
    return [(name, '=', query[api]) for api, name in mapping.items()
        if query.get(api) is not None]


@endpoint('GET', MACHINES.path,
    summary="The machines of the current business",
    query=MACHINE_LIST_QUERY, response=page_of(MACHINE))
def list_machines(call):
    """?q= searches code and name; ?status= and ?machine_type_id= filter;
    ?order= accepts code, name, id."""
    WorkCenter = Pool().get('production.work.center')
    active = call.query.get('active', True)
    domain = _filters(call.query, {'status': 'status',
            'machine_type_id': 'category'})
    with Transaction().set_context(active_test=active):
        if not active:
            domain.append(('active', '=', False))
        return paginate(call, WorkCenter, _MACHINE_READ, domain=domain,
            orders={'code': 'code', 'name': 'name', 'id': 'id'},
            serialize=_machine_item,
            default_order=[('code', 'ASC'), ('id', 'ASC')])


def _created(call, resource, record):
    "201 with the record rendered and its Location"
    return json_response(resource.render(resource.Model(record.id)), 201,
        headers={'Location':
            f'{call.request.script_root}{resource.path}/{record.id}'})


@endpoint('POST', MACHINES.path, summary="Create a machine",
    request=MACHINE_CREATE, response=MACHINE, status=201,
    errors=_MACHINE_ERRORS, field_names=_FIELD_NAMES)
def create_machine(call):
    """Numbered MCH-001... in the business, in its warehouse; hourly cost
    (Tryton's per-hour cost method), 8 hours a day Monday to Saturday
    unless given."""
    WorkCenter = Pool().get('production.work.center')
    machine, = WorkCenter.create([_machine_values(call.body)])
    return _created(call, MACHINES, machine)


MACHINES.read("A machine", response=MACHINE, module=__name__,
    description="Deactivated machines are found too (active: false).")


@MACHINES.route('PUT', summary="Change a machine", request=MACHINE_UPDATE,
    response=MACHINE, errors=_MACHINE_ERRORS, field_names=_FIELD_NAMES)
def update_machine(call, machine):
    "The code is the business's numbering and cannot change."
    values = _machine_values(call.body)
    if values:
        MACHINES.Model.write([machine], values)
    return _read_machine(machine)


@MACHINES.route('DELETE', summary="Delete a machine",
    response=MACHINE_DELETED, errors={403: _MACHINE_ERRORS[403]})
def delete_machine(call, machine):
    """A machine never used is deleted; one named by routing steps or
    operations is deactivated (it leaves lists, its history stays)."""
    WorkCenter = MACHINES.Model
    id_ = machine.id
    if machine.is_used():
        WorkCenter.write([machine], {'active': False})
        return {'id': id_, 'deleted': False, 'active': False}
    WorkCenter.delete([machine])
    return {'id': id_, 'deleted': True, 'active': False}


def _downtime_item(downtime):
    return {
        'id': downtime.id,
        'machine': _named(downtime.work_center),
        'reason': downtime.reason,
        'description': downtime.description,
        'start': downtime.start_time,
        'end': downtime.end_time,
        'open': not downtime.end_time,
        }


def _naive_utc(value):
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


@MACHINES.route('POST', '/downtime',
    summary="Start a downtime of a machine", request=DOWNTIME_START,
    response=DOWNTIME, status=201, field_names=_FIELD_NAMES,
    errors={403: "The caller's role may not log downtime (forbidden)",
        409: "The machine already has an open downtime "
        "(downtime_open); nothing is changed"})
def start_downtime(call, machine):
    """Maintenance or breakdown downtime is the machine's status until it
    ends; other reasons make it idle. Downtime feeds utilization and OEE."""
    Downtime = Pool().get('production.work.center.downtime')
    values = {'work_center': machine.id, **_values(call.body, {
                'reason': 'reason', 'description': 'description'})}
    if call.body.get('start'):
        values['start_time'] = _naive_utc(call.body['start'])
    downtime, = Downtime.create([values])
    return json_response(_downtime_item(downtime), 201)


def record_action(parent, collection, param, model, field, label, name,
        button, summary, **kwargs):
    """Declare POST {parent}/{id}/{collection}/{param}/{name}: the button
    of model pressed on a record of the parent's (its field is the
    parent), as decorated func(call, record) → answer does. The caller's
    right to press the button (its groups) is checked before the record
    is looked up, so a role refused the action learns nothing more."""
    def decorator(func):
        def handler(call, id, **params):
            Model = Pool().get(model)
            check_button_access(Model, [], button)
            owner = parent.get(id)
            records = Model.search([('id', '=', params[param]),
                    (field, '=', owner.id)], limit=1)
            if not records:
                raise ApiError(404, 'not_found',
                    f"No such {label} in the current business.")
            return func(call, records[0])
        handler.__name__ = func.__name__
        handler.__module__ = func.__module__
        handler.__doc__ = func.__doc__
        kwargs['errors'] = {404: f"The {parent.label} or its {label} does "
            "not exist in the current business (not_found)",
            **kwargs.get('errors', {})}
        endpoint('POST', f'{parent.path}/<int:id>/{collection}/'
            f'<int:{param}>/{name}', summary=summary,
            button=(model, button, param, None), **kwargs)(handler)
        return func
    return decorator


@record_action(MACHINES, 'downtime', 'downtime_id',
    'production.work.center.downtime', 'work_center', 'downtime', 'end',
    'end', summary="End a downtime of a machine", request=DOWNTIME_END,
    response=DOWNTIME, field_names=_FIELD_NAMES,
    errors={403: "The caller's role may not log downtime (forbidden)",
        409: "The downtime has already ended (downtime_closed)",
        422: "The end is before the start (end)"})
def end_downtime(call, downtime):
    "The end defaults to now."
    Downtime = downtime.__class__
    Downtime.end([downtime], _naive_utc(call.body.get('end')))
    return _downtime_item(Downtime(downtime.id))


@MACHINES.route('GET', '/utilization',
    summary="Utilization and OEE of a machine for a period",
    query={
        'from': {'type': 'string', 'format': 'date',
            'description': "First day (default: 6 days before to)"},
        'to': {'type': 'string', 'format': 'date',
            'description': "Last day, included (default: today)"},
        },
    response=UTILIZATION,
    errors={422: "from is after to, or the period is longer than 366 days"})
def machine_utilization(call, machine):
    """Hours and ratios of the machine over the days from..to (UTC),
    computed by SQL aggregation over Tryton's work cycles, the downtime
    log and the work orders' operations:

    - available_hours = working days in the period × hours per day
    - planned_hours = Σ planned durations of the operations on the machine
      of work orders planned to start in the period
    - run_hours = time of the work cycles on the machine in the period,
      plus start to completion of the work orders on the machine that
      have no operations (no routing)
    - downtime_hours = time of the downtime entries in the period
    - utilization_pct = run_hours / available_hours × 100
    - availability = run_hours / (run_hours + downtime_hours)
    - performance = ideal_hours / run_hours (at most 1), where ideal_hours =
      Σ quantity processed × routing minutes per unit / 60
    - quality = good / (good + rejected) of the work orders whose operations
      ran on the machine in the period (those without operations: that
      ran on it)
    - OEE = availability × performance × quality
    """
    to = call.query.get('to') or dt.date.today()
    from_ = call.query.get('from') or to - dt.timedelta(days=6)
    if from_ > to:
        raise ApiError(422, 'validation_error', "from is after to.",
            {'from': "must not be after to"})
    if (to - from_).days > 366:
        raise ApiError(422, 'validation_error',
            "The period is longer than 366 days.",
            {'from': "at most 366 days before to"})
    figures = MACHINES.Model.utilization(machine, from_, to)
    return {
        'machine': _named(machine), 'from': from_, 'to': to,
        **{k: figures[k] for k in ['available_hours', 'planned_hours',
                'run_hours', 'downtime_hours', 'ideal_hours',
                'utilization_pct', 'good_quantity', 'rejected_quantity']},
        'oee': {k: figures[k] for k in ['availability', 'performance',
                'quality', 'oee']},
        }


@MACHINES.route('GET', '/work-orders',
    summary="The work orders on a machine: assigned to it or with "
    "operations on it",
    query={k: LIST_QUERY[k] for k in ['limit', 'offset']},
    response=page_of(WORK_ORDER))
def machine_work_orders(call, machine):
    """Newest planned first, with their operations on the machine (none
    for a work order without a routing)."""
    pool = Pool()
    Production = pool.get('production')
    Work = pool.get('production.work')
    page = paginate(call, Production,
        ['id', 'number', 'product', 'product.rec_name', 'quantity', 'state',
            'planned_start_date'],
        domain=[('machines', '=', machine.id)],
        default_order=[('planned_start_date', 'DESC'), ('id', 'DESC')])
    works = Work.search_read([
            ('production', 'in', [r['id'] for r in page['items']]),
            ('work_center', '=', machine.id),
            ], order=[('sequence', 'ASC'), ('id', 'ASC')],
        fields_names=['id', 'production', 'operation_name', 'status',
            'planned_duration', 'operator', 'operator.rec_name'])
    operations = {}
    for work in works:
        operations.setdefault(work['production'], []).append({
                'id': work['id'],
                'operation_name': work['operation_name'],
                'status': work['status'],
                'planned_duration': work['planned_duration'],
                'operator': _ref(work, 'operator'),
                })
    page['items'] = [{
            'id': row['id'],
            'number': row['number'],
            'product': _ref(row, 'product'),
            'quantity': row['quantity'],
            'state': row['state'],
            'planned_start_date': row['planned_start_date'],
            'operations': operations.get(row['id'], []),
            } for row in page['items']]
    return page


# Work orders ----------------------------------------------------------------
#
# A work order is Tryton's production of the current business; its status,
# quantities, consumption and costing are those of monitorbizz_manufacturing
# (production.py). The handlers only translate: refusals of the model are
# answered with their HTTP status and the field they name, after rollback.

WO_PATH = '/api/manufacturing/work-orders'
WO_STATUSES = ['draft', 'scheduled', 'in_progress', 'completed',
    'cancelled']
PRIORITIES = ['low', 'medium', 'high', 'urgent']
OPERATION_STATUSES = ['pending', 'in_progress', 'completed']
NULLABLE_DATE = {'type': ['string', 'null'], 'format': 'date'}
NULLABLE_DATETIME = {'type': ['string', 'null'], 'format': 'date-time'}
_QUANTITY_IN = decimal(4, MAX_QUANTITY)
_BATCH_IN = {'type': ['integer', 'string', 'null'], 'minLength': 1,
    'maxLength': 100, 'minimum': 1, 'maximum': MAX_ID,
    'description': "A batch of the material: its id or its number"}

_WO_INPUT = {
    'quantity_planned': {**_QUANTITY_IN,
        'description': "Greater than zero, in the product's unit "
        "(draft work orders only)"},
    'machine_id': {**NULLABLE_ID,
        'description': "A machine of the business"},
    'bom_id': {**NULLABLE_ID, 'description': "A BOM of the business "
        "making the product; default: the product's active BOM (draft "
        "work orders only)"},
    'routing_id': {**NULLABLE_ID, 'description': "A routing of the "
        "business; default: the one of the product's active BOM (draft "
        "work orders only)"},
    'planned_start_date': NULLABLE_DATE,
    'planned_end_date': NULLABLE_DATE,
    'priority': {'type': 'string', 'enum': PRIORITIES},
    'assigned_to': {**NULLABLE_ID,
        'description': "An employee (member) of the business"},
    'notes': TEXT,
    'allow_substitutes': {'type': 'boolean', 'description':
        "Materials outside the BOM may be consumed"},
    }
WO_CREATE = define('WorkOrderCreate', {
        'type': 'object',
        'required': ['product_id', 'quantity_planned'],
        'additionalProperties': False,
        'properties': {
            'product_id': {**ID, 'description': "A manufactured product "
                "of the business"},
            'sales_order_id': {**NULLABLE_ID, 'description': "A sales "
                "order of the business with a line of the product"},
            **_WO_INPUT,
            },
        })
WO_UPDATE = define('WorkOrderUpdate', {
        'type': 'object',
        'description': "The fields to change; the others are kept. "
        "Quantities, BOM, routing and dates only while draft; priority, "
        "assignee, machine and notes until it is completed.",
        'additionalProperties': False,
        'properties': _WO_INPUT,
        })
_NAMED = {
    'type': ['object', 'null'],
    'required': ['id', 'name', 'number'],
    'additionalProperties': False,
    'properties': {
        'id': {'type': 'integer'},
        'name': {'type': ['string', 'null']},
        'number': {'type': ['string', 'null']},
        },
    }
_WO_OUTPUT = {
    'id': {'type': 'integer'},
    'work_order_number': {'type': ['string', 'null'],
        'description': "WO-<year>-NNN, numbered in the business when "
        "made"},
    'status': {'type': 'string', 'enum': WO_STATUSES},
    'state': {'type': 'string', 'description': "Tryton's production state"},
    'sales_order': _NAMED,
    'product': REF,
    'product_code': {'type': ['string', 'null']},
    'bom': REF,
    'routing': REF,
    'quantity_planned': DECIMAL,
    'quantity_produced': DECIMAL,
    'quantity_rejected': DECIMAL,
    'unit': {'type': ['string', 'null']},
    'machine': REF,
    'assigned_to': REF,
    'planned_start_date': NULLABLE_DATE,
    'planned_end_date': NULLABLE_DATE,
    'actual_start_time': NULLABLE_DATETIME,
    'actual_end_time': NULLABLE_DATETIME,
    'priority': {'type': 'string', 'enum': PRIORITIES},
    'notes': {'type': ['string', 'null']},
    'reject_reason': {'type': ['string', 'null']},
    'allow_substitutes': {'type': 'boolean'},
    'cost': {**NULLABLE_DECIMAL, 'description': "Materials at cost + "
        "machine hours × hourly rate + operator time (null in lists: "
        "read the work order)"},
    }
WORK_ORDER_ITEM = define('WorkOrder', record(_WO_OUTPUT))
CONSUMPTION_LINE = define('WorkOrderMaterial', {
        'type': 'object',
        'description': "What a work order consumed of a material, "
        "derived from its stock moves into production",
        'required': ['material', 'code', 'unit', 'planned_quantity',
            'actual_quantity', 'wastage_quantity', 'batches'],
        'additionalProperties': False,
        'properties': {
            'material': REF,
            'code': {'type': ['string', 'null']},
            'unit': {'type': ['string', 'null']},
            'planned_quantity': {**DECIMAL, 'description': "BOM quantity "
                "× (1 + wastage %) scaled to the work order"},
            'actual_quantity': {**DECIMAL,
                'description': "Consumed into the product"},
            'wastage_quantity': {**DECIMAL,
                'description': "Consumed and wasted"},
            'batches': {'type': 'array', 'items': {'type': 'string'},
                'description': "Numbers of the batches consumed from"},
            },
        })


def _of_work_order(name, item):
    "The schema of the items of one work order"
    return define(name, {
            'type': 'object',
            'required': ['work_order_id', 'items'],
            'additionalProperties': False,
            'properties': {
                'work_order_id': {'type': 'integer'},
                'items': {'type': 'array', 'items': item},
                },
            })


MATERIALS = _of_work_order('WorkOrderMaterials', CONSUMPTION_LINE)
_CONSUME_LINE = {
    'material': {**ID, 'description': "The material (item id)"},
    'quantity': {**_QUANTITY_IN, 'description': "Consumed into "
        "the product; greater than zero"},
    'wastage_quantity': {**_QUANTITY_IN, 'description': "Consumed "
        "and wasted (0 or more, default 0)"},
    'batch': _BATCH_IN,
    }
_ALLOW_SUBSTITUTE = {'type': 'boolean', 'description':
    "Allow materials outside the BOM for this consumption"}
CONSUME = define('WorkOrderConsume', record({**_CONSUME_LINE,
            'allow_substitute': _ALLOW_SUBSTITUTE},
        required=['material', 'quantity']))
CONSUME_LINES = define('WorkOrderConsumeLines', {
        'type': 'object',
        'required': ['lines'],
        'additionalProperties': False,
        'properties': {
            'lines': {'type': 'array', 'minItems': 1, 'maxItems': 2000,
                'items': record(_CONSUME_LINE,
                    required=['material', 'quantity'])},
            'allow_substitute': _ALLOW_SUBSTITUTE,
            },
        })
_CONSUMED_LINE = {
    'material': REF,
    'batch': REF,
    'quantity': DECIMAL,
    'wastage_quantity': DECIMAL,
    }
_MATERIALS_AFTER = {'type': 'array', 'items': CONSUMPTION_LINE,
    'description': "The consumption of every material after this one"}
CONSUMED = define('WorkOrderConsumed', record({
            'work_order_id': {'type': 'integer'},
            **_CONSUMED_LINE,
            'materials': _MATERIALS_AFTER,
            }))
CONSUMED_LINES = define('WorkOrderConsumedLines', {
        'type': 'object',
        'required': ['work_order_id', 'lines', 'materials'],
        'additionalProperties': False,
        'properties': {
            'work_order_id': {'type': 'integer'},
            'lines': {'type': 'array', 'items': record(_CONSUMED_LINE)},
            'materials': _MATERIALS_AFTER,
            },
        })
COMPLETE = define('WorkOrderComplete', {
        'type': 'object',
        'required': ['quantity_produced'],
        'additionalProperties': False,
        'properties': {
            'quantity_produced': {**_QUANTITY_IN,
                'description': "Good quantity; greater than zero"},
            'quantity_rejected': {**_QUANTITY_IN,
                'description': "Rejected quantity (default 0), into scrap"},
            'reject_reason': {'type': ['string', 'null'], 'maxLength': 500,
                'description': "Required when quantity_rejected > 0"},
            'batch_number': {'type': ['string', 'null'], 'minLength': 1,
                'maxLength': 100, 'description': "Number of the output "
                "batch; default: the next of the business"},
            },
        })
COMPLETED = define('WorkOrderCompleted', {
        'type': 'object',
        'required': ['work_order', 'output_batch', 'quantity_produced',
            'scrap_quantity', 'cost', 'unit_cost'],
        'additionalProperties': False,
        'properties': {
            'work_order': WORK_ORDER_ITEM,
            'output_batch': REF,
            'quantity_produced': DECIMAL,
            'scrap_quantity': {**DECIMAL,
                'description': "Rejected quantity moved into scrap"},
            'cost': NULLABLE_DECIMAL,
            'unit_cost': {**NULLABLE_DECIMAL,
                'description': "Cost of a good unit: the batch's cost"},
            },
        })
SHORTAGES_DOC = (
    "Materials are short (material_shortage); nothing is reserved and the "
    "work order is unchanged. error.details.shortages lists each short "
    "material: {material: {id, name}, code, required, available, short, "
    "unit, open_purchase_orders: [{id, number, quantity, expected_date}]} "
    "(quantities as decimal strings)")
OPERATION = define('WorkOrderOperation', {
        'type': 'object',
        'required': ['id', 'work_order_id', 'operation_name', 'sequence',
            'machine', 'operator', 'status', 'running', 'planned_duration',
            'actual_duration'],
        'additionalProperties': False,
        'properties': {
            'id': {'type': 'integer'},
            'work_order_id': {'type': 'integer'},
            'operation_name': {'type': ['string', 'null']},
            'sequence': {'type': ['integer', 'null']},
            'machine': REF,
            'operator': REF,
            'status': {'type': 'string', 'enum': OPERATION_STATUSES},
            'running': {'type': 'boolean',
                'description': "A work cycle of it runs now"},
            'planned_duration': {**NULLABLE_DECIMAL,
                'description': "Minutes, from the routing and the quantity"},
            'actual_duration': {**DECIMAL, 'description': "Minutes of its "
                "finished work cycles (start/pause/resume/complete)"},
            },
        })
OPERATIONS = _of_work_order('WorkOrderOperations', OPERATION)
OPERATION_START = define('OperationStart', {
        'type': 'object',
        'additionalProperties': False,
        'properties': {
            'operator_id': {**NULLABLE_ID, 'description': "The employee "
                "who runs it; default: the operation's operator, else the "
                "caller's employee"},
            },
        })
OPERATION_STOP = define('OperationStop', {
        'type': 'object',
        'additionalProperties': False,
        'properties': {
            'quantity': {**_QUANTITY_IN, 'description': "Units processed "
                "in the cycle that stops (pause: default 0; complete: "
                "default what remains of the work order)"},
            },
        })


_WO_FIELD_NAMES = {'work_center': 'machine_id', 'quantity':
    'quantity_planned', 'bom': 'bom_id', 'routing': 'routing_id',
    'product': 'product_id', 'planned_date': 'planned_end_date',
    'planned_start_date': 'planned_start_date',
    'assigned_to': 'assigned_to', 'origin': 'sales_order_id'}
_WO_READ = ['id', 'number', 'work_order_status', 'state', 'sales_order',
    'product',
    'product.rec_name', 'product.code', 'bom', 'bom.rec_name', 'routing',
    'routing.rec_name', 'quantity', 'quantity_produced', 'quantity_rejected',
    'unit', 'unit.symbol', 'unit.digits', 'work_center',
    'work_center.rec_name', 'assigned_to', 'assigned_to.rec_name',
    'planned_start_date', 'planned_date', 'actual_start_time',
    'actual_end_time', 'priority', 'reject_reason', 'allow_substitutes',
    'notes']
_WO_ORDERS = {'number': 'number', 'planned_start_date': 'planned_start_date',
    'planned_end_date': 'planned_date', 'priority': 'priority', 'id': 'id'}
_ADMIN_ONLY = ("Only owners, managers and production supervisors may do "
    "this (forbidden)")
_OPERATOR_ONLY = ("The caller's role may not run production: operators, "
    "supervisors, managers and owners may (forbidden)")


def _dec(value, digits=None):
    "A quantity as a Decimal (Tryton's quantities are floats)"
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    if digits is not None:
        value = round(value, digits)
    return value.normalize() if value else Decimal(0)


def _minutes(value):
    if value is None:
        return Decimal(0)
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    return (Decimal(str(value)) / 60).quantize(Decimal('0.01'))


def _work_order_item(row):
    digits = (row.get('unit.') or {}).get('digits')
    sale = row.get('sales_order.') or {}
    return {
        'id': row['id'],
        'work_order_number': row['number'],
        'status': row['work_order_status'],
        'state': row['state'],
        'sales_order': ({'id': row['sales_order'],
                'name': sale.get('rec_name'), 'number': sale.get('number')}
            if row.get('sales_order') else None),
        'product': _ref(row, 'product'),
        'product_code': (row.get('product.') or {}).get('code'),
        'bom': _ref(row, 'bom'),
        'routing': _ref(row, 'routing'),
        'quantity_planned': _dec(row['quantity'] or 0, digits),
        'quantity_produced': _dec(row['quantity_produced'] or 0, digits),
        'quantity_rejected': _dec(row['quantity_rejected'] or 0, digits),
        'unit': (row.get('unit.') or {}).get('symbol'),
        'machine': _ref(row, 'work_center'),
        'assigned_to': _ref(row, 'assigned_to'),
        'planned_start_date': row['planned_start_date'],
        'planned_end_date': row['planned_date'],
        'actual_start_time': row['actual_start_time'],
        'actual_end_time': row['actual_end_time'],
        'priority': row['priority'] or 'medium',
        'notes': row.get('notes'),
        'reject_reason': row['reject_reason'],
        'allow_substitutes': bool(row['allow_substitutes']),
        'cost': row.get('cost'),
        }


def _wo_read_fields(cost=False):
    ModelAccess = Pool().get('ir.model.access')
    fields = list(_WO_READ)
    if ModelAccess.check('sale.sale', 'read', raise_exception=False):
        # Operators see the sales order's id only: sales are not theirs
        fields += ['sales_order.number', 'sales_order.rec_name']
    # The cost is computed per work order by Tryton, so only for one
    return fields + (['cost'] if cost else [])


def _read_work_order(production):
    row, = production.__class__.read([production.id],
        _wo_read_fields(cost=True))
    return _work_order_item(row)


WORK_ORDERS = _resource(WO_PATH, 'production', 'work order',
    _read_work_order)


def _positive(value, field):
    "value as a Decimal greater than zero, else 422 on field"
    quantity = Decimal(str(value))
    if quantity <= 0:
        raise ApiError(422, 'validation_error',
            f"{field} must be greater than zero.",
            {field: "must be greater than zero"})
    return quantity


def _wo_values(body):
    "Tryton values of the body"
    values = _values(body, {'quantity_planned': 'quantity',
            'machine_id': 'work_center', 'bom_id': 'bom',
            'routing_id': 'routing', 'assigned_to': 'assigned_to',
            'planned_start_date': 'planned_start_date',
            'planned_end_date': 'planned_date', 'priority': 'priority',
            'allow_substitutes': 'allow_substitutes', 'notes': 'notes'}, {
            'machine_id': ('production.work.center', 'machine'),
            'bom_id': ('production.bom', 'BOM'),
            'routing_id': ('production.routing', 'routing'),
            'assigned_to': ('company.employee', 'employee')})
    if 'quantity' in values:
        values['quantity'] = float(_positive(values['quantity'],
                'quantity_planned'))
    for name in ['bom', 'routing']:
        # null keeps them
        if name in values and not values[name]:
            del values[name]
    return values


WO_LIST_QUERY = {
    **LIST_QUERY,
    'q': {**LIST_QUERY['q'],
        'description': "Text to search in the number and the product"},
    'status': {'type': 'string', 'enum': WO_STATUSES},
    'machine_id': ID,
    'sales_order_id': ID,
    'product_id': ID,
    'priority': {'type': 'string', 'enum': PRIORITIES},
    'from': {'type': 'string', 'format': 'date',
        'description': "Planned to start on or after"},
    'to': {'type': 'string', 'format': 'date',
        'description': "Planned to start on or before"},
    }


@endpoint('GET', WO_PATH, summary="The work orders of the current business",
    query=WO_LIST_QUERY, response=page_of(WORK_ORDER_ITEM))
def list_work_orders(call):
    """?q= searches the number and the product; ?status=, ?machine_id=,
    ?sales_order_id=, ?product_id=, ?priority= and the planned start
    ?from=..?to= filter; ?order= accepts number, planned_start_date,
    planned_end_date, priority, id. The page is read in one batch of
    queries (no query per work order)."""
    query = call.query
    domain = _filters(query, {'status': 'work_order_status',
            'machine_id': 'work_center', 'sales_order_id': 'sales_order',
            'product_id': 'product', 'priority': 'priority'})
    text = query.pop('q', None)
    if text:
        domain.append(['OR', ('number', 'ilike', f'%{text}%'),
                ('product.rec_name', 'ilike', f'%{text}%')])
    if query.get('from'):
        domain.append(('planned_start_date', '>=', query['from']))
    if query.get('to'):
        domain.append(('planned_start_date', '<=', query['to']))
    return paginate(call, WORK_ORDERS.Model, _wo_read_fields(),
        domain=domain, orders=_WO_ORDERS, serialize=_work_order_item,
        default_order=[('planned_start_date', 'DESC NULLS FIRST'),
            ('id', 'DESC')])


@endpoint('POST', WO_PATH, summary="Create a work order by hand",
    request=WO_CREATE, response=WORK_ORDER_ITEM, status=201,
    field_names=_WO_FIELD_NAMES,
    errors={403: _ADMIN_ONLY,
        422: "Invalid fields, each named in error.fields: a product not "
        "manufactured or of another business, quantity_planned not above "
        "zero, a machine, BOM, routing, employee or sales order of another "
        "business, end before start; nothing is created"})
def create_work_order(call):
    """A draft work order of the product; its materials are the BOM's
    (default: the product's active BOM and its routing) with their wastage,
    scaled to the quantity. sales_order_id links it to that order's line of
    the product."""
    pool = Pool()
    Production = pool.get('production')
    SaleLine = pool.get('sale.line')
    Production.check_modification('create', [], external=True)
    body = call.body
    product = _of_business('product.product', body['product_id'],
        'product_id', domain=[('producible', '=', True)],
        message="No such manufactured product in the current business.")
    warehouse = _warehouse()
    production = Production(product=product, warehouse=warehouse,
        location=warehouse.production_location, **_wo_values(body))
    if body.get('sales_order_id'):
        lines = SaleLine.search([('sale', '=', body['sales_order_id']),
                ('product', '=', product.id)], limit=1)
        if not lines:
            raise ApiError(422, 'validation_error', "No sales order of "
                "the business with a line of the product.",
                {'sales_order_id': "is not a sales order of the business "
                    "with this product"})
        production.origin = lines[0]
    Production.prepare([production])
    production.save()
    # As sale_supply_production does: the moves of the BOM, with wastage
    Production.set_moves([production])
    return _created(call, WORK_ORDERS, production)


WORK_ORDERS.read("A work order", response=WORK_ORDER_ITEM, module=__name__,
    description="With its quantities produced and rejected, dates and "
    "cost.")


@WORK_ORDERS.route('PUT', summary="Change a work order",
    request=WO_UPDATE, response=WORK_ORDER_ITEM, field_names=_WO_FIELD_NAMES,
    errors={403: _ADMIN_ONLY,
        409: "Quantities, BOM, routing or dates of a work order no longer "
        "draft (work_order_not_draft, the fields named), or a completed or "
        "cancelled one (work_order_closed)",
        422: "Invalid fields, each named; nothing is changed"})
def update_work_order(call, production):
    """Changing the quantity or the BOM of a draft work order recomputes
    its materials."""
    Production = WORK_ORDERS.Model
    values = _wo_values(call.body)
    Production.write([production], values)
    production = Production(production.id)
    if 'work_center' in values:
        production.check_work_center()
    if {'quantity', 'bom'} & set(values):
        Production.replan([production])
    return _read_work_order(production)


@WORK_ORDERS.route('DELETE', summary="Delete a work order", status=204,
    errors={403: _ADMIN_ONLY,
        409: "Only draft work orders are deleted (work_order_not_draft); "
        "cancel the others"})
def delete_work_order(call, production):
    "Its planned moves and operations go with it."
    WORK_ORDERS.Model.delete([production])


def _message(e):
    return ' '.join(filter(None, [str(getattr(e, 'message', '') or ''),
                str(getattr(e, 'description', '') or '')])) or str(e)


def _shortage_item(s):
    return {
        'material': {'id': s['product'], 'name': s.get('name')},
        'code': s.get('code'),
        'required': str(s['required']),
        'available': str(s['available']),
        'short': str(s['short']),
        'unit': s.get('unit'),
        'open_purchase_orders': [{
                'id': po['id'], 'number': po.get('number'),
                'quantity': str(po['quantity'])
                if po.get('quantity') is not None else None,
                'expected_date': po['expected_date'].isoformat()
                if isinstance(po.get('expected_date'), dt.date)
                else po.get('expected_date'),
                } for po in s.get('open_purchase_orders', [])],
        }


@WORK_ORDERS.action('schedule', 'schedule', press=False,
    summary="Schedule a work order: reserve its materials",
    response=WORK_ORDER_ITEM,
    errors={403: _ADMIN_ONLY,
        409: SHORTAGES_DOC + "; or a work order not draft "
        "(invalid_state)"})
def schedule_work_order(call, production):
    """Numbers the work order and reserves (assigns) every planned material
    in the business's warehouse. When any is short, nothing is reserved
    and the answer lists the shortages with the open purchase orders that
    will bring them."""
    try:
        WORK_ORDERS.Model.schedule([production])
    except mfg_errors.MaterialShortageError as e:
        shortages = [_shortage_item(s) for s in e.shortages]
        raise ApiError(409, 'material_shortage', _message(e), {
                f'shortages.{i}': f"{s['code'] or s['material']['name']}: "
                f"short {s['short']} {s['unit'] or ''}".strip()
                for i, s in enumerate(shortages)},
            details={'shortages': shortages})
    return _read_work_order(production)


WORK_ORDERS.action('start', 'start', summary="Start a work order",
    response=WORK_ORDER_ITEM, module=__name__,
    description="Its actual start time is now; its materials are consumed "
    "as recorded.",
    errors={403: _OPERATOR_ONLY,
        409: "The work order is not scheduled (invalid_state)"})(None)


def _consumption_in(items, prefix):
    """The ConsumedMaterial of the request's items, their materials read
    at once in the current business (422 naming prefix(index) + the
    field); batches given by id or number, found by the model"""
    Product = Pool().get('product.product')
    materials = {p.id: p for p in Product.search(
            [('id', 'in', list({i['material'] for i in items}))])}
    lines = []
    for index, item in enumerate(items):
        if item['material'] not in materials:
            raise ApiError(422, 'validation_error',
                "No such material in the current business.",
                {prefix(index) + 'material':
                    "is not a material of the business"})
        lines.append(ConsumedMaterial(materials[item['material']],
                Decimal(str(item['quantity'])),
                Decimal(str(item.get('wastage_quantity', 0))),
                item.get('batch')))
    return lines


def _consume(production, body, items, prefix):
    """Consume items on the work order (all or nothing); returns the
    lines consumed and the materials after"""
    Production = WORK_ORDERS.Model
    # Locked before reading them: Tryton restarts the transaction to take
    # the lock, and everything read before would be read twice
    Pool().get('product.product').lock(
        sorted({i['material'] for i in items}))
    lines = _consumption_in(items, prefix)
    try:
        batches = Production.consume([production], lines,
            allow_substitutes=body.get('allow_substitute'))
    except (mfg_errors.ConsumptionError,
            mfg_errors.BatchExhaustedError) as e:
        raise ApiError(e.http_status, e.code, _message(e),
            {prefix(e.line or 0) + e.field: _message(e)})
    consumed = [{
            'material': _named(l.material),
            'batch': batch,
            'quantity': _dec(l.quantity),
            'wastage_quantity': _dec(l.wastage_quantity),
            } for l, batch in zip(lines, batches)]
    return consumed, _consumption(Production(production.id))


def _consumption(production):
    rows = production.consumption_lines()
    return [{
            'material': {'id': r['material'], 'name': r.get('name')},
            'code': r.get('code'),
            'unit': r.get('unit'),
            'planned_quantity': _dec(r['planned_quantity'] or 0),
            'actual_quantity': _dec(r['actual_quantity'] or 0),
            'wastage_quantity': _dec(r['wastage_quantity'] or 0),
            'batches': list(r.get('batches') or []),
            } for r in rows]


_CONSUME_ERRORS = {403: _OPERATOR_ONLY,
    409: "The batch (or the warehouse) holds less than asked "
    "(batch_exhausted), or the work order is not in progress "
    "(invalid_state); nothing is consumed",
    422: "Invalid fields, each named in error.fields: material not in "
    "the BOM without allow_substitute, quantity not above zero, "
    "negative wastage_quantity, a batch of another material or "
    "business, a material of another business; nothing is consumed"}


@WORK_ORDERS.action('consume-material', 'consume', press=False,
    summary="Record the consumption of a material from a batch",
    request=CONSUME, response=CONSUMED, status=201, errors=_CONSUME_ERRORS)
def consume_material(call, production):
    """The quantity and the wastage leave the business's stock from the
    batch into production; callable several times per material. Safe
    under concurrency: the material is locked, so simultaneous
    consumptions never take more than the batch holds."""
    (line,), materials = _consume(production, call.body, [call.body],
        lambda index: '')
    return {'work_order_id': production.id, **line, 'materials': materials}


@WORK_ORDERS.action('consume-materials', 'consume', press=False,
    summary="Record the consumption of many materials at once",
    request=CONSUME_LINES, response=CONSUMED_LINES, status=201,
    errors={**_CONSUME_ERRORS,
        409: "A line's batch (or the warehouse) holds less than asked "
        "(batch_exhausted, naming lines.N.batch or lines.N.quantity), or "
        "the work order is not in progress (invalid_state); nothing is "
        "consumed",
        422: "Invalid fields, each named lines.N.<field> in error.fields "
        "(as for consume-material); nothing is consumed"})
def consume_materials(call, production):
    """A whole issue of materials to the work order (a stock entry of many
    lines) in one transaction: all lines are consumed or none. Lines of
    the same material or batch add up against what it holds."""
    lines, materials = _consume(production, call.body, call.body['lines'],
        lambda index: f'lines.{index}.')
    return {'work_order_id': production.id, 'lines': lines,
        'materials': materials}


@WORK_ORDERS.action('complete', 'complete', press=False,
    summary="Complete a work order", request=COMPLETE, response=COMPLETED,
    errors={403: _OPERATOR_ONLY,
        409: "The work order is not scheduled or in progress "
        "(invalid_state), or an operation is not finished "
        "(operations_not_finished)",
        422: "Invalid fields, each named in error.fields: quantity_produced "
        "not above zero, produced + rejected beyond the quantity planned "
        "and the business's tolerance, reject_reason missing for rejects; "
        "nothing is changed"})
def complete_work_order(call, production):
    """The good quantity goes into the warehouse under a new output batch
    (its cost = materials consumed at cost + machine hours × hourly rate +
    operator time); the rejected quantity into the scrap location with its
    reason; unconsumed planned materials are released."""
    Production = WORK_ORDERS.Model
    body = call.body
    Production.complete([production],
        Decimal(str(body['quantity_produced'])),
        quantity_rejected=Decimal(str(body.get('quantity_rejected', 0))),
        reject_reason=body.get('reject_reason'),
        batch_number=body.get('batch_number'))
    production = Production(production.id)
    lot, unit_cost = production.output_batch()
    item = _read_work_order(production)
    return {
        'work_order': item,
        'output_batch': ({'id': lot.id, 'name': lot.number}
            if lot else None),
        'quantity_produced': item['quantity_produced'],
        'scrap_quantity': item['quantity_rejected'],
        'cost': item['cost'],
        'unit_cost': unit_cost,
        }


WORK_ORDERS.action('cancel', 'cancel', summary="Cancel a work order",
    response=WORK_ORDER_ITEM, module=__name__,
    description="Its reservations are released; what was consumed stays "
    "consumed.",
    errors={403: _ADMIN_ONLY,
        409: "The work order is completed or already cancelled "
        "(invalid_state)"})(None)


@WORK_ORDERS.route('GET', '/materials',
    summary="The material consumption of a work order", response=MATERIALS)
def work_order_materials(call, production):
    """Per material: planned (BOM quantity with wastage, scaled), actual,
    wastage and the batches consumed from — derived from the work order's
    stock moves in one query."""
    return {'work_order_id': production.id,
        'items': _consumption(production)}


# Operations -----------------------------------------------------------------

_OP_READ = ['id', 'production', 'operation_name', 'sequence', 'work_center',
    'work_center.rec_name', 'operator', 'operator.rec_name', 'status',
    'active_cycles', 'planned_duration', 'actual_duration']


def _operation_item(row):
    return {
        'id': row['id'],
        'work_order_id': row['production'],
        'operation_name': row['operation_name'],
        'sequence': row['sequence'],
        'machine': _ref(row, 'work_center'),
        'operator': _ref(row, 'operator'),
        'status': row['status'],
        'running': bool(row['active_cycles']),
        'planned_duration': row['planned_duration'],
        'actual_duration': _minutes(row['actual_duration']),
        }


@WORK_ORDERS.route('GET', '/operations',
    summary="The operations of a work order", response=OPERATIONS)
def work_order_operations(call, production):
    """In sequence, each with its machine, operator, status, planned and
    actual minutes (from the work cycles)."""
    Work = Pool().get('production.work')
    rows = Work.search_read([('production', '=', production.id)],
        order=[('sequence', 'ASC NULLS LAST'), ('id', 'ASC')],
        fields_names=_OP_READ)
    return {'work_order_id': production.id,
        'items': [_operation_item(r) for r in rows]}


def _read_operation(work):
    row, = work.__class__.read([work.id], _OP_READ)
    return _operation_item(row)


def operation_action(name, summary, errors, request):
    "An action on an operation of a work order: the button name of works"
    return record_action(WORK_ORDERS, 'operations', 'operation_id',
        'production.work', 'production', 'operation', name, name,
        summary=summary, request=request, response=OPERATION,
        errors={403: _OPERATOR_ONLY, **errors})


def _run(call, work, button):
    "Start or resume the operation work as button, run by operator_id"
    operator = None
    if call.body.get('operator_id'):
        operator = _of_business('company.employee', call.body['operator_id'],
            'operator_id', message="No such employee in the business.")
    try:
        getattr(work.__class__, button)([work], operator=operator)
    except mfg_errors.OperationConflictError as e:
        # 409 naming the operation running on the machine or by the
        # operator
        running = e.running
        raise ApiError(409, 'operation_conflict', _message(e),
            {'running_operation': running.rec_name if running
                else _message(e)},
            details={'running_operation': _named(running)})
    return _read_operation(work)


_STARTS = ("The machine or the operator already runs another operation "
    "(operation_conflict: error.fields.running_operation and "
    "error.details.running_operation name it), the operation runs "
    "already (operation_running) or is completed (operation_completed), or "
    "the work order is not in progress (invalid_state); nothing is started")


@operation_action('start', "Start (or resume) an operation",
    {409: _STARTS, 422: "operator_id is not an employee of the business"},
    OPERATION_START)
def start_operation(call, work):
    """A work cycle starts now on the operation's machine. A machine runs
    one operation at a time and an operator one at a time."""
    return _run(call, work, 'start')


@operation_action('resume', "Resume a paused operation",
    {409: "As start; and an operation never started is started, not "
        "resumed (operation_not_started)",
        422: "operator_id is not an employee of the business"},
    OPERATION_START)
def resume_operation(call, work):
    "A new work cycle of the operation starts now."
    return _run(call, work, 'resume')


@operation_action('pause', "Pause a running operation",
    {409: "The operation is not running (operation_not_running)",
        422: "quantity is negative"}, OPERATION_STOP)
def pause_operation(call, work):
    """Its running work cycle ends now (its time counts in the actual
    duration); resume starts another."""
    work.__class__.pause([work], call.body.get('quantity'))
    return _read_operation(work)


@operation_action('complete', "Complete an operation",
    {409: "The operation never started (operation_not_running)",
        422: "quantity is negative"}, OPERATION_STOP)
def complete_operation(call, work):
    """Its running work cycle ends now with the quantity processed (default:
    what remains of the work order); the operation is completed."""
    work.__class__.complete([work], call.body.get('quantity'))
    return _read_operation(work)


# BOMs and routings ----------------------------------------------------------
#
# BOMs are Tryton's production.bom of the business, with versions (one
# active per product, monitorbizz_manufacturing's bom.py: New Version and
# Activate as the desk's buttons); routings are production.routing, their
# operations routing steps (an operation name, a machine or a machine
# type, minutes per unit and set-up minutes).

BOM_PATH = '/api/manufacturing/boms'
ROUTING_PATH = '/api/manufacturing/routings'
_UNIT_IN = {'type': ['string', 'null'], 'minLength': 1, 'maxLength': 10,
    'description': "Symbol of a unit of the material's kind; default: the "
    "material's unit"}
_BOM_LINE_IN = record({
        'material_id': {**ID, 'description': "A material (or product) of "
            "the business, not the product made"},
        'quantity': {**_QUANTITY_IN, 'description': "For the BOM's output "
            "quantity; greater than zero"},
        'unit': _UNIT_IN,
        'wastage_percent': decimal(2, 100, description="Lost in "
            "processing: work orders plan quantity × (1 + wastage % / "
            "100); default 0"),
        }, required=['material_id', 'quantity'])
_BOM_INPUT = {
    'name': {'type': ['string', 'null'], 'minLength': 1, 'maxLength': 200,
        'description': "Default: the product's name"},
    'quantity': {**_QUANTITY_IN, 'description': "Output quantity the lines "
        "make, in the product's unit; greater than zero (default 1)"},
    'lines': {'type': 'array', 'minItems': 1, 'maxItems': 500,
        'items': _BOM_LINE_IN},
    }


def _input_schemas(name, properties, required, update, create_only=None):
    """The schemas of creating name (required fields, create_only ones
    added) and of changing it (update: what the change does)"""
    return (
        define(f'{name}Create', {
                'type': 'object',
                'required': required,
                'additionalProperties': False,
                'properties': {**(create_only or {}), **properties},
                }),
        define(f'{name}Update', {
                'type': 'object',
                'description': f"The fields to change; {update}",
                'additionalProperties': False,
                'properties': properties,
                }))


BOM_CREATE, BOM_UPDATE = _input_schemas('BOM', _BOM_INPUT,
    ['product_id', 'lines'], "lines replace all the lines. The quantity "
    "and lines of a BOM used by a work order are kept (409 bom_in_use): "
    "make a new version", create_only={'product_id': {**ID,
            'description': "A manufactured product of the business"}})
BOM_ITEM = define('BOM', record({
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'product': REF,
            'version': {'type': 'integer'},
            'active': {'type': 'boolean', 'description': "The product's "
                "BOM in use: one active version per product"},
            'quantity': {**DECIMAL, 'description': "Output quantity"},
            'unit': {'type': ['string', 'null']},
            'used': {'type': 'boolean', 'description': "Used by a work "
                "order: its quantity and lines are kept"},
            'lines': {'type': 'array', 'items': record({
                        'id': {'type': 'integer'},
                        'material': REF,
                        'code': {'type': ['string', 'null']},
                        'quantity': DECIMAL,
                        'unit': {'type': 'string'},
                        'wastage_percent': DECIMAL,
                        })},
            'routings': {'type': 'array', 'items': REF},
            }))
_OPERATION_IN = record({
        'sequence': {'type': ['integer', 'null'], 'minimum': 0,
            'maximum': MAX_ID, 'description': "Order of the operation "
            "(default: its place in the list)"},
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 200},
        'machine_id': {**NULLABLE_ID, 'description': "The machine it runs "
            "on"},
        'machine_type_id': {**NULLABLE_ID, 'description': "Else a machine "
            "of this type under the work order's machine; neither: the "
            "work order's machine"},
        'minutes_per_unit': decimal(2, 10 ** 6, types=['number', 'string',
                'null']),
        'setup_minutes': decimal(2, 10 ** 6, types=['number', 'string',
                'null']),
        }, required=['name'])
_ROUTING_INPUT = {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 200},
    'product_id': {**NULLABLE_ID, 'description': "The routing of this "
        "product: linked to its active BOM (or bom_id) and used with it"},
    'bom_id': {**NULLABLE_ID, 'description': "The BOM the routing is for "
        "(default: the product's active BOM)"},
    'operations': {'type': 'array', 'minItems': 1, 'maxItems': 200,
        'items': _OPERATION_IN},
    }
ROUTING_CREATE, ROUTING_UPDATE = _input_schemas('Routing', _ROUTING_INPUT,
    ['name', 'operations'], "operations replace all the operations (work "
    "orders already scheduled keep theirs)")
ROUTING_ITEM = define('Routing', record({
            'id': {'type': 'integer'},
            'name': {'type': 'string'},
            'boms': {'type': 'array', 'items': REF},
            'products': {'type': 'array', 'items': REF,
                'description': "The products made with it"},
            'operations': {'type': 'array', 'items': record({
                        'id': {'type': 'integer'},
                        'sequence': {'type': ['integer', 'null']},
                        'name': {'type': 'string'},
                        'machine': REF,
                        'machine_type': REF,
                        'minutes_per_unit': NULLABLE_DECIMAL,
                        'setup_minutes': NULLABLE_DECIMAL,
                        })},
            }))

_BOM_ERRORS = {
    403: "Only owners, managers and production supervisors change BOMs "
    "(forbidden)",
    422: "Invalid fields, each named in error.fields (lines.N.material_id, "
    "lines.N.unit, ...); nothing is changed",
    }
_BOM_FIELD_NAMES = {'inputs': 'lines', 'outputs': 'quantity',
    'wastage_percent': 'wastage_percent', 'product': 'material_id'}
_ROUTING_FIELD_NAMES = {'steps': 'operations', 'work_center': 'machine_id',
    'boms': 'bom_id'}


def _bom_item(bom):
    output = bom.outputs[0] if bom.outputs else None
    return {
        'id': bom.id,
        'name': bom.name,
        'product': _named(output.product) if output else None,
        'version': bom.version,
        'active': bool(bom.active),
        'quantity': _dec(output.quantity if output else 0),
        'unit': output.unit.symbol if output else None,
        'used': bom.is_used(),
        'lines': [{
                'id': i.id,
                'material': _named(i.product),
                'code': i.product.code,
                'quantity': _dec(i.quantity),
                'unit': i.unit.symbol,
                'wastage_percent': i.wastage_percent or Decimal(0),
                } for i in bom.inputs],
        'routings': [_named(r) for r in bom.routings],
        }


BOMS = _resource(BOM_PATH, 'production.bom', 'BOM', _bom_item)


def _product_made(body):
    return _of_business('product.product', body['product_id'],
        'product_id', domain=[('producible', '=', True)],
        message="No such manufactured product in the current business.")


def _bom_lines(lines, product):
    "Tryton values of the BOM inputs of the request's lines"
    values = []
    for i, line in enumerate(lines):
        field = f'lines.{i}.material_id'
        material = _of_business('product.product', line['material_id'],
            field, message="No such material in the current business.")
        if material == product:
            raise ApiError(422, 'validation_error', "A BOM cannot use the "
                "product it makes.", {field: "is the product made"})
        unit = material.default_uom
        if line.get('unit'):
            unit = _unit(line['unit'], f'lines.{i}.unit',
                category=material.default_uom.category)
        values.append({
                'product': material.id,
                'quantity': float(_positive(line['quantity'],
                        f'lines.{i}.quantity')),
                'unit': unit.id,
                'wastage_percent': Decimal(str(
                        line.get('wastage_percent') or 0)),
                })
    return values


BOM_LIST_QUERY = {
    **LIST_QUERY,
    'product_id': {**ID, 'description': "Only the BOMs (versions) of "
        "this product"},
    'active': {'type': 'boolean', 'description': "Only the active (true) "
        "or the inactive (false) versions; default: both"},
    }


@endpoint('GET', BOM_PATH, summary="The BOMs of the current business",
    query=BOM_LIST_QUERY, response=page_of(BOM_ITEM))
def list_boms(call):
    """Every version, newest first per product unless ?active= says;
    ?product_id= filters; ?q= searches the name; ?order= accepts name,
    version, id."""
    BOM = BOMS.Model
    domain = _filters(call.query, {'product_id': 'outputs.product',
            'active': 'active'})
    with Transaction().set_context(active_test=False):
        page = paginate(call, BOM, ['id'], domain=domain,
            orders={'name': 'name', 'version': 'version', 'id': 'id'},
            search='name',
            default_order=[('name', 'ASC'), ('version', 'DESC'),
                ('id', 'DESC')])
        page['items'] = [_bom_item(b)
            for b in BOM.browse([r['id'] for r in page['items']])]
    return page


@endpoint('POST', BOM_PATH, summary="Create a BOM (a new version)",
    request=BOM_CREATE, response=BOM_ITEM, status=201,
    field_names=_BOM_FIELD_NAMES,
    errors={**_BOM_ERRORS, 422: "Invalid fields, each named: a product "
        "not manufactured or of another business, a material of another "
        "business or the product itself, a unit of another kind, a "
        "quantity not above zero; nothing is created"})
def create_bom(call):
    """The next version of the product's BOMs; the first one is active
    (the product's BOM, used by its work orders and sales), later ones
    inactive until activated."""
    BOM = BOMS.Model
    Pool().get('ir.model.access').check('production.bom', 'create')
    body = call.body
    product = _product_made(body)
    quantity = _positive(body.get('quantity', 1), 'quantity')
    bom, = BOM.create_version(product, body.get('name'), quantity,
        _bom_lines(body['lines'], product))
    with Transaction().set_context(active_test=False):
        return _created(call, BOMS, bom)


@endpoint('GET', f'{BOM_PATH}/<int:id>', summary="A BOM", response=BOM_ITEM,
    errors={404: BOMS.not_found})
def get_bom(call, id):
    "Active or not, with its lines and routings."
    with Transaction().set_context(active_test=False):
        return _bom_item(BOMS.get(id))


@BOMS.route('PUT', summary="Change a BOM", request=BOM_UPDATE,
    response=BOM_ITEM, field_names=_BOM_FIELD_NAMES,
    errors={**_BOM_ERRORS,
        409: "The BOM is used by a work order: its quantity and lines are "
        "kept (bom_in_use), make a new version; nothing is changed"})
def update_bom(call, bom):
    "The name always; the quantity and lines while no work order uses it."
    BOM = BOMS.Model
    body = call.body
    with Transaction().set_context(active_test=False):
        Pool().get('ir.model.access').check('production.bom', 'write')
        output = bom.outputs[0] if bom.outputs else None
        values = {}
        if body.get('name'):
            values['name'] = body['name']
        if 'lines' in body:
            values['inputs'] = [
                ('delete', [i.id for i in bom.inputs]),
                ('create', _bom_lines(body['lines'],
                        output.product if output else None)),
                ]
        if 'quantity' in body and output:
            values['outputs'] = [('write', [output.id], {
                        'quantity': float(_positive(body['quantity'],
                                'quantity'))})]
        if values:
            BOM.write([bom], values)
        return _bom_item(BOM(bom.id))


@BOMS.action('new-version', 'new_version',
    summary="Copy a BOM as the next version of its product",
    response=BOM_ITEM, status=201, errors={403: _BOM_ERRORS[403]})
def new_bom_version(call, bom):
    """The copy (lines, output and routings) is the next version, inactive:
    change it, then activate it."""
    BOM = BOMS.Model
    with Transaction().set_context(active_test=False):
        copy = max(BOM.versions(bom.made_products()),
            key=lambda b: (b.version or 0, b.id))
        return _created(call, BOMS, copy)


@BOMS.action('activate', 'activate',
    summary="Make a BOM the active one of its product",
    response=BOM_ITEM, errors={403: _BOM_ERRORS[403]})
def activate_bom(call, bom):
    """The product's other versions are deactivated and the product (its
    sales and new work orders) uses this one, with its routing. Work
    orders already made keep their BOM."""
    with Transaction().set_context(active_test=False):
        return _bom_item(BOMS.Model(bom.id))


def _routing_item(routing):
    ProductBom = Pool().get('product.product-production.bom')
    rows = ProductBom.search([('routing', '=', routing.id)],
        order=[('id', 'ASC')])
    products = []
    for row in rows:
        if row.product not in products:
            products.append(row.product)
    return {
        'id': routing.id,
        'name': routing.name,
        'boms': [_named(b) for b in routing.boms],
        'products': [_named(p) for p in products],
        'operations': [{
                'id': s.id,
                'sequence': s.sequence,
                'name': s.operation.name,
                'machine': _named(s.work_center),
                'machine_type': _named(s.operation.work_center_category),
                'minutes_per_unit': s.minutes_per_unit,
                'setup_minutes': s.setup_minutes,
                } for s in routing.steps],
        }


ROUTINGS = _resource(ROUTING_PATH, 'production.routing', 'routing',
    _routing_item)


def _operations(operations):
    """Tryton values of the routing steps of the request's operations: the
    business's routing operation of the name and machine type (made when
    missing)"""
    Operation = Pool().get('production.routing.operation')
    steps = []
    for i, op in enumerate(operations):
        machine = machine_type = None
        if op.get('machine_id'):
            machine = _of_business('production.work.center',
                op['machine_id'], f'operations.{i}.machine_id',
                message="No such machine in the current business.")
        if op.get('machine_type_id'):
            machine_type = _of_business('production.work.center.category',
                op['machine_type_id'], f'operations.{i}.machine_type_id',
                message="No such machine type in the current business.")
        if machine and machine_type and machine.category != machine_type:
            raise ApiError(422, 'validation_error', "The machine is not of "
                "the machine type.", {f'operations.{i}.machine_id':
                    "is not of machine_type_id"})
        operation = Operation.get_or_create(op['name'],
            machine_type or (machine.category if machine else None))
        steps.append({
                'sequence': op['sequence'] if op.get('sequence') is not None
                else i + 1,
                'operation': operation.id,
                'work_center': machine.id if machine else None,
                **{k: Decimal(str(op[k])) if op.get(k) is not None else None
                    for k in ['minutes_per_unit', 'setup_minutes']},
                })
    return steps


def _routing_target(body):
    """(product, BOM) the routing is for: the BOM given (making the product
    if both are given), else the product's BOM in use"""
    product = bom = None
    if body.get('product_id'):
        product = _product_made(body)
    if body.get('bom_id'):
        bom = _of_business('production.bom', body['bom_id'], 'bom_id',
            message="No such BOM in the current business.")
        if product and product not in bom.made_products():
            raise ApiError(422, 'validation_error', "The BOM does not make "
                "the product.", {'bom_id': "does not make product_id"})
    elif product:
        bom = product.production_bom.bom if product.production_bom else None
        if not bom:
            raise ApiError(422, 'validation_error', "The product has no "
                "BOM: create one first (or give bom_id).",
                {'product_id': "has no active BOM"})
    return product, bom


def _use_routing(routing, product, bom):
    "The routing given for the product: the product uses it with the BOM"
    if product and bom and bom.active:
        Pool().get('product.product').put_bom_first([product], bom, routing)


ROUTING_LIST_QUERY = {
    **LIST_QUERY,
    'product_id': {**ID, 'description': "Only the routings of this "
        "product's BOMs"},
    'bom_id': {**ID, 'description': "Only the routings of this BOM"},
    }
_ROUTING_ERRORS = {
    403: "Only owners, managers and production supervisors change "
    "routings (forbidden)",
    422: "Invalid fields, each named in error.fields (operations.N."
    "machine_id, ...): a product, BOM, machine or machine type of another "
    "business, a BOM not making the product; nothing is changed",
    }


@endpoint('GET', ROUTING_PATH, summary="The routings of the current business",
    query=ROUTING_LIST_QUERY, response=page_of(ROUTING_ITEM))
def list_routings(call):
    "?q= searches the name; ?product_id= and ?bom_id= filter."
    Routing = ROUTINGS.Model
    domain = _filters(call.query, {'product_id': 'boms.outputs.product',
            'bom_id': 'boms'})
    with Transaction().set_context(active_test=False):
        page = paginate(call, Routing, ['id'], domain=domain,
            orders={'name': 'name', 'id': 'id'}, search='name',
            default_order=[('name', 'ASC'), ('id', 'ASC')])
    page['items'] = [_routing_item(r)
        for r in Routing.browse([r['id'] for r in page['items']])]
    return page


@endpoint('POST', ROUTING_PATH, summary="Create a routing",
    request=ROUTING_CREATE, response=ROUTING_ITEM, status=201,
    field_names=_ROUTING_FIELD_NAMES, errors=_ROUTING_ERRORS)
def create_routing(call):
    """Its operations in sequence, each on a machine, on a machine of a
    type or on the work order's machine. For a product (or a BOM): linked
    to the BOM, and the product's routing when given for the product (or
    when the product has none)."""
    Routing = ROUTINGS.Model
    Pool().get('ir.model.access').check('production.routing', 'create')
    product, bom = _routing_target(call.body)
    steps = _operations(call.body['operations'])
    routing, = Routing.create([{
                'name': call.body['name'],
                'boms': [('add', [bom.id])] if bom else [],
                'steps': [('create', steps)],
                }])
    _use_routing(routing, product, bom)
    return _created(call, ROUTINGS, routing)


ROUTINGS.read("A routing", response=ROUTING_ITEM, module=__name__,
    description="With its operations, BOMs and the products made with it.")


@ROUTINGS.route('PUT', summary="Change a routing", request=ROUTING_UPDATE,
    response=ROUTING_ITEM, field_names=_ROUTING_FIELD_NAMES,
    errors=_ROUTING_ERRORS)
def update_routing(call, routing):
    """operations replace the routing's operations: work orders already
    scheduled keep the operations they have."""
    Routing = ROUTINGS.Model
    body = call.body
    Pool().get('ir.model.access').check('production.routing', 'write')
    product, bom = _routing_target(body)
    values = {}
    if body.get('name'):
        values['name'] = body['name']
    if bom and bom not in routing.boms:
        values['boms'] = [('add', [bom.id])]
    if 'operations' in body:
        values['steps'] = [('delete', [s.id for s in routing.steps]),
            ('create', _operations(body['operations']))]
    if values:
        Routing.write([routing], values)
    _use_routing(Routing(routing.id), product, bom)
    return _routing_item(Routing(routing.id))
