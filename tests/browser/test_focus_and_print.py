"""What keyboard users and people who print see, in headless Chromium (issue #18).

Focus: every page of every role's navigation is checked in the journeys (its first 30
stops: header, navigation and the start of the page); here, on a few pages each role
visits, Tab through every stop (links, buttons, fields,
the date field's own picker button) and measure, in the page, the focus ring's colours
and the background behind it; the ring must reach 3:1 (WCAG 1.4.11) against every
background it sits on. A ring may be two-tone (WCAG technique C40): it passes where
either tone reaches 3:1, so a dark outline with a light halo reads on white and on the
blue header alike.

Print: with print media emulated, the attendance page prints a sign-in sheet of the
roster (and no check-in code), the relapse-prevention plan prints its text, and the
dashboard report prints its figures; none of them prints the navigation or buttons.

The demo program is seeded, as in the journeys, and each test runs against SQLite and
PostgreSQL (the `app` fixture is parametrized).
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crp_portal.events import attendance
from crp_portal.events.models import Event, Rsvp
from crp_portal.extensions import db
from crp_portal.timeutil import utcnow
from tests import snapshots
from tests.browser.focus import focus_stops, ring_problem
from tests.browser.test_journeys import main_nav, open_page, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_program(app) -> None:
    """The demo program of the journeys in the test database (tests/snapshots.py)."""
    with app.app_context():
        snapshots.demo_program()
        db.session.remove()


def arrange_open_event(app) -> int:
    """A demo event with RSVPs that has started, so its attendance page is fully working."""
    with app.app_context():
        event = db.session.scalars(
            select(Event)
            .where(Event.headcount_only.is_(False), Event.starts_at > utcnow())
            .where(Event.id.in_(select(Rsvp.event_id)))
            .order_by(Event.starts_at)
            .limit(1)
        ).one()
        event.starts_at = utcnow() - timedelta(minutes=5)
        event.ends_at = event.starts_at + timedelta(hours=1)
        db.session.commit()
        event_id = event.id
        db.session.remove()
    return event_id


@dataclass(frozen=True)
class Visit:
    email: str | None  # None: not signed in
    paths: tuple[str, ...]
    has_date_field: bool = False


ATTENDANCE = "{attendance}"
VISITS = {
    "anonymous": Visit(None, ("/sign-in", "/reset-password")),
    "student": Visit("student@example.edu", ("/", "/events/", "/me/plan", "/me/profile"), True),
    "advisor": Visit("advisor@example.edu", ("/", "/advising/agenda")),
    "events staff": Visit("events@example.edu", ("/events/new", ATTENDANCE), True),
    "reports staff": Visit("reports@example.edu", ("/dashboard/",), True),
}


@pytest.mark.parametrize("role", list(VISITS))
def test_the_focus_ring_stands_out_on_every_background(app, demo_program, page, role):
    visit = VISITS[role]
    paths = list(visit.paths)
    if ATTENDANCE in paths:
        paths[paths.index(ATTENDANCE)] = f"/events/{arrange_open_event(app)}/attendance"
    if visit.email:
        sign_in(page, visit.email)
        expect(
            main_nav(page).get_by_role("button", name="Sign out", include_hidden=True)
        ).to_have_count(1)

    problems, stops_seen, picker_stops = [], 0, 0
    for path in paths:
        open_page(page, path)
        stops = focus_stops(page)
        assert len(stops) >= 5, f"{path}: only {len(stops)} focus stops"
        stops_seen += len(stops)
        picker_stops += sum(1 for stop in stops if stop["dateField"] and stop["pickerButton"])
        for stop in stops:
            if problem := ring_problem(stop):
                problems.append(f"{path}: {problem}")

    assert not problems, f"{role}: {len(problems)} weak focus rings in {stops_seen} stops:\n" + (
        "\n".join(problems)
    )
    if visit.has_date_field:
        assert picker_stops, f"{role}: Tab never reached a date field's picker button"


def printing(page) -> None:
    page.emulate_media(media="print")


def test_the_sign_in_sheet_prints_the_names_of_those_going_without_the_check_in_code(
    app, demo_program, page
):
    event_id = arrange_open_event(app)
    with app.app_context():
        event = db.session.get(Event, event_id)
        title = event.title
        people = [
            person for person, status, _present in attendance.roster(event) if status == "going"
        ]
        names = [person.display_name for person in people]
        legal_names = [person.name for person in people if person.name != person.display_name]
        db.session.remove()
    assert len(names) >= 3 and legal_names  # the demo has someone with a preferred name
    sign_in(page, "events@example.edu")
    open_page(page, f"/events/{event_id}/attendance")
    code = page.locator(".checkin-code").inner_text().strip()
    page.get_by_role("link", name="Sign-in sheet to print").click()
    expect(page).to_have_url(re.compile(rf"/events/{event_id}/sign-in-sheet$"))
    sheet = page.get_by_role("table", name=re.compile(r"^Sign-in sheet"))
    expect(sheet).to_be_visible()
    page.evaluate("() => { window.print = () => { document.body.dataset.printed = 'yes'; }; }")
    page.get_by_role("button", name="Print").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")

    printing(page)

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Sign-in sheet: {title}")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_role("columnheader")).to_have_text(["Name", "Signature"])
    for name in names:
        row = sheet.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
        expect(row).to_be_visible()
        expect(row.get_by_role("cell").last).to_have_text("")  # the space to sign
    for legal_name in legal_names:  # the sheet goes round the room: the name people go by
        expect(sheet).not_to_contain_text(legal_name)
    expect(page.get_by_text(code, exact=True)).to_have_count(0)
    expect(main_nav(page)).to_be_hidden()
    expect(page.get_by_role("contentinfo")).to_be_hidden()
    # Controls are left off the paper (hidden elements have no role to find).
    expect(page.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("link")).to_have_count(0)


def test_the_plan_prints_its_text_without_navigation_or_buttons(demo_program, page):
    sign_in(page, "student@example.edu")
    open_page(page, "/me/plan")
    expect(page.get_by_role("link", name="Edit my plan")).to_be_visible()

    printing(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("My relapse-prevention plan")
    expect(page.get_by_text("Skipping meals and sleep. Avoiding my roommates.")).to_be_visible()
    expect(page.get_by_text("Call Sam. Tuesday meeting. Run before class.")).to_be_visible()
    expect(page.get_by_text("Call Sam, then the campus crisis line.")).to_be_visible()
    expect(page.get_by_text("If you are in crisis now")).to_be_visible()
    expect(page.get_by_role("link", name="Edit my plan")).to_be_hidden()
    expect(page.get_by_role("link", name="Printable version")).to_be_hidden()
    expect(page.get_by_role("heading", name="Earlier versions")).to_be_hidden()
    expect(main_nav(page)).to_be_hidden()
    expect(page.get_by_text("Signed in as")).to_be_hidden()
    expect(page.get_by_role("button")).to_have_count(0)


def test_the_dashboard_prints_its_figures_without_navigation_or_controls(demo_program, page):
    sign_in(page, "reports@example.edu")
    members_table = page.get_by_role("table", name=re.compile(r"^Members by current status"))
    open_page(page, "/dashboard/print")

    printing(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Participation report")
    expect(members_table).to_be_visible()
    expect(
        members_table.get_by_role("row", name=re.compile(r"^Active (\d+|<\d+)$"))
    ).to_be_visible()
    expect(page.get_by_role("term").filter(has_text="Events held")).to_be_visible()
    expect(main_nav(page)).to_be_hidden()
    expect(page.get_by_text("Signed in as")).to_be_hidden()
    expect(page.get_by_role("contentinfo")).to_be_hidden()
    expect(page.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("link")).to_have_count(0)

    # Printed straight from the dashboard (Ctrl+P): the figures, not the filter form.
    open_page(page, "/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(members_table).to_be_visible()
    expect(page.get_by_label("From", exact=True)).to_be_hidden()
    expect(page.get_by_role("button")).to_have_count(0)
    expect(main_nav(page)).to_be_hidden()


def test_the_list_that_names_members_stays_on_screen_when_the_dashboard_prints(demo_program, page):
    sign_in(page, "staff@example.edu")
    open_page(page, "/dashboard/")
    falling = page.get_by_role("heading", name="Participation falling")
    expect(falling).to_be_visible()

    printing(page)

    expect(falling).to_be_hidden()
    expect(
        page.get_by_role("table", name=re.compile(r"^Members by current status"))
    ).to_be_visible()
