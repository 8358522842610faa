# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/manufacturing/... endpoints of monitorbizz_manufacturing (seed
sections 3.B and 6).

Machines are Tryton's work centers (production.work.center) of the current
business; their downtime log is production.work.center.downtime, their
operations Tryton's production works timed by work cycles. Every handler
runs as the calling user in their current business: the machines of other
businesses are invisible (404) through Tryton's record rules.
"""
import datetime as dt

from trytond.pool import Pool
from trytond.transaction import Transaction

from ..manufacturing.exceptions import DowntimeError
from .framework import (
    LIST_QUERY, ApiError, endpoint, json_response, page_of, paginate)
from .schema import define

ID = {'type': 'integer', 'minimum': 1}
NULLABLE_ID = {'type': ['integer', 'null'], 'minimum': 1}
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
    'hourly_rate': {'type': 'number', 'minimum': 0,
        'description': "Cost of an hour of the machine (business currency)"},
    'hours_per_day': {'type': 'number', 'minimum': 0.01, 'maximum': 24,
        'description': "Hours the machine works on a working day"},
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
MACHINE = define('Machine', {
        'type': 'object',
        'required': list(_MACHINE_OUTPUT),
        'additionalProperties': False,
        'properties': _MACHINE_OUTPUT,
        })
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
                "(a running cycle counts until now)"},
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
                "the machine in the period"},
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

_NOT_FOUND = "The machine does not exist in the current business (not_found)"
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
        'active': row['active'],
        }


def _machine_id(id):
    "The id of a machine of the current business (404 when invisible)"
    WorkCenter = Pool().get('production.work.center')
    with Transaction().set_context(active_test=False):
        if not WorkCenter.search([('id', '=', id)], limit=1):
            raise ApiError(404, 'not_found',
                "No such machine in the current business.")
    return id


def _read_machine(id):
    WorkCenter = Pool().get('production.work.center')
    with Transaction().set_context(active_test=False):
        row, = WorkCenter.search_read([('id', '=', id)],
            fields_names=_MACHINE_READ)
    return _machine_item(row)


def _machine_values(body):
    Category = Pool().get('production.work.center.category')
    type_id = body.get('machine_type_id')
    if type_id and not Category.search([('id', '=', type_id)], limit=1):
        raise ApiError(422, 'validation_error',
            "No such machine type in the current business.",
            {'machine_type_id': "is not a machine type of the business"})
    values = {}
    for api, tryton in [('name', 'name'), ('make', 'make'),
            ('model', 'machine_model'), ('location', 'location'),
            ('machine_type_id', 'category')]:
        if api in body:
            values[tryton] = body[api]
    if 'hourly_rate' in body:
        values['cost_price'] = body['hourly_rate']
        values['cost_method'] = 'hour'
    if 'hours_per_day' in body:
        values['hours_per_day'] = body['hours_per_day']
    if 'working_days' in body:
        values['working_days'] = sorted(set(body['working_days']),
            key=WEEKDAYS.index)
    return values


MACHINE_LIST_QUERY = {
    **LIST_QUERY,
    'status': {'type': 'string', 'enum': STATUSES,
        'description': "Only the machines of this status"},
    'machine_type_id': {'type': 'integer', 'minimum': 1,
        'description': "Only the machines of this type"},
    'active': {'type': 'boolean', 'default': True,
        'description': "false: the deactivated machines"},
    }
_MACHINE_ORDERS = {'code': 'code', 'name': 'name', 'id': 'id'}


@endpoint('GET', '/api/manufacturing/machines',
    summary="The machines of the current business",
    query=MACHINE_LIST_QUERY, response=page_of(MACHINE))
def list_machines(call):
    """?q= searches code and name; ?status= and ?machine_type_id= filter;
    ?order= accepts code, name, id."""
    WorkCenter = Pool().get('production.work.center')
    query = call.query
    domain = []
    if query.get('status'):
        domain.append(('status', '=', query['status']))
    if query.get('machine_type_id'):
        domain.append(('category', '=', query['machine_type_id']))
    active = query.get('active', True)
    with Transaction().set_context(active_test=active):
        if not active:
            domain.append(('active', '=', False))
        return paginate(call, WorkCenter, _MACHINE_READ, domain=domain,
            orders=_MACHINE_ORDERS, search='rec_name',
            serialize=_machine_item,
            default_order=[('code', 'ASC'), ('id', 'ASC')])


@endpoint('POST', '/api/manufacturing/machines',
    summary="Create a machine", request=MACHINE_CREATE, response=MACHINE,
    status=201, errors=_MACHINE_ERRORS, field_names=_FIELD_NAMES)
def create_machine(call):
    """Numbered MCH-001... in the business, in its warehouse; hourly cost
    (Tryton's per-hour cost method), 8 hours a day Monday to Saturday
    unless given."""
    WorkCenter = Pool().get('production.work.center')
    machine, = WorkCenter.create([_machine_values(call.body)])
    payload = _read_machine(machine.id)
    location = (f'{call.request.script_root}/api/manufacturing/machines/'
        f'{machine.id}')
    return json_response(payload, 201, headers={'Location': location})


@endpoint('GET', '/api/manufacturing/machines/<int:id>',
    summary="A machine", response=MACHINE, errors={404: _NOT_FOUND})
def get_machine(call, id):
    "Deactivated machines are found too (active: false)."
    return _read_machine(_machine_id(id))


@endpoint('PUT', '/api/manufacturing/machines/<int:id>',
    summary="Change a machine", request=MACHINE_UPDATE, response=MACHINE,
    errors={404: _NOT_FOUND, **_MACHINE_ERRORS}, field_names=_FIELD_NAMES)
def update_machine(call, id):
    "The code is the business's numbering and cannot change."
    WorkCenter = Pool().get('production.work.center')
    values = _machine_values(call.body)
    if values:
        WorkCenter.write([WorkCenter(_machine_id(id))], values)
    return _read_machine(_machine_id(id))


@endpoint('DELETE', '/api/manufacturing/machines/<int:id>',
    summary="Delete a machine", response=MACHINE_DELETED,
    errors={404: _NOT_FOUND, 403: _MACHINE_ERRORS[403]})
def delete_machine(call, id):
    """A machine never used is deleted; one named by routing steps or
    operations is deactivated (it leaves lists, its history stays)."""
    pool = Pool()
    WorkCenter = pool.get('production.work.center')
    Work = pool.get('production.work')
    Step = pool.get('production.routing.step')
    machine = WorkCenter(_machine_id(id))
    with Transaction().set_context(active_test=False):
        used = (Work.search([('work_center', '=', id)], limit=1)
            or Step.search([('work_center', '=', id)], limit=1)
            or WorkCenter.search([('parent', '=', id)], limit=1))
    if used:
        WorkCenter.write([machine], {'active': False})
        return {'id': id, 'deleted': False, 'active': False}
    WorkCenter.delete([machine])
    return {'id': id, 'deleted': True, 'active': False}


def _downtime_item(downtime):
    return {
        'id': downtime.id,
        'machine': {'id': downtime.work_center.id,
            'name': downtime.work_center.rec_name},
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


@endpoint('POST', '/api/manufacturing/machines/<int:id>/downtime',
    summary="Start a downtime of a machine", request=DOWNTIME_START,
    response=DOWNTIME, status=201, field_names=_FIELD_NAMES,
    errors={404: _NOT_FOUND,
        403: "The caller's role may not log downtime (forbidden)",
        409: "The machine already has an open downtime "
        "(downtime_open); nothing is changed"})
def start_downtime(call, id):
    """Maintenance or breakdown downtime is the machine's status until it
    ends; other reasons make it idle. Downtime feeds utilization and OEE."""
    pool = Pool()
    Downtime = pool.get('production.work.center.downtime')
    body = call.body
    values = {
        'work_center': _machine_id(id),
        'reason': body['reason'],
        'description': body.get('description'),
        }
    if body.get('start'):
        values['start_time'] = _naive_utc(body['start'])
    try:
        downtime, = Downtime.create([values])
    except DowntimeError as e:
        raise ApiError(409, 'downtime_open', e.message)
    return json_response(_downtime_item(downtime), 201)


@endpoint('POST',
    '/api/manufacturing/machines/<int:id>/downtime/<int:downtime_id>/end',
    summary="End a downtime of a machine", request=DOWNTIME_END,
    response=DOWNTIME, field_names=_FIELD_NAMES,
    errors={404: "The machine or the downtime does not exist in the "
        "current business (not_found)",
        409: "The downtime has already ended (downtime_closed)",
        422: "The end is before the start (end)"})
def end_downtime(call, id, downtime_id):
    "The end defaults to now."
    pool = Pool()
    Downtime = pool.get('production.work.center.downtime')
    downtimes = Downtime.search([
            ('id', '=', downtime_id),
            ('work_center', '=', _machine_id(id)),
            ], limit=1)
    if not downtimes:
        raise ApiError(404, 'not_found',
            "No such downtime of the machine in the current business.")
    downtime, = downtimes
    if downtime.end_time:
        raise ApiError(409, 'downtime_closed',
            "The downtime has already ended.")
    end = _naive_utc(call.body.get('end')) or dt.datetime.now()
    if end < downtime.start_time:
        raise ApiError(422, 'validation_error',
            "The end is before the start of the downtime.",
            {'end': "must not be before the start"})
    Downtime.write([downtime], {'end_time': end})
    return _downtime_item(Downtime(downtime.id))


@endpoint('GET', '/api/manufacturing/machines/<int:id>/utilization',
    summary="Utilization and OEE of a machine for a period",
    query={
        'from': {'type': 'string', 'format': 'date',
            'description': "First day (default: 6 days before to)"},
        'to': {'type': 'string', 'format': 'date',
            'description': "Last day, included (default: today)"},
        },
    response=UTILIZATION,
    errors={404: _NOT_FOUND,
        422: "from is after to, or the period is longer than 366 days"})
def machine_utilization(call, id):
    """Hours and ratios of the machine over the days from..to (UTC),
    computed by SQL aggregation over Tryton's work cycles, the downtime
    log and the work orders' operations:

    - available_hours = working days in the period × hours per day
    - planned_hours = Σ planned durations of the operations on the machine
      of work orders planned to start in the period
    - run_hours = time of the work cycles on the machine in the period
    - downtime_hours = time of the downtime entries in the period
    - utilization_pct = run_hours / available_hours × 100
    - availability = run_hours / (run_hours + downtime_hours)
    - performance = ideal_hours / run_hours (at most 1), where ideal_hours =
      Σ quantity processed × routing minutes per unit / 60
    - quality = good / (good + rejected) of the work orders whose operations
      ran on the machine in the period
    - OEE = availability × performance × quality
    """
    WorkCenter = Pool().get('production.work.center')
    query = call.query
    to = query.get('to') or dt.date.today()
    from_ = query.get('from') or to - dt.timedelta(days=6)
    if from_ > to:
        raise ApiError(422, 'validation_error', "from is after to.",
            {'from': "must not be after to"})
    if (to - from_).days > 366:
        raise ApiError(422, 'validation_error',
            "The period is longer than 366 days.",
            {'from': "at most 366 days before to"})
    machine = WorkCenter(_machine_id(id))
    figures = WorkCenter.utilization(machine, from_, to)
    return {
        'machine': {'id': machine.id, 'name': machine.rec_name},
        'from': from_,
        'to': to,
        **{k: figures[k] for k in ['available_hours', 'planned_hours',
                'run_hours', 'downtime_hours', 'ideal_hours',
                'utilization_pct', 'good_quantity', 'rejected_quantity']},
        'oee': {k: figures[k] for k in ['availability', 'performance',
                'quality', 'oee']},
        }


@endpoint('GET', '/api/manufacturing/machines/<int:id>/work-orders',
    summary="The work orders with operations on a machine",
    query={k: LIST_QUERY[k] for k in ['limit', 'offset']},
    response=page_of(WORK_ORDER), errors={404: _NOT_FOUND})
def machine_work_orders(call, id):
    "Newest planned first, with their operations on the machine."
    pool = Pool()
    Production = pool.get('production')
    Work = pool.get('production.work')
    _machine_id(id)
    page = paginate(call, Production,
        ['id', 'number', 'product', 'product.rec_name', 'quantity', 'state',
            'planned_start_date'],
        domain=[('works.work_center', '=', id)],
        default_order=[('planned_start_date', 'DESC'), ('id', 'DESC')])
    works = Work.search_read([
            ('production', 'in', [r['id'] for r in page['items']]),
            ('work_center', '=', id),
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
