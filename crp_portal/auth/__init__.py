from flask import Blueprint

bp = Blueprint("auth", __name__)

from crp_portal.auth import admin_routes, routes  # noqa: E402, F401
