"""A student's recovery support: the relapse-prevention plan, the support network, weekly
check-ins, and staff's follow-ups when someone should reach out.

The blueprint; its views are imported by create_app (see _register_blueprints).
"""

from flask import Blueprint

bp = Blueprint("recovery", __name__)


def init_app(app) -> None:
    """What recovery adds to the privacy duties: its sections of a person's data download,
    its part of an erasure, and the note texts the retention job removes."""
    from crp_portal.recovery import personal_data

    personal_data.init_app(app)
