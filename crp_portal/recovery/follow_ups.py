"""The staff follow-up queue: somebody from the program should reach out to a student.

A follow-up opens when a student's check-in asks for outreach (whatever their consent
settings), when they reach the advising no-show limit, when their peer mentor refers
them to staff, or by hand. It carries no
check-in answers of its own: staff see those only where the student shares check-ins.
Email about it names nobody and says nothing about recovery; the link leads into the
portal, where opening the follow-up is audited.

Every change to a follow-up (assigning, resolving, reopening) locks its row first
(`SELECT … FOR UPDATE`; on SQLite the database's write lock, `crp_portal.database`)
and checks its status after the wait: of two staff resolving it at once one resolves it,
the other gets the 409 a second later would give.
"""

from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal import audit
from crp_portal.access import RECOVERY, STUDENT, may
from crp_portal.auth.models import User, holding_scope
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.members.models import MemberProfile
from crp_portal.recovery.models import (
    FOLLOW_UP_NOTE_MAX,
    CheckIn,
    FollowUp,
    FollowUpNote,
    FollowUpReason,
    FollowUpStatus,
)
from crp_portal.search import paginate
from crp_portal.timeutil import format_date, utcnow
from crp_portal.unit_of_work import lock

OPEN_VIEW, MINE, UNASSIGNED, RESOLVED_VIEW = "open", "mine", "unassigned", "resolved"
QUEUE_VIEWS = {
    OPEN_VIEW: "Open",
    MINE: "Open, assigned to me",
    UNASSIGNED: "Open, unassigned",
    RESOLVED_VIEW: "Resolved",
}
NO_SUCH = "There is no follow-up with that number."
LARGEST_ID = 2**31 - 1  # ids are 32-bit integers; a longer number names no row


def active_staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(holding_scope(RECOVERY), User.active).order_by(User.name, User.id)
        )
    )


def _queue_filter(view: str, viewer: User):
    if view == RESOLVED_VIEW:
        return [FollowUp.status == FollowUpStatus.RESOLVED]
    conditions = [FollowUp.status == FollowUpStatus.OPEN]
    if view == MINE:
        conditions.append(FollowUp.assigned_to_id == viewer.id)
    elif view == UNASSIGNED:
        conditions.append(FollowUp.assigned_to_id.is_(None))
    return conditions


def follow_up_queue(view: str, viewer: User, page: int, per_page: int = 25):
    """One page of the queue, newest first; rows carry names and assignees, no answers."""
    view = view if view in QUEUE_VIEWS else OPEN_VIEW
    statement = (
        select(FollowUp)
        .where(*_queue_filter(view, viewer))
        .options(selectinload(FollowUp.student), selectinload(FollowUp.assigned_to))
        .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
    )
    return paginate(statement, page, per_page)


