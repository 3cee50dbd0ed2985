"""Keeping the dashboard's rollups (see `rollup_models`) in step with the data.

Every write that adds, changes or removes an RSVP, an attendance, an event's time, kind,
status or headcount, an appointment's time or status, or a check-in, whether flushed or
run as an UPDATE/DELETE/INSERT statement, writes marks naming what to recompute (see
`marking`, registered by create_app), in the same transaction: a write costs one INSERT
more, and a rolled-back write leaves no mark. `refresh()` (run by the dashboard before it reads, and by
`flask dashboard refresh`) claims the marks and recomputes just those rows from the
source tables, so the rollups are exact, not estimates.

Refreshes are serialized (PostgreSQL: a transaction-level advisory lock; SQLite: the
write lock), and each claims its marks with DELETE … RETURNING, so two dashboards opening
at once neither lose a mark nor write an older count over a newer one.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from itertools import chain, islice
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.dashboard.rollup_models import (
    DayTally,
    EventTally,
    MarkScope,
    MemberWeek,
    RollupMark,
    RollupState,
)
from crp_portal.events.models import Attendance, Event, EventStatus, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.recovery.models import CheckIn
from crp_portal.timeutil import local_midnight, to_local, week_start

REFRESH_LOCK_KEY = 0x43525044  # "CRPD": the dashboard's advisory lock on PostgreSQL
CHUNK = 500
EVENT_METRICS = ("events:", "attendance:", "headcount:", "going", "going_named", "going_attended")
APPOINTMENT_PREFIX = "appointments:"


def local_day(instant: datetime) -> date:
    return to_local(instant).date()


# --- Marking (what marks, and when: see `marking`) -------------------------------------


def mark(marks: Iterable[tuple], session: Session | None = None) -> None:
    """Record (scope, event_id, user_id, day) marks. `marking` calls this for every write
    through the session; call it yourself only for SQL run on `session.connection()`."""
    rows = [{"scope": s, "event_id": e, "user_id": u, "day": d} for s, e, u, d in marks]
    if rows:
        (session or db.session).connection().execute(insert(RollupMark), rows)


def mark_attendance(event_id: int, user_ids: Iterable[int]) -> None:
    mark([(MarkScope.ATTENDEE, event_id, user_id, None) for user_id in user_ids])


def mark_everything() -> None:
    """Ask the next refresh to rebuild every rollup (after bulk loads or repairs)."""
    mark([(MarkScope.REBUILD, None, None, None)])


# --- Refreshing ------------------------------------------------------------------------


# Built once: every dashboard request asks, and building the statement cost more than
# running it.
STATE = select(
    select(RollupState.generation).where(RollupState.id == 1).scalar_subquery(),
    exists().where(RollupMark.id.is_not(None)),
)


def state() -> tuple[int, bool]:
    """The rollups' generation, and whether marks are waiting, in one statement."""
    row = db.session.execute(STATE).one()
    return row[0] or 0, bool(row[1])


def pending() -> bool:
    return state()[1]


def _next_generation() -> None:
    updated = cast(
        CursorResult[Any],
        db.session.execute(
            update(RollupState)
            .where(RollupState.id == 1)
            .values(generation=RollupState.generation + 1)
        ),
    ).rowcount
    if not updated:
        db.session.execute(insert(RollupState).values(id=1, generation=1))


def refresh() -> int:
    """Recompute what the marks name; returns how many marks were taken."""
    if not pending():
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK_KEY})
    marks = db.session.execute(
        delete(RollupMark).returning(
            RollupMark.scope, RollupMark.event_id, RollupMark.user_id, RollupMark.day
        )
    ).all()
    _next_generation()
    # Which of event, user and day a mark names depends on its scope.
    by_scope: defaultdict[str, set[tuple[Any, Any, Any]]] = defaultdict(set)
    for scope, event_id, user_id, day in marks:
        by_scope[scope].add((event_id, user_id, day))
    if by_scope[MarkScope.REBUILD]:
        rebuild()
        return len(marks)
    attendees = {(event_id, user_id) for event_id, user_id, _ in by_scope[MarkScope.ATTENDEE]}
    event_ids = {event_id for event_id, _, _ in by_scope[MarkScope.EVENT]} | {
        e for e, _ in attendees
    }
    member_weeks = {
        (user_id, week_start(day)) for _, user_id, day in by_scope[MarkScope.MEMBER_WEEK]
    }
    appointment_days = {day for _, _, day in by_scope[MarkScope.APPOINTMENTS]}

    event_days, attendee_weeks = _refresh_event_tallies(event_ids, attendees)
    _refresh_member_weeks(member_weeks | attendee_weeks)
    _refresh_event_days(event_days)
    _refresh_appointment_days(appointment_days)
    db.session.flush()
    return len(marks)


def _among(column, values: list | None):
    """`column IN values`, or no condition at all when values is None (a rebuild)."""
    return column.in_(values) if values is not None else true()


