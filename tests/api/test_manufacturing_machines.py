"""/api/manufacturing/machines against the live trytond: machines (CRUD,
filters, MCH- numbering), their downtime log and status, utilization and
OEE checked against hand-computed figures, their work orders; refusals
(401, 403, 404, 409, 422) changing nothing; two simultaneous starts of
operations on one machine through JSON-RPC: exactly one runs."""
import datetime as dt
import threading
from decimal import Decimal

import pytest

from .test_inventory_api import Shop, error_of

PATH = '/api/manufacturing/machines'
KA = {'name': "Rao Mouldings Pvt Ltd", 'state': 'IN-KA'}


@pytest.fixture
def shop(api, mail, live_server):
    return Shop(api, mail, server=live_server)


def D(value):
    return Decimal(str(value))


def jdatetime(value):
    return {'__class__': 'datetime', 'year': value.year,
        'month': value.month, 'day': value.day, 'hour': value.hour,
        'minute': value.minute, 'second': value.second,
        'microsecond': value.microsecond}


def jdate(value):
    return {'__class__': 'date', 'year': value.year, 'month': value.month,
        'day': value.day}


def machine_rows(sql, business):
    return {
        'machines': sql('SELECT COUNT(*) FROM production_work_center '
            'WHERE company = %s', (business,))[0][0],
        'downtimes': sql('SELECT COUNT(*), COUNT(end_time) '
            'FROM production_work_center_downtime WHERE company = %s',
            (business,))[0],
        }


def test_machines_crud(shop, api, conforms, sql):
    "Create, list, filter, read, update, delete and deactivate machines"
    lathe_type = shop.rpc('production.work.center.category', 'create',
        [{'name': 'CNC Lathe'}])[0]
    response = api.post(PATH, token=shop.token, json={
            'name': "Ace Jobber XL", 'machine_type_id': lathe_type,
            'make': "Ace Micromatic", 'model': "Jobber XL",
            'hourly_rate': 650, 'hours_per_day': 16,
            'working_days': ['tue', 'mon', 'wed', 'thu', 'fri'],
            'location': "Bay 1"})
    assert response.status_code == 201, response.text
    conforms(response, PATH)
    lathe = response.json()
    assert response.headers['Location'].endswith(f"{PATH}/{lathe['id']}")
    assert lathe['code'] == 'MCH-001'
    assert lathe['machine_type'] == {'id': lathe_type, 'name': 'CNC Lathe'}
    assert (lathe['make'], lathe['model'], lathe['location']) == (
        "Ace Micromatic", "Jobber XL", "Bay 1")
    assert (D(lathe['hourly_rate']), D(lathe['hours_per_day'])) == (650, 16)
    assert lathe['working_days'] == ['mon', 'tue', 'wed', 'thu', 'fri']
    assert (lathe['status'], lathe['running_operation'], lathe['active']) \
        == ('available', None, True)
    press = shop.post(PATH, {'name': "Press Brake 100T"})
    assert press['code'] == 'MCH-002' and press['machine_type'] is None
    assert D(press['hours_per_day']) == 8
    assert press['working_days'] == ['mon', 'tue', 'wed', 'thu', 'fri', 'sat']

    response = api.get(PATH, token=shop.token)
    conforms(response, PATH)
    page = response.json()
    assert page['total'] == 2
    assert [m['code'] for m in page['items']] == ['MCH-001', 'MCH-002']
    assert [m['code'] for m in shop.get(PATH, q='press')['items']] == [
        'MCH-002']
    assert [m['code'] for m in shop.get(PATH, q='MCH-001')['items']] == [
        'MCH-001']
    assert [m['code'] for m in shop.get(PATH,
            machine_type_id=lathe_type)['items']] == ['MCH-001']
    assert shop.get(PATH, status='available')['total'] == 2
    assert shop.get(PATH, status='breakdown')['total'] == 0
    page = shop.get(PATH, limit=1, offset=1, order='-code')
    assert (page['total'], [m['code'] for m in page['items']]) == (
        2, ['MCH-001'])

    response = api.get(f"{PATH}/{lathe['id']}", token=shop.token)
    conforms(response, f'{PATH}/{{id}}')
    assert response.json() == lathe
    response = api.put(f"{PATH}/{lathe['id']}", token=shop.token, json={
            'hourly_rate': 700.5, 'location': "Bay 2"})
    conforms(response, f'{PATH}/{{id}}', 'put')
    changed = response.json()
    assert (D(changed['hourly_rate']), changed['location'],
        changed['code']) == (D('700.50'), "Bay 2", 'MCH-001')

    # Unused: deleted; used by an operation: deactivated
    response = api.delete(f"{PATH}/{press['id']}", token=shop.token)
    conforms(response, f'{PATH}/{{id}}', 'delete')
    assert response.json() == {'id': press['id'], 'deleted': True,
        'active': False}
    shop.get(f"{PATH}/{press['id']}", expect=404)
    routing_step_user(shop, lathe['id'])
    assert shop._check(api.delete(f"{PATH}/{lathe['id']}",
            token=shop.token), 200) == {
        'id': lathe['id'], 'deleted': False, 'active': False}
    assert shop.get(PATH)['total'] == 0
    assert [m['code'] for m in shop.get(PATH, active='false')['items']] \
        == ['MCH-001']
    assert shop.get(f"{PATH}/{lathe['id']}")['active'] is False


