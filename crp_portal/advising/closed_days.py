"""Advisors are closed on the academic calendar's breaks and holidays, unless they open a day.

A day inside a break or holiday period (`terms.closed_days`) offers no slots and takes
no bookings or moves, so Dec 25 cannot be booked even from a page opened before the
holiday was added. An advisor opens one such day from their availability page
(`OpenedDay`), and may close it again; appointments already booked stay booked either
way, as with a day off. Opening and closing lock the advisor's settings row, which every
booking and move also takes first (`availability.locked_settings`), so a booking is
judged wholly before or wholly after the change.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crp_portal.advising.availability import locked_settings, windows_of
from crp_portal.advising.models import OpenedDay
from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, NotFound, check_date_bounds
from crp_portal.extensions import db
from crp_portal.terms.closed_days import closed_days
from crp_portal.terms.models import ADVISING_CLOSED
from crp_portal.timeutil import format_date

LISTED_DAYS = 180  # the longest booking horizon an advisor can set


def _opened(advisor_id: int, first: date, last: date) -> dict[date, OpenedDay]:
    rows = db.session.scalars(
        select(OpenedDay).where(
            OpenedDay.advisor_id == advisor_id, OpenedDay.day >= first, OpenedDay.day <= last
        )
    )
    return {row.day: row for row in rows}


def closed_for(advisor_id: int, first: date, last: date) -> dict[date, str]:
    """The days from `first` to `last` the advisor is closed for a break or holiday (day
    → the period's name), leaving out the days they opened."""
    closed = closed_days(first, last, ADVISING_CLOSED)
    if not closed:
        return {}
    opened = _opened(advisor_id, first, last)
    return {day: name for day, name in closed.items() if day not in opened}


def closed_reason(advisor_id: int, day: date) -> str | None:
    return closed_for(advisor_id, day, day).get(day)


def refuse_closed_day(advisor_id: int, day: date) -> None:
    """A booking or move onto a day the advisor is closed is refused (409), naming why:
    the list the person chose from may be older than the calendar."""
    reason = closed_reason(advisor_id, day)
    if reason is not None:
        raise Conflict(
            f"The advisor is not taking appointments on {format_date(day)} ({reason}). "
            "Choose a time on another day."
        )


@dataclass(frozen=True)
class ClosedDay:
    """A break or holiday day on one of the advisor's weekdays, and whether they opened it."""

    day: date
    reason: str
    opened: OpenedDay | None

    @property
    def is_open(self) -> bool:
        return self.opened is not None


def upcoming_closed_days(advisor_id: int, today: date) -> list[ClosedDay]:
    """Break and holiday days from today on, within the longest horizon, that fall on a
    weekday the advisor has a window (other days have no times to close or open)."""
    weekdays = {window.weekday for window in windows_of(advisor_id)}
    last = today + timedelta(days=LISTED_DAYS)
    closed = closed_days(today, last, ADVISING_CLOSED)
    opened = _opened(advisor_id, today, last)
    return [
        ClosedDay(day, reason, opened.get(day))
        for day, reason in closed.items()
        if day.weekday() in weekdays
    ]


def open_day(advisor: User, day: date, today: date) -> OpenedDay:
    """Open one break or holiday day for booking. Locks the advisor's settings row; the
    unique (advisor, day) constraint turns opening it twice into a clear conflict."""
    check_date_bounds(day)
    if day < today:
        raise DomainError("That day has passed.")
    locked_settings(advisor.id)
    reason = closed_days(day, day, ADVISING_CLOSED).get(day)
    if reason is None:
        raise Conflict(f"{format_date(day)} is not in a break or holiday, so it is open already.")
    opened = OpenedDay(advisor_id=advisor.id, day=day)
    try:
        with db.session.begin_nested():
            db.session.add(opened)
    except IntegrityError as error:
        raise Conflict(f"You opened {format_date(day)} already.") from error
    return opened


def close_day(advisor: User, opened_day_id: int) -> date:
    """Close an opened day again; booked appointments that day stay booked. Locks the
    advisor's settings row, then the opened day's row: closing it twice at once closes
    it once, and the second request finds no such day (404)."""
    locked_settings(advisor.id)
    opened = db.session.scalar(
        select(OpenedDay).where(OpenedDay.id == opened_day_id).with_for_update()
    )
    if opened is None or opened.advisor_id != advisor.id:
        raise NotFound("There is no such opened day in your list.")
    day = opened.day
    db.session.delete(opened)
    db.session.flush()
    return day
