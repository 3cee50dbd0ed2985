"""The audit trail: who opened whose record, what admins changed, what left the program.

Every area writes the trail through this module, and only through it: `record_action`
writes one row (an admin's change, an export, a view), `record_view` writes a view unless
the same person opened the same part a moment ago, `record_actions` writes one action on
many accounts in one statement; all three shape rows with `_values`. Reading the trail
(the admin's search, a person's own log) is `crp_portal.audit.search`.

The trail holds two kinds of rows in the same columns. A *view* names the part of a
person's data that was opened ("member record", "recovery plan"; written by
`record_view`) and, in `detail`, how the viewer stood to that person at the time
("peer mentor", "program staff"), so the person's own log stays true when mentors,
advisors or admin rights change later. An *action* is a change an admin made to an
account, or data taken out of the program, written here as a short phrase in the past
tense ("account deactivated").

Phrases and details never hold a name or an address: audit rows outlive an erasure, so
whom a row is about lives only in `subject_id` (an erased person then reads "Erased
member"). Exports and invitations are about no one (`subject_id` is NULL); their detail
says which table and dates, or which invitation (by number) and role. The page looks an
invitation's address up while the invitation exists.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from flask import Blueprint
from sqlalchemy import insert, select

from crp_portal.access import ROLE_LABELS, STAFF, STUDENT
from crp_portal.advising.models import Appointment
from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import Invitation, User
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile
from crp_portal.timeutil import utcnow

# The admin's search of the trail (`routes`); its views are imported by create_app.
bp = Blueprint("audit", __name__)

ROLE_CHANGED = "role changed from {old} to {new}"
ADMIN_GIVEN = "admin rights given"
ADMIN_REMOVED = "admin rights removed"
RENAMED = "name changed"
SCOPES_CHANGED = "staff areas set to {scopes}"
DEACTIVATED = "account deactivated"
REACTIVATED = "account reactivated"
IMPORTED = "account created by roster import"
INVITED = "invitation sent"
REINVITED = "invitation resent"
UNINVITED = "invitation withdrawn"
EXPORTED = "dashboard table exported as CSV"
OUTCOMES_EXPORTED = "registrar outcomes exported as CSV"
RECORDS_UPLOADED = "registrar records uploaded"
ERASED = "erased on request"
SIGN_IN = "sign-in"

# The parts of a person's data a view opens, and how the person's own log names them.
MEMBER_RECORD = "member record"
RECOVERY_PLAN = "recovery plan"
CHECK_INS = "check-ins"
SUPPORT_NETWORK = "support network"
DATA_EXPORT = "data export"
ACCOUNT = "account"
MENTEE_CONTACT = "mentee contact details"
MENTORING_RECORD = "mentoring record"
FOLLOW_UP = "follow-up"
INTAKE_APPLICATION = "intake application"
ADVISING_RECORD = "advising record"
HOUSING_APPLICATION = "housing application"
PARTS_FOR_THE_PERSON = {
    MEMBER_RECORD: "Your member record",
    RECOVERY_PLAN: "Your relapse-prevention plan",
    CHECK_INS: "Your check-in answers",
    SUPPORT_NETWORK: "Your support network",
    DATA_EXPORT: "An export of your data",
    ACCOUNT: "Your account",
    MENTEE_CONTACT: "Your contact details",
    MENTORING_RECORD: "Your peer mentoring record",
    FOLLOW_UP: "A follow-up about you",
    INTAKE_APPLICATION: "Your application to join",
    ADVISING_RECORD: "Your advising record",
    HOUSING_APPLICATION: "Your housing application",
}

# How the one who acted stood to the person at the time, kept in a row's `detail`.
BY_PEER_MENTOR = "peer mentor"
BY_ASSIGNED_ADVISOR = "assigned advisor"
BY_BOOKED_ADVISOR = "advisor booked with"
BY_ADVISOR = "advisor"
BY_STAFF = "program staff"
BY_ADMIN = "administrator"
BY_STUDENT = "student"
RELATIONS_FOR_THE_PERSON = {
    BY_PEER_MENTOR: "your peer mentor",
    BY_ASSIGNED_ADVISOR: "your assigned advisor",
    BY_BOOKED_ADVISOR: "an advisor you booked with",
    BY_ADVISOR: "an advisor",
    BY_STAFF: "program staff",
    BY_ADMIN: "an administrator",
    BY_STUDENT: "another student",
}
RELATIONS_FOR_ADMINS = {
    BY_PEER_MENTOR: "As their peer mentor",
    BY_ASSIGNED_ADVISOR: "As their assigned advisor",
    BY_BOOKED_ADVISOR: "As an advisor they booked with",
    BY_ADVISOR: "As an advisor",
    BY_STAFF: "As program staff",
    BY_ADMIN: "As an administrator",
    BY_STUDENT: "As another student",
}
ACTION_LENGTH = AuditEntry.action.type.length
DETAIL_LENGTH = AuditEntry.detail.type.length
REPEAT_WINDOW = timedelta(minutes=10)


def relation_to(actor: User, subject_id: int) -> str:
    """How `actor` stands to the person `subject_id` right now: their peer mentor, their
    assigned advisor, an advisor they booked with, program staff or an administrator."""
    if actor.role == STAFF:
        return BY_ADMIN if actor.is_admin_staff else BY_STAFF
    profile = db.session.get(MemberProfile, subject_id)
    if actor.role == STUDENT:
        mentored = profile is not None and profile.mentor_id == actor.id
        return BY_PEER_MENTOR if mentored else BY_STUDENT
    if profile is not None and profile.advisor_id == actor.id:
        return BY_ASSIGNED_ADVISOR
    booked = db.session.scalar(
        select(Appointment.id)
        .where(Appointment.advisor_id == actor.id, Appointment.student_id == subject_id)
        .limit(1)
    )
    return BY_BOOKED_ADVISOR if booked is not None else BY_ADVISOR


def _values(
    actor_id: int | None, subject_id: int | None, action: str, detail: str | None, at: datetime
) -> dict:
    """The columns of one row, as every writer of the trail stores them."""
    return {
        "actor_id": actor_id,
        "subject_id": subject_id,
        "action": action[:ACTION_LENGTH],
        "detail": detail[:DETAIL_LENGTH] if detail else None,
        "created_at": at,
    }


def record_action(
    actor: User | None,
    subject_id: int | None,
    action: str,
    at: datetime | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Write an admin or staff action to the trail, every time it happens.

    Unlike a view there is no repeat window: two role changes are two events. An action
    on a person keeps how the actor stood to them; one about no one (an export, an
    invitation) keeps its `detail`. `actor` is None for the command line, which has no
    account; such an action must be about someone.
    """
    if subject_id is None and actor is None:
        raise ValueError("An action with no actor needs a subject.")
    if detail is None and subject_id is not None and actor is not None:
        detail = relation_to(actor, subject_id)
    actor_id = actor.id if actor is not None else None
    entry = AuditEntry(**_values(actor_id, subject_id, action, detail, at or utcnow()))
    db.session.add(entry)
    db.session.flush()
    return entry


