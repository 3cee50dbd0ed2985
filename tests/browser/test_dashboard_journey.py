"""The staff dashboard through the real UI in headless Chromium (issue #9).

Staff open the dashboard, change the term, read a chart's table, export a CSV (small
counts suppressed) and open a member whose participation fell. Each test runs against
SQLite and PostgreSQL (the `app` fixture is parametrized) and makes its own accounts,
terms, events and attendance: nothing is seeded.

The current term ends today, so "the last three weeks of the period" (the falling list's
window, which counts back from the range's last day) are the last three weeks before today.
"""

import csv
from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from playwright.sync_api import expect

from crp_portal.events.models import Attendance
from crp_portal.extensions import db
from crp_portal.timeutil import format_date, local_today
from tests.browser.axe import assert_accessible
from tests.browser.test_advising_journey import fact, heading, signs_in
from tests.browser.test_journeys import follow_nav, main_nav
from tests.factories import make_event, make_term, make_user

pytestmark = pytest.mark.browser

STAFF_EMAIL, STAFF_NAME = "journey.dashboard@example.edu", "Dana Reyes"
FALLING_NAME = "Quinn Falling"
CURRENT, PREVIOUS = "Fall Journey Term", "Spring Journey Term"
WEEKLY_CAPTION = "Attendance and unique attendees by week (weeks start on Monday)"
FALLING_CAPTION = "Members whose participation fell (1)"


@dataclass(frozen=True)
class Span:
    start: date
    end: date

    @property
    def shown(self) -> str:
        return f"From {format_date(self.start)} to {format_date(self.end)}"

    def week_of(self, day: date) -> str:
        """The weekly table's row header for the week holding `day` (clipped to the span)."""
        monday = day - timedelta(days=day.weekday())
        start, end = max(monday, self.start), min(monday + timedelta(days=6), self.end)
        return f"{format_date(start)} – {format_date(end)}"


@dataclass(frozen=True)
class Arranged:
    current: Span
    previous: Span
    big_week: str  # previous term: 5 attendees, shown in full in the CSV
    small_week: str  # previous term: 3 attendees, "<5" in the CSV
    big_week_from: str  # ISO date, the CSV's first column
    small_week_from: str


def attended(event, people) -> None:
    for person in people:
        db.session.add(Attendance(event_id=event.id, user_id=person.id, source="roster"))
    db.session.commit()


def held_on(staff, day: date):
    return make_event(
        staff, day=day, kind="peer_support", start_time=time(19), end_time=time(20, 30)
    )


def arrange(app) -> Arranged:
    """Staff; eight active students; two terms.

    Current term (69 days ago to today): an event a week ago attended by six students,
    one five weeks ago attended only by Quinn (who has done nothing since: falling).
    Previous term: an event attended by five students and one, in another week, by three.
    """
    with app.app_context():
        today = local_today()
        staff = make_user("staff", email=STAFF_EMAIL, name=STAFF_NAME)
        students = [make_user("student", name=f"Student Number{n}") for n in range(1, 8)]
        falling = make_user("student", name=FALLING_NAME)
        current = Span(today - timedelta(days=69), today)
        previous = Span(today - timedelta(days=250), today - timedelta(days=120))
        make_term(CURRENT, current.start, current.end)
        make_term(PREVIOUS, previous.start, previous.end)

        attended(held_on(staff, today - timedelta(days=7)), students[:6])
        attended(held_on(staff, today - timedelta(days=35)), [falling])
        big_day = previous.start + timedelta(days=14)
        small_day = previous.start + timedelta(days=28)
        attended(held_on(staff, big_day), students[:5])
        attended(held_on(staff, small_day), students[4:7])
        db.session.remove()

    def week_from(day: date) -> str:
        return max(day - timedelta(days=day.weekday()), previous.start).isoformat()

    return Arranged(
        current,
        previous,
        previous.week_of(big_day),
        previous.week_of(small_day),
        week_from(big_day),
        week_from(small_day),
    )


def show_term(page, name: str) -> None:
    page.get_by_label("Term", exact=True).select_option(label=name)
    page.get_by_role("button", name="Show").click()


def period(page):
    return page.locator("main p.lead")


