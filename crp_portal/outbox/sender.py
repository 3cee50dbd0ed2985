"""The sender: outbox rows (written by `writer` in the transaction that causes them) are
delivered from there exactly once.

Delivery claims rows first (pending → sending, in its own short transaction; on
PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several senders share the work and never
take the same row), hands them to the SMTP server over one connection, and marks each
sent as soon as the server accepts it. A failure puts the row back with an exponential
back-off; after `MAX_ATTEMPTS` it is failed, with the last error. A sender that dies
between the server's acceptance and the mark leaves the row "sending": after
`CRP_OUTBOX_CLAIM_TIMEOUT_MINUTES` it goes to "needs review" rather than being sent again
by itself, because a second copy is worse than asking staff.

Delivery uses its own connections (not the request's session), so it can run right
after a request commits as well as from `flask outbox work` and `flask nudges send`.
"""

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app
from flask_mail import Message
from markupsafe import escape
from sqlalchemy import CursorResult, select, update

from crp_portal.extensions import db, mail
from crp_portal.outbox.models import (
    MAX_ATTEMPTS,
    OutboxAttachment,
    OutboxMessage,
    OutboxStatus,
)
from crp_portal.timeutil import utcnow

SMTP_ERRORS = (smtplib.SMTPException, OSError)


def unsubscribe_line(url: str) -> str:
    """The footer under every message with an unsubscribe link: with the member's own
    link in the email, with an inert stand-in wherever staff see the message."""
    return f"--\nStop emails like this: {url}"


def retry(message_ids: list[int], now: datetime) -> int:
    """Staff send failed or needs-review rows again: pending, due now, attempts reset."""
    if not message_ids:
        return 0
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.NEEDS_REVIEW)),
        )
        .values(status=OutboxStatus.PENDING, due_at=now, attempts=0, last_error="", claimed_at=None)
    )
    return cast(CursorResult[Any], result).rowcount


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    needs_review: int = 0
    error: str = ""

    def __str__(self) -> str:
        text = f"Sent {self.sent}, will retry {self.retried}, failed {self.failed}"
        if self.needs_review:
            text += f", {self.needs_review} need review (claimed but never marked sent)"
        return text + (f". Last error: {self.error}" if self.error else ".")


def send_pending(
    now: datetime | None = None, batch_size: int = 100, *, review_claims: bool = True
) -> SendReport:
    """Deliver every due pending row, batch by batch, until none is left."""
    now = now or utcnow()
    report = SendReport(needs_review=review_stale_claims(now) if review_claims else 0)
    while True:
        ids = claim(now, batch_size)
        if not ids:
            return report
        deliver(ids, now, report)


def claim(now: datetime, limit: int, ids: list[int] | None = None) -> list[int]:
    statement = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        statement = statement.where(OutboxMessage.id.in_(ids))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        claimed = list(connection.scalars(statement))
        if claimed:
            connection.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(claimed))
                .values(
                    status=OutboxStatus.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1
                )
            )
    return claimed


def review_stale_claims(now: datetime) -> int:
    timeout = timedelta(minutes=current_app.config["CRP_OUTBOX_CLAIM_TIMEOUT_MINUTES"])
    with db.engine.begin() as connection:
        result = connection.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_at < now - timeout,
            )
            .values(
                status=OutboxStatus.NEEDS_REVIEW,
                reason="The sender stopped before marking this sent; it may have arrived.",
            )
        )
    return result.rowcount


def deliver(ids: list[int], now: datetime, report: SendReport) -> None:
    rows, attachments = _load(ids)
    # current_app is typed as the Flask app it proxies; the proxy's method is untyped.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("MAIL_SERVER"):
        _write_to_log(app, rows)
        for row in rows:
            _mark_sent(row.id, max(now, utcnow()), "written to the log (no MAIL_SERVER)")
        report.sent += len(rows)
        return
    pending = list(rows)
    try:
        with mail.connect() as connection:
            while pending:
                row = pending[0]
                try:
                    connection.send(_email(row, attachments.get(row.id, [])))
                except smtplib.SMTPRecipientsRefused as error:
                    pending.pop(0)
                    _back_off(row, str(error), now, report)
                    continue
                pending.pop(0)
                _mark_sent(row.id, sent_at=max(now, utcnow()))
                report.sent += 1
    except SMTP_ERRORS as error:
        app.logger.warning("SMTP delivery stopped: %s", error)
        for row in pending:
            _back_off(row, str(error) or error.__class__.__name__, now, report)


