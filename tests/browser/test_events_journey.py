"""Events through the real UI in headless Chromium: RSVP, waitlist, attendance, check-in.

Each test runs against SQLite and PostgreSQL (the `app` fixture is parametrized). Nothing
is seeded: each test makes its own accounts and events, then signs in through the form.
Emails go to a real SMTP server on loopback (the `smtp` fixture); they are handed over
after the request's commit, before its response, so they are in the inbox once the
browser shows the next page.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from crp_portal.auth.models import User
from crp_portal.events import rsvp
from crp_portal.events.checkin_codes import CodeCheck, check_code
from crp_portal.events.models import Attendance, AttendanceSource, Event
from crp_portal.extensions import db
from crp_portal.timeutil import program_zone, utcnow
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import follow_nav, main_nav, sign_in
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import PASSWORD, code_now, make_event, make_user

pytestmark = pytest.mark.browser

TITLE = "Sober bowling night"
PUBLIC_TITLE = "Bowling"


@dataclass(frozen=True)
class Arranged:
    id: int
    title: str
    public_title: str


def arrange_event(app, **overrides) -> Arranged:
    """An in-person sober social a week from now (unless told otherwise), committed."""
    values = {"kind": "sober_social", "title": TITLE, "public_title": PUBLIC_TITLE}
    values.update(overrides)
    with app.app_context():
        event = make_event(**values)
        arranged = Arranged(event.id, event.title, event.public_title)
        db.session.remove()
    return arranged


def code_of(app, event_id: int) -> str:
    """The code the event shows right now (it changes every minute; the last one is taken
    for a minute more, so a test has time to type it)."""
    with app.app_context():
        code = code_now(db.session.get(Event, event_id))
        db.session.remove()
    return code


def shows_a_good_code(app, event_id: int, shown: str) -> bool:
    with app.app_context():
        checked = check_code(db.session.get(Event, event_id), shown, utcnow())
        db.session.remove()
    return checked == CodeCheck.VALID


def arrange_student(app, email: str, name: str) -> None:
    with app.app_context():
        make_user("student", email=email, name=name)
        db.session.remove()


def student_signs_in(page, email: str, name: str) -> None:
    sign_in(page, email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")


def your_place(page):
    return page.get_by_role("region", name="Your place")


def whos_coming(page):
    return page.locator('dl.facts dt:text-is("Who\'s coming") + dd')


def flash(page):
    return page.get_by_role("status")


def attachments_of(message) -> list:
    return [part for part in message.iter_attachments() if part.get_filename()]


def only_message(smtp, address: str, subject_start: str):
    found = [m for m in smtp.to(address) if m["Subject"].startswith(subject_start)]
    assert len(found) == 1, (
        f"expected one message to {address} starting {subject_start!r}; inbox: "
        + repr([(m["To"], m["Subject"]) for m in smtp.messages])
    )
    return found[0]


def test_student_rsvps_sees_it_in_my_events_and_downloads_the_ics(smtp, app, page):
    email, name = "journey.going@example.edu", "Riley Going"
    arrange_student(app, email, name)
    event = arrange_event(app, capacity=10)

    student_signs_in(page, email, name)
    follow_nav(page, "Upcoming events")

    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("Upcoming events")
    listed = page.locator("li.event-item").filter(has=page.get_by_role("link", name=TITLE))
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Sober social · Student Center 204")
    expect(listed).to_contain_text("10 of 10 places left")
    assert_accessible(page)

    listed.get_by_role("link", name=TITLE).click()

    expect(page).to_have_url(re.compile(rf"/events/{event.id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(whos_coming(page)).to_have_text("0 going of 10 places")
    assert_accessible(page)
    your_place(page).get_by_role("button", name="I'm going").click()

    expect(flash(page)).to_have_text(
        "You're going. A confirmation with a calendar file is on its way."
    )
    expect(your_place(page)).to_contain_text("You're going.")
    expect(your_place(page).get_by_role("link", name="I can't make it")).to_be_visible()
    expect(whos_coming(page)).to_have_text("1 going of 10 places")
    assert_accessible(page)

    confirmation = only_message(smtp, email, f"You're going: {PUBLIC_TITLE}, ")
    assert TITLE not in confirmation["Subject"]
    assert f"You're going to {PUBLIC_TITLE} on " in smtp.text_of(confirmation)
    [attached] = attachments_of(confirmation)
    assert attached.get_filename().endswith(".ics")
    assert attached.get_content_type() == "text/calendar"
    mailed = Calendar.from_ical(attached.get_payload(decode=True))
    assert [str(e["SUMMARY"]) for e in mailed.walk("VEVENT")] == [PUBLIC_TITLE]

    follow_nav(page, "My events")

    expect(page.get_by_role("heading", level=1)).to_have_text("My events")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("My events")
    going = page.locator("h2:text-is('Going') + ul")
    expect(going.get_by_role("listitem")).to_have_count(1)
    expect(going.get_by_role("link")).to_have_text(TITLE)
    expect(page.get_by_text("You are not on any waitlist.")).to_be_visible()
    assert_accessible(page)

    going.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download for your calendar (.ics)").click()
    download = download_info.value

    assert download.suggested_filename == f"event-{event.id}.ics"
    with open(download.path(), "rb") as downloaded:
        calendar = Calendar.from_ical(downloaded.read())
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == PUBLIC_TITLE
    zone = app.config["CRP_TIMEZONE"]
    assert vevent["DTSTART"].params["TZID"] == zone
    assert vevent["DTSTART"].dt.tzinfo is not None
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [zone]
    with app.app_context():
        local_start = vevent["DTSTART"].dt.astimezone(program_zone())
    assert (local_start.hour, local_start.minute) == (19, 0)


def test_a_freed_place_goes_to_the_waitlist_and_they_are_emailed(
    smtp, app, browser, live_server, page
):
    first_email, first_name = "journey.first@example.edu", "Avery First"
    second_email, second_name = "journey.second@example.edu", "Blake Second"
    arrange_student(app, first_email, first_name)
    arrange_student(app, second_email, second_name)
    event = arrange_event(app, capacity=1)
    path = f"/events/{event.id}"

    student_signs_in(page, first_email, first_name)
    page.goto(path)
    your_place(page).get_by_role("button", name="I'm going").click()
    expect(your_place(page)).to_contain_text("You're going.")
    expect(whos_coming(page)).to_have_text("1 going of 1 place")

    second_context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    second_context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        second = second_context.new_page()
        student_signs_in(second, second_email, second_name)
        second.goto(path)
        expect(your_place(second).get_by_role("button", name="I'm going")).to_have_count(0)
        your_place(second).get_by_role("button", name="Join the waitlist").click()

        expect(flash(second)).to_have_text(
            "The event is full, so you're on the waitlist. We'll email you if a place opens."
        )
        expect(your_place(second)).to_contain_text("You're on the waitlist, number 1.")
        expect(whos_coming(second)).to_have_text("1 going of 1 place, 1 on the waitlist")
        only_message(smtp, second_email, f"You're on the waitlist: {PUBLIC_TITLE}, ")
        assert_accessible(second)

        page.reload()
        your_place(page).get_by_role("link", name="I can't make it").click()
        # It asks first, saying who gets the seat; nothing has changed yet.
        expect(page.get_by_role("heading", level=1)).to_have_text("Give up your place?")
        expect(
            page.get_by_text("Your seat goes to the first person on the waitlist")
        ).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name="Give up my place").click()

        expect(flash(page)).to_have_text("You're no longer on the list for this event.")
        # The freed place went straight to the waitlist, so the event is full again.
        expect(your_place(page).get_by_role("button", name="Join the waitlist")).to_be_visible()
        expect(whos_coming(page)).to_have_text("1 going of 1 place")
        promotion = only_message(smtp, second_email, f"You have a place: {PUBLIC_TITLE}, ")
        assert "a place opened up and you're now going to" in smtp.text_of(promotion)
        [attached] = attachments_of(promotion)
        assert attached.get_content_type() == "text/calendar"
        assert smtp.to(first_email) and not [
            m for m in smtp.to(first_email) if m["Subject"].startswith("You have a place")
        ]

        second.reload()
        expect(your_place(second)).to_contain_text("You're going.")
        expect(your_place(second)).not_to_contain_text("waitlist")
        expect(whos_coming(second)).to_have_text("1 going of 1 place")
        assert_accessible(second)
    finally:
        second_context.close()


def test_staff_takes_attendance_and_adds_a_walk_in(app, page):
    staff_email, staff_name = "journey.staff@example.edu", "Dana Staff"
    going_name, walk_in_name = "Casey Going", "Quinn Walkin"
    with app.app_context():
        make_user("staff", email=staff_email, name=staff_name)
        going = make_user("student", email="journey.rostered@example.edu", name=going_name)
        make_user("student", email="journey.walkin@example.edu", name=walk_in_name)
        going_id = going.id
        db.session.remove()
    event = arrange_event(app, capacity=10)
    with app.test_request_context():
        # Mail goes to the log here: no `smtp` fixture, so MAIL_SERVER is empty.
        rsvp.rsvp(event.id, db.session.get(User, going_id), utcnow())
        db.session.commit()
        begun = db.session.get(Event, event.id)  # attendance opens when the event starts
        begun.starts_at = utcnow() - timedelta(minutes=5)
        begun.ends_at = begun.starts_at + timedelta(hours=1)
        db.session.commit()
        db.session.remove()

    sign_in(page, staff_email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {staff_name}")
    follow_nav(page, "Upcoming events")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    staff_links = page.get_by_role("region", name="Staff")
    staff_links.get_by_role("link", name=re.compile(r"^Attendance")).click()

    expect(page).to_have_url(re.compile(rf"/events/{event.id}/attendance$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Attendance: {TITLE}")
    code = page.locator(".checkin-code")
    expect(code).to_have_text(re.compile(r"^\s*[A-Z0-9]{6}\s*$"))
    assert shows_a_good_code(app, event.id, code.inner_text())
    assert_accessible(page)

    roster = page.get_by_role("table", name="People going, waitlisted or walked in")
    rows = roster.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(2)).to_have_text("Going")
    present = page.get_by_role("checkbox", name=going_name)
    expect(present).not_to_be_checked()
    present.check()
    page.get_by_role("button", name="Save attendance").click()

    expect(flash(page)).to_have_text("Attendance saved: 1 present.")
    expect(page.get_by_text("1 present so far.", exact=False)).to_be_visible()
    expect(page.get_by_role("checkbox", name=going_name)).to_be_checked()

    search = page.get_by_role("search", name="Find a student")
    search.get_by_label("Name or email", exact=True).fill("walkin")
    search.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(r"[?&]q=walkin\b"))
    page.get_by_role("button", name=f"Add {walk_in_name} as present").click()

    expect(flash(page)).to_have_text("Walk-in added.")
    expect(rows).to_have_count(2)
    walk_in_row = rows.filter(has_text=walk_in_name)
    expect(walk_in_row.locator("td").nth(2)).to_have_text("Walk-in")
    expect(page.get_by_role("checkbox", name=walk_in_name)).to_be_checked()
    expect(page.get_by_role("checkbox", name=going_name)).to_be_checked()
    expect(page.get_by_text("2 present so far.", exact=False)).to_be_visible()
    assert_accessible(page)
    with app.app_context():
        sources = {
            row.user.name: row.source
            for row in db.session.scalars(select(Attendance).where(Attendance.event_id == event.id))
        }
        db.session.remove()
    assert sources == {going_name: "roster", walk_in_name: AttendanceSource.WALK_IN}


def starting_in_five_minutes(app) -> dict:
    """Event fields for one starting about five minutes from now, local wall-clock time."""
    with app.app_context():
        start = (utcnow().astimezone(program_zone()) + timedelta(minutes=5)).replace(
            tzinfo=None, microsecond=0
        )
    end = start + timedelta(hours=1)
    if end.date() != start.date():  # near midnight: end the same day
        end = datetime.combine(start.date(), clock(23, 59, 59))
    return {"day": start.date(), "start_time": start.time(), "end_time": end.time()}


def test_going_student_checks_in_with_the_code(app, page):
    email, name = "journey.checkin@example.edu", "Jamie Checkin"
    arrange_student(app, email, name)
    event = arrange_event(app, capacity=10, **starting_in_five_minutes(app))

    student_signs_in(page, email, name)
    page.goto(f"/events/{event.id}")
    your_place(page).get_by_role("button", name="I'm going").click()
    expect(your_place(page)).to_contain_text("You're going.")

    code_field = your_place(page).get_by_label("Check-in code", exact=True)
    wrong = "X" * 6 if code_of(app, event.id) != "X" * 6 else "Y" * 6
    code_field.fill(wrong)
    your_place(page).get_by_role("button", name="Check in", exact=True).click()

    expect(flash(page)).to_have_text("That code does not match. Check the code shown at the event.")
    assert_accessible(page)

    your_place(page).get_by_label("Check-in code", exact=True).fill(code_of(app, event.id).lower())
    your_place(page).get_by_role("button", name="Check in", exact=True).click()

    expect(flash(page)).to_have_text("You're checked in. Welcome!")
    assert_accessible(page)
    with app.app_context():
        [attendance] = db.session.scalars(
            select(Attendance).where(Attendance.event_id == event.id)
        ).all()
        assert (attendance.user.email, attendance.source) == (email, AttendanceSource.SELF_CHECK_IN)
        db.session.remove()
