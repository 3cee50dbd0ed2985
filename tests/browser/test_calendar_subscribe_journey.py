"""The Copy button on "Your calendar" in headless Chromium (issue #18)."""

import re

import pytest
from playwright.sync_api import expect

from crp_portal.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import follow_nav, sign_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser

FEED = re.compile(r"^http://127\.0\.0\.1:\d+/calendar/[\w-]+\.ics$")


def test_copy_puts_the_private_address_on_the_clipboard_and_says_copied(app, page):
    with app.app_context():
        make_user("student", email="casey@example.edu", name="Casey Moreno")
        db.session.remove()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "casey@example.edu", PASSWORD)
    follow_nav(page, "Calendar")
    address = page.get_by_label("Your private calendar address")
    expect(address).to_have_value(FEED)

    page.get_by_role("button", name="Copy", exact=True).click()

    expect(page.locator("[aria-live=polite]")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == address.input_value()
    assert_accessible(page)
