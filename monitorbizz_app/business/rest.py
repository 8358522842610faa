# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Tryton REST with the guarantees of JSON-RPC.

trytond 8.0's REST routes (trytond/protocols/rest.py) differ from JSON-RPC
in two ways that break tenant isolation:

- the X-Tryton-Context header reaches the transaction as is, so private
  keys pass: {"_companies": [Y]} makes res.user.get_companies() answer any
  business and {"_groups": [...]} any groups. JSON-RPC drops the keys
  starting with "_" (trytond/rpc.py); so does this guard.
- every ModelSQL is served, also the models JSON-RPC refuses because they
  do not publish the method in __rpc__ (MultiValue configuration rows,
  relation tables such as res.user-company.company): they have neither
  access rights nor record rules of their own. The guard answers 403 for
  them, as JSON-RPC does.
- the action route without an id passes the body as keyword arguments:
  the methods JSON-RPC gives records (`instantiate`: copy, export_data,
  buttons...) would get plain ids, never checked (access.py). The guard
  answers 403 for them: their records go in the path.

The guard wraps the REST rules of trytond's WSGI application once, when the
module is imported (trytond imports every module at pool start-up).
"""
import base64
import json
from functools import wraps
from http import HTTPStatus

from werkzeug.exceptions import abort

from trytond.protocols.wrappers import with_pool
from trytond.wsgi import app

# Private context keys JSON-RPC lets through (trytond/rpc.py)
PUBLIC_PRIVATE_KEYS = {'_datetime'}
# The JSON-RPC methods a REST model route stands for
METHODS = {
    ('GET', False): ('search', 'read'),
    ('GET', True): ('read',),
    ('POST', False): ('create', 'read'),
    ('PUT', True): ('write', 'read'),
    ('DELETE', True): ('delete',),
    }
CONTEXT_HEADER = 'HTTP_X_TRYTON_CONTEXT'


def _public_context(environ):
    "Drop the private keys of X-Tryton-Context, as JSON-RPC does"
    header = environ.get(CONTEXT_HEADER)
    if not header:
        return
    try:
        context = json.loads(base64.urlsafe_b64decode(header))
    except (ValueError, TypeError):
        abort(HTTPStatus.BAD_REQUEST)
    if not isinstance(context, dict):
        abort(HTTPStatus.BAD_REQUEST)
    private = {k for k in context
        if k.startswith('_') and k not in PUBLIC_PRIVATE_KEYS}
    if private:
        for key in private:
            del context[key]
        environ[CONTEXT_HEADER] = base64.urlsafe_b64encode(
            json.dumps(context).encode()).decode()


def _check_published(request, pool, view_args):
    "Refuse the models and methods JSON-RPC does not publish"
    try:
        Model = pool.get(view_args['name'])
    except KeyError:
        return  # trytond answers the unknown model itself
    methods = METHODS.get((request.method, 'id' in view_args), ())
    if not all(m in Model.__rpc__ for m in methods):
        abort(HTTPStatus.FORBIDDEN)


def _check_action(pool, view_args):
    """Refuse the methods taking records on the action route without id:
    REST passes the body as keyword arguments, so their records would be
    plain ids that JSON-RPC's RPC.convert never made nor checked"""
    try:
        Model = pool.get(view_args['name'])
    except KeyError:
        return
    rpc = Model.__rpc__.get(view_args['action'])
    if rpc is not None and rpc.instantiate is not None:
        abort(HTTPStatus.FORBIDDEN)


def _guard(rule):
    endpoint = rule.endpoint
    # endpoint is with_pool(inner): check inside with_pool, once the
    # database's pool is loaded.
    inner = endpoint.__wrapped__
    model_route = ('/rest/model/' in rule.rule
        and '<action>' not in rule.rule)
    action_route = ('/rest/model/' in rule.rule and '<action>' in rule.rule
        and '<int:id>' not in rule.rule)

    @wraps(inner)
    def checked(request, pool, **view_args):
        if model_route:
            _check_published(request, pool, view_args)
        elif action_route:
            _check_action(pool, view_args)
        return inner(request, pool, **view_args)
    checked_with_pool = with_pool(checked)

    @wraps(endpoint)
    def guarded(request, **view_args):
        _public_context(request.environ)
        return checked_with_pool(request, **view_args)
    guarded.monitorbizz_rest_guard = True
    return guarded


def install():
    url_map = app.url_map
    for rule in list(url_map.iter_rules()):
        endpoint = rule.endpoint
        if (getattr(endpoint, '__module__', None) == 'trytond.protocols.rest'
                and not getattr(endpoint, 'monitorbizz_rest_guard', False)):
            rule.endpoint = _guard(rule)
            # werkzeug indexes rules by endpoint (for redirects and
            # url building): keep the index in step.
            by_endpoint = url_map._rules_by_endpoint
            by_endpoint[endpoint].remove(rule)
            if not by_endpoint[endpoint]:
                del by_endpoint[endpoint]
            by_endpoint.setdefault(rule.endpoint, []).append(rule)


install()
