"""Fixtures of the /api/ tests: an HTTP client of the live trytond, fresh
accounts, the OpenAPI document, a check of answers against it and an SMTP
server receiving the e-mails of the live trytond."""
import configparser
import copy
import os
import sqlite3
import time
import uuid
from urllib.parse import urlparse

import jsonschema
import pytest
import requests

ADMIN_PASSWORD = 'monitorbizz-admin'  # scripts/run.py


class Api:
    "requests against the /api/ of the live server"

    def __init__(self, url):
        self.url = url.rstrip('/')

    def request(self, method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers['Authorization'] = f'Bearer {token}'
        return requests.request(method, self.url + path, headers=headers,
            timeout=60, **kwargs)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, **kwargs):
        return self.request('POST', path, **kwargs)

    def put(self, path, **kwargs):
        return self.request('PUT', path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def register(self, email=None, password=None, name="API Tester"):
        "Register a fresh account; return (email, password, answer)"
        email = email or new_email()
        password = password or f'pw-{uuid.uuid4().hex[:12]}'
        response = self.post('/api/auth/register', json={
                'email': email, 'password': password, 'name': name})
        assert response.status_code == 201, response.text
        return email, password, response.json()


def new_email():
    return f'api-{uuid.uuid4().hex[:10]}@example.com'


@pytest.fixture(scope='session')
def mail(smtp):
    "Return the e-mail received for an address (waiting up to timeout s)"
    def wait(address, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for message in smtp.messages:
                if message['To'] == address:
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"No e-mail to {address} reached {smtp.uri}: was the "
                    "live server started before the smtp fixture (by "
                    "tests outside tests/api)?")
            time.sleep(0.1)
    return wait


@pytest.fixture(scope='session')
def api(live_server):
    return Api(live_server.url)


@pytest.fixture(scope='session')
def admin(live_server):
    return live_server.login('admin', ADMIN_PASSWORD)


@pytest.fixture
def user_count(admin):
    "Return the number of users (active or not), read as the administrator"
    def count():
        return admin.server.rpc('model.res.user.search_count', [
                [], {**admin.context, 'active_test': False}],
            admin.session)
    return count


@pytest.fixture(scope='session')
def openapi(api):
    response = api.get('/api/openapi.json')
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope='session')
def conforms(openapi):
    """Assert that an answer matches the schema the document declares for
    its operation and status."""
    def check(response, path, method=None):
        method = (method or response.request.method).lower()
        operation = openapi['paths'][path][method]
        status = str(response.status_code)
        declared = (operation['responses'].get(status)
            or operation['responses']['default'])
        if 'content' not in declared:
            assert not response.content
            return
        media, = declared['content'].values()
        schema = copy.deepcopy(media['schema'])
        # Resolve the document's #/components/... from this schema
        schema['components'] = openapi['components']
        jsonschema.validate(response.json(), schema,
            cls=jsonschema.Draft202012Validator)
    return check


@pytest.fixture(scope='session')
def sql(live_server):
    """Run a query on the live database (%s placeholders); return the rows.
    For what the API deliberately does not offer: counting every business
    of the platform, making an invitation old."""
    parser = configparser.ConfigParser()
    parser.read(live_server.config_file)
    uri = parser.get('database', 'uri')

    def query(statement, params=()):
        if uri.startswith('postgresql'):
            import psycopg
            parts = urlparse(uri)
            with psycopg.connect(host=parts.hostname or None,
                    port=parts.port, user=parts.username,
                    password=parts.password, dbname=live_server.database,
                    autocommit=True) as conn, conn.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else []
        path = os.path.join(parser.get('database', 'path'),
            f'{live_server.database}.sqlite')
        conn = sqlite3.connect(path, timeout=30)
        try:
            with conn:
                cursor = conn.execute(statement.replace('%s', '?'), params)
                return cursor.fetchall()
        finally:
            conn.close()
    query.postgresql = uri.startswith('postgresql')
    return query
