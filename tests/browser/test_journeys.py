"""Journeys through the real UI in headless Chromium, with an axe-core scan on every page.

Each test runs against SQLite and PostgreSQL (the `app` fixture is parametrized); the live
server shares the test's database, so demo data is seeded before the browser navigates.
"""

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crp_portal import demo
from crp_portal.extensions import db
from crp_portal.terms.models import CalendarPeriod
from crp_portal.timeutil import format_date
from tests.browser.axe import assert_accessible
from tests.browser.focus import focus_stops, ring_problem
from tests.snapshots import demo_program

pytestmark = pytest.mark.browser

MAIN_NAV = "nav[aria-label=Main] a"
STUDENT_EVENTS = ["Upcoming events", "My events", "Calendar"]
STUDENT_SUPPORT = ["Check-in", "My plan", "Support network", "Support meetings"]
STUDENT_ACCOUNT = ["My profile", "Password", "Who opened my records"]
STUDENT_NAV = ["Home", *STUDENT_EVENTS, "Advising", "Housing", *STUDENT_SUPPORT, *STUDENT_ACCOUNT]
PEOPLE = ["Members", "Applications", "Follow-ups", "Mentoring"]
ROLES = {
    "student": ("student@example.edu", "Alex", "Student", STUDENT_NAV),
    "peer mentor": (
        "student01@example.edu",
        "Avery Silva",
        "Student",
        ["Home", *STUDENT_EVENTS, "Advising", "Housing", *STUDENT_SUPPORT, "Mentees"]
        + STUDENT_ACCOUNT,
    ),
    "applicant": (
        "student33@example.edu",
        "Gia Brooks",
        "Student",
        ["Home", "Your application", *STUDENT_EVENTS, *STUDENT_SUPPORT, *STUDENT_ACCOUNT],
    ),
    "advisor": (
        "advisor@example.edu",
        "Priya Shah",
        "Advisor",
        ["Home", "Agenda", "Book for a student", "Availability", "Calendar", "Password"],
    ),
    "housing staff": (
        "housing@example.edu",
        "Jordan Blake",
        "Staff",
        ["Home", "Events", "Housing", "Password"],
    ),
    "events staff": (
        "events@example.edu",
        "Sam Whitaker",
        "Staff",
        ["Home", "Upcoming events", "Support meetings", "Password"],
    ),
    "reports staff": (
        "reports@example.edu",
        "Robin Castillo",
        "Staff",
        ["Home", "Dashboard", "Outcomes", "Advising", "Password"],
    ),
    "admin": (
        "staff@example.edu",
        "Morgan Ellis",
        "Staff (admin)",
        [
            *PEOPLE,
            "Upcoming events",
            "Support meetings",
            "Housing",
            "Campaigns",
            "Delivery log",
            "Terms",
            "Dashboard",
            "Outcomes",
            "Advising",
            "Accounts",
            "Invitations",
            "Import roster",
            "Audit log",
            "Password",
        ],
    ),
}


@pytest.fixture
def demo_today(app) -> date:
    """The demo program in the test database (restored from this process's snapshot of
    it after the first time: tests/snapshots.py); returns the program's today."""
    with app.app_context():
        today = demo_program()
        db.session.remove()
    return today


def main_nav(page):
    """The main navigation, shown or not (on a phone it waits behind the Menu button)."""
    return page.locator("nav[aria-label=Main]")


def nav_control(page, name: str, role: str = "link"):
    """A link (or the Sign out button) of the main navigation, made visible the way a
    person would: the phone's Menu button opened if it is shown, then the item's group."""
    nav = main_nav(page)
    menu = page.locator("details[data-site-menu]")
    if not menu.evaluate("menu => menu.open"):
        button = menu.locator(":scope > summary")
        if button.is_visible():
            button.click()
    anywhere = page.get_by_role(role, name=name, exact=True, include_hidden=True)
    group = nav.locator("details[data-nav-group]").filter(has=anywhere)
    if group.count() and not group.evaluate("group => group.open"):
        group.locator(":scope > summary").click()
    control = nav.get_by_role(role, name=name, exact=True)
    expect(control).to_be_visible()
    return control


