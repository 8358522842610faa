# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
# Importing rest puts the isolation guard on Tryton's REST routes.
from . import rest  # noqa: F401
# Importing access puts the record rules on the records RPC methods take.
from . import access  # noqa: F401
# On SQLite, write transactions take the database's write lock first.
from .sqlite import queue_writers
queue_writers()
# On PostgreSQL, a transaction's locks are taken again when its snapshot
# misses the commit of their last holder.
from .postgresql import fresh_snapshots
fresh_snapshots()
