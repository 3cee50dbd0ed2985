"""A student's home on a phone is a to-do list (issue #22): they tap through to read an
advising summary and to check in, and each item leaves the list once done, until the
home says nothing needs them. Runs against SQLite and PostgreSQL (the `app` fixture)."""

import pytest
from playwright.sync_api import expect

from crp_portal.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import sign_in
from tests.browser.test_members_journey import scale
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import PASSWORD, make_appointment, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_a_student_works_through_their_home_on_a_phone(app, browser, live_server):
    with app.app_context():
        advisor = make_user("advisor", name="Dana Advisor")
        student = make_user("student", email="home.student@example.edu", name="Riley Home")
        make_appointment(
            advisor, student, days_ahead=-3, status="completed",
            summary="We planned your spring courses.", action_items="Email the registrar",
        )  # fmt: skip
        email = student.email
        db.session.remove()
    phone = browser.new_context(
        base_url=live_server.url, bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = phone.new_page()
        sign_in(page, email, PASSWORD)
        to_do = page.locator("section", has=page.get_by_role("heading", name="To do"))
        expect(to_do.locator(".todo-what")).to_have_text(
            ["Read your advising summary", "Do this week's check-in"]
        )
        assert page.title().startswith("Home")  # the tab names nothing else
        assert_accessible(page)

        to_do.get_by_role("link", name="Read it").click()
        expect(page.get_by_text("We planned your spring courses.")).to_be_visible()
        page.goto("/")  # (the menu is another part of #22; the journey does not lean on it)
        expect(to_do.locator(".todo-what")).to_have_text(["Do this week's check-in"])

        to_do.get_by_role("link", name="Check in").click()
        scale(page, "How has your mood been this week?", "4")
        scale(page, "How stressed have you felt?", "2")
        scale(page, "How have you slept?", "4")
        page.get_by_role("button", name="Save my check-in").click()
        expect(page.get_by_text("Your check-in is saved.")).to_be_visible()
        page.goto("/")
        expect(to_do).to_contain_text("Nothing needs you right now.")
        assert_accessible(page)
    finally:
        phone.close()
