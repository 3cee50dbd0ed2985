"""Portal-wide commands: demo data, the first admin account and SQLite backups."""

import os
import sqlite3
from contextlib import closing

import click
from flask import current_app
from flask.cli import with_appcontext

from crp_portal import demo
from crp_portal.access import SCOPES, STAFF
from crp_portal.auth.passwords import password_problem
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
    if problem := password_problem(password, (email, name)):
        raise click.ClickException(problem)
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
    user.scopes = SCOPES  # the first account sets up the program; it grants others less
    db.session.commit()
    click.echo(f"Admin account created for {user.email}.")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(target: str):
    """Copy the SQLite database to TARGET, safely while the portal runs.

    SQLite's online backup reads one consistent snapshot, committed transactions still
    in the write-ahead log included (a plain `cp` of the file misses those). The copy is
    a single file readable by its owner only, checked before it takes TARGET's name.
    PostgreSQL is backed up with pg_dump instead (docs/operations.md).
    """
    url = db.engine.url
    source = url.database
    if url.get_backend_name() != "sqlite" or not source or source == ":memory:":
        raise click.ClickException(
            "flask backup copies a SQLite database file; back up PostgreSQL with "
            "pg_dump -Fc (see docs/operations.md)."
        )
    if not os.path.isfile(source):
        raise click.ClickException(f"There is no database at {source}.")
    if os.path.exists(target):
        raise click.ClickException(f"{target} already exists; name a new file.")
    partial = f"{target}.partial"
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise click.ClickException(f"Cannot write the backup: {error}") from error
    try:
        with (
            closing(sqlite3.connect(source, timeout=15)) as live,
            closing(sqlite3.connect(partial)) as copy,
        ):
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise click.ClickException(f"The copy failed its integrity check: {check}")
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:
        raise click.ClickException(f"Backup failed: {error}") from error
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    size = os.path.getsize(target) // 1024
    click.echo(f"Backed up {source} to {target} ({size} KiB, integrity check ok).")
