# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""/api/health: whether this server can serve (for a load balancer).

Public and cheap: it tells only ok or unavailable, never a version, a module
name, the database's name or an error's text.
"""
import logging

from sql import Table

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction

from .framework import ApiError, endpoint
from .schema import define

logger = logging.getLogger(__name__)

HEALTH = define('Health', {
        'type': 'object',
        'required': ['status'],
        'additionalProperties': False,
        'properties': {
            'status': {'type': 'string', 'enum': ['ok']},
            },
        })
# Seconds the database has to answer
TIMEOUT = 5
# States of a module whose activation, upgrade or removal is unfinished
_PENDING = {'to activate', 'to upgrade', 'to remove'}
# The databases whose schema was found to hold every field of this
# process's code: the code does not change while the process runs
_SCHEMA_CHECKED = set()


def _unavailable():
    return ApiError(503, 'unavailable',
        "The service is unavailable: try another server or later.")


def _problem(database):
    """What keeps the database from being served, or None: it must answer,
    every module be activated at the version of the code this process runs
    (no activation, upgrade or removal pending, nothing activated that the
    process has not loaded), and every field of the code be in its schema
    (else trytond-admin -u has not run after the code was upgraded)."""
    pool = Pool(database)
    with Transaction().start(database, 0, readonly=True,
            timeout=TIMEOUT) as transaction:
        cursor = transaction.connection.cursor()
        module = Table('ir_module')
        cursor.execute(*module.select(module.name, module.state))
        states = dict(cursor)
        if _PENDING & set(states.values()):
            return "a module activation, upgrade or removal is pending"
        activated = {n for n, s in states.items() if s == 'activated'}
        if activated != set(pool._modules):
            return "the activated modules are not those loaded"
        if database in _SCHEMA_CHECKED:
            return None
        field = Table('ir_model_field')
        cursor.execute(*field.select(field.model, field.name))
        stored = set(cursor)
        for name, Model in pool.iterobject():
            missing = {(name, f) for f in Model._fields} - stored
            if missing:
                return ("the database lacks fields of the code "
                    f"(e.g. {sorted(missing)[0]}): upgrade it")
    _SCHEMA_CHECKED.add(database)
    return None


@endpoint('GET', '/api/health', tags=['health'],
    summary="Whether this server can serve (for a load balancer)",
    auth=False, response=HEALTH,
    errors={503: "The database does not answer or is not at the version of "
        "the modules installed (unavailable)"})
def health(call):
    """200 when the database answers and its modules are at the installed
    version; 503 otherwise (the server log says why). Public: it tells
    nothing else."""
    try:
        database = call.database
        problem = _problem(database)
    except ApiError as e:  # no database configured, or the API not in it
        problem = str(e)
    except backend.DatabaseOperationalError as e:
        problem = f"the database does not answer ({e.__class__.__name__})"
    if problem:
        logger.warning("health: unavailable: %s", problem)
        raise _unavailable()
    return {'status': 'ok'}
