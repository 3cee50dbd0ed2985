"""`flask nudges plan|send|run`: cron runs `run` every 15 minutes (see the README)."""

from datetime import datetime

import click
from flask.cli import AppGroup

from crp_portal.extensions import db
from crp_portal.links import with_portal_links
from crp_portal.outbox.worker import deliver_due
from crp_portal.timeutil import (
    DATE_BOUNDS_MESSAGE,
    NonexistentLocalTime,
    in_date_bounds,
    local_to_utc,
    utcnow,
)

nudges_cli = AppGroup("nudges", help="Nudge campaigns and the outbox.")


AT_HELP = (
    "Act as if it were this moment, e.g. 2026-12-09T09:00 (program time zone): to check "
    "or catch up a day's campaigns. Default: now."
)


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return utcnow()
    try:
        return local_to_utc(at)
    except NonexistentLocalTime as error:  # 2:30 on the night the clocks skip it
        raise click.BadParameter(str(error), param_hint="'--at'") from None


def _plan(now: datetime) -> None:
    from crp_portal.nudges.planning import plan

    report = plan(now)
    db.session.commit()
    click.echo(str(report))


def _send(now: datetime, batch_size: int) -> bool:
    report = deliver_due(now, batch_size=batch_size)
    click.echo(str(report))
    return not report.error


def _in_bounds(_ctx, _param, value: datetime | None) -> datetime | None:
    """A moment near the ends of the calendar overflows in the program's zone; no campaign
    runs outside the years a date may have anyway."""
    if value is not None and not in_date_bounds(value):
        raise click.BadParameter(DATE_BOUNDS_MESSAGE)
    return value


AT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
at_option = click.option("--at", type=click.DateTime(AT_FORMATS), callback=_in_bounds, help=AT_HELP)
batch_option = click.option(
    "--batch-size", default=100, show_default=True, help="Messages per SMTP connection."
)


@nudges_cli.command("plan")
@at_option
@with_portal_links
def plan_command(at):
    """Write the outbox rows of every nudge that is due now (idempotent)."""
    _plan(_moment(at))


@nudges_cli.command("send")
@at_option
@batch_option
@with_portal_links
def send_command(at, batch_size: int):
    """Deliver pending outbox rows; exit status 1 if the SMTP server refused or was down."""
    if not _send(_moment(at), batch_size):
        raise SystemExit(1)


@nudges_cli.command("run")
@at_option
@batch_option
@with_portal_links
def run_command(at, batch_size: int):
    """Plan, then send: the command cron runs every 15 minutes."""
    now = _moment(at)
    _plan(now)
    if not _send(now, batch_size):
        raise SystemExit(1)