def record_security_event(subject_id: int | None, action: str) -> AuditEntry:
    """A refused sign-in: by no one signed in, and often about no account anyone knows
    (`subject_id` None), so unlike an action it may name neither."""
    entry = AuditEntry(**_values(None, subject_id, action, SIGN_IN, utcnow()))
    db.session.add(entry)
    db.session.flush()
    return entry


def record_view(viewer: User, subject_id: int, part: str) -> None:
    """Write who opened which part of whose data (`MEMBER_RECORD`, `CHECK_INS` …) and how
    they stood to that person then; viewing your own record is not audited.

    The same person reopening the same part within `REPEAT_WINDOW` (as a page does after
    each of their own saves) is written once, so the student's list stays readable;
    every distinct visit still shows.
    """
    if viewer.id == subject_id:
        return
    since = utcnow() - REPEAT_WINDOW
    repeated = db.session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.actor_id == viewer.id,
            AuditEntry.subject_id == subject_id,
            AuditEntry.action == part,
            AuditEntry.created_at >= since,
        )
        .limit(1)
    )
    if repeated is None:
        record_action(viewer, subject_id, part)


def record_actions(actor: User, subject_ids: Iterable[int], action: str) -> int:
    """The same action by staff on many accounts (a roster import) in one statement."""
    now = utcnow()
    relation = BY_ADMIN if actor.is_admin_staff else BY_STAFF
    rows = [_values(actor.id, subject_id, action, relation, now) for subject_id in subject_ids]
    if rows:
        db.session.execute(insert(AuditEntry), rows)
    return len(rows)


def _span(start: date, end: date) -> str:
    return f"{start.isoformat()} to {end.isoformat()}"


def record_export(actor: User, table: str, start: date, end: date) -> AuditEntry:
    """A staff member took a dashboard table out of the program as CSV: about no one."""
    detail = f"{table.replace('_', ' ')} table, {_span(start, end)}"
    return record_action(actor, None, EXPORTED, detail=detail)


def record_outcomes_export(actor: User, term_name: str, start: date, end: date) -> AuditEntry:
    """A term's registrar outcomes left the program as CSV: about no one."""
    return record_action(actor, None, OUTCOMES_EXPORTED, detail=f"{term_name}, {_span(start, end)}")


def record_upload(actor: User, term_name: str) -> AuditEntry:
    """A term's registrar records came into the program: about no one (the records name
    members, the row does not)."""
    return record_action(actor, None, RECORDS_UPLOADED, detail=term_name)


def record_invitation(actor: User, invitation: Invitation, action: str) -> AuditEntry:
    """An invitation sent, resent or withdrawn. Nobody has an account yet, so the row is
    about no one and keeps the invitation's number and role, never its address."""
    role = ROLE_LABELS[invitation.role].lower()
    if invitation.is_admin:
        role += " with admin rights"
    return record_action(actor, None, action, detail=f"invitation #{invitation.id}, {role}")
