"""The dates of a weekly or fortnightly series, and the closed days it skips.

A series repeats in local wall-clock time (7 pm stays 7 pm across DST). One that skips
breaks and holidays has no meeting on a day inside a break, holiday or reading-days
period of the academic calendar (`terms.closed_days`); staff see those dates, with the
period's name, before they save. The cap on a series counts the meetings it creates,
never the dates it skips.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.rrule import WEEKLY, rrule

from crp_portal.terms.closed_days import closed_days

MAX_OCCURRENCES = 60


@dataclass(frozen=True)
class SkippedDate:
    starts_local: datetime
    reason: str  # the name of the period that closes the day, e.g. "Winter break"


@dataclass(frozen=True)
class SeriesDates:
    """What saving a series creates (local starts) and which dates it leaves out, why."""

    starts: tuple[datetime, ...]
    skipped: tuple[SkippedDate, ...] = ()


def _rule(first_local: datetime, interval_weeks: int, until: date) -> list[datetime]:
    last = datetime.combine(until, time(23, 59))
    return list(rrule(WEEKLY, interval=interval_weeks, dtstart=first_local, until=last))


def series_dates(
    first_local: datetime,
    interval_weeks: int,
    until: date,
    closed: Mapping[date, str] | None = None,
) -> SeriesDates:
    """Local starts from `first_local` every `interval_weeks` weeks up to `until`, leaving
    out the days in `closed` (day → period name). At most MAX_OCCURRENCES are created;
    dates skipped after the last one created are not listed."""
    closed = closed or {}
    starts: list[datetime] = []
    skipped: list[SkippedDate] = []
    for start in _rule(first_local, interval_weeks, until):
        if len(starts) == MAX_OCCURRENCES:
            break
        reason = closed.get(start.date())
        if reason is None:
            starts.append(start)
        else:
            skipped.append(SkippedDate(start, reason))
    return SeriesDates(tuple(starts), tuple(skipped))


def occurrence_starts(
    first_local: datetime,
    interval_weeks: int,
    until: date,
    closed: Mapping[date, str] | None = None,
) -> list[datetime]:
    """Local wall-clock starts of a weekly or fortnightly series, at most MAX_OCCURRENCES."""
    return list(series_dates(first_local, interval_weeks, until, closed).starts)


def plan_series(
    first_local: datetime, interval_weeks: int, until: date, skip_closed_days: bool
) -> SeriesDates:
    """The series' dates against the academic calendar as it stands."""
    closed = closed_days(first_local.date(), until) if skip_closed_days else {}
    return series_dates(first_local, interval_weeks, until, closed)


def skipped_from(series, since: date, limit: int = 5) -> list[SkippedDate]:
    """The next dates (from `since`) a series that skips closed days has no meeting, and
    why, as its rule and the calendar give them today."""
    if series is None or not series.skips_closed_days:
        return []
    until = series.until_local.date()
    if until < since:
        return []
    dates = plan_series(series.first_start_local, series.interval_weeks, until, True)
    return [skipped for skipped in dates.skipped if skipped.starts_local.date() >= since][:limit]


@dataclass(frozen=True)
class Replanned:
    """A "this and following" move of a series that skips closed days: the occurrences
    (by id) that would land on a closed day and are cancelled instead of moved, and the
    local starts of weeks the rule had skipped that the move makes open."""

    kept_off: dict[int, str]
    added: tuple[datetime, ...]


def replan_following(
    edited_id: int,
    old_starts: Mapping[int, datetime],
    interval_weeks: int,
    until: date,
    shift: timedelta,
) -> Replanned:
    """Where a move by `shift` puts each later occurrence (`old_starts`: id → local start
    before the move, the edited one included) against the calendar's closed days.

    Weeks of the cadence with no occurrence on a closed day were skipped by the rule;
    if the move takes such a week to an open day (up to the series' last date), a
    meeting is added there. A week with no occurrence on an open day was moved or
    taken out by hand, and stays as staff left it.
    """
    first = old_starts[edited_id]
    cadence = _rule(first, interval_weeks, max(until, first.date()))
    span_end = max([*(start.date() for start in old_starts.values()), until]) + abs(shift)
    closed = closed_days(min(first.date(), (first + shift).date()), span_end + timedelta(days=1))
    kept_off = {
        event_id: closed[(start + shift).date()]
        for event_id, start in old_starts.items()
        if event_id != edited_id and (start + shift).date() in closed
    }
    taken = {start.date() for start in old_starts.values()}
    added = tuple(
        start + shift
        for start in cadence[1:]
        if start.date() not in taken
        and start.date() in closed
        and (start + shift).date() not in closed
        and (start + shift).date() <= until
    )
    return Replanned(kept_off, added)
