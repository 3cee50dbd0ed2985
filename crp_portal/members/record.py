"""The staff member record: everything the program knows about one student that staff
may see, gathered with a fixed number of queries.

Recovery items (network, plan, check-in answers) appear only where the student
consented; follow-ups always do, because a request for outreach reaches staff whatever
the consent.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crp_portal import audit
from crp_portal.advising.models import STATUS_LABELS as APPOINTMENT_STATUS_LABELS
from crp_portal.advising.models import Appointment
from crp_portal.auth.models import User
from crp_portal.charts import LineChart
from crp_portal.events.models import Attendance, Event, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.housing.models import Bed, BedAssignment, Room
from crp_portal.members import intake
from crp_portal.members.models import MemberProfile
from crp_portal.members.services import member_for_staff, status_history
from crp_portal.mentoring import services as mentoring
from crp_portal.recovery import check_ins, follow_ups, network, plan

RECORD_CONTACTS = 20  # mentor contacts the record lists; it links to the rest


@dataclass
class Participation:
    events_attended: int = 0
    last_attended_at: datetime | None = None
    upcoming_rsvps: int = 0
    advising: dict[str, int] = field(default_factory=dict)


@dataclass
class MemberRecord:
    profile: MemberProfile
    history: list
    participation: Participation
    housing: list
    follow_ups: list
    applications: list
    mentor_contacts: Pagination  # the newest few; the mentoring page has them all
    network: list | None
    plan: object | None
    check_ins: list | None
    check_in_chart: LineChart | None = None


def participation_of(student_id: int, now: datetime) -> Participation:
    attended, last = db.session.execute(
        select(func.count(Attendance.id), func.max(Event.starts_at))
        .join(Event, Event.id == Attendance.event_id)
        .where(Attendance.user_id == student_id)
    ).one()
    upcoming = db.session.execute(
        select(func.count(Rsvp.id))
        .join(Event, Event.id == Rsvp.event_id)
        .where(Rsvp.user_id == student_id, Rsvp.status == RsvpStatus.GOING, Event.starts_at >= now)
    ).scalar_one()
    advising = dict.fromkeys(APPOINTMENT_STATUS_LABELS, 0)
    advising.update(
        db.session.execute(
            select(Appointment.status, func.count())
            .where(Appointment.student_id == student_id)
            .group_by(Appointment.status)
        ).all()
    )
    return Participation(attended, last, upcoming, advising)


def housing_of(student_id: int) -> list[BedAssignment]:
    """All of it, newest first: a few offers a term at most, so a whole degree's history
    fits the record, and no row staff may need is cut off unseen."""
    return list(
        db.session.scalars(
            select(BedAssignment)
            .where(BedAssignment.student_id == student_id)
            .options(
                selectinload(BedAssignment.bed).selectinload(Bed.room).selectinload(Room.house),
                selectinload(BedAssignment.term),
            )
            .order_by(BedAssignment.offered_at.desc())
        )
    )


def record_for_staff(user_id: int, viewer: User, now: datetime) -> MemberRecord:
    """Open a member's record with what the student lets staff see; the record and each
    shared recovery item it shows are audited as opened."""
    profile = member_for_staff(user_id, viewer)
    student = profile.user
    for shared, part in (
        (profile.share_plan_with_staff, audit.RECOVERY_PLAN),
        (profile.share_check_ins_with_staff, audit.CHECK_INS),
        (profile.share_network_with_staff, audit.SUPPORT_NETWORK),
    ):
        if shared:
            audit.record_view(viewer, student.id, part)
    shared_check_ins = (
        check_ins.recent_check_ins(student.id) if profile.share_check_ins_with_staff else None
    )
    return MemberRecord(
        profile=profile,
        history=status_history(student.id),
        participation=participation_of(student.id, now),
        housing=housing_of(student.id),
        follow_ups=follow_ups.follow_ups_of(student.id),
        applications=intake.applications_of(student),
        mentor_contacts=mentoring.contacts_with(student.id, per_page=RECORD_CONTACTS),
        network=network.network_for_staff(profile),
        plan=plan.current_plan(student.id) if profile.share_plan_with_staff else None,
        check_ins=shared_check_ins,
        check_in_chart=check_ins.trend_chart(shared_check_ins or []),
    )
