"""CRP Portal: create_app() builds the Flask application."""

import os

from flask import Flask
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from config import CONFIGS
from crp_portal import database, extensions, links, outbox, request_checks
from crp_portal.access import may
from crp_portal.chips import status_tone
from crp_portal.errors import register_error_pages
from crp_portal.markup import render_markdown
from crp_portal.navigation import navigation_for
from crp_portal.security import init_security
from crp_portal.timeutil import register_filters
from crp_portal.views import MAX_RECORD_ID

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    config_name = config_name or os.environ.get("CRP_CONFIG", "development")
    if config_name not in CONFIGS:
        raise RuntimeError(f"CRP_CONFIG must be one of {', '.join(CONFIGS)}, not {config_name!r}")
    config_class = CONFIGS[config_name]
    checked = config_class.check(os.environ) if hasattr(config_class, "check") else {}

    app = Flask(
        __name__,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
        instance_path=os.path.join(PROJECT_ROOT, "instance"),
    )
    app.config.from_object(config_class)
    app.config.update(checked)
    app.config.update(overrides or {})
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "crp_portal.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"

    app.url_map.converters["int"] = RecordIdConverter
    links.init_app(app)
    request_checks.init_app(app)
    _init_extensions(app)
    outbox.init_app(app)
    init_security(app)
    _register_blueprints(app)
    _init_areas(app)
    register_error_pages(app)
    register_filters(app)
    _register_template_context(app)
    _register_cli(app)
    _register_mail_sources(app)
    return app


def _register_mail_sources(app: Flask) -> None:
    from crp_portal.auth.models import AccountMailRequest
    from crp_portal.auth.services import send_requested_account_mail
    from crp_portal.outbox.worker import register_mail_source

    register_mail_source(app, select(AccountMailRequest.id).exists(), send_requested_account_mail)


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in our URLs: an id too big for a database integer names no record (404),
    rather than overflowing the database driver (500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_RECORD_ID)
        super().__init__(url_map, *args, **kwargs)


def _init_extensions(app: Flask) -> None:
    """`crp_portal.mail` (our module) shadows the Flask-Mail instance, hence `extensions.`."""
    extensions.db.init_app(app)
    database.init_app(app)  # SQLite's connection and transaction listeners
    extensions.migrate.init_app(
        app, extensions.db, directory=os.path.join(PROJECT_ROOT, "migrations")
    )
    extensions.csrf.init_app(app)
    extensions.mail.init_app(app)
    extensions.init_limiter(app)
    login_manager = extensions.login_manager
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from crp_portal.auth.services import load_session_user

    login_manager.user_loader(load_session_user)


def _register_blueprints(app: Flask) -> None:
    """Views are imported here, not by each package, so models and services import cleanly."""
    import crp_portal.advising.advisor_routes
    import crp_portal.advising.routes
    import crp_portal.audit.routes
    import crp_portal.auth.admin_routes
    import crp_portal.auth.routes
    import crp_portal.dashboard.outcome_routes
    import crp_portal.dashboard.routes
    import crp_portal.events.door_routes
    import crp_portal.events.reminder_routes
    import crp_portal.events.routes
    import crp_portal.events.staff_routes
    import crp_portal.home.routes
    import crp_portal.housing.offer_routes
    import crp_portal.housing.routes
    import crp_portal.housing.staff_routes
    import crp_portal.members.intake_routes
    import crp_portal.members.routes
    import crp_portal.mentoring.routes
    import crp_portal.nudges.campaign_routes
    import crp_portal.nudges.delivery_routes
    import crp_portal.nudges.dry_run_routes
    import crp_portal.nudges.report_routes
    import crp_portal.nudges.unsubscribe_routes
    import crp_portal.privacy.routes
    import crp_portal.recovery.check_in_routes
    import crp_portal.recovery.follow_up_routes
    import crp_portal.recovery.network_routes
    import crp_portal.recovery.plan_routes
    import crp_portal.sso.admin_routes
    import crp_portal.sso.routes
    import crp_portal.sso.saml_routes
    import crp_portal.support_meetings.routes
    import crp_portal.terms.import_routes
    import crp_portal.terms.routes  # noqa: F401
    from crp_portal import (
        advising,
        audit,
        auth,
        dashboard,
        events,
        home,
        housing,
        members,
        mentoring,
        nudges,
        privacy,
        recovery,
        sso,
        support_meetings,
        terms,
    )

    areas = (
        home,
        auth,
        sso,
        members,
        recovery,
        mentoring,
        privacy,
        audit,
        terms,
        events,
        support_meetings,
        advising,
        housing,
        nudges,
        dashboard,
    )
    for area in areas:
        app.register_blueprint(area.bp)


def _init_areas(app: Flask) -> None:
    """What areas contribute beyond their views (each area's sections of a person's data
    download and part of an erasure, the dashboard's rollup marking, advising's calendar
    feed entries): registered here, by each area's init_app, not as a side effect of
    importing a module. The order is the order of the download's sections."""
    from crp_portal import (
        advising,
        auth,
        dashboard,
        events,
        housing,
        members,
        mentoring,
        recovery,
        sso,
    )

    for area in (auth, sso, members, recovery, events, advising, housing, mentoring, dashboard):
        area.init_app(app)


def _register_template_context(app: Flask) -> None:
    app.jinja_env.globals["may"] = may
    app.jinja_env.globals["status_tone"] = status_tone
    app.jinja_env.filters["markdown"] = render_markdown
    # The query arguments a pager link keeps: all but its page number, and none that
    # url_for would read as its own options (`?_anchor=…&_external=1` redirecting a link).
    app.jinja_env.filters["reject_page"] = lambda args, name="page": {
        key: value for key, value in args.items() if key != name and not key.startswith("_")
    }

    @app.context_processor
    def portal_context():
        return {
            "navigation": navigation_for(current_user),
            "program_name": app.config["CRP_PROGRAM_NAME"],
            "public_name": app.config["CRP_PUBLIC_NAME"],
            "campus_crisis_line": app.config["CRP_CAMPUS_CRISIS_LINE"],
        }


def _register_cli(app: Flask) -> None:
    from crp_portal.advising.cli import advising_cli
    from crp_portal.cli import backup_command, create_admin_command, seed_demo_command
    from crp_portal.dashboard.cli import dashboard_cli
    from crp_portal.events.cli import events_cli
    from crp_portal.housing.cli import housing_cli
    from crp_portal.nudges.cli import nudges_cli
    from crp_portal.privacy.cli import members_cli

    app.cli.add_command(advising_cli)
    app.cli.add_command(dashboard_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(housing_cli)
    app.cli.add_command(members_cli)
    app.cli.add_command(nudges_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(backup_command)
