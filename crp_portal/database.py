"""How the portal talks to SQLite: foreign keys on, WAL journal, and transactions that
take the write lock only when they are going to write.

PostgreSQL needs none of this, so `init_app` registers the listeners on SQLite engines
only. (Registered on every engine, the one that runs when a transaction ends read
`connection.info` on a PostgreSQL connection the server had just dropped, which raised
PendingRollbackError in place of the lost-connection error and made a 503 a 500.)

SQLite has one writer at a time and no row locks; its write lock stands in for
PostgreSQL's row locks, taken where PostgreSQL would take one. A request begins a plain
deferred transaction, so its reads (the signed-in user, the page it checks) run beside
the writer and each other. Its first statement that locks rows (`SELECT … FOR UPDATE` or
`FOR SHARE`, which SQLAlchemy leaves out of SQLite's SQL) or writes (INSERT, UPDATE,
DELETE, SAVEPOINT) first ends that read transaction and begins ``BEGIN IMMEDIATE``: from
there on the request is the only writer, and it reads the database as it now stands, as
a PostgreSQL transaction reads a row it has just locked. (Upgrading the read transaction
in place instead would deadlock two requests that both read and then write: "database is
locked".) Services lock before they decide (`events.locks`, `unit_of_work.lock`), which
is what makes their checks hold on either database. The CLI and scheduled jobs, which
have no request, begin with ``BEGIN IMMEDIATE`` unless they say they only read.

Writers queue in the kernel (`WriterQueue`), not in SQLite's busy handler, which sleeps
1, 2, 5 … up to 100 ms between looks: under a burst of RSVPs the lock sat free while
every waiter slept, and one RSVP in a hundred took a second.
"""

import fcntl
import functools
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from flask import Flask, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from crp_portal.extensions import db

_READING = "crp_sqlite_reading"
_LOCKING = "crp_sqlite_locking"
_job_reads_only: ContextVar[bool] = ContextVar("crp_job_reads_only", default=False)
_QUEUE = "crp_sqlite_writer_queue"
BUSY_TIMEOUT_SECONDS = 15
T = TypeVar("T")


def values_check(column: str, values: Iterable[str]) -> str:
    """`status IN ('a', 'b')`: the SQL for a CHECK constraint or partial index allowing
    only `values` (a StrEnum, some of its members, or a dict of labels keyed by value), so
    the database and the code share one vocabulary."""
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class likely(FunctionElement):  # noqa: N801 - named as the SQL function it renders
    """A condition true for most rows, said so to SQLite's query planner.

    SQLite keeps no statistics unless someone runs ANALYZE, and without them it takes any
    indexed condition to be selective. `events.house_id IS NULL` is true of nearly every
    event, yet it led the planner to read every event through the house index and sort
    them all, instead of walking the start-time index for the hundred it lists: 10 to
    100 ms against 0.3 on a large history. `likely(x)` is x; PostgreSQL, which keeps
    statistics, gets plain x."""

    inherit_cache = True


@compiles(likely)
def _likely(element, compiler, **kw) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(likely, "sqlite")
def _likely_on_sqlite(element, compiler, **kw) -> str:
    return f"likely({compiler.process(element.clauses, **kw)})"


def kept_statement(build: Callable[..., T]) -> Callable[..., T]:
    """Build a statement once for each set of arguments and keep it, the values that
    change from one run to the next (ids, moments, limits) as bind parameters.

    SQLAlchemy keys its compiled-SQL cache by a key it works out from the statement and
    remembers on the statement object. A statement built afresh on every call pays for
    both again each time: on the events list, the agenda and an RSVP that cost as much
    as running the query. The arguments must be hashable and few (a form of a rule, a
    filter): at most 1,024 statements are kept."""
    return functools.lru_cache(maxsize=1024)(build)


@contextmanager
def reading_only():
    """For a job's look that writes nothing (the outbox worker asking whether anything
    is due): begin deferred, as a request does, rather than queue for the write lock."""
    token = _job_reads_only.set(True)
    try:
        yield
    finally:
        _job_reads_only.reset(token)


