"""The outbox: every email the portal sends, transactional or nudge, exactly once.

A service queues a message (`crp_portal.mail.queue_mail`, or `writer` directly) in its
own transaction; `sender` delivers committed rows over SMTP; `worker` runs the sender as
rows commit (`flask outbox work`). Features import this package; it imports no feature.
"""

from flask import Flask

from crp_portal.outbox import models  # noqa: F401  (tables for create_all and Alembic)
from crp_portal.outbox.cli import outbox_cli
from crp_portal.outbox.worker import SOURCES_KEY


def init_app(app: Flask) -> None:
    """Wire the outbox into `app`: its mail-source registry and its commands."""
    app.extensions.setdefault(SOURCES_KEY, [])
    app.cli.add_command(outbox_cli)
