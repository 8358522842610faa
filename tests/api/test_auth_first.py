"""Authentication before anything else: a request with no token, a garbage
token or a logged-out one answers 401 whatever its body, path or query,
on every operation that needs a token (found in the OpenAPI document)."""
import pytest

from .openapi_tools import WRITES, operations, url_of

INVALID_BODY = '{"not_a_field": 9223372036854775808, "lines": "x"'
JSON = {'Content-Type': 'application/json'}


@pytest.fixture(scope='module')
def logged_out(api):
    _, _, session = api.register()
    token = session['token']
    assert api.post('/api/auth/logout', token=token).status_code == 204
    return token


def secured(openapi, methods):
    return [(path, method) for path, method, operation in operations(openapi)
        if operation['security'] and method in methods]


def answers(api, path, method, headers):
    "The answers to an invalid body and an invalid path and query"
    yield api.request(method, url_of(path), headers={**JSON, **headers},
        data=INVALID_BODY)
    yield api.request(method, url_of(path, id=2 ** 63),
        headers={**JSON, **headers}, data=INVALID_BODY,
        params={'limit': 'x', 'unknown': 1})


@pytest.mark.parametrize('credentials', ['none', 'garbage', 'logged_out'])
def test_writes_authenticate_first(api, openapi, logged_out, credentials):
    "Every write endpoint: 401 before 400 and 422"
    headers = {
        'none': {},
        'garbage': {'Authorization': 'Bearer garbage-token'},
        'logged_out': {'Authorization': f'Bearer {logged_out}'},
        }[credentials]
    code = 'missing_token' if credentials == 'none' else 'invalid_token'
    writes = secured(openapi, WRITES)
    assert len(writes) > 40
    wrong = []
    for path, method in writes:
        for response in answers(api, path, method, headers):
            if (response.status_code != 401
                    or response.json()['error']['code'] != code
                    or response.headers.get('WWW-Authenticate') != 'Bearer'):
                wrong.append((method.upper(), path, response.status_code,
                        response.text[:200]))
    assert not wrong, '\n'.join(map(str, wrong))


def test_reads_authenticate_first(api, openapi):
    "Every read endpoint: 401 before an invalid query or path"
    wrong = []
    for path, method in secured(openapi, {'get'}):
        response = api.get(url_of(path, id=-1),
            params={'limit': 'x', 'unknown': 1})
        if response.status_code != 401:
            wrong.append((path, response.status_code, response.text[:200]))
    assert not wrong, '\n'.join(map(str, wrong))


def test_invalid_body_with_token_is_422(api):
    "The same invalid body with a valid token is told (the control)"
    _, _, session = api.register()
    response = api.post('/api/businesses', token=session['token'],
        headers=JSON, data='{"name": 1}')
    assert response.status_code == 422, response.text
    assert 'name' in response.json()['error']['fields']