def init_app(app: Flask) -> None:
    """Register the SQLite listeners below on each of the app's SQLite engines."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            listen_on_sqlite(engine)


class WriterQueue:
    """One writer at a time per database file, waiting on an advisory lock on a file next
    to it (`<database>-writers`) before SQLite's own write lock, and letting go of it as
    soon as the transaction has committed or rolled back.

    The holder's turn ends the moment it finishes, so the next writer starts at once
    instead of after its next sleep. Waiting looks every half millisecond and gives up
    after the same 15 s as SQLite's busy timeout, with SQLite's own "database is locked"
    (a 503), so a stuck writer never hangs the others. Each connection opens the file
    itself: the lock belongs to that open file, so threads of one process queue too."""

    POLL_SECONDS = 0.0005

    def __init__(self, database: str):
        self._fd = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT, 0o600)
        self.holding = False

    def wait_turn(self) -> None:
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(self.POLL_SECONDS)
            else:
                self.holding = True
                return

    def done(self) -> None:
        if self.holding:
            self.holding = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


def listen_on_sqlite(engine: Engine) -> None:
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        event.listen(engine, "connect", _open_writer_queue(os.path.abspath(database)))
        event.listen(engine.pool, "reset", _end_turn_on_return)
        event.listen(engine.pool, "close", _close_writer_queue)
    event.listen(engine, "connect", _sqlite_connection_setup)
    event.listen(engine, "begin", _sqlite_begin)
    event.listen(engine, "before_execute", _sqlite_note_row_locks)
    event.listen(engine, "before_cursor_execute", _sqlite_take_write_lock_before_writing)
    event.listen(engine, "commit", _sqlite_commit)
    event.listen(engine, "rollback", _sqlite_rollback)


def _sqlite_connection_setup(dbapi_connection, _record) -> None:
    """Let SQLAlchemy (not pysqlite) begin transactions; a file database uses WAL, so
    readers never wait for the writer, and syncs every commit to disk."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode=WAL")
    # Every commit waits for the disk (SQLite's usual default, which a build may change):
    # an answered change survives a power cut, not only a crash of the portal.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _open_writer_queue(database: str):
    def open_queue(_dbapi_connection, record) -> None:
        """Without the lock file (a read-only directory), writers queue in SQLite as before."""
        try:
            record.info[_QUEUE] = WriterQueue(database)
        except OSError:
            return

    return open_queue


def _end_turn_on_return(_dbapi_connection, record, reset_state) -> None:
    """A connection back in the pool has rolled back: whatever happened, its turn is over."""
    queue = record.info.get(_QUEUE)
    if queue is not None:
        queue.done()


def _close_writer_queue(_dbapi_connection, record) -> None:
    queue = record.info.pop(_QUEUE, None)
    if queue is not None:
        queue.close()


def _queue_of(connection) -> WriterQueue | None:
    return connection.info.get(_QUEUE)


def _begin_writing(connection, execute) -> None:
    """BEGIN IMMEDIATE, once this connection's turn to write has come."""
    queue = _queue_of(connection)
    if queue is not None:
        queue.wait_turn()
    try:
        execute("BEGIN IMMEDIATE")
    except Exception:
        if queue is not None:
            queue.done()
        raise


def _serving_a_read() -> bool:
    """Requests and jobs that only read begin deferred; see the module's docstring."""
    return _job_reads_only.get() or has_request_context()


def _sqlite_begin(connection) -> None:
    if _serving_a_read():
        connection.exec_driver_sql("BEGIN")
        connection.info[_READING] = True
    else:
        _begin_writing(connection, connection.exec_driver_sql)


def _sqlite_note_row_locks(connection, clauseelement, *_args) -> None:
    """A SELECT … FOR UPDATE (or FOR SHARE) is about to run: its SQL on SQLite is a plain
    SELECT, so say here that it locks."""
    if (
        connection.info.get(_READING)
        and getattr(clauseelement, "_for_update_arg", None) is not None
    ):
        connection.info[_LOCKING] = True


def _sqlite_take_write_lock_before_writing(connection, cursor, statement, *_args) -> None:
    """In a reading transaction, a row-locking SELECT or anything but a SELECT (INSERT,
    UPDATE, DELETE, SAVEPOINT) first swaps the read transaction for an immediate one."""
    if not connection.info.get(_READING):
        return
    locking = connection.info.pop(_LOCKING, False)
    if not locking and statement.lstrip()[:6].upper() == "SELECT":
        return
    del connection.info[_READING]
    cursor.execute("COMMIT")
    _begin_writing(connection, cursor.execute)


def _sqlite_commit(connection) -> None:
    """Commit here, then give up the writer's turn. (SQLAlchemy announces a commit before
    making it; its own commit afterwards finds no transaction open and does nothing. If
    this one fails, SQLAlchemy's tries again and reports the error its usual way, and the
    rollback after it ends the turn.)"""
    connection.info.pop(_READING, None)
    connection.info.pop(_LOCKING, None)
    queue = _queue_of(connection)
    if queue is None or not queue.holding:
        return
    try:
        connection.connection.dbapi_connection.commit()
    except sqlite3.Error:
        return
    queue.done()


def _sqlite_rollback(connection) -> None:
    connection.info.pop(_READING, None)
    connection.info.pop(_LOCKING, None)
    queue = _queue_of(connection)
    if queue is None or not queue.holding:
        return
    try:
        connection.connection.dbapi_connection.rollback()
    finally:
        queue.done()