def routing_step_user(shop, machine_id):
    "A routing whose step names the machine"
    operation = shop.rpc('production.routing.operation', 'create',
        [{'name': 'Turning'}])[0]
    shop.rpc('production.routing', 'create', [{'name': 'Flange',
                'steps': [('create', [{'operation': operation,
                                'work_center': machine_id}])]}])


def test_machine_refusals(shop, api, mail, live_server, sql):
    "401, 403, 404 and 422 answers change nothing"
    other = Shop(api, mail, profile=KA, server=live_server)
    other_type = other.rpc('production.work.center.category', 'create',
        [{'name': 'VMC'}])[0]
    theirs = other.post(PATH, {'name': "Their VMC"})
    mine = shop.post(PATH, {'name': "My VMC"})
    before = machine_rows(sql, shop.id)

    error_of(api.get(PATH), 401, 'missing_token')
    error_of(api.post(PATH, json={'name': 'x'}, token='nope'), 401)
    for bad, field in [
            ({}, 'name'),
            ({'name': ''}, 'name'),
            ({'name': 'x', 'hours_per_day': 25}, 'hours_per_day'),
            ({'name': 'x', 'hours_per_day': 0}, 'hours_per_day'),
            ({'name': 'x', 'hourly_rate': -1}, 'hourly_rate'),
            ({'name': 'x', 'working_days': ['someday']}, 'working_days.0'),
            ({'name': 'x', 'machine_type_id': other_type},
                'machine_type_id'),
            ({'name': 'x', 'colour': 'red'}, 'colour'),
            ]:
        error = error_of(api.post(PATH, token=shop.token, json=bad), 422)
        assert field in error['fields'], (bad, error)
    error = error_of(api.put(f"{PATH}/{mine['id']}", token=shop.token,
            json={'machine_type_id': other_type}), 422)
    assert 'machine_type_id' in error['fields']
    # Another business's machine is not found, whatever is asked
    for method, suffix, body in [
            ('get', '', None), ('put', '', {'name': 'Mine now'}),
            ('delete', '', None), ('get', '/utilization', None),
            ('get', '/work-orders', None),
            ('post', '/downtime', {'reason': 'breakdown'})]:
        kwargs = {'token': shop.token}
        if body is not None:
            kwargs['json'] = body
        error_of(getattr(api, method)(f"{PATH}/{theirs['id']}{suffix}",
                **kwargs), 404, 'not_found')
    assert shop.get(PATH)['total'] == 1
    # An operator may read machines and log downtime, not change machines
    operator = shop.member('operator')
    assert shop.get(PATH, token=operator)['total'] == 1
    error_of(api.post(PATH, token=operator, json={'name': 'x'}), 403,
        'forbidden')
    error_of(api.put(f"{PATH}/{mine['id']}", token=operator,
            json={'name': 'x'}), 403, 'forbidden')
    error_of(api.delete(f"{PATH}/{mine['id']}", token=operator), 403)
    assert machine_rows(sql, shop.id) == before
    assert other.get(f"{PATH}/{theirs['id']}")['name'] == "Their VMC"


