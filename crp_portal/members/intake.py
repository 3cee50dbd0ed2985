"""Joining the program: the versioned program agreement, the intake application, and
staff's review of it (accept, ask for a conversation, decline with a note).

Changes lock the student's member profile before their application (`SELECT … FOR
UPDATE`; on SQLite the first takes the database's write lock, `crp_portal.database`), always in that
order, and check the status again after the wait: of two staff deciding at once one
decision is saved and emailed, and the other gets the 409 a second later would give.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crp_portal import audit
from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.members.models import (
    HEARD_FROM_LABELS,
    OPEN_APPLICATION_STATUSES,
    IntakeApplication,
    IntakeStatus,
    MemberProfile,
    MemberStatus,
    ProgramAgreement,
)
from crp_portal.members.services import change_status, own_profile
from crp_portal.search import paginate
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import flush_or_conflict, lock

GOALS_MAX, NOTE_MAX, AGREEMENT_MAX = 4000, 1000, 20000
MAY_APPLY = (MemberStatus.APPLICANT, MemberStatus.INACTIVE)
DECISIONS = (IntakeStatus.ACCEPTED, IntakeStatus.CONVERSATION, IntakeStatus.DECLINED)


def current_agreement() -> ProgramAgreement | None:
    return db.session.scalar(
        select(ProgramAgreement).order_by(ProgramAgreement.version.desc()).limit(1)
    )


def publish_agreement(staff: User, body: str) -> ProgramAgreement:
    """A new version; applications keep the version their student acknowledged."""
    body = body.strip()
    if not body:
        raise DomainError("Write the agreement before publishing it.")
    if len(body) > AGREEMENT_MAX:
        raise DomainError(f"Use at most {AGREEMENT_MAX} characters.")
    current = current_agreement()
    if current is not None and current.body == body:
        raise DomainError("This is the same text as the current version.")
    agreement = ProgramAgreement(
        version=(current.version + 1) if current else 1, body=body, published_by_id=staff.id
    )
    db.session.add(agreement)
    flush_or_conflict("Someone published a version at the same moment. Reload and try again.")
    return agreement


def applications_of(student: User) -> list[IntakeApplication]:
    return list(
        db.session.scalars(
            select(IntakeApplication)
            .where(IntakeApplication.student_id == student.id)
            .options(selectinload(IntakeApplication.agreement))
            .order_by(IntakeApplication.created_at.desc(), IntakeApplication.id.desc())
        )
    )


def open_application(student: User) -> IntakeApplication | None:
    return db.session.scalar(
        select(IntakeApplication).where(
            IntakeApplication.student_id == student.id,
            IntakeApplication.status.in_(OPEN_APPLICATION_STATUSES),
        )
    )


def may_apply(student: User) -> bool:
    profile = student.profile
    return (
        student.role == STUDENT
        and profile is not None
        and profile.status in MAY_APPLY
        and open_application(student) is None
    )


def apply(
    student: User,
    goals: str,
    heard_from: str,
    heard_from_detail: str,
    agreement_version: int,
    acknowledged: bool,
) -> IntakeApplication:
    """One open application per student; it records the agreement version they read.

    Locks the student's member profile, whose status may change to applicant; the partial
    unique index on open applications refuses a second one sent at the same moment.
    """
    profile = lock(own_profile(student))
    if profile.status not in MAY_APPLY:
        raise Conflict(f"You are already in the program ({profile.status_label.lower()}).")
    goals = goals.strip()
    if not goals:
        raise DomainError("Tell us a little about what you hope to get from the program.")
    if len(goals) > GOALS_MAX:
        raise DomainError(f"Use at most {GOALS_MAX} characters.")
    if heard_from not in HEARD_FROM_LABELS:
        raise DomainError("Choose how you heard about the program.")
    if not acknowledged:
        raise DomainError("Read the program agreement and tick the box to acknowledge it.")
    agreement = current_agreement()
    if agreement is None:
        raise Conflict("Applications open once staff publish the program agreement.")
    if agreement.version != agreement_version:
        raise Conflict(
            "The program agreement changed while you were reading it. "
            "Read the new version and apply again."
        )
    if open_application(student) is not None:
        raise Conflict("You already have an application waiting for review.")
    application = IntakeApplication(
        student_id=student.id,
        goals=goals,
        heard_from=heard_from,
        heard_from_detail=heard_from_detail.strip()[:200],
        agreement_id=agreement.id,
    )
    db.session.add(application)
    flush_or_conflict("You already have an application waiting for review.")
    if profile.status != MemberStatus.APPLICANT:
        change_status(profile, MemberStatus.APPLICANT, changed_by=student, note="Applied to join")
    return application


def withdraw(student: User, now: datetime) -> IntakeApplication:
    """The student takes back an open application.

    Locks the application's row and checks it is still open after the wait, so a
    decision made at the same moment is either seen (409) or waits for the withdrawal.
    """
    application = open_application(student)
    if application is not None:
        lock(application)
    if application is None or not application.is_open:
        raise Conflict("You have no application waiting for review.")
    application.status = IntakeStatus.WITHDRAWN
    application.decided_at = now
    db.session.flush()
    return application


def application_for_staff(application_id: int, viewer: User) -> IntakeApplication:
    """Staff open an application; the opening is audited like any record view."""
    application = db.session.scalar(
        select(IntakeApplication)
        .where(IntakeApplication.id == application_id)
        .options(
            selectinload(IntakeApplication.student).selectinload(User.profile),
            selectinload(IntakeApplication.agreement),
            selectinload(IntakeApplication.decided_by),
        )
    )
    if application is None:
        raise NotFound("There is no application with that number.")
    audit.record_view(viewer, application.student_id, audit.INTAKE_APPLICATION)
    return application


def decide(
    staff: User,
    application: IntakeApplication,
    decision: str,
    note: str,
    today: date | None = None,
    status_seen: str | None = None,
) -> IntakeApplication:
    """Accept (the student becomes an active member), ask for a conversation, or decline.

    Asking for a conversation or declining needs a note: the student reads it.

    Locks the student's member profile, then the application's row, and checks after the
    wait that the application is still open and, when the page sent the status it showed
    (`status_seen`), still in that status: of two decisions at once exactly one is saved
    and emailed, the other is a Conflict.
    """
    if decision not in DECISIONS:
        raise DomainError("Choose accept, ask for a conversation, or decline.")
    if application.student.profile is not None:
        lock(application.student.profile)
    lock(application)
    if not application.is_open:
        raise Conflict(f"This application is already {application.status_label.lower()}.")
    if status_seen is not None and status_seen != application.status:
        raise Conflict(
            "Someone else decided this application a moment ago: it is now "
            f"“{application.status_label}”. Reload the page to see their note."
        )
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"Use at most {NOTE_MAX} characters.")
    if decision in (IntakeStatus.CONVERSATION, IntakeStatus.DECLINED) and not note:
        raise DomainError("Write a note to the student: they will read it.")
    application.status = decision
    application.staff_note = note
    application.decided_by_id = staff.id
    application.decided_at = utcnow()
    profile = cast(MemberProfile, application.student.profile)  # made with the application
    if decision == IntakeStatus.ACCEPTED:
        change_status(
            profile,
            MemberStatus.ACTIVE,
            changed_by=staff,
            note="Application accepted",
            today=today or local_today(),
        )
    elif decision == IntakeStatus.DECLINED:
        change_status(profile, MemberStatus.INACTIVE, changed_by=staff, note="Application declined")
    db.session.flush()
    queue_mail(
        application.student.email,
        "An update on your application",
        "members/application_decided",
        student=application.student,
        link=portal_url("members.apply"),
    )
    return application


@dataclass(frozen=True)
class ApplicationFilter:
    status: str = ""


def search_applications(filters: ApplicationFilter, page: int, per_page: int = 25):
    statement = (
        select(IntakeApplication)
        .options(selectinload(IntakeApplication.student))
        .order_by(IntakeApplication.created_at.desc(), IntakeApplication.id.desc())
    )
    if filters.status == "open" or not filters.status:
        statement = statement.where(IntakeApplication.status.in_(OPEN_APPLICATION_STATUSES))
    elif filters.status != "all":
        statement = statement.where(IntakeApplication.status == filters.status)
    return paginate(statement, page, per_page)


def open_application_count() -> int:
    return db.session.execute(
        select(func.count())
        .select_from(IntakeApplication)
        .where(IntakeApplication.status == IntakeStatus.SUBMITTED)
    ).scalar_one()