def _chunks(values: Iterable, size: int = CHUNK):
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _refresh_event_tallies(
    event_ids: set[int], attendees: set[tuple[int, int]]
) -> tuple[set[date], set[tuple[int, date]]]:
    """Recompute the events' tallies. Returns the days whose sums change (old and new day
    of a moved event) and the member-weeks to recompute: the marked attendees', and every
    attendee's, in the old week and the new, when the event moved or was cancelled."""
    days: set[date] = set()
    weeks: set[tuple[int, date]] = set()
    for ids in _chunks(sorted(event_ids)):
        old = {
            event_id: (day, held)
            for event_id, day, held in db.session.execute(
                select(EventTally.event_id, EventTally.day, EventTally.held).where(
                    EventTally.event_id.in_(ids)
                )
            )
        }
        counts = _event_counts(ids)
        rows = [
            _tally_row(row, counts)
            for row in db.session.execute(select(*_TALLIED).where(Event.id.in_(ids)))
        ]
        db.session.execute(delete(EventTally).where(EventTally.event_id.in_(ids)))
        if rows:
            db.session.execute(insert(EventTally), rows)
        new = {row["event_id"]: (row["day"], row["held"]) for row in rows}
        days.update(day for day, _ in chain(old.values(), new.values()))
        for event_id, user_id in attendees:
            for day, _ in {
                entry for entry in (old.get(event_id), new.get(event_id)) if entry is not None
            }:
                weeks.add((user_id, week_start(day)))
        moved_or_cancelled = {e for e in ids if e in old and e in new and old[e] != new[e]}
        if moved_or_cancelled:
            for event_id, user_id in db.session.execute(
                select(Attendance.event_id, Attendance.user_id).where(
                    Attendance.event_id.in_(moved_or_cancelled)
                )
            ):
                for day, _ in (old[event_id], new[event_id]):
                    weeks.add((user_id, week_start(day)))
    return days, weeks


_TALLIED = (
    Event.id,
    Event.starts_at,
    Event.kind,
    Event.status,
    Event.headcount_only,
    Event.headcount,
)


def _tally_row(event_row, counts: dict) -> dict:
    """A meeting that keeps no names counts its headcount (none recorded yet: 0); a
    headcount left from before an event started taking names is not counted, as on the
    event's own attendance page."""
    event_id, starts_at, kind, status, headcount_only, headcount = event_row
    going, attended, going_attended = counts.get(event_id, (0, 0, 0))
    return {
        "event_id": event_id,
        "day": local_day(starts_at),
        "kind": kind,
        "held": status == EventStatus.SCHEDULED,
        "going": going,
        "attended": attended,
        "going_attended": going_attended,
        "headcount": (headcount or 0) if headcount_only else None,
    }


def _event_counts(ids: list[int] | None) -> dict[int, tuple[int, int, int]]:
    """event id → (going RSVPs, attendance, going RSVPs whose person came); all events when
    `ids` is None."""

    going = dict(
        db.session.execute(
            select(Rsvp.event_id, func.count())
            .where(_among(Rsvp.event_id, ids), Rsvp.status == RsvpStatus.GOING)
            .group_by(Rsvp.event_id)
        ).all()
    )
    attended = dict(
        db.session.execute(
            select(Attendance.event_id, func.count())
            .where(_among(Attendance.event_id, ids))
            .group_by(Attendance.event_id)
        ).all()
    )
    both = dict(
        db.session.execute(
            select(Rsvp.event_id, func.count())
            .join(
                Attendance,
                and_(Attendance.event_id == Rsvp.event_id, Attendance.user_id == Rsvp.user_id),
            )
            .where(_among(Rsvp.event_id, ids), Rsvp.status == RsvpStatus.GOING)
            .group_by(Rsvp.event_id)
        ).all()
    )
    return {
        event_id: (going.get(event_id, 0), attended.get(event_id, 0), both.get(event_id, 0))
        for event_id in going.keys() | attended.keys()
    }


def _refresh_event_days(days: set[date]) -> None:
    for chunk in _chunks(sorted(days)):
        db.session.execute(
            delete(DayTally).where(
                DayTally.day.in_(chunk), ~DayTally.metric.startswith(APPOINTMENT_PREFIX)
            )
        )
        sums = db.session.execute(
            select(
                EventTally.day,
                EventTally.kind,
                func.count(),
                func.sum(EventTally.attended),
                func.coalesce(func.sum(EventTally.headcount), 0),
                func.sum(EventTally.going),
                func.sum(case((EventTally.headcount.is_(None), EventTally.going), else_=0)),
                func.sum(EventTally.going_attended),
            )
            .where(EventTally.day.in_(chunk), EventTally.held)
            .group_by(EventTally.day, EventTally.kind)
        ).all()
        totals: dict[tuple[date, str], int] = defaultdict(int)
        for day, kind, events, attended, headcount, going, going_named, going_attended in sums:
            totals[day, f"events:{kind}"] += events
            totals[day, f"attendance:{kind}"] += attended
            totals[day, f"headcount:{kind}"] += headcount
            totals[day, "going"] += going
            totals[day, "going_named"] += going_named
            totals[day, "going_attended"] += going_attended
        _insert_day_totals(totals)


