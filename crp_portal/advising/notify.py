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
SUMMARY_SUBJECT = "Notes from your advising appointment"


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


def tell_summary_is_waiting(appointment) -> None:
    """Tell the student the advisor has written up the appointment. The email says only
    that it is there: the summary itself is read in the portal, behind sign-in."""
    student = appointment.student
    queue_mail(
        student.email,
        f"{SUMMARY_SUBJECT}: {format_datetime(appointment.starts_at)}",
        "advising/summary",
        person=student,
        appointment=appointment,
        link=portal_url("advising.appointment", appointment_id=appointment.id),
    )
