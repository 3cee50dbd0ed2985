"""Who may use a view: one vocabulary for routes, navigation and templates.

A role says what kind of account this is. A staff account also holds *scopes*, one per
staff job, granted by an admin (minimum necessary: the housing coordinator does not read
check-in notes). `may(user, scope)` answers for navigation and templates; `scope_required`
guards a view. Ownership (whose record is this?) is checked in services.
"""

from enum import StrEnum
from functools import lru_cache, wraps

from flask import abort
from flask_login import current_user

from crp_portal.extensions import login_manager


class Role(StrEnum):
    STUDENT = "student"
    ADVISOR = "advisor"
    STAFF = "staff"


# The names every route's decorator uses: `role_required(STUDENT)`.
STUDENT, ADVISOR, STAFF = Role.STUDENT, Role.ADVISOR, Role.STAFF
ROLES = tuple(Role)
ROLE_LABELS: dict[str, str] = {STUDENT: "Student", ADVISOR: "Advisor", STAFF: "Staff"}

RECOVERY, EVENTS, HOUSING, REPORTS, NUDGES, ADMIN = (
    "recovery",
    "events",
    "housing",
    "reports",
    "nudges",
    "admin",
)
SCOPES = (RECOVERY, EVENTS, HOUSING, REPORTS, NUDGES, ADMIN)
GRANTED_SCOPES = SCOPES[:-1]  # kept in users.staff_scopes; admin is users.is_admin
SCOPE_LABELS = {
    RECOVERY: "Recovery: member records, shared recovery items, check-ins, follow-ups, "
    "mentoring, intake",
    EVENTS: "Events: events, attendance, the meeting directory",
    HOUSING: "Housing: houses, applications, offers, the board, condition reports",
    REPORTS: "Reports: the dashboard and outcomes (figures only, no names)",
    NUDGES: "Nudges: campaigns and the delivery log",
    ADMIN: "Admin: accounts, invitations and the audit trail",
}


def scopes_of(user) -> frozenset[str]:
    """The staff jobs this account may do; empty for anyone who is not staff."""
    if not getattr(user, "is_authenticated", False) or user.role != STAFF:
        return frozenset()
    return user.scopes


def may(user, *scopes: str) -> bool:
    """Staff holding any one of `scopes`."""
    return not scopes_of(user).isdisjoint(_known(scopes))


@lru_cache(maxsize=256)
def _known(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """`scopes`, checked once per combination that code and templates ask about."""
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes {sorted(unknown)}")
    return scopes


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


def scope_required(*scopes: str, also: tuple[str, ...] = ()):
    """Staff holding one of `scopes` (and, if named, accounts whose role is in `also`)
    get through; everyone else signed in gets 403."""
    unknown = (set(scopes) - set(SCOPES)) | (set(also) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown scopes or roles {sorted(unknown)}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in also and not may(current_user, *scopes):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = scope_required(ADMIN)


def signed_in_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped
