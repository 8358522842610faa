"""The OpenAPI document and the docs page of the live trytond."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import requests
from openapi_spec_validator import validate

METHODS = {'get', 'put', 'post', 'delete', 'patch'}


def api_rules():
    """(OpenAPI path, method) of every /api/ route of trytond's WSGI app,
    with every installed module imported as trytond does at start-up"""
    from trytond.modules import get_modules
    from trytond.tools import import_module
    from trytond.wsgi import app
    for name in get_modules() - {'ir', 'res'}:
        import_module(name)
    rules = set()
    for rule in app.url_map.iter_rules():
        if (not rule.rule.startswith('/api/')
                or getattr(rule.endpoint, 'api_fallback', False)):
            continue
        path = re.sub(r'<(?:[^:<>]+:)?([^<>]+)>', r'{\1}', rule.rule)
        for method in rule.methods - {'HEAD', 'OPTIONS'}:
            rules.add((path, method.lower()))
    return rules


def test_document_is_openapi_3_1(openapi):
    assert openapi['openapi'].startswith('3.1')
    validate(openapi)


def test_document_lists_every_route(openapi):
    "Every /api/ route is documented, and nothing else"
    documented = {(path, method)
        for path, item in openapi['paths'].items()
        for method in item if method in METHODS}
    rules = api_rules()
    assert ('/api/auth/login', 'post') in rules
    assert documented == rules


def test_operations_are_described(openapi):
    "Schemas of requests, answers and errors, and the bearer scheme"
    components = openapi['components']
    bearer = components['securitySchemes']['bearerAuth']
    assert (bearer['type'], bearer['scheme']) == ('http', 'bearer')
    assert 'Error' in components['schemas']
    error_ref = {'$ref': '#/components/schemas/Error'}
    for path, item in openapi['paths'].items():
        for method, operation in item.items():
            where = f'{method.upper()} {path}'
            assert operation['summary'], where
            responses = operation['responses']
            successes = [s for s in responses if s.startswith('2')]
            assert len(successes) == 1, where
            if successes != ['204']:
                assert responses[successes[0]]['content'], where
            for status, response in responses.items():
                if status == 'default' or status[0] in '45':
                    schema, = [m['schema']
                        for m in response['content'].values()]
                    assert schema == error_ref, where
            if operation['security']:
                assert operation['security'] == [{'bearerAuth': []}]
                assert '401' in responses, where
            if method in {'post', 'put', 'patch'} and path.startswith(
                    '/api/auth/') and path != '/api/auth/logout':
                assert operation['requestBody']['content'], where


def test_auth_operations(openapi):
    paths = openapi['paths']
    assert paths['/api/auth/register']['post']['security'] == []
    assert paths['/api/auth/login']['post']['security'] == []
    assert paths['/api/auth/me']['get']['security'] == [{'bearerAuth': []}]
    assert paths['/api/auth/logout']['post']['security'] == [
        {'bearerAuth': []}]
    assert '429' in paths['/api/auth/login']['post']['responses']
    assert '409' in paths['/api/auth/register']['post']['responses']


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.inline = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'script' and attrs.get('src'):
            self.urls.append(attrs['src'])
        elif tag == 'link' and attrs.get('href'):
            self.urls.append(attrs['href'])

    def handle_data(self, data):
        self.inline.append(data)


def test_docs_page(api):
    "The docs page and every file it loads are served by trytond"
    url = api.url + '/api/docs'
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    assert response.headers['Content-Type'].startswith('text/html')
    parser = _Assets()
    parser.feed(response.text)
    assert any(u.endswith('.js') for u in parser.urls)
    assert any(u.endswith('.css') for u in parser.urls)
    for asset in parser.urls:
        absolute = urljoin(url, asset)
        assert urlparse(absolute).netloc == urlparse(url).netloc, asset
        answer = requests.get(absolute, timeout=30)
        assert answer.status_code == 200, asset
        assert answer.content, asset
    assert not re.search(r'https?://', ''.join(parser.inline))
    spec = requests.get(urljoin(url, 'openapi.json'), timeout=30)
    assert spec.status_code == 200


def test_docs_files_stay_in_the_package(api):
    # Encoded: the client would resolve plain dot segments itself
    for path in ['/api/docs/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
            '/api/docs/%2e%2e/tryton-sao/package.json',
            '/api/docs/missing.js']:
        response = requests.get(api.url + path, timeout=30)
        assert response.status_code == 404, path
        if response.headers['Content-Type'] == 'application/json':
            assert response.json()['error']['code'] == 'not_found'


def test_unknown_api_routes(api):
    response = api.get('/api/nowhere')
    assert response.status_code == 404
    assert response.json()['error']['code'] == 'not_found'
    response = api.get('/api/auth/login')
    assert response.status_code == 405
    assert response.json()['error']['code'] == 'method_not_allowed'
    assert 'POST' in response.headers['Allow']