def weekly_row(page, week: str):
    table = page.get_by_role("table", name=WEEKLY_CAPTION)
    return table.locator("tbody tr").filter(has=page.locator(f'th:text-is("{week}")'))


def test_staff_read_the_dashboard_export_a_csv_and_open_a_falling_member(app, page):
    arranged = arrange(app)
    signs_in(page, STAFF_EMAIL, STAFF_NAME)

    # The dashboard opens on the current term.
    follow_nav(page, "Dashboard")

    expect(heading(page)).to_have_text("Dashboard")
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text("Dashboard")
    expect(period(page)).to_have_text(f"{arranged.current.shown} ({CURRENT}).")
    expect(page.get_by_label("Term", exact=True).locator("option:checked")).to_have_text(CURRENT)
    expect(fact(page, "Events held")).to_have_text("2")
    expect(fact(page, "Attendance")).to_have_text("7")
    expect(fact(page, "Unique attendees")).to_have_text("7")
    assert_accessible(page)

    # Another term: the period and the figures follow.
    show_term(page, PREVIOUS)

    expect(heading(page)).to_have_text("Dashboard")
    expect(period(page)).to_have_text(f"{arranged.previous.shown} ({PREVIOUS}).")
    expect(page.get_by_label("Term", exact=True).locator("option:checked")).to_have_text(PREVIOUS)
    expect(fact(page, "Events held")).to_have_text("2")
    expect(fact(page, "Attendance")).to_have_text("8")
    expect(page.get_by_role("heading", name="Participation falling")).to_be_visible()
    expect(page.get_by_role("table", name=FALLING_CAPTION)).to_have_count(0)
    assert_accessible(page)

    # The weekly-trend chart's table, in full on screen.
    expect(page.get_by_role("img", name="Attendance and unique attendees by week")).to_have_count(1)
    expect(weekly_row(page, arranged.big_week).locator("td")).to_have_text(["5", "5"])
    expect(weekly_row(page, arranged.small_week).locator("td")).to_have_text(["3", "3"])
    counted = page.get_by_role("table", name=WEEKLY_CAPTION).locator("tbody tr td:first-of-type")
    assert sum(int(cell) for cell in counted.all_inner_texts()) == 8

    # Its CSV leaves with small counts suppressed.
    export = page.get_by_role("link", name="Download this table as CSV (weekly trend)")
    with page.expect_download() as downloading:
        export.click()
    download = downloading.value
    assert download.suggested_filename == (
        f"crp-weekly-{arranged.previous.start.isoformat()}-to-"
        f"{arranged.previous.end.isoformat()}.csv"
    )
    with open(download.path(), encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["Week from", "Week to", "Attendance", "Unique attendees"]
    by_week = {row[0]: row[2:] for row in rows[1:]}
    assert by_week[arranged.big_week_from] == ["5", "5"]
    assert by_week[arranged.small_week_from] == ["<5", "<5"]
    assert {cell for row in rows[1:] for cell in row[2:]} == {"5", "<5"}
    assert not any(FALLING_NAME in cell for row in rows for cell in row)
    expect(heading(page)).to_have_text("Dashboard")

    # Back to the current term: the falling list names Quinn, who is one click away.
    show_term(page, CURRENT)

    expect(period(page)).to_have_text(f"{arranged.current.shown} ({CURRENT}).")
    falling = page.get_by_role("table", name=FALLING_CAPTION).locator("tbody tr")
    expect(falling).to_have_count(1)
    expect(falling.first.locator("th")).to_have_text(FALLING_NAME)
    expect(falling.first.locator("td").first).to_have_text("1")
    expect(
        falling.first.get_by_role("button", name=f"Open a follow-up for {FALLING_NAME}")
    ).to_be_visible()
    assert_accessible(page)
    falling.first.get_by_role("link", name=FALLING_NAME, exact=True).click()

    expect(heading(page)).to_have_text(FALLING_NAME)
    assert_accessible(page)

    # Each row's button posts the one form around the list to that member's address.
    page.go_back()
    falling.first.get_by_role("button", name=f"Open a follow-up for {FALLING_NAME}").click()
    expect(page.get_by_role("status")).to_contain_text("Follow-up opened.")
    expect(page.get_by_role("main")).to_contain_text(FALLING_NAME)
