"""What advising pages list: a person's appointments, an advisor's agenda, the
appointments of one advisor with one student. Reads only; the rules that change
appointments are in `services`."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, bindparam, func, select

from crp_portal.access import STUDENT
from crp_portal.advising.models import Appointment, AppointmentLabels, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.database import kept_statement
from crp_portal.extensions import db
from crp_portal.timeutil import local_midnight, week_start

LONGEST_APPOINTMENT = timedelta(days=1)  # slots are at most 240 minutes (AdvisorSettings)


@dataclass(frozen=True, slots=True)
class Listed(AppointmentLabels):
    """One line of a list of appointments (advising/_list.html): when, the topic, the
    status and the other person's name, and nothing else (no notes, no summary).

    Read as plain rows: loading each line as an appointment object with the other side's
    account was a fifth of the advisor's agenda."""

    id: int
    starts_at: datetime
    topic: str
    status: str
    with_name: str  # the other side's name


def _lines(other_side_id) -> Select:
    """The columns of `Listed`, with the name of the account `other_side_id` refers to."""
    return select(
        Appointment.id, Appointment.starts_at, Appointment.topic, Appointment.status, User.name
    ).join(User, User.id == other_side_id)


def _listed(rows) -> list[Listed]:
    return [Listed(*row) for row in rows]


AGENDA_LISTED = 10  # the most the agenda lists under "Waiting for an outcome", "Coming up"


@dataclass(frozen=True)
class Agenda:
    """An advisor's appointments under the agenda's four headings, each under one only."""

    today: list[Listed]
    later_this_week: list[Listed]
    awaiting: list[Listed]
    more_awaiting: int  # waiting for an outcome, but not listed
    coming_up: list[Listed]


def agenda(advisor: User, today: date) -> Agenda:
    """The advisor's agenda on `today` (a local date), in three statements.

    Today's appointments and the rest of this week's (to Sunday), not cancelled; booked
    ones from before today still waiting for an outcome, newest first (today's are under
    today, outcome or not); and the next few after this week, not cancelled.
    """
    midnight = local_midnight(today)
    tomorrow = local_midnight(today + timedelta(days=1))
    next_week = local_midnight(week_start(today) + timedelta(days=7))
    week = _listed(
        db.session.execute(
            _not_cancelled(until=True),
            {"advisor_id": advisor.id, "since": midnight, "until": next_week},
        )
    )
    awaiting, waiting_in_all = awaiting_outcome(advisor, midnight)
    coming_up = db.session.execute(
        _not_cancelled(until=False),
        {"advisor_id": advisor.id, "since": next_week, "limit": AGENDA_LISTED},
    )
    return Agenda(
        today=[found for found in week if found.starts_at < tomorrow],
        later_this_week=[found for found in week if found.starts_at >= tomorrow],
        awaiting=awaiting,
        more_awaiting=waiting_in_all - len(awaiting),
        coming_up=_listed(coming_up),
    )


def appointments_between(advisor: User, since: datetime, until: datetime) -> list[Listed]:
    """The advisor's appointments starting from `since` to before `until`, not cancelled,
    soonest first: the agenda's today (one statement)."""
    values = {"advisor_id": advisor.id, "since": since, "until": until}
    return _listed(db.session.execute(_not_cancelled(until=True), values))


