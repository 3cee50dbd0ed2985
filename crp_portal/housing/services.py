"""Housing rules: inventory, the versioned house agreement, applications and their review."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crp_portal import audit
from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, Forbidden, NotFound, check_date_bounds
from crp_portal.extensions import db
from crp_portal.housing.models import (
    APPLICATION_STATUSES,
    OPEN_STATUSES,
    ApplicationStatus,
    Bed,
    House,
    HouseAgreement,
    HousingApplication,
    Room,
)
from crp_portal.housing.offers import bed_is_held
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.members.models import MemberStatus
from crp_portal.members.services import is_applicant
from crp_portal.search import paginate
from crp_portal.terms.models import Term
from crp_portal.timeutil import local_today
from crp_portal.unit_of_work import flush_or_conflict, lock


def list_houses() -> list[House]:
    return list(
        db.session.scalars(
            select(House)
            .options(selectinload(House.rooms).selectinload(Room.beds))
            .order_by(House.name)
        )
    )


def get_house(house_id: int) -> House:
    house = db.session.scalar(
        select(House)
        .where(House.id == house_id)
        .options(selectinload(House.rooms).selectinload(Room.beds))
    )
    if house is None:
        raise NotFound("There is no house with that number.")
    return house


def save_house(house: House | None, **values) -> House:
    house = house or House()
    for name, value in values.items():
        setattr(house, name, value.strip() if isinstance(value, str) else value)
    db.session.add(house)
    flush_or_conflict(f"A house named “{house.name}” already exists.")
    return house


def add_room(house: House, name: str) -> Room:
    room = Room(house=house, name=name.strip())
    db.session.add(room)
    flush_or_conflict(f"{house.name} already has a room named “{room.name}”.")
    return room


def get_room(room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound("There is no room with that number.")
    return room


def add_bed(room: Room, label: str, accessible: bool) -> Bed:
    bed = Bed(room=room, label=label.strip(), accessible=accessible, active=True)
    db.session.add(bed)
    flush_or_conflict(f"Room {room.name} already has a bed labelled “{bed.label}”.")
    return bed


def set_bed_active(bed_id: int, active: bool, today: date | None = None) -> Bed:
    """Take a bed out of use (repairs) or back; a bed someone holds cannot be taken out.

    Locks the bed's row before asking whether someone holds it; an offer or a move into
    the bed share-locks it, so the two wait for each other instead of both going through.
    """
    bed = db.session.get(Bed, bed_id)
    if bed is None:
        raise NotFound("There is no bed with that number.")
    lock(bed, key_share=True)
    if not active and bed_is_held(bed.id, today or local_today()):
        raise Conflict(
            f"Bed {bed.label} is offered to or held by a resident. Move them or end the "
            "residency first."
        )
    bed.active = active
    db.session.flush()
    return bed


def bed_counts(houses: list[House]) -> dict[int, tuple[int, int]]:
    """(beds in use, all beds) per house, from the loaded inventory."""
    counts = {}
    for house in houses:
        beds = [bed for room in house.rooms for bed in room.beds]
        counts[house.id] = (sum(1 for bed in beds if bed.active), len(beds))
    return counts


def current_agreement() -> HouseAgreement | None:
    return db.session.scalar(
        select(HouseAgreement).order_by(HouseAgreement.version.desc()).limit(1)
    )


def publish_agreement(body: str, staff: User) -> HouseAgreement:
    """A new version; applications keep the version their student acknowledged."""
    latest = current_agreement()
    if latest is not None and latest.body.strip() == body.strip():
        raise DomainError("That text is the same as the current version.")
    agreement = HouseAgreement(
        version=(latest.version + 1) if latest else 1, body=body.strip(), published_by_id=staff.id
    )
    db.session.add(agreement)
    flush_or_conflict("Someone published a version at the same moment; reload and try again.")
    return agreement


OPENS_WITH_MEMBERSHIP = (
    "Recovery housing opens once your membership is active. The program staff will let "
    "you know when your application is accepted."
)


def opens_later(student: User) -> str | None:
    """Why applying is not open to this student yet, to say in place of the form: an
    applicant applies for housing once their membership is active."""
    return OPENS_WITH_MEMBERSHIP if is_applicant(student) else None


def open_terms(today: date) -> list[Term]:
    return list(
        db.session.scalars(select(Term).where(Term.ends_on >= today).order_by(Term.starts_on))
    )


@dataclass
class ApplicationDetails:
    term_id: int
    first_choice_id: int | None
    second_choice_id: int | None
    roommate_request: str
    accessibility_needs: str
    move_in_wish: date | None
    agreement_version: int


def apply(
    student: User, details: ApplicationDetails, today: date, now: datetime
) -> HousingApplication:
    """One application per student per term, acknowledging the current house agreement.

    A new row, so nothing to lock: the unique (term, student) constraint turns a second
    application sent at the same moment into the same 409 as one sent later.
    """
    check_date_bounds(details.move_in_wish)
    if student.role != STUDENT or student.profile is None:
        raise DomainError("Only program members apply for recovery housing.")
    if is_applicant(student):
        raise Forbidden(OPENS_WITH_MEMBERSHIP)
    if student.profile.status != MemberStatus.ACTIVE:
        raise DomainError("Recovery housing is for current program members.")
    term = db.session.get(Term, details.term_id)
    if term is None or term.ends_on < today:
        raise DomainError("Choose a current or upcoming term.")
    agreement = current_agreement()
    if agreement is None:
        raise Conflict("Applications open once staff publish the house agreement.")
    if agreement.version != details.agreement_version:
        raise Conflict(
            "The house agreement changed while you were reading it. Read the new version "
            "and acknowledge it again."
        )
    choices = [c for c in (details.first_choice_id, details.second_choice_id) if c]
    for house_id in choices:
        house = db.session.get(House, house_id)
        if house is None or not house.active:
            raise DomainError("Choose houses from the list.")
    if len(choices) == 2 and choices[0] == choices[1]:
        raise DomainError("Choose two different houses, or leave the second choice empty.")
    application = HousingApplication(
        term_id=term.id,
        student_id=student.id,
        first_choice_id=details.first_choice_id,
        second_choice_id=details.second_choice_id,
        roommate_request=details.roommate_request.strip(),
        accessibility_needs=details.accessibility_needs.strip(),
        move_in_wish=details.move_in_wish,
        agreement_id=agreement.id,
        agreement_acknowledged_at=now,
        status=ApplicationStatus.SUBMITTED,
        submitted_at=now,
    )
    db.session.add(application)
    flush_or_conflict(
        f"You have already applied for {term.name}. Find it under Housing in the menu."
    )
    _tell(application, "Housing application received", "received")
    return application


def applications_of(student: User) -> list[HousingApplication]:
    return list(
        db.session.scalars(
            select(HousingApplication)
            .where(HousingApplication.student_id == student.id)
            .options(selectinload(HousingApplication.term))
            .order_by(HousingApplication.submitted_at.desc())
        )
    )


def application_for(student: User, application_id: int) -> HousingApplication:
    """The student's own application; another student's id looks like no application."""
    application = db.session.get(HousingApplication, application_id)
    if application is None or application.student_id != student.id:
        raise NotFound("There is no housing application with that number in your list.")
    return application


def withdraw(application: HousingApplication) -> HousingApplication:
    """The student takes back an application not yet answered with an offer.

    Locks the application's row and re-checks its status after the wait, so a withdrawal
    and an offer at the same moment cannot both go through.
    """
    lock(application)
    if application.status not in OPEN_STATUSES:
        raise Conflict("Only a submitted or waitlisted application can be withdrawn.")
    application.status = ApplicationStatus.WITHDRAWN
    db.session.flush()
    return application


QUEUE_PAGE_SIZE = 50


def queue(term_id: int, status: str, page: int = 1, per_page: int = QUEUE_PAGE_SIZE):
    """A term's applications in order of submission (first come, first considered), one
    page of `per_page` (a count and a page: two queries, plus one per loaded relation)."""
    statement = (
        select(HousingApplication)
        .where(HousingApplication.term_id == term_id)
        .options(
            selectinload(HousingApplication.student),
            selectinload(HousingApplication.first_choice),
            selectinload(HousingApplication.second_choice),
        )
        .order_by(HousingApplication.submitted_at, HousingApplication.id)
    )
    if status in APPLICATION_STATUSES:
        statement = statement.where(HousingApplication.status == status)
    return paginate(statement, page, per_page)


def status_counts(term_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(HousingApplication.status, func.count())
        .where(HousingApplication.term_id == term_id)
        .group_by(HousingApplication.status)
    )
    return dict(rows.all())


def application_for_staff(
    application_id: int, viewer: User, for_update: bool = False
) -> HousingApplication:
    """An application as staff open it (audited); `for_update` locks it for a decision."""
    statement = select(HousingApplication).where(HousingApplication.id == application_id)
    if for_update:
        statement = statement.with_for_update()
    application = db.session.scalar(statement)
    if application is None:
        raise NotFound("There is no housing application with that number.")
    audit.record_view(viewer, application.student_id, audit.HOUSING_APPLICATION)
    return application


def waitlist(application: HousingApplication, note: str) -> HousingApplication:
    """Staff put a submitted application on the waitlist; the student is emailed once.

    Locks the application's row and re-checks its status after the wait.
    """
    lock(application)
    if application.status != ApplicationStatus.SUBMITTED:
        raise Conflict("Only a submitted application can be waitlisted.")
    application.status = ApplicationStatus.WAITLISTED
    application.decision_note = note.strip() or None
    db.session.flush()
    _tell(application, "Housing application: waitlist", "waitlisted")
    return application


def decline(application: HousingApplication, reason: str) -> HousingApplication:
    """Staff decline an open application with a reason; the student is emailed once.

    Locks the application's row and re-checks its status after the wait.
    """
    lock(application)
    if application.status not in OPEN_STATUSES:
        raise Conflict("Only a submitted or waitlisted application can be declined.")
    if not reason.strip():
        raise DomainError("Give the student a reason; it is included in their email.")
    application.status = ApplicationStatus.DECLINED
    application.decision_note = reason.strip()
    db.session.flush()
    _tell(application, "Housing application: decision", "declined")
    return application


def _tell(application: HousingApplication, subject: str, template: str) -> None:
    queue_mail(
        application.student.email,
        f"{subject} ({application.term.name})",
        f"housing/{template}",
        application=application,
        link=portal_url("housing.application", application_id=application.id),
    )
