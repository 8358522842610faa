"""/api/businesses and /api/invitations against the live trytond: the
acceptance scenario of businesses (seed sections 1 and 6), bad input,
pagination and the errors of invitations."""
import base64
import io
import re

import pytest

from .conftest import new_email

PROFILE = {
    'name': "Kulkarni Precision Works",
    'trade_name': "KPW",
    'gstin': '27AAPFD1234K1ZB',
    'state': 'IN-MH',
    'street': "Plot 7, MIDC Bhosari",
    'city': "Pune",
    'postal_code': '411026',
    'phone': '+91 20 2712 0000',
    'email': 'accounts@kpw.example.in',
    }


@pytest.fixture
def counts(sql):
    "The rows of what provisioning and memberships create"
    def count():
        return {table: sql(f'SELECT COUNT(*) FROM "{table}"')[0][0]
            for table in ['company_company', 'party_party', 'res_user_role',
                'monitorbizz_business_invitation']}
    return count


def create(api, token, **values):
    response = api.post('/api/businesses', token=token,
        json={**PROFILE, **values})
    assert response.status_code == 201, response.text
    return response.json()


def error_of(response, status, code=None):
    assert response.status_code == status, response.text
    error = response.json()['error']
    if code:
        assert error['code'] == code, error
    return error


