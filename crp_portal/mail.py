"""Email: text and HTML from templates, written to the outbox in the caller's transaction.

A service queues a message on the database session; the outbox row commits with the
change or rolls back with it, so a failed change emails nobody and a committed one
cannot lose its email. No request talks SMTP: `flask outbox work` (started by `make run`,
a systemd unit in production) delivers rows as they commit, and `flask nudges send`
delivers whatever is left.
"""

from flask import render_template

from crp_portal.outbox.worker import announce
from crp_portal.outbox.writer import new_message


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
    new_message(
        recipient,
        subject,
        render_template(f"mail/{template}.txt", **context),
        body_html=render_template(f"mail/{template}.html", **context),
        attachments=attachments or (),
    )
    announce()
