# This file is part of Monitorbizz.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""On SQLite, transactions that may write queue one after the other.

Why: Tryton's SQLite backend takes no locks (Database.lock and lock_records
do nothing) and Python's sqlite3 opens a transaction only at the first
INSERT, UPDATE or DELETE. Every read before it sees the database as it is
at that read: two requests both find 10 kg in a batch, the same next
customer number, the same purchase line not yet received, then each
writes over what the other has just committed (stock below zero, unique
codes refused, a receipt acknowledged and lost).

Chosen: a transaction that may write (not read-only, not autocommit)
begins with BEGIN IMMEDIATE, which takes SQLite's one write lock before
its first read. The next writer waits for the commit (busy timeout, as
long as a request may take: [request] timeout) and then reads what was
committed, so every check-then-write of the models (stock availability,
sequences, receipt tolerance, the machine's running operation) holds as
Tryton's row locks make it hold on PostgreSQL. SQLite never lets two
transactions write at once anyway; what the lock adds is that a writer's
reads wait too. Read-only transactions (searches and reads of JSON-RPC,
GET of the API) do not wait: SQLite's WAL journal, which Tryton turns on,
lets them read while one writes. Slower under bursts of writes than
PostgreSQL, never wrong.

Not chosen: serving one request at a time (a lock around the dispatcher of
the development server) would queue the reads as well and protect only
that server, not trytond-cron, a worker or trytond-admin in other
processes; the lock of the database itself covers them all. Locks in each
model (a lock table) would have to be remembered on every path that
checks then writes, which is what failed.

Tryton asks the backend for an autocommit connection within a transaction
(Cache.sync at its start, Cache.commit at its end): on SQLite it is the
transaction's own connection, and switching it to autocommit would commit
the transaction and run the rest without the lock. It is answered with
the connection as it is: the cache's statements join the transaction.
A transaction Tryton starts within another of the same thread (to word an
integrity error, to update a password hash) cannot have the lock its
parent holds: it begins as Tryton's SQLite backend does by itself.
"""
from trytond import backend
from trytond import config
from trytond.transaction import Transaction

__all__ = ['queue_writers']


def _busy_timeout():
    "Milliseconds a writer waits for the one before (a request's time)"
    return 1000 * (config.getint('request', 'timeout', default=0) or 60)


def _held_by_thread(name):
    "Whether a transaction of the thread holds the database's write lock"
    return any(t.connection is not None and t.database is not None
        and t.database.name == name and t.connection.in_transaction
        for t in Transaction._local.transactions)


def queue_writers():
    """Make the SQLite backend start write transactions with BEGIN
    IMMEDIATE (once per process; nothing on other databases)"""
    if backend.name != 'sqlite':
        return
    Database = backend.Database
    if getattr(Database.get_connection, 'queues_writers', False):
        return
    get_connection = Database.get_connection

    def get_immediate_connection(self, autocommit=False, readonly=False,
            statement_timeout=None):
        if (autocommit and self._conn is not None
                and self._conn.in_transaction):
            return self._conn
        connection = get_connection(self, autocommit=autocommit,
            readonly=readonly, statement_timeout=statement_timeout)
        if (not autocommit and not readonly
                and not connection.in_transaction
                and not _held_by_thread(self.name)):
            connection.execute(f'PRAGMA busy_timeout = {_busy_timeout()}')
            connection.execute('BEGIN IMMEDIATE')
        return connection
    get_immediate_connection.queues_writers = True
    Database.get_connection = get_immediate_connection
