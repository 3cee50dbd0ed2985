from flask import Blueprint

bp = Blueprint("home", __name__)

from crp_portal.home import routes  # noqa: E402, F401
