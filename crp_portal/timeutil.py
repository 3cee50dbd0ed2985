"""UTC in the database, the program's time zone on the page; weeks start on Monday."""

from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# The years a program can use. Every typed or imported date is kept between them, so date
# sums (the day after, a local midnight in UTC) stay far from the ends of Python's calendar
# (years 1 and 9999), where they overflow; and a term's weeks number at most ~5,300.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
DATE_BOUNDS_MESSAGE = f"Enter a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."


def utcnow() -> datetime:
    return datetime.now(UTC)


def in_date_bounds(*values: date | datetime | None) -> bool:
    """Every given date (or datetime, by its calendar day) falls between EARLIEST_DATE and
    LATEST_DATE; None is skipped."""
    return all(
        EARLIEST_DATE <= (value.date() if isinstance(value, datetime) else value) <= LATEST_DATE
        for value in values
        if value is not None
    )


def clamp_date(day: date) -> date:
    """The day, moved inside the bounds: for dates stored before they were bounded."""
    return min(max(day, EARLIEST_DATE), LATEST_DATE)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend.

    SQLite keeps no zone, so values are stored as naive UTC and handed back aware;
    PostgreSQL stores `timestamptz`. Naive values are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def program_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CRP_TIMEZONE"])


def local_today() -> date:
    return utcnow().astimezone(program_zone()).date()


def week_start(day: date) -> date:
    """The Monday of the day's week: the program's weeks (check-ins, the dashboard's weekly
    figures, the advisor's agenda) run Monday to Sunday. Pass a local date (`local_today`,
    `to_local(...).date()`), not a UTC one."""
    return day - timedelta(days=day.weekday())


REFUSE, AFTER_THE_CHANGE = "refuse", "after the change"


class NonexistentLocalTime(ValueError):
    """A wall-clock time the clocks skip when they go forward (2:30 AM on the March night
    New York goes from 2:00 straight to 3:00). `str()` is written for the person who
    typed it."""


def local_to_utc(wall: datetime, skipped: str = REFUSE) -> datetime:
    """A naive wall-clock time in the program's zone, as an aware UTC datetime.

    Ambiguous times (the hour that repeats when the clocks go back: 1:30 AM on the November
    night in New York happens twice) take the wall time's `fold`: 0, what `datetime(...)`
    and `datetime.combine(...)` give, is the first 1:30, still on summer time; 1 is the
    second, an hour later. `to_wall_clock` keeps the fold, so a time read from the database
    converts back to the same moment.

    Nonexistent times (the hour skipped when the clocks go forward) raise
    `NonexistentLocalTime` by default: a meeting typed for 2:30 AM that night is a mistake
    to show, not a time to guess. With `skipped=AFTER_THE_CHANGE` they are read as that
    far past the change instead (2:30 becomes 3:30 summer time; a midnight the clocks skip
    becomes the day's first instant, 1:00), for bounds and moments nobody typed.
    (`zoneinfo` alone reads a skipped 2:30 with fold 0 as 3:30 and with fold 1 as 1:30,
    without a word.)
    """
    if wall.tzinfo is not None:
        raise ValueError("local_to_utc takes a naive wall-clock time")
    zone = program_zone()
    moment = wall.replace(tzinfo=zone)
    utc = moment.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == wall:
        return utc
    if skipped != AFTER_THE_CHANGE:
        raise NonexistentLocalTime(_skipped_message(wall, zone))
    return moment.replace(fold=0).astimezone(UTC)


def _skipped_message(wall: datetime, zone: ZoneInfo) -> str:
    gap = cast(timedelta, wall.replace(tzinfo=zone, fold=1).utcoffset()) - cast(
        timedelta, wall.replace(tzinfo=zone).utcoffset()
    )
    minutes = int(gap.total_seconds() // 60)
    forward = "an hour" if minutes == 60 else f"{minutes} minutes"
    return (
        f"There is no {_clock(wall)} on {format_date(wall.date())}: the clocks go forward "
        f"{forward} that night. Choose another time."
    )


def to_wall_clock(moment: datetime) -> datetime:
    """An aware datetime as a naive wall-clock time in the program's zone (the inverse of
    `local_to_utc`, `fold` included)."""
    return moment.astimezone(program_zone()).replace(tzinfo=None)


def local_midnight(day: date) -> datetime:
    """The start of a local day, in UTC: the bound for "on or after this date" queries."""
    return local_to_utc(datetime.combine(day, time()), skipped=AFTER_THE_CHANGE)


def to_local(value: datetime) -> datetime:
    return value.astimezone(program_zone())


# The names strftime's %a and %b give (the portal runs in the C locale), looked up
# rather than asked of strftime: a list page formats a hundred times, and each strftime
# call costs more than the rest of a row.
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _clock(value: datetime) -> str:
    """`7:05 PM`: the hour on the 12-hour clock, unpadded."""
    return f"{value.hour % 12 or 12}:{value.minute:02d} {'PM' if value.hour >= 12 else 'AM'}"


def _day(value: date) -> str:
    """`Tue 3 Nov 2026`."""
    return f"{DAY_NAMES[value.weekday()]} {value.day} {MONTH_NAMES[value.month - 1]} {value.year}"


def format_datetime(value: datetime | None) -> str:
    """`Tue 3 Nov 2026, 7:00 PM EST` in the program's zone."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{_day(local)}, {_clock(local)} {local.tzname()}"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return _day(value)


def format_time(value: datetime | None) -> str:
    """`7:00 PM` in the program's zone."""
    if value is None:
        return ""
    return _clock(to_local(value))


def register_filters(app) -> None:
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["date"] = format_date
