"""Bed offers, acceptance, expiry, moves and move-outs; the assignment board."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.housing.models import (
    ACCEPTED,
    DECLINED,
    EXPIRED,
    HOLDS_BED,
    OFFERED,
    OPEN_STATUSES,
    Bed,
    BedAssignment,
    House,
    HousingApplication,
    Room,
)
from crp_portal.mail import queue_mail
from crp_portal.terms.models import Term
from crp_portal.timeutil import format_date, utcnow

TAKEN = (
    "That bed was just offered to someone else, or this student already holds a bed this "
    "term. Reload the board and choose again."
)


def live_assignments(term_id: int) -> dict[int, BedAssignment]:
    """Offered or accepted assignments of a term, by bed."""
    rows = db.session.scalars(
        select(BedAssignment)
        .where(BedAssignment.term_id == term_id, BedAssignment.status.in_(HOLDS_BED))
        .options(selectinload(BedAssignment.student))
    )
    return {row.bed_id: row for row in rows}


def beds_in_use() -> list[Bed]:
    """Beds in use in houses taking residents, whether or not someone holds them."""
    return list(
        db.session.scalars(
            select(Bed)
            .join(Room, Room.id == Bed.room_id)
            .join(House, House.id == Room.house_id)
            .where(Bed.active, House.active)
            .options(selectinload(Bed.room).selectinload(Room.house))
            .order_by(House.name, Room.name, Bed.label)
        )
    )


def free_beds(term_id: int) -> list[Bed]:
    taken = set(live_assignments(term_id))
    return [bed for bed in beds_in_use() if bed.id not in taken]


def _save(assignment: BedAssignment) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(assignment)
    except IntegrityError as error:
        raise Conflict(TAKEN) from error


def offer_bed(
    application: HousingApplication,
    bed_id: int,
    reply_by: date,
    move_in_on: date | None,
    staff,
    today: date,
) -> BedAssignment:
    """Offer a specific free bed with a reply-by date; the student is emailed."""
    if application.status not in OPEN_STATUSES:
        raise Conflict("Only a submitted or waitlisted application can get an offer.")
    bed = db.session.get(Bed, bed_id)
    if bed is None or not bed.active or not bed.room.house.active:
        raise DomainError("Choose a bed that is in use from the list.")
    if reply_by < today:
        raise DomainError("The reply-by date cannot be in the past.")
    term: Term = application.term
    if move_in_on is not None and not (
        term.starts_on - timedelta(days=30) <= move_in_on <= term.ends_on
    ):
        raise DomainError("The move-in date must fall within the term (or up to 30 days before).")
    assignment = BedAssignment(
        term_id=application.term_id,
        bed_id=bed.id,
        student_id=application.student_id,
        application_id=application.id,
        status=OFFERED,
        reply_by=reply_by,
        move_in_on=move_in_on,
        offered_by_id=staff.id,
    )
    _save(assignment)
    application.status = OFFERED
    db.session.flush()
    _tell(assignment, "Housing offer", "offer")
    return assignment


def offer_for(student, assignment_id: int) -> BedAssignment:
    assignment = db.session.get(BedAssignment, assignment_id)
    if assignment is None or assignment.student_id != student.id:
        raise NotFound("There is no housing offer with that number in your list.")
    return assignment


def accept_offer(assignment: BedAssignment, today: date) -> BedAssignment:
    if assignment.status != OFFERED:
        raise Conflict("This offer is no longer open.")
    if today > assignment.reply_by:
        raise Conflict(
            f"This offer expired on {format_date(assignment.reply_by)}. Ask housing staff "
            "whether the bed is still free."
        )
    assignment.status = ACCEPTED
    assignment.answered_at = utcnow()
    if assignment.application is not None:
        assignment.application.status = ACCEPTED
    db.session.flush()
    _tell(assignment, "Housing assignment confirmed", "confirmed")
    return assignment


def decline_offer(assignment: BedAssignment) -> BedAssignment:
    if assignment.status != OFFERED:
        raise Conflict("This offer is no longer open.")
    assignment.status = DECLINED
    assignment.answered_at = utcnow()
    if assignment.application is not None:
        assignment.application.status = DECLINED
        assignment.application.decision_note = "You declined the offer."
    db.session.flush()
    return assignment


def expire_offers(today: date) -> int:
    """Offers past their reply-by date expire and free their beds (safe to run twice)."""
    stale = db.session.scalars(
        select(BedAssignment).where(BedAssignment.status == OFFERED, BedAssignment.reply_by < today)
    ).all()
    for assignment in stale:
        assignment.status = EXPIRED
        if assignment.application is not None:
            assignment.application.status = EXPIRED
    db.session.flush()
    return len(stale)


def get_assignment(assignment_id: int) -> BedAssignment:
    assignment = db.session.get(BedAssignment, assignment_id)
    if assignment is None:
        raise NotFound("There is no bed assignment with that number.")
    return assignment


def move_resident(assignment: BedAssignment, bed_id: int) -> BedAssignment:
    """Move an accepted resident to another free bed the same term."""
    if assignment.status != ACCEPTED:
        raise Conflict("Only an accepted resident can be moved.")
    bed = db.session.get(Bed, bed_id)
    if bed is None or not bed.active:
        raise DomainError("Choose a bed that is in use from the list.")
    try:
        # Changed inside the savepoint: begin_nested() flushes pending changes first, and a
        # clash there would break the whole transaction instead of just the savepoint.
        with db.session.begin_nested():
            assignment.bed_id = bed.id
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(TAKEN) from error
    return assignment


def end_residency(assignment: BedAssignment, move_out_on: date) -> BedAssignment:
    """A move-out date ends the residency; the bed is free for the rest of the term."""
    if assignment.status != ACCEPTED:
        raise Conflict("Only an accepted residency can end.")
    if assignment.move_in_on is not None and move_out_on <= assignment.move_in_on:
        raise DomainError("The move-out date must be after the move-in date.")
    assignment.move_out_on = move_out_on
    assignment.status = "ended"
    db.session.flush()
    return assignment


def bed_is_held(bed_id: int, today: date) -> bool:
    return (
        db.session.scalar(
            select(BedAssignment.id)
            .join(Term, Term.id == BedAssignment.term_id)
            .where(
                BedAssignment.bed_id == bed_id,
                BedAssignment.status.in_(HOLDS_BED),
                Term.ends_on >= today,
            )
            .limit(1)
        )
        is not None
    )


@dataclass(frozen=True)
class HouseRow:
    house: House
    taken: int
    beds: int

    @property
    def occupancy(self) -> int:
        return round(100 * self.taken / self.beds) if self.beds else 0


def board(term_id: int) -> tuple[list[HouseRow], dict[int, BedAssignment]]:
    """Houses with their rooms and beds, the term's live assignments, occupancy per house."""
    houses = db.session.scalars(
        select(House)
        .where(House.active)
        .options(selectinload(House.rooms).selectinload(Room.beds))
        .order_by(House.name)
    ).all()
    live = live_assignments(term_id)
    rows = []
    for house in houses:
        beds = [bed for room in house.rooms for bed in room.beds if bed.active]
        accepted = sum(1 for bed in beds if bed.id in live and live[bed.id].status == ACCEPTED)
        rows.append(HouseRow(house, accepted, len(beds)))
    return rows, live


def assignment_of(student, term_id: int) -> BedAssignment | None:
    return db.session.scalar(
        select(BedAssignment)
        .where(BedAssignment.student_id == student.id, BedAssignment.term_id == term_id)
        .order_by(BedAssignment.offered_at.desc())
        .limit(1)
    )


def _tell(assignment: BedAssignment, subject: str, template: str) -> None:
    queue_mail(
        assignment.student.email,
        f"{subject} ({assignment.term.name})",
        f"housing/{template}",
        assignment=assignment,
        link=url_for(
            "housing.application", application_id=assignment.application_id, _external=True
        )
        if assignment.application_id
        else url_for("housing.mine", _external=True),
    )
