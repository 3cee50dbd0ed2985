"""VTIMEZONE components that every calendar client reads the same way.

icalendar's `Timezone.from_tzid` lists a zone's changes as several values on one RDATE
line; Mozilla's ical.js (Thunderbird's parser) reads only the first of them, so it put
every event after the first year an hour off. It also dates a spring change by the clock
after it (03:00), where RFC 5545 dates an onset by the offset in force before it (02:00).

Here the changes come from the zone data (zoneinfo) and each kind of change (standard to
daylight, daylight to standard) becomes one STANDARD or DAYLIGHT component: with a yearly
RRULE, as most producers write them, when one rule gives exactly the zone's changes over
the span; otherwise with one RDATE line per further change, which every reader follows.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import YEARLY, rrule, weekdays
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

# Shorter than the briefest stretch between two changes in the zone data (weeks, in
# Morocco's Ramadan time): no change and its undoing fit between two looks.
SCAN_STEP_SECONDS = 86400
RULE_CHECK_YEARS = 10
YEAR_SECONDS = 365 * 86400
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Observance:
    offset: timedelta
    is_dst: bool
    name: str


@dataclass(frozen=True)
class Change:
    at: int  # the instant, in seconds since the epoch
    before: Observance
    after: Observance

    @property
    def onset(self) -> datetime:
        """The local time of the change, by the clock before it (RFC 5545's DTSTART)."""
        return (datetime.fromtimestamp(self.at, UTC) + self.before.offset).replace(tzinfo=None)


def _observance(zone: ZoneInfo, at: int) -> Observance:
    local = datetime.fromtimestamp(at, zone)
    return Observance(cast(timedelta, local.utcoffset()), bool(local.dst()), local.tzname() or "")


def changes(zone: ZoneInfo, start: int, end: int) -> list[Change]:
    """Every change of offset or name between two instants, found to the second."""
    found = []
    at, current = start, _observance(zone, start)
    while at < end:
        step = min(at + SCAN_STEP_SECONDS, end)
        if _observance(zone, step) == current:
            at = step
            continue
        low, high = at, step  # the change happens after `low`, by `high`
        while high - low > 1:
            middle = (low + high) // 2
            if _observance(zone, middle) == current:
                low = middle
            else:
                high = middle
        after = _observance(zone, high)
        found.append(Change(high, current, after))
        at, current = high, after
    return found


def _yearly_rule(onsets: list[datetime], until: datetime) -> dict | None:
    """The RRULE ("second Sunday of March") whose instances up to `until` are exactly
    these onsets, if there is one; a change seen only once is no rule."""
    if len(onsets) < 2:
        return None
    first = onsets[0]
    week = (first.day - 1) // 7 + 1
    candidates = [week]
    if first.day + 7 > monthrange(first.year, first.month)[1]:
        candidates.append(-1)  # the last such weekday of the month
    day = first.weekday()
    for nth in candidates:
        instances = rrule(
            YEARLY, dtstart=first, bymonth=first.month, byweekday=weekdays[day](nth), until=until
        )
        if list(instances) == onsets:
            return {"freq": "yearly", "bymonth": first.month, "byday": f"{nth}{DAY_CODES[day]}"}
    return None


def _is_daylight(before: Observance, after: Observance) -> bool:
    """Clocks going forward start daylight time. (The zone data calls Irish winter time
    daylight saving, with a negative saving; calendar clients expect summer.)"""
    return after.offset > before.offset if after.offset != before.offset else after.is_dst


def _component(before: Observance, after: Observance, onset: datetime, daylight: bool):
    component = TimezoneDaylight() if daylight else TimezoneStandard()
    component.add("dtstart", onset)
    component.add("tzoffsetfrom", before.offset)
    component.add("tzoffsetto", after.offset)
    if after.name:
        component.add("tzname", after.name)
    return component


def vtimezone(tzid: str, first: date, last: date) -> Timezone | None:
    """The zone's VTIMEZONE, right for every time from `first` to `last`, and after it
    as long as the zone keeps its rules; None for a zone the zone data does not know.

    A yearly RRULE is written only if it gives the zone's changes for `RULE_CHECK_YEARS`
    beyond `last` too, so a rule that merely fits a few years ("the fourth Friday") is
    never offered as the zone's rule.
    """
    try:
        zone = ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    start = int(datetime.combine(first, time(), zone).timestamp())
    end = int(datetime.combine(last, time(), zone).timestamp())
    horizon = end + RULE_CHECK_YEARS * YEAR_SECONDS
    found = changes(zone, start, horizon)
    opening = _observance(zone, start)
    # Before the first change the zone keeps the other kind of time.
    opens_daylight = not _is_daylight(found[0].before, found[0].after) if found else opening.is_dst
    timezone = Timezone()
    timezone.add("tzid", tzid)
    # The zone as the span opens, so its earliest times have an offset in every reader.
    timezone.add_component(
        _component(opening, opening, datetime.combine(first, time()), opens_daylight)
    )
    kinds: dict[tuple[Observance, Observance], list[Change]] = {}
    for change in found:
        kinds.setdefault((change.before, change.after), []).append(change)
    for (before, after), every in kinds.items():
        onsets = [change.onset for change in every if change.at < end]
        if not onsets:
            continue
        component = _component(before, after, onsets[0], _is_daylight(before, after))
        rule = _yearly_rule(
            [change.onset for change in every], Change(horizon, before, after).onset
        )
        if rule is not None:
            component.add("rrule", rule)
        else:
            for onset in onsets[1:]:
                component.add("rdate", onset)
        timezone.add_component(component)
    return timezone
