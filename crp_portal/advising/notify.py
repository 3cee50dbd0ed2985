"""Emails about appointments, to the student and the advisor, each with an .ics."""

from crp_portal.advising.calendar import appointment_ics
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.timeutil import format_datetime

SUBJECTS = {
    "booked": "Advising appointment booked",
    "changed": "Advising appointment moved",
    "cancelled": "Advising appointment cancelled",
    "reminder": "Reminder: advising appointment tomorrow",
}


def notify(appointment, kind: str, **context) -> None:
    """Tell both sides; the .ics lets their calendars add, move or remove the entry."""
    for person in (appointment.student, appointment.advisor):
        queue_mail(
            person.email,
            f"{SUBJECTS[kind]}: {format_datetime(appointment.starts_at)}",
            f"advising/{kind}",
            attachments=[
                (
                    "appointment.ics",
                    "text/calendar; method=PUBLISH",
                    appointment_ics(appointment, person),
                )
            ],
            person=person,
            appointment=appointment,
            link=portal_url("advising.appointment", appointment_id=appointment.id),
            **context,
        )
