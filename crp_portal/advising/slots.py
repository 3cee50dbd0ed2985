"""Free slots: an advisor's weekly windows, minus days off, notice, horizon, bookings and caps.

Computed in the program's local wall-clock time and converted to UTC one slot at a
time, so a 9:00 window is 9:00 on both sides of a daylight-saving change.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crp_portal.advising.models import MODES, AdvisorSettings, AvailabilityWindow
from crp_portal.timeutil import NonexistentLocalTime, local_to_utc, program_zone


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    mode: str
    place: str

    @property
    def mode_label(self) -> str:
        return MODES[self.mode]

    @property
    def key(self) -> str:
        return self.starts_at.strftime("%Y%m%dT%H%MZ")


@dataclass(frozen=True)
class Busy:
    """An existing active booking: its UTC span, and whether it counts for the advisor."""

    starts_at: datetime
    ends_at: datetime


def free_slots(
    settings: AdvisorSettings,
    windows: list[AvailabilityWindow],
    days_off: set[date],
    advisor_busy: list[Busy],
    student_busy: list[Busy],
    now: datetime,
) -> list[Slot]:
    """Every bookable slot from now + minimum notice up to the horizon, soonest first."""
    zone = program_zone()
    earliest = now + timedelta(hours=settings.min_notice_hours)
    latest = now + timedelta(days=settings.horizon_days)
    length = timedelta(minutes=settings.slot_minutes)
    step = length + timedelta(minutes=settings.buffer_minutes)
    buffer = timedelta(minutes=settings.buffer_minutes)
    per_day = Counter(busy.starts_at.astimezone(zone).date() for busy in advisor_busy)
    slots: list[Slot] = []
    first_day = now.astimezone(zone).date()
    for offset in range(settings.horizon_days + 1):
        day = first_day + timedelta(days=offset)
        if day in days_off:
            continue
        if settings.max_per_day is not None and per_day[day] >= settings.max_per_day:
            continue
        for window in sorted(
            (w for w in windows if w.weekday == day.weekday()), key=lambda w: w.start_time
        ):
            start = datetime.combine(day, window.start_time)
            window_end = datetime.combine(day, window.end_time)
            while start + length <= window_end:
                wall, start = start, start + step
                try:
                    starts_at = local_to_utc(wall)
                except NonexistentLocalTime:
                    continue  # the spring change skips it: 2:30 that night is not a time
                ends_at = starts_at + length
                if not earliest <= starts_at <= latest:
                    continue
                if _clashes(starts_at - buffer, ends_at + buffer, advisor_busy):
                    continue
                if _clashes(starts_at, ends_at, student_busy):
                    continue
                slots.append(Slot(starts_at, ends_at, window.mode, window.place))
    return sorted(slots, key=lambda slot: slot.starts_at)


def _clashes(start: datetime, end: datetime, busy: list[Busy]) -> bool:
    return any(start < other.ends_at and other.starts_at < end for other in busy)
