from flask import Blueprint

bp = Blueprint("members", __name__)

from crp_portal.members import routes  # noqa: E402, F401
