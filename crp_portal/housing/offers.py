"""Bed offers, acceptance, expiry, moves and move-outs; the assignment board.

Every change locks the row it changes (`SELECT … FOR UPDATE`; on SQLite it takes the
database's write lock, `crp_portal.database`) and checks its status after the wait, so of an
accept, a decline, a second accept or the expiry job racing for one offer exactly one
wins, and the others get the 409 a person would get a second later. The partial unique
indexes on live assignments keep one bed to one person and one person to one bed.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, NotFound, check_date_bounds
from crp_portal.extensions import db
from crp_portal.housing.models import (
    HOLDS_BED,
    OPEN_STATUSES,
    ApplicationStatus,
    AssignmentStatus,
    Bed,
    BedAssignment,
    House,
    HousingApplication,
    Room,
)
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.terms.models import Term
from crp_portal.timeutil import clamp_date, format_date, utcnow
from crp_portal.unit_of_work import lock

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


def _lock_for_change(assignment: BedAssignment) -> None:
    """Lock the assignment's row, then its application's, re-reading both: the state
    the caller checks next is what the change it waited for committed."""
    lock(assignment)
    if assignment.application is not None:
        lock(assignment.application)


def _in_use_bed(bed_id: int) -> Bed | None:
    """The bed under a share lock: taking it out of use (which locks it for update)
    waits for an offer or a move into it, and they wait for that."""
    bed = db.session.get(Bed, bed_id)
    if bed is None:
        return None
    return bed if lock(bed, read=True).active else None


def _not_open(assignment: BedAssignment) -> Conflict:
    reasons: dict[str, str] = {
        AssignmentStatus.ACCEPTED: "You have accepted it.",
        AssignmentStatus.DECLINED: "You have declined it.",
        AssignmentStatus.EXPIRED: f"It expired on {format_date(assignment.reply_by)}.",
        AssignmentStatus.ENDED: "That residency has ended.",
    }
    why = reasons.get(assignment.status, "")
    return Conflict(f"This offer is no longer open. {why}".strip())


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
    staff: User,
    today: date,
) -> BedAssignment:
    """Offer a specific free bed with a reply-by date; the student is emailed.

    Locks the application's row (re-checked after the wait: one offer per application)
    and takes a share lock on the bed (still in use); the live-assignment unique indexes
    refuse a bed already offered or a student already holding one.
    """
    check_date_bounds(reply_by, move_in_on)
    lock(application)
    if application.status not in OPEN_STATUSES:
        raise Conflict("Only a submitted or waitlisted application can get an offer.")
    bed = _in_use_bed(bed_id)
    if bed is None or not bed.room.house.active:
        raise DomainError("Choose a bed that is in use from the list.")
    if reply_by < today:
        raise DomainError("The reply-by date cannot be in the past.")
    term: Term = application.term
    if move_in_on is not None and not (
        clamp_date(term.starts_on) - timedelta(days=30) <= move_in_on <= term.ends_on
    ):
        raise DomainError("The move-in date must fall within the term (or up to 30 days before).")
    assignment = BedAssignment(
        term_id=application.term_id,
        bed_id=bed.id,
        student_id=application.student_id,
        application_id=application.id,
        status=AssignmentStatus.OFFERED,
        reply_by=reply_by,
        move_in_on=move_in_on,
        offered_by_id=staff.id,
    )
    _save(assignment)
    application.status = ApplicationStatus.OFFERED
    db.session.flush()
    _tell(assignment, "Housing offer", "offer")
    return assignment


def offer_for(student: User, assignment_id: int) -> BedAssignment:
    assignment = db.session.get(BedAssignment, assignment_id)
    if assignment is None or assignment.student_id != student.id:
        raise NotFound("There is no housing offer with that number in your list.")
    return assignment


def accept_offer(assignment: BedAssignment, today: date) -> BedAssignment:
    """The student takes the bed by the reply-by date; they get one confirmation.

    Locks the assignment's row, then its application's, and re-checks the offer is still
    open after the wait: of several answers at once exactly one is acknowledged.
    """
    _lock_for_change(assignment)
    if assignment.status != AssignmentStatus.OFFERED:
        raise _not_open(assignment)
    if today > assignment.reply_by:
        raise Conflict(
            f"This offer expired on {format_date(assignment.reply_by)}. Ask housing staff "
            "whether the bed is still free."
        )
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.answered_at = utcnow()
    if assignment.application is not None:
        assignment.application.status = ApplicationStatus.ACCEPTED
    db.session.flush()
    _tell(assignment, "Housing assignment confirmed", "confirmed")
    return assignment


def decline_offer(assignment: BedAssignment) -> BedAssignment:
    """The student turns the bed down, which frees it.

    Locks the assignment's row, then its application's, and re-checks the offer is still
    open after the wait, so an accept at the same moment cannot also be acknowledged.
    """
    _lock_for_change(assignment)
    if assignment.status != AssignmentStatus.OFFERED:
        raise _not_open(assignment)
    assignment.status = AssignmentStatus.DECLINED
    assignment.answered_at = utcnow()
    if assignment.application is not None:
        assignment.application.status = ApplicationStatus.DECLINED
        assignment.application.decision_note = "You declined the offer."
    db.session.flush()
    return assignment


def expire_offers(today: date) -> int:
    """Offers past their reply-by date expire and free their beds (safe to run twice).

    Locks the stale offers' rows, then their applications'. PostgreSQL re-checks the
    condition on rows it waited for, so an offer accepted a moment ago is left alone.
    """
    stale = db.session.scalars(
        select(BedAssignment)
        .where(BedAssignment.status == AssignmentStatus.OFFERED, BedAssignment.reply_by < today)
        .order_by(BedAssignment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    application_ids = [a.application_id for a in stale if a.application_id is not None]
    if application_ids:
        db.session.scalars(
            select(HousingApplication)
            .where(HousingApplication.id.in_(application_ids))
            .order_by(HousingApplication.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    for assignment in stale:
        assignment.status = AssignmentStatus.EXPIRED
        if assignment.application is not None:
            assignment.application.status = ApplicationStatus.EXPIRED
    db.session.flush()
    return len(stale)


def get_assignment(assignment_id: int) -> BedAssignment:
    assignment = db.session.get(BedAssignment, assignment_id)
    if assignment is None:
        raise NotFound("There is no bed assignment with that number.")
    return assignment


def move_resident(assignment: BedAssignment, bed_id: int) -> BedAssignment:
    """Move an accepted resident to another free bed the same term.

    Locks the assignment's row (still accepted after the wait) and takes a share lock on
    the new bed (still in use); the live-assignment index refuses a bed someone holds.
    """
    lock(assignment)
    if assignment.status != AssignmentStatus.ACCEPTED:
        raise Conflict("Only an accepted resident can be moved.")
    bed = _in_use_bed(bed_id)
    if bed is None:
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
    """A move-out date ends the residency; the bed is free for the rest of the term.

    Locks the assignment's row and re-checks it is still accepted after the wait.
    """
    check_date_bounds(move_out_on)
    lock(assignment)
    if assignment.status != AssignmentStatus.ACCEPTED:
        raise Conflict("Only an accepted residency can end.")
    if assignment.move_in_on is not None and move_out_on <= assignment.move_in_on:
        raise DomainError("The move-out date must be after the move-in date.")
    assignment.move_out_on = move_out_on
    assignment.status = AssignmentStatus.ENDED
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
        accepted = sum(
            1 for bed in beds if bed.id in live and live[bed.id].status == AssignmentStatus.ACCEPTED
        )
        rows.append(HouseRow(house, accepted, len(beds)))
    return rows, live


def assignment_of(student: User, term_id: int) -> BedAssignment | None:
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
        link=portal_url("housing.application", application_id=assignment.application_id)
        if assignment.application_id
        else portal_url("housing.mine"),
    )
