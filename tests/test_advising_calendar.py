"""Appointments in calendars: one .ics each, and in both people's private feeds."""

import re
from datetime import timedelta

import icalendar
from sqlalchemy import select

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.events.calendars import feed_for, feed_url
from crp_portal.extensions import db
from crp_portal.members.services import update_own_profile
from tests.factories import make_appointment, make_user
from tests.test_advising_booking import advisor_with_hours, book, listed_starts, start_of

CONTENT_TYPE = re.compile(rb"^Content-Type:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)


def feed_summaries(app, user) -> list[str]:
    with app.test_request_context():
        url = feed_url(feed_for(user))
        db.session.commit()
    body = app.test_client().get(url.split("portal.test", 1)[1]).data
    calendar = icalendar.Calendar.from_ical(body)
    return [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]


def test_appointment_ics_parses_with_the_program_time_zone(ctx, login):
    advisor = make_user("advisor", name="Priya Shah")
    student = make_user("student", name="Kai Nguyen")
    appointment = make_appointment(advisor, student)
    body = login(student).get(f"/advising/appointments/{appointment.id}.ics").data
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Academic advising with Priya Shah"
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["DTSTART"].dt.hour == 10


def test_appointments_join_both_private_feeds_until_cancelled(app, ctx):
    advisor = make_user("advisor", name="Priya Shah")
    student = make_user("student", name="Kai Nguyen")
    appointment = make_appointment(advisor, student)
    assert "Academic advising with Priya Shah" in feed_summaries(app, student)
    assert "Advising: Kai Nguyen" in feed_summaries(app, advisor)
    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()
    assert feed_summaries(app, student) == []


def test_an_advisor_has_a_calendar_page(ctx, login):
    page = login(make_user("advisor")).get("/calendar/").get_data(as_text=True)
    assert "/calendar/" in page and "advising appointments" in page


def appointment_file(client, appointment):
    body = client.get(f"/advising/appointments/{appointment.id}.ics").data
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    return event


def reminders(vevent) -> list[timedelta]:
    return [alarm["TRIGGER"].dt for alarm in vevent.walk("VALARM")]


def test_appointments_remind_the_advisor_an_hour_before_and_the_student_as_they_chose(ctx, login):
    advisor = make_user("advisor", name="Priya Shah")
    student = make_user("student", name="Kai Nguyen")
    appointment = make_appointment(advisor, student)
    assert reminders(appointment_file(login(advisor), appointment)) == [timedelta(hours=-1)]
    assert reminders(appointment_file(login(student), appointment)) == [timedelta(hours=-1)]

    update_own_profile(student, calendar_reminder_minutes=15)
    db.session.commit()
    assert reminders(appointment_file(login(student), appointment)) == [timedelta(minutes=-15)]
    update_own_profile(student, calendar_reminder_minutes=None)
    db.session.commit()
    assert reminders(appointment_file(login(student), appointment)) == []
    assert reminders(appointment_file(login(advisor), appointment)) == [timedelta(hours=-1)]


def test_a_moved_appointment_keeps_its_uid_and_raises_its_sequence(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu")
    client = login(student)
    book(client, advisor.id, listed_starts(client.get(f"/advising/advisors/{advisor.id}"))[0])
    appointment = db.session.scalars(select(Appointment)).one()
    before = appointment_file(client, appointment)
    path = f"/advising/appointments/{appointment.id}/reschedule"
    new_key = listed_starts(client.get(path))[4]

    client.post(path, data={"start": new_key})

    after = appointment_file(client, appointment)
    assert after["DTSTART"].dt == start_of(new_key)
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    [moved] = [m for m in smtp.to("kai@example.edu") if "moved" in m["Subject"]]
    [attached] = [p for p in moved.iter_attachments() if p.get_content_type() == "text/calendar"]
    [emailed] = icalendar.Calendar.from_ical(attached.get_content()).walk("VEVENT")
    assert (emailed["UID"], emailed["SEQUENCE"]) == (after["UID"], after["SEQUENCE"])


def unfolded(raw: bytes) -> bytes:
    return raw.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")


def text_types_without_utf8(raw: bytes) -> list[bytes]:
    """Content-Type lines of text parts and attachments, as sent, that name no UTF-8."""
    return [
        value
        for value in CONTENT_TYPE.findall(unfolded(raw))
        if value.lower().startswith(b"text/")
        and not re.search(rb'charset="?utf-8"?(;|$)', value, re.IGNORECASE)
    ]


def test_appointment_emails_name_utf8_for_every_text_part_and_calendar_file(ctx, login, smtp):
    advisor = advisor_with_hours(email="lucia@example.edu", name="Lucía García")
    student = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    client = login(student)
    book(client, advisor.id, listed_starts(client.get(f"/advising/advisors/{advisor.id}"))[0])

    [to_student] = smtp.to("kai@example.edu")
    [to_advisor] = smtp.to("lucia@example.edu")

    for message in (to_student, to_advisor):
        raw = message.raw
        assert text_types_without_utf8(raw) == []
        types = [value.lower() for value in CONTENT_TYPE.findall(unfolded(raw))]
        assert any(value.startswith(b"text/calendar") for value in types)
        assert any(value.startswith(b"text/plain") for value in types)
    [attached] = [
        p for p in to_student.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert attached.get_content_charset() == "utf-8"
    assert "Academic advising with Lucía García" in attached.get_payload(decode=True).decode()
