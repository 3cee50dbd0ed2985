"""The staff participation dashboard: aggregates only, small cells suppressed on export."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def init_app(app) -> None:
    """The dashboard's duties beyond its pages: mark the rollups on every write that
    changes them, and remove a person's registrar records when they are erased."""
    from crp_portal.dashboard import marking, outcomes
    from crp_portal.privacy import register_eraser

    marking.init_app(app)
    register_eraser(
        app, "registrar records", lambda user, _now: outcomes.delete_records_of(user.id)
    )
