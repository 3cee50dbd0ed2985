"""`flask members …`: retention and erasure jobs for the program's privacy officer.

The group keeps the name `members`: crontabs and the privacy officer's notes run
`flask members purge-expired` and `flask members erase`.
"""

import click
from flask import current_app
from flask.cli import AppGroup

from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.privacy import erasure, retention
from crp_portal.timeutil import utcnow

members_cli = AppGroup("members", help="Member data: retention and erasure.")


@members_cli.command("purge-expired")
@click.option(
    "--months",
    type=click.IntRange(min=1, max=1200),  # a century; ~24,000 would overflow the calendar
    help="Retention period in months (default: CRP_RETENTION_MONTHS).",
)
def purge_expired_command(months: int | None):
    """Remove check-in and follow-up note texts past the retention period (idempotent)."""
    months = months or current_app.config["CRP_RETENTION_MONTHS"]
    try:
        result = retention.purge_expired(utcnow(), months)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    plural = "" if months == 1 else "s"
    db.session.commit()
    removed = _in_words([f"{count} {what}" for what, count in result.removed.items()])
    click.echo(f"Removed {removed} older than {months} month{plural}.")


def _in_words(parts: list[str]) -> str:
    """Parts as a list in words: a; a and b; a, b and c ("nothing" for none)."""
    if len(parts) < 2:
        return "".join(parts) or "nothing"
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


@members_cli.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(email: str, yes: bool):
    """Erase a person on request; anonymous counts for the dashboard stay."""
    try:
        user = erasure.person_to_erase(email)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{user.name} <{user.email}>, {user.role_label}, account {user.id}.")
    click.echo(
        "Their profile, recovery plan, support network, notes and contact details will be "
        "erased. Attendance, check-in scores and other counts stay, without their name."
    )
    if not yes and not click.confirm("Erase this person? This cannot be undone", default=False):
        click.echo("Nothing was erased.")
        raise click.exceptions.Exit(1)
    try:
        result = erasure.erase_person(email, utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    removed = ", ".join(f"{count} {what}" for what, count in result.removed.items())
    click.echo(f"Erased account {result.user_id}. Removed {removed}.")
