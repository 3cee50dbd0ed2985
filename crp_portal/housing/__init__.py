"""The blueprint; its views are imported by create_app (see _register_blueprints)."""

from flask import Blueprint

bp = Blueprint("housing", __name__, url_prefix="/housing")
