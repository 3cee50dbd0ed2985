"""Email: text and HTML from templates, written to the outbox in the caller's transaction.

A service queues a message on the database session; the outbox row commits with the
change or rolls back with it, so a failed change emails nobody and a committed one
cannot lose its email. Right after the outer commit the new rows are delivered;
whatever that misses (the SMTP server was down) `flask nudges send` delivers later.
"""

from flask import current_app, render_template
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from crp_portal.extensions import db

PENDING_KEY = "crp_pending_mail"
COMMITTED_KEY = "crp_committed_mail"


def queue_mail(
    recipient: str,
    subject: str,
    template: str,
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context,
) -> None:
    """Render `mail/<template>.txt` and `.html` into a transactional outbox row.

    `attachments` are (filename, content type, bytes), e.g. an .ics invitation.
    """
    from crp_portal.nudges.outbox import new_message

    message = new_message(
        recipient,
        subject,
        render_template(f"mail/{template}.txt", **context),
        body_html=render_template(f"mail/{template}.html", **context),
        attachments=attachments or (),
    )
    db.session.info.setdefault(PENDING_KEY, []).append(message)


@event.listens_for(Session, "after_commit")
def _deliver_once_committed(session: Session) -> None:
    """Releasing a savepoint also fires after_commit; only the outer commit counts."""
    if session.in_nested_transaction():
        return
    messages = session.info.pop(PENDING_KEY, None)
    if messages:
        session.info[COMMITTED_KEY] = messages


@event.listens_for(Session, "after_transaction_end")
def _deliver_after_release(session: Session, transaction) -> None:
    """After the outer transaction, when its connection is back in the pool: drop what
    a rollback undid, deliver what a commit kept. Delivery never fails the caller."""
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(PENDING_KEY, None)
    messages = session.info.pop(COMMITTED_KEY, None)
    if not messages:
        return
    ids = [state.identity[0] for state in map(inspect, messages) if state.identity]
    if not ids:
        return
    from crp_portal.nudges.outbox import deliver_now

    try:
        deliver_now(ids)
    except Exception:  # the rows are safe in the outbox; `flask nudges send` retries
        current_app.logger.exception("Immediate delivery of %d message(s) failed", len(ids))
