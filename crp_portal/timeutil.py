"""UTC in the database, the program's time zone on the page."""

from datetime import UTC, date, datetime, time
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


def local_midnight(day: date) -> datetime:
    """The start of a local day, in UTC: the bound for "on or after this date" queries."""
    return datetime.combine(day, time()).replace(tzinfo=program_zone()).astimezone(UTC)


def to_local(value: datetime) -> datetime:
    return value.astimezone(program_zone())


def format_datetime(value: datetime | None) -> str:
    """`Tue 3 Nov 2026, 7:00 PM EST` in the program's zone."""
    if value is None:
        return ""
    local = to_local(value)
    hour = local.strftime("%I").lstrip("0")
    return f"{local:%a} {local.day} {local:%b %Y}, {hour}:{local:%M %p %Z}"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return f"{value:%a} {value.day} {value:%b %Y}"


def format_time(value: datetime | None) -> str:
    """`7:00 PM` in the program's zone."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{local.strftime('%I').lstrip('0')}:{local:%M %p}"


def register_filters(app) -> None:
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["date"] = format_date
