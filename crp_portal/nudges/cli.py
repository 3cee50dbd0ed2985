"""`flask nudges plan|send|run`: cron runs `run` every 15 minutes (see the README)."""

import click
from flask.cli import AppGroup

from crp_portal.extensions import db
from crp_portal.nudges import outbox
from crp_portal.timeutil import utcnow

nudges_cli = AppGroup("nudges", help="Nudge campaigns and the outbox.")


def _plan() -> None:
    from crp_portal.nudges.planning import plan

    report = plan(utcnow())
    db.session.commit()
    click.echo(str(report))


def _send(batch_size: int) -> bool:
    report = outbox.send_pending(utcnow(), batch_size=batch_size)
    click.echo(str(report))
    return not report.error


@nudges_cli.command("plan")
def plan_command():
    """Write the outbox rows of every nudge that is due now (idempotent)."""
    _plan()


@nudges_cli.command("send")
@click.option("--batch-size", default=100, show_default=True, help="Messages per SMTP connection.")
def send_command(batch_size: int):
    """Deliver pending outbox rows; exit status 1 if the SMTP server refused or was down."""
    if not _send(batch_size):
        raise SystemExit(1)


@nudges_cli.command("run")
@click.option("--batch-size", default=100, show_default=True)
def run_command(batch_size: int):
    """Plan, then send: the command cron runs."""
    _plan()
    if not _send(batch_size):
        raise SystemExit(1)
