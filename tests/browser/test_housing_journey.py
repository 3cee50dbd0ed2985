"""Recovery housing through the real UI in headless Chromium: apply, offer, accept, inventory.

Each test runs against SQLite and PostgreSQL (the `app` fixture is parametrized). Nothing
is seeded: each test makes its own accounts, term, houses and agreement, then signs in
through the form. Emails go to a real SMTP server on loopback (the `smtp` fixture); they
are handed over after the request's commit, so they are in the inbox once the browser
shows the next page.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crp_portal.extensions import db
from crp_portal.housing.models import Bed, House, HouseAgreement, HousingApplication, Room
from crp_portal.timeutil import format_date, local_today
from tests.browser.axe import assert_accessible
from tests.browser.test_advising_journey import fact, flash, heading, signs_in
from tests.browser.test_events_journey import only_message
from tests.browser.test_journeys import follow_nav, main_nav
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_agreement, make_house, make_term, make_user

pytestmark = pytest.mark.browser

STAFF_EMAIL, STAFF_NAME = "journey.housing@example.edu", "Jordan Housing"
STUDENT_EMAIL, STUDENT_NAME = "journey.resident@example.edu", "Robin Resident"
TERM_NAME = "Journey Term"
HOUSE_NAME = "Maple House"
AGREEMENT = "Keep Maple House substance-free.\nCome to the Sunday house meeting."
ACKNOWLEDGE = "I have read the house agreement and agree to follow it"


@dataclass(frozen=True)
class Arranged:
    term_name: str
    house_name: str


def arrange_housing(app) -> Arranged:
    """Staff, a member student, a current term, Maple House (1 room, 2 beds), an agreement."""
    with app.app_context():
        today = local_today()
        staff = make_user("staff", email=STAFF_EMAIL, name=STAFF_NAME)
        make_user("student", email=STUDENT_EMAIL, name=STUDENT_NAME)
        make_term(TERM_NAME, today - timedelta(days=10), today + timedelta(days=100))
        make_house(HOUSE_NAME, rooms=1, beds_per_room=2)
        make_agreement(AGREEMENT, staff=staff)
        db.session.remove()
    return Arranged(TERM_NAME, HOUSE_NAME)


def count_of(app, model) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return found


def new_page(browser, live_server):
    """A second person's browser: its own context, so its own session cookie."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context, context.new_page()


def open_apply_form(page) -> None:
    follow_nav(page, "Housing")
    expect(heading(page)).to_have_text("Recovery housing")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("Housing")
    page.get_by_role("link", name="Apply for housing").click()
    expect(heading(page)).to_have_text("Apply for recovery housing")


def house_heading(page):
    return page.locator("main").get_by_role("heading", level=2)


def board_row(page, house: str, bed: str):
    table = page.get_by_role("table", name=f"Beds in {house}")
    return table.locator("tbody tr").filter(has=page.locator(f'td:text-is("{bed}")'))