@kept_statement
def _not_cancelled(until: bool) -> Select:
    """An advisor's appointments from `since`, not cancelled, soonest first: those before
    `until`, or else the first `limit`."""
    statement = (
        _lines(Appointment.student_id)
        .where(
            Appointment.advisor_id == bindparam("advisor_id"),
            Appointment.starts_at >= bindparam("since"),
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if until:
        return statement.where(Appointment.starts_at < bindparam("until"))
    return statement.limit(bindparam("limit"))


def awaiting_outcome(
    advisor: User, before: datetime, limit: int = AGENDA_LISTED, offset: int = 0
) -> tuple[list[Listed], int]:
    """Booked appointments that started before `before` and have no outcome yet, newest
    first: `limit` of them after the first `offset`, and how many there are in all (0 when
    `offset` is past the last). One statement: the count is a window over the same rows,
    taken before the limit."""
    values = {"advisor_id": advisor.id, "before": before, "limit": limit, "offset": offset}
    rows = db.session.execute(_awaiting_outcome(), values).all()
    return [Listed(*row[:-1]) for row in rows], rows[0][-1] if rows else 0


@dataclass(frozen=True)
class AppointmentPage:
    """One page of appointments in its list's order: newest first (an advisor's waiting
    for an outcome, someone's past ones) or soonest first (upcoming ones); `number`
    counts from 1."""

    appointments: list[Listed]
    number: int
    total: int
    size: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total

    has_newer, has_older = has_previous, has_next  # in a newest-first list


AWAITING_PAGE = 25
PAST_PAGE = 20


def _one_page(statement: Select, number: int, size: int) -> AppointmentPage:
    """Page `number` (below 1: the first) of a `_lines` statement's rows, in its order,
    with their total. One statement: the count is a window over the same rows, taken
    before the limit (so 0 when the page is past the last)."""
    number = max(number, 1)
    paged = statement.add_columns(func.count().over()).limit(size).offset((number - 1) * size)
    rows = db.session.execute(paged).all()
    return AppointmentPage(
        [Listed(*row[:-1]) for row in rows], number, rows[0][-1] if rows else 0, size
    )


def _own(user: User) -> Select:
    """The user's own appointments, each with the other side's name."""
    column, other_side_id = (
        (Appointment.student_id, Appointment.advisor_id)
        if user.role == STUDENT
        else (Appointment.advisor_id, Appointment.student_id)
    )
    return _lines(other_side_id).where(column == user.id)


def past_page(user: User, now: datetime, number: int, size: int = PAST_PAGE) -> AppointmentPage:
    """Page `number` of the user's own past appointments, newest first, with their total
    (one statement); a number below 1 means the first page."""
    statement = _own(user).where(Appointment.ends_at < now)
    return _one_page(
        statement.order_by(Appointment.starts_at.desc(), Appointment.id.desc()), number, size
    )


def upcoming_page(user: User, now: datetime, number: int, size: int = PAST_PAGE) -> AppointmentPage:
    """Page `number` of the user's own appointments that have not ended, soonest first
    (the bound on the start lets the index on it do the work)."""
    statement = _own(user).where(
        Appointment.ends_at >= now, Appointment.starts_at > now - LONGEST_APPOINTMENT
    )
    return _one_page(statement.order_by(Appointment.starts_at, Appointment.id), number, size)


def awaiting_page(advisor: User, today: date, number: int) -> AppointmentPage:
    """Page `number` of the appointments before `today` (a local date) still waiting
    for an outcome; a number below 1 means the first page."""
    number = max(number, 1)
    found, total = awaiting_outcome(
        advisor, local_midnight(today), limit=AWAITING_PAGE, offset=(number - 1) * AWAITING_PAGE
    )
    return AppointmentPage(found, number, total, AWAITING_PAGE)


@kept_statement
def _awaiting_outcome() -> Select:
    return (
        _lines(Appointment.student_id)
        .add_columns(func.count().over())
        .where(
            Appointment.advisor_id == bindparam("advisor_id"),
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at < bindparam("before"),
        )
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


WITH_STUDENT_PAGE = 20


def _with(advisor: User, student: User) -> Select:
    """The advisor's appointments with this student (never the student's appointments
    with other advisors)."""
    return _lines(Appointment.student_id).where(
        Appointment.advisor_id == advisor.id, Appointment.student_id == student.id
    )


def past_with(
    advisor: User, student: User, now: datetime, number: int, size: int = WITH_STUDENT_PAGE
) -> AppointmentPage:
    """Page `number` of the advisor's past appointments with this student, newest first."""
    statement = (
        _with(advisor, student)
        .where(Appointment.ends_at < now)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
    )
    return _one_page(statement, number, size)


def upcoming_with(
    advisor: User, student: User, now: datetime, number: int, size: int = WITH_STUDENT_PAGE
) -> AppointmentPage:
    """Page `number` of the advisor's appointments with this student that have not ended,
    soonest first."""
    statement = (
        _with(advisor, student)
        .where(Appointment.ends_at >= now)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return _one_page(statement, number, size)
