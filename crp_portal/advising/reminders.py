"""Reminders about 24 hours ahead, sent at most once per appointment."""

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.advising.notify import notify
from crp_portal.extensions import db

REMINDER_AHEAD = timedelta(hours=24)


def send_due_reminders(now: datetime) -> int:
    """Queue a reminder for each booked appointment starting within 24 hours.

    Each row is claimed with a conditional UPDATE that re-checks it is still booked, still
    due and not yet reminded, so two runs (or two hosts) at once still remind each person
    once, a cancel or a move committed meanwhile is respected, and a moved appointment is
    reminded again.
    """
    due = db.session.scalars(
        select(Appointment.id).where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.reminder_sent_at.is_(None),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + REMINDER_AHEAD,
        )
    ).all()
    sent = 0
    for appointment_id in due:
        claimed = cast(
            CursorResult[Any],
            db.session.execute(
                update(Appointment)
                .where(
                    Appointment.id == appointment_id,
                    Appointment.status == AppointmentStatus.BOOKED,
                    Appointment.reminder_sent_at.is_(None),
                    Appointment.starts_at > now,
                    Appointment.starts_at <= now + REMINDER_AHEAD,
                )
                .values(reminder_sent_at=now)
            ),
        ).rowcount
        if claimed:
            notify(db.session.get(Appointment, appointment_id), "reminder")
            sent += 1
    db.session.flush()
    return sent
