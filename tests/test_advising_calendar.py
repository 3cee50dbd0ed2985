"""Appointments in calendars: one .ics each, and in both people's private feeds."""

import icalendar

from crp_portal.advising.models import CANCELLED
from crp_portal.events.calendars import feed_for, feed_url
from crp_portal.extensions import db
from tests.factories import make_appointment, make_user


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
    appointment.status = CANCELLED
    db.session.commit()
    assert feed_summaries(app, student) == []


def test_an_advisor_has_a_calendar_page(ctx, login):
    page = login(make_user("advisor")).get("/calendar/").get_data(as_text=True)
    assert "/calendar/" in page and "advising appointments" in page