def _how_many(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def queue_counts(viewer: User) -> dict[str, int]:
    """How many follow-ups each view of the queue holds, in one statement."""
    is_open = FollowUp.status == FollowUpStatus.OPEN
    row = db.session.execute(
        select(
            _how_many(is_open),
            _how_many(is_open & (FollowUp.assigned_to_id == viewer.id)),
            _how_many(is_open & FollowUp.assigned_to_id.is_(None)),
            _how_many(FollowUp.status == FollowUpStatus.RESOLVED),
        )
    ).one()
    return dict(zip(QUEUE_VIEWS, (int(value) for value in row), strict=True))


def open_follow_up_count() -> int:
    return db.session.execute(
        select(func.count()).select_from(FollowUp).where(FollowUp.status == FollowUpStatus.OPEN)
    ).scalar_one()


def follow_ups_of(student_id: int) -> list[FollowUp]:
    """A student's follow-ups, newest first, with notes and the staff involved."""
    return list(
        db.session.scalars(
            select(FollowUp)
            .where(FollowUp.student_id == student_id)
            .options(
                selectinload(FollowUp.notes).selectinload(FollowUpNote.author),
                selectinload(FollowUp.assigned_to),
                selectinload(FollowUp.resolved_by),
            )
            .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
        )
    )


def get_follow_up(follow_up_id: int) -> FollowUp:
    """A follow-up with what its page shows; staff only (the route says so)."""
    if not 0 < follow_up_id <= LARGEST_ID:
        raise NotFound(NO_SUCH)
    follow_up = db.session.scalar(
        select(FollowUp)
        .where(FollowUp.id == follow_up_id)
        .options(
            selectinload(FollowUp.student).selectinload(User.profile),
            selectinload(FollowUp.check_in),
            selectinload(FollowUp.assigned_to),
            selectinload(FollowUp.resolved_by),
            selectinload(FollowUp.notes).selectinload(FollowUpNote.author),
        )
    )
    if follow_up is None:
        raise NotFound(NO_SUCH)
    return follow_up


def follow_up_for_staff(follow_up_id: int, viewer: User) -> FollowUp:
    """The follow-up as staff open it: the opening is audited against the student, and so
    are their check-in answers when they share them (the page shows them)."""
    follow_up = get_follow_up(follow_up_id)
    audit.record_view(viewer, follow_up.student_id, audit.FOLLOW_UP)
    if shares_check_ins(follow_up):
        audit.record_view(viewer, follow_up.student_id, audit.CHECK_INS)
    return follow_up


def shares_check_ins(follow_up: FollowUp) -> bool:
    profile = follow_up.student.profile
    return bool(profile and profile.share_check_ins_with_staff)


def _tell_staff(follow_up: FollowUp) -> None:
    """Every active staff member hears that a student asked; not who, and not why."""
    link = portal_url("recovery.follow_up", follow_up_id=follow_up.id)
    for person in active_staff():
        queue_mail(
            person.email,
            "A student asked for someone to reach out",
            "recovery/reach_out",
            person=person,
            link=link,
        )


def open_for_reach_out(check_in: CheckIn, asked_again: bool = True) -> FollowUp | None:
    """The check-in asked for outreach: one follow-up per check-in, and staff are told.

    Asking again (after unticking) reopens a resolved follow-up rather than opening a
    second one. Returns the follow-up when staff were told, None when nothing changed.
    Reopening locks the follow-up's row and checks it is still resolved after the wait,
    so two saves at once tell staff once.
    """
    follow_up = db.session.scalar(select(FollowUp).where(FollowUp.check_in_id == check_in.id))
    if follow_up is not None:
        if follow_up.status == FollowUpStatus.OPEN or not asked_again:
            return None
        lock(follow_up)
        if follow_up.status == FollowUpStatus.OPEN:
            return None
        follow_up.status, follow_up.resolved_at, follow_up.resolved_by_id = (
            FollowUpStatus.OPEN,
            None,
            None,
        )
        db.session.flush()
        _tell_staff(follow_up)
        return follow_up
    follow_up = FollowUp(
        student_id=check_in.student_id, check_in_id=check_in.id, reason=FollowUpReason.REACH_OUT
    )
    try:
        with db.session.begin_nested():
            db.session.add(follow_up)
            db.session.flush()
    except IntegrityError:
        return None  # a parallel save of the same check-in opened it first
    _tell_staff(follow_up)
    return follow_up


def open_for_missed_advising(student: User) -> FollowUp | None:
    """Reaching the advising no-show limit opens a follow-up, unless one is already open."""
    already = db.session.scalar(
        select(FollowUp.id).where(
            FollowUp.student_id == student.id,
            FollowUp.reason == FollowUpReason.MISSED_ADVISING,
            FollowUp.status == FollowUpStatus.OPEN,
        )
    )
    if already is not None:
        return None
    follow_up = FollowUp(student_id=student.id, reason=FollowUpReason.MISSED_ADVISING)
    db.session.add(follow_up)
    db.session.flush()
    return follow_up


MENTOR_REFERRAL = (
    "Referred to staff by the student’s peer mentor, after a contact on {day}. A peer "
    "mentor logs facts only, so there is no more here: ask the student, or the mentor, "
    "what they need."
)


def open_for_mentor_referral(
    profile: MemberProfile, mentor: User, contact_date: date
) -> FollowUp | None:
    """A peer mentor referred their mentee to staff: a follow-up opens whose note, under
    the mentor's name, says so, and nothing the mentor wrote (there is nothing: their log
    holds facts only). A follow-up already open for the student gets that note instead
    of a second follow-up opening. Returns the follow-up opened, or None.

    Locks the student's member profile before looking for an open follow-up, so two
    referrals at once (a form sent twice) open one follow-up.
    """
    lock(profile, key_share=True)
    note = FollowUpNote(
        author_id=mentor.id, body=MENTOR_REFERRAL.format(day=format_date(contact_date))
    )
    already = db.session.scalar(
        select(FollowUp)
        .where(FollowUp.student_id == profile.user_id, FollowUp.status == FollowUpStatus.OPEN)
        .order_by(FollowUp.created_at.desc(), FollowUp.id.desc())
        .limit(1)
    )
    if already is not None:
        already.notes.append(note)
        db.session.flush()
        return None
    follow_up = FollowUp(student_id=profile.user_id, reason=FollowUpReason.STAFF_CONCERN)
    follow_up.notes.append(note)
    db.session.add(follow_up)
    db.session.flush()
    return follow_up


def _clean_note(body: str) -> str:
    body = (body or "").strip()
    if len(body) > FOLLOW_UP_NOTE_MAX:
        raise DomainError(f"Use at most {FOLLOW_UP_NOTE_MAX} characters.")
    return body


def student_for_follow_up(user_id: int) -> User:
    student = db.session.get(User, user_id) if 0 < user_id <= LARGEST_ID else None
    if student is None or student.role != STUDENT:
        raise NotFound("There is no member with that number.")
    return student


def open_by_staff(student: User, staff: User, note: str = "") -> FollowUp:
    """Staff open a follow-up by hand for a student who worries them."""
    body = _clean_note(note)
    follow_up = FollowUp(student_id=student.id, reason=FollowUpReason.STAFF_CONCERN)
    db.session.add(follow_up)
    if body:
        follow_up.notes.append(FollowUpNote(author_id=staff.id, body=body))
    db.session.flush()
    return follow_up


NOT_SEEN = object()


def assign(follow_up: FollowUp, assignee_id: int, assigned_seen=NOT_SEEN) -> FollowUp:
    """An open follow-up goes to one active staff member.

    Locks the follow-up's row and checks after the wait that it is still open and, when
    the page sent whom it showed it assigned to (`assigned_seen`, an id or None), that
    nobody took it since: of two staff claiming it at once one has it, the other a 409.
    """
    lock(follow_up)
    if not follow_up.is_open:
        raise Conflict("This follow-up is resolved. Reopen it before assigning it.")
    if assigned_seen is not NOT_SEEN and assigned_seen != follow_up.assigned_to_id:
        holder = follow_up.assigned_to
        who = f"{holder.name} took" if holder else "Someone changed who has"
        raise Conflict(
            f"{who} this follow-up since you opened it. "
            "Reload the page, then assign it again if you still want to."
        )
    assignee = db.session.get(User, assignee_id) if 0 < assignee_id <= LARGEST_ID else None
    if assignee is None or not may(assignee, RECOVERY) or not assignee.active:
        raise DomainError("Choose a staff member from the list.")
    follow_up.assigned_to = assignee
    db.session.flush()
    return follow_up


def add_note(follow_up: FollowUp, author: User, body: str) -> FollowUpNote:
    body = _clean_note(body)
    if not body:
        raise DomainError("Write the note.")
    note = FollowUpNote(author_id=author.id, body=body)
    follow_up.notes.append(note)
    db.session.flush()
    return note


def resolve(follow_up: FollowUp, staff: User, closing_note: str, now: datetime | None = None):
    """Close the follow-up, with an optional note on how it ended.

    Locks the follow-up's row and checks it is still open after the wait: of two staff
    resolving it at once one does (with their note), the other gets a Conflict.
    """
    body = _clean_note(closing_note)
    lock(follow_up)
    if not follow_up.is_open:
        raise Conflict("This follow-up is already resolved.")
    follow_up.status = FollowUpStatus.RESOLVED
    follow_up.resolved_at = now or utcnow()
    follow_up.resolved_by_id = staff.id
    if body:
        follow_up.notes.append(FollowUpNote(author_id=staff.id, body=body))
    db.session.flush()
    return follow_up


def reopen(follow_up: FollowUp) -> FollowUp:
    """A resolved follow-up is open again; it keeps its assignee and notes.

    Locks the follow-up's row and checks it is still resolved after the wait.
    """
    lock(follow_up)
    if follow_up.is_open:
        raise Conflict("This follow-up is already open.")
    follow_up.status, follow_up.resolved_at, follow_up.resolved_by_id = (
        FollowUpStatus.OPEN,
        None,
        None,
    )
    db.session.flush()
    return follow_up
