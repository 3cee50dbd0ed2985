"""Peer mentoring: staff mark students as mentors and assign mentees; mentors log contacts.

Minimum necessary: a mentor sees a mentee's name, preferred name, pronouns, email and
phone, nothing else (no status, no recovery data), and logs facts about a contact
(date, mode, minutes, topics from a fixed list), never free text. Staff see the log, and
a contact marked "Referred to staff" puts the mentee in their follow-up queue.
A mentor is a student marked `is_peer_mentor` whose membership and account are active.

Assignments change under row locks (`SELECT … FOR UPDATE` / `FOR SHARE`; on SQLite
the first takes the database's write lock, `crp_portal.database`): a new mentor's profile is read
under a share lock, so unmarking them as a peer mentor (which locks it for update, then
their mentees) waits for the assignment, sees the new mentee and unassigns them too.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crp_portal import audit
from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import DomainError, Forbidden, NotFound
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.members.services import own_profile
from crp_portal.mentoring.models import (
    CONTACT_MINUTES_MAX,
    CONTACT_MODE_LABELS,
    CONTACT_TOPIC_LABELS,
    MentorContact,
)
from crp_portal.recovery import follow_ups
from crp_portal.search import paginate
from crp_portal.unit_of_work import lock

CONTACT_LOOKBACK_DAYS = 365
REFERRED_TO_STAFF = "referral"
NOT_A_MENTOR = (
    "Your account does not have access to this page: it is for peer mentors. "
    "If you should be one, ask the program staff."
)


def is_mentor(user: User) -> bool:
    """A student marked as a peer mentor, with an active membership and account."""
    if not getattr(user, "is_authenticated", False) or user.role != STUDENT or not user.active:
        return False
    profile = user.profile
    return profile is not None and profile.is_peer_mentor and profile.status == MemberStatus.ACTIVE


def require_mentor(user: User) -> None:
    if not is_mentor(user):
        raise Forbidden(NOT_A_MENTOR)


def _visible_mentees(mentor_id: int):
    return (
        select(MemberProfile)
        .join(MemberProfile.user)
        .where(
            MemberProfile.mentor_id == mentor_id,
            User.active.is_(True),
            User.erased_at.is_(None),
        )
    )


def mentees_of(mentor_id: int) -> list[MemberProfile]:
    """The mentor's mentees whose accounts are active, by name, with their users loaded."""
    return list(
        db.session.scalars(
            _visible_mentees(mentor_id)
            .options(selectinload(MemberProfile.user))
            .order_by(User.name, User.id)
        )
    )


def mentee_for(mentor: User, mentee_id: int) -> MemberProfile:
    """A mentee assigned to this mentor; anyone else (or no one) looks the same: not found."""
    require_mentor(mentor)
    profile = db.session.scalar(
        _visible_mentees(mentor.id)
        .where(MemberProfile.user_id == mentee_id)
        .options(selectinload(MemberProfile.user))
    )
    if profile is None:
        raise NotFound("You have no mentee with that number.")
    return profile


def open_mentee(mentor: User, mentee_id: int) -> MemberProfile:
    """The mentee's contact details as their mentor opens them; the opening is audited."""
    profile = mentee_for(mentor, mentee_id)
    audit.record_view(mentor, profile.user_id, audit.MENTEE_CONTACT)
    return profile


def log_contact(
    mentor: User,
    mentee_id: int,
    contact_date: date,
    mode: str,
    minutes: int,
    topics: list[str],
    today: date,
) -> MentorContact:
    """Log one contact with an assigned mentee: facts only, from fixed lists.

    The date is today or within the past year; minutes 1..CONTACT_MINUTES_MAX; at least
    one topic, every topic from CONTACT_TOPIC_LABELS (stored as comma-joined codes).
    The topic REFERRED_TO_STAFF puts the mentee in staff's follow-up queue.
    """
    profile = mentee_for(mentor, mentee_id)
    if contact_date > today:
        raise DomainError("The contact date cannot be in the future.")
    if contact_date < today - timedelta(days=CONTACT_LOOKBACK_DAYS):
        raise DomainError("Log contacts from the past year only.")
    if mode not in CONTACT_MODE_LABELS:
        raise DomainError("Choose how you were in touch from the list.")
    if not 1 <= minutes <= CONTACT_MINUTES_MAX:
        raise DomainError(f"Enter a whole number of minutes from 1 to {CONTACT_MINUTES_MAX}.")
    if not topics:
        raise DomainError("Choose at least one topic.")
    if set(topics) - set(CONTACT_TOPIC_LABELS):
        raise DomainError("Choose topics from the list.")
    contact = MentorContact(
        mentor_id=mentor.id,
        mentee_id=profile.user_id,
        contact_date=contact_date,
        mode=mode,
        minutes=minutes,
        topics=",".join(code for code in CONTACT_TOPIC_LABELS if code in topics),
    )
    db.session.add(contact)
    db.session.flush()
    if REFERRED_TO_STAFF in topics:
        follow_ups.open_for_mentor_referral(profile, mentor, contact_date)
    return contact


