"""The dashboard's figures: plain functions over the session, one dataclass each.

Every function issues a fixed number of SQL statements, whatever the size of the
program's history. Participation figures read the rollups (`rollup_models`): one row per
day and figure, one per member and week, so their cost follows the chosen range and the
number of members, not how many events, RSVPs or appointments the range held. Ranges
are local dates, both ends included.

`_touches` reads the source tables directly, for figures over one term that are not
on the dashboard's hot path (institutional outcomes).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, literal, select, union_all

from crp_portal.advising.models import BOOKED, COMPLETED, NO_SHOW, Appointment
from crp_portal.advising.models import CANCELLED as APPOINTMENT_CANCELLED
from crp_portal.advising.models import STATUS_LABELS as APPOINTMENT_LABELS
from crp_portal.auth.models import User
from crp_portal.dashboard import rollups
from crp_portal.dashboard.rollup_models import DayTally, MemberWeek
from crp_portal.errors import check_date_bounds
from crp_portal.events.models import KINDS, SCHEDULED, Attendance, Event
from crp_portal.extensions import db
from crp_portal.housing.models import Bed, BedAssignment, House, Room
from crp_portal.members.models import ACTIVE, STATUS_LABELS, STATUSES, MemberProfile
from crp_portal.members.recovery_models import OPEN, CheckIn, FollowUp
from crp_portal.terms.models import Term
from crp_portal.timeutil import local_midnight, local_today, week_start

MAX_RANGE_DAYS = 3 * 366
ENGAGEMENT_DAYS = 30
FALLING_RECENT_WEEKS = 3
FALLING_EARLIER_WEEKS = 6
FALLING_LIST_MAX = 50
REMEMBERED = 32  # computed figures kept per process: a few ranges × with/without the list
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
        monday = week_start(self.start)
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


# --- Rollup readers -------------------------------------------------------------------


HEADCOUNT = "headcount:"


@dataclass(frozen=True)
class DayTotals:
    """The range's sum of each per-day figure, by name ("events:peer_support", "going"…),
    and the headcounts of each Monday-based week (for the weekly trend)."""

    sums: dict[str, int]
    headcount_by_week: dict[date, int]

    def get(self, metric: str, default: int = 0) -> int:
        return self.sums.get(metric, default)

    def starting_with(self, prefix: str) -> int:
        return sum(n for metric, n in self.sums.items() if metric.startswith(prefix))


def day_totals(date_range: DateRange) -> DayTotals:
    """The range's sums of every per-day count (events, attendance by name and headcounts
    by kind, RSVPs, appointments by status), in one statement over at most one row per day
    and figure; headcounts come back per day too, for the weeks."""
    headcount_day = case((DayTally.metric.startswith(HEADCOUNT), DayTally.day)).label(
        "headcount_day"
    )
    rows = select(DayTally.metric, headcount_day, DayTally.value).where(
        DayTally.day >= date_range.start, DayTally.day <= date_range.end
    )
    by_day = rows.subquery()
    sums: dict[str, int] = {}
    weeks: dict[date, int] = {}
    for metric, day, total in db.session.execute(
        select(by_day.c.metric, by_day.c.headcount_day, func.sum(by_day.c.value)).group_by(
            by_day.c.metric, by_day.c.headcount_day
        )
    ):
        sums[metric] = sums.get(metric, 0) + int(total)
        if day is not None:
            weeks[week_start(day)] = weeks.get(week_start(day), 0) + int(total)
    return DayTotals(sums, weeks)


def _day_columns(prefix: str, first: int, last: int):
    return sum(
        (getattr(MemberWeek, f"{prefix}_{day}") for day in range(first + 1, last + 1)),
        getattr(MemberWeek, f"{prefix}_{first}"),
    )


def _clipped(prefix: str, window: DateRange):
    """A member-week's count (`attended` or `touches`) on the days of the week that fall
    in the window: whole weeks add all seven days, the first and last only theirs."""
    first, last = week_start(window.start), week_start(window.end)
    if first == last:
        return _day_columns(prefix, window.start.weekday(), window.end.weekday())
    return case(
        (MemberWeek.week_start == first, _day_columns(prefix, window.start.weekday(), 6)),
        (MemberWeek.week_start == last, _day_columns(prefix, 0, window.end.weekday())),
        else_=_day_columns(prefix, 0, 6),
    )


def _weeks_of(window: DateRange):
    return and_(
        MemberWeek.week_start >= week_start(window.start), MemberWeek.week_start <= window.end
    )


def _is_active():
    return and_(MemberProfile.user_id == MemberWeek.user_id, MemberProfile.status == ACTIVE)


# --- Events and participation --------------------------------------------------------


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
    attended = _clipped("attended", date_range)
    row = db.session.execute(
        select(
            func.count(func.distinct(case((attended > 0, MemberWeek.user_id)))),
            func.coalesce(func.sum(case((MemberProfile.user_id.is_not(None), attended))), 0),
            select(func.count())
            .select_from(MemberProfile)
            .where(MemberProfile.status == ACTIVE)
            .scalar_subquery(),
        )
        .select_from(MemberWeek)
        .outerjoin(MemberProfile, _is_active())
        .where(_weeks_of(date_range))
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
    attended = _clipped("attended", date_range)
    rows = db.session.execute(
        select(MemberWeek.week_start, func.sum(attended), func.count().filter(attended > 0))
        .where(_weeks_of(date_range))
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


# --- Advising, housing, check-ins ------------------------------------------------------


@dataclass(frozen=True)
class AdvisingRow:
    status: str
    label: str
    count: int


ADVISING_STATUSES = (BOOKED, COMPLETED, NO_SHOW, APPOINTMENT_CANCELLED)


def advising(totals: DayTotals) -> list[AdvisingRow]:
    """Appointments starting in the range, by status (booked means not yet marked)."""
    return [
        AdvisingRow(status, APPOINTMENT_LABELS[status], totals.get(f"appointments:{status}", 0))
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
    """For one term, by name: figures are remembered across requests, ORM objects not."""

    term_name: str | None
    houses: list[HouseRow] = field(default_factory=list)


def housing(term: Term | None) -> Housing:
    """Per active house: accepted assignments for the term over its active beds."""
    if term is None:
        return Housing(None)
    beds = (
        select(Room.house_id, func.count().label("n"))
        .join(Bed, Bed.room_id == Room.id)
        .where(Bed.active)
        .group_by(Room.house_id)
        .subquery()
    )
    occupied = (
        select(Room.house_id, func.count().label("n"))
        .select_from(BedAssignment)
        .join(Bed, Bed.id == BedAssignment.bed_id)
        .join(Room, Room.id == Bed.room_id)
        .where(BedAssignment.term_id == term.id, BedAssignment.status == "accepted", Bed.active)
        .group_by(Room.house_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            House.id,
            House.name,
            func.coalesce(occupied.c.n, 0),
            func.coalesce(beds.c.n, 0),
        )
        .outerjoin(occupied, occupied.c.house_id == House.id)
        .outerjoin(beds, beds.c.house_id == House.id)
        .where(House.active)
        .order_by(House.name, House.id)
    ).all()
    return Housing(term.name, [HouseRow(*row) for row in rows])


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
    row = db.session.execute(
        select(
            select(func.coalesce(func.sum(MemberWeek.checked_in), 0))
            .join(MemberProfile, _is_active())
            .where(_weeks_of(date_range))
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
    return CheckIns(done, active, len(date_range.weeks()), open_follow_ups)


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
    window = DateRange(date_range.end - timedelta(days=ENGAGEMENT_DAYS - 1), date_range.end)
    per_member = (
        select(MemberWeek.user_id, func.sum(_clipped("touches", window)).label("n"))
        .where(_weeks_of(window))
        .group_by(MemberWeek.user_id)
        .subquery()
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
        (MemberWeek.week_start <= week_start(earlier.end), _clipped("touches", earlier)), else_=0
    )
    in_recent = case(
        (MemberWeek.week_start >= week_start(recent.start), _clipped("touches", recent)), else_=0
    )
    per_member = (
        select(MemberWeek.user_id, func.sum(in_earlier).label("earlier"))
        .where(_weeks_of(DateRange(earlier_from, date_range.end)))
        .group_by(MemberWeek.user_id)
        .having(func.sum(in_earlier) > 0, func.sum(in_recent) == 0)
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
