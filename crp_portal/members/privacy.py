"""A person's rights over their data: retention and erasure (the copy of all of it is
`data_export`).

- `purge_expired`: check-in and follow-up note *texts* older than the retention period
  go; the rows (scores, counts) stay.
- `erase_person`: the person goes, anonymous counts stay (attendance, RSVPs, check-in
  scores, appointments, beds, follow-ups, mentoring contacts, audit rows). Areas outside
  members add what they hold with `register_eraser` (the dashboard: registrar records).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from crp_portal import audit
from crp_portal.advising.models import Appointment
from crp_portal.auth.models import Invitation, User
from crp_portal.auth.services import find_user_by_email
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.events.models import CalendarFeed
from crp_portal.extensions import db
from crp_portal.housing.models import BedAssignment, ConditionReport, HousingApplication
from crp_portal.members.models import (
    EmailOptOut,
    IntakeApplication,
    MemberProfile,
    StatusChange,
    SupportPerson,
)
from crp_portal.members.recovery_models import (
    CheckIn,
    FollowUp,
    FollowUpNote,
    RecoveryPlanVersion,
)

ERASED_NAME = "Erased member"
ERASED_ACTION = audit.ERASED

# --- Retention ------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    check_in_notes: int
    follow_up_notes: int


def _removable_note(column):
    return column.is_not(None) & (column != "")


def purge_expired(now: datetime, months: int) -> PurgeResult:
    """Remove note texts written before `now - months`; rows, scores and counts stay.

    Idempotent: a note already removed is not counted again. `updated_at` is kept,
    so "last changed by the student" still means that.
    """
    if months < 1:
        raise DomainError("The retention period is at least one month.")
    cutoff = now - relativedelta(months=months)
    check_ins = db.session.execute(
        update(CheckIn)
        .where(CheckIn.created_at < cutoff, _removable_note(CheckIn.note))
        .values(note=None, note_removed_at=now, updated_at=CheckIn.updated_at)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    follow_up_notes = db.session.execute(
        update(FollowUpNote)
        .where(FollowUpNote.created_at < cutoff, _removable_note(FollowUpNote.body))
        .values(body=None, removed_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    db.session.flush()
    return PurgeResult(check_in_notes=check_ins, follow_up_notes=follow_up_notes)


# --- Erasure --------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureResult:
    user_id: int
    removed: dict[str, int]


ERASERS_KEY = "crp_erasers"


def register_eraser(app, what: str, erase: Callable[[int], int]) -> None:
    """Another area removes what it holds about a person when they are erased:
    `erase(user_id)` deletes it and returns how many rows went, reported as `what`.
    Called from that area's `init_app`."""
    app.extensions.setdefault(ERASERS_KEY, {})[what] = erase


def _erasers() -> dict[str, Callable[[int], int]]:
    return current_app.extensions.get(ERASERS_KEY, {})


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
        admins = db.session.scalar(
            select(func.count()).select_from(User).where(User.is_admin, User.active)
        )
        if admins <= 1:
            raise DomainError("This is the only active admin account. Make another admin first.")
    return user


def erase_person(email: str, now: datetime) -> ErasureResult:
    """Erase a person on request: what identifies them goes, anonymous counts stay.

    Kept: RSVPs, attendance, check-in scores, appointments, bed assignments,
    follow-ups, mentoring contacts, audit rows, membership status and join date.
    The erasure itself is written to the audit trail and the log (by id only).
    """
    user = person_to_erase(email)
    uid = user.id
    removed = {
        "support people": _delete(SupportPerson, SupportPerson.student_id == uid),
        "plan versions": _delete(RecoveryPlanVersion, RecoveryPlanVersion.student_id == uid),
        "email opt-outs": _delete(EmailOptOut, EmailOptOut.user_id == uid),
        "calendar feeds": _delete(CalendarFeed, CalendarFeed.user_id == uid),
        **{what: erase(uid) for what, erase in _erasers().items()},
        "invitations": _delete(
            Invitation, or_(Invitation.email == user.email, Invitation.user_id == uid)
        ),
        "check-in notes": _update(
            CheckIn,
            (CheckIn.student_id == uid, _removable_note(CheckIn.note)),
            note=None,
            note_removed_at=now,
        ),
        "follow-up notes": _update(
            FollowUpNote,
            (
                FollowUpNote.follow_up_id.in_(
                    select(FollowUp.id).where(FollowUp.student_id == uid)
                ),
                _removable_note(FollowUpNote.body),
            ),
            body=None,
            removed_at=now,
        ),
    }
    _update(StatusChange, (StatusChange.user_id == uid,), note="")
    _update(
        IntakeApplication,
        (IntakeApplication.student_id == uid,),
        goals="",
        heard_from_detail="",
        staff_note="",
    )
    _update(
        HousingApplication,
        (HousingApplication.student_id == uid,),
        roommate_request="",
        accessibility_needs="",
        decision_note=None,
    )
    _update(
        ConditionReport,
        (
            ConditionReport.assignment_id.in_(
                select(BedAssignment.id).where(BedAssignment.student_id == uid)
            ),
        ),
        student_notes="",
    )
    _update(
        Appointment,
        (Appointment.student_id == uid,),
        student_note="",
        private_notes="",
        summary="",
        action_items="",
        cancel_reason=None,
    )
    _update(MemberProfile, (MemberProfile.mentor_id == uid,), mentor_id=None)
    _update(
        MemberProfile,
        (MemberProfile.user_id == uid,),
        preferred_name=None,
        pronouns=None,
        student_id=None,
        major=None,
        class_year=None,
        phone=None,
        recovery_date=None,
        show_first_name_to_peers=False,
        show_real_titles=False,
        share_network_with_staff=False,
        share_plan_with_staff=False,
        share_check_ins_with_staff=False,
        is_peer_mentor=False,
        mentor_id=None,
    )
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


def _delete(model, condition) -> int:
    statement = delete(model).where(condition).execution_options(synchronize_session="fetch")
    return db.session.execute(statement).rowcount


def _update(model, conditions: tuple, **values) -> int:
    statement = (
        update(model)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return db.session.execute(statement).rowcount
