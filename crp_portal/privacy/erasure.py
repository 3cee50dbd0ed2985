"""Erasure on request: the person goes, anonymous counts stay (attendance, RSVPs,
check-in scores, appointments, beds, follow-ups, mentoring contacts, audit rows).

Each area deletes or blanks what it holds about the person (`register_eraser`, from its
`personal_data` module, with `delete_where` and `update_where`); then the account
itself loses what identifies it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, func, select, update

from crp_portal import audit
from crp_portal.auth.models import User
from crp_portal.auth.services import find_user_by_email
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.privacy import ERASERS_KEY, contributions

ERASED_NAME = "Erased member"
ERASED_ACTION = audit.ERASED


@dataclass(frozen=True)
class ErasureResult:
    user_id: int
    removed: dict[str, int]


def person_to_erase(email: str) -> User:
    """The account an erasure request names; refuses unknown and already erased ones."""
    user = find_user_by_email(email)
    if user is None:
        raise NotFound(
            f"No account uses {email.strip().lower()}. "
            "An erased person's address goes with them, so they may have been erased already."
        )
    if user.erased_at is not None:
        raise Conflict(f"Account {user.id} was already erased on {user.erased_at:%Y-%m-%d}.")
    if user.is_admin and user.active:
        admins = db.session.execute(
            select(func.count()).select_from(User).where(User.is_admin, User.active)
        ).scalar_one()
        if admins <= 1:
            raise DomainError("This is the only active admin account. Make another admin first.")
    return user


def erase_person(email: str, now: datetime) -> ErasureResult:
    """Erase a person on request: what identifies them goes, anonymous counts stay.

    Kept: RSVPs, attendance, check-in scores, appointments, bed assignments,
    follow-ups, mentoring contacts, audit rows, membership status and join date.
    Each area's eraser runs first (an invitation is found by the address still on the
    account); then the account loses its name, address and password and is signed out
    everywhere. The erasure itself is written to the audit trail and the log (by id only).
    """
    user = person_to_erase(email)
    uid = user.id
    removed = {}
    for what, erase in contributions(ERASERS_KEY):
        count = erase(user, now)
        if what is not None:
            removed[what] = count
    user.name = ERASED_NAME
    user.email = f"erased-{uid}@erased.invalid"
    user.password_hash = None
    user.is_admin = False
    user.active = False
    user.deactivated_at = user.deactivated_at or now
    user.erased_at = now
    user.session_version += 1
    audit.record_action(None, uid, ERASED_ACTION, at=now)
    current_app.logger.warning("Erased user %s", uid)
    return ErasureResult(user_id=uid, removed=removed)


def has_text(column):
    """The column holds a note: not NULL and not empty (one removed already is not again)."""
    return column.is_not(None) & (column != "")


def delete_where(model, condition) -> int:
    """Delete `model`'s rows matching `condition`; how many went."""
    statement = delete(model).where(condition).execution_options(synchronize_session="fetch")
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


def update_where(model, conditions: tuple, **values) -> int:
    """Set `values` on `model`'s rows matching all `conditions`; how many changed."""
    statement = (
        update(model)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount
