"""/api/auth against the live trytond: register, login, me, logout, the
errors, the throttling of failed logins."""
import base64
import configparser
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from .conftest import new_email


def test_register_login_me_logout(api, conforms, user_count, admin):
    "register → login → me → logout → me is 401"
    count = user_count()
    email = new_email()
    response = api.post('/api/auth/register', json={
            'email': email.upper(), 'password': 'Str0ng-enough',
            'name': "  Asha Deshmukh "})
    assert response.status_code == 201, response.text
    conforms(response, '/api/auth/register')
    registered = response.json()
    assert registered['user']['email'] == email
    assert registered['user']['name'] == "Asha Deshmukh"
    assert registered['token_type'] == 'bearer'
    assert registered['expires_in'] > 0
    # A new account belongs to no business, even in a one-company database
    assert registered['businesses'] == []
    assert registered['current_business'] is None
    assert user_count() == count + 1
    user, = admin.call('res.user', 'read', [registered['user']['id']],
        ['login', 'companies', 'company', 'groups'])
    assert user['login'] == email
    assert (user['companies'], user['company'], user['groups']) == (
        [], None, [])

    response = api.post('/api/auth/login', json={
            'email': email, 'password': 'Str0ng-enough'})
    assert response.status_code == 200, response.text
    conforms(response, '/api/auth/login')
    logged = response.json()
    assert logged['user'] == registered['user']
    token = logged['token']
    assert token != registered['token']

    response = api.get('/api/auth/me', token=token)
    assert response.status_code == 200, response.text
    conforms(response, '/api/auth/me')
    assert response.json() == {
        'user': registered['user'],
        'businesses': [],
        'current_business': None,
        }

    response = api.post('/api/auth/logout', token=token)
    assert response.status_code == 204, response.text
    assert not response.content
    response = api.get('/api/auth/me', token=token)
    assert response.status_code == 401
    assert response.json()['error']['code'] == 'invalid_token'
    conforms(response, '/api/auth/me')
    # Revoking one session leaves the others
    response = api.get('/api/auth/me', token=registered['token'])
    assert response.status_code == 200, response.text


def test_me_is_the_token_user(api):
    "Each token answers for its own user"
    first = api.register()[2]
    second = api.register()[2]
    for answer in [first, second]:
        response = api.get('/api/auth/me', token=answer['token'])
        assert response.json()['user'] == answer['user']


def test_login_demo_owner(api, conforms, demo):
    "The demo owner logs in with the e-mail in any case"
    owner = demo['users'][0]
    response = api.post('/api/auth/login', json={
            'email': owner['login'].upper(), 'password': owner['password']})
    assert response.status_code == 200, response.text
    conforms(response, '/api/auth/login')
    assert response.json()['user']['email'] == owner['email']
    assert response.json()['user']['name'] == owner['name']


def test_duplicate_registration(api, conforms, user_count):
    email = api.register()[0]
    count = user_count()
    response = api.post('/api/auth/register', json={
            'email': email.upper(), 'password': 'An0ther-password',
            'name': "Someone Else"})
    assert response.status_code == 409, response.text
    conforms(response, '/api/auth/register')
    error = response.json()['error']
    assert error['code'] == 'email_taken'
    assert 'email' in error['fields']
    assert user_count() == count


def test_weak_password(api, conforms, user_count):
    "Tryton's password rules answer 422 naming the password"
    count = user_count()
    email = new_email()
    for password in ['short', email]:
        response = api.post('/api/auth/register', json={
                'email': email, 'password': password, 'name': "Weak"})
        assert response.status_code == 422, response.text
        conforms(response, '/api/auth/register')
        error = response.json()['error']
        assert error['code'] == 'invalid_password'
        assert list(error['fields']) == ['password']
    assert user_count() == count


def test_invalid_fields(api, conforms, user_count):
    count = user_count()
    for body, field in [
            ({'email': 'not-an-email', 'password': 'Str0ng-enough',
                    'name': "X"}, 'email'),
            ({'email': new_email(), 'password': 'Str0ng-enough'}, 'name'),
            ({'email': new_email(), 'password': 'Str0ng-enough',
                    'name': "   "}, 'name'),
            ({'email': new_email(), 'password': 'Str0ng-enough',
                    'name': 7}, 'name'),
            ({'email': new_email(), 'password': 'Str0ng-enough',
                    'name': "X", 'groups': [1]}, 'groups'),
            ]:
        response = api.post('/api/auth/register', json=body)
        assert response.status_code == 422, response.text
        conforms(response, '/api/auth/register')
        error = response.json()['error']
        assert error['code'] == 'validation_error'
        assert field in error['fields']
    assert user_count() == count