def _contacts():
    return select(MentorContact).options(
        selectinload(MentorContact.mentor), selectinload(MentorContact.mentee)
    )


def _newest_first(statement):
    return statement.order_by(MentorContact.contact_date.desc(), MentorContact.id.desc())


CONTACTS_PAGE_SIZE = 25


def contacts_with(mentee_id: int, page: int = 1, per_page: int = CONTACTS_PAGE_SIZE):
    """Contacts any mentor logged with this mentee, newest first, a page at a time."""
    statement = _contacts().where(MentorContact.mentee_id == mentee_id)
    return paginate(_newest_first(statement), page, per_page)


def contacts_by(mentor_id: int, page: int = 1, per_page: int = CONTACTS_PAGE_SIZE):
    """Contacts this mentor logged with any mentee, newest first, a page at a time."""
    statement = _contacts().where(MentorContact.mentor_id == mentor_id)
    return paginate(_newest_first(statement), page, per_page)


MY_LOG_PAGE_SIZE = 50


def my_log_with(mentor: User, mentee_id: int, page: int = 1, per_page: int = MY_LOG_PAGE_SIZE):
    """The mentor's own contacts with this mentee, newest first, a page at a time: what
    the mentor page lists."""
    statement = _contacts().where(
        MentorContact.mentor_id == mentor.id, MentorContact.mentee_id == mentee_id
    )
    return paginate(_newest_first(statement), page, per_page)


# Staff


def student_for_staff(user_id: int) -> MemberProfile:
    """The member profile staff manage mentoring on; only students have one."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no member with that number.")
    if user.role != STUDENT:
        raise DomainError("Only students can be peer mentors or mentees.")
    return own_profile(user)


def audit_staff_view(viewer: User, profile: MemberProfile) -> None:
    """Staff opening a student's mentoring record is audited like any other record."""
    audit.record_view(viewer, profile.user_id, audit.MENTORING_RECORD)


def eligible_mentors(excluding_id: int | None = None) -> list[MemberProfile]:
    """Students who may take mentees: marked peer mentor, active membership and account."""
    statement = (
        select(MemberProfile)
        .join(MemberProfile.user)
        .where(
            MemberProfile.is_peer_mentor.is_(True),
            MemberProfile.status == MemberStatus.ACTIVE,
            User.role == STUDENT,
            User.active.is_(True),
            User.erased_at.is_(None),
        )
        .options(selectinload(MemberProfile.user))
        .order_by(User.name, User.id)
    )
    if excluding_id is not None:
        statement = statement.where(MemberProfile.user_id != excluding_id)
    return list(db.session.scalars(statement))


MENTOR_GIVEN, MENTOR_REMOVED = "peer mentor role given", "peer mentor role removed"


