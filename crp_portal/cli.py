"""Portal-wide commands: demo data and the first admin account."""

import click
from flask import current_app
from flask.cli import with_appcontext

from crp_portal import demo
from crp_portal.access import STAFF
from crp_portal.auth.services import create_user, find_user_by_email
from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.timeutil import local_today


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Fill an empty database with demo data (never in production)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException(
            "seed-demo refuses to run in production: demo accounts share a published password."
        )
    if demo.database_has_accounts():
        click.echo("The database already has accounts; seed-demo only fills an empty one.")
        return
    made = demo.seed(local_today())
    db.session.commit()
    summary = ", ".join(f"{count} {kind}" for kind, count in made.items())
    click.echo(f"Demo data created: {summary}. Password for every demo account: recovery-demo")


@click.command("create-admin")
@click.option("--email", prompt=True, help="The admin's email address.")
@click.option("--name", prompt=True, help="The admin's full name.")
@click.password_option(help="At least 12 characters.")
@with_appcontext
def create_admin_command(email: str, name: str, password: str):
    """Create a staff account with admin rights (for a new installation)."""
    minimum = current_app.config["CRP_PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise click.ClickException(f"The password needs at least {minimum} characters.")
    if not name.strip() or len(name.strip()) > 120:
        raise click.ClickException("Give a name of 1 to 120 characters.")
    if "@" not in email or len(email) > 254:
        raise click.ClickException("Give a valid email address.")
    if find_user_by_email(email) is not None:
        raise click.ClickException(f"{email.strip().lower()} already has an account.")
    try:
        user = create_user(email, name, STAFF, password=password)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    user.is_admin = True
    db.session.commit()
    click.echo(f"Admin account created for {user.email}.")
