# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""On PostgreSQL, a transaction that locks records reads what the previous
holder of the lock committed.

Why: Tryton runs its transactions in REPEATABLE READ and takes the record
locks a transaction needs (Model.lock) when it starts, with
SELECT ... FOR UPDATE NOWAIT: the first statement, so its snapshot is
taken just before the rows are locked. A holder that commits between the
two leaves the row locked by nobody: the lock is granted, and PostgreSQL
raises no serialization failure for a row that was only locked, not
updated. The transaction then reads the stock as it was before the
holder's moves (two consumptions both find the 2 kg left in a batch).
The window is short but a burst of requests retrying the same lock falls
into it (issue 21: 8 × 2 kg from a 10 kg batch, 6 accepted).

Chosen: the lock's statement also reads each row's xmax, the transaction
that locked it last (PostgreSQL keeps it after the commit). When that
transaction is not in the snapshot, the snapshot is older than the lock:
the locks are released and taken again, as Tryton does when one is not
available (serialization_failure, retried at the start of the transaction
and by the API). An xmax that is a multixact (several share lockers, as
foreign-key checks take) reads as an old transaction: never a false
stale, at worst one retry.
"""
from sql import Column, For, Table
from sql.operators import Any

from trytond import backend

__all__ = ['fresh_snapshots']

XID_RANGE = 2 ** 32


def _stale(cursor, lockers):
    """Whether one of the transactions lockers (32-bit xids, 0 for none)
    is not in the snapshot of cursor's transaction"""
    lockers = {int(x) for x in lockers if x is not None and int(x)}
    if not lockers:
        return False
    cursor.execute('SELECT pg_current_xact_id()::text, '
        'pg_current_snapshot()::text')
    current, snapshot = cursor.fetchone()
    current = int(current)
    _, xmax, xip = snapshot.split(':')
    running = {int(x) for x in xip.split(',') if x}
    for locker in lockers:
        # The 64-bit id of the 32-bit one: the latest before the current
        full = current - ((current - locker) % XID_RANGE)
        if full != current and (full >= int(xmax) or full in running):
            return True
    return False


def fresh_snapshots():
    """Make the PostgreSQL backend retry the locks of a transaction whose
    snapshot misses the commit of the lock's previous holder (once per
    process; nothing on other databases)"""
    if backend.name != 'postgresql':
        return
    Database = backend.Database
    if getattr(Database.lock_records, 'checks_snapshot', False):
        return
    from psycopg.errors import SerializationFailure

    def lock_records(cls, connection, table, ids):
        sql_table = Table(table)
        cursor = connection.cursor()
        cursor.execute(*sql_table.select(Column(sql_table, 'xmax'),
                where=sql_table.id == Any(list(ids)),
                for_=For('UPDATE', nowait=True)))
        if _stale(cursor, [x for x, in cursor.fetchall()]):
            raise SerializationFailure(
                f"The snapshot misses the last holder of a lock on {table}")
    lock_records.checks_snapshot = True
    Database.lock_records = classmethod(lock_records)