def follow_nav(page, name: str) -> None:
    """Click the main navigation's link `name`, opening its menus first."""
    nav_control(page, name).click()


def sign_out(page) -> None:
    nav_control(page, "Sign out", role="button").click()


def sign_in(page, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def open_page(page, path: str, status: int = 200):
    response = page.goto(path)
    assert response is not None, f"no response for {path}"
    assert response.status == status, f"{path} answered {response.status}, expected {status}"
    return response


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_can_use_every_page_in_its_navigation(demo_today, page, role):
    email, greeting, role_label, nav_labels = ROLES[role]

    sign_in(page, email)

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {greeting}")
    expect(page.get_by_text("Signed in as")).to_have_text(f"Signed in as {greeting} · {role_label}")
    links = page.locator(MAIN_NAV).evaluate_all(
        "links => links.map(a => [a.textContent.trim(), a.getAttribute('href')])"
    )
    assert [label for label, _ in links] == nav_labels

    for label, href in links:
        response = page.goto(href)
        assert response is not None and response.ok, (
            f"{role}: nav link {label!r} ({href}) answered {response and response.status}"
        )
        assert urlsplit(response.url).path == href, (
            f"{role}: nav link {label!r} ({href}) ended on {response.url}"
        )
        expect(page.locator(f"{MAIN_NAV}[aria-current=page]")).to_have_text(label)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
        weak = [problem for stop in focus_stops(page, most=30) if (problem := ring_problem(stop))]
        assert not weak, f"{role}: weak focus rings on {href}: {weak}"

    sign_out(page)

    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(main_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)


ANONYMOUS_PAGES = [
    ("/", 200, "Student Portal"),
    ("/sign-in", 200, "Sign in"),
    ("/reset-password", 200, "Reset your password"),
    ("/no-such-page", 404, "Page not found"),
]


def test_anonymous_pages_are_accessible(page):
    for path, status, heading in ANONYMOUS_PAGES:
        open_page(page, path, status)

        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(main_nav(page).get_by_role("link", name="Sign in")).to_be_visible()
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        assert_accessible(page)
    expect(page.get_by_text("Error 404.")).to_be_visible()


def test_wrong_password_error_is_shown_and_tied_to_the_field(demo_today, page):
    message = "That email and password do not match an active account."

    sign_in(page, "student@example.edu", "not-the-password")

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("alert")).to_contain_text(f"Password: {message}")
    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", re.compile(r"\bpassword-error\b"))
    expect(password).to_have_accessible_description(message)
    expect(page.locator("#password-error")).to_have_text(message)
    expect(page.get_by_label("Email address", exact=True)).to_have_value("student@example.edu")
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    assert_accessible(page)


def test_student_is_not_allowed_into_admin_pages(demo_today, page):
    sign_in(page, "student@example.edu")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Alex")

    open_page(page, "/admin/accounts", status=403)

    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_text("Error 403.")).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Accounts")).to_have_count(0)
    assert_accessible(page)


