# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
# Importing rest puts the isolation guard on Tryton's REST routes.
from . import rest  # noqa: F401
