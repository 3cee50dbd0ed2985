"""A student's week on a phone (390×844, touch): through the Menu button they find an
event starting soon, RSVP, check in with the code shown in the room, then book advising —
every step reached from the navigation, no page scrolling sideways, axe clean."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.test_advising_journey import (
    ADVISOR_NAME,
    STUDENT_EMAIL,
    STUDENT_NAME,
    arrange_people,
    pick_first_time,
)
from tests.browser.test_events_journey import (
    PUBLIC_TITLE,
    arrange_event,
    code_of,
    flash,
    starting_in_five_minutes,
    your_place,
)
from tests.browser.test_journeys import follow_nav, sign_in
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"


def on_a_phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True
    )
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context


def fits(page) -> None:
    assert page.evaluate(SIDEWAYS) <= 0, f"{page.url} scrolls sideways"
    assert_accessible(page)


def test_a_student_rsvps_checks_in_and_books_advising_from_the_menu(app, browser, live_server):
    arrange_people(app)
    event = arrange_event(app, capacity=10, **starting_in_five_minutes(app))
    context = on_a_phone(browser, live_server)
    try:
        page = context.new_page()
        sign_in(page, STUDENT_EMAIL, PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {STUDENT_NAME}")
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
        fits(page)

        # Menu → Events → Upcoming events, then the event starting soon.
        follow_nav(page, "Upcoming events")
        expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
        fits(page)
        page.get_by_role("link", name=PUBLIC_TITLE).first.tap()
        expect(page).to_have_url(f"{live_server.url}/events/{event.id}")
        your_place(page).get_by_role("button", name="I'm going").tap()
        expect(your_place(page)).to_contain_text("You're going.")
        fits(page)

        # In the room: the code on the screen, typed on the phone.
        your_place(page).get_by_label("Check-in code", exact=True).fill(code_of(app, event.id))
        your_place(page).get_by_role("button", name="Check in", exact=True).tap()
        expect(flash(page)).to_have_text("You're checked in. Welcome!")
        fits(page)

        # Menu → Advising → the advisor → a time → book.
        follow_nav(page, "Advising")
        expect(page.get_by_role("heading", level=1)).to_have_text("Academic advising")
        page.get_by_role("link", name=ADVISOR_NAME, exact=True).tap()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Book with {ADVISOR_NAME}")
        fits(page)
        shown_time, shown_day = pick_first_time(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
        page.get_by_label("What would you like to talk about?", exact=True).select_option(
            label="Study skills"
        )
        fits(page)
        page.get_by_role("button", name="Book this time").tap()
        expect(flash(page)).to_have_text(
            "Your appointment is booked. A confirmation is on its way."
        )
        expect(page.locator("main")).to_contain_text(f"{shown_day}, {shown_time}")
        fits(page)
    finally:
        context.close()
