"""Membership: a student's profile and status, joining the program (intake), and staff's
member list and record.

The blueprint; its views are imported by create_app (see _register_blueprints).
"""

from flask import Blueprint

bp = Blueprint("members", __name__)


def init_app(app) -> None:
    """What members adds to the privacy duties: the profile, status history, applications
    and email choices in a person's data download, and what identifies them on erasure."""
    from crp_portal.members import personal_data

    personal_data.init_app(app)