def test_downtime_log_and_status(shop, api, conforms, sql):
    "Start and end downtime; one open downtime per machine"
    vmc = shop.post(PATH, {'name': "BFW Surya 600"})
    path = f"{PATH}/{vmc['id']}/downtime"
    response = api.post(path, token=shop.token, json={
            'reason': 'breakdown', 'description': "Coolant pump failed"})
    assert response.status_code == 201, response.text
    conforms(response, f'{PATH}/{{id}}/downtime', 'post')
    down = response.json()
    assert (down['reason'], down['open'], down['end']) == (
        'breakdown', True, None)
    assert shop.get(f"{PATH}/{vmc['id']}")['status'] == 'breakdown'
    assert [m['id'] for m in shop.get(PATH, status='breakdown')['items']] \
        == [vmc['id']]
    assert shop.get(PATH, status='available')['total'] == 0
    before = machine_rows(sql, shop.id)
    error = error_of(api.post(path, token=shop.token,
            json={'reason': 'maintenance'}), 409, 'downtime_open')
    assert 'BFW Surya 600' in error['message']
    error_of(api.post(path, token=shop.token, json={'reason': 'nap'}), 422)
    end_path = f"{path}/{down['id']}/end"
    error = error_of(api.post(end_path, token=shop.token,
            json={'end': '2000-01-01T00:00:00'}), 422)
    assert 'end' in error['fields']
    assert machine_rows(sql, shop.id) == before
    response = api.post(end_path, token=shop.token, json={})
    assert response.status_code == 200, response.text
    conforms(response, f'{PATH}/{{id}}/downtime/{{downtime_id}}/end',
        'post')
    ended = response.json()
    assert ended['open'] is False and ended['end']
    error_of(api.post(end_path, token=shop.token, json={}), 409,
        'downtime_closed')
    error_of(api.post(f"{path}/{down['id'] + 10000}/end", token=shop.token,
            json={}), 404)
    assert shop.get(f"{PATH}/{vmc['id']}")['status'] == 'available'
    # Other reasons leave the machine idle
    setup = shop.post(path, {'reason': 'setup',
            'start': '2026-11-16T06:30:00Z'})
    assert setup['start'].startswith('2026-11-16T06:30')
    assert shop.get(f"{PATH}/{vmc['id']}")['status'] == 'idle'
    # An operator reports breakdowns too
    operator = shop.member('operator')
    shop.post(f"{path}/{setup['id']}/end", {}, token=operator, expect=200)
    shop.post(path, {'reason': 'breakdown'}, token=operator)


def made_to_plan(shop, monday):
    """A lathe and a VMC; 100 flanges turned 3 min/piece + 30 min set-up on
    the lathe and drilled 1.5 min/piece + 15 min on the VMC, as the desk
    does it (JSON-RPC); the work order is waiting for its start"""
    company = shop.id
    business = shop.rpc('company.company', 'read', [company],
        ['warehouse'])[0]
    warehouse = shop.rpc('stock.location', 'read', [business['warehouse']],
        ['production_location'])[0]
    unit, = shop.rpc('product.uom', 'search', [('name', '=', 'Unit')])
    kg, = shop.rpc('product.uom', 'search', [('symbol', '=', 'kg')])
    lathe = shop.post(PATH, {'name': "Lathe", 'hourly_rate': 650})
    vmc = shop.post(PATH, {'name': "VMC", 'hours_per_day': 10,
            'working_days': ['mon', 'tue', 'wed', 'thu', 'fri']})

    def item(name, uom, producible=False):
        template, = shop.rpc('product.template', 'create', [{
                    'name': name, 'type': 'goods', 'default_uom': uom,
                    'producible': producible, 'list_price': 0,
                    'products': [('create', [{}])]}])
        return shop.rpc('product.template', 'read', [template],
            ['products'])[0]['products'][0]
    bar, flange = item('Bar', kg), item('Flange', unit, producible=True)
    bom, = shop.rpc('production.bom', 'create', [{'name': 'Flange',
                'inputs': [('create', [{'product': bar, 'quantity': 2.5,
                                'unit': kg, 'wastage_percent': '4'}])],
                'outputs': [('create', [{'product': flange, 'quantity': 1,
                                'unit': unit}])]}])
    turning, drilling = shop.rpc('production.routing.operation', 'create',
        [{'name': 'Turning'}, {'name': 'Drilling'}])
    routing, = shop.rpc('production.routing', 'create', [{'name': 'Flange',
                'boms': [('add', [bom])],
                'steps': [('create', [
                            {'operation': turning, 'sequence': 1,
                                'work_center': lathe['id'],
                                'minutes_per_unit': '3',
                                'setup_minutes': '30'},
                            {'operation': drilling, 'sequence': 2,
                                'work_center': vmc['id'],
                                'minutes_per_unit': '1.5',
                                'setup_minutes': '15'}])]}])
    production, = shop.rpc('production', 'create', [{
                'product': flange, 'bom': bom, 'routing': routing,
                'quantity': 100, 'unit': unit, 'work_center': lathe['id'],
                'warehouse': business['warehouse'],
                'location': warehouse['production_location'],
                'planned_date': jdate(monday),
                'planned_start_date': jdate(monday), 'company': company}])
    shop.rpc('production', 'wait', [production])
    shop.rpc('production', 'assign_force', [production])
    turn, drill = shop.rpc('production', 'read', [production],
        ['works'])[0]['works']
    return lathe, vmc, production, turn, drill


