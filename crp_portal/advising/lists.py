"""What advising pages list: a person's appointments, an advisor's agenda, the
appointments of one advisor with one student. Reads only; the rules that change
appointments are in `services`."""

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload, load_only

from crp_portal.access import STUDENT
from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.database import kept_statement
from crp_portal.extensions import db
from crp_portal.timeutil import local_midnight, week_start

LONGEST_APPOINTMENT = timedelta(days=1)  # slots are at most 240 minutes (AdvisorSettings)

# What a list of appointments shows (advising/_list.html): when, the topic, the status and
# the other person's name. Loading whole rows (notes, summaries, the person's account) was
# half the cost of the advisor's agenda; reading anything else of a listed appointment
# raises instead of costing a query per row.
LISTED_COLUMNS = (
    Appointment.advisor_id,
    Appointment.student_id,
    Appointment.starts_at,
    Appointment.topic,
    Appointment.status,
)


@functools.cache
def _listed(other_side) -> tuple:
    """Options loading a list of appointments with the other side's name, in one query."""
    return (
        load_only(*LISTED_COLUMNS, raiseload=True),
        joinedload(other_side).load_only(User.name, raiseload=True),
    )


def appointments_of(
    user: User, upcoming: bool, now: datetime, limit: int = 100
) -> list[Appointment]:
    """The user's own appointments; the other side of each is loaded with them (the
    user's own side comes from the session's identity map, without a query)."""
    if user.role == STUDENT:
        column, other_side = Appointment.student_id, Appointment.advisor
    else:
        column, other_side = Appointment.advisor_id, Appointment.student
    statement = select(Appointment).where(column == user.id).options(*_listed(other_side))
    if upcoming:
        statement = statement.where(
            Appointment.ends_at >= now, Appointment.starts_at > now - LONGEST_APPOINTMENT
        ).order_by(Appointment.starts_at)
    else:
        statement = statement.where(Appointment.ends_at < now).order_by(
            Appointment.starts_at.desc()
        )
    return list(db.session.scalars(statement.limit(limit)))


AGENDA_LISTED = 10  # the most the agenda lists under "Waiting for an outcome", "Coming up"


@dataclass(frozen=True)
class Agenda:
    """An advisor's appointments under the agenda's four headings, each under one only."""

    today: list[Appointment]
    later_this_week: list[Appointment]
    awaiting: list[Appointment]
    more_awaiting: int  # waiting for an outcome, but not listed
    coming_up: list[Appointment]


def agenda(advisor: User, today: date) -> Agenda:
    """The advisor's agenda on `today` (a local date), in three statements.

    Today's appointments and the rest of this week's (to Sunday), not cancelled; booked
    ones from before today still waiting for an outcome, newest first (today's are under
    today, outcome or not); and the next few after this week, not cancelled.
    """
    midnight = local_midnight(today)
    tomorrow = local_midnight(today + timedelta(days=1))
    next_week = local_midnight(week_start(today) + timedelta(days=7))
    week = db.session.scalars(
        _not_cancelled(until=True),
        {"advisor_id": advisor.id, "since": midnight, "until": next_week},
    ).all()
    awaiting, waiting_in_all = awaiting_outcome(advisor, midnight)
    coming_up = db.session.scalars(
        _not_cancelled(until=False),
        {"advisor_id": advisor.id, "since": next_week, "limit": AGENDA_LISTED},
    )
    return Agenda(
        today=[found for found in week if found.starts_at < tomorrow],
        later_this_week=[found for found in week if found.starts_at >= tomorrow],
        awaiting=awaiting,
        more_awaiting=waiting_in_all - len(awaiting),
        coming_up=list(coming_up),
    )


@kept_statement
def _not_cancelled(until: bool) -> Select:
    """An advisor's appointments from `since`, not cancelled, soonest first: those before
    `until`, or else the first `limit`."""
    statement = (
        select(Appointment)
        .where(
            Appointment.advisor_id == bindparam("advisor_id"),
            Appointment.starts_at >= bindparam("since"),
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .options(*_listed(Appointment.student))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if until:
        return statement.where(Appointment.starts_at < bindparam("until"))
    return statement.limit(bindparam("limit"))


def awaiting_outcome(
    advisor: User, before: datetime, limit: int = AGENDA_LISTED
) -> tuple[list[Appointment], int]:
    """Booked appointments that started before `before` and have no outcome yet, newest
    first: the first `limit` of them, and how many there are in all. One statement: the
    count is a window over the same rows, taken before the limit."""
    rows = db.session.execute(
        _awaiting_outcome(), {"advisor_id": advisor.id, "before": before, "limit": limit}
    ).all()
    return [found for found, _ in rows], rows[0][1] if rows else 0


@kept_statement
def _awaiting_outcome() -> Select:
    return (
        select(Appointment, func.count().over())
        .where(
            Appointment.advisor_id == bindparam("advisor_id"),
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at < bindparam("before"),
        )
        .options(*_listed(Appointment.student))
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(bindparam("limit"))
    )


def appointments_with(advisor: User, student: User, now: datetime) -> list[Appointment]:
    """The advisor's appointments with this student: past ones newest first, then
    upcoming ones soonest first (never the student's appointments with other advisors)."""
    pair = select(Appointment).where(
        Appointment.advisor_id == advisor.id, Appointment.student_id == student.id
    )
    past = pair.where(Appointment.ends_at < now).order_by(Appointment.starts_at.desc())
    upcoming = pair.where(Appointment.ends_at >= now).order_by(Appointment.starts_at)
    return list(db.session.scalars(past.limit(100))) + list(db.session.scalars(upcoming.limit(100)))
