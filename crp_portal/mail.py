"""Email: text and HTML from templates, handed over only after the change commits.

A service queues a message on the database session; the message goes out when that
session commits and is dropped when it rolls back, so a failed change emails nobody.
(The nudges issue replaces the hand-over with a durable outbox.)
"""

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import event
from sqlalchemy.orm import Session

from crp_portal.extensions import db, mail

PENDING_KEY = "crp_pending_mail"


def queue_mail(
    recipient: str,
    subject: str,
    template: str,
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context,
) -> None:
    """Render `mail/<template>.txt` and `.html` and send them after the next commit.

    `attachments` are (filename, content type, bytes), e.g. an .ics invitation.
    """
    message = Message(
        subject=subject,
        recipients=[recipient],
        body=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
    )
    for filename, content_type, data in attachments or []:
        message.attach(filename, content_type, data)
    db.session.info.setdefault(PENDING_KEY, []).append(message)


def _deliver(messages: list[Message]) -> None:
    app = current_app._get_current_object()
    if not app.config.get("MAIL_SERVER"):
        # Bodies carry sign-in links: print them only where there is no real data.
        show_body = app.config["ENV_NAME"] != "production"
        for message in messages:
            app.logger.warning(
                "Mail not sent (no MAIL_SERVER) to %s: %s%s",
                ", ".join(message.recipients),
                message.subject,
                "\n" + message.body if show_body else "",
            )
        return
    try:
        with mail.connect() as connection:
            for message in messages:
                connection.send(message)
    except Exception:
        app.logger.exception("Could not hand %d message(s) to the SMTP server", len(messages))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    """Releasing a savepoint also fires after_commit; only the outer commit sends."""
    if session.in_nested_transaction():
        return
    messages = session.info.pop(PENDING_KEY, None)
    if messages:
        _deliver(messages)


@event.listens_for(Session, "after_transaction_end")
def _drop_after_rollback(session: Session, transaction) -> None:
    if transaction.parent is None and not transaction.nested:
        session.info.pop(PENDING_KEY, None)
