"""Invoice numbers are gap-free per business and fiscal year (issue 16):
Tryton's strict sequence numbers an invoice when it is posted, so drafts
have no number, a deleted draft leaves no gap, and invoices posted at the
same moment by the live server (each request its own transaction) get
consecutive numbers without duplicates."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import run  # scripts/run.py

POSTINGS = 20


def _business(live_server):
    "A new business (numbering from 001) of a new owner, logged in"
    admin = live_server.login('admin', run.ADMIN_PASSWORD)
    login = f'owner-{uuid.uuid4().hex[:8]}@example.in'
    password = f'pw-{uuid.uuid4().hex}'
    admin.call('res.user', 'create', [{
                'login': login, 'name': 'Owner', 'email': login,
                'password': password}])
    session = live_server.login(login, password)
    company = session.call('company.company', 'provision',
        {'name': 'Godavari Fasteners', 'state': 'IN-MH',
            'gstin': '27AAGCG1234F1ZY'})
    session.call('res.user', 'switch_business', company)
    return company, login, password


def _draft_invoice(session, company, party, accounts, journal, i):
    invoice_id, = session.call('account.invoice', 'create', [{
                'type': 'out',
                'company': company,
                'party': party['id'],
                'invoice_address': party['addresses'][0],
                'account': accounts['receivable'],
                'journal': journal,
                'lines': [['create', [{
                                'type': 'line',
                                'description': f'Job work {i}',
                                'account': accounts['revenue'],
                                'quantity': 1,
                                'unit_price': f'{100 + i}.00',
                                }]]],
                }])
    return invoice_id


def test_concurrent_postings_get_consecutive_numbers(live_server):
    company, login, password = _business(live_server)
    session = live_server.login(login, password)
    assert session.context['company'] == company
    session.context['party_kind'] = 'customer'
    party_id, = session.call('party.party', 'create', [{
                'name': 'Deccan Pumps',
                'addresses': [['create', [{'city': 'Pune'}]]],
                }])
    del session.context['party_kind']
    party, = session.search_read('party.party', [('id', '=', party_id)],
        ['addresses'])
    accounts = {}
    for kind in ['receivable', 'revenue']:
        accounts[kind] = session.search_read('account.account', [
                (f'type.{kind}', '=', True), ('company', '=', company),
                ('closed', '!=', True)], ['id'], limit=1,
            order=[('code', 'ASC')])[0]['id']
    journal = session.search_read('account.journal',
        [('type', '=', 'revenue')], ['id'], limit=1)[0]['id']
    fiscalyear, = session.search_read('account.fiscalyear',
        [('company', '=', company)], ['start_date'])
    year = fiscalyear['start_date']['year']

    # A draft has no number; deleting one leaves no gap.
    scrap = _draft_invoice(session, company, party, accounts, journal, 0)
    number, = session.search_read('account.invoice', [('id', '=', scrap)],
        ['number'])
    assert number['number'] is None
    session.call('account.invoice', 'delete', [scrap])

    drafts = [_draft_invoice(session, company, party, accounts, journal, i)
        for i in range(1, POSTINGS + 1)]

    def post(invoice_id):
        # Each posting is its own session and transaction, as in production.
        own = live_server.login(login, password)
        own.call('account.invoice', 'post', [invoice_id])
        return invoice_id

    with ThreadPoolExecutor(max_workers=POSTINGS) as pool:
        posted = list(pool.map(post, drafts))
    assert sorted(posted) == sorted(drafts)

    invoices = session.search_read('account.invoice',
        [('id', 'in', drafts)], ['number', 'state'])
    assert {i['state'] for i in invoices} == {'posted'}
    numbers = sorted(i['number'] for i in invoices)
    assert numbers == [f'INV-{year}-{n:03d}' for n in range(1, POSTINGS + 1)]
