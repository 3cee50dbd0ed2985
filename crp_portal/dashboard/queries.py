"""The dashboard's figures: plain functions over the session, one dataclass each.

Every function issues a fixed number of SQL statements (GROUP BY and scalar
subqueries), whatever the size of the program's history; what they read is bounded by
the chosen date range (and the 30/63 days before its end for engagement), so the cost
follows the range, not the whole history. Ranges are local dates, both ends included;
instants are compared in UTC from the program's local midnights.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal, select, union_all

from crp_portal.advising.models import BOOKED, COMPLETED, NO_SHOW, Appointment
from crp_portal.advising.models import CANCELLED as APPOINTMENT_CANCELLED
from crp_portal.advising.models import STATUS_LABELS as APPOINTMENT_LABELS
from crp_portal.auth.models import User
from crp_portal.events.models import GOING, KINDS, SCHEDULED, Attendance, Event, Rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import Bed, BedAssignment, House, Room
from crp_portal.members.models import ACTIVE, STATUS_LABELS, STATUSES, MemberProfile
from crp_portal.members.recovery_models import OPEN, CheckIn, FollowUp
from crp_portal.terms.models import Term
from crp_portal.timeutil import local_midnight, local_today

MAX_RANGE_DAYS = 3 * 366
ENGAGEMENT_DAYS = 30
FALLING_RECENT_WEEKS = 3
FALLING_EARLIER_WEEKS = 6
FALLING_LIST_MAX = 50
TIERS = ("0", "1–2", "3+")


@dataclass(frozen=True)
class DateRange:
    """Local dates, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def utc_start(self) -> datetime:
        return local_midnight(self.start)

    @property
    def utc_end(self) -> datetime:
        """The first instant after the range (midnight after its last day)."""
        return local_midnight(self.end + timedelta(days=1))

    def weeks(self) -> list["Week"]:
        """Monday-based weeks touching the range, each clipped to it."""
        monday = self.start - timedelta(days=self.start.weekday())
        weeks = []
        while monday <= self.end:
            weeks.append(Week(max(monday, self.start), min(monday + timedelta(days=6), self.end)))
            monday += timedelta(days=7)
        return weeks


@dataclass(frozen=True)
class Week:
    start: date
    end: date


def _in_range(column, date_range: DateRange):
    return and_(column >= date_range.utc_start, column < date_range.utc_end)


def _held_in(date_range: DateRange):
    return and_(Event.status == SCHEDULED, _in_range(Event.starts_at, date_range))


# --- Members -------------------------------------------------------------------------


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


# --- Events and participation --------------------------------------------------------


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    events: int
    attendance: int


def events_by_kind(date_range: DateRange) -> list[KindRow]:
    """Scheduled events starting in the range, by kind, with their attendance; every kind
    is listed, zero or not."""
    attended = (
        select(Attendance.event_id, func.count().label("n"))
        .join(Event, Event.id == Attendance.event_id)
        .where(_held_in(date_range))
        .group_by(Attendance.event_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Event.kind, func.count(Event.id), func.coalesce(func.sum(attended.c.n), 0))
        .outerjoin(attended, attended.c.event_id == Event.id)
        .where(_held_in(date_range))
        .group_by(Event.kind)
    ).all()
    counts = {kind: (events, attendance) for kind, events, attendance in rows}
    return [
        KindRow(kind, label, *(int(n) for n in counts.get(kind, (0, 0))))
        for kind, label in KINDS.items()
    ]


@dataclass(frozen=True)
class Participation:
    going_rsvps: int
    going_and_attended: int
    attendance: int
    unique_attendees: int
    active_members: int
    attendance_by_active_members: int

    @property
    def rsvp_attendance_rate(self) -> float | None:
        """The share of "going" RSVPs whose person was recorded at the event."""
        return self.going_and_attended / self.going_rsvps if self.going_rsvps else None

    @property
    def events_per_active_member(self) -> float | None:
        if not self.active_members:
            return None
        return self.attendance_by_active_members / self.active_members


