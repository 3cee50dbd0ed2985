"""Advising through the real UI in headless Chromium: booking, cancelling, outcomes, hours.

Each test runs against SQLite and PostgreSQL (the `app` fixture is parametrized). Nothing
is seeded: each test makes its own accounts, windows and appointments, then signs in
through the form. Emails go to a real SMTP server on loopback (the `smtp` fixture); they
are handed over after the request's commit, so they are in the inbox once the browser
shows the next page.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.timeutil import format_date, format_datetime, format_time, local_today
from tests.browser.axe import assert_accessible
from tests.browser.test_events_journey import attachments_of, only_message
from tests.browser.test_journeys import follow_nav, main_nav, sign_in
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import PASSWORD, make_appointment, make_user, make_window

pytestmark = pytest.mark.browser

ADVISOR_EMAIL, ADVISOR_NAME = "journey.advisor@example.edu", "Priya Adviser"
STUDENT_EMAIL, STUDENT_NAME = "journey.advisee@example.edu", "Robin Advisee"
# A slot button or link reads "9:30 AM", with " on Tue 3 Nov 2026" for screen readers.
SLOT_NAME = re.compile(r"^(\d{1,2}:\d{2} [AP]M) on (\w{3} \d{1,2} \w{3} \d{4})$")


@dataclass(frozen=True)
class Arranged:
    advisor_id: int
    student_id: int


def arrange_people(app, window: bool = True) -> Arranged:
    """An advisor (open every day 9:00–17:00 unless told otherwise) and an active member."""
    with app.app_context():
        advisor = make_user("advisor", email=ADVISOR_EMAIL, name=ADVISOR_NAME)
        student = make_user("student", email=STUDENT_EMAIL, name=STUDENT_NAME)
        if window:
            make_window(advisor)
        arranged = Arranged(advisor.id, student.id)
        db.session.remove()
    return arranged


def signs_in(page, email: str, name: str) -> None:
    sign_in(page, email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")


def heading(page):
    return page.get_by_role("heading", level=1)


def flash(page):
    return page.get_by_role("status")


def fact(page, term: str):
    return page.locator(f'dl.facts dt:text-is("{term}") + dd')


def listed_under(page, section: str):
    """The list that follows an h2, as the advising list macro renders it."""
    return page.locator(f'h2:text-is("{section}") + ul')


def pick_first_time(page) -> tuple[str, str]:
    """Click the first listed time; returns its (time, day) as shown, e.g. ("9:00 AM", "Tue 3 Nov 2026")."""
    first = page.get_by_role("link", name=SLOT_NAME).first
    expect(first).to_be_visible()
    spoken = " ".join(first.text_content().split())
    match = SLOT_NAME.match(spoken)
    assert match, f"unexpected slot text {spoken!r}"
    shown_time, shown_day = match.groups()
    assert first.inner_text().strip().startswith(shown_time)
    first.click()
    return shown_time, shown_day


def the_only_event(message):
    [attached] = attachments_of(message)
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_filename().endswith(".ics")
    calendar = Calendar.from_ical(attached.get_payload(decode=True))
    [vevent] = calendar.walk("VEVENT")
    return vevent


def test_student_books_a_listed_time_and_cancels_it(smtp, app, page):
    arrange_people(app)
    signs_in(page, STUDENT_EMAIL, STUDENT_NAME)

    follow_nav(page, "Advising")

    expect(heading(page)).to_have_text("Academic advising")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("Advising")
    expect(page.get_by_text("You have no upcoming appointments.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=ADVISOR_NAME, exact=True).click()

    expect(heading(page)).to_have_text(f"Book with {ADVISOR_NAME}")
    assert_accessible(page)
    shown_time, shown_day = pick_first_time(page)

    expect(heading(page)).to_have_text("Book an appointment")
    expect(page.locator("main")).to_contain_text(
        f"With {ADVISOR_NAME} on {shown_day}, {shown_time}"
    )
    assert_accessible(page)
    page.get_by_label("What would you like to talk about?", exact=True).select_option(
        label="Study skills"
    )
    page.get_by_label("Anything the advisor should know first (optional)").fill(
        "Midterms are coming up."
    )
    page.get_by_role("button", name="Book this time").click()

    expect(flash(page)).to_have_text("Your appointment is booked. A confirmation is on its way.")
    expect(heading(page)).to_have_text("Advising appointment")
    expect(fact(page, "When")).to_contain_text(f"{shown_day}, {shown_time}")
    expect(fact(page, "Advisor")).to_contain_text(ADVISOR_NAME)
    expect(fact(page, "Topic")).to_have_text("Study skills")
    expect(fact(page, "Note from the student")).to_have_text("Midterms are coming up.")
    expect(fact(page, "Status")).to_have_text("Booked")
    assert_accessible(page)
    appointment_url = page.url

    confirmation = only_message(smtp, STUDENT_EMAIL, "Advising appointment booked: ")
    assert f"{shown_day}, {shown_time}" in confirmation["Subject"]
    assert f"with {ADVISOR_NAME}" in smtp.text_of(confirmation)
    assert appointment_url.rsplit("/", 1)[-1] in smtp.text_of(confirmation)
    vevent = the_only_event(confirmation)
    assert str(vevent["SUMMARY"]) == f"Academic advising with {ADVISOR_NAME}"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent["DTSTART"].params["TZID"] == "America/New_York"
    starts = vevent["DTSTART"].dt
    assert starts.tzinfo is not None
    with app.app_context():
        assert (format_date(starts), format_time(starts)) == (shown_day, shown_time)
    only_message(smtp, ADVISOR_EMAIL, "Advising appointment booked: ")

    change = page.get_by_role("region", name="Change or cancel")
    change.get_by_label("Reason (optional)", exact=True).fill("A class moved")
    change.get_by_role("button", name="Cancel the appointment").click()

    expect(flash(page)).to_have_text("The appointment is cancelled; both of you have been emailed.")
    expect(page).to_have_url(appointment_url)
    expect(fact(page, "Status")).to_have_text(f"Cancelled by {STUDENT_NAME}: “A class moved”")
    expect(page.get_by_role("region", name="Change or cancel")).to_have_count(0)
    assert_accessible(page)

    cancellation = only_message(smtp, STUDENT_EMAIL, "Advising appointment cancelled: ")
    assert f"{shown_day}, {shown_time}" in cancellation["Subject"]
    assert "Reason: A class moved" in smtp.text_of(cancellation)
    assert str(the_only_event(cancellation)["STATUS"]) == "CANCELLED"
    only_message(smtp, ADVISOR_EMAIL, "Advising appointment cancelled: ")


def test_advisor_books_for_a_student_and_records_an_outcome_the_student_reads(
    smtp, app, browser, live_server, page
):
    people = arrange_people(app)
    summary = "We mapped out next term: two core courses and one elective."
    actions = ["Email the registrar about the prerequisite", "Book a tutor for statistics"]
    private = "Seemed tired; follow up about workload."
    with app.app_context():
        advisor = db.session.get(User, people.advisor_id)
        student = db.session.get(User, people.student_id)
        past = make_appointment(advisor, student, days_ahead=-1, hour=10)
        past_id, past_when = past.id, format_datetime(past.starts_at)
        db.session.remove()

    signs_in(page, ADVISOR_EMAIL, ADVISOR_NAME)
    follow_nav(page, "Book for a student")

    expect(heading(page)).to_have_text("Book for a student")
    search = page.get_by_role("search", name="Find a student")
    search.get_by_label("Name or email", exact=True).fill("advisee")
    search.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(r"[?&]q=advisee\b"))
    page.get_by_role("link", name=STUDENT_NAME, exact=True).click()

    expect(heading(page)).to_have_text(STUDENT_NAME)
    expect(fact(page, "Email")).to_have_text(STUDENT_EMAIL)
    expect(listed_under(page, "Past appointments with you").get_by_role("link")).to_have_text(
        [past_when]
    )
    assert_accessible(page)
    shown_time, shown_day = pick_first_time(page)

    expect(heading(page)).to_have_text("Book an appointment")
    expect(page.locator("main")).to_contain_text(
        f"With {ADVISOR_NAME} for {STUDENT_NAME} on {shown_day}, {shown_time}"
    )
    page.get_by_label("What would you like to talk about?", exact=True).select_option(
        label="Course planning"
    )
    page.get_by_role("button", name="Book this time").click()

    expect(flash(page)).to_have_text(f"Booked with {STUDENT_NAME}; you both have a confirmation.")
    expect(heading(page)).to_have_text("Advising appointment")
    expect(fact(page, "Student")).to_contain_text(STUDENT_NAME)
    expect(fact(page, "When")).to_contain_text(f"{shown_day}, {shown_time}")
    expect(fact(page, "Status")).to_have_text("Booked")
    only_message(smtp, STUDENT_EMAIL, "Advising appointment booked: ")
    only_message(smtp, ADVISOR_EMAIL, "Advising appointment booked: ")

    follow_nav(page, "Agenda")

    expect(heading(page)).to_have_text("Your advising agenda")
    waiting = listed_under(page, "Waiting for an outcome")
    expect(waiting.get_by_role("listitem")).to_have_count(1)
    expect(waiting.get_by_role("listitem")).to_contain_text(f"with {STUDENT_NAME}")
    # Today, later this week or coming up, by the first open time: listed once whichever.
    booked = page.get_by_role("main").get_by_role("link", name=f"{shown_day}, {shown_time}")
    expect(booked).to_have_count(1)
    assert_accessible(page)
    waiting.get_by_role("link", name=past_when, exact=True).click()

    expect(page).to_have_url(re.compile(rf"/appointments/{past_id}$"))
    expect(heading(page)).to_have_text("Advising appointment")
    outcome = page.get_by_role("region", name="Outcome and notes")
    expect(outcome).to_be_visible()
    expect(page.get_by_role("region", name="Change or cancel")).to_have_count(0)
    assert_accessible(page)
    outcome.get_by_label("Outcome", exact=True).select_option(label="Completed")
    outcome.get_by_label("Summary for the student", exact=True).fill(summary)
    outcome.get_by_label("Action items for the student", exact=True).fill("\n".join(actions))
    outcome.get_by_label("Private notes", exact=True).fill(private)
    outcome.get_by_role("button", name="Save outcome").click()

    expect(flash(page)).to_have_text("Outcome saved.")
    expect(fact(page, "Status")).to_have_text("Completed")
    expect(page.get_by_label("Private notes", exact=True)).to_have_value(private)
    shared = page.get_by_role("region", name=f"Summary from {ADVISOR_NAME}")
    expect(shared.get_by_role("listitem")).to_have_text(actions)

    student_context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    student_context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        student_page = student_context.new_page()
        signs_in(student_page, STUDENT_EMAIL, STUDENT_NAME)
        follow_nav(student_page, "Advising")
        expect(heading(student_page)).to_have_text("Academic advising")
        student_page.get_by_role("link", name="All my appointments").click()

        expect(heading(student_page)).to_have_text("My advising appointments")
        expect(listed_under(student_page, "Upcoming")).to_contain_text(f"{shown_day}, {shown_time}")
        past_list = listed_under(student_page, "Past")
        expect(past_list.get_by_role("listitem")).to_have_count(1)
        expect(past_list.get_by_role("listitem")).to_contain_text(
            f"with {ADVISOR_NAME} · Course planning · Completed"
        )
        past_list.get_by_role("link", name=past_when, exact=True).click()

        expect(student_page).to_have_url(re.compile(rf"/appointments/{past_id}$"))
        expect(heading(student_page)).to_have_text("Advising appointment")
        expect(fact(student_page, "Status")).to_have_text("Completed")
        read = student_page.get_by_role("region", name=f"Summary from {ADVISOR_NAME}")
        expect(read).to_contain_text(summary)
        expect(read.get_by_role("heading", name="Action items")).to_be_visible()
        expect(read.get_by_role("listitem")).to_have_text(actions)
        expect(student_page.locator("body")).not_to_contain_text(private)
        expect(student_page.locator("body")).not_to_contain_text("Private notes")
        expect(student_page.get_by_role("region", name="Outcome and notes")).to_have_count(0)
        assert private not in student_page.content()
        assert_accessible(student_page)
    finally:
        student_context.close()


def test_advisor_sets_weekly_hours_and_a_day_off(app, page):
    arrange_people(app, window=False)
    with app.app_context():
        day_off = local_today() + timedelta(days=21)
    link = "https://video.example.edu/priya"
    signs_in(page, ADVISOR_EMAIL, ADVISOR_NAME)

    follow_nav(page, "Availability")

    expect(heading(page)).to_have_text("Your availability")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("Availability")
    expect(page.get_by_text("No windows yet, so students cannot book you.")).to_be_visible()
    expect(page.get_by_text("No days off coming up.")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Day", exact=True).select_option(label="Tuesday")
    page.get_by_label("From", exact=True).fill("10:00")
    page.get_by_label("Until", exact=True).fill("12:00")
    page.get_by_label("How", exact=True).select_option(label="Video call")
    page.get_by_label("Room, video link or phone number", exact=True).fill(link)
    page.get_by_role("button", name="Add window").click()

    expect(flash(page)).to_have_text("Availability added.")
    windows = page.get_by_role("table", name="Weekly availability windows").locator("tbody tr")
    expect(windows).to_have_count(1)
    expect(windows.first.locator("td")).to_have_text(
        ["Tuesday", "10:00–12:00", f"Video call: {link}", "Remove"]
    )
    expect(page.get_by_text("No windows yet")).to_have_count(0)

    page.get_by_label("Day", exact=True).select_option(label="Wednesday")
    page.get_by_label("From", exact=True).fill("15:00")
    page.get_by_label("Until", exact=True).fill("14:00")
    page.get_by_label("How", exact=True).select_option(label="In person")
    page.get_by_label("Room, video link or phone number", exact=True).fill("Room 5")
    page.get_by_role("button", name="Add window").click()

    message = "The window must end after it starts."
    expect(page.get_by_role("alert")).to_contain_text(f"Until: {message}")
    until = page.get_by_label("Until", exact=True)
    expect(until).to_have_attribute("aria-invalid", "true")
    expect(until).to_have_accessible_description(message)
    expect(until).to_have_value("14:00")
    expect(page.get_by_label("From", exact=True)).to_have_value("15:00")
    expect(page.get_by_label("Day", exact=True)).to_have_value("2")
    expect(page.get_by_label("Room, video link or phone number", exact=True)).to_have_value(
        "Room 5"
    )
    expect(windows).to_have_count(1)
    expect(flash(page)).to_have_count(0)
    assert_accessible(page)

    page.get_by_label("Day off", exact=True).fill(day_off.isoformat())
    page.get_by_label("Note (optional)", exact=True).fill("Conference")
    page.get_by_role("button", name="Add day off").click()

    expect(flash(page)).to_have_text("Day off added. Booked appointments that day stay booked.")
    days_off = page.locator('h2:text-is("Days off") + ul').get_by_role("listitem")
    expect(days_off).to_have_count(1)
    expect(days_off.first).to_contain_text(f"{format_date(day_off)} (Conference)")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(windows).to_have_count(1)
    assert_accessible(page)
