# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""monitorbizz_api: the Monitorbizz API (/api/...) and its OpenAPI document.

trytond imports every installed module when its pool starts: importing the
endpoint modules here adds their routes to trytond.wsgi.app. They answer
only for the database of [monitorbizz] database, where this module must be
activated.
"""
from . import (  # noqa: F401
    auth, businesses, crm, finance, health, inventory, ledger,
    manufacturing,
    openapi, reports)
