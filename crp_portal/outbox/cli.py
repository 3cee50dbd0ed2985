"""`flask outbox work`: the long-running worker that delivers mail as it commits."""

import click
from flask.cli import AppGroup

from crp_portal.links import with_portal_links
from crp_portal.outbox.worker import stopped_by_signals, work

outbox_cli = AppGroup("outbox", help="Delivering the outbox.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@with_portal_links
def work_command(once: bool):
    """Deliver outbox rows as they commit, until stopped (SIGTERM or Ctrl-C)."""
    click.echo("Outbox worker started; mail is delivered as it is written.")
    with stopped_by_signals() as stop:
        report = work(stop, once=once)
    click.echo(f"Outbox worker stopped. {report}")
