"""Days the academic calendar closes: breaks, holidays and reading days.

Weekly series skip them (`events.series`), and advisors take no bookings on breaks and
holidays unless they open the day (`advising.closed_days`). The calendar's periods are
the only source: adding "Thanksgiving" to a term closes that day everywhere at once.
"""

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.terms.models import SERIES_SKIPS, CalendarPeriod


def closed_days(first: date, last: date, kinds: Iterable[str] = SERIES_SKIPS) -> dict[date, str]:
    """Every day from `first` to `last` inside a period of one of `kinds`, with the name
    of the period that closes it, in date order.

    A day inside several periods is named after the shortest, the most specific one:
    Dec 25 inside the winter break is "Christmas Day", not "Winter break".
    """
    if last < first:
        return {}
    periods = db.session.scalars(
        select(CalendarPeriod)
        .where(
            CalendarPeriod.kind.in_(list(kinds)),
            CalendarPeriod.starts_on <= last,
            CalendarPeriod.ends_on >= first,
        )
        .order_by(CalendarPeriod.starts_on, CalendarPeriod.id)
    )
    found: dict[date, tuple[int, str]] = {}
    for period in periods:
        length = (period.ends_on - period.starts_on).days
        day, end = max(period.starts_on, first), min(period.ends_on, last)
        while day <= end:
            if day not in found or length < found[day][0]:
                found[day] = (length, period.name)
            day += timedelta(days=1)
    return {day: found[day][1] for day in sorted(found)}


def closed_reason(day: date, kinds: Iterable[str] = SERIES_SKIPS) -> str | None:
    """The name of the period that closes `day`, or None when it is an ordinary day."""
    return closed_days(day, day, kinds).get(day)
