"""Home pages as to-do lists: what a student or an advisor should do next, each item
saying what to do and linking to where to do it (staff's are in `staff_todo`).

Every list is read in a fixed number of statements, however much data there is; items
carry an endpoint and its arguments, so these functions run without a request. Events
are named as on the student's other pages (their real title, which the student may see);
the tab title stays "Home", so nothing names a meeting where others may glance.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from crp_portal.advising import lists, summaries
from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.events import waitlist_news
from crp_portal.events.queries import next_for
from crp_portal.extensions import db
from crp_portal.housing.models import AssignmentStatus, Bed, BedAssignment, House, Room
from crp_portal.recovery.check_ins import this_weeks_check_in
from crp_portal.timeutil import format_date, format_datetime, format_time, local_midnight


@dataclass(frozen=True)
class Item:
    """One line of a to-do list: what to do (or what is next), a detail, and the link."""

    what: str
    detail: str
    action: str  # the link's words
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudentHome:
    to_do: list[Item]
    coming_up: list[Item]


def student_home(student: User, now: datetime, today: date) -> StudentHome:
    """A student's to-do (an offer to answer, waitlist news, a summary to read, this week's
    check-in) and what is coming up (their next event and advising appointment)."""
    to_do = [*_offers(student, today), *_news(student, now), *_summaries(student, now)]
    if this_weeks_check_in(student.id, today) is None:
        to_do.append(
            Item(
                "Do this week's check-in",
                "A minute on mood, stress and sleep; private unless you share it.",
                "Check in",
                "recovery.check_in",
            )
        )
    coming_up = [
        Item(
            event.title,
            format_datetime(event.starts_at),
            "See the event",
            "events.detail",
            {"event_id": event.id},
        )
        for event in next_for(student, now, limit=1)
    ]
    appointment = _next_appointment(student, now)
    if appointment is not None:
        starts_at, appointment_id, advisor_name = appointment
        coming_up.append(
            Item(
                f"Advising with {advisor_name}",
                format_datetime(starts_at),
                "See the appointment",
                "advising.appointment",
                {"appointment_id": appointment_id},
            )
        )
    return StudentHome(to_do, coming_up)


def _offers(student: User, today: date) -> list[Item]:
    """A bed offered and not answered yet, with its reply-by date (at most one live offer
    per term, so a few at most)."""
    rows = db.session.execute(
        select(BedAssignment.reply_by, House.name)
        .join(Bed, Bed.id == BedAssignment.bed_id)
        .join(Room, Room.id == Bed.room_id)
        .join(House, House.id == Room.house_id)
        .where(
            BedAssignment.student_id == student.id,
            BedAssignment.status == AssignmentStatus.OFFERED,
            BedAssignment.reply_by >= today,
        )
        .order_by(BedAssignment.reply_by, BedAssignment.id)
        .limit(3)
    )
    return [
        Item(
            "Reply to your housing offer",
            f"A bed at {house}. Reply by {format_date(reply_by)}.",
            "Reply",
            "housing.mine",
        )
        for reply_by, house in rows
    ]


def _news(student: User, now: datetime) -> list[Item]:
    items = []
    for news in waitlist_news.waitlist_news(student, now):
        if news.going:
            what = f"A place came free: you're going to {news.title}"
        else:
            what = (
                f"You moved up the waitlist for {news.title}: now number {news.place}, "
                f"was {news.was_place}"
            )
        items.append(
            Item(
                what,
                format_datetime(news.starts_at),
                "See the event",
                "events.detail",
                {"event_id": news.event_id},
            )
        )
    return items


def _summaries(student: User, now: datetime) -> list[Item]:
    return [
        Item(
            "Read your advising summary",
            f"From {waiting.advisor_name}, after your appointment on "
            f"{format_date(waiting.starts_at)}.",
            "Read it",
            "advising.appointment",
            {"appointment_id": waiting.appointment_id},
        )
        for waiting in summaries.waiting_summaries(student, now)
    ]


def _next_appointment(student: User, now: datetime):
    return db.session.execute(
        select(Appointment.starts_at, Appointment.id, User.name)
        .join(User, User.id == Appointment.advisor_id)
        .where(
            Appointment.student_id == student.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.ends_at >= now,
            Appointment.starts_at > now - lists.LONGEST_APPOINTMENT,
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(1)
    ).first()


@dataclass(frozen=True)
class AdvisorHome:
    today: list[Item]
    outcomes: list[Item]
    more_outcomes: int  # waiting for an outcome, but not listed


OUTCOMES_LISTED = 5


def advisor_home(advisor: User, now: datetime, today: date) -> AdvisorHome:
    """Today's appointments, each once (one that has ended without an outcome says to
    record it, under today only), and the earlier ones still booked: the agenda's rules
    (`advising.lists`), in two statements."""
    midnight = local_midnight(today)
    tomorrow = local_midnight(today + timedelta(days=1))
    todays = [
        _today_item(line, now) for line in lists.appointments_between(advisor, midnight, tomorrow)
    ]
    awaiting, total = lists.awaiting_outcome(advisor, midnight, limit=OUTCOMES_LISTED)
    outcomes = [
        Item(
            f"Record the outcome: {line.with_name}",
            f"{format_datetime(line.starts_at)} · {line.topic_label}",
            "Record the outcome",
            "advising.appointment",
            {"appointment_id": line.id, "_anchor": "outcome-heading"},
        )
        for line in awaiting
    ]
    return AdvisorHome(todays, outcomes, total - len(awaiting))


def _today_item(line: lists.Listed, now: datetime) -> Item:
    started_without_outcome = line.starts_at <= now and line.status == AppointmentStatus.BOOKED
    return Item(
        f"{format_time(line.starts_at)}: {line.with_name}",
        f"{line.topic_label} · {line.status_label}",
        "Record the outcome" if started_without_outcome else "Open",
        "advising.appointment",
        {"appointment_id": line.id},
    )
