"""Reading the audit trail: the admin's search, and a person's own log of who opened
what of theirs. Rows are written by `crp_portal.audit`."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, selectinload

from crp_portal.access import ADVISOR, ROLE_LABELS, STAFF, STUDENT
from crp_portal.audit import (
    ERASED,
    INVITED,
    PARTS_FOR_THE_PERSON,
    REINVITED,
    RELATIONS_FOR_ADMINS,
    RELATIONS_FOR_THE_PERSON,
    UNINVITED,
)
from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import Invitation, User
from crp_portal.errors import check_date_bounds
from crp_portal.extensions import db
from crp_portal.search import like_pattern, paginate
from crp_portal.timeutil import local_midnight

_LEGACY_RELATIONS: dict[str, str] = {
    STUDENT: "a peer mentor",
    ADVISOR: "an advisor",
    STAFF: "program staff",
}

_INVITATION_DETAIL = re.compile(r"invitation #(\d+)\b")
_INVITATION_VERBS = {INVITED: "sent", REINVITED: "resent", UNINVITED: "withdrawn"}
# Before subjects could be empty, an export or invitation was written about its actor.
_LEGACY_INVITATION = re.compile(r"invitation #(\d+) (sent|resent|withdrawn)")
_LEGACY_ABOUT_NOBODY = re.compile(
    r"invitation #\d+ (sent|resent|withdrawn)|exported the .+ table as CSV, .+"
    r"|registrar (records uploaded|outcomes exported): .+"
)
_COMMAND_LINE_ACTIONS = frozenset({ERASED})


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
    return paginate(statement, page, per_page)


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
    verb = (
        _INVITATION_VERBS.get(entry.action)
        or cast(re.Match[str], _LEGACY_INVITATION.fullmatch(entry.action))[2]
    )
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


def _access_log_statement(subject_id: int):
    return (
        select(AuditEntry)
        .where(AuditEntry.subject_id == subject_id)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )


ACCESS_LOG_PAGE_SIZE = 50


def access_log_page(subject_id: int, page: int, per_page: int = ACCESS_LOG_PAGE_SIZE):
    """Who opened which of this person's records, and as what, newest first (the
    student's right to know), a page at a time so all of it stays reachable: (the page,
    its rows)."""
    found = paginate(_access_log_statement(subject_id), page, per_page)
    return found, access_log_rows(list(found.items))