def test_businesses_acceptance(api, conforms, mail, counts):
    """A creates X and Y, invites B into X as operator; B joins with the
    e-mailed code, sees X only and cannot change it; A switches to Y and
    removes B, whose next call on X is refused."""
    a_email, _, a = api.register(name="Asha Kulkarni")
    a_token = a['token']

    # A creates two businesses; the first becomes the current one
    response = api.post('/api/businesses', token=a_token, json=PROFILE)
    assert response.status_code == 201, response.text
    conforms(response, '/api/businesses')
    x = response.json()
    assert response.headers['Location'].endswith(f"/api/businesses/{x['id']}")
    assert {k: x[k] for k in PROFILE} == PROFILE
    assert x['currency'] == 'INR'
    assert x['fiscal_year_start_month'] == 4
    assert x['owner'] == a['user']
    assert (x['role'], x['current']) == ('owner', True)
    y = create(api, a_token, name="Kulkarni Mouldings Pvt Ltd",
        trade_name=None, state='IN-KA', gstin='29AAACR5055K1Z3',
        fiscal_year_start_month=1, email=None)
    assert (y['role'], y['current']) == ('owner', False)
    assert (y['state'], y['trade_name'], y['email']) == ('IN-KA', None, None)
    assert y['fiscal_year_start_month'] == 1

    response = api.get('/api/businesses', token=a_token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses')
    assert response.json() == {
        'items': [
            {'id': x['id'], 'name': PROFILE['name'], 'trade_name': 'KPW',
                'role': 'owner', 'current': True},
            {'id': y['id'], 'name': "Kulkarni Mouldings Pvt Ltd",
                'trade_name': None, 'role': 'owner', 'current': False},
            ],
        'total': 2, 'limit': 20, 'offset': 0,
        }
    me = api.get('/api/auth/me', token=a_token).json()
    assert [b['id'] for b in me['businesses']] == [x['id'], y['id']]
    assert {b['role'] for b in me['businesses']} == {'owner'}
    assert me['current_business']['id'] == x['id']

    # A invites B into X as an operator: the code goes by e-mail only
    b_email = new_email()
    response = api.post(f"/api/businesses/{x['id']}/invitations",
        token=a_token, json={'email': b_email.upper(), 'role': 'operator'})
    assert response.status_code == 201, response.text
    conforms(response, '/api/businesses/{id}/invitations')
    invitation = response.json()
    assert invitation['email'] == b_email
    assert (invitation['role'], invitation['state']) == (
        'operator', 'pending')
    assert 'token' not in invitation
    message = mail(b_email)
    assert PROFILE['name'] in message['Subject']
    token = re.search(r'code:\s+(\S+)', message.get_payload()).group(1)
    assert token not in response.text

    response = api.get(f"/api/businesses/{x['id']}/invitations",
        token=a_token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses/{id}/invitations')
    assert response.json()['items'] == [invitation]
    assert token not in response.text

    # B registers with that e-mail and accepts
    _, _, b = api.register(email=b_email, name="Bala Murugan")
    b_token = b['token']
    assert b['businesses'] == []
    response = api.post('/api/invitations/accept', token=b_token,
        json={'token': token})
    assert response.status_code == 200, response.text
    conforms(response, '/api/invitations/accept')
    joined = response.json()
    assert joined['id'] == x['id']
    assert (joined['role'], joined['current']) == ('operator', True)
    assert joined['owner'] == a['user']
    # Single use: a second use is refused as such
    response = api.post('/api/invitations/accept', token=b_token,
        json={'token': token})
    error_of(response, 409, 'invitation_used')
    conforms(response, '/api/invitations/accept')
    response = api.get(f"/api/businesses/{x['id']}/invitations",
        token=a_token)
    assert response.json()['items'][0]['state'] == 'accepted'

    # B sees X only
    response = api.get('/api/businesses', token=b_token)
    assert response.status_code == 200, response.text
    assert response.json()['total'] == 1
    assert response.json()['items'] == [{'id': x['id'],
            'name': PROFILE['name'], 'trade_name': 'KPW',
            'role': 'operator', 'current': True}]
    me = api.get('/api/auth/me', token=b_token).json()
    assert me['businesses'] == [{'id': x['id'], 'name': PROFILE['name'],
            'role': 'operator'}]
    assert me['current_business']['id'] == x['id']
    response = api.get(f"/api/businesses/{x['id']}", token=b_token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses/{id}')
    assert response.json() == {**x, 'role': 'operator'}
    response = api.get(f"/api/businesses/{y['id']}", token=b_token)
    error_of(response, 404, 'business_not_found')
    conforms(response, '/api/businesses/{id}')

    # B cannot change X nor manage it
    before = counts()
    response = api.put(f"/api/businesses/{x['id']}", token=b_token,
        json={'trade_name': "Bala Fab"})
    error_of(response, 403, 'forbidden')
    conforms(response, '/api/businesses/{id}')
    response = api.put(f"/api/businesses/{y['id']}", token=b_token,
        json={'trade_name': "Bala Fab"})
    error_of(response, 404, 'business_not_found')
    response = api.post(f"/api/businesses/{x['id']}/invitations",
        token=b_token, json={'email': new_email(), 'role': 'owner'})
    error_of(response, 403, 'forbidden')
    response = api.get(f"/api/businesses/{x['id']}/invitations",
        token=b_token)
    error_of(response, 403, 'forbidden')
    response = api.delete(
        f"/api/businesses/{x['id']}/members/{a['user']['id']}",
        token=b_token)
    error_of(response, 403, 'forbidden')
    response = api.put(
        f"/api/businesses/{x['id']}/members/{b['user']['id']}",
        token=b_token, json={'role': 'owner'})
    error_of(response, 403, 'forbidden')
    assert counts() == before
    assert api.get(f"/api/businesses/{x['id']}",
        token=b_token).json()['trade_name'] == 'KPW'

    # The members of X, seen by any member
    response = api.get(f"/api/businesses/{x['id']}/members", token=b_token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses/{id}/members')
    assert response.json() == {
        'items': [
            {'user_id': a['user']['id'], 'name': "Asha Kulkarni",
                'email': a_email, 'role': 'owner'},
            {'user_id': b['user']['id'], 'name': "Bala Murugan",
                'email': b_email, 'role': 'operator'},
            ],
        'total': 2, 'limit': 20, 'offset': 0,
        }

    # A switches from X to Y
    response = api.post(f"/api/businesses/{y['id']}/switch", token=a_token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses/{id}/switch')
    assert (response.json()['id'], response.json()['current']) == (
        y['id'], True)
    me = api.get('/api/auth/me', token=a_token).json()
    assert me['current_business']['id'] == y['id']
    items = api.get('/api/businesses', token=a_token).json()['items']
    assert [(i['id'], i['current']) for i in items] == [
        (x['id'], False), (y['id'], True)]

    # Working in Y, A still manages X
    response = api.get(f"/api/businesses/{x['id']}/invitations",
        token=a_token)
    assert [i['id'] for i in response.json()['items']] == [invitation['id']]
    response = api.put(f"/api/businesses/{x['id']}", token=a_token,
        json={'trade_name': "Kulkarni Precision", 'city': "Pimpri",
            'phone': None, 'fiscal_year_start_month': 4})
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses/{id}')
    changed = response.json()
    assert (changed['trade_name'], changed['city'], changed['phone']) == (
        "Kulkarni Precision", "Pimpri", None)
    assert (changed['gstin'], changed['current']) == (PROFILE['gstin'],
        False)
    response = api.put(
        f"/api/businesses/{x['id']}/members/{b['user']['id']}",
        token=a_token, json={'role': 'sales'})
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses/{id}/members/{user_id}')
    assert response.json()['role'] == 'sales'

    # X keeps its owner
    for response in [
            api.put(f"/api/businesses/{x['id']}/members/{a['user']['id']}",
                token=a_token, json={'role': 'manager'}),
            api.delete(
                f"/api/businesses/{x['id']}/members/{a['user']['id']}",
                token=a_token),
            ]:
        error_of(response, 409, 'last_owner')
        conforms(response, '/api/businesses/{id}/members/{user_id}')

    # A removes B from X: B's next calls on X are refused
    response = api.delete(
        f"/api/businesses/{x['id']}/members/{b['user']['id']}",
        token=a_token)
    assert response.status_code == 204, response.text
    assert not response.content
    response = api.get(f"/api/businesses/{x['id']}", token=b_token)
    error_of(response, 404, 'business_not_found')
    response = api.get(f"/api/businesses/{x['id']}/members", token=b_token)
    error_of(response, 404, 'business_not_found')
    response = api.get('/api/businesses', token=b_token)
    assert response.json()['total'] == 0
    assert response.json()['items'] == []
    me = api.get('/api/auth/me', token=b_token).json()
    assert (me['businesses'], me['current_business']) == ([], None)
    response = api.post(f"/api/businesses/{x['id']}/switch", token=b_token)
    error_of(response, 403, 'not_a_member')
    response = api.delete(
        f"/api/businesses/{x['id']}/members/{b['user']['id']}",
        token=a_token)
    error_of(response, 404, 'member_not_found')
    members = api.get(f"/api/businesses/{x['id']}/members",
        token=a_token).json()
    assert [m['user_id'] for m in members['items']] == [a['user']['id']]


def test_bad_input_changes_nothing(api, conforms, counts):
    """Invalid profiles answer 422 naming the fields, switching to a
    business one is not a member of 403; the database is unchanged."""
    token = api.register()[2]['token']
    mine = create(api, token)
    other = create(api, api.register()[2]['token'], name="Other Works")
    before = counts()

    for body, fields in [
            ({**PROFILE, 'gstin': '27AAPFD1234K1ZX'}, {'gstin'}),
            # a valid GSTIN of Karnataka for a business of Maharashtra
            ({**PROFILE, 'gstin': '29AAACR5055K1Z3'}, {'gstin'}),
            ({**PROFILE, 'state': 'IN-XX'}, {'state'}),
            ({k: v for k, v in PROFILE.items() if k != 'name'}, {'name'}),
            ({**PROFILE, 'name': '   '}, {'name'}),
            ({**PROFILE, 'currency': 'XYZ'}, {'currency'}),
            ({**PROFILE, 'email': 'not-an-email'}, {'email'}),
            ({**PROFILE, 'fiscal_year_start_month': 13},
                {'fiscal_year_start_month'}),
            ({**PROFILE, 'owner': 1}, {'owner'}),
            ]:
        response = api.post('/api/businesses', token=token, json=body)
        error = error_of(response, 422)
        conforms(response, '/api/businesses')
        assert set(error['fields']) == fields, error
    assert counts() == before

    # Nothing changes, not even the valid fields sent with the invalid ones
    for body, fields in [
            ({'trade_name': "Changed", 'gstin': 'BAD'}, {'gstin'}),
            ({'trade_name': "Changed", 'currency': 'USD'}, {'currency'}),
            ({'trade_name': "Changed", 'name': ''}, {'name'}),
            ]:
        response = api.put(f"/api/businesses/{mine['id']}", token=token,
            json=body)
        error = error_of(response, 422)
        conforms(response, '/api/businesses/{id}')
        assert set(error['fields']) == fields, error
    assert api.get(f"/api/businesses/{mine['id']}",
        token=token).json() == mine
    response = api.put(f"/api/businesses/{other['id']}", token=token,
        json={'trade_name': "Changed"})
    error_of(response, 404, 'business_not_found')

    # Switching to a business one is not a member of, or to none
    for business_id in [other['id'], 999999999]:
        response = api.post(f"/api/businesses/{business_id}/switch",
            token=token)
        error_of(response, 403, 'not_a_member')
        conforms(response, '/api/businesses/{id}/switch')
    me = api.get('/api/auth/me', token=token).json()
    assert me['current_business']['id'] == mine['id']
    assert counts() == before

    # Neither another business nor a missing one exists for the caller
    for business_id in [other['id'], 999999999]:
        for method, path in [
                ('GET', ''), ('GET', '/members'), ('GET', '/invitations')]:
            response = api.request(method,
                f'/api/businesses/{business_id}{path}', token=token)
            error_of(response, 404, 'business_not_found')
    response = api.post(f"/api/businesses/{other['id']}/invitations",
        token=token, json={'email': new_email(), 'role': 'sales'})
    error_of(response, 404, 'business_not_found')
    response = api.post(f"/api/businesses/{mine['id']}/invitations",
        token=token, json={'email': new_email(), 'role': 'director'})
    assert 'role' in error_of(response, 422)['fields']
    response = api.put(f"/api/businesses/{mine['id']}/members/999999999",
        token=token, json={'role': 'sales'})
    error_of(response, 404, 'member_not_found')
    assert counts() == before

    # Without a token
    for method, path in [('GET', '/api/businesses'),
            ('POST', '/api/businesses'),
            ('GET', f"/api/businesses/{mine['id']}")]:
        response = api.request(method, path, json=PROFILE)
        error_of(response, 401, 'missing_token')


def test_state_is_fixed_and_gstin_must_match_it(api):
    "The registered state carries the GSTIN and the GST tax rules"
    token = api.register()[2]['token']
    business = create(api, token)
    response = api.put(f"/api/businesses/{business['id']}", token=token,
        json={'state': 'IN-KA'})
    assert set(error_of(response, 422)['fields']) == {'state'}
    response = api.put(f"/api/businesses/{business['id']}", token=token,
        json={'gstin': '29AAACR5055K1Z3'})
    assert set(error_of(response, 422)['fields']) == {'gstin'}
    response = api.get(f"/api/businesses/{business['id']}", token=token)
    assert response.json()['state'] == business['state']
    assert response.json()['gstin'] == business['gstin']


def _png(width=64, height=32, color=(200, 30, 30)):
    from PIL import Image
    data = io.BytesIO()
    Image.new('RGB', (width, height), color).save(data, format='png')
    return data.getvalue()


def test_logo(api, conforms, sql):
    """The logo is given in base64 (or a data: URL), served as PNG to the
    members, refused when it is not an image or too large, and removed
    with null"""
    token = api.register()[2]['token']
    business = create(api, token)
    assert business['logo_url'] is None
    url = f"/api/businesses/{business['id']}"
    error_of(api.get(f'{url}/logo', token=token), 404, 'logo_not_found')

    png = _png()
    response = api.put(url, token=token,
        json={'logo': base64.b64encode(png).decode()})
    assert response.status_code == 200, response.text
    conforms(response, '/api/businesses/{id}')
    assert response.json()['logo_url'] == f'{url}/logo'
    response = api.get(f'{url}/logo', token=token)
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'image/png'
    from PIL import Image
    assert Image.open(io.BytesIO(response.content)).size == (64, 32)

    def stored():
        return sql('SELECT logo FROM company_company WHERE id = %s',
            (business['id'],))[0][0]
    before = bytes(stored())
    jpeg = io.BytesIO()
    from PIL import Image as PILImage
    PILImage.new('RGB', (10, 10)).save(jpeg, format='jpeg')
    for bad, problem in [
            (base64.b64encode(b'%PDF-1.7 not an image').decode(), 'image'),
            ('not base64 at all!', 'base64'),
            (base64.b64encode(b'\x89PNG\r\n\x1a\n' + b'0' * 64).decode(),
                'unreadable'),
            (base64.b64encode(b'\x89PNG\r\n\x1a\n'
                    + b'0' * (1024 * 1024)).decode(), 'larger'),
            ]:
        error = error_of(api.put(url, token=token, json={'logo': bad}), 422)
        assert set(error['fields']) == {'logo'}, error
        assert problem in error['fields']['logo'], error
        assert bytes(stored()) == before
    response = api.put(url, token=token, json={
            'logo': 'data:image/jpeg;base64,'
            + base64.b64encode(jpeg.getvalue()).decode()})
    assert response.status_code == 200, response.text
    assert bytes(stored()).startswith(b'\x89PNG')  # stored as PNG

    # Another user is not a member: 404, as for the profile
    other = api.register()[2]['token']
    error_of(api.get(f'{url}/logo', token=other), 404, 'business_not_found')

    response = api.put(url, token=token, json={'logo': None})
    assert response.json()['logo_url'] is None
    assert stored() is None


def test_pagination(api, conforms):
    "GET /api/businesses pages with limit, offset, total, order and q"
    token = api.register()[2]['token']
    names = ["Charlie Castings", "Alpha Auto Parts", "Bravo Bearings"]
    ids = [create(api, token, name=n, gstin=None)['id'] for n in names]

    def page(**query):
        response = api.get('/api/businesses', token=token, params=query)
        assert response.status_code == 200, response.text
        conforms(response, '/api/businesses')
        return response.json()

    first = page(limit=2)
    assert (first['total'], first['limit'], first['offset']) == (3, 2, 0)
    assert [i['id'] for i in first['items']] == ids[:2]
    assert [i['current'] for i in first['items']] == [True, False]
    last = page(limit=2, offset=2)
    assert (last['total'], last['offset']) == (3, 2)
    assert [i['id'] for i in last['items']] == ids[2:]
    assert page(offset=3)['items'] == []
    assert [i['name'] for i in page(order='name')['items']] == sorted(names)
    assert [i['id'] for i in page(order='-id')['items']] == ids[::-1]
    found = page(q='bearing')
    assert (found['total'], found['items'][0]['id']) == (1, ids[2])

    for query in [{'limit': 0}, {'limit': 101}, {'offset': -1},
            {'order': 'gstin'}, {'page': 2}]:
        response = api.get('/api/businesses', token=token, params=query)
        error_of(response, 400, 'invalid_query')


def test_invitation_errors(api, conforms, mail, sql):
    "Unknown, expired and other people's codes are refused"
    owner = api.register()[2]['token']
    business = create(api, owner, gstin=None)
    invitee_email = new_email()
    response = api.post(f"/api/businesses/{business['id']}/invitations",
        token=owner, json={'email': invitee_email, 'role': 'stores'})
    assert response.status_code == 201, response.text
    invitation = response.json()
    token = re.search(r'code:\s+(\S+)',
        mail(invitee_email).get_payload()).group(1)

    stranger = api.register()[2]['token']
    for body, status, code in [
            ({'token': 'no-such-code'}, 404, 'invitation_not_found'),
            ({'token': token}, 403, 'invitation_other_email'),
            ({'token': ''}, 422, 'validation_error'),
            ({}, 422, 'validation_error'),
            ]:
        response = api.post('/api/invitations/accept', token=stranger,
            json=body)
        error_of(response, status, code)
        conforms(response, '/api/invitations/accept')
    assert api.get('/api/businesses', token=stranger).json()['total'] == 0

    # Expired: made 8 days older
    if sql.postgresql:
        sql("UPDATE monitorbizz_business_invitation "
            "SET expires = expires - interval '8 days' WHERE id = %s",
            (invitation['id'],))
    else:
        sql("UPDATE monitorbizz_business_invitation "
            "SET expires = datetime(expires, '-8 days') WHERE id = %s",
            (invitation['id'],))
    invitee = api.register(email=invitee_email)[2]['token']
    response = api.post('/api/invitations/accept', token=invitee,
        json={'token': token})
    error_of(response, 410, 'invitation_expired')
    conforms(response, '/api/invitations/accept')
    assert api.get('/api/businesses', token=invitee).json()['total'] == 0



def test_demo_members(api, conforms, demo):
    "The demo's owner and operator log in to the demo business"
    business = demo['business']
    for user in demo['users']:
        response = api.post('/api/auth/login', json={
                'email': user['login'], 'password': user['password']})
        assert response.status_code == 200, response.text
        conforms(response, '/api/auth/login')
        session = response.json()
        assert [(b['name'], b['role']) for b in session['businesses']] == [
            (business['name'], user['role'])]
        current = session['current_business']
        assert current['name'] == business['name']
        response = api.get(f"/api/businesses/{current['id']}",
            token=session['token'])
        assert response.status_code == 200, response.text
        profile = response.json()
        assert {k: profile[k] for k in business} == business
        assert (profile['role'], profile['current']) == (user['role'], True)
