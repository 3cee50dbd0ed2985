"""The blueprint; its views are imported by create_app (see _register_blueprints)."""

from flask import Blueprint

bp = Blueprint("support_meetings", __name__)
