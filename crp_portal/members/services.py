"""Member profiles and statuses, and the audit trail of record views."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.members import recovery_models  # noqa: F401  (tables for create_all and Alembic)
from crp_portal.members.models import ACTIVE, STATUSES, AuditEntry, MemberProfile
from crp_portal.search import like_pattern
from crp_portal.timeutil import utcnow
from crp_portal.unit_of_work import flush_or_conflict


def ensure_profile(
    user, student_id: str | None = None, status: str = ACTIVE, today: date | None = None
) -> MemberProfile:
    """Every student has a member profile; make one if missing."""
    if user.profile is not None:
        return user.profile
    profile = MemberProfile(
        user=user,
        student_id=(student_id or "").strip() or None,
        status=status,
        joined_on=today if status == ACTIVE else None,
    )
    db.session.add(profile)
    flush_or_conflict("That student id already belongs to another member.")
    return profile


def own_profile(user) -> MemberProfile:
    if user.role != STUDENT:
        raise NotFound("Only students have a member profile.")
    return ensure_profile(user)


def update_own_profile(
    user,
    preferred_name: str,
    pronouns: str,
    show_first_name_to_peers: bool = False,
    show_real_titles: bool = False,
) -> MemberProfile:
    """A student edits how they are addressed and shown; status and student id are staff's."""
    profile = own_profile(user)
    profile.preferred_name = preferred_name.strip() or None
    profile.pronouns = pronouns.strip() or None
    profile.show_first_name_to_peers = show_first_name_to_peers
    profile.show_real_titles = show_real_titles
    db.session.flush()
    return profile


def member_for_staff(user_id: int, viewer) -> MemberProfile:
    """A student's profile as staff open it; the opening is audited."""
    profile = db.session.scalar(
        select(MemberProfile)
        .where(MemberProfile.user_id == user_id)
        .options(selectinload(MemberProfile.user))
    )
    if profile is None:
        raise NotFound("There is no member with that number.")
    record_view(viewer, profile.user_id, "member record")
    return profile


def set_status(profile: MemberProfile, status: str, student_id: str, today: date) -> MemberProfile:
    if status not in STATUSES:
        raise DomainError("Choose one of the listed statuses.")
    if status != profile.status:
        profile.status = status
        profile.status_changed_at = utcnow()
        if status == ACTIVE and profile.joined_on is None:
            profile.joined_on = today
    profile.student_id = student_id.strip() or None
    flush_or_conflict("That student id already belongs to another member.")
    return profile


def record_view(viewer, subject_id: int, what: str) -> None:
    """Write who opened whose record; viewing your own record is not audited."""
    if viewer.id == subject_id:
        return
    db.session.add(AuditEntry(actor_id=viewer.id, subject_id=subject_id, action=what))
    db.session.flush()


def views_of_my_record(user, limit: int = 200) -> list[AuditEntry]:
    """Who opened this person's records, newest first: the student's right to know."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_id == user.id)
            .options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class MemberFilter:
    query: str = ""
    status: str = ""


def search_members(filters: MemberFilter, page: int, per_page: int = 25):
    statement = (
        select(MemberProfile)
        .join(MemberProfile.user)
        .options(selectinload(MemberProfile.user))
        .order_by(User.name, User.id)
    )
    if filters.query:
        pattern = like_pattern(filters.query)
        statement = statement.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(MemberProfile.preferred_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
                func.lower(MemberProfile.student_id).like(pattern, escape="\\"),
            )
        )
    if filters.status in STATUSES:
        statement = statement.where(MemberProfile.status == filters.status)
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def status_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(MemberProfile.status, func.count()).group_by(MemberProfile.status)
    )
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(dict(rows.all()))
    return counts
