"""The one writer of outbox rows: every email, transactional or nudge, is shaped here.

`message_values` decides a row's fields (defaults, lengths, when it is due); the rest
only put those values into the caller's transaction: `insert_message` as statements run
at once (every queued email), `new_message` as an ORM row (with attachments) on the
session, `insert_new` as one statement for many rows (planning's thousands of nudges). Nothing here commits: the change that causes the email owns it.
"""

import functools
from collections import Counter
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import CursorResult

from crp_portal.extensions import db
from crp_portal.outbox.models import OutboxAttachment, OutboxKind, OutboxMessage, OutboxStatus
from crp_portal.timeutil import utcnow

SUBJECT_LENGTH = OutboxMessage.subject.type.length
REASON_LENGTH = OutboxMessage.reason.type.length
NUDGE_KEY = ["campaign_id", "user_id", "occurrence"]


def message_values(
    recipient: str,
    subject: str,
    body_text: str,
    *,
    body_html: str | None = None,
    kind: str = OutboxKind.TRANSACTIONAL,
    user_id: int | None = None,
    campaign_id: int | None = None,
    occurrence: str | None = None,
    unsubscribe_url: str | None = None,
    status: str = OutboxStatus.PENDING,
    reason: str = "",
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """Every column a new row sets, the same keys in the same order for every row.

    `now` is the moment the row is written as (planning passes the moment it acts as,
    `flask nudges run --at`); the row is due then unless `due_at` says later."""
    now = now or utcnow()
    return {
        "kind": kind,
        "campaign_id": campaign_id,
        "user_id": user_id,
        "occurrence": occurrence,
        "recipient": recipient,
        "subject": subject[:SUBJECT_LENGTH],
        "body_text": body_text,
        "body_html": body_html,
        "unsubscribe_url": unsubscribe_url,
        "status": status,
        "reason": reason[:REASON_LENGTH],
        "attempts": 0,
        "due_at": due_at or now,
        "last_error": "",
        "created_at": now,
    }


def new_message(
    recipient: str, subject: str, body_text: str, *, attachments=(), **options
) -> OutboxMessage:
    """A row added to the session, not yet flushed (the caller's transaction owns it).

    `attachments` are (filename, content type, bytes); `options` are `message_values`'."""
    message = OutboxMessage(**message_values(recipient, subject, body_text, **options))
    for filename, content_type, data in attachments:
        message.attachments.append(
            OutboxAttachment(filename=filename, content_type=content_type, data=data)
        )
    db.session.add(message)
    return message


def insert_message(
    recipient: str, subject: str, body_text: str, *, attachments=(), **options
) -> None:
    """`new_message` written by statements run now, in the caller's transaction, rather
    than as ORM rows for the session to flush: a confirmation queued while its change
    holds a lock (an RSVP's turn on its event) takes a fraction of the time there."""
    values = message_values(recipient, subject, body_text, **options)
    inserted = cast(CursorResult, db.session.execute(_insert_message(), values))
    if attachments:
        (message_id,) = cast(tuple, inserted.inserted_primary_key)
        db.session.execute(
            _insert_attachment(),
            [
                {"message_id": message_id, "filename": name, "content_type": kind, "data": data}
                for name, kind, data in attachments
            ],
        )


@functools.cache
def _insert_message():
    return cast(Table, OutboxMessage.__table__).insert()


@functools.cache
def _insert_attachment():
    return cast(Table, OutboxAttachment.__table__).insert()


def add_message(recipient: str, subject: str, body_text: str, **options) -> OutboxMessage:
    """`new_message`, flushed: the row has its id."""
    message = new_message(recipient, subject, body_text, **options)
    db.session.flush()
    return message


def insert_new(rows: list[dict]) -> Counter:
    """Insert rows made by `message_values`, skipping nudge keys that exist; the statuses
    of those inserted.

    ON CONFLICT DO NOTHING on the unique key (campaign, person, occurrence): a planner
    running at the same moment may have written a key since this one looked, and then
    its row stands.
    """
    if not rows:
        return Counter()
    table = cast(Table, OutboxMessage.__table__)
    statement: postgresql.Insert | sqlite.Insert
    if db.session.get_bind().dialect.name == "postgresql":
        # One INSERT … SELECT FROM unnest(arrays): a multi-row VALUES list would carry
        # 15 placeholders a row, which the driver re-parses for every statement.
        names = list(rows[0])
        arrays = [
            bindparam(f"{name}_list", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
            for name in names
        ]
        source = select(func.unnest(*arrays).table_valued(*names).render_derived())
        statement = postgresql.insert(table).from_select(names, source)
        parameters = None
    else:
        statement, parameters = sqlite.insert(table), rows
    query = statement.on_conflict_do_nothing(index_elements=NUDGE_KEY).returning(table.c.status)
    return Counter(db.session.execute(query, parameters).scalars().all())
