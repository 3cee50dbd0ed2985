"""Member profiles and statuses."""

from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import selectinload

from crp_portal import audit
from crp_portal.access import ADVISOR, STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.members.models import (
    CALENDAR_REMINDER_LABELS,
    OPT_OUT_CATEGORY_LABELS,
    STATUSES,
    EmailOptOut,
    MemberProfile,
    MemberStatus,
    StatusChange,
)
from crp_portal.search import like_pattern, paginate
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import flush_or_conflict, lock


def ensure_profile(
    user: User,
    student_id: str | None = None,
    status: str = MemberStatus.ACTIVE,
    today: date | None = None,
) -> MemberProfile:
    """Every student has a member profile: made with the account, or when an account
    becomes a student's (`auth.services`), so pages only read it (`own_profile`)."""
    if user.profile is not None:
        return user.profile
    profile = MemberProfile(
        user=user,
        student_id=(student_id or "").strip() or None,
        status=status,
        joined_on=today if status == MemberStatus.ACTIVE else None,
    )
    db.session.add(profile)
    flush_or_conflict("That student id already belongs to another member.")
    db.session.add(StatusChange(user_id=user.id, from_status=None, to_status=status))
    return profile


def own_profile(user: User) -> MemberProfile:
    """The student's member profile (made with the account: `ensure_profile`)."""
    if user.role != STUDENT or user.profile is None:
        raise NotFound("Only students have a member profile.")
    return user.profile


def is_applicant(user: User) -> bool:
    """A student whose application to join is not yet accepted. Until it is they come to
    events open to applicants, use the meeting directory and talk with staff about joining;
    advising and housing open once the membership is active."""
    profile = user.profile if user.role == STUDENT else None
    return profile is not None and profile.status == MemberStatus.APPLICANT


PROFILE_FIELDS = ("preferred_name", "pronouns", "major", "phone")
DETAIL_FIELDS = ("class_year", "recovery_date", "calendar_reminder_minutes")
CONSENT_FIELDS = (
    "show_first_name_to_peers",
    "show_real_titles",
    "share_network_with_staff",
    "share_plan_with_staff",
    "share_check_ins_with_staff",
)


def update_own_profile(
    user: User, *, email_categories: list[str] | None = None, **values
) -> MemberProfile:
    """A student edits how they are addressed, their details and their consents.

    Status and student id are staff's. Fields are `PROFILE_FIELDS` (text),
    `DETAIL_FIELDS` and `CONSENT_FIELDS` (switches); fields not passed keep their value.
    """
    profile = own_profile(user)
    unknown = set(values) - set(PROFILE_FIELDS) - set(DETAIL_FIELDS) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown profile fields {sorted(unknown)}")
    class_year = values.get("class_year")
    if class_year is not None and not 1950 <= class_year <= 2100:
        raise DomainError("Enter a class year such as 2027.")
    recovery_date = values.get("recovery_date")
    if recovery_date is not None and recovery_date > local_today():
        raise DomainError("A recovery date cannot be in the future.")
    reminder = values.get("calendar_reminder_minutes")  # None: off, or not being changed
    if reminder not in CALENDAR_REMINDER_LABELS:
        raise DomainError("Choose a reminder from the list, or no reminder.")
    for name, value in values.items():
        if name in PROFILE_FIELDS:
            value = (value or "").strip() or None
        setattr(profile, name, value)
    if email_categories is not None:
        set_email_categories(user, email_categories)
    db.session.flush()
    return profile


def email_opt_outs(user: User) -> set[str]:
    return set(
        db.session.scalars(select(EmailOptOut.category).where(EmailOptOut.user_id == user.id))
    )


def set_email_categories(user: User, wanted: list[str]) -> None:
    """Keep one opt-out row per category the student does not want; others are wanted."""
    unknown = set(wanted) - set(OPT_OUT_CATEGORY_LABELS)
    if unknown:
        raise DomainError("Choose from the listed kinds of email.")
    current = email_opt_outs(user)
    unwanted = set(OPT_OUT_CATEGORY_LABELS) - set(wanted)
    for category in unwanted - current:
        db.session.add(EmailOptOut(user_id=user.id, category=category))
    if current - unwanted:
        db.session.execute(
            cast(Table, EmailOptOut.__table__)
            .delete()
            .where(
                EmailOptOut.user_id == user.id,
                EmailOptOut.category.in_(current - unwanted),
            )
        )
    flush_or_conflict("Your email choices changed in another tab. Reload and try again.")


def member_for_staff(user_id: int, viewer: User) -> MemberProfile:
    """A student's profile as staff open it; the opening is audited."""
    profile = db.session.scalar(
        select(MemberProfile)
        .where(MemberProfile.user_id == user_id)
        .options(selectinload(MemberProfile.user))
    )
    if profile is None:
        raise NotFound("There is no member with that number.")
    audit.record_view(viewer, profile.user_id, audit.MEMBER_RECORD)
    return profile


