"""Admins search the audit trail: who opened whose record, what, and when."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.members.models import AuditEntry
from crp_portal.search import like_pattern
from crp_portal.timeutil import local_midnight


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