def test_staff_adds_a_term_and_its_periods(demo_today, page, app):
    year = demo_today.year + 5
    term_name = f"Fall {year}"
    first_day, last_day = date(year, 8, 24), date(year, 12, 18)
    finals_start = date(year, 12, 12)
    sign_in(page, "staff@example.edu")

    follow_nav(page, "Terms")
    expect(page.get_by_role("heading", level=1)).to_have_text("Academic terms")
    page.get_by_role("link", name="Add a term").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a term")
    page.get_by_label("Name", exact=True).fill(term_name)
    page.get_by_label("First day", exact=True).fill(first_day.isoformat())
    page.get_by_label("Last day", exact=True).fill(last_day.isoformat())
    page.get_by_role("button", name="Save term").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(term_name)
    expect(page.get_by_role("status")).to_have_text(
        f"{term_name} is added. Now add its calendar periods."
    )
    expect(page.get_by_text(f"{format_date(first_day)} to {format_date(last_day)}")).to_be_visible()
    expect(page.get_by_text("No periods yet.")).to_be_visible()

    page.get_by_label("Kind", exact=True).select_option(label="Finals")
    page.get_by_label("Starts", exact=True).fill(finals_start.isoformat())
    page.get_by_label("Ends", exact=True).fill(last_day.isoformat())
    page.get_by_role("button", name="Add period").click()

    expect(page.get_by_role("status")).to_have_text(f"Finals is added to {term_name}.")
    periods = page.get_by_role("table", name=f"Calendar periods of {term_name}")
    expect(periods.locator("tbody tr")).to_have_count(1)
    expect(periods.locator("tbody tr").first.locator("td").nth(0)).to_have_text("Finals")
    expect(periods.locator("tbody tr").first).to_contain_text(format_date(finals_start))
    assert_accessible(page)

    page.get_by_label("Kind", exact=True).select_option(label="Reading days")
    page.get_by_label("Name (optional)", exact=True).fill("Reading days")
    page.get_by_label("Starts", exact=True).fill(date(year, 12, 10).isoformat())
    page.get_by_label("Ends", exact=True).fill(date(year, 12, 5).isoformat())
    page.get_by_role("button", name="Add period").click()

    message = "The end date must be on or after the start date."
    expect(page.get_by_role("alert")).to_contain_text(f"Ends: {message}")
    ends = page.get_by_label("Ends", exact=True)
    expect(ends).to_have_attribute("aria-invalid", "true")
    expect(ends).to_have_accessible_description(message)
    expect(ends).to_have_value(date(year, 12, 5).isoformat())
    expect(page.get_by_label("Name (optional)", exact=True)).to_have_value("Reading days")
    expect(periods.locator("tbody tr")).to_have_count(1)
    expect(periods).not_to_contain_text("Reading days")
    expect(page.get_by_role("status")).to_have_count(0)
    assert_accessible(page)
    with app.app_context():
        saved = db.session.scalar(
            select(func.count())
            .select_from(CalendarPeriod)
            .where(
                CalendarPeriod.name == "Reading days",
                CalendarPeriod.term.has(name=term_name),  # the demo's terms have theirs
            )
        )
        db.session.remove()
    assert saved == 0


def test_admin_invites_an_advisor_and_finds_an_account(demo_today, page):
    invitee = "new.advisor@example.edu"
    sign_in(page, "staff@example.edu")

    follow_nav(page, "Invitations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitations")
    expect(page.get_by_text("No invitations are waiting.")).to_be_visible()
    page.get_by_label("Email address", exact=True).fill(invitee)
    page.get_by_label("Role", exact=True).select_option(label="Advisor")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("status")).to_have_text(f"Invitation sent to {invitee}.")
    expect(page.get_by_role("heading", name="Waiting to be accepted")).to_be_visible()
    pending = page.get_by_role("table", name="Pending invitations").locator("tbody tr")
    expect(pending).to_have_count(1)
    expect(pending.first.locator("td").nth(0)).to_have_text(invitee)
    expect(pending.first.locator("td").nth(1)).to_have_text("Advisor")

    follow_nav(page, "Accounts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    page.get_by_label("Name or email", exact=True).fill("priya")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"[?&]q=priya\b"))
    expect(page.get_by_text("1 account.")).to_be_visible()
    accounts = page.get_by_role("table", name="Accounts matching the filter").locator("tbody tr")
    expect(accounts).to_have_count(1)
    expect(accounts.first.get_by_role("link")).to_have_text("Priya Shah")
    expect(accounts.first).to_contain_text("advisor@example.edu")
    expect(accounts.first).to_contain_text("Advisor")
    expect(page.get_by_label("Name or email", exact=True)).to_have_value("priya")
    assert_accessible(page)


def test_first_tab_on_sign_in_reaches_the_skip_link(page):
    open_page(page, "/sign-in")
    # Let the page settle as it would before a person presses a key: the browser applies
    # `autofocus` while updating the rendering, which is done by the second animation frame.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip, "the first Tab on the sign-in page should reach the skip link").to_be_focused(
        timeout=1000
    )
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
