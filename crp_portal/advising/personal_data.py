"""What advising holds about a student, for the privacy duties (`crp_portal.privacy`):
their appointments in their data download; on erasure the appointments stay, for the
counts, with every text about the student blanked (the advisor's private notes too).
"""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crp_portal.advising.models import Appointment
from crp_portal.privacy import register_eraser, register_export_section
from crp_portal.privacy.erasure import update_where
from crp_portal.privacy.export import rows

APPOINTMENT = {  # not `private_notes`: those are the advisor's working notes
    "advisor": "advisor.name",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "topic": "topic_label",
    "mode": "mode_label",
    "place": "place",
    "status": "status_label",
    "your_note": "student_note",
    "summary": "summary",
    "action_items": "action_items",
    "summary_opened_at": "summary_seen_at",
    "cancel_reason": "cancel_reason",
    "cancelled_at": "cancelled_at",
    "booked_at": "created_at",
}


def appointments(user) -> list[dict]:
    return rows(
        select(Appointment)
        .where(Appointment.student_id == user.id)
        .options(joinedload(Appointment.advisor))
        .order_by(Appointment.starts_at, Appointment.id),
        APPOINTMENT,
    )


def blank_appointments(user, _now) -> None:
    update_where(
        Appointment,
        (Appointment.student_id == user.id,),
        student_note="",
        private_notes="",
        summary="",
        action_items="",
        cancel_reason=None,
    )


def init_app(app) -> None:
    register_export_section(app, "advising_appointments", appointments)
    register_eraser(app, None, blank_appointments)