def timed_cycle(shop, work, start, end):
    cycle, = shop.rpc('production.work.cycle', 'create', [{
                'work': work, 'start_time': jdatetime(start)}])
    shop.rpc('production.work.cycle', 'run', [cycle])
    shop.rpc('production.work.cycle', 'write', [cycle],
        {'end_time': jdatetime(end)})
    shop.rpc('production.work.cycle', 'do', [cycle])
    return cycle


def test_utilization_and_oee(shop, api, conforms):
    """Monday's figures of two machines, against figures computed by hand:
    the lathe turns 100 flanges 08:00-13:00, breaks down 13:00-14:00 and
    was under maintenance from 22:00 the night before to 02:00; the VMC
    drills them 14:00-17:00"""
    monday = dt.date(2026, 11, 16)
    at = lambda day, hour: dt.datetime.combine(day, dt.time(hour))
    lathe, vmc, production, turn, drill = made_to_plan(shop, monday)
    timed_cycle(shop, turn, at(monday, 8), at(monday, 13))
    for reason, start, end in [
            ('breakdown', at(monday, 13), at(monday, 14)),
            ('maintenance', at(monday - dt.timedelta(days=1), 22),
                at(monday, 2))]:
        down = shop.post(f"{PATH}/{lathe['id']}/downtime", {
                'reason': reason, 'start': start.isoformat()})
        shop.post(f"{PATH}/{lathe['id']}/downtime/{down['id']}/end",
            {'end': end.isoformat()}, expect=200)
    timed_cycle(shop, drill, at(monday, 14), at(monday, 17))

    path = f"{PATH}/{lathe['id']}/utilization"
    response = api.get(path, token=shop.token,
        params={'from': '2026-11-16', 'to': '2026-11-16'})
    conforms(response, f'{PATH}/{{id}}/utilization')
    figures = response.json()
    # available 8 h (Mon-Sat, 8 h/day); planned 100 × 3 + 30 = 330 min;
    # run 5 h; downtime 1 h + the 2 h of the night inside Monday = 3 h;
    # utilization 5 / 8; availability 5 / (5 + 3); performance 100 × 3 min
    # = 5 h ideal / 5 h run; quality 100 good, 0 rejected
    assert {k: D(figures[k]) for k in ['available_hours', 'planned_hours',
            'run_hours', 'downtime_hours', 'ideal_hours',
            'utilization_pct', 'good_quantity', 'rejected_quantity']} == {
        'available_hours': D('8'), 'planned_hours': D('5.5'),
        'run_hours': D('5'), 'downtime_hours': D('3'),
        'ideal_hours': D('5'), 'utilization_pct': D('62.5'),
        'good_quantity': D('100'), 'rejected_quantity': D('0')}
    assert {k: D(v) for k, v in figures['oee'].items()} == {
        'availability': D('0.625'), 'performance': D('1'),
        'quality': D('1'), 'oee': D('0.625')}
    assert figures['machine']['id'] == lathe['id']

    # The VMC: 10 h a day; planned 100 × 1.5 + 15 = 165 min; run 3 h;
    # ideal 100 × 1.5 min = 2.5 h, so performance 2.5 / 3
    figures = shop.get(f"{PATH}/{vmc['id']}/utilization",
        **{'from': '2026-11-16', 'to': '2026-11-16'})
    assert [D(figures[k]) for k in ['available_hours', 'planned_hours',
            'run_hours', 'downtime_hours', 'utilization_pct']] == [
        D('10'), D('2.75'), D('3'), D('0'), D('30')]
    assert {k: D(v) for k, v in figures['oee'].items()} == {
        'availability': D('1'), 'performance': D('0.8333'),
        'quality': D('1'), 'oee': D('0.8333')}
    # Over the week: 5 days of 10 h
    figures = shop.get(f"{PATH}/{vmc['id']}/utilization",
        **{'from': '2026-11-16', 'to': '2026-11-22'})
    assert (D(figures['available_hours']), D(figures['utilization_pct'])) \
        == (50, 6)
    # A Sunday: nothing available, nothing run, no ratio
    figures = shop.get(f"{PATH}/{vmc['id']}/utilization",
        **{'from': '2026-11-22', 'to': '2026-11-22'})
    assert D(figures['available_hours']) == 0
    assert figures['utilization_pct'] is None
    assert figures['oee']['oee'] is None

    error = error_of(api.get(path, token=shop.token, params={
                'from': '2026-11-17', 'to': '2026-11-16'}), 422)
    assert 'from' in error['fields']
    error_of(api.get(path, token=shop.token, params={'from': 'monday'}),
        400, 'invalid_query')
    error_of(api.get(path), 401)

    # The machine's work orders with their operations on it
    response = api.get(f"{PATH}/{lathe['id']}/work-orders",
        token=shop.token)
    conforms(response, f'{PATH}/{{id}}/work-orders')
    page = response.json()
    assert page['total'] == 1
    order, = page['items']
    assert order['id'] == production and order['number'].startswith('WO-')
    assert [(o['operation_name'], o['status'], D(o['planned_duration']))
        for o in order['operations']] == [
        ('Turning', 'completed', D('330'))]


