"""Engagement: active members by their touches (attendance, completed advising, check-ins)
in the last 30 days, and the members whose touches fell away.

`touches_between` reads the source tables directly, for figures over one term that are not on the
dashboard's hot path (institutional outcomes).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, literal, select, union_all

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.dashboard.ranges import DateRange, clipped, held_in, in_range, weeks_of
from crp_portal.dashboard.rollup_models import MemberWeek
from crp_portal.events.models import Attendance, Event
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.recovery.models import CheckIn
from crp_portal.timeutil import local_midnight, week_start

ENGAGEMENT_DAYS = 30
FALLING_RECENT_WEEKS = 3
FALLING_EARLIER_WEEKS = 6
FALLING_LIST_MAX = 50
TIERS = ("0", "1–2", "3+")


def touches_between(since: date, until: date, recent_from: date | None = None):
    """One row per touch between two local dates (both included): attendance at a held
    event, a completed advising session, a check-in for that week. `recent` is 1 for a
    touch on or after `recent_from`."""
    window = DateRange(since, until)
    recent_at = local_midnight(recent_from) if recent_from else None

    def flag(column, boundary):
        if boundary is None:
            return literal(0)
        return case((column >= boundary, 1), else_=0)

    attended = (
        select(
            Attendance.user_id.label("user_id"), flag(Event.starts_at, recent_at).label("recent")
        )
        .join(Event, Event.id == Attendance.event_id)
        .where(held_in(window))
    )
    advised = select(
        Appointment.student_id.label("user_id"),
        flag(Appointment.starts_at, recent_at).label("recent"),
    ).where(
        Appointment.status == AppointmentStatus.COMPLETED, in_range(Appointment.starts_at, window)
    )
    checked_in = select(
        CheckIn.student_id.label("user_id"), flag(CheckIn.week_start, recent_from).label("recent")
    ).where(CheckIn.week_start >= since, CheckIn.week_start <= until)
    return union_all(attended, advised, checked_in).subquery()


@dataclass(frozen=True)
class TierRow:
    tier: str
    members: int


@dataclass(frozen=True)
class Engagement:
    since: date
    until: date
    tiers: list[TierRow]


def engagement(date_range: DateRange) -> Engagement:
    """Active members by touches in the 30 days ending on the range's last day:
    none, 1–2, 3 or more."""
    window = DateRange(date_range.end - timedelta(days=ENGAGEMENT_DAYS - 1), date_range.end)
    per_member = (
        select(MemberWeek.user_id, func.sum(clipped("touches", window)).label("n"))
        .where(weeks_of(window))
        .group_by(MemberWeek.user_id)
        .subquery()
    )
    n = func.coalesce(per_member.c.n, 0)
    tier = case((n == 0, 0), (n <= 2, 1), else_=2).label("tier")
    rows = db.session.execute(
        select(tier, func.count())
        .select_from(MemberProfile)
        .outerjoin(per_member, per_member.c.user_id == MemberProfile.user_id)
        .where(MemberProfile.status == MemberStatus.ACTIVE)
        .group_by(tier)
    ).all()
    counts = {int(index): count for index, count in rows}
    return Engagement(
        window.start,
        window.end,
        [TierRow(label, counts.get(i, 0)) for i, label in enumerate(TIERS)],
    )


@dataclass(frozen=True)
class FallingMember:
    user_id: int
    name: str
    earlier_touches: int


@dataclass(frozen=True)
class Falling:
    recent_from: date
    earlier_from: date
    until: date
    members: list[FallingMember]
    total: int

    @property
    def earlier_until(self) -> date:
        return self.recent_from - timedelta(days=1)

    @property
    def more(self) -> int:
        return self.total - len(self.members)


def falling(date_range: DateRange, limit: int = FALLING_LIST_MAX) -> Falling:
    """Active members with touches in the 6 weeks before the last 3 weeks of the range,
    and none in those last 3 weeks; by name, at most `limit` (plus the total)."""
    recent_from = date_range.end - timedelta(weeks=FALLING_RECENT_WEEKS) + timedelta(days=1)
    earlier_from = recent_from - timedelta(weeks=FALLING_EARLIER_WEEKS)
    earlier = DateRange(earlier_from, recent_from - timedelta(days=1))
    recent = DateRange(recent_from, date_range.end)
    in_earlier = case(
        (MemberWeek.week_start <= week_start(earlier.end), clipped("touches", earlier)), else_=0
    )
    in_recent = case(
        (MemberWeek.week_start >= week_start(recent.start), clipped("touches", recent)), else_=0
    )
    per_member = (
        select(MemberWeek.user_id, func.sum(in_earlier).label("earlier"))
        .where(weeks_of(DateRange(earlier_from, date_range.end)))
        .group_by(MemberWeek.user_id)
        .having(func.sum(in_earlier) > 0, func.sum(in_recent) == 0)
        .subquery()
    )
    rows = db.session.execute(
        select(User.id, User.name, per_member.c.earlier, func.count().over())
        .join(per_member, per_member.c.user_id == User.id)
        .join(MemberProfile, MemberProfile.user_id == User.id)
        .where(MemberProfile.status == MemberStatus.ACTIVE, User.erased_at.is_(None))
        .order_by(User.name, User.id)
        .limit(limit)
    ).all()
    return Falling(
        recent_from,
        earlier_from,
        date_range.end,
        [FallingMember(user_id, name, earlier) for user_id, name, earlier, _ in rows],
        rows[0][3] if rows else 0,
    )
