"""`flask outbox work`: a long-running process that delivers outbox rows as they commit.

No request talks SMTP: a request writes its message to the outbox in its own transaction
and returns. On PostgreSQL the transaction also sends `NOTIFY crp_outbox`, which wakes the
worker the moment it commits; on SQLite the worker looks for due rows a few times a
second (a deferred read, so it never queues for the write lock). Several workers, on one
host or many, share the rows safely: claiming uses `FOR UPDATE SKIP LOCKED`.
"""

import logging
import select as select_module
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime

import psycopg
from flask import Flask, current_app
from sqlalchemy import exists, or_, select, text

from crp_portal.database import reading_only
from crp_portal.extensions import db
from crp_portal.outbox.models import OutboxMessage, OutboxStatus
from crp_portal.outbox.sender import SendReport, send_pending
from crp_portal.timeutil import utcnow

CHANNEL = "crp_outbox"
SOURCES_KEY = "crp_outbox_mail_sources"
SQLITE_POLL_SECONDS = 0.25
POSTGRES_POLL_SECONDS = 5.0  # a safety net: NOTIFY wakes the worker sooner
STALE_CLAIM_CHECK_SECONDS = 60.0

log = logging.getLogger("crp_portal.outbox")


def announce() -> None:
    """Called with every new outbox row: on PostgreSQL, wake the workers once the caller's
    transaction commits (NOTIFY is transactional; a rollback wakes nobody)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"NOTIFY {CHANNEL}"))


def register_mail_source(app: Flask, waiting, prepare: Callable[[], int]) -> None:
    """A feature whose mail is written by the worker rather than by a request (a reset link
    asked for by address): `waiting` is an EXISTS clause saying it has work, `prepare()`
    writes its outbox rows and commits."""
    app.extensions.setdefault(SOURCES_KEY, []).append((waiting, prepare))


def _sources() -> list:
    return current_app.extensions.get(SOURCES_KEY, [])


def anything_due(now: datetime) -> bool:
    due = exists().where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now)
    clauses = [due, *(waiting for waiting, _prepare in _sources())]
    with reading_only(), db.engine.connect() as connection:
        return bool(connection.scalar(select(or_(*clauses))))


def deliver_due(
    now: datetime | None = None, *, batch_size: int = 100, review_claims: bool = True
) -> SendReport:
    """One pass: let each mail source write its rows, then deliver every due row."""
    for _waiting, prepare in _sources():
        prepare()
    return send_pending(now or utcnow(), batch_size, review_claims=review_claims)


class Waker:
    """Blocks until new mail may be waiting: a NOTIFY on PostgreSQL, a timer on SQLite."""

    def __init__(self, app: Flask):
        self.connection = None
        url = db.engine.url
        if url.get_backend_name() == "postgresql":
            self.connection = psycopg.connect(
                url.set(drivername="postgresql").render_as_string(hide_password=False),
                autocommit=True,
            )
            self.connection.execute(f"LISTEN {CHANNEL}")
        self.poll_seconds = POSTGRES_POLL_SECONDS if self.connection else SQLITE_POLL_SECONDS

    def wait(self, stop: threading.Event) -> None:
        if self.connection is None:
            stop.wait(self.poll_seconds)
            return
        ready, _, _ = select_module.select([self.connection.fileno()], [], [], self.poll_seconds)
        if ready:
            for _notice in self.connection.notifies(timeout=0):
                pass

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def work(stop: threading.Event, *, once: bool = False) -> SendReport:
    """Deliver due rows until `stop` is set (or, with `once`, until none is due).

    Stale claims (a sender that died mid-delivery) are moved to review about once a minute;
    an SMTP outage leaves rows pending with back-off, and the loop carries on."""
    # current_app is typed as the Flask app it proxies; the proxy's method is untyped.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    waker = Waker(app)
    total = SendReport()
    last_stale_check = 0.0
    try:
        while not stop.is_set():
            now = utcnow()
            if time.monotonic() - last_stale_check >= STALE_CLAIM_CHECK_SECONDS:
                last_stale_check = time.monotonic()
                report = deliver_due(now)
            elif anything_due(now):
                report = deliver_due(now, review_claims=False)
            else:
                report = SendReport()
            _add(total, report)
            if report.sent or report.retried or report.failed or report.needs_review:
                log.info("%s", report)
            if once and not anything_due(utcnow()):
                break
            if not report.sent:
                waker.wait(stop)
    finally:
        waker.close()
    return total


def _add(total: SendReport, report: SendReport) -> None:
    total.sent += report.sent
    total.retried += report.retried
    total.failed += report.failed
    total.needs_review += report.needs_review
    total.error = report.error or total.error


@contextmanager
def stopped_by_signals():
    """SIGTERM (systemd, `kill`) and SIGINT (Ctrl-C) set the event: the worker finishes
    the batch in hand and exits. The previous handlers come back afterwards."""
    stop = threading.Event()
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    for number in previous:
        signal.signal(number, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
