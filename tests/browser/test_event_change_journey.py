"""Staff move an event in the real UI and the students going are told, with a calendar
file that moves the entry they have (same UID, higher SEQUENCE); staff set reminders per
kind of event from the events pages. Headless Chromium with an axe scan of each page;
email through a real SMTP server on loopback."""

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from crp_portal.auth.models import User
from crp_portal.events import rsvp
from crp_portal.extensions import db
from crp_portal.timeutil import program_zone, utcnow
from tests.browser.axe import assert_accessible
from tests.browser.test_events_journey import (
    PUBLIC_TITLE,
    TITLE,
    arrange_event,
    flash,
    only_message,
)
from tests.browser.test_journeys import follow_nav, sign_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

STAFF = ("journey.mover@example.edu", "Morgan Mover")
GOING = {"journey.kai@example.edu": "Kai Going", "journey.ren@example.edu": "Ren Going"}


def the_entry(message):
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    [vevent] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return vevent


def staff_signs_in(page) -> None:
    sign_in(page, STAFF[0], PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {STAFF[1]}")


def test_staff_move_an_event_and_those_going_get_a_notice_that_moves_their_entry(smtp, app, page):
    event = arrange_event(app, capacity=10)
    with app.app_context():
        make_user("staff", email=STAFF[0], name=STAFF[1], scopes=["events"])
        for email, name in GOING.items():
            student = make_user("student", email=email, name=name)
            rsvp.rsvp(event.id, db.session.get(User, student.id), utcnow())
        db.session.commit()
        db.session.remove()
    confirmed = {
        email: the_entry(only_message(smtp, email, f"You're going: {PUBLIC_TITLE}, "))
        for email in GOING
    }

    staff_signs_in(page)
    follow_nav(page, "Upcoming events")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("region", name="Staff").get_by_role("link", name="Edit").click()

    expect(page).to_have_url(re.compile(rf"/events/{event.id}/edit$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit {TITLE}")
    expect(page.get_by_text("a change of title or description alone emails nobody")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Starts", exact=True).fill("18:00")
    page.get_by_label("Ends", exact=True).fill("19:30")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(flash(page)).to_have_text("Saved 1 event.")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_accessible(page)
    for email in GOING:
        notice = only_message(smtp, email, f"Changed: {PUBLIC_TITLE}, ")
        assert TITLE not in notice["Subject"]
        body = smtp.text_of(notice)
        assert "7:00 PM" in body and "6:00 PM" in body  # what it was, what it is
        moved = the_entry(notice)
        assert str(moved["UID"]) == str(confirmed[email]["UID"])
        assert str(moved["UID"]).startswith(f"event-{event.id}@")
        assert moved["SEQUENCE"] > confirmed[email]["SEQUENCE"]
        with app.app_context():
            local = moved["DTSTART"].dt.astimezone(program_zone())
        assert (local.hour, local.minute) == (18, 0)
        assert moved["DTSTART"].dt - confirmed[email]["DTSTART"].dt == timedelta(hours=-1)


def test_staff_turn_off_reminders_for_a_kind_of_event(app, page):
    with app.app_context():
        make_user("staff", email=STAFF[0], name=STAFF[1], scopes=["events"])
        db.session.remove()

    staff_signs_in(page)
    follow_nav(page, "Upcoming events")
    page.get_by_role("link", name="Reminder settings").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Event reminders")
    assert_accessible(page)
    socials = page.get_by_role("group", name="Sober social")
    socials.get_by_label("Send reminders").uncheck()
    outings = page.get_by_role("group", name="Service outing")
    outings.get_by_label("How long before").select_option(label="2 days before")
    page.get_by_role("button", name="Save reminder settings").click()

    expect(flash(page)).to_have_text("Reminder settings saved.")
    expect(
        page.get_by_role("group", name="Sober social").get_by_label("Send reminders")
    ).not_to_be_checked()
    expect(
        page.get_by_role("group", name="Service outing").get_by_label("How long before")
    ).to_have_value("48")
    expect(
        page.get_by_role("group", name="Wellness").get_by_label("Send reminders")
    ).to_be_checked()
    assert_accessible(page)
