"""The staff participation dashboard: aggregates only, small cells suppressed on export."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
