"""Who may use a view. Ownership (whose record is this?) is checked in services."""

from functools import wraps

from flask import abort
from flask_login import current_user

from crp_portal.extensions import login_manager

STUDENT, ADVISOR, STAFF = "student", "advisor", "staff"
ROLES = (STUDENT, ADVISOR, STAFF)
ROLE_LABELS = {STUDENT: "Student", ADVISOR: "Advisor", STAFF: "Staff"}


def role_required(*roles: str):
    """Let signed-in users with one of `roles` through; others get sign-in or 403."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def admin_required(view):
    """Staff accounts marked admin: they manage other accounts."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def signed_in_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped
