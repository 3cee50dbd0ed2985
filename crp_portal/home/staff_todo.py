"""A staff member's to-do list, by scope: each section is read only when the person's
scopes open its pages (`crp_portal.access.may`), so a member of staff without the
recovery scope never has follow-ups or applicants' names read for them, let alone shown.

Each section is one or two statements with a small limit and a count, so the page
costs the same however much is waiting.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, or_, select

from crp_portal.access import EVENTS, HOUSING, NUDGES, RECOVERY, may
from crp_portal.auth.models import User
from crp_portal.events.models import Attendance, Event, EventStatus
from crp_portal.extensions import db
from crp_portal.home.todo import Item
from crp_portal.housing.models import AssignmentStatus, Bed, BedAssignment, House, Room
from crp_portal.members.intake import open_application_count
from crp_portal.outbox.models import OutboxMessage, OutboxStatus
from crp_portal.recovery.models import FOLLOW_UP_REASON_LABELS, FollowUp, FollowUpStatus
from crp_portal.timeutil import format_date, format_datetime

LISTED = 5
# An event that ended longer ago than this without attendance is history: the
# dashboard counts it as unrecorded; staff are not nagged about it for ever.
ATTENDANCE_LOOKBACK = timedelta(days=14)


@dataclass(frozen=True)
class Section:
    """One scope's part of the list: its items, how many more there are, and where the
    whole list is."""

    key: str
    heading: str
    items: list[Item]
    more: int
    all_label: str = ""  # the link to the whole list, where there is one
    all_endpoint: str | None = None
    all_args: dict = field(default_factory=dict)


def staff_home(viewer: User, now: datetime, today: date) -> list[Section]:
    """The sections the viewer's scopes allow, in the order of the day's work; sections
    with nothing waiting are left out (the page then says nothing needs them)."""
    sections: list[Section] = []
    if may(viewer, RECOVERY):
        sections += [_follow_ups(now), _applications()]
    if may(viewer, HOUSING):
        sections.append(_expiring_offers(today))
    if may(viewer, EVENTS):
        sections.append(_attendance_missing(now))
    if may(viewer, NUDGES):
        sections.append(_needs_review())
    return [section for section in sections if section.items]


def _age(now: datetime, since: datetime) -> str:
    days = (now - since).days
    if days < 1:
        return "opened today"
    return "open 1 day" if days == 1 else f"open {days} days"


def _follow_ups(now: datetime) -> Section:
    """Open follow-ups, oldest first (the longest wait is the most urgent), with age."""
    rows = db.session.execute(
        select(FollowUp.id, FollowUp.created_at, FollowUp.reason, User.name, func.count().over())
        .join(User, User.id == FollowUp.student_id)
        .where(FollowUp.status == FollowUpStatus.OPEN)
        .order_by(FollowUp.created_at, FollowUp.id)
        .limit(LISTED)
    ).all()
    items = [
        Item(
            f"Reach out to {name}",
            f"{_age(now, created_at)} · {FOLLOW_UP_REASON_LABELS[reason]}",
            "Open the follow-up",
            "recovery.follow_up",
            {"follow_up_id": follow_up_id},
        )
        for follow_up_id, created_at, reason, name, _total in rows
    ]
    total = rows[0][-1] if rows else 0
    return Section(
        "follow-ups",
        "Open follow-ups, oldest first",
        items,
        total - len(items),
        f"All {total} open follow-ups",
        "recovery.follow_up_queue",
        {},
    )


def _applications() -> Section:
    """Applications to join waiting for a decision: a count, no names on the home page."""
    waiting = open_application_count()
    items = []
    if waiting:
        items.append(
            Item(
                "Decide on applications to join",
                "1 application is waiting."
                if waiting == 1
                else f"{waiting} applications are waiting.",
                "Review applications",
                "members.applications",
            )
        )
    return Section("applications", "Applications waiting", items, 0)


def _expiring_offers(today: date) -> Section:
    """Bed offers not answered whose reply-by date falls in the next seven days."""
    rows = db.session.execute(
        select(
            BedAssignment.reply_by, Bed.label, Room.name, House.name, User.name, func.count().over()
        )
        .join(Bed, Bed.id == BedAssignment.bed_id)
        .join(Room, Room.id == Bed.room_id)
        .join(House, House.id == Room.house_id)
        .join(User, User.id == BedAssignment.student_id)
        .where(
            BedAssignment.status == AssignmentStatus.OFFERED,
            BedAssignment.reply_by >= today,
            BedAssignment.reply_by < today + timedelta(days=7),
        )
        .order_by(BedAssignment.reply_by, BedAssignment.id)
        .limit(LISTED)
    ).all()
    items = [
        Item(
            f"Offer to {student} expires {format_date(reply_by)}",
            f"{house}, room {room}, bed {bed}: remind them, or plan the next offer.",
            "See the board",
            "housing.board",
        )
        for reply_by, bed, room, house, student, _total in rows
    ]
    total = rows[0][-1] if rows else 0
    return Section(
        "offers",
        "Bed offers expiring this week",
        items,
        total - len(items),
        "The housing board",
        "housing.board",
        {},
    )


def _attendance_missing(now: datetime) -> Section:
    """Events of the last two weeks that have ended, not cancelled, with no one marked
    present and no headcount: newest first."""
    recorded = or_(
        Event.headcount.is_not(None),
        exists().where(Attendance.event_id == Event.id),
    )
    rows = db.session.execute(
        select(Event.id, Event.title, Event.starts_at, func.count().over())
        .where(
            Event.ends_at < now,
            Event.ends_at >= now - ATTENDANCE_LOOKBACK,
            Event.status == EventStatus.SCHEDULED,
            ~recorded,
        )
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(LISTED)
    ).all()
    items = [
        Item(
            f"Record attendance: {title}",
            format_datetime(starts_at),
            "Take attendance",
            "events.take_attendance",
            {"event_id": event_id},
        )
        for event_id, title, starts_at, _total in rows
    ]
    total = rows[0][-1] if rows else 0
    return Section(
        "attendance",
        "Events needing attendance",
        items,
        total - len(items),  # older ones: no list of past events to link to
    )


def _needs_review() -> Section:
    """Outbox messages a sender claimed but never marked sent: staff decide whether to
    send them again. A count only: subjects can be personal."""
    waiting = db.session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.NEEDS_REVIEW)
    ).scalar_one()
    items = []
    if waiting:
        items.append(
            Item(
                "Check messages that need review",
                "1 message may or may not have been sent."
                if waiting == 1
                else f"{waiting} messages may or may not have been sent.",
                "Open the delivery log",
                "nudges.delivery_log",
                {"status": OutboxStatus.NEEDS_REVIEW},
            )
        )
    return Section("outbox", "Messages that need review", items, 0)
