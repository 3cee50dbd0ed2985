"""Ask-first actions in headless Chromium on a phone-sized screen: each opens a page
that says what will happen, passes axe, and changes nothing until its button.

Each test runs against SQLite and PostgreSQL (the `app` fixture is parametrized)."""

import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from crp_portal.extensions import db
from crp_portal.timeutil import local_today
from tests.browser.axe import assert_accessible
from tests.browser.test_housing_journey import board_row
from tests.browser.test_journeys import sign_in
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_house,
    make_term,
    make_user,
    make_window,
)
from tests.test_delivery_log import make_message
from tests.test_housing_offers import make_resident

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def signed_in(page, email: str) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, email, PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/sign-in"))


def heading(page):
    return page.get_by_role("heading", level=1)


def flash(page):
    return page.get_by_role("status")


def test_staff_move_a_resident_then_end_the_residency(app, page):
    with app.app_context():
        today = local_today()
        term = make_term("Phone Term", today - timedelta(days=10), today + timedelta(days=60))
        maple = make_house("Maple House", rooms=1, beds_per_room=2)
        make_resident(make_user("student", name="Robin Resident"), term, maple.rooms[0].beds[0])
        make_user("staff", email="board@example.edu", scopes=["housing"])
        move_out_on = term.ends_on.isoformat()
        db.session.remove()
    signed_in(page, "board@example.edu")
    page.goto("/housing/board")

    page.get_by_label("Move Robin Resident to", exact=True).select_option(
        label="Maple House, room 1, bed B"
    )
    page.get_by_role("button", name="Move Robin Resident").click()
    expect(heading(page)).to_have_text("Move Robin Resident?")
    expect(page.get_by_text("Nobody is emailed: tell Robin Resident yourself.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Keep them where they are").click()
    expect(heading(page)).to_have_text("Assignment board: Phone Term")
    expect(board_row(page, "Maple House", "A (accessible)")).to_contain_text("Robin Resident")

    page.get_by_label("Move Robin Resident to", exact=True).select_option(
        label="Maple House, room 1, bed B"
    )
    page.get_by_role("button", name="Move Robin Resident").click()
    page.get_by_role("button", name="Move Robin Resident").click()
    expect(flash(page)).to_have_text("Robin Resident is moved.")
    expect(board_row(page, "Maple House", "B")).to_contain_text("Robin Resident")

    page.get_by_role("link", name="End residency of Robin Resident").click()
    expect(heading(page)).to_have_text("End Robin Resident’s residency?")
    page.get_by_role("button", name="End the residency").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the date.")
    assert_accessible(page)
    page.get_by_label("Move-out date", exact=True).fill(move_out_on)
    page.get_by_role("button", name="End the residency").click()
    expect(flash(page)).to_have_text("Robin Resident's residency ends on the date given.")
    expect(page.get_by_text("0 of 2 beds taken")).to_be_visible()


def test_an_advisor_removes_a_window_after_seeing_what_stays_booked(app, page):
    with app.app_context():
        advisor = make_user("advisor", email="windows@example.edu")
        day = local_today() + timedelta(days=4)
        make_window(advisor, weekday=day.weekday(), start=time(9), end=time(12))
        make_appointment(advisor, make_user("student", name="Sam Student"), days_ahead=4, hour=10)
        db.session.remove()
    signed_in(page, "windows@example.edu")
    page.goto("/advising/availability")
    page.get_by_role("link", name="Remove", exact=True).click()
    expect(heading(page)).to_have_text(re.compile(r"^Remove the \w+day window\?$"))
    expect(
        page.get_by_text("The 1 appointment already booked in these hours stays booked")
    ).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"with Sam Student$"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Remove the window").click()
    expect(flash(page)).to_have_text("Availability removed. Booked appointments stay booked.")
    expect(page.get_by_text("No windows yet")).to_be_visible()


def test_staff_resend_a_message_only_after_the_warning(app, page):
    with app.app_context():
        student = make_user("student", name="Ada Reader")
        make_message("needs_review", user=student, attempts=1, subject="Your booking")
        make_user("staff", email="outbox@example.edu", scopes=["nudges"])
        db.session.remove()
    signed_in(page, "outbox@example.edu")
    page.goto("/nudges/outbox?status=needs_review")
    page.get_by_role("link", name=re.compile(r"^Resend the message to ")).click()
    expect(heading(page)).to_have_text("Resend the message?")
    expect(page.get_by_text(re.compile(r"Ada Reader gets it twice"))).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Resend it").click()
    expect(flash(page)).to_contain_text("is queued to send again.")
