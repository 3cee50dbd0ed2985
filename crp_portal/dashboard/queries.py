"""The dashboard's figures, all at once: `figures` runs each section's function
(`participation`, `supports`, `engagement`, over `ranges`) and remembers the result.

Every function issues a fixed number of SQL statements, whatever the size of the
program's history. Participation figures read the rollups (`rollup_models`): one row per
day and figure, one per member and week, so their cost follows the chosen range and the
number of members, not how many events, RSVPs or appointments the range held. Ranges
are local dates, both ends included.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import current_app

from crp_portal.dashboard import rollups
from crp_portal.dashboard.engagement import (
    FALLING_LIST_MAX,
    TIERS,
    Engagement,
    Falling,
    engagement,
    falling,
)
from crp_portal.dashboard.participation import (
    KindRow,
    Members,
    Participation,
    WeekRow,
    events_by_kind,
    members,
    participation,
    weekly_trend,
)
from crp_portal.dashboard.ranges import MAX_RANGE_DAYS, DateRange, day_totals
from crp_portal.dashboard.supports import (
    AdvisingRow,
    CheckIns,
    Housing,
    advising,
    check_ins,
    housing,
)
from crp_portal.errors import check_date_bounds
from crp_portal.terms.models import Term
from crp_portal.timeutil import local_today

REMEMBERED = 32  # computed figures kept per process: a few ranges × with/without the list


@dataclass(frozen=True)
class Figures:
    date_range: DateRange
    members: Members
    events_by_kind: list[KindRow]
    participation: Participation
    weekly: list[WeekRow]
    advising: list[AdvisingRow]
    housing: Housing
    check_ins: CheckIns
    engagement: Engagement
    falling: Falling | None

    @property
    def events_held(self) -> int:
        return sum(row.events for row in self.events_by_kind)


def figures(
    date_range: DateRange, term: Term | None, with_falling: bool = True, today: date | None = None
) -> Figures:
    """All the dashboard's figures, in a bounded number of statements whatever the data.

    Marked changes are applied to the rollups first. Figures computed from a committed
    generation of the rollups are remembered (per application, a few ranges) until the
    generation moves on; figures computed right after a refresh, still uncommitted, are
    not, since a rollback would give that generation number to other data.

    Engagement and the falling list look back from the range's end or today, whichever
    comes first: mid-term, "the last three weeks" must be weeks that have happened.

    The range lies within the years a program can use (`timeutil`), so it has at most
    ~5,300 weeks and its date sums cannot overflow.
    """
    check_date_bounds(date_range.start, date_range.end)
    today = today or local_today()
    generation, waiting = rollups.state()
    if waiting:
        rollups.refresh()
    key = (date_range, term.id if term else None, with_falling, today, generation)
    remembered = _remembered()
    if not waiting and (found := remembered.get(key)) is not None:
        return found
    computed = _compute(date_range, term, with_falling, today)
    if not waiting:
        remembered.put(key, computed)
    return computed


class _Remembered:
    """A small least-recently-used map, safe across the threads of one process."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
            return None

    def put(self, key, value) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _remembered() -> _Remembered:
    return current_app.extensions.setdefault("crp_dashboard_figures", _Remembered(REMEMBERED))


def _compute(date_range: DateRange, term: Term | None, with_falling: bool, today: date):
    looking_back = DateRange(date_range.start, max(date_range.start, min(date_range.end, today)))
    totals = day_totals(date_range)
    return Figures(
        date_range=date_range,
        members=members(date_range),
        events_by_kind=events_by_kind(totals),
        participation=participation(date_range, totals),
        weekly=weekly_trend(date_range, totals),
        advising=advising(totals),
        housing=housing(term),
        check_ins=check_ins(date_range),
        engagement=engagement(looking_back),
        falling=falling(looking_back) if with_falling else None,
    )


__all__ = [
    "FALLING_LIST_MAX",
    "MAX_RANGE_DAYS",
    "TIERS",
    "DateRange",
    "Figures",
    "figures",
    "members",
    "events_by_kind",
    "participation",
    "weekly_trend",
    "advising",
    "housing",
    "check_ins",
    "engagement",
    "falling",
]
