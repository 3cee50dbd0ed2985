"""Summaries waiting for a student: an appointment whose summary or action items the
advisor wrote and the student has not opened since. The student's home lists them; the
appointment's page marks them opened. Reads and one conditional update; the rules that
write summaries are in `services.record_outcome`."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, or_, select, update

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.database import kept_statement
from crp_portal.extensions import db

# A summary older than this is history, not news, whether opened or not.
WAITING_FOR = timedelta(days=90)
WAITING_LISTED = 3


@dataclass(frozen=True, slots=True)
class WaitingSummary:
    appointment_id: int
    starts_at: datetime
    advisor_name: str


def _has_shared_notes():
    return or_(Appointment.summary != "", Appointment.action_items != "")


def waiting_summaries(student: User, now: datetime) -> list[WaitingSummary]:
    """The student's appointments of the last `WAITING_FOR` with a summary or action items
    they have not opened, newest first (one statement)."""
    rows = db.session.execute(
        _waiting(), {"student_id": student.id, "since": now - WAITING_FOR, "limit": WAITING_LISTED}
    )
    return [WaitingSummary(*row) for row in rows]


@kept_statement
def _waiting() -> Select:
    return (
        select(Appointment.id, Appointment.starts_at, User.name)
        .join(User, User.id == Appointment.advisor_id)
        .where(
            Appointment.student_id == bindparam("student_id"),
            Appointment.starts_at >= bindparam("since"),
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.summary_seen_at.is_(None),
            _has_shared_notes(),
        )
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(bindparam("limit"))
    )


def mark_summary_seen(appointment: Appointment, viewer: User, now: datetime) -> bool:
    """The student opened the appointment: its summary is no longer waiting. Only the
    appointment's student marks it, only once (a conditional UPDATE: two tabs opened at
    once write once), and only the text the page read: if the advisor changed it in the
    meantime, the new text is still waiting. True when this call marked it. Leaves the
    loaded object alone."""
    if viewer.id != appointment.student_id or not (appointment.summary or appointment.action_items):
        return False
    result = db.session.execute(
        update(Appointment)
        .where(
            Appointment.id == appointment.id,
            Appointment.student_id == viewer.id,
            Appointment.summary_seen_at.is_(None),
            Appointment.summary == appointment.summary,
            Appointment.action_items == appointment.action_items,
        )
        .values(summary_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