def _load(ids: list[int]):
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(OutboxMessage.__table__)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
        ).all()
        files = connection.execute(
            select(OutboxAttachment.__table__).where(OutboxAttachment.message_id.in_(ids))
        ).all()
    attachments: dict[int, list] = {}
    for file in files:
        attachments.setdefault(file.message_id, []).append(file)
    return rows, attachments


class PortalMessage(Message):
    """Flask-Mail's message, written so strict readers find what they look for.

    Flask-Mail writes with `policy.SMTP`, which encodes any header line over 78 characters
    as an RFC 2047 encoded word: a `List-Unsubscribe: <https://…/long-token>` then reaches
    the mailbox as `=?utf-8?q?=3Chttps…?=`, in which an RFC 2369 reader (and a mailbox
    provider's one-click unsubscribe) finds no link. RFC 5322 allows lines of up to 998
    characters, so headers are written as they are, folded only where they must be.
    The Message-ID names the portal's own domain, not the sending host's."""

    def __init__(self, *args, message_domain: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.msgId = make_msgid(domain=message_domain)

    def _message(self):
        message = super()._message()
        message.policy = policy.SMTP.clone(max_line_length=998)
        return message


def _message_domain() -> str:
    return urlsplit(current_app.config["CRP_BASE_URL"]).hostname or "localhost"


def _sender() -> str:
    """MAIL_DEFAULT_SENDER's address under the public name, whatever name it carries."""
    address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    return formataddr((current_app.config["CRP_PUBLIC_NAME"], address))


def _email(row, files) -> Message:
    body = row.body_text
    headers = {}
    if row.unsubscribe_url:
        body = f"{body.rstrip()}\n\n{unsubscribe_line(row.unsubscribe_url)}\n"
        headers = {
            "List-Unsubscribe": f"<{row.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    html = row.body_html
    if html and row.unsubscribe_url:
        html += f'\n<p><a href="{escape(row.unsubscribe_url)}">Stop emails like this</a></p>'
    message = PortalMessage(
        subject=row.subject,
        recipients=[row.recipient],
        sender=_sender(),
        body=body,
        html=html,
        extra_headers=headers or None,
        message_domain=_message_domain(),
    )
    for file in files:
        message.attach(file.filename, _with_charset(file.content_type), file.data)
    return message


def _with_charset(content_type: str) -> str:
    """A text attachment names its charset (the portal writes UTF-8): without one, a
    reader may guess another (RFC 2046 says US-ASCII) and garble "García"."""
    if content_type.lower().startswith("text/") and "charset=" not in content_type.lower():
        return f"{content_type}; charset=utf-8"
    return content_type


def _write_to_log(app, rows) -> None:
    """Bodies carry sign-in links: print them only where there is no real data."""
    show_body = app.config["ENV_NAME"] != "production"
    for row in rows:
        app.logger.warning(
            "Mail not sent (no MAIL_SERVER) to %s: %s%s",
            row.recipient,
            row.subject,
            "\n" + row.body_text if show_body else "",
        )


def _mark_sent(message_id: int, sent_at: datetime, reason: str = "") -> None:
    """`sent_at` is never before the moment the run acts as (`flask nudges run --at`)."""
    values = {"status": OutboxStatus.SENT, "sent_at": sent_at, "last_error": ""}
    if reason:
        values["reason"] = reason
    with db.engine.begin() as connection:
        connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(**values)
        )


def _back_off(row, error: str, now: datetime, report: SendReport) -> None:
    """Try again after 2, 4, 8, 16 minutes; give up after MAX_ATTEMPTS."""
    attempts = row.attempts  # counted when the row was claimed
    if attempts >= MAX_ATTEMPTS:
        values: dict[str, Any] = {"status": OutboxStatus.FAILED}
        report.failed += 1
    else:
        values = {"status": OutboxStatus.PENDING, "due_at": now + timedelta(minutes=2**attempts)}
        report.retried += 1
    report.error = error[:500]
    with db.engine.begin() as connection:
        connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(last_error=error[:500], **values)
        )
