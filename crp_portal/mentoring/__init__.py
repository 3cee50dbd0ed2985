"""Peer mentoring: staff mark mentors and assign mentees; mentors log their contacts.

The blueprint; its views are imported by create_app (see _register_blueprints).
"""

from flask import Blueprint

bp = Blueprint("mentoring", __name__)


def init_app(app) -> None:
    """What mentoring adds to a person's data download: the contacts logged with them and,
    for a peer mentor, by them."""
    from crp_portal.mentoring import personal_data

    personal_data.init_app(app)
