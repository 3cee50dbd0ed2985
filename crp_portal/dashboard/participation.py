"""Who the members are and how they take part: members by status, events by kind,
participation at events, and the weekly trend."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from crp_portal.dashboard.ranges import (
    HEADCOUNT,
    DateRange,
    DayTotals,
    active_member_join,
    clipped,
    day_totals,
    weeks_of,
)
from crp_portal.dashboard.rollup_models import MemberWeek
from crp_portal.events.models import KINDS
from crp_portal.extensions import db
from crp_portal.members.models import STATUS_LABELS, STATUSES, MemberProfile, MemberStatus
from crp_portal.timeutil import week_start


@dataclass(frozen=True)
class StatusRow:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class Members:
    by_status: list[StatusRow]
    joined_in_range: int

    @property
    def total(self) -> int:
        return sum(row.count for row in self.by_status)

    def count(self, status: str) -> int:
        return next(row.count for row in self.by_status if row.status == status)


def members(date_range: DateRange) -> Members:
    """Members by their current status, and how many joined (joined_on) in the range."""
    rows = db.session.execute(
        select(
            MemberProfile.status,
            func.count(),
            func.count().filter(
                MemberProfile.joined_on >= date_range.start,
                MemberProfile.joined_on <= date_range.end,
            ),
        ).group_by(MemberProfile.status)
    ).all()
    counts = {status: (count, joined) for status, count, joined in rows}
    return Members(
        by_status=[
            StatusRow(status, STATUS_LABELS[status], counts.get(status, (0, 0))[0])
            for status in STATUSES
        ],
        joined_in_range=sum(joined for _, joined in counts.values()),
    )


@dataclass(frozen=True)
class KindRow:
    """Events held (not people: never suppressed) and the people at them: recorded by
    name, and counted at meetings that keep no names."""

    kind: str
    label: str
    events: int
    named_attendance: int
    headcount: int

    @property
    def attendance(self) -> int:
        return self.named_attendance + self.headcount


def events_by_kind(totals: DayTotals) -> list[KindRow]:
    """Scheduled events held in the range, by kind, with their attendance by name and
    headcount; every kind is listed, zero or not."""
    return [
        KindRow(
            kind,
            label,
            totals.get(f"events:{kind}", 0),
            totals.get(f"attendance:{kind}", 0),
            totals.get(f"{HEADCOUNT}{kind}", 0),
        )
        for kind, label in KINDS.items()
    ]


@dataclass(frozen=True)
class Participation:
    """People at events: `named_attendance` and `headcount` apart, `attendance` both.
    Unique attendees and the per-member figures can only count people recorded by name."""

    going_rsvps: int
    going_to_named_events: int
    going_and_attended: int
    named_attendance: int
    headcount: int
    unique_attendees: int
    active_members: int
    attendance_by_active_members: int

    @property
    def attendance(self) -> int:
        return self.named_attendance + self.headcount

    @property
    def rsvp_attendance_rate(self) -> float | None:
        """The share of "going" RSVPs whose person was recorded at the event, over events
        that take names: at a headcount-only meeting nobody can be recorded."""
        if not self.going_to_named_events:
            return None
        return self.going_and_attended / self.going_to_named_events

    @property
    def events_per_active_member(self) -> float | None:
        if not self.active_members:
            return None
        return self.attendance_by_active_members / self.active_members


def participation(date_range: DateRange, totals: DayTotals) -> Participation:
    """RSVPs and attendance at events held in the range: sums from the day totals,
    distinct people from the member-weeks, in one statement."""
    attended = clipped("attended", date_range)
    row = db.session.execute(
        select(
            func.count(func.distinct(case((attended > 0, MemberWeek.user_id)))),
            func.coalesce(func.sum(case((MemberProfile.user_id.is_not(None), attended))), 0),
            select(func.count())
            .select_from(MemberProfile)
            .where(MemberProfile.status == MemberStatus.ACTIVE)
            .scalar_subquery(),
        )
        .select_from(MemberWeek)
        .outerjoin(MemberProfile, active_member_join())
        .where(weeks_of(date_range))
    ).one()
    unique, by_active, active = (int(value or 0) for value in row)
    return Participation(
        going_rsvps=totals.get("going", 0),
        going_to_named_events=totals.get("going_named", 0),
        going_and_attended=totals.get("going_attended", 0),
        named_attendance=totals.starting_with("attendance:"),
        headcount=totals.starting_with(HEADCOUNT),
        unique_attendees=unique,
        active_members=active,
        attendance_by_active_members=by_active,
    )


@dataclass(frozen=True)
class WeekRow:
    start: date
    end: date
    named_attendance: int
    headcount: int
    unique_attendees: int

    @property
    def attendance(self) -> int:
        return self.named_attendance + self.headcount


def weekly_trend(date_range: DateRange, totals: DayTotals | None = None) -> list[WeekRow]:
    """Attendance (by name and by headcount) and unique attendees (by name) per local
    week, clipped to the range, in one statement over member-weeks; the headcounts come
    from the range's day totals (read here unless given)."""
    headcounts = (totals or day_totals(date_range)).headcount_by_week
    attended = clipped("attended", date_range)
    rows = db.session.execute(
        select(MemberWeek.week_start, func.sum(attended), func.count().filter(attended > 0))
        .where(weeks_of(date_range))
        .group_by(MemberWeek.week_start)
    ).all()
    counts = {monday: (int(total or 0), unique) for monday, total, unique in rows}
    weeks = []
    for week in date_range.weeks():
        named, unique = counts.get(week_start(week.start), (0, 0))
        weeks.append(
            WeekRow(week.start, week.end, named, headcounts.get(week_start(week.start), 0), unique)
        )
    return weeks
