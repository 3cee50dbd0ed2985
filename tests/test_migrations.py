"""`flask db upgrade` on an empty database gives exactly the models' schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from crp_portal import create_app
from crp_portal.extensions import db


def _empty_database(url: str):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return app


def test_upgrade_from_empty_matches_the_models(database_url):
    app = _empty_database(database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": False}
            )
            differences = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
        db.engine.dispose()
    assert differences == []
    assert {"users", "invitations", "member_profiles", "terms", "calendar_periods"} <= tables


def test_downgrade_to_base_removes_everything(database_url):
    app = _empty_database(database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert tables == set()


def test_students_already_in_the_program_get_the_hour_before_reminder(database_url):
    """Upgrading past 0014 gives existing profiles the default new ones get (60 minutes);
    a student may then turn it off, which is stored as no reminder (NULL)."""
    app = _empty_database(database_url)
    with app.app_context():
        upgrade(revision="0013_staff_scopes_and_privacy")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, role, created_at, updated_at) "
                    "VALUES (1, 'kai@example.edu', 'Kai', 'student', :now, :now)"
                ),
                {"now": "2026-12-01 12:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO member_profiles (user_id, status, status_changed_at, "
                    "created_at, updated_at) VALUES (1, 'active', :now, :now, :now)"
                ),
                {"now": "2026-12-01 12:00:00+00:00"},
            )
        upgrade()
        with db.engine.begin() as connection:
            before = connection.scalar(
                text("SELECT calendar_reminder_minutes FROM member_profiles")
            )
            connection.execute(text("UPDATE member_profiles SET calendar_reminder_minutes = NULL"))
            turned_off = connection.scalar(
                text("SELECT calendar_reminder_minutes FROM member_profiles")
            )
        downgrade(revision="base")
        db.engine.dispose()
    assert (before, turned_off) == (60, None)
