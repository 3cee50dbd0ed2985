"""Rollups behind the dashboard, so its cost follows the chosen dates, not the history.

- `EventTally`: per event, its RSVPs, its attendance by name and, for a meeting that
  keeps no names, its headcount (what `DayTally` sums).
- `DayTally`: per local day, named counts (events, attendance by name and headcounts by
  kind, "going" RSVPs, those to events that take names, RSVPs that came, appointments by
  status). A range reads one row per day and figure, however many events or RSVPs the
  days had.
- `MemberWeek`: per member and local Monday-based week, attendance and touches on each
  weekday, and whether they checked in. Distinct counts (unique attendees, engagement
  tiers, the falling list) read at most one row per member and week, and the weekday
  columns keep a range's first and last week exact.
- `RollupMark`: what changed since the last refresh. Writes add marks in their own
  transaction (see `rollups.py`); the dashboard refreshes the marked rows before reading.
- `RollupState`: the generation of the rollups, for remembering computed figures.
"""

from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from crp_portal.extensions import Model


class MarkScope(StrEnum):
    """What a `RollupMark` asks to recompute (see its docstring)."""

    EVENT = "event"
    ATTENDEE = "attendee"
    MEMBER_WEEK = "member_week"
    APPOINTMENTS = "appointments"
    FIGURES = "figures"
    REBUILD = "rebuild"


class RollupMark(Model):
    """Something to recompute, by scope: an event's tally ("event"), and an attendee's
    week too ("attendee"); a member's week (`user_id` and a `day` in it); a day's
    appointments; "figures": a change to what the dashboard reads directly (statuses,
    names, housing, follow-ups), which only makes remembered figures stale; "rebuild":
    everything."""

    __tablename__ = "dashboard_rollup_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(12))
    event_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date | None] = mapped_column(Date)


class RollupState(Model):
    """One row: `generation` grows with every refresh that applied marks, so figures
    computed from an older generation are known to be stale (see queries.figures)."""

    __tablename__ = "dashboard_rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


class EventTally(Model):
    """`headcount` is the number staff recorded at a headcount-only meeting (0 until they
    do); None for an event that takes attendance by name."""

    __tablename__ = "dashboard_event_tallies"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    held: Mapped[bool] = mapped_column(Boolean)
    going: Mapped[int] = mapped_column(Integer)
    attended: Mapped[int] = mapped_column(Integer)
    going_attended: Mapped[int] = mapped_column(Integer)
    headcount: Mapped[int | None] = mapped_column(Integer)


class DayTally(Model):
    __tablename__ = "dashboard_day_tallies"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


def _day_count():
    return mapped_column(SmallInteger, default=0, server_default="0")


class MemberWeek(Model):
    """Attendance and touches (attendance, completed advising, the week's check-in, which
    counts on Monday) on each weekday, Monday = 0.

    Read by ranges of weeks, so the key starts with the week; no index on the user alone,
    which would tempt the planner to walk every member's history instead.
    """

    __tablename__ = "dashboard_member_weeks"

    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    checked_in: Mapped[int] = _day_count()
    attended_0: Mapped[int] = _day_count()
    attended_1: Mapped[int] = _day_count()
    attended_2: Mapped[int] = _day_count()
    attended_3: Mapped[int] = _day_count()
    attended_4: Mapped[int] = _day_count()
    attended_5: Mapped[int] = _day_count()
    attended_6: Mapped[int] = _day_count()
    touches_0: Mapped[int] = _day_count()
    touches_1: Mapped[int] = _day_count()
    touches_2: Mapped[int] = _day_count()
    touches_3: Mapped[int] = _day_count()
    touches_4: Mapped[int] = _day_count()
    touches_5: Mapped[int] = _day_count()
    touches_6: Mapped[int] = _day_count()
