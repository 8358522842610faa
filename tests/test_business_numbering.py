"""Document numbering is per business: every new business starts at 001,
and customers created at the same moment never share a code."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

import run  # scripts/run.py


@pytest.fixture(scope='module')
def admin(live_server):
    return live_server.login('admin', run.ADMIN_PASSWORD)


def new_owner(live_server, admin):
    "A fresh platform user, logged in"
    login = f'owner-{uuid.uuid4().hex[:8]}@example.in'
    password = f'pw-{uuid.uuid4().hex}'
    admin.call('res.user', 'create', [{
                'login': login, 'name': 'Owner', 'email': login,
                'password': password}])
    return live_server.login(login, password), login, password


def test_new_businesses_start_numbering_at_001(live_server, admin):
    session, login, password = new_owner(live_server, admin)
    first = session.call('company.company', 'provision',
        {'name': 'Sahyadri Tools', 'state': 'IN-MH'})
    second = session.call('company.company', 'provision',
        {'name': 'Cauvery Castings', 'state': 'IN-KA'})
    codes = {}
    for company in [first, second]:
        session.call('res.user', 'switch_business', company)
        session = live_server.login(login, password)
        assert session.context['company'] == company
        session.context['party_kind'] = 'customer'
        customer_id, = session.call('party.party', 'create',
            [{'name': 'First customer'}])
        session.context['party_kind'] = 'vendor'
        vendor_id, = session.call('party.party', 'create',
            [{'name': 'First vendor'}])
        del session.context['party_kind']
        codes[company] = [p['code'] for p in session.search_read(
                'party.party', [('id', 'in', [customer_id, vendor_id])],
                ['code'], order=[('id', 'ASC')])]
    assert codes[first] == codes[second] == ['CUST-001', 'VEN-001']


def test_concurrent_customers_get_distinct_codes(live_server, demo):
    owner = demo['users'][0]

    def create(i):
        # Each request is its own session and transaction, as in production.
        session = live_server.login(owner['login'], owner['password'])
        session.context['party_kind'] = 'customer'
        party_id, = session.call('party.party', 'create',
            [{'name': f'Walk-in customer {i}'}])
        return party_id

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = list(pool.map(create, range(20)))
    session = live_server.login(owner['login'], owner['password'])
    codes = [p['code'] for p in session.search_read('party.party',
            [('id', 'in', ids)], ['code'])]
    assert len(codes) == 20
    assert len(set(codes)) == 20
    assert all(code.startswith('CUST-') for code in codes)
    # Numbering continues after the demo's three customers.
    assert min(codes) == 'CUST-004'
