"""Appointments as iCalendar entries: one file each, and in the person's private feed."""

from datetime import datetime

from flask import current_app
from icalendar import Event as ICalEvent
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.events.calendars import (
    add_reminder,
    add_start_and_end,
    finish,
    new_calendar,
)
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.timeutil import utcnow


def _summary(appointment: Appointment, viewer: User | None) -> str:
    if viewer is not None and viewer.id == appointment.advisor_id:
        return f"Advising: {appointment.student.name}"
    return f"Academic advising with {appointment.advisor.name}"


def appointment_component(appointment: Appointment, viewer: User) -> ICalEvent:
    host = current_app.config.get("SERVER_NAME") or "crp-portal"
    link = portal_url("advising.appointment", appointment_id=appointment.id)
    component = ICalEvent()
    component.add("uid", f"appointment-{appointment.id}@{host}")
    component.add("dtstamp", utcnow())
    add_start_and_end(component, appointment.starts_at, appointment.ends_at)
    component.add("summary", _summary(appointment, viewer))
    component.add("sequence", appointment.sequence)
    component.add("location", f"{appointment.mode_label}: {appointment.place}")
    component.add("description", f"Details: {link}")
    component.add("url", link)
    component.add("status", "CANCELLED" if appointment.is_cancelled else "CONFIRMED")
    add_reminder(component, viewer, str(component["summary"]))
    return component


def appointment_ics(appointment: Appointment, viewer: User) -> bytes:
    calendar = new_calendar()
    calendar.add("method", "PUBLISH")
    calendar.add_component(appointment_component(appointment, viewer))
    return finish(calendar)


def feed_entries(user: User, since: datetime) -> list[ICalEvent]:
    appointments = db.session.scalars(
        select(Appointment)
        .where(
            or_(Appointment.student_id == user.id, Appointment.advisor_id == user.id),
            Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)),
            Appointment.starts_at >= since,
        )
        .options(selectinload(Appointment.advisor), selectinload(Appointment.student))
        .order_by(Appointment.starts_at)
    )
    return [appointment_component(appointment, user) for appointment in appointments]
