"""Demo academic calendar: the previous, current and next terms around today, with their
periods, the winter break between fall and spring, and the holidays and reading days
that weekly series skip and advisors are closed on."""

from datetime import date, timedelta

from crp_portal.extensions import db
from crp_portal.terms.models import CalendarPeriod, PeriodKind, Term

Period = tuple[str, str, date, date]


def term_dates(today: date) -> list[tuple[str, str, date, date]]:
    """The previous, current and next terms around `today`: (season, name, start, end)."""
    terms = []
    for year in (today.year - 1, today.year, today.year + 1):
        terms += [
            ("spring", f"Spring {year}", date(year, 1, 12), date(year, 5, 8)),
            ("summer", f"Summer {year}", date(year, 5, 18), date(year, 8, 7)),
            ("fall", f"Fall {year}", date(year, 8, 24), date(year, 12, 18)),
        ]
    current = next(i for i, t in enumerate(terms) if t[3] >= today)
    return terms[max(current - 1, 0) : current + 2]


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday 0) of the month; n = -1 is the last one."""
    if n < 0:
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7, weeks=n - 1)


def _day(name: str, day: date) -> Period:
    return (PeriodKind.HOLIDAY, name, day, day)


def _holidays(season: str, start: date, end: date) -> list[Period]:
    year = start.year
    if season == "fall":
        thanksgiving = nth_weekday(year, 11, 3, 4)
        return [
            _day("Labor Day", nth_weekday(year, 9, 0, 1)),
            (PeriodKind.BREAK, "Thanksgiving recess", thanksgiving - timedelta(days=1),
             thanksgiving + timedelta(days=3)),
            (PeriodKind.HOLIDAY, "Thanksgiving", thanksgiving, thanksgiving + timedelta(days=1)),
            (PeriodKind.READING_DAYS, "Reading days", end - timedelta(days=8),
             end - timedelta(days=7)),
            # Between fall and spring: filed under fall (`Term.holds_period`).
            (PeriodKind.BREAK, "Winter break", end + timedelta(days=1), date(year + 1, 1, 11)),
            _day("Christmas Day", date(year, 12, 25)),
            _day("New Year's Day", date(year + 1, 1, 1)),
        ]  # fmt: skip
    if season == "spring":
        return [
            _day("Martin Luther King Jr. Day", nth_weekday(year, 1, 0, 3)),
            (PeriodKind.READING_DAYS, "Reading days", end - timedelta(days=8),
             end - timedelta(days=7)),
        ]  # fmt: skip
    return [
        _day("Memorial Day", nth_weekday(year, 5, 0, -1)),
        _day("Independence Day", date(year, 7, 4)),
    ]


def periods_for(season: str, start: date, end: date) -> list[Period]:
    week = timedelta(weeks=1)
    periods = [
        (PeriodKind.MOVE_IN, "Residence move-in", start - timedelta(days=3), start),
        (PeriodKind.CLASSES_START, "Classes start", start, start + timedelta(days=4)),
        (PeriodKind.ADD_DROP, "Add/drop period", start, start + timedelta(days=11)),
        (PeriodKind.MIDTERMS, "Midterms", start + 7 * week, start + 7 * week + timedelta(days=4)),
        (PeriodKind.FINALS, "Final exams", end - timedelta(days=6), end),
        (PeriodKind.MOVE_OUT, "Residence move-out", end, end + timedelta(days=1)),
        *_holidays(season, start, end),
    ]
    if season == "fall":
        periods.append((PeriodKind.GRADUATION, "Winter commencement", end, end))
    elif season == "spring":
        spring_break = start + 9 * week
        periods += [
            (PeriodKind.BREAK, "Spring break", spring_break, spring_break + timedelta(days=6)),
            (PeriodKind.GRADUATION, "Commencement", end + timedelta(days=1),
             end + timedelta(days=1)),
        ]  # fmt: skip
    return sorted(periods, key=lambda period: period[2])


def seed_terms(today: date) -> int:
    """The terms around today with their calendar periods; returns how many terms."""
    terms = term_dates(today)
    for season, name, start, end in terms:
        term = Term(name=name, starts_on=start, ends_on=end)
        db.session.add(term)
        for kind, label, period_start, period_end in periods_for(season, start, end):
            db.session.add(
                CalendarPeriod(
                    term=term, kind=kind, name=label, starts_on=period_start, ends_on=period_end
                )
            )
    db.session.flush()
    return len(terms)