def set_peer_mentor(profile: MemberProfile, on: bool, acting: User | None = None) -> int:
    """Mark or unmark a student as a peer mentor; unmarking unassigns their mentees.

    Only active members can be marked. A change made by staff (`acting`) goes on the
    audit trail: a mentor sees their mentees' records. Returns how many mentees were
    unassigned.

    Locks the student's member profile, then (unmarking) their mentees' profiles, and
    decides from what it reads after the wait, so the audit row is written once and a
    mentee assigned a moment ago is unassigned with the rest.
    """
    lock(profile)
    if profile.user.role != STUDENT:
        raise DomainError("Only students can be peer mentors.")
    if on and not profile.is_peer_mentor and profile.status != MemberStatus.ACTIVE:
        raise DomainError("Only active members can be peer mentors.")
    unassigned = 0
    if profile.is_peer_mentor and not on:
        mentees = db.session.scalars(
            select(MemberProfile)
            .where(MemberProfile.mentor_id == profile.user_id)
            .order_by(MemberProfile.user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for mentee in mentees:
            mentee.mentor_id = None
        unassigned = len(mentees)
    if acting is not None and profile.is_peer_mentor != on:
        audit.record_action(acting, profile.user_id, MENTOR_GIVEN if on else MENTOR_REMOVED)
    profile.is_peer_mentor = on
    db.session.flush()
    return unassigned


def assign_mentor(profile: MemberProfile, mentor_id: int | None) -> MemberProfile:
    """Give a student a mentor (or none). A new mentor must be another student who is an
    active member marked as a peer mentor; keeping the current mentor is always allowed.

    Locks the mentee's member profile and takes a share lock on the new mentor's (in
    user id order, so two staff pairing two students both ways queue, not deadlock), and
    checks both after the wait: unmarking the mentor at the same moment either comes
    first (this is refused) or waits and unassigns this mentee too.
    """
    if profile.user.role != STUDENT:
        raise DomainError("Only students can have a peer mentor.")
    mentor_id, mentor = mentor_id or None, None
    to_lock = [(profile, False)]
    if mentor_id is not None and mentor_id != profile.user_id:
        mentor = db.session.get(User, mentor_id)
        if mentor is not None and mentor.profile is not None:
            to_lock.append((mentor.profile, True))
    for locked, shared in sorted(to_lock, key=lambda pair: pair[0].user_id):
        lock(locked, read=shared)
    if mentor_id == profile.mentor_id:
        return profile
    if mentor_id is not None:
        if mentor_id == profile.user_id:
            raise DomainError("A student cannot be their own mentor.")
        if mentor is None or not is_mentor(mentor) or mentor.erased_at is not None:
            raise DomainError("Choose a mentor who is an active member marked as a peer mentor.")
    profile.mentor_id = mentor_id
    db.session.flush()
    return profile


@dataclass
class MenteeSummary:
    profile: MemberProfile
    contacts: int = 0
    last_contact: date | None = None


@dataclass
class MentorSummary:
    profile: MemberProfile
    mentees: list[MenteeSummary] = field(default_factory=list)
    contacts: int = 0
    last_contact: date | None = None


def mentor_summaries() -> list[MentorSummary]:
    """Every student marked peer mentor, with their mentees and contact counts and dates.

    Three statements whatever the numbers: mentors, their mentees, the contact counts.
    """
    mentors = db.session.scalars(
        select(MemberProfile)
        .join(MemberProfile.user)
        .where(MemberProfile.is_peer_mentor.is_(True))
        .options(selectinload(MemberProfile.user))
        .order_by(User.name, User.id)
    ).all()
    summaries = {profile.user_id: MentorSummary(profile) for profile in mentors}
    if not summaries:
        return []
    mentees = db.session.scalars(
        select(MemberProfile)
        .join(MemberProfile.user)
        .where(MemberProfile.mentor_id.in_(list(summaries)))
        .options(selectinload(MemberProfile.user))
        .order_by(User.name, User.id)
    ).all()
    counts = db.session.execute(
        select(
            MentorContact.mentor_id,
            MentorContact.mentee_id,
            func.count(),
            func.max(MentorContact.contact_date),
        )
        .where(MentorContact.mentor_id.in_(list(summaries)))
        .group_by(MentorContact.mentor_id, MentorContact.mentee_id)
    ).all()
    pairs = {(mentor_id, mentee_id): (n, last) for mentor_id, mentee_id, n, last in counts}
    for mentee in mentees:
        n, last = pairs.get((mentee.mentor_id, mentee.user_id), (0, None))
        summaries[cast(int, mentee.mentor_id)].mentees.append(MenteeSummary(mentee, n, last))
    for (mentor_id, _mentee_id), (n, last) in pairs.items():
        summary = summaries[cast(int, mentor_id)]
        summary.contacts += n
        if last is not None and (summary.last_contact is None or last > summary.last_contact):
            summary.last_contact = last
    return list(summaries.values())


def recent_contacts(page: int, mentor_id: int | None = None, per_page: int = CONTACTS_PAGE_SIZE):
    """The whole contact log for staff, newest first, optionally one mentor's."""
    statement = _contacts()
    if mentor_id:
        statement = statement.where(MentorContact.mentor_id == mentor_id)
    return paginate(_newest_first(statement), page, per_page)
