"""A student's support network: people they count on, shared with staff only by consent."""

from sqlalchemy import select

from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.recovery.models import SupportPerson

MAX_PEOPLE = 30


def people_of(student: User) -> list[SupportPerson]:
    return list(
        db.session.scalars(
            select(SupportPerson)
            .where(SupportPerson.student_id == student.id)
            .order_by(SupportPerson.emergency_contact.desc(), SupportPerson.name)
        )
    )


def person_for(student: User, person_id: int) -> SupportPerson:
    """The student's own entry; anyone else's id looks like no entry."""
    person = db.session.get(SupportPerson, person_id)
    if person is None or person.student_id != student.id:
        raise NotFound("There is no person with that number in your support network.")
    return person


def save_person(student: User, person: SupportPerson | None, **values) -> SupportPerson:
    if student.role != STUDENT:
        raise DomainError("Only students keep a support network.")
    if person is None and len(people_of(student)) >= MAX_PEOPLE:
        raise DomainError(f"A support network holds at most {MAX_PEOPLE} people.")
    person = person or SupportPerson(student_id=student.id)
    for name, value in values.items():
        setattr(person, name, value.strip() if isinstance(value, str) else value)
    db.session.add(person)
    db.session.flush()
    return person


def remove_person(person: SupportPerson) -> None:
    db.session.delete(person)
    db.session.flush()


def network_for_staff(profile) -> list[SupportPerson] | None:
    """What staff may see: the network if the student shared it, else None (not shared)."""
    if not profile.share_network_with_staff:
        return None
    return people_of(profile.user)
