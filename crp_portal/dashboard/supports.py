"""The program's supports over a range: advising appointments, recovery housing and the
weekly check-ins (with the follow-ups open now)."""

from dataclasses import dataclass, field

from sqlalchemy import func, select

from crp_portal.advising.models import STATUS_LABELS as APPOINTMENT_LABELS
from crp_portal.advising.models import AppointmentStatus
from crp_portal.dashboard.ranges import DateRange, DayTotals, active_member_join, weeks_of
from crp_portal.dashboard.rollup_models import MemberWeek
from crp_portal.extensions import db
from crp_portal.housing.models import AssignmentStatus, Bed, BedAssignment, House, Room
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.recovery.models import FollowUp, FollowUpStatus
from crp_portal.terms.models import Term


@dataclass(frozen=True)
class AdvisingRow:
    status: str
    label: str
    count: int


ADVISING_STATUSES = tuple(AppointmentStatus)


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
        .where(
            BedAssignment.term_id == term.id,
            BedAssignment.status == AssignmentStatus.ACCEPTED,
            Bed.active,
        )
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
            .join(MemberProfile, active_member_join())
            .where(weeks_of(date_range))
            .scalar_subquery(),
            select(func.count())
            .select_from(MemberProfile)
            .where(MemberProfile.status == MemberStatus.ACTIVE)
            .scalar_subquery(),
            select(func.count())
            .select_from(FollowUp)
            .where(FollowUp.status == FollowUpStatus.OPEN)
            .scalar_subquery(),
        )
    ).one()
    done, active, open_follow_ups = (int(value or 0) for value in row)
    return CheckIns(done, active, len(date_range.weeks()), open_follow_ups)
