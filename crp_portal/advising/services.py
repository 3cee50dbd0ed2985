"""Advising rules: availability, booking that never double-books, reschedule, cancel, outcomes.

Every change reads the row it changes under a lock and decides on what it finds after
the wait: a booking locks the advisor's settings row (the owner of the daily cap), a
move, a cancel or an outcome locks the appointment's row. So of requests racing for one
change, one wins and the others get the same 409 a person gets a second later, and
each acknowledged change sends its emails once. On SQLite the first row lock
takes the database's write lock (`crp_portal.database`), which gives the same order.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from crp_portal import audit
from crp_portal.access import ADVISOR, RECOVERY, STUDENT
from crp_portal.advising.availability import (
    days_off_of,
    locked_settings,
    settings_for,
    windows_of,
)
from crp_portal.advising.closed_days import closed_for, refuse_closed_day
from crp_portal.advising.models import (
    CELL_MINUTES,
    MODES,
    TOPICS,
    AdvisorSettings,
    Appointment,
    AppointmentCell,
    AppointmentStatus,
)
from crp_portal.advising.notify import notify, tell_summary_is_waiting
from crp_portal.advising.slots import Busy, Slot, free_slots
from crp_portal.auth.models import User, holding_scope
from crp_portal.errors import Conflict, DomainError, Forbidden, NotFound
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.members.services import is_applicant
from crp_portal.recovery.follow_ups import open_for_missed_advising
from crp_portal.search import like_pattern
from crp_portal.timeutil import format_datetime, local_midnight, program_zone
from crp_portal.unit_of_work import lock

MEMBER_STATUSES = (MemberStatus.ACTIVE, MemberStatus.ON_LEAVE)  # an applicant books once accepted
OPENS_WITH_MEMBERSHIP = (
    "Advising opens once your membership is active. The program staff will let you know "
    "when your application is accepted."
)
TAKEN = "That time was just taken. Choose another time."
PASSED = "That time has passed. Choose a time in the future."
NO_STUDENT = "There is no student with that number."
HOLDS_TIME = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)  # only cancelling gives the time (its cells) back


class CutOffPassed(Conflict):
    """Too close to the appointment for the student to change it online."""


def get_advisor(advisor_id: int) -> User:
    advisor = db.session.get(User, advisor_id)
    if advisor is None or advisor.role != ADVISOR or not advisor.active:
        raise NotFound("There is no advisor with that number.")
    return advisor


def list_advisors() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == ADVISOR, User.active).order_by(User.name)
        )
    )


def _busy(column, person_id: int, since: datetime, moving_id: int | None) -> list[Busy]:
    statement = select(Appointment.starts_at, Appointment.ends_at).where(
        column == person_id, Appointment.status.in_(HOLDS_TIME), Appointment.ends_at > since
    )
    if moving_id is not None:
        statement = statement.where(Appointment.id != moving_id)
    return [Busy(start, end) for start, end in db.session.execute(statement)]


def available_slots(
    advisor_id: int, student_id: int | None, now: datetime, moving_id: int | None = None
) -> list[Slot]:
    """The advisor's free slots, leaving out times the student is already booked.

    `moving_id` is an appointment being rescheduled: its own time does not count as busy.
    """
    settings = settings_for(advisor_id)
    yesterday = now.date() - timedelta(days=1)
    closed = closed_for(
        advisor_id, yesterday, now.date() + timedelta(days=settings.horizon_days + 1)
    )
    return free_slots(
        settings,
        windows_of(advisor_id),
        {off.day for off in days_off_of(advisor_id, yesterday)} | closed.keys(),
        _busy(Appointment.advisor_id, advisor_id, now - timedelta(days=1), moving_id),
        _busy(Appointment.student_id, student_id, now, moving_id) if student_id else [],
        now,
    )


def _slot_at(
    advisor_id: int, student_id: int, starts_at: datetime, now: datetime, moving_id=None
) -> Slot:
    if starts_at <= now:
        raise DomainError(PASSED)
    refuse_closed_day(advisor_id, starts_at.astimezone(program_zone()).date())
    for slot in available_slots(advisor_id, student_id, now, moving_id):
        if slot.starts_at == starts_at:
            return slot
    raise Conflict(
        "That time is not open for booking: it may be outside the advisor's hours, "
        "too soon, too far ahead, or already taken. Choose one of the listed times."
    )


def _check_daily_cap(
    settings: AdvisorSettings, starts_at: datetime, moving_id: int | None = None
) -> None:
    """The advisor's cap on appointments a day (in the program's zone), counted with
    their settings row locked (`locked_settings`): a booking that waited for another
    counts it, and never trusts a count read before the lock."""
    if settings.max_per_day is None:
        return
    day = starts_at.astimezone(program_zone()).date()
    statement = (
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.advisor_id == settings.advisor_id,
            Appointment.status.in_(HOLDS_TIME),
            Appointment.starts_at >= local_midnight(day),
            Appointment.starts_at < local_midnight(day + timedelta(days=1)),
        )
    )
    if moving_id is not None:
        statement = statement.where(Appointment.id != moving_id)
    if db.session.execute(statement).scalar_one() >= settings.max_per_day:
        cap = settings.max_per_day
        raise Conflict(
            f"That day is full: the advisor takes at most {cap} "
            f"appointment{'s' if cap != 1 else ''} a day. Choose a time on another day."
        )


def opens_later(student: User) -> str | None:
    """Why booking is not open to this student yet, to say in place of the booking pages:
    an applicant books once their membership is active."""
    return OPENS_WITH_MEMBERSHIP if is_applicant(student) else None


def _check_member(student: User) -> None:
    if is_applicant(student):
        raise Forbidden(OPENS_WITH_MEMBERSHIP)
    profile = student.profile
    if student.role != STUDENT or profile is None or profile.status not in MEMBER_STATUSES:
        raise DomainError("Advising appointments are for current program members only.")
    if not student.active:
        raise DomainError("That student's account is deactivated.")


def no_show_count(student_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.student_id == student_id, Appointment.status == AppointmentStatus.NO_SHOW
        )
    ).scalar_one()


PAUSED = (
    "Online booking is paused after several missed appointments. Program staff "
    "will reach out to find a time that works for you."
)


def self_booking_paused(student: User) -> bool:
    limit = current_app.config["CRP_ADVISING_NO_SHOW_LIMIT"]
    return bool(limit) and no_show_count(student.id) >= limit


def _check_self_booking_allowed(student: User) -> None:
    if self_booking_paused(student):
        raise Forbidden(PAUSED)


def _cells(appointment: Appointment) -> list[AppointmentCell]:
    cells, moment = [], appointment.starts_at
    while moment < appointment.ends_at:
        cells.append(
            AppointmentCell(
                appointment_id=appointment.id,
                advisor_id=appointment.advisor_id,
                student_id=appointment.student_id,
                cell_start=moment,
            )
        )
        moment += timedelta(minutes=CELL_MINUTES)
    return cells


def _hold_cells(appointment: Appointment) -> None:
    """Claim the appointment's time cells; a clash with any booking is a 409."""
    try:
        with db.session.begin_nested():
            db.session.add_all(_cells(appointment))
    except IntegrityError as error:
        raise Conflict(TAKEN) from error


