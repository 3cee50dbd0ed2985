"""Email: text and HTML from templates, written to the outbox in the caller's transaction.

A service queues a message on the database session; the outbox row commits with the
change or rolls back with it, so a failed change emails nobody and a committed one
cannot lose its email. No request talks SMTP: `flask outbox work` (started by `make run`,
a systemd unit in production) delivers rows as they commit, and `flask nudges send`
delivers whatever is left.
"""

from dataclasses import dataclass

from flask import render_template

from crp_portal.outbox.worker import announce
from crp_portal.outbox.writer import insert_message


@dataclass(frozen=True)
class RenderedMail:
    """A message with its bodies made, not yet queued: a service can render it before it
    takes a lock and queue it under the lock, so the lock is not held while it renders."""

    recipient: str
    subject: str
    body_text: str
    body_html: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()


def render_mail(
    recipient: str,
    subject: str,
    template: str,
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context,
) -> RenderedMail:
    """`mail/<template>.txt` and `.html` rendered with `context`.

    `attachments` are (filename, content type, bytes), e.g. an .ics invitation.
    """
    return RenderedMail(
        recipient,
        subject,
        render_template(f"mail/{template}.txt", **context),
        render_template(f"mail/{template}.html", **context),
        tuple(attachments or ()),
    )


def queue_rendered(mail: RenderedMail, **options) -> None:
    """Write a rendered message into a transactional outbox row; `options` are the
    writer's (`user_id`, `unsubscribe_url` for mail a person may stop)."""
    insert_message(
        mail.recipient,
        mail.subject,
        mail.body_text,
        body_html=mail.body_html,
        attachments=mail.attachments,
        **options,
    )
    announce()


def queue_mail(
    recipient: str,
    subject: str,
    template: str,
    attachments: list[tuple[str, str, bytes]] | None = None,
    **context,
) -> None:
    """Render `mail/<template>.txt` and `.html` into a transactional outbox row."""
    queue_rendered(render_mail(recipient, subject, template, attachments, **context))