def test_student_applies_staff_offer_student_accepts_board_updates(
    smtp, app, browser, live_server, page
):
    arranged = arrange_housing(app)
    with app.app_context():
        reply_by = local_today() + timedelta(days=7)
        shown_reply_by = format_date(reply_by)

    # The student applies.
    signs_in(page, STUDENT_EMAIL, STUDENT_NAME)
    follow_nav(page, "Housing")

    expect(heading(page)).to_have_text("Recovery housing")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("Housing")
    expect(page.get_by_role("table", name="Your housing applications")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="Apply for housing").click()

    expect(heading(page)).to_have_text("Apply for recovery housing")
    agreement = page.get_by_role("region", name="House agreement (version 1)")
    expect(agreement).to_contain_text("Keep Maple House substance-free.")
    expect(agreement).to_contain_text("Come to the Sunday house meeting.")
    assert_accessible(page)
    page.get_by_label("Term", exact=True).select_option(label=arranged.term_name)
    page.get_by_label("First choice of house", exact=True).select_option(label=arranged.house_name)
    page.get_by_label(ACKNOWLEDGE, exact=True).check()
    page.get_by_role("button", name="Send my application").click()

    expect(flash(page)).to_have_text("Your application is in. We have emailed you a copy.")
    expect(heading(page)).to_have_text(f"Housing application: {arranged.term_name}")
    expect(fact(page, "Status")).to_have_text("Submitted")
    expect(fact(page, "First choice")).to_have_text(arranged.house_name)
    expect(fact(page, "House agreement")).to_contain_text("Version 1, acknowledged ")
    expect(page.get_by_role("region", name="Your bed")).to_have_count(0)
    application_url = page.url

    received = only_message(smtp, STUDENT_EMAIL, "Housing application received")
    assert received["Subject"] == f"Housing application received ({arranged.term_name})"
    assert application_url.rsplit("/", 1)[-1] in smtp.text_of(received)

    # Staff offer a bed.
    staff_context, staff_page = new_page(browser, live_server)
    try:
        signs_in(staff_page, STAFF_EMAIL, STAFF_NAME)
        follow_nav(staff_page, "Housing")

        expect(heading(staff_page)).to_have_text("Housing applications")
        expect(main_nav(staff_page).locator("a[aria-current=page]")).to_have_text("Housing")
        rows = staff_page.get_by_role("table", name=f"Applications for {arranged.term_name}")
        expect(rows.locator("tbody tr")).to_have_count(1)
        expect(rows.locator("tbody tr").first.locator("td")).to_contain_text(
            [STUDENT_NAME, arranged.house_name, "Submitted"]
        )
        assert_accessible(staff_page)
        rows.get_by_role("link", name=STUDENT_NAME, exact=True).click()

        expect(heading(staff_page)).to_have_text(f"{STUDENT_NAME}: {arranged.term_name}")
        expect(fact(staff_page, "Email")).to_have_text(STUDENT_EMAIL)
        expect(fact(staff_page, "Choices")).to_have_text(arranged.house_name)
        expect(fact(staff_page, "Status")).to_have_text("Submitted")
        bed = staff_page.get_by_label("Bed", exact=True)
        expect(bed.locator("option")).to_have_text(
            [
                f"{arranged.house_name}, room 1, bed A (accessible)",
                f"{arranged.house_name}, room 1, bed B",
            ]
        )
        # The form starts on the first-choice house's bed that is not accessible: the
        # student wrote no accessibility needs, so the accessible bed stays free.
        expect(bed.locator("option:checked")).to_have_text(f"{arranged.house_name}, room 1, bed B")
        expect(staff_page.get_by_label("Reply by", exact=True)).to_have_value(reply_by.isoformat())
        assert_accessible(staff_page)
        bed.select_option(index=0)
        staff_page.get_by_role("button", name="Offer this bed").click()

        expect(flash(staff_page)).to_have_text(
            f"Bed offered to {STUDENT_NAME}; they have been emailed."
        )
        expect(heading(staff_page)).to_have_text(f"Assignment board: {arranged.term_name}")
        expect(house_heading(staff_page)).to_have_text(f"{arranged.house_name}: 0% occupied")
        expect(board_row(staff_page, arranged.house_name, "A (accessible)")).to_contain_text(
            f"{STUDENT_NAME} · Offered (reply by {shown_reply_by})"
        )
        expect(board_row(staff_page, arranged.house_name, "B")).to_contain_text("Free")
        assert_accessible(staff_page)

        offer = only_message(smtp, STUDENT_EMAIL, "Housing offer (")
        assert offer["Subject"] == f"Housing offer ({arranged.term_name})"
        offer_text = smtp.text_of(offer)
        assert f"at {arranged.house_name}" in offer_text
        assert "room 1, bed A" in offer_text
        assert f"Please accept or decline by {shown_reply_by}" in offer_text
        assert application_url.rsplit("/", 1)[-1] in offer_text

        # The student accepts.
        page.reload()

        expect(fact(page, "Status")).to_have_text("Offered a bed")
        your_bed = page.get_by_role("region", name="Your bed")
        expect(your_bed).to_contain_text(f"{arranged.house_name}, room 1, bed A (accessible)")
        expect(your_bed).to_contain_text("Status: Offered")
        expect(your_bed).to_contain_text(f"Please reply by {shown_reply_by}.")
        assert_accessible(page)
        your_bed.get_by_role("button", name="Accept this bed").click()

        expect(flash(page)).to_have_text(
            "You accepted the bed. Welcome home! A confirmation is on its way."
        )
        expect(heading(page)).to_have_text("Recovery housing")
        mine = page.get_by_role("table", name="Your housing applications").locator("tbody tr")
        expect(mine).to_have_count(1)
        expect(mine.first.locator("td").nth(0)).to_have_text(arranged.term_name)
        expect(mine.first.locator("td").nth(2)).to_have_text("Accepted")
        confirmed = only_message(smtp, STUDENT_EMAIL, "Housing assignment confirmed")
        assert confirmed["Subject"] == f"Housing assignment confirmed ({arranged.term_name})"

        # Staff see the board update.
        staff_page.reload()

        expect(house_heading(staff_page)).to_have_text(f"{arranged.house_name}: 50% occupied")
        expect(staff_page.get_by_text("1 of 2 beds taken")).to_be_visible()
        accepted = board_row(staff_page, arranged.house_name, "A (accessible)")
        expect(accepted).to_contain_text(f"{STUDENT_NAME} · Accepted")
        expect(accepted).not_to_contain_text("reply by")
        expect(
            accepted.get_by_role("link", name=f"End residency of {STUDENT_NAME}")
        ).to_be_visible()
        expect(board_row(staff_page, arranged.house_name, "B")).to_contain_text("Free")
        assert_accessible(staff_page)
    finally:
        staff_context.close()


