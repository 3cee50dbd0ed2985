"""An advisor's availability: booking settings, weekly windows and days off.

The advisor's settings row is the lock for everything that decides their bookable time:
every change here, and every booking or move (advising.services), first takes it with
`SELECT … FOR UPDATE` (on SQLite, the database's write lock: `crp_portal.database`),
then reads what it checks. So the daily cap and the overlap rule are judged on what
committed before, never on a read another request is about to make stale.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal.advising.models import (
    AdvisorSettings,
    Appointment,
    AppointmentStatus,
    AvailabilityWindow,
    DayOff,
)
from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, NotFound, check_date_bounds
from crp_portal.extensions import db
from crp_portal.timeutil import to_local
from crp_portal.unit_of_work import lock


def _defaults(advisor_id: int) -> AdvisorSettings:
    return AdvisorSettings(
        advisor_id=advisor_id, slot_minutes=30, buffer_minutes=0, min_notice_hours=12,
        horizon_days=30, max_per_day=None,
    )  # fmt: skip


def settings_for(advisor_id: int) -> AdvisorSettings:
    """The advisor's settings for reading: the saved row, or the defaults unsaved.

    The row is saved the first time a change needs it (`locked_settings`), so pages
    that only show times or settings write nothing.
    """
    return db.session.get(AdvisorSettings, advisor_id) or _defaults(advisor_id)


def locked_settings(advisor_id: int) -> AdvisorSettings:
    """The advisor's settings row under a row lock, saved with the defaults first if new.

    Two first changes at once both try to save the defaults; the one that loses reads
    the row the other saved instead of failing. Re-read once locked, so the caller sees
    what the request it waited for committed, not a copy loaded before the wait.
    """
    settings = db.session.get(AdvisorSettings, advisor_id)
    if settings is None:
        try:
            with db.session.begin_nested():
                settings = _defaults(advisor_id)
                db.session.add(settings)
        except IntegrityError:
            settings = db.session.get(AdvisorSettings, advisor_id)
    return lock(settings)


def windows_of(advisor_id: int) -> list[AvailabilityWindow]:
    return list(
        db.session.scalars(
            select(AvailabilityWindow)
            .where(AvailabilityWindow.advisor_id == advisor_id)
            .order_by(AvailabilityWindow.weekday, AvailabilityWindow.start_time)
        )
    )


def days_off_of(advisor_id: int, since: date) -> list[DayOff]:
    return list(
        db.session.scalars(
            select(DayOff)
            .where(DayOff.advisor_id == advisor_id, DayOff.day >= since)
            .order_by(DayOff.day)
        )
    )


def save_settings(advisor: User, **values) -> AdvisorSettings:
    """Change the booking settings. Locks the advisor's settings row, so a booking in
    flight is judged wholly on the old settings or wholly on the new."""
    settings = locked_settings(advisor.id)
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.flush()
    return settings


def add_window(
    advisor: User, weekday: int, start, end, mode: str, place: str
) -> AvailabilityWindow:
    """Add a weekly window that overlaps none of the advisor's others that day.

    Locks the advisor's settings row before reading their windows, so two windows added
    at once cannot both pass the overlap check.
    """
    if not 0 <= weekday <= 6:
        raise DomainError("Choose a day of the week.")
    if end <= start:
        raise DomainError("The window must end after it starts.")
    locked_settings(advisor.id)
    for other in windows_of(advisor.id):
        if other.weekday == weekday and start < other.end_time and other.start_time < end:
            raise DomainError(
                f"This overlaps your window from {other.start_time:%H:%M} to "
                f"{other.end_time:%H:%M} that day. Remove or change that one first."
            )
    window = AvailabilityWindow(
        advisor_id=advisor.id, weekday=weekday, start_time=start, end_time=end, mode=mode,
        place=place.strip(),
    )  # fmt: skip
    db.session.add(window)
    db.session.flush()
    return window


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WindowRemoval:
    """What removing a window does, said before it is removed: the appointments already
    booked inside it (from now on) stay booked."""

    window: AvailabilityWindow
    booked: list[Appointment]

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.window.weekday]


def window_of(advisor: User, window_id: int) -> AvailabilityWindow:
    window = db.session.get(AvailabilityWindow, window_id)
    if window is None or window.advisor_id != advisor.id:
        raise NotFound("There is no such availability window in your list.")
    return window


def plan_window_removal(advisor: User, window_id: int, now: datetime) -> WindowRemoval:
    """Read-only: the window and the booked appointments from `now` that fall inside it."""
    window = window_of(advisor, window_id)
    upcoming = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.advisor_id == advisor.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= now,
        )
        .options(selectinload(Appointment.student))
        .order_by(Appointment.starts_at)
    )
    inside = [
        appointment
        for appointment in upcoming
        if (local := to_local(appointment.starts_at)).weekday() == window.weekday
        and window.start_time <= local.time() < window.end_time
    ]
    return WindowRemoval(window, inside)


def delete_window(advisor: User, window_id: int) -> None:
    """Remove a weekly window; booked appointments stay booked.

    Locks the advisor's settings row, then the window's row: removing it twice at once
    removes it once, and the second request finds no such window (404).
    """
    locked_settings(advisor.id)
    window = db.session.scalar(
        select(AvailabilityWindow).where(AvailabilityWindow.id == window_id).with_for_update()
    )
    if window is None or window.advisor_id != advisor.id:
        raise NotFound("There is no such availability window in your list.")
    db.session.delete(window)
    db.session.flush()


def add_day_off(advisor: User, day: date, note: str) -> DayOff:
    """A day with no bookable times; booked appointments that day stay booked.

    Locks the advisor's settings row; the unique (advisor, day) constraint turns the same
    day twice into a clear conflict.
    """
    check_date_bounds(day)
    locked_settings(advisor.id)
    day_off = DayOff(advisor_id=advisor.id, day=day, note=note.strip() or None)
    try:
        with db.session.begin_nested():
            db.session.add(day_off)
    except IntegrityError as error:
        raise Conflict(f"{day:%a %d %b %Y} is already a day off.") from error
    return day_off


def delete_day_off(advisor: User, day_off_id: int) -> None:
    """Open a day off again. Locks the advisor's settings row, then the day off's row:
    removing it twice at once removes it once, and the second request gets a 404."""
    locked_settings(advisor.id)
    day_off = db.session.scalar(select(DayOff).where(DayOff.id == day_off_id).with_for_update())
    if day_off is None or day_off.advisor_id != advisor.id:
        raise NotFound("There is no such day off in your list.")
    db.session.delete(day_off)
    db.session.flush()