def test_simultaneous_starts_on_one_machine(shop, live_server):
    """Two operators start operations on the same machine at the same time
    through JSON-RPC: exactly one runs, the other is refused naming it"""
    monday = dt.date.today()
    lathe, vmc, production, turn, drill = made_to_plan(shop, monday)
    # Both operations on the lathe, each by its own operator
    shop.rpc('production.work', 'write', [drill],
        {'work_center': lathe['id']})
    cycles = shop.rpc('production.work.cycle', 'create',
        [{'work': turn}, {'work': drill}])
    employees = []
    for name in ['Sagar', 'Vinod']:
        party, = shop.rpc('party.party', 'create', [{'name': name}])
        employees.extend(shop.rpc('company.employee', 'create', [{
                        'party': party, 'company': shop.id}]))
    for cycle, employee in zip(cycles, employees):
        shop.rpc('production.work.cycle', 'write', [cycle],
            {'operator': employee})
    session = live_server.login(shop.email, shop.password)
    barrier = threading.Barrier(2)
    results = {}

    def start(cycle):
        barrier.wait()
        try:
            session.call('production.work.cycle', 'run', [cycle])
            results[cycle] = 'ran'
        except Exception as e:
            results[cycle] = str(e)
    threads = [threading.Thread(target=start, args=(c,)) for c in cycles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r == 'ran' for r in results.values()) == [False, True], \
        results
    refused, = [r for r in results.values() if r != 'ran']
    assert 'is running' in refused and 'Lathe' in refused, refused
    states = shop.rpc('production.work.cycle', 'read', cycles, ['state'])
    assert sorted(s['state'] for s in states) == ['draft', 'running']
    machine = shop.get(f"{PATH}/{lathe['id']}")
    assert machine['status'] == 'running'
    assert machine['running_operation']['name'].startswith(
        ('Turning', 'Drilling'))


