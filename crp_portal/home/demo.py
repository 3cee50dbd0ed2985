"""Demo items for each role's home page, so every demo account's home has something to
do (`flask seed-demo` runs this last, after the areas' own demo data):

- the demo student (Alex Morgan): a housing offer to answer this week, a waitlist place
  that moved up, an advising appointment coming up (the areas' demo already gives them an
  advising summary to read and an event to go to; no check-in this week yet);
- the demo advisor (Priya Shah): two appointments today and yesterday's still booked;
- staff: that offer expiring this week (housing), a social that ended without attendance
  (events), an email that needs review in the outbox (nudges); follow-ups and
  applications come from the recovery and members demos.

Rows are written directly, as the areas' demos do, so seeding queues no email.
"""

from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select

from crp_portal.advising.demo import demo_appointment
from crp_portal.auth.models import User
from crp_portal.events.models import Event, EventKind, Rsvp, RsvpStatus
from crp_portal.events.services import EventDetails, create_event
from crp_portal.extensions import db
from crp_portal.housing.models import (
    ApplicationStatus,
    AssignmentStatus,
    Bed,
    BedAssignment,
    House,
    HouseAgreement,
    HousingApplication,
    Room,
)
from crp_portal.outbox.models import OutboxKind, OutboxMessage, OutboxStatus
from crp_portal.terms.models import Term
from crp_portal.timeutil import local_to_utc


def seed_home(today: date, now: datetime, staff: User, student: User, advisor: User, others):
    """The items above; `others` are a few active students (not `student`)."""
    _offer(today, now, staff, student)
    _moved_up(now, student, others)
    _appointments(today, advisor, student, others)
    _ended_without_attendance(today, staff, others)
    db.session.add(
        OutboxMessage(
            kind=OutboxKind.TRANSACTIONAL, user_id=others[0].id, recipient=others[0].email,
            subject="Your advising appointment is booked", body_text="(demo)",
            status=OutboxStatus.NEEDS_REVIEW, attempts=1,
            reason="The sender stopped before marking this sent; it may have arrived.",
            due_at=now - timedelta(hours=3), claimed_at=now - timedelta(hours=3),
        )
    )  # fmt: skip
    db.session.flush()


def _offer(today: date, now: datetime, staff: User, student: User) -> None:
    term = db.session.scalar(
        select(Term).where(Term.starts_on <= today, Term.ends_on >= today).limit(1)
    )
    agreement = db.session.scalar(select(HouseAgreement).order_by(HouseAgreement.version.desc()))
    held = select(BedAssignment.bed_id).where(
        BedAssignment.status.in_((AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED))
    )
    bed = db.session.scalar(
        select(Bed)
        .join(Room, Room.id == Bed.room_id)
        .join(House, House.id == Room.house_id)
        .where(Bed.active, Bed.id.not_in(held))
        .order_by(House.name, Room.name, Bed.label)
        .limit(1)
    )
    if term is None or agreement is None or bed is None:
        return
    application = HousingApplication(
        term_id=term.id, student_id=student.id, first_choice_id=bed.room.house_id,
        roommate_request="", accessibility_needs="", agreement_id=agreement.id,
        agreement_acknowledged_at=now - timedelta(days=8), status=ApplicationStatus.OFFERED,
        submitted_at=now - timedelta(days=8),
    )  # fmt: skip
    db.session.add(application)
    db.session.flush()
    db.session.add(
        BedAssignment(
            term_id=term.id, bed_id=bed.id, student_id=student.id, application_id=application.id,
            status=AssignmentStatus.OFFERED, reply_by=today + timedelta(days=4),
            offered_by_id=staff.id, offered_at=now - timedelta(days=2),
        )
    )  # fmt: skip


def _moved_up(now: datetime, student: User, others) -> None:
    """The volunteering trip (four seats) is full; the student joined its waitlist third
    and is second now: someone ahead gave up their place."""
    event = db.session.scalar(
        select(Event)
        .where(Event.kind == EventKind.SERVICE, Event.starts_at > now)
        .order_by(Event.starts_at)
        .limit(1)
    )
    if event is None or event.capacity is None:
        return
    db.session.execute(delete(Rsvp).where(Rsvp.event_id == event.id, Rsvp.user_id == student.id))
    taken = set(db.session.scalars(select(Rsvp.user_id).where(Rsvp.event_id == event.id)))
    last = db.session.scalar(select(func.max(Rsvp.queue_number)).where(Rsvp.event_id == event.id))
    number = last or 0
    for other in [person for person in others if person.id not in taken]:
        if event.going_count >= event.capacity:
            break
        number += 1
        db.session.add(
            Rsvp(event_id=event.id, user_id=other.id, status=RsvpStatus.GOING, queue_number=number)
        )
        event.going_count += 1
    waiting = db.session.scalar(
        select(func.count())
        .select_from(Rsvp)
        .where(Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.WAITLISTED)
    )
    db.session.add(
        Rsvp(
            event_id=event.id, user_id=student.id, status=RsvpStatus.WAITLISTED,
            queue_number=number + 1, seen_waitlist_place=(waiting or 0) + 2,
        )
    )  # fmt: skip


def _at(day: date, hour: int) -> datetime:
    return local_to_utc(datetime.combine(day, time(hour)))


def _appointments(today: date, advisor: User, student: User, others) -> None:
    plan = [
        (today, 9, others[1]),  # today, from the morning
        (today, 16, others[2]),  # today, later
        (today - timedelta(days=1), 11, others[3]),  # yesterday, still booked: an outcome to record
        (today + timedelta(days=3), 10, student),  # the demo student's next appointment
    ]
    for day, hour, person in plan:
        starts = _at(day, hour)
        demo_appointment(advisor, person, starts)


def _ended_without_attendance(today: date, staff: User, others) -> None:
    """A social two days ago: people said they were going, nobody took attendance."""
    [event] = create_event(
        EventDetails(
            EventKind.SOBER_SOCIAL, "Coffee and conversation", "Coffee hour",
            "Drop in for coffee and a chat.", today - timedelta(days=2), time(15, 0),
            time(16, 0), location="Student Center café", capacity=20,
        ),
        staff,
    )  # fmt: skip
    for number, person in enumerate(others[4:9], start=1):
        db.session.add(
            Rsvp(event_id=event.id, user_id=person.id, status=RsvpStatus.GOING, queue_number=number)
        )
        event.going_count += 1
