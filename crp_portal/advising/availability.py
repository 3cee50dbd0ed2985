"""An advisor's availability: booking settings, weekly windows and days off."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crp_portal.advising.models import AdvisorSettings, AvailabilityWindow, DayOff
from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db


def settings_for(advisor_id: int) -> AdvisorSettings:
    """The advisor's settings, saved with the defaults on first use.

    Students opening a new advisor's times at once all try to save the defaults; the
    ones that lose read the row the first saved instead of failing.
    """
    settings = db.session.get(AdvisorSettings, advisor_id)
    if settings is None:
        settings = AdvisorSettings(
            advisor_id=advisor_id, slot_minutes=30, buffer_minutes=0, min_notice_hours=12,
            horizon_days=30, max_per_day=None,
        )  # fmt: skip
        try:
            with db.session.begin_nested():
                db.session.add(settings)
        except IntegrityError:
            settings = db.session.get(AdvisorSettings, advisor_id)
    return settings


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
    settings = settings_for(advisor.id)
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.flush()
    return settings


def add_window(
    advisor: User, weekday: int, start, end, mode: str, place: str
) -> AvailabilityWindow:
    if not 0 <= weekday <= 6:
        raise DomainError("Choose a day of the week.")
    if end <= start:
        raise DomainError("The window must end after it starts.")
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


def delete_window(advisor: User, window_id: int) -> None:
    window = db.session.get(AvailabilityWindow, window_id)
    if window is None or window.advisor_id != advisor.id:
        raise NotFound("There is no such availability window in your list.")
    db.session.delete(window)
    db.session.flush()


def add_day_off(advisor: User, day: date, note: str) -> DayOff:
    day_off = DayOff(advisor_id=advisor.id, day=day, note=note.strip() or None)
    try:
        with db.session.begin_nested():
            db.session.add(day_off)
    except IntegrityError as error:
        raise Conflict(f"{day:%a %d %b %Y} is already a day off.") from error
    return day_off


def delete_day_off(advisor: User, day_off_id: int) -> None:
    day_off = db.session.get(DayOff, day_off_id)
    if day_off is None or day_off.advisor_id != advisor.id:
        raise NotFound("There is no such day off in your list.")
    db.session.delete(day_off)
    db.session.flush()
