"""`flask dashboard refresh [--rebuild]`: bring the dashboard's rollups up to date.

The dashboard refreshes them itself before it reads; run this from cron after the
nudges job so the first visit of the morning doesn't pay for a night of writes, and
with --rebuild after loading data with SQL outside the portal.
"""

import time

import click
from flask.cli import AppGroup

from crp_portal.dashboard import rollups
from crp_portal.extensions import db

dashboard_cli = AppGroup("dashboard", help="The staff dashboard's rollups.")


@dashboard_cli.command("refresh")
@click.option("--rebuild", is_flag=True, help="Recompute every rollup from the source tables.")
def refresh_command(rebuild: bool) -> None:
    started = time.perf_counter()
    if rebuild:
        rollups.mark_everything()
    taken = rollups.refresh()
    db.session.commit()
    elapsed = time.perf_counter() - started
    what = "rebuilt every rollup" if rebuild else f"applied {taken} change marks"
    click.echo(f"dashboard: {what} in {elapsed:.1f} s")
