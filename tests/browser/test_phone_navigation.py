"""Navigation that fits a thumb, in a phone-sized browser (390×844 CSS px).

For each demo role: the phone's one Menu button opens the role's groups, the open menu
passes axe, and signing out stays in reach; the menus open and their links work both
without JavaScript (plain <details>) and with it (nav.js: one group open at a time,
Escape closes and gives focus back, a click outside closes), under the portal's own
strict Content-Security-Policy. That every page (those in the navigation among them)
starts its own heading within 120 px of the top is checked on the whole crawl, in
tests/browser/test_reflow_and_targets.py.
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from crp_portal.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import ROLES, follow_nav, main_nav, sign_in, sign_out
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.snapshots import demo_program

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HEADING_MOST_PX = 120
HEADING_TOP = """() => {
  const heading = document.querySelector("main h1");
  return heading && heading.getBoundingClientRect().top + window.scrollY;
}"""


@pytest.fixture
def demo_today(app):
    """The demo program, whose accounts the roles sign in with."""
    with app.app_context():
        today = demo_program()
        db.session.remove()
    return today


def phone_page(browser, live_server, javascript: bool = True, axe: bool = False):
    """A phone-sized page that keeps the portal's CSP (nav.js must obey it), unless axe
    is to be injected."""
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=javascript, bypass_csp=axe
    )
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context, context.new_page()


def nav_hrefs(page) -> list[tuple[str, str]]:
    return page.locator("nav[aria-label=Main] a").evaluate_all(
        "links => links.map(a => [a.textContent.trim(), a.getAttribute('href')])"
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_each_roles_phone_menu_holds_its_groups_and_sign_out(
    demo_today, browser, live_server, role
):
    email, _greeting, _label, nav_labels = ROLES[role]
    context, page = phone_page(browser, live_server, axe=True)
    sign_in(page, email)
    assert [label for label, _ in nav_hrefs(page)] == nav_labels
    top = page.evaluate(HEADING_TOP)
    assert top is not None and top <= HEADING_MOST_PX, f"{role}: home heading {top} px down"
    page.get_by_text("Menu", exact=True).click()
    page.locator("nav[aria-label=Main] summary").first.click()
    assert_accessible(page)  # the open menu and its open group
    # Sign out stays in reach: Menu, then Account.
    sign_out(page)
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    context.close()


def test_without_javascript_the_menu_and_groups_open_and_their_links_work(
    demo_today, browser, live_server
):
    context, page = phone_page(browser, live_server, javascript=False)
    sign_in(page, "student@example.edu")
    menu_button = page.get_by_text("Menu", exact=True)
    nav = main_nav(page)

    expect(menu_button).to_be_visible()
    expect(nav).to_be_hidden()
    menu_button.click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Home", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="My events", exact=True)).to_be_hidden()
    nav.get_by_text("Events", exact=True).click()
    nav.get_by_role("link", name="My events", exact=True).click()

    expect(page).to_have_url(re.compile(r"/events/mine$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My events")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("My events")
    expect(main_nav(page).locator("summary[aria-current]")).to_have_text("Events")

    # Wide screens show the groups in the header, no Menu button, still without script.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(menu_button).to_be_hidden()
    expect(nav).to_be_visible()
    follow_nav(page, "Who opened my records")
    expect(page).to_have_url(re.compile(r"/me/record-views$"))
    sign_out(page)
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    context.close()


def test_with_javascript_one_group_opens_at_a_time_and_escape_or_outside_closes(
    demo_today, browser, live_server
):
    context, page = phone_page(browser, live_server)
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    sign_in(page, "staff@example.edu")
    nav = main_nav(page)
    people, nudges = (nav.locator("summary", has_text=name) for name in ("People", "Nudges"))

    page.get_by_text("Menu", exact=True).click()
    people.click()
    expect(nav.get_by_role("link", name="Members", exact=True)).to_be_visible()
    nudges.click()
    expect(nav.get_by_role("link", name="Campaigns", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Members", exact=True)).to_be_hidden()

    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Campaigns", exact=True)).to_be_hidden()
    expect(nudges).to_be_focused()
    page.keyboard.press("Escape")  # then the phone's menu itself
    expect(nav).to_be_hidden()
    expect(page.get_by_text("Menu", exact=True)).to_be_focused()

    # On a wide screen a click on the page closes an open group.
    page.set_viewport_size({"width": 1280, "height": 800})
    people.click()
    expect(nav.get_by_role("link", name="Members", exact=True)).to_be_visible()
    page.mouse.click(5, 700)  # the page's margin, below the open menu
    expect(nav.get_by_role("link", name="Members", exact=True)).to_be_hidden()

    follow_nav(page, "Delivery log")
    expect(page).to_have_url(re.compile(r"/nudges/outbox$"))
    assert urlsplit(page.url).path == "/nudges/outbox"
    assert errors == [], f"script errors (the CSP would block inline code): {errors}"
    context.close()
