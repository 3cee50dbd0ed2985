from flask import Blueprint

bp = Blueprint("terms", __name__, url_prefix="/terms")

from crp_portal.terms import routes  # noqa: E402, F401