def participation(date_range: DateRange) -> Participation:
    """RSVPs and attendance at events held in the range, in one statement."""
    held = _held_in(date_range)
    attended = exists().where(
        Attendance.event_id == Rsvp.event_id, Attendance.user_id == Rsvp.user_id
    )
    active_profile = and_(
        MemberProfile.user_id == Attendance.user_id, MemberProfile.status == ACTIVE
    )
    row = db.session.execute(
        select(
            select(func.count())
            .select_from(Rsvp)
            .join(Event, Event.id == Rsvp.event_id)
            .where(held, Rsvp.status == GOING)
            .scalar_subquery(),
            select(func.count())
            .select_from(Rsvp)
            .join(Event, Event.id == Rsvp.event_id)
            .where(held, Rsvp.status == GOING, attended)
            .scalar_subquery(),
            select(func.count())
            .select_from(Attendance)
            .join(Event, Event.id == Attendance.event_id)
            .where(held)
            .scalar_subquery(),
            select(func.count(func.distinct(Attendance.user_id)))
            .join(Event, Event.id == Attendance.event_id)
            .where(held)
            .scalar_subquery(),
            select(func.count())
            .select_from(MemberProfile)
            .where(MemberProfile.status == ACTIVE)
            .scalar_subquery(),
            select(func.count())
            .select_from(Attendance)
            .join(Event, Event.id == Attendance.event_id)
            .join(MemberProfile, active_profile)
            .where(held)
            .scalar_subquery(),
        )
    ).one()
    return Participation(*(int(value or 0) for value in row))


@dataclass(frozen=True)
class WeekRow:
    start: date
    end: date
    attendance: int
    unique_attendees: int


def _week_index(column, weeks: Sequence[Week]):
    """A CASE giving the index of the week an instant falls in (weeks are contiguous)."""
    whens = [
        (column < local_midnight(week.end + timedelta(days=1)), i) for i, week in enumerate(weeks)
    ]
    return case(*whens, else_=len(weeks))


def weekly_trend(date_range: DateRange) -> list[WeekRow]:
    """Attendance and unique attendees per local week, in one grouped query: the week
    bucket is a CASE over the weeks' local-midnight boundaries, the same on SQLite and
    PostgreSQL."""
    weeks = date_range.weeks()
    bucket = _week_index(Event.starts_at, weeks).label("week")
    rows = db.session.execute(
        select(bucket, func.count(), func.count(func.distinct(Attendance.user_id)))
        .select_from(Attendance)
        .join(Event, Event.id == Attendance.event_id)
        .where(_held_in(date_range))
        .group_by(bucket)
    ).all()
    counts = {int(index): (total, unique) for index, total, unique in rows}
    return [WeekRow(week.start, week.end, *counts.get(i, (0, 0))) for i, week in enumerate(weeks)]


# --- Advising, housing, check-ins ------------------------------------------------------


@dataclass(frozen=True)
class AdvisingRow:
    status: str
    label: str
    count: int


ADVISING_STATUSES = (BOOKED, COMPLETED, NO_SHOW, APPOINTMENT_CANCELLED)


def advising(date_range: DateRange) -> list[AdvisingRow]:
    """Appointments starting in the range, by status (booked means not yet marked)."""
    rows = db.session.execute(
        select(Appointment.status, func.count())
        .where(_in_range(Appointment.starts_at, date_range))
        .group_by(Appointment.status)
    ).all()
    counts = dict(rows)
    return [
        AdvisingRow(status, APPOINTMENT_LABELS[status], counts.get(status, 0))
        for status in ADVISING_STATUSES
    ]


@dataclass(frozen=True)
class HouseRow:
    house_id: int
    name: str
    occupied: int
    beds: int

    @property
    def rate(self) -> float | None:
        return self.occupied / self.beds if self.beds else None


@dataclass(frozen=True)
class Housing:
    term: Term | None
    houses: list[HouseRow] = field(default_factory=list)


def housing(term: Term | None) -> Housing:
    """Per active house: accepted assignments for the term over its active beds."""
    if term is None:
        return Housing(None)
    accepted = and_(
        BedAssignment.bed_id == Bed.id,
        BedAssignment.term_id == term.id,
        BedAssignment.status == "accepted",
    )
    rows = db.session.execute(
        select(
            House.id,
            House.name,
            func.count(func.distinct(BedAssignment.id)),
            func.count(func.distinct(Bed.id)),
        )
        .outerjoin(Room, Room.house_id == House.id)
        .outerjoin(Bed, and_(Bed.room_id == Room.id, Bed.active))
        .outerjoin(BedAssignment, accepted)
        .where(House.active)
        .group_by(House.id, House.name)
        .order_by(House.name)
    ).all()
    return Housing(term, [HouseRow(*row) for row in rows])