def test_machine_views_count_every_work_order_on_it(shop, api, conforms,
        sql):
    """Issue 14 §5: the work order's machine and its operations' machines
    are one truth. A work order made with machine_id and no routing runs on
    that machine: its list shows it and utilization counts its 6 good and 1
    rejected and its run time (start to completion); a work order whose
    machine changes before its operations start takes them along"""
    every_day = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
    press = shop.post(PATH, {'name': "Press 100T", 'hours_per_day': 24,
            'working_days': every_day})
    lathe = shop.post(PATH, {'name': "Lathe", 'working_days': every_day})
    other = shop.post(PATH, {'name': "Lathe 2", 'working_days': every_day})
    bracket = shop.post('/api/inventory/products', {'name': "Bracket",
            'unit': 'u', 'selling_price': 90})
    wo = '/api/manufacturing/work-orders'
    order = shop.post(wo, {'product_id': bracket['id'],
            'quantity_planned': 7, 'machine_id': press['id']})
    assert order['machine']['id'] == press['id']
    shop.post(f"{wo}/{order['id']}/schedule", expect=200)
    shop.post(f"{wo}/{order['id']}/start", expect=200)
    # Started two hours ago (the API starts it now)
    started = dt.datetime.now().replace(microsecond=0) \
        - dt.timedelta(hours=2)
    sql('UPDATE production SET actual_start_time = %s WHERE id = %s',
        (started, order['id']))
    shop.post(f"{wo}/{order['id']}/complete", {'quantity_produced': 6,
            'quantity_rejected': 1, 'reject_reason': "Crack at bend"},
        expect=200)

    response = api.get(f"{PATH}/{press['id']}/work-orders",
        token=shop.token)
    conforms(response, f'{PATH}/{{id}}/work-orders')
    page = response.json()
    assert page['total'] == 1, page
    item, = page['items']
    assert (item['id'], item['state'], item['operations']) == (
        order['id'], 'done', [])
    today = dt.date.today()
    response = api.get(f"{PATH}/{press['id']}/utilization",
        token=shop.token, params={
            'from': (today - dt.timedelta(days=1)).isoformat(),
            'to': today.isoformat()})
    conforms(response, f'{PATH}/{{id}}/utilization')
    figures = response.json()
    assert (D(figures['good_quantity']), D(figures['rejected_quantity'])) \
        == (6, 1)
    assert D(figures['run_hours']) == 2, figures
    assert D(figures['utilization_pct']) == D('4.17')  # 2 h of 48 h
    assert D(figures['oee']['quality']) == D('0.8571')
    assert D(figures['oee']['availability']) == 1
    # Nothing of it on the other machines
    assert shop.get(f"{PATH}/{lathe['id']}/work-orders")['total'] == 0
    assert D(shop.get(f"{PATH}/{lathe['id']}/utilization")[
        'good_quantity']) == 0

    # A routing whose operation names no machine: it runs on the work
    # order's machine, and follows it when the machine changes
    bar = shop.post('/api/inventory/materials', {'name': "Bar",
            'unit': 'kg', 'cost_price': 80})
    shaft = shop.post('/api/inventory/products', {'name': "Shaft",
            'unit': 'u', 'selling_price': 300})
    shop.post('/api/manufacturing/boms', {'product_id': shaft['id'],
            'lines': [{'material_id': bar['id'], 'quantity': '0.5'}]})
    shop.post('/api/manufacturing/routings', {'name': "Shaft",
            'product_id': shaft['id'], 'operations': [
                {'name': 'Turning', 'minutes_per_unit': 6}]})
    shop.post('/api/inventory/adjustments', {'reason': "Opening stock",
            'lines': [{'item_id': bar['id'], 'counted_quantity': 10}]})
    order = shop.post(wo, {'product_id': shaft['id'],
            'quantity_planned': 10, 'machine_id': lathe['id']})
    assert order['routing'] is not None
    shop.post(f"{wo}/{order['id']}/schedule", expect=200)
    operation, = shop.get(f"{wo}/{order['id']}/operations")['items']
    assert operation['machine']['id'] == lathe['id']
    assert shop.get(f"{PATH}/{lathe['id']}/work-orders")['total'] == 1

    moved = shop.put(f"{wo}/{order['id']}", {'machine_id': other['id']})
    assert moved['machine']['id'] == other['id']
    operation, = shop.get(f"{wo}/{order['id']}/operations")['items']
    assert operation['machine']['id'] == other['id']
    assert shop.get(f"{PATH}/{lathe['id']}/work-orders")['total'] == 0
    item, = shop.get(f"{PATH}/{other['id']}/work-orders")['items']
    assert (item['id'], [o['id'] for o in item['operations']]) == (
        order['id'], [operation['id']])
    # Planned on the machine it moved to: 10 × 6 min
    figures = shop.get(f"{PATH}/{other['id']}/utilization")
    assert D(figures['planned_hours']) == 1
    assert D(shop.get(f"{PATH}/{lathe['id']}/utilization")[
        'planned_hours']) == 0
