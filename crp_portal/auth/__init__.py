"""The blueprint; its views are imported by create_app (see _register_blueprints)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


def init_app(app) -> None:
    """What accounts add to the privacy duties: the account in a person's data download,
    and their invitations on erasure."""
    from crp_portal.auth import personal_data

    personal_data.init_app(app)
