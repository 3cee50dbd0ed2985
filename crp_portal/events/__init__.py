"""The blueprint; its views are imported by create_app (see _register_blueprints)."""

from flask import Blueprint

bp = Blueprint("events", __name__)


def init_app(app) -> None:
    """What events add to the privacy duties: RSVPs and attendance in a person's data
    download, and their calendar feed on erasure."""
    from crp_portal.events import personal_data

    personal_data.init_app(app)