def change_status(
    profile: MemberProfile,
    status: str,
    changed_by: User | None = None,
    note: str = "",
    today: date | None = None,
) -> MemberProfile:
    """Move a member to a status and write it into their status history.

    Locks the member profile's row and reads the status again after the wait, so two
    changes at once are written one after the other: the second starts from the first's
    status (or, wanting the same one, changes nothing), and the history stays a chain.
    """
    if status not in STATUSES:
        raise DomainError("Choose one of the listed statuses.")
    if len(note) > 500:
        raise DomainError("Use at most 500 characters.")
    lock(profile)
    if status == profile.status:
        return profile
    db.session.add(
        StatusChange(
            user_id=profile.user_id,
            from_status=profile.status,
            to_status=status,
            changed_by_id=changed_by.id if changed_by is not None else None,
            note=note.strip(),
        )
    )
    profile.status = status
    profile.status_changed_at = utcnow()
    if status == MemberStatus.ACTIVE and profile.joined_on is None:
        profile.joined_on = today or local_today()
    db.session.flush()
    return profile


def set_membership(
    profile: MemberProfile, status: str, student_id: str, changed_by: User, note: str = ""
) -> MemberProfile:
    """Staff set status (with an optional note for the history) and the student id.

    Locks the member profile's row (in `change_status`); the unique index on student ids
    refuses one given to two members at once.
    """
    change_status(profile, status, changed_by=changed_by, note=note)
    profile.student_id = student_id.strip() or None
    flush_or_conflict("That student id already belongs to another member.")
    return profile


ADVISOR_ASSIGNED, ADVISOR_CHANGED, ADVISOR_REMOVED = (
    "advisor assigned",
    "advisor changed",
    "advisor removed",
)
NOT_AN_ADVISOR = "Choose an active advisor from the list."


def member_profile(user_id: int) -> MemberProfile:
    """A student's member profile, for a change staff make (not audited as a view)."""
    profile = db.session.get(MemberProfile, user_id)
    if profile is None:
        raise NotFound("There is no member with that number.")
    return profile


def advisor_choices(profile: MemberProfile) -> list[tuple[int, str]]:
    """Active advisor accounts by name; a current advisor who no longer qualifies stays
    listed, marked, so saving the page unchanged keeps them."""
    advisors = [
        (user.id, user.name)
        for user in db.session.scalars(
            select(User).where(User.role == ADVISOR, User.active).order_by(User.name, User.id)
        )
    ]
    if profile.advisor_id and profile.advisor_id not in {user_id for user_id, _ in advisors}:
        name = profile.advisor.name if profile.advisor else "A former account"
        advisors.insert(0, (profile.advisor_id, f"{name} (no longer an active advisor)"))
    return advisors


def assign_advisor(profile: MemberProfile, advisor_id: int | None, acting: User) -> MemberProfile:
    """Staff give a student an advisor, or none (`advisor_id` None or 0), on the audit trail.

    The advisor may then find the student and book for them. (An advisor the student has
    an appointment with may too: clearing the assignment does not hide the student from
    them.) A new advisor must be an active advisor account; keeping the current one is
    always allowed.

    Locks the member profile's row, then takes a share lock on the new advisor's user row
    (a deactivation at the same moment comes first and is refused, or waits), and
    compares after the wait: of two staff saving at once, the second starts from the
    first's choice, and each change writes one audit row.
    """
    if profile.user.role != STUDENT:
        raise DomainError("Only students have an advisor.")
    lock(profile)
    advisor_id = advisor_id or None
    if advisor_id == profile.advisor_id:
        return profile
    if advisor_id is not None:
        advisor = db.session.get(User, advisor_id)
        if advisor is None or advisor.role != ADVISOR:
            raise DomainError(NOT_AN_ADVISOR)
        lock(advisor, read=True, of=User)
        if not advisor.active:
            raise DomainError(NOT_AN_ADVISOR)
    if advisor_id is None:
        action = ADVISOR_REMOVED
    else:
        action = ADVISOR_CHANGED if profile.advisor_id else ADVISOR_ASSIGNED
    profile.advisor_id = advisor_id
    audit.record_action(acting, profile.user_id, action)
    db.session.flush()
    return profile


def status_history(user_id: int) -> list[StatusChange]:
    return list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.user_id == user_id)
            .options(selectinload(StatusChange.changed_by))
            .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
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
    return paginate(statement, page, per_page)


def status_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(MemberProfile.status, func.count()).group_by(MemberProfile.status)
    )
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    counts.update(dict(rows.all()))
    return counts
