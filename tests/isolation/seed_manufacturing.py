"""Manufacturing records of a business (monitorbizz_manufacturing): a
machine with its type, make, model, capacity and location, its downtime log
(a closed breakdown and an open maintenance), each marked with the label."""
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
    ids['manufacturing_open_downtime'] = o.create(
        'production.work.center.downtime', {
            'work_center': ids['manufacturing_machine'],
            'reason': 'maintenance',
            'description': f'{label} oil change',
            'start_time': jdatetime(start + dt.timedelta(hours=2))})
