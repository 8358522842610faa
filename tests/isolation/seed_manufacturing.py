"""Manufacturing records of a business (monitorbizz_manufacturing): a
machine with its type, make, model, capacity and location, its downtime log
(a closed breakdown and an open maintenance), a work order scheduled,
started, consuming material with wastage and completed (output batch,
scrap, quality inspection and alert), each marked with the label."""
import datetime as dt


def jdatetime(value):
    return {'__class__': 'datetime', 'year': value.year,
        'month': value.month, 'day': value.day, 'hour': value.hour,
        'minute': value.minute, 'second': value.second,
        'microsecond': value.microsecond}


def seed(owner, ids, label, session):
    o = owner
    ids['manufacturing_machine_type'] = o.create(
        'production.work.center.category', {'name': f'{label} VMC'})
    ids['manufacturing_machine'] = o.create('production.work.center', {
            'name': f'{label} BFW Surya 600',
            'category': ids['manufacturing_machine_type'],
            'make': f'{label} BFW', 'machine_model': f'{label} Surya 600',
            'location': f'{label} Bay 2', 'cost_price': 900,
            'cost_method': 'hour', 'hours_per_day': 10,
            'working_days': ['mon', 'tue', 'wed', 'thu', 'fri']})
    start = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=5)
    ids['manufacturing_downtime'] = o.create(
        'production.work.center.downtime', {
            'work_center': ids['manufacturing_machine'],
            'reason': 'breakdown',
            'description': f'{label} spindle belt snapped',
            'start_time': jdatetime(start),
            'end_time': jdatetime(start + dt.timedelta(hours=1))})
    # A work order on the machine, its operation timed by a work cycle
    # (start, end, operator, quantity processed)
    production = o.read('production', ids['production'],
        ['product', 'bom', 'routing', 'unit', 'warehouse', 'location',
            'planned_date'])
    ids['manufacturing_production'] = o.create('production', {
            'product': production['product'], 'bom': production['bom'],
            'routing': production['routing'],
            'work_center': ids['manufacturing_machine'], 'quantity': 4,
            'unit': production['unit'],
            'warehouse': production['warehouse'],
            'location': production['location'],
            'planned_date': production['planned_date'],
            'planned_start_date': production['planned_date']})
    o.call('production', 'wait', [ids['manufacturing_production']])
    o.call('production', 'assign_force', [ids['manufacturing_production']])
    ids['manufacturing_work'], = o.read('production',
        ids['manufacturing_production'], ['works'])['works']
    ids['manufacturing_cycle'] = o.create('production.work.cycle', {
            'work': ids['manufacturing_work'],
            'start_time': jdatetime(start),
            'end_time': jdatetime(start + dt.timedelta(minutes=40)),
            'quantity': 4})
    o.call('production.work.cycle', 'run', [ids['manufacturing_cycle']])
    o.call('production.work.cycle', 'do', [ids['manufacturing_cycle']])
    # Then the machine goes under maintenance (no operation starts on it)
    ids['manufacturing_open_downtime'] = o.create(
        'production.work.center.downtime', {
            'work_center': ids['manufacturing_machine'],
            'reason': 'maintenance',
            'description': f'{label} oil change',
            'start_time': jdatetime(start + dt.timedelta(hours=2))})

    # A work order through its life, as the desk does it: schedule
    # (reservation), start, the consume wizard (material with wastage),
    # the complete wizard (good output in a new batch, a reject in scrap)
    ids['manufacturing_work_order'] = o.create('production', {
            'product': production['product'], 'bom': production['bom'],
            'quantity': 2, 'unit': production['unit'],
            'warehouse': production['warehouse'],
            'location': production['location'],
            'planned_date': production['planned_date'],
            'planned_start_date': production['planned_date'],
            'priority': 'high',
            'notes': f'{label} rush order'})
    o.call('production', 'schedule', [ids['manufacturing_work_order']])
    o.call('production', 'start', [ids['manufacturing_work_order']])
    run_wizard(o, 'production.consume', ids['manufacturing_work_order'],
        'consume', {'material': ids['material'], 'quantity': 3,
            'wastage_quantity': 0.5, 'batch': None})
    run_wizard(o, 'production.complete', ids['manufacturing_work_order'],
        'complete', {'quantity_produced': 1, 'quantity_rejected': 1,
            'reject_reason': f'{label} bore undersize',
            'batch_number': f'{label}-FG-001'})
    work_order = o.read('production', ids['manufacturing_work_order'],
        ['inputs', 'outputs', 'quality_inspections', 'state'])
    assert work_order['state'] == 'done', work_order
    ids['manufacturing_consumption_moves'] = work_order['inputs']
    ids['manufacturing_output_moves'] = work_order['outputs']
    ids['manufacturing_output_lot'], = o.search('stock.lot',
        [('number', '=', f'{label}-FG-001')])
    ids['manufacturing_inspection'], = work_order['quality_inspections']
    ids['manufacturing_reject_alert'], = o.search('quality.alert', [
            ('origin', '=', 'quality.inspection,%s'
                % ids['manufacturing_inspection'])])


def run_wizard(o, name, record_id, state, values):
    "Run wizard name on the record, its start form filled with values"
    context = {**o.session.context, 'active_model': 'production',
        'active_id': record_id, 'active_ids': [record_id]}
    session_id, _, _ = o.server.rpc(f'wizard.{name}.create', [context],
        o.session.session)
    try:
        o.server.rpc(f'wizard.{name}.execute',
            [session_id, {'start': values}, state, context],
            o.session.session)
    finally:
        o.server.rpc(f'wizard.{name}.delete', [session_id, context],
            o.session.session)
