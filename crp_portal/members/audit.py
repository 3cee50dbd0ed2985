"""The audit trail: who opened whose record, what admins changed, what left the program.

The trail holds two kinds of rows in the same columns. A *view* names the record that
was opened ("member record"; written by `services.record_view`). An *action* is a change
an admin made to an account, or data taken out of the program, written here as a short
phrase in the past tense ("account deactivated").

Phrases never hold a name or an address: audit rows outlive an erasure, so whom a row
is about lives only in `subject_id` (an erased person then reads "Erased member"). An
invitation has no account yet, so its row is about the admin who sent it and names the
invitation by number; the page looks its address up while the invitation exists.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import aliased, selectinload

from crp_portal.access import ROLE_LABELS
from crp_portal.auth.models import Invitation, User
from crp_portal.errors import check_date_bounds
from crp_portal.extensions import db
from crp_portal.members.models import AuditEntry
from crp_portal.search import like_pattern
from crp_portal.timeutil import local_midnight, utcnow

ROLE_CHANGED = "role changed from {old} to {new}"
ADMIN_GIVEN = "admin rights given"
ADMIN_REMOVED = "admin rights removed"
RENAMED = "name changed"
DEACTIVATED = "account deactivated"
REACTIVATED = "account reactivated"
IMPORTED = "account created by roster import"
INVITED = "invitation #{id} sent"
REINVITED = "invitation #{id} resent"
UNINVITED = "invitation #{id} withdrawn"
EXPORTED = "exported the {table} table as CSV, {start} to {end}"
ERASED = "erased on request"

_INVITATION = re.compile(r"invitation #(\d+) (sent|resent|withdrawn)")
_COMMAND_LINE_ACTIONS = frozenset({ERASED})
ACTION_LENGTH = AuditEntry.action.type.length


def record_action(
    actor: User | None, subject_id: int | None, action: str, at: datetime | None = None
) -> AuditEntry:
    """Write an admin or staff action to the trail, every time it happens.

    Unlike a view there is no repeat window: two role changes are two events. With no
    subject (an export, an invitation) the row is about the actor. `actor` is None for
    the command line, which has no account.
    """
    if subject_id is None:
        if actor is None:
            raise ValueError("An action with no actor needs a subject.")
        subject_id = actor.id
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        subject_id=subject_id,
        action=action[:ACTION_LENGTH],
        created_at=at or utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def record_actions(actor: User, subject_ids: Iterable[int], action: str) -> int:
    """The same action on many accounts (a roster import) in one statement."""
    now = utcnow()
    rows = [
        {"actor_id": actor.id, "subject_id": subject_id, "action": action, "created_at": now}
        for subject_id in subject_ids
    ]
    if rows:
        db.session.execute(insert(AuditEntry), rows)
    return len(rows)


def record_export(actor: User, table: str, start: date, end: date) -> AuditEntry:
    """A staff member took a dashboard table out of the program as CSV."""
    action = EXPORTED.format(
        table=table.replace("_", " "), start=start.isoformat(), end=end.isoformat()
    )
    return record_action(actor, None, action)


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
        statement = statement.where(
            func.lower(AuditEntry.action).like(like_pattern(filters.what), escape="\\")
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
    by_command_line: bool  # no account acted: `flask members erase`
    about_nobody_else: bool  # an export or an invitation: no other person's record


def audit_rows(entries: list[AuditEntry]) -> list[AuditRow]:
    """Readable rows for a page of entries (one more query, for the invitations named)."""
    numbers = {int(found[1]) for entry in entries if (found := _INVITATION.fullmatch(entry.action))}
    invitations = (
        {i.id: i for i in db.session.scalars(select(Invitation).where(Invitation.id.in_(numbers)))}
        if numbers
        else {}
    )
    return [
        AuditRow(
            entry=entry,
            what=_describe(entry.action, invitations),
            by_command_line=entry.actor_id is None and entry.action in _COMMAND_LINE_ACTIONS,
            about_nobody_else=entry.actor_id == entry.subject_id,
        )
        for entry in entries
    ]


def _describe(action: str, invitations: dict[int, Invitation]) -> str:
    found = _INVITATION.fullmatch(action)
    if found is None:
        return action[:1].upper() + action[1:]
    invitation = invitations.get(int(found[1]))
    if invitation is None:
        return f"Invitation #{found[1]} {found[2]} (the address has since been erased)"
    role = ROLE_LABELS[invitation.role].lower()
    if invitation.is_admin:
        role += " with admin rights"
    return {
        "sent": f"Invited {invitation.email} as {role}",
        "resent": f"Sent {invitation.email} a new invitation link",
        "withdrawn": f"Withdrew the invitation to {invitation.email}",
    }[found[2]]
