"""The audit trail: who opened whose record, what admins changed, what left the program.

The trail holds two kinds of rows in the same columns. A *view* names the part of a
person's data that was opened ("member record", "recovery plan"; written by
`services.record_view`) and, in `detail`, how the viewer stood to that person at the time
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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import aliased, selectinload

from crp_portal.access import ADVISOR, ROLE_LABELS, STAFF, STUDENT
from crp_portal.advising.models import Appointment
from crp_portal.auth.models import Invitation, User
from crp_portal.errors import check_date_bounds
from crp_portal.extensions import db
from crp_portal.members.models import AuditEntry, MemberProfile
from crp_portal.search import like_pattern
from crp_portal.timeutil import local_midnight, utcnow

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
_LEGACY_RELATIONS = {STUDENT: "a peer mentor", ADVISOR: "an advisor", STAFF: "program staff"}

_INVITATION_DETAIL = re.compile(r"invitation #(\d+)\b")
_INVITATION_VERBS = {INVITED: "sent", REINVITED: "resent", UNINVITED: "withdrawn"}
# Before subjects could be empty, an export or invitation was written about its actor.
_LEGACY_INVITATION = re.compile(r"invitation #(\d+) (sent|resent|withdrawn)")
_LEGACY_ABOUT_NOBODY = re.compile(
    r"invitation #\d+ (sent|resent|withdrawn)|exported the .+ table as CSV, .+"
    r"|registrar (records uploaded|outcomes exported): .+"
)
_COMMAND_LINE_ACTIONS = frozenset({ERASED})
ACTION_LENGTH = AuditEntry.action.type.length
DETAIL_LENGTH = AuditEntry.detail.type.length


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
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        subject_id=subject_id,
        action=action[:ACTION_LENGTH],
        detail=detail[:DETAIL_LENGTH] if detail else None,
        created_at=at or utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def record_actions(actor: User, subject_ids: Iterable[int], action: str) -> int:
    """The same action by staff on many accounts (a roster import) in one statement."""
    now = utcnow()
    relation = BY_ADMIN if actor.is_admin_staff else BY_STAFF
    rows = [
        {
            "actor_id": actor.id,
            "subject_id": subject_id,
            "action": action,
            "detail": relation,
            "created_at": now,
        }
        for subject_id in subject_ids
    ]
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


# --- Reading the trail -----------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    who: str = ""
    whose: str = ""
    what: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _matches(person, text: str):
    pattern = like_pattern(text)
    return or_(
        func.lower(person.name).like(pattern, escape="\\"),
        person.email.like(pattern, escape="\\"),
    )


def search_audit(filters: AuditFilter, page: int, per_page: int = 50):
    """Audit entries matching every given filter, newest first; dates are local days."""
    check_date_bounds(filters.date_from, filters.date_to)
    statement = select(AuditEntry).options(
        selectinload(AuditEntry.actor), selectinload(AuditEntry.subject)
    )
    if filters.who:
        actor = aliased(User)
        statement = statement.join(actor, AuditEntry.actor_id == actor.id).where(
            _matches(actor, filters.who)
        )
    if filters.whose:
        subject = aliased(User)
        statement = statement.join(subject, AuditEntry.subject_id == subject.id).where(
            _matches(subject, filters.whose)
        )
    if filters.what:
        pattern = like_pattern(filters.what)
        statement = statement.where(
            or_(
                func.lower(AuditEntry.action).like(pattern, escape="\\"),
                and_(
                    AuditEntry.subject_id.is_(None),
                    func.lower(AuditEntry.detail).like(pattern, escape="\\"),
                ),
            )
        )
    if filters.date_from:
        statement = statement.where(AuditEntry.created_at >= local_midnight(filters.date_from))
    if filters.date_to:
        next_day = local_midnight(filters.date_to + timedelta(days=1))
        statement = statement.where(AuditEntry.created_at < next_day)
    statement = statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class AuditRow:
    """One entry as the admin's page shows it."""

    entry: AuditEntry
    what: str
    detail: str  # how the actor stood to the person, or an export's or invitation's detail
    by_command_line: bool  # no account acted: `flask members erase`
    about_nobody: bool  # an export or an invitation: no person's record


def _about_nobody(entry: AuditEntry) -> bool:
    if entry.subject_id is None:
        return True
    return entry.actor_id == entry.subject_id and bool(_LEGACY_ABOUT_NOBODY.fullmatch(entry.action))


def _invitation_number(entry: AuditEntry) -> int | None:
    if entry.action in _INVITATION_VERBS:
        found = _INVITATION_DETAIL.match(entry.detail or "")
    else:
        found = _LEGACY_INVITATION.fullmatch(entry.action)
    return int(found[1]) if found else None


def audit_rows(entries: list[AuditEntry]) -> list[AuditRow]:
    """Readable rows for a page of entries (one more query, for the invitations named)."""
    numbers = {number for entry in entries if (number := _invitation_number(entry)) is not None}
    invitations = (
        {i.id: i for i in db.session.scalars(select(Invitation).where(Invitation.id.in_(numbers)))}
        if numbers
        else {}
    )
    rows = []
    for entry in entries:
        about_nobody = _about_nobody(entry)
        if about_nobody:
            detail = entry.detail or "—"
        else:
            detail = RELATIONS_FOR_ADMINS.get(entry.detail or "", entry.detail or "—")
        rows.append(
            AuditRow(
                entry=entry,
                what=_describe(entry, invitations),
                detail=detail,
                by_command_line=entry.actor_id is None and entry.action in _COMMAND_LINE_ACTIONS,
                about_nobody=about_nobody,
            )
        )
    return rows


def _describe(entry: AuditEntry, invitations: dict[int, Invitation]) -> str:
    number = _invitation_number(entry)
    if number is None:
        return entry.action[:1].upper() + entry.action[1:]
    verb = _INVITATION_VERBS.get(entry.action) or _LEGACY_INVITATION.fullmatch(entry.action)[2]
    invitation = invitations.get(number)
    if invitation is None:
        return f"Invitation #{number} {verb} (the address has since been erased)"
    role = ROLE_LABELS[invitation.role].lower()
    if invitation.is_admin:
        role += " with admin rights"
    return {
        "sent": f"Invited {invitation.email} as {role}",
        "resent": f"Sent {invitation.email} a new invitation link",
        "withdrawn": f"Withdrew the invitation to {invitation.email}",
    }[verb]


# --- The person's own log ---------------------------------------------------------------


@dataclass(frozen=True)
class AccessLogRow:
    """One entry as the person it is about reads it on their "who viewed" page."""

    entry: AuditEntry
    who: str
    relation: str  # "your peer mentor", "program staff"; empty when no account acted
    what: str


def _relation_for_the_person(entry: AuditEntry) -> str:
    if entry.detail in RELATIONS_FOR_THE_PERSON:
        return RELATIONS_FOR_THE_PERSON[entry.detail]
    if entry.actor is None:
        return ""
    return _LEGACY_RELATIONS.get(entry.actor.role, "")


def access_log_rows(entries: list[AuditEntry]) -> list[AccessLogRow]:
    """Who opened which part of a person's data, and as what, in the person's words."""
    return [
        AccessLogRow(
            entry=entry,
            who=entry.actor.name if entry.actor else "A former account",
            relation=_relation_for_the_person(entry),
            what=PARTS_FOR_THE_PERSON.get(
                entry.action, entry.action[:1].upper() + entry.action[1:]
            ),
        )
        for entry in entries
    ]
