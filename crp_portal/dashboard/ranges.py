"""The dates the dashboard reports on, and reading its rollups over them.

Ranges are local dates, both ends included. Per-day figures come from `DayTally` (one
row per day and figure), per-member figures from `MemberWeek` (one row per member and
Monday-based week, a count per weekday), so reading costs follow the range and the
number of members, not the program's history (see `rollup_models`).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select

from crp_portal.dashboard.rollup_models import DayTally, MemberWeek
from crp_portal.events.models import Event, EventStatus
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.timeutil import local_midnight, week_start

MAX_RANGE_DAYS = 3 * 366


@dataclass(frozen=True)
class DateRange:
    """Local dates, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def utc_start(self) -> datetime:
        return local_midnight(self.start)

    @property
    def utc_end(self) -> datetime:
        """The first instant after the range (midnight after its last day)."""
        return local_midnight(self.end + timedelta(days=1))

    def weeks(self) -> list["Week"]:
        """Monday-based weeks touching the range, each clipped to it."""
        monday = week_start(self.start)
        weeks = []
        while monday <= self.end:
            weeks.append(Week(max(monday, self.start), min(monday + timedelta(days=6), self.end)))
            monday += timedelta(days=7)
        return weeks


@dataclass(frozen=True)
class Week:
    start: date
    end: date


def in_range(column, date_range: DateRange):
    """A UTC timestamp column falls on one of the range's local days."""
    return and_(column >= date_range.utc_start, column < date_range.utc_end)


def held_in(date_range: DateRange):
    """Scheduled (not cancelled) events starting in the range."""
    return and_(Event.status == EventStatus.SCHEDULED, in_range(Event.starts_at, date_range))


# --- Reading the rollups --------------------------------------------------------------

HEADCOUNT = "headcount:"


@dataclass(frozen=True)
class DayTotals:
    """The range's sum of each per-day figure, by name ("events:peer_support", "going"…),
    and the headcounts of each Monday-based week (for the weekly trend)."""

    sums: dict[str, int]
    headcount_by_week: dict[date, int]

    def get(self, metric: str, default: int = 0) -> int:
        return self.sums.get(metric, default)

    def starting_with(self, prefix: str) -> int:
        return sum(n for metric, n in self.sums.items() if metric.startswith(prefix))


def day_totals(date_range: DateRange) -> DayTotals:
    """The range's sums of every per-day count (events, attendance by name and headcounts
    by kind, RSVPs, appointments by status), in one statement over at most one row per day
    and figure; headcounts come back per day too, for the weeks."""
    headcount_day = case((DayTally.metric.startswith(HEADCOUNT), DayTally.day)).label(
        "headcount_day"
    )
    rows = select(DayTally.metric, headcount_day, DayTally.value).where(
        DayTally.day >= date_range.start, DayTally.day <= date_range.end
    )
    by_day = rows.subquery()
    sums: dict[str, int] = {}
    weeks: dict[date, int] = {}
    for metric, day, total in db.session.execute(
        select(by_day.c.metric, by_day.c.headcount_day, func.sum(by_day.c.value)).group_by(
            by_day.c.metric, by_day.c.headcount_day
        )
    ):
        sums[metric] = sums.get(metric, 0) + int(total)
        if day is not None:
            weeks[week_start(day)] = weeks.get(week_start(day), 0) + int(total)
    return DayTotals(sums, weeks)


def _day_columns(prefix: str, first: int, last: int):
    return sum(
        (getattr(MemberWeek, f"{prefix}_{day}") for day in range(first + 1, last + 1)),
        getattr(MemberWeek, f"{prefix}_{first}"),
    )


def clipped(prefix: str, window: DateRange):
    """A member-week's count (`attended` or `touches`) on the days of the week that fall
    in the window: whole weeks add all seven days, the first and last only theirs."""
    first, last = week_start(window.start), week_start(window.end)
    if first == last:
        return _day_columns(prefix, window.start.weekday(), window.end.weekday())
    return case(
        (MemberWeek.week_start == first, _day_columns(prefix, window.start.weekday(), 6)),
        (MemberWeek.week_start == last, _day_columns(prefix, 0, window.end.weekday())),
        else_=_day_columns(prefix, 0, 6),
    )


def weeks_of(window: DateRange):
    """Member-weeks touching the window (clip their counts with `clipped`)."""
    return and_(
        MemberWeek.week_start >= week_start(window.start), MemberWeek.week_start <= window.end
    )


def active_member_join():
    """Join a member-week to its member's profile while the membership is active."""
    return and_(
        MemberProfile.user_id == MemberWeek.user_id, MemberProfile.status == MemberStatus.ACTIVE
    )