def test_malformed_json(api, conforms, user_count):
    count = user_count()
    for data in ['{"email": ', '', '[1, 2]', 'NaN', b'\xff\xfe']:
        response = api.post('/api/auth/register', data=data,
            headers={'Content-Type': 'application/json'})
        assert response.status_code == 400, (data, response.text)
        conforms(response, '/api/auth/register')
        assert response.json()['error']['code'] == 'malformed_json'
    assert user_count() == count


def test_missing_and_garbage_tokens(api, conforms):
    response = api.get('/api/auth/me')
    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'] == 'Bearer'
    assert response.json()['error']['code'] == 'missing_token'
    conforms(response, '/api/auth/me')

    user_id = api.register()[2]['user']['id']
    forged = base64.urlsafe_b64encode(
        f'{user_id}:{"0" * 64}'.encode()).decode()
    for header in ['Bearer garbage', 'Bearer ', 'Basic dXNlcjpwdw==',
            f'Bearer {forged}', 'Session abc']:
        response = api.get('/api/auth/me',
            headers={'Authorization': header})
        assert response.status_code == 401, header
        assert response.json()['error']['code'] == 'invalid_token'
        conforms(response, '/api/auth/me')

    response = api.post('/api/auth/logout', token='garbage')
    assert response.status_code == 401


def test_revoked_token(api):
    token = api.register()[2]['token']
    assert api.post('/api/auth/logout', token=token).status_code == 204
    for method, path in [('GET', '/api/auth/me'),
            ('POST', '/api/auth/logout')]:
        response = api.request(method, path, token=token)
        assert response.status_code == 401
        assert response.json()['error']['code'] == 'invalid_token'


def test_expired_token(api, sql):
    "A token lives as long as its Tryton session ([session] max_age)"
    token = api.register()[2]['token']
    assert api.get('/api/auth/me', token=token).status_code == 200
    user_id, key = base64.urlsafe_b64decode(
        token + '=' * (-len(token) % 4)).decode().split(':', 1)
    sql("UPDATE ir_session SET create_date = %s, write_date = %s "
        "WHERE key = %s", (dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1),
            key))
    response = api.get('/api/auth/me', token=token)
    assert response.status_code == 401
    assert response.json()['error']['code'] == 'invalid_token'


def test_wrong_password(api, conforms):
    email = api.register()[0]
    for body in [
            {'email': email, 'password': 'wrong-password'},
            {'email': new_email(), 'password': 'wrong-password'},
            ]:
        response = api.post('/api/auth/login', json=body)
        assert response.status_code == 401, response.text
        conforms(response, '/api/auth/login')
        # The same answer whether the e-mail exists or not
        assert response.json()['error']['code'] == 'invalid_credentials'


def _max_attempt(live_server):
    "[session] max_attempt of the live server (Tryton's default is 5)"
    parser = configparser.ConfigParser()
    parser.read(live_server.config_file)
    return parser.getint('session', 'max_attempt', fallback=5)


def test_throttled_login(api, live_server, conforms):
    """After more than [session] max_attempt failures, Tryton refuses the
    login, even with the right password: 429"""
    email, password, _ = api.register()
    failures = _max_attempt(live_server) + 1

    def fail(_):
        return api.post('/api/auth/login', json={
                'email': email, 'password': 'wrong-password'})
    # Tryton delays each failure by a random time up to 2^(failures so
    # far) seconds; sent together, the attempts are not delayed.
    with ThreadPoolExecutor(failures) as executor:
        statuses = [r.status_code for r in executor.map(fail,
                range(failures))]
    assert set(statuses) <= {401, 429}, statuses

    response = api.post('/api/auth/login', json={
            'email': email, 'password': password})
    assert response.status_code == 429, response.text
    conforms(response, '/api/auth/login')
    assert response.json()['error']['code'] == 'too_many_requests'
