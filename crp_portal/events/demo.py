"""Demo events around today: weekly meetings, socials, workshops, RSVPs and attendance."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from crp_portal.events.models import (
    Attendance,
    AttendanceSource,
    Event,
    EventKind,
    EventReminderSetting,
    Rsvp,
    RsvpStatus,
)
from crp_portal.events.services import EventDetails, create_event
from crp_portal.extensions import db
from crp_portal.terms.models import CalendarPeriod, PeriodKind
from crp_portal.timeutil import local_to_utc


def _next_weekday(today: date, weekday: int, weeks_ahead: int = 0) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


def _through_next_break(today: date, first: date) -> date:
    """Ten weeks on, or a week past the next break, so the weekly meeting shows the
    dates a series skips."""
    next_break_ends = db.session.scalar(
        select(CalendarPeriod.ends_on)
        .where(CalendarPeriod.kind == PeriodKind.BREAK, CalendarPeriod.starts_on > today)
        .order_by(CalendarPeriod.starts_on)
        .limit(1)
    )
    until = first + timedelta(weeks=10)
    if next_break_ends is not None:
        until = max(until, next_break_ends + timedelta(weeks=1))
    return min(until, first + timedelta(days=364))


def _plan(today: date) -> list[tuple[EventDetails, int | None, date | None]]:
    tuesday = _next_weekday(today, 1) - timedelta(weeks=4)
    thursday = _next_weekday(today, 3) - timedelta(weeks=3)
    return [
        (
            EventDetails(
                EventKind.ALL_RECOVERY, "All-recovery meeting", "Tuesday group",
                "An open, all-pathways recovery meeting. Come as you are; no names are kept.",
                tuesday, time(19, 0), time(20, 0), location="Wellness Center, Room 110",
                headcount_only=True, open_to_applicants=True,
            ),
            1, _through_next_break(today, tuesday),
        ),
        (
            EventDetails(
                EventKind.PEER_SUPPORT, "Peer support circle", "Thursday circle",
                "A peer-led circle for **students in recovery**. Coffee provided.",
                thursday, time(18, 0), time(19, 15), location="Student Center 204",
                capacity=12, show_attendee_names=True,
            ),
            2, thursday + timedelta(weeks=10),
        ),
        (
            EventDetails(
                EventKind.SOBER_SOCIAL, "Board game night", "Game night",
                "Games, snacks and good company. Bring a friend who is a member.",
                _next_weekday(today, 4), time(19, 0), time(22, 0),
                location="Student Center lounge", capacity=20, show_attendee_names=True,
            ),
            None, None,
        ),
        (
            EventDetails(
                EventKind.SOBER_SOCIAL, "Pizza and movie night", "Movie night", "",
                today - timedelta(days=12), time(18, 30), time(21, 0),
                location="Library screening room", capacity=25,
            ),
            None, None,
        ),
        (
            EventDetails(
                EventKind.ACADEMIC, "Finals study hall", "Study hall",
                "Quiet study with tutors from the learning center. Join in person or online.",
                today + timedelta(days=13), time(13, 0), time(17, 0),
                location="Library, Group Study 3", online_link="https://meet.example.edu/study-hall",
                capacity=30,
            ),
            None, None,
        ),
        (
            EventDetails(
                EventKind.WELLNESS, "Yoga for exam stress", "Yoga", "Gentle yoga. Mats provided.",
                _next_weekday(today, 2), time(17, 30), time(18, 30),
                location="Recreation Center Studio B",
                online_link="https://meet.example.edu/yoga", capacity=15,
            ),
            None, None,
        ),
        (
            EventDetails(
                EventKind.SERVICE, "Food bank volunteering", "Volunteering",
                "Sorting donations at the community food bank. Transport from the Student Center.",
                today + timedelta(days=9), time(9, 0), time(12, 0),
                location="Community Food Bank, 12 Harbor St", capacity=4,
                allow_walk_ins=False,  # the van seats four: no walk-ins by code
            ),
            None, None,
        ),
    ]  # fmt: skip


def seed_events(today: date, staff, students) -> int:
    """Create the demo events with believable RSVPs; returns how many events exist."""
    events: list[Event] = []
    for details, repeat_weeks, until in _plan(today):
        events += create_event(details, staff, repeat_weeks=repeat_weeks, repeat_until=until)
    now = local_to_utc(datetime.combine(today, time(12)))
    for index, event in enumerate(events):
        if event.headcount_only:
            if event.starts_at < now:
                event.headcount = 6 + index % 5
            continue
        wanted = 3 + (index * 5) % 9
        for offset in range(wanted):
            student = students[(index * 3 + offset) % len(students)]
            full = event.capacity is not None and event.going_count >= event.capacity
            status = RsvpStatus.WAITLISTED if full else RsvpStatus.GOING
            queued = event.starts_at - timedelta(days=3, minutes=-offset)
            db.session.add(
                Rsvp(
                    event_id=event.id,
                    user_id=student.id,
                    status=status,
                    queue_number=offset + 1,
                    queued_at=queued,
                )
            )
            if status == RsvpStatus.GOING:
                event.going_count += 1
                if event.ends_at < now and offset % 4 != 3:
                    db.session.add(
                        Attendance(
                            event_id=event.id, user_id=student.id, source=AttendanceSource.ROSTER
                        )
                    )
    # Reminders: the volunteering trip two days ahead (transport to arrange); none for
    # the weekly drop-in meeting, which keeps no names. Other kinds: the default day.
    db.session.add_all(
        [
            EventReminderSetting(kind=EventKind.SERVICE, lead_hours=48, updated_by_id=staff.id),
            EventReminderSetting(
                kind=EventKind.ALL_RECOVERY, enabled=False, updated_by_id=staff.id
            ),
        ]
    )
    db.session.flush()
    return len(events)
