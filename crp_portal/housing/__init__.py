"""The blueprint; its views are imported by create_app (see _register_blueprints)."""

from flask import Blueprint

bp = Blueprint("housing", __name__, url_prefix="/housing")


def init_app(app) -> None:
    """What housing adds to the privacy duties: applications and beds in a person's data
    download, and their notes on erasure."""
    from crp_portal.housing import personal_data

    personal_data.init_app(app)
