"""How the portal talks to SQLite: foreign keys on, WAL journal, and transactions that
take the write lock only when they are going to write.

PostgreSQL needs none of this; every listener returns at once for other dialects.

SQLite has one writer at a time. A transaction that reads first and writes later
(check capacity, then insert) must hold the write lock from its start, or two of them
deadlock ("database is locked"); so state-changing requests, the CLI and jobs begin with
``BEGIN IMMEDIATE``. Pages that only read (GET, HEAD, OPTIONS) begin a plain deferred
transaction instead, so they run side by side with each other and with the writer; if
such a request does write after all (an audit entry for a record view), the read
transaction, which has written nothing, is committed and an immediate one begins just
before the first write, so the write still queues on the lock instead of failing.
"""

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READING = "crp_sqlite_reading"


@event.listens_for(Engine, "connect")
def _sqlite_connection_setup(dbapi_connection, _record) -> None:
    """Let SQLAlchemy (not pysqlite) begin transactions; a file database uses WAL, so
    readers never wait for the writer."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _serving_a_read() -> bool:
    return has_request_context() and request.method in READ_ONLY_METHODS


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    if _serving_a_read():
        connection.exec_driver_sql("BEGIN")
        connection.info[_READING] = True
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_take_write_lock_before_writing(connection, cursor, statement, *_args) -> None:
    """In a reading transaction, anything but a SELECT (INSERT, UPDATE, DELETE,
    SAVEPOINT) first swaps the read transaction for an immediate one."""
    if not connection.info.get(_READING) or statement.lstrip()[:6].upper() == "SELECT":
        return
    del connection.info[_READING]
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_transaction_ended(connection) -> None:
    connection.info.pop(_READING, None)
