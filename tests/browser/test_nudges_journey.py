"""Nudges through the real UI in headless Chromium (issue #8, "Done when").

Staff import the registrar's calendar, write "3 days before finals" for active members,
preview it and dry-run it; `flask nudges run` with its clock set to that day delivers the
emails to a real SMTP server on loopback (the `smtp` fixture), and a second run delivers
nothing. Staff read the delivery log, and a student unsubscribes from the link in their
email. The test runs against SQLite and PostgreSQL (the `app` fixture is parametrized)
and makes its own accounts and term: nothing is seeded.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.members.models import EmailOptOut
from crp_portal.nudges.templating import PLACEHOLDERS
from crp_portal.outbox.models import OutboxMessage
from crp_portal.timeutil import format_date, local_today
from tests.browser.axe import assert_accessible
from tests.browser.test_advising_journey import fact, flash, heading, signs_in
from tests.browser.test_housing_journey import new_page
from tests.browser.test_members_journey import go_to, rows_of
from tests.factories import make_meeting, make_term, make_user

pytestmark = pytest.mark.browser

STAFF_EMAIL, STAFF_NAME = "journey.nudges@example.edu", "Quinn Nudger"
ANA = ("journey.ana@example.edu", "Ana Reyes")
BEN = ("journey.ben@example.edu", "Ben Okoro")
CAM = ("journey.cam@example.edu", "Cam Diaz")  # opted out of exam and term reminders
DEE = ("journey.dee@example.edu", "Dee Applicant")  # not a member yet: not in the audience
TERM_NAME = "Journey Term"
MEETING = "Tuesday evening group"
CAMPAIGN = "Finals in three days"
CATEGORY = "Exam, deadline and term reminders"
SUBJECT = "Finals start soon, {{ first_name }}"
BODY = "Hi {{ first_name }},\n\nFinals start in three days. This week:\n\n{{ this_week }}\n"
BAD_BODY = BODY + "\nYour room: {{ exam_room }}\n"
RECOVERY_WORDS = ("recovery", "relapse", "sober", "addiction", "craving", "substance")


@dataclass(frozen=True)
class Days:
    today: date
    finals: date
    finals_end: date
    recess: date
    nudge_day: date  # three days before finals


def arrange(app) -> Days:
    """Staff; a term around today; three active members (Cam opted out of "academic")
    and an applicant; a weekly support meeting for the week-ahead list."""
    with app.app_context():
        today = local_today()
        make_user("staff", email=STAFF_EMAIL, name=STAFF_NAME)
        make_term(TERM_NAME, today - timedelta(days=10), today + timedelta(days=100))
        for email, name in (ANA, BEN, CAM):
            make_user("student", email=email, name=name)
        make_user("student", email=DEE[0], name=DEE[1], status="applicant")
        db.session.add(EmailOptOut(user_id=user_id_of(CAM[0]), category="academic"))
        make_meeting(MEETING, weekday=1)
        db.session.commit()
        finals = today + timedelta(days=20)
        days = Days(
            today=today,
            finals=finals,
            finals_end=finals + timedelta(days=4),
            recess=today + timedelta(days=45),
            nudge_day=finals - timedelta(days=3),
        )
        db.session.remove()
    return days


def user_id_of(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def ics_day(day: date) -> str:
    return day.strftime("%Y%m%d")


def write_feed(tmp_path, days: Days):
    """The registrar's feed: finals and a recess inside the term, and an event that no
    keyword rule matches."""
    events = [
        ("finals", "Final Examinations", days.finals, days.finals_end),
        ("recess", "Thanksgiving Recess", days.recess, days.recess + timedelta(days=2)),
        ("homecoming", "Homecoming Weekend", days.recess, days.recess),
    ]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Journey University Registrar//Academic Calendar//EN",
    ]
    for uid, summary, first, last in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:journey-{uid}@registrar.example.edu",
            "DTSTAMP:20260301T120000Z",
            f"DTSTART;VALUE=DATE:{ics_day(first)}",
            f"DTEND;VALUE=DATE:{ics_day(last + timedelta(days=1))}",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    path = tmp_path / "registrar.ics"
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def run_nudges(app, day: date):
    """`flask nudges run --at <day>T09:00`, in process; returns its output."""
    result = app.test_cli_runner().invoke(
        args=["nudges", "run", "--at", f"{day.isoformat()}T09:00"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def unsubscribe_url_of(message) -> str:
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<(\S+)>", header.strip())
    assert match, f"unexpected List-Unsubscribe header {header!r}"
    return match.group(1)


def only_to(smtp, address: str):
    found = smtp.to(address)
    assert len(found) == 1, f"expected one message to {address}; inbox: " + repr(
        [(m["To"], m["Subject"]) for m in smtp.messages]
    )
    return found[0]


def outbox_size(app) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        db.session.remove()
    return found


def test_staff_import_finals_nudge_three_days_before_and_a_second_run_sends_nothing(
    smtp, app, browser, live_server, page, tmp_path
):
    days = arrange(app)
    feed = write_feed(tmp_path, days)
    # The scheduled job builds its links on CRP_BASE_URL: here, the live server.
    app.config["CRP_BASE_URL"] = live_server.url

    # Staff import the registrar's calendar.
    signs_in(page, STAFF_EMAIL, STAFF_NAME)
    go_to(page, "Terms", "Academic terms")
    assert_accessible(page)
    page.get_by_role("link", name="Import the registrar's calendar").click()

    expect(heading(page)).to_have_text("Import the registrar's calendar")
    assert_accessible(page)
    page.get_by_label("Calendar file (.ics)", exact=True).set_input_files(str(feed))
    page.get_by_role("button", name="Preview the import").click()

    expect(heading(page)).to_have_text("Check the calendar import")
    expect(page.locator("main ul.stat-row li")).to_have_text(
        ["2 new", "0 updated", "0 unchanged", "1 not imported"]
    )
    events = rows_of(page, "Each event in the calendar and what saving does with it, by date")
    expect(events).to_have_count(3)
    finals_row = events.filter(has=page.locator('td:text-is("Final Examinations")'))
    expect(finals_row.locator("td")).to_have_text(
        [
            "Final Examinations",
            f"{format_date(days.finals)} to {format_date(days.finals_end)}",
            "Finals",
            TERM_NAME,
            "New",
        ]
    )
    homecoming = events.filter(has=page.locator('td:text-is("Homecoming Weekend")'))
    expect(homecoming.locator("td").nth(4)).to_have_text(
        "Not imported: no keyword rule matches its title"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Save the import").click()

    expect(flash(page)).to_have_text("Imported 2 periods (0 updated, 0 unchanged).")
    expect(heading(page)).to_have_text("Academic terms")
    assert_accessible(page)
    page.get_by_role("link", name=TERM_NAME, exact=True).click()

    expect(heading(page)).to_have_text(TERM_NAME)
    periods = rows_of(page, f"Calendar periods of {TERM_NAME}")
    expect(periods.locator("td:first-child")).to_have_text(
        ["Final Examinations", "Thanksgiving Recess"]
    )
    assert_accessible(page)

    # Staff write the campaign; an unknown placeholder is refused with its line.
    go_to(page, "Campaigns", "Nudge campaigns")
    expect(page.get_by_text("No campaigns yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="New campaign").click()

    expect(heading(page)).to_have_text("New campaign")
    expect(page.get_by_label("First day it may send", exact=True)).to_have_value(
        days.today.isoformat()
    )
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill(CAMPAIGN)
    page.get_by_label("Trigger", exact=True).select_option(
        label="Days before or after a calendar period starts or ends"
    )
    page.get_by_label("Calendar period", exact=True).select_option(label="Finals")
    page.get_by_label("Counting from when the period", exact=True).select_option(label="starts")
    page.get_by_label("Number of days", exact=True).fill("3")
    page.get_by_label("Before or after", exact=True).select_option(label="before")
    page.get_by_label("Who gets it", exact=True).select_option(label="Active members")
    page.get_by_label("Email category", exact=True).select_option(label=CATEGORY)
    page.get_by_label("Subject", exact=True).fill(SUBJECT)
    page.get_by_label("Text", exact=True).fill(BAD_BODY)
    page.get_by_role("button", name="Save campaign").click()

    known = ", ".join("{{ " + name + " }}" for name in PLACEHOLDERS)
    problem = f"Line 7: unknown placeholder “exam_room”. Use one of: {known}."
    expect(heading(page)).to_have_text("New campaign")
    expect(page.get_by_role("alert")).to_contain_text(f"Text: {problem}")
    text = page.get_by_label("Text", exact=True)
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#body_template-error")).to_have_text(problem)
    expect(text).to_have_value(BAD_BODY)
    expect(page.get_by_label("Name", exact=True)).to_have_value(CAMPAIGN)
    expect(page.get_by_label("Number of days", exact=True)).to_have_value("3")
    expect(flash(page)).to_have_count(0)
    assert outbox_size(app) == 0
    assert_accessible(page)
    text.fill(BODY)
    page.get_by_role("button", name="Save campaign").click()

    expect(flash(page)).to_have_text(
        f"{CAMPAIGN} is saved as a draft: it sends nothing until you make it live. "
        "Preview it for a member and try a dry run first."
    )
    expect(heading(page)).to_have_text(CAMPAIGN)
    expect(fact(page, "When it sends")).to_have_text("3 days before Finals starts")
    expect(fact(page, "Who gets it")).to_have_text("Active members")
    expect(fact(page, "Status")).to_have_text("Draft")
    assert_accessible(page)

    # The preview for one member.
    page.get_by_role("link", name="Preview for a member").click()

    expect(heading(page)).to_have_text(f"Preview {CAMPAIGN}")
    member = page.get_by_label("Member", exact=True)
    expect(member.locator("option")).to_have_text(
        ["Choose a member", f"{ANA[1]} ({ANA[0]})", f"{BEN[1]} ({BEN[0]})", f"{CAM[1]} ({CAM[0]})"]
    )
    assert_accessible(page)
    member.select_option(label=f"{BEN[1]} ({BEN[0]})")
    page.get_by_role("button", name="Show preview").click()

    expect(page.get_by_role("heading", level=2, name=f"Email to {BEN[1]}")).to_be_visible()
    expect(fact(page, "To")).to_have_text(BEN[0])
    expect(fact(page, "Subject")).to_have_text("Finals start soon, Ben")
    card = page.locator("main .card")
    expect(card).to_contain_text("Hi Ben,")
    expect(card).to_contain_text("1 support meeting this week: ")
    expect(card).not_to_contain_text(MEETING)
    expect(card).to_contain_text(
        "Stop emails like this: (unsubscribe link — works only in the sent email)"
    )
    assert_accessible(page)

    # The dry run on the day three days before finals.
    page.get_by_role("link", name=f"Back to {CAMPAIGN}").click()
    expect(heading(page)).to_have_text(CAMPAIGN)
    page.get_by_role("link", name="Dry run").click()

    expect(heading(page)).to_have_text(f"Dry run: {CAMPAIGN}")
    assert_accessible(page)
    page.get_by_label("What if today were", exact=True).fill(days.nudge_day.isoformat())
    page.get_by_role("button", name="Show that day").click()

    shown_day = format_date(days.nudge_day)
    expect(page.get_by_role("heading", name=f"Summary for {shown_day}")).to_be_visible()
    expect(page.locator("main ul.stat-row li")).to_have_text(
        [
            "2 Would receive it",
            "1 Suppressed",
            "0 Held out (comparison group)",
            "0 Already planned",
        ]
    )
    why = f"Final Examinations starts in 3 days ({format_date(days.finals)})"
    would = rows_of(page, "Would receive it: name, email and why")
    expect(would).to_have_count(2)
    expect(would.nth(0).locator("td")).to_have_text([ANA[1], ANA[0], why])
    expect(would.nth(1).locator("td")).to_have_text([BEN[1], BEN[0], why])
    suppressed = rows_of(page, "Suppressed: name, email and why")
    expect(suppressed).to_have_count(1)
    expect(suppressed.first.locator("td")).to_have_text(
        [CAM[1], CAM[0], "opted out of “Exam, deadline and term reminders”"]
    )
    expect(page.locator("main")).not_to_contain_text(DEE[1])
    assert_accessible(page)
    assert outbox_size(app) == 0

    # While it is a draft, the planner sends nothing; staff then make it live.
    assert "No campaign is running today." in run_nudges(app, days.nudge_day)
    assert outbox_size(app) == 0
    page.get_by_role("link", name=f"Back to {CAMPAIGN}").click()
    page.get_by_role("button", name="Make it live").click()
    expect(flash(page)).to_have_text(
        f"{CAMPAIGN} is live: the next planning run sends it to whoever it is due for."
    )
    expect(fact(page, "Status")).to_have_text("Active")

    # Cron runs `flask nudges run` on that day: two emails go out.
    first = run_nudges(app, days.nudge_day)
    assert f"{CAMPAIGN}: 2 planned, 1 suppressed, 0 held out" in first
    assert "Sent 2, will retry 0, failed 0." in first
    assert sorted(m["To"] for m in smtp.messages) == sorted([ANA[0], BEN[0]])
    for email, name in (ANA, BEN):
        message = only_to(smtp, email)
        first_name = name.split()[0]
        assert message["Subject"] == f"Finals start soon, {first_name}"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe_url_of(message).startswith(f"{live_server.url}/unsubscribe/")
        body = smtp.text_of(message).replace("\r\n", "\n")
        assert body.startswith(f"Hi {first_name},\n")
        assert (
            f"This week:\n\n- 1 support meeting this week: {live_server.url}/support-meetings/\n"
            in body
        )
        assert MEETING not in body
        assert f"Stop emails like this: {unsubscribe_url_of(message)}" in body
        assert not [word for word in RECOVERY_WORDS if word in (body + message["Subject"]).lower()]

    # A second run the same day delivers nothing.
    second = run_nudges(app, days.nudge_day)
    assert f"{CAMPAIGN}: 0 planned, 0 suppressed, 0 held out, 3 already planned" in second
    assert "Sent 0, will retry 0, failed 0." in second
    assert len(smtp.messages) == 2

    # Staff read the delivery log.
    go_to(page, "Campaigns", "Nudge campaigns")
    listed = rows_of(page, "Nudge campaigns by name, with what each has sent")
    expect(listed).to_have_count(1)
    expect(listed.first.locator("td").nth(0)).to_have_text(CAMPAIGN)
    expect(listed.first.locator("td").nth(1)).to_have_text("3 days before Finals starts")
    expect(listed.first.locator("td").nth(3)).to_have_text(CATEGORY)
    expect(listed.first.locator("td").nth(7)).to_have_text(f"2 sent by {CAMPAIGN}")
    expect(listed.first.locator("td").nth(8)).to_have_text(f"0 pending for {CAMPAIGN}")
    assert_accessible(page)
    page.get_by_role("link", name="Delivery log").click()

    expect(heading(page)).to_have_text("Delivery log")
    by_status = page.get_by_role("list", name="Messages by status").get_by_role("listitem")
    expect(by_status).to_have_text(
        [
            "0 Pending",
            "0 Being sent",
            "2 Sent",
            "0 Failed",
            "1 Suppressed",
            "0 Held out (comparison group)",
            "0 Needs review",
        ]
    )
    log = rows_of(page, "Outbox messages matching the filter, newest first")
    expect(log).to_have_count(3)
    for (email, name), subject, status, reason in (
        (ANA, "Finals start soon, Ana", "Sent", why),
        (BEN, "Finals start soon, Ben", "Sent", why),
        (CAM, "", "Suppressed", "opted out of “Exam, deadline and term reminders”"),
    ):
        cells = log.filter(has_text=email).locator("td")
        expect(cells.nth(1)).to_contain_text(name)
        expect(cells.nth(2)).to_have_text(CAMPAIGN)
        expect(cells.nth(3)).to_have_text(subject)
        expect(cells.nth(4)).to_have_text(status)
        expect(cells.nth(7)).to_have_text(reason)
    assert_accessible(page)

    # Ben follows the unsubscribe link in his email, signed out.
    link = unsubscribe_url_of(only_to(smtp, BEN[0]))
    ben_context, ben_page = new_page(browser, live_server)
    try:
        ben_page.goto(link)
        expect(heading(ben_page)).to_have_text(f"Stop emails about {CATEGORY.lower()}?")
        assert_accessible(ben_page)
        ben_page.get_by_role("button", name="Stop these emails").click()

        expect(heading(ben_page)).to_have_text("Emails stopped")
        expect(
            ben_page.get_by_text(f"You will no longer get emails about {CATEGORY.lower()}.")
        ).to_be_visible()
        assert_accessible(ben_page)
    finally:
        ben_context.close()
    with app.app_context():
        opted_out = set(db.session.execute(select(EmailOptOut.user_id, EmailOptOut.category)))
        assert opted_out == {(user_id_of(BEN[0]), "academic"), (user_id_of(CAM[0]), "academic")}
        db.session.remove()
