"""Staff create a weekly series across a winter break in headless Chromium: the check step
lists the dates the series skips, saving creates the rest, and the events list has no
meeting in the break. Dates are relative to today, since the list shows upcoming events."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crp_portal.extensions import db
from crp_portal.terms.services import add_period
from crp_portal.timeutil import format_date, local_today
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import follow_nav, sign_in
from tests.factories import PASSWORD, make_term, make_user

pytestmark = pytest.mark.browser

TITLE = "Winter peer circle"


def arrange(app):
    """Events staff, a term around today, and a two-week "Winter break" starting in
    about two and a half weeks; the series runs weekly for six weeks from next week."""
    with app.app_context():
        today = local_today()
        make_user("staff", email="sam@example.edu", name="Sam Whitaker", scopes=("events",))
        term = make_term("This term", today - timedelta(days=30), today + timedelta(days=120))
        add_period(term, "break", "Winter break", today + timedelta(17), today + timedelta(30))
        db.session.commit()
        db.session.remove()
    first = today + timedelta(days=7)
    dates = [first + timedelta(weeks=week) for week in range(6)]
    return first, dates[-1], dates[2:4], dates[:2] + dates[4:]


def test_staff_see_the_skipped_break_dates_before_saving_a_weekly_series(app, page):
    first, last, in_break, kept = arrange(app)
    sign_in(page, "sam@example.edu", PASSWORD)
    follow_nav(page, "Upcoming events")
    page.get_by_role("link", name="Add an event").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add an event")

    page.get_by_label("Kind of event").select_option(label="Peer support group")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Neutral title for calendars and email subjects").fill("Circle")
    page.get_by_label("Date", exact=True).fill(first.isoformat())
    page.get_by_label("Starts").fill("18:00")
    page.get_by_label("Ends").fill("19:00")
    page.get_by_label("Place").fill("Student Center 204")
    page.get_by_label("Repeats").select_option(label="Every week")
    page.get_by_label("Last date of the series").fill(last.isoformat())
    skip = page.get_by_label("Skip breaks and holidays")
    expect(skip).to_be_checked()

    page.get_by_role("button", name="Check dates").click()
    dates = page.get_by_role("region", name="Dates saving creates")
    expect(dates).to_contain_text("4 events, nothing saved yet.")
    expect(dates.locator("#skipped-dates li")).to_have_text(
        [f"{format_date(day)}: Winter break" for day in in_break]
    )
    expect(page.get_by_label("Title", exact=True)).to_have_value(TITLE)  # nothing retyped
    assert_accessible(page)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("4 events added.")
    expect(page.locator("#series-skips")).to_contain_text(
        f"No meeting in breaks and holidays: {format_date(in_break[0])} (Winter break)"
    )
    assert_accessible(page)

    follow_nav(page, "Upcoming events")
    listed = page.locator(".event-item").filter(has_text=TITLE).locator(".event-meta")
    expect(listed).to_have_count(4)
    shown = " ".join(listed.all_inner_texts())
    for day in kept:
        assert format_date(day) in shown
    for day in in_break:
        assert format_date(day) not in shown
