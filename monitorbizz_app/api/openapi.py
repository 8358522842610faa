# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The OpenAPI 3.1 document of the declared endpoints and its docs page.

The document is generated from framework.ENDPOINTS, the declarations that
also route and validate the requests, so it lists every endpoint as served.
The page is Swagger UI, from the npm package swagger-ui-dist installed in
web/node_modules with the web client (web/package.json): nothing is loaded
from another site.
"""
import html
import os
import re
from importlib import metadata

from werkzeug.security import safe_join
from werkzeug.utils import send_file

from trytond import config
from trytond.protocols.wrappers import Response

from .framework import (
    ENDPOINTS, ERROR_SCHEMA, JSON, ApiError, endpoint, path_parameters)
from .schema import components

__all__ = ['document']

TITLE = "Monitorbizz API"
DOCS_PACKAGE = 'swagger-ui-dist'
_PARAMETER = re.compile(r'<(?:\w+(?:\([^)]*\))?:)?(\w+)>')
_DEFAULT_ERRORS = {
    400: "Malformed JSON (malformed_json) or invalid query parameters "
    "(invalid_query)",
    401: "Missing, invalid, expired or revoked token "
    "(missing_token, invalid_token)",
    403: "Not allowed by the user's access rights (forbidden)",
    422: "Invalid fields (validation_error and Tryton's validation codes)",
    }


def _version():
    try:
        return metadata.version('monitorbizz')
    except metadata.PackageNotFoundError:
        return '0'


def openapi_path(path):
    "Return the OpenAPI path of a werkzeug rule and its path parameters"
    parameters = [{
            'name': name,
            'in': 'path',
            'required': True,
            'schema': schema,
            } for name, schema in path_parameters(path).items()]
    return _PARAMETER.sub(r'{\1}', path), parameters


def _error_responses(declared):
    statuses = {}
    if declared.request is not None or declared.query:
        statuses[400] = _DEFAULT_ERRORS[400]
    if declared.auth:
        statuses[401] = _DEFAULT_ERRORS[401]
        if declared.transaction:
            statuses[403] = _DEFAULT_ERRORS[403]
    if declared.request is not None:
        statuses[422] = _DEFAULT_ERRORS[422]
    statuses.update(declared.errors)
    responses = {
        str(status): {
            'description': description,
            'content': {JSON: {'schema': ERROR_SCHEMA}},
            }
        for status, description in sorted(statuses.items())}
    responses['default'] = {
        'description': "Any other error, in the same format",
        'content': {JSON: {'schema': ERROR_SCHEMA}},
        }
    return responses


def _operation(declared):
    _, parameters = openapi_path(declared.path)
    for name, schema in declared.query.items():
        parameters.append({
                'name': name,
                'in': 'query',
                'required': False,
                'schema': schema,
                })
    operation = {
        'operationId': declared.operation_id,
        'summary': declared.summary,
        'tags': declared.tags,
        'security': [{'bearerAuth': []}] if declared.auth else [],
        }
    if declared.description:
        operation['description'] = declared.description
    if declared.button:
        model, button, record, record_model = declared.button
        # record: the path parameter of the record acted on; record_model:
        # its model when the button is another model's (the shipments of
        # an order)
        operation['x-tryton-button'] = {
            'model': model, 'button': button, 'record': record}
        if record_model:
            operation['x-tryton-button']['record_model'] = record_model
    if parameters:
        operation['parameters'] = parameters
    if declared.request is not None:
        operation['requestBody'] = {
            'required': True,
            'content': {JSON: {'schema': declared.request}},
            }
    success = {'description': declared.status.phrase}
    if declared.response is not None:
        success['content'] = {
            declared.content_type: {'schema': declared.response}}
    operation['responses'] = {
        str(declared.status.value): success,
        **_error_responses(declared),
        }
    return operation


def document(server_url='/'):
    "The OpenAPI 3.1 document of every declared endpoint"
    paths = {}
    for declared in ENDPOINTS:
        path, _ = openapi_path(declared.path)
        paths.setdefault(path, {})[declared.method.lower()] = (
            _operation(declared))
    tags = sorted({t for d in ENDPOINTS for t in d.tags})
    return {
        'openapi': '3.1.0',
        'info': {
            'title': TITLE,
            'version': _version(),
            'description': (
                "The Monitorbizz API: the workshop's customers, sales, "
                "stock, purchases and production for its own tools and "
                "its integrators, served beside the desk (Tryton's web "
                "client and its JSON-RPC). Log in with "
                "`POST /api/auth/login` and send the token as "
                "`Authorization: Bearer <token>`. Every error is "
                "`{\"error\": {\"code\", \"message\", \"fields\"}}` "
                "with a stable `code`. A request is authenticated first "
                "(401), then its path, query and body are checked (400, "
                "422); texts never hold NUL characters or lone "
                "surrogates; date-times without offset are in UTC. An "
                "action on a record (`POST .../{id}/<action>`) is the "
                "button of the desk named by its `x-tryton-button`: a "
                "role refused the button in the desk is refused the "
                "action (403) with the same message."),
            },
        'servers': [{'url': server_url}],
        'tags': [{'name': t} for t in tags],
        'paths': paths,
        'components': {
            'schemas': components(),
            'securitySchemes': {
                'bearerAuth': {
                    'type': 'http',
                    'scheme': 'bearer',
                    'description': "The token of /api/auth/login "
                    "(a Tryton session)",
                    },
                },
            },
        }


@endpoint('GET', '/api/openapi.json', tags=['docs'],
    summary="This OpenAPI 3.1 document", auth=False,
    response={'type': 'object'})
def openapi(call):
    return document(call.request.script_root + '/')


def docs_directory():
    """The folder of swagger-ui-dist: beside the web client ([web] root is
    web/node_modules/tryton-sao) or in the project's web/node_modules"""
    candidates = []
    if root := config.get('web', 'root'):
        candidates.append(os.path.join(
                os.path.dirname(os.path.normpath(root)), DOCS_PACKAGE))
    candidates.append(os.path.join(os.path.dirname(__file__), '..', '..',
            'web', 'node_modules', DOCS_PACKAGE))
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, 'package.json')):
            return os.path.normpath(candidate)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
    url: 'openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // No call to the public validator service
    validatorUrl: null,
}});
</script>
</body>
</html>
"""


@endpoint('GET', '/api/docs', tags=['docs'],
    summary="The documentation page of this API (Swagger UI)", auth=False,
    response={'type': 'string'}, content_type='text/html')
def docs(call):
    if not docs_directory():
        raise _docs_missing()
    return Response(_PAGE.format(title=html.escape(TITLE)),
        content_type='text/html; charset=utf-8')


@endpoint('GET', '/api/docs/<path:filename>', tags=['docs'],
    summary="The files of the documentation page", auth=False,
    response={'type': 'string'}, content_type='application/octet-stream',
    errors={404: "No such file (not_found)"})
def docs_file(call, filename):
    directory = docs_directory()
    if not directory:
        raise _docs_missing()
    path = safe_join(directory, filename)
    if not path or not os.path.isfile(path):
        raise ApiError(404, 'not_found', f"No file {filename!r}.")
    return send_file(path, call.request.environ,
        max_age=config.getint('web', 'cache_timeout'))


def _docs_missing():
    return ApiError(404, 'not_found',
        f"The documentation page needs the npm package {DOCS_PACKAGE}: "
        "run scripts/setup_web.sh (make run does).")
