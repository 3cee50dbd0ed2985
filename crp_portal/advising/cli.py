"""`flask advising send-reminders`, run by cron or a timer (idempotent)."""

import click
from flask.cli import AppGroup

from crp_portal.advising.reminders import send_due_reminders
from crp_portal.extensions import db
from crp_portal.links import with_portal_links
from crp_portal.timeutil import utcnow

advising_cli = AppGroup("advising", help="Advising jobs.")


@advising_cli.command("send-reminders")
@with_portal_links
def send_reminders_command():
    """Email reminders for appointments in the next 24 hours, each once."""
    sent = send_due_reminders(utcnow())
    db.session.commit()
    click.echo(f"Sent {sent} reminder(s).")