def book(
    advisor_id: int,
    student: User,
    starts_at: datetime,
    topic: str,
    note: str,
    booked_by: User,
    now: datetime,
) -> Appointment:
    """Book a listed free slot, by the student or by the advisor for one of their
    advisees (`is_advisee`; anyone else is no student as far as the advisor can tell).

    Locks the advisor's settings row before reading their day, so the daily cap holds
    however many book at once; the appointment cells' unique constraints keep two
    bookings off one time.
    """
    if topic not in TOPICS:
        raise DomainError("Choose one of the listed topics.")
    if booked_by.id != student.id:
        if booked_by.id != advisor_id:
            raise Forbidden("Only the student or their advisor can book this appointment.")
        if not is_advisee(advisor_id, student.id):
            raise NotFound(NO_STUDENT)
    _check_member(student)
    if booked_by.id == student.id:
        _check_self_booking_allowed(student)
    if starts_at <= now:
        raise DomainError(PASSED)
    _check_daily_cap(locked_settings(advisor_id), starts_at)
    slot = _slot_at(advisor_id, student.id, starts_at, now)
    appointment = Appointment(
        advisor_id=advisor_id,
        student_id=student.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        topic=topic,
        student_note=note.strip(),
        mode=slot.mode,
        place=slot.place,
        status=AppointmentStatus.BOOKED,
        booked_by_id=booked_by.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(appointment)
    except IntegrityError as error:
        raise Conflict(TAKEN) from error
    _hold_cells(appointment)
    db.session.flush()
    notify(appointment, "booked")
    return appointment


def appointment_for(user: User, appointment_id: int) -> Appointment:
    """An appointment the user is part of; anyone else's id looks like no appointment."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or user.id not in (appointment.student_id, appointment.advisor_id):
        raise NotFound("There is no appointment with that number in your list.")
    return appointment


def _check_unchanged(appointment: Appointment, seen_sequence: int | None) -> None:
    """A page shows the appointment as it was; if it has moved since, the person looks
    at the new time before changing it (`seen_sequence` is what their page showed)."""
    if seen_sequence is not None and seen_sequence != appointment.sequence:
        raise Conflict(
            "This appointment changed a moment ago: it is now on "
            f"{format_datetime(appointment.starts_at)}. Check the new time, then choose again."
        )


def _check_cut_off(appointment: Appointment, user: User, now: datetime) -> None:
    if appointment.status != AppointmentStatus.BOOKED:
        raise Conflict("This appointment is no longer booked, so it cannot change.")
    if appointment.starts_at <= now:
        raise Conflict("This appointment has already started.")
    if user.id == appointment.student_id:
        cut_off = timedelta(hours=current_app.config["CRP_ADVISING_CANCEL_CUTOFF_HOURS"])
        if appointment.starts_at - now < cut_off:
            raise CutOffPassed(
                "It is too close to the appointment to change it online. "
                f"Please contact {appointment.advisor.name} ({appointment.advisor.email})."
            )


@dataclass(frozen=True)
class ProposedMove:
    """What a move would change, shown before anything moves."""

    slot: Slot
    changes: list[str]


def propose_move(appointment: Appointment, user: User, starts_at: datetime, now: datetime):
    """The slot a move would take and, in words, what changes besides the time (a slot
    can be a video call where the appointment was in person, or in another room). Reads
    only: the move itself (`reschedule`) checks everything again under its lock."""
    _check_cut_off(appointment, user, now)
    slot = _slot_at(appointment.advisor_id, appointment.student_id, starts_at, now, appointment.id)
    changes = []
    if slot.mode != appointment.mode:
        changes.append(
            f"This changes how you meet: from {MODES[appointment.mode].lower()} "
            f"to {MODES[slot.mode].lower()}."
        )
    if slot.place != appointment.place:
        changes.append(f"This changes where: {slot.place}, not {appointment.place}.")
    return ProposedMove(slot, changes)


def reschedule(
    appointment: Appointment,
    user: User,
    starts_at: datetime,
    now: datetime,
    seen_sequence: int | None = None,
) -> Appointment:
    """Move to another free slot in one transaction: the old time is freed only if the new one holds.

    Locks the appointment's row, then the advisor's settings row (the daily cap). After
    the wait it must still be booked and, if the page said which version it showed, be
    that version: of several moves (or a move and a cancel) at once one wins.
    """
    lock(appointment)
    _check_cut_off(appointment, user, now)
    _check_unchanged(appointment, seen_sequence)
    if starts_at <= now:
        raise DomainError(PASSED)
    _check_daily_cap(locked_settings(appointment.advisor_id), starts_at, appointment.id)
    old_start = appointment.starts_at
    slot = _slot_at(appointment.advisor_id, appointment.student_id, starts_at, now, appointment.id)
    db.session.execute(
        delete(AppointmentCell).where(AppointmentCell.appointment_id == appointment.id)
    )
    appointment.starts_at, appointment.ends_at = slot.starts_at, slot.ends_at
    appointment.mode, appointment.place = slot.mode, slot.place
    appointment.reminder_sent_at = None
    appointment.sequence += 1
    _hold_cells(appointment)
    db.session.flush()
    notify(appointment, "changed", old_start=old_start)
    return appointment


def cancel(
    appointment: Appointment,
    user: User,
    reason: str,
    now: datetime,
    seen_sequence: int | None = None,
) -> Appointment:
    """Cancel: students until the cut-off, advisors any time before it starts; both sides told.

    Locks the appointment's row and re-checks after the wait that it is still booked
    (and the version the page showed): cancelled once, emailed once, its cells freed.
    """
    lock(appointment)
    _check_cut_off(appointment, user, now)
    _check_unchanged(appointment, seen_sequence)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_by_id = user.id
    appointment.cancel_reason = reason.strip() or None
    appointment.cancelled_at = now
    appointment.sequence += 1
    db.session.execute(
        delete(AppointmentCell).where(AppointmentCell.appointment_id == appointment.id)
    )
    db.session.flush()
    notify(appointment, "cancelled")
    return appointment


def record_outcome(
    appointment: Appointment,
    advisor: User,
    status: str,
    private_notes: str,
    summary: str,
    action_items: str,
    now: datetime,
) -> Appointment:
    """The advisor marks what happened; notes stay private, the summary is the student's.

    The first time a summary or action items are saved, the student is emailed that they
    are waiting (later corrections send nothing more).

    Locks the appointment's row (a cancel at the same moment wins or loses whole); a
    new no-show also locks the student's user row before counting their no-shows, so
    two recorded at once count each other and staff are asked to reach out once.
    """
    if advisor.id != appointment.advisor_id:
        raise NotFound("There is no appointment with that number in your list.")
    lock(appointment)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise Conflict("This appointment was cancelled.")
    if (
        status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
        and appointment.starts_at > now
    ):
        raise Conflict("An appointment can be marked completed or no-show once it has started.")
    if status not in (
        AppointmentStatus.BOOKED,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_SHOW,
    ):
        raise DomainError("Choose completed or no-show.")
    newly_missed = (
        status == AppointmentStatus.NO_SHOW and appointment.status != AppointmentStatus.NO_SHOW
    )
    if newly_missed:
        lock(appointment.student, key_share=True)
    had_shared_notes = bool(appointment.summary or appointment.action_items)
    shared_before = (appointment.summary, appointment.action_items)
    appointment.status = status
    appointment.private_notes = private_notes.strip()
    appointment.summary = summary.strip()
    appointment.action_items = action_items.strip()
    if (appointment.summary, appointment.action_items) != shared_before:
        appointment.summary_seen_at = None  # changed: waiting on the student's home again
    db.session.flush()
    if not had_shared_notes and (appointment.summary or appointment.action_items):
        tell_summary_is_waiting(appointment)
    if newly_missed and _reached_no_show_limit(appointment.student_id):
        ask_staff_to_reach_out(appointment.student)
    return appointment


def _reached_no_show_limit(student_id: int) -> bool:
    limit = current_app.config["CRP_ADVISING_NO_SHOW_LIMIT"]
    return bool(limit) and no_show_count(student_id) == limit


def ask_staff_to_reach_out(student: User) -> None:
    """Booking pauses: staff are asked to reach out; the student gets no penalty email.

    The student also lands in the staff follow-up queue (once while a missed-advising
    follow-up is open).
    """
    open_for_missed_advising(student)
    staff = db.session.scalars(select(User).where(holding_scope(RECOVERY), User.active)).all()
    for person in staff:
        queue_mail(
            person.email,
            f"Please reach out: {student.name} (advising)",
            "advising/reach_out",
            person=person,
            student=student,
            missed=no_show_count(student.id),
            link=portal_url("members.member_record", user_id=student.id),
        )


def _advisee_of(advisor_id: int):
    """Whose advisor this is (a condition on MemberProfile): staff assigned the student
    to them (`member_profiles.advisor_id`), or the student has an appointment with them
    (any, past or future, whatever its status). Nobody else's name reaches an advisor."""
    booked_with = select(Appointment.student_id).where(Appointment.advisor_id == advisor_id)
    return or_(MemberProfile.advisor_id == advisor_id, MemberProfile.user_id.in_(booked_with))


def is_advisee(advisor_id: int, student_id: int) -> bool:
    found = db.session.scalar(
        select(MemberProfile.user_id).where(
            MemberProfile.user_id == student_id, _advisee_of(advisor_id)
        )
    )
    return found is not None


ADVISEES_LISTED = 50


def find_advisees(advisor: User, query: str = "", limit: int = ADVISEES_LISTED) -> list[User]:
    """The advisor's advisees who are current members, by name; with a query, those whose
    name or email holds it. Other students are never matched, nor counted."""
    statement = (
        select(User)
        .join(MemberProfile, MemberProfile.user_id == User.id)
        .where(
            User.role == STUDENT,
            User.active,
            MemberProfile.status.in_(MEMBER_STATUSES),
            _advisee_of(advisor.id),
        )
    )
    if query.strip():
        pattern = like_pattern(query)
        statement = statement.where(
            func.lower(User.name).like(pattern, escape="\\") | User.email.like(pattern, escape="\\")
        )
    return list(db.session.scalars(statement.order_by(User.name, User.id).limit(limit)))


def student_for_advisor(student_id: int, advisor: User) -> User:
    """One of the advisor's advisees, as the advisor opens their page: audited, academic
    items only. Any other student looks like no student at all (404, nothing written)."""
    student = db.session.get(User, student_id)
    if student is None or student.role != STUDENT or not is_advisee(advisor.id, student.id):
        raise NotFound(NO_STUDENT)
    _check_member(student)
    audit.record_view(advisor, student.id, audit.ADVISING_RECORD)
    return student


def counts_by_advisor(since: datetime, until: datetime) -> list[tuple[User, dict[str, int]]]:
    """Staff's overview: appointments per advisor and status, with no notes or topics."""
    rows = db.session.execute(
        select(Appointment.advisor_id, Appointment.status, func.count())
        .where(Appointment.starts_at >= since, Appointment.starts_at < until)
        .group_by(Appointment.advisor_id, Appointment.status)
    ).all()
    by_advisor: dict[int, dict[str, int]] = {}
    for advisor_id, status, count in rows:
        by_advisor.setdefault(advisor_id, {})[status] = count
    return [(advisor, by_advisor.get(advisor.id, {})) for advisor in list_advisors()]
