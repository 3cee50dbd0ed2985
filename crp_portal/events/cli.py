"""`flask events send-reminders`, run by cron or a timer (idempotent, safe on several hosts)."""

import click
from flask.cli import AppGroup

from crp_portal.events.reminders import send_due_reminders
from crp_portal.extensions import db
from crp_portal.links import with_portal_links
from crp_portal.timeutil import utcnow

events_cli = AppGroup("events", help="Events jobs.")


@events_cli.command("send-reminders")
@with_portal_links
def send_reminders_command():
    """Email a reminder before each event a student is going to, each once."""
    sent = send_due_reminders(utcnow())
    db.session.commit()
    click.echo(f"Sent {sent} event reminder(s).")
