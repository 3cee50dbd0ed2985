"""`flask housing expire-offers`, run daily by cron or a timer (idempotent)."""

import click
from flask.cli import AppGroup

from crp_portal.extensions import db
from crp_portal.housing.offers import expire_offers
from crp_portal.links import with_portal_links
from crp_portal.timeutil import local_today

housing_cli = AppGroup("housing", help="Housing jobs.")


@housing_cli.command("expire-offers")
@with_portal_links
def expire_offers_command():
    """Expire offers past their reply-by date and free their beds."""
    expired = expire_offers(local_today())
    db.session.commit()
    click.echo(f"Expired {expired} offer(s).")