@dataclass(frozen=True)
class CheckIns:
    check_ins: int
    active_members: int
    weeks: int
    open_follow_ups: int

    @property
    def expected(self) -> int:
        return self.active_members * self.weeks

    @property
    def completion_rate(self) -> float | None:
        return min(self.check_ins / self.expected, 1.0) if self.expected else None


def check_ins(date_range: DateRange) -> CheckIns:
    """Active members' check-ins for the weeks of the range over active members × weeks;
    and the follow-ups open now."""
    weeks = date_range.weeks()
    first_monday = weeks[0].start - timedelta(days=weeks[0].start.weekday())
    row = db.session.execute(
        select(
            select(func.count())
            .select_from(CheckIn)
            .join(MemberProfile, MemberProfile.user_id == CheckIn.student_id)
            .where(
                MemberProfile.status == ACTIVE,
                CheckIn.week_start >= first_monday,
                CheckIn.week_start <= date_range.end,
            )
            .scalar_subquery(),
            select(func.count())
            .select_from(MemberProfile)
            .where(MemberProfile.status == ACTIVE)
            .scalar_subquery(),
            select(func.count())
            .select_from(FollowUp)
            .where(FollowUp.status == OPEN)
            .scalar_subquery(),
        )
    ).one()
    done, active, open_follow_ups = (int(value or 0) for value in row)
    return CheckIns(done, active, len(weeks), open_follow_ups)


# --- Engagement ------------------------------------------------------------------------


def _touches(since: date, until: date, recent_from: date | None = None):
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
        .where(_held_in(window))
    )
    advised = select(
        Appointment.student_id.label("user_id"),
        flag(Appointment.starts_at, recent_at).label("recent"),
    ).where(Appointment.status == COMPLETED, _in_range(Appointment.starts_at, window))
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
    since = date_range.end - timedelta(days=ENGAGEMENT_DAYS - 1)
    touches = _touches(since, date_range.end)
    per_member = (
        select(touches.c.user_id, func.count().label("n")).group_by(touches.c.user_id).subquery()
    )
    n = func.coalesce(per_member.c.n, 0)
    tier = case((n == 0, 0), (n <= 2, 1), else_=2).label("tier")
    rows = db.session.execute(
        select(tier, func.count())
        .select_from(MemberProfile)
        .outerjoin(per_member, per_member.c.user_id == MemberProfile.user_id)
        .where(MemberProfile.status == ACTIVE)
        .group_by(tier)
    ).all()
    counts = {int(index): count for index, count in rows}
    return Engagement(
        since, date_range.end, [TierRow(label, counts.get(i, 0)) for i, label in enumerate(TIERS)]
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
    touches = _touches(earlier_from, date_range.end, recent_from)
    per_member = (
        select(touches.c.user_id, func.count().label("earlier"))
        .group_by(touches.c.user_id)
        .having(func.sum(touches.c.recent) == 0)
        .subquery()
    )
    rows = db.session.execute(
        select(User.id, User.name, per_member.c.earlier, func.count().over())
        .join(per_member, per_member.c.user_id == User.id)
        .join(MemberProfile, MemberProfile.user_id == User.id)
        .where(MemberProfile.status == ACTIVE, User.erased_at.is_(None))
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


# --- Everything at once ------------------------------------------------------------------


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
    """All the dashboard's figures, in nine statements whatever the data (eight without
    the falling list).

    Engagement and the falling list look back from the range's end or today, whichever
    comes first: mid-term, "the last three weeks" must be weeks that have happened.
    """
    today = today or local_today()
    looking_back = DateRange(date_range.start, max(date_range.start, min(date_range.end, today)))
    return Figures(
        date_range=date_range,
        members=members(date_range),
        events_by_kind=events_by_kind(date_range),
        participation=participation(date_range),
        weekly=weekly_trend(date_range),
        advising=advising(date_range),
        housing=housing(term),
        check_ins=check_ins(date_range),
        engagement=engagement(looking_back),
        falling=falling(looking_back) if with_falling else None,
    )


__all__ = [
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