def _refresh_appointment_days(days: set[date]) -> None:
    for chunk in _chunks(sorted(days)):
        db.session.execute(
            delete(DayTally).where(
                DayTally.day.in_(chunk), DayTally.metric.startswith(APPOINTMENT_PREFIX)
            )
        )
        wanted = set(chunk)
        rows = db.session.execute(
            select(Appointment.starts_at, Appointment.status).where(
                Appointment.starts_at >= local_midnight(chunk[0]),
                Appointment.starts_at < local_midnight(chunk[-1] + timedelta(days=1)),
            )
        )
        _insert_day_totals(_appointment_totals(rows, wanted))


def _appointment_totals(rows, wanted: set[date] | None = None) -> dict[tuple[date, str], int]:
    totals: dict[tuple[date, str], int] = defaultdict(int)
    for starts_at, status in rows:
        day = local_day(starts_at)
        if wanted is None or day in wanted:
            totals[day, f"{APPOINTMENT_PREFIX}{status}"] += 1
    return totals


def _insert_day_totals(totals: dict[tuple[date, str], int]) -> None:
    rows = [{"day": day, "metric": metric, "value": n} for (day, metric), n in totals.items() if n]
    for chunk in _chunks(rows, 5000):
        db.session.execute(insert(DayTally), chunk)


class _WeekCounts:
    """One member-week being counted."""

    __slots__ = ("attended", "touches", "checked_in")

    def __init__(self):
        self.attended = [0] * 7
        self.touches = [0] * 7
        self.checked_in = 0

    def row(self, user_id: int, week_start: date) -> dict:
        row = {"user_id": user_id, "week_start": week_start, "checked_in": self.checked_in}
        row.update({f"attended_{day}": n for day, n in enumerate(self.attended)})
        row.update({f"touches_{day}": n for day, n in enumerate(self.touches)})
        return row


def _refresh_member_weeks(keys: set[tuple[int, date]]) -> None:
    by_week: dict[date, set[int]] = defaultdict(set)
    for user_id, monday in keys:
        by_week[monday].add(user_id)
    for monday, user_ids in sorted(by_week.items()):
        for users in _chunks(sorted(user_ids)):
            db.session.execute(
                delete(MemberWeek).where(
                    MemberWeek.week_start == monday, MemberWeek.user_id.in_(users)
                )
            )
            counts = _count_weeks(monday, monday + timedelta(days=7), users)
            _insert_member_weeks(counts)


def _count_weeks(first: date | None, after: date | None, users: list[int] | None) -> dict:
    """(user, week) → counts for the weeks from Monday `first` up to Monday `after` and
    these users; everything when they are None."""
    counts: dict[tuple[int, date], _WeekCounts] = defaultdict(_WeekCounts)

    def between(column, low, high):
        return and_(column >= low, column < high) if first is not None else true()

    start, end = (
        (local_midnight(first), local_midnight(cast(date, after))) if first is not None else (0, 0)
    )

    attended = db.session.execute(
        select(Attendance.user_id, Event.starts_at)
        .join(Event, Event.id == Attendance.event_id)
        .where(
            Event.status == EventStatus.SCHEDULED,
            between(Event.starts_at, start, end),
            _among(Attendance.user_id, users),
        )
    )
    for user_id, starts_at in attended:
        day = local_day(starts_at)
        week = counts[user_id, week_start(day)]
        week.attended[day.weekday()] += 1
        week.touches[day.weekday()] += 1
    advised = db.session.execute(
        select(Appointment.student_id, Appointment.starts_at).where(
            Appointment.status == AppointmentStatus.COMPLETED,
            between(Appointment.starts_at, start, end),
            _among(Appointment.student_id, users),
        )
    )
    for user_id, starts_at in advised:
        day = local_day(starts_at)
        counts[user_id, week_start(day)].touches[day.weekday()] += 1
    checked_in = db.session.execute(
        select(CheckIn.student_id, CheckIn.week_start).where(
            between(CheckIn.week_start, first, after), _among(CheckIn.student_id, users)
        )
    )
    for user_id, checked_week in checked_in:
        week = counts[user_id, week_start(checked_week)]
        week.checked_in += 1
        week.touches[checked_week.weekday()] += 1
    return counts


def _insert_member_weeks(counts: dict) -> None:
    rows = (week.row(user_id, week_start) for (user_id, week_start), week in counts.items())
    for chunk in _chunks(rows, 2000):
        db.session.execute(insert(MemberWeek), chunk)


def rebuild() -> None:
    """Recompute every rollup from the source tables (after a bulk load or a migration)."""
    db.session.execute(delete(EventTally))
    db.session.execute(delete(DayTally))
    db.session.execute(delete(MemberWeek))
    counts = _event_counts(None)
    tallies = [_tally_row(row, counts) for row in db.session.execute(select(*_TALLIED))]
    for chunk in _chunks(tallies, 5000):
        db.session.execute(insert(EventTally), chunk)
    _refresh_event_days({row["day"] for row in tallies})
    _insert_day_totals(
        _appointment_totals(db.session.execute(select(Appointment.starts_at, Appointment.status)))
    )
    _insert_member_weeks(_count_weeks(None, None, None))
    db.session.flush()