def test_applying_without_acknowledging_shows_the_error_in_place(app, page):
    arranged = arrange_housing(app)
    message = "Acknowledge the house agreement to apply."
    signs_in(page, STUDENT_EMAIL, STUDENT_NAME)
    open_apply_form(page)

    page.get_by_label("Term", exact=True).select_option(label=arranged.term_name)
    page.get_by_label("First choice of house", exact=True).select_option(label=arranged.house_name)
    page.get_by_label("Roommate request (optional)", exact=True).fill("Sam")
    page.get_by_role("button", name="Send my application").click()

    expect(heading(page)).to_have_text("Apply for recovery housing")
    expect(page.get_by_role("alert")).to_contain_text(f"{ACKNOWLEDGE}: {message}")
    acknowledge = page.get_by_label(ACKNOWLEDGE, exact=True)
    expect(acknowledge).not_to_be_checked()
    expect(acknowledge).to_have_attribute("aria-invalid", "true")
    expect(acknowledge).to_have_attribute("aria-describedby", re.compile(r"\backnowledge-error\b"))
    expect(acknowledge).to_have_accessible_description(message)
    expect(page.locator("#acknowledge-error")).to_have_text(message)
    expect(page.get_by_label("Roommate request (optional)", exact=True)).to_have_value("Sam")
    expect(
        page.get_by_label("First choice of house", exact=True).locator("option:checked")
    ).to_have_text(arranged.house_name)
    expect(flash(page)).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("link", name="Back").click()
    expect(heading(page)).to_have_text("Recovery housing")
    expect(page.get_by_role("table", name="Your housing applications")).to_have_count(0)
    assert count_of(app, HousingApplication) == 0


def test_staff_manage_houses_and_the_agreement(app, page):
    with app.app_context():
        make_user("staff", email=STAFF_EMAIL, name=STAFF_NAME)
        db.session.remove()
    signs_in(page, STAFF_EMAIL, STAFF_NAME)
    follow_nav(page, "Housing")
    expect(heading(page)).to_have_text("Housing applications")

    page.get_by_role("link", name="Houses, rooms and beds").click()

    expect(heading(page)).to_have_text("Houses, rooms and beds")
    expect(page.get_by_text("No houses yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Add a house").click()

    expect(heading(page)).to_have_text("Add a house")
    expect(page.get_by_label("Who may live here", exact=True)).to_have_value("All genders")
    expect(page.get_by_label("Taking residents", exact=True)).to_be_checked()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("Birch House")
    page.get_by_label("Address", exact=True).fill("4 Birch Lane")
    page.get_by_label("Who may live here", exact=True).fill("Women and non-binary students")
    page.get_by_label("House meeting schedule", exact=True).fill("Mondays 8 pm")
    page.get_by_role("button", name="Save house").click()

    expect(flash(page)).to_have_text("Birch House is added. Now add its rooms and beds.")
    expect(heading(page)).to_have_text("Birch House")
    expect(page.get_by_text("4 Birch Lane · Women and non-binary students")).to_contain_text(
        "House meetings: Mondays 8 pm"
    )
    expect(page.get_by_text("No rooms yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Room name", exact=True).fill("2B")
    page.get_by_role("button", name="Add room").click()

    expect(flash(page)).to_have_text("Room 2B is added.")
    room = page.get_by_role("region", name="Room 2B")
    expect(room.get_by_text("No beds yet.")).to_be_visible()
    room.get_by_label("Bed label", exact=True).fill("Window")
    room.get_by_label("Accessible", exact=True).check()
    room.get_by_role("button", name="Add bed to room 2B").click()

    expect(flash(page)).to_have_text("Bed Window is added to room 2B.")
    beds = room.get_by_role("listitem")
    expect(beds).to_have_count(1)
    expect(beds.first).to_contain_text("Bed Window (accessible)")
    expect(
        beds.first.get_by_role("button", name="Take out of use for bed Window in room 2B")
    ).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="All houses").click()
    houses = page.get_by_role("table", name="Recovery houses").locator("tbody tr")
    expect(houses).to_have_count(1)
    expect(houses.first.locator("td")).to_have_text(
        ["Birch House", "4 Birch Lane", "Women and non-binary students", "1 of 1", "Yes"]
    )
    assert_accessible(page)
    page.get_by_role("link", name="House agreement").click()

    expect(heading(page)).to_have_text("House agreement")
    expect(
        page.get_by_text("No agreement is published yet, so students cannot apply.")
    ).to_be_visible()
    body = page.get_by_label("Agreement text", exact=True)
    expect(body).to_have_accessible_description(
        "Publishing creates a new version; earlier applications keep theirs."
    )
    assert_accessible(page)
    body.fill(AGREEMENT)
    page.get_by_role("button", name="Publish the agreement").click()

    expect(flash(page)).to_have_text("Version 1 of the house agreement is published.")
    expect(page.get_by_text(re.compile(r"^Version 1, published "))).to_be_visible()
    expect(page.get_by_label("Agreement text", exact=True)).to_have_value(AGREEMENT)
    expect(page.get_by_role("button", name="Publish a new version")).to_be_visible()
    assert_accessible(page)

    with app.app_context():
        house = db.session.scalar(select(House).where(House.name == "Birch House"))
        assert [(r.name, [(b.label, b.accessible) for b in r.beds]) for r in house.rooms] == [
            ("2B", [("Window", True)])
        ]
        assert [a.version for a in db.session.scalars(select(HouseAgreement))] == [1]
        db.session.remove()
    assert count_of(app, Room) == 1
    assert count_of(app, Bed) == 1
