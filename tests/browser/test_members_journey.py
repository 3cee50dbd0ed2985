"""Members and recovery support through the real UI in headless Chromium (issue #7).

A student applies and staff accept; the student fills their support network and plan and
checks in asking for outreach; staff work the follow-up; the student reads who viewed their
records. Then a peer mentor logs a contact that staff read, and a student who shares
check-ins has them read by staff. Each test runs against SQLite and PostgreSQL (the `app`
fixture is parametrized) and makes its own accounts: nothing is seeded.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crp_portal.extensions import db
from crp_portal.members.intake import publish_agreement
from crp_portal.timeutil import format_date, local_today, week_start
from tests.browser.axe import assert_accessible
from tests.browser.test_advising_journey import fact, flash, heading, signs_in
from tests.browser.test_events_journey import only_message
from tests.browser.test_housing_journey import new_page
from tests.browser.test_journeys import follow_nav, main_nav
from tests.factories import make_user

pytestmark = pytest.mark.browser

STAFF_EMAIL, STAFF_NAME = "journey.members@example.edu", "Casey Morgan"
STUDENT_EMAIL, STUDENT_NAME = "journey.member@example.edu", "Robin Okafor"
AGREEMENT = "Respect the confidentiality of other members.\n\nCome to one event a month."
ACKNOWLEDGE = "I have read the program agreement and agree to it"
GOALS = "Friends who do not drink, and a quiet place to study."
PRIVATE_NOTE = "Exams week is rough and I have been craving."
STAFF_NOTE = "Called Robin; coffee on Thursday."


@dataclass(frozen=True)
class Shown:
    """Dates as the pages show them."""

    today: str
    week_of: str


def shown_dates(app) -> Shown:
    with app.app_context():
        today = local_today()
        return Shown(format_date(today), format_date(week_start(today)))


def go_to(page, label: str, title: str) -> None:
    """Follow a main-navigation link; the page's heading and current item say where we are."""
    follow_nav(page, label)
    expect(heading(page)).to_have_text(title)
    expect(main_nav(page).locator("a[aria-current=page]")).to_have_text(label)


def rows_of(page, caption: str | re.Pattern):
    return page.get_by_role("table", name=caption, exact=True).locator("tbody tr")


def scale(page, question: str, answer: str) -> None:
    """Pick an answer in a 1–5 radio group named by its question."""
    group = page.get_by_role("group", name=re.compile("^" + re.escape(question)))
    group.get_by_label(answer, exact=True).check()


def arrange_applicant(app) -> None:
    """Staff, a student who has not joined yet, and a published program agreement."""
    with app.app_context():
        staff = make_user("staff", email=STAFF_EMAIL, name=STAFF_NAME)
        make_user("student", email=STUDENT_EMAIL, name=STUDENT_NAME, status="applicant")
        publish_agreement(staff, AGREEMENT)
        db.session.commit()
        db.session.remove()


def test_student_joins_asks_for_outreach_and_sees_who_viewed_their_records(
    smtp, app, browser, live_server, page
):
    arrange_applicant(app)
    shown = shown_dates(app)

    # The applicant applies.
    signs_in(page, STUDENT_EMAIL, STUDENT_NAME)
    membership = page.get_by_role("region", name="Your membership")
    expect(membership).to_contain_text("Status: Applicant.")
    assert_accessible(page)
    membership.get_by_role("link", name="Apply to join the program").click()

    expect(heading(page)).to_have_text("Join the program")
    agreement = page.get_by_role("region", name="Program agreement (version 1)")
    expect(agreement).to_contain_text("Respect the confidentiality of other members.")
    expect(agreement).to_contain_text("Come to one event a month.")
    assert_accessible(page)
    page.get_by_label("What do you hope to get from the program?", exact=True).fill(GOALS)
    page.get_by_label("How did you hear about the program?", exact=True).select_option(
        label="Counseling or health services"
    )
    page.get_by_label(ACKNOWLEDGE, exact=True).check()
    page.get_by_role("button", name="Send my application").click()

    expect(flash(page)).to_have_text("Thank you. Your application is with the program staff.")
    expect(heading(page)).to_have_text("Join the program")
    mine = page.get_by_role("region", name="Your applications").get_by_role("listitem")
    expect(mine).to_have_count(1)
    expect(mine.first).to_have_text(f"Sent {shown.today}: Waiting for review.")
    expect(page.get_by_role("button", name="Send my application")).to_have_count(0)
    expect(page.get_by_role("button", name="Withdraw my application")).to_be_visible()
    assert_accessible(page)

    staff_context, staff_page = new_page(browser, live_server)
    try:
        # Staff accept.
        signs_in(staff_page, STAFF_EMAIL, STAFF_NAME)
        go_to(staff_page, "Applications", "Applications to join")
        applications = rows_of(staff_page, "Applications, newest first")
        expect(applications).to_have_count(1)
        expect(applications.first.locator("td")).to_have_text(
            [STUDENT_NAME, shown.today, "Waiting for review"]
        )
        assert_accessible(staff_page)
        applications.first.get_by_role("link", name=STUDENT_NAME, exact=True).click()

        expect(heading(staff_page)).to_have_text(f"Application from {STUDENT_NAME}")
        expect(fact(staff_page, "Email")).to_have_text(STUDENT_EMAIL)
        expect(fact(staff_page, "Status")).to_have_text("Waiting for review")
        expect(fact(staff_page, "Heard about us from")).to_have_text(
            "Counseling or health services"
        )
        expect(fact(staff_page, "Agreement")).to_have_text(
            f"Acknowledged version 1 on {shown.today}"
        )
        expect(staff_page.get_by_text(GOALS)).to_be_visible()
        assert_accessible(staff_page)
        staff_page.get_by_role("group", name="Decision").get_by_label(
            "Accept: they become an active member today", exact=True
        ).check()
        staff_page.get_by_role("button", name="Save decision").click()

        expect(flash(staff_page)).to_have_text(f"{STUDENT_NAME} is now an active member.")
        expect(heading(staff_page)).to_have_text("Applications to join")
        expect(staff_page.get_by_text("No applications to show.")).to_be_visible()
        assert_accessible(staff_page)
        decided = only_message(smtp, STUDENT_EMAIL, "An update on your application")
        assert GOALS not in smtp.text_of(decided)

        # The member writes down their support network.
        go_to(page, "Support network", "My support network")
        expect(page.get_by_text("No one yet.")).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Name", exact=True).fill("Jamie Rivera")
        page.get_by_label("Who they are to you", exact=True).fill("Sponsor")
        page.get_by_label("How to reach them", exact=True).fill("555-0188")
        page.get_by_label("What you count on them for (optional)", exact=True).fill(
            "A call before a hard night"
        )
        page.get_by_label("Emergency contact", exact=True).check()
        page.get_by_role("button", name="Add to my network").click()

        expect(flash(page)).to_have_text("Jamie Rivera is in your support network.")
        people = rows_of(page, "Your support network")
        expect(people).to_have_count(1)
        expect(people.first.locator("td").nth(0)).to_have_text("Jamie Rivera Emergency contact")
        expect(people.first.locator("td").nth(1)).to_have_text("Sponsor")
        expect(people.first.locator("td").nth(2)).to_have_text("555-0188")
        expect(people.first.locator("td").nth(3)).to_have_text("A call before a hard night")
        assert_accessible(page)

        # ...and their relapse-prevention plan.
        go_to(page, "My plan", "My relapse-prevention plan")
        expect(page.get_by_text("You have not written a plan yet.")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("link", name="Write my plan").click()

        expect(heading(page)).to_have_text("Write my plan")
        assert_accessible(page)
        page.get_by_label("Warning signs", exact=True).fill("Skipping meals\nSkipping meetings")
        page.get_by_label("Triggers", exact=True).fill("Friday nights downtown")
        page.get_by_label("What to do in a crisis", exact=True).fill("Call Jamie, then 988.")
        page.get_by_role("button", name="Save my plan").click()

        expect(flash(page)).to_have_text("Your plan is saved as version 1.")
        expect(heading(page)).to_have_text("My relapse-prevention plan")
        expect(page.get_by_text(re.compile(r"^Version 1, saved "))).to_be_visible()
        expect(page.get_by_text("Friday nights downtown")).to_be_visible()
        expect(page.get_by_text("None yet. Each time you save changes")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("link", name="Printable version").click()

        expect(heading(page)).to_have_text("My relapse-prevention plan")
        expect(
            page.get_by_text(re.compile(rf"^{STUDENT_NAME}\. Version 1, saved "))
        ).to_be_visible()
        sections = page.locator("main").get_by_role("heading", level=2)
        expect(sections).to_have_text(
            [
                "Warning signs",
                "Triggers",
                "Coping strategies",
                "People and places that help",
                "What to do in a crisis",
            ]
        )
        expect(page.get_by_text("Skipping meals\nSkipping meetings")).to_be_visible()
        expect(page.get_by_text("Call Jamie, then 988.")).to_be_visible()
        expect(page.get_by_role("main").get_by_role("link", name="988")).to_have_attribute(
            "href", "tel:988"
        )
        assert_accessible(page)

        # ...and checks in, asking for someone to reach out; answers stay private.
        go_to(page, "Check-in", "Weekly check-in")
        expect(page.get_by_text("You currently keep your check-ins to yourself.")).to_be_visible()
        expect(page.get_by_text("No check-ins yet.")).to_be_visible()
        assert_accessible(page)
        scale(page, "How has your mood been this week?", "2")
        scale(page, "How stressed have you felt?", "5 – Very stressed")
        scale(page, "How have you slept?", "1 – Very poorly")
        page.get_by_label("Anything else on your mind? (optional)", exact=True).fill(PRIVATE_NOTE)
        page.get_by_label("I'd like someone from the program to reach out", exact=True).check()
        page.get_by_role("button", name="Save my check-in").click()

        expect(flash(page)).to_have_text("Your check-in is saved. Staff will reach out.")
        expect(page.get_by_text("Staff have been told and will be in touch.")).to_be_visible()
        expect(
            page.get_by_text("You checked in this week; saving again updates it.")
        ).to_be_visible()
        past = rows_of(page, "Your past check-ins, newest first")
        expect(past).to_have_count(1)
        expect(past.first.locator("th, td")).to_have_text(
            [shown.week_of, "2", "5", "1", "Yes", PRIVATE_NOTE]
        )
        chart = page.get_by_role("table", name=re.compile(r"^Your check-ins by week\. "))
        expect(chart.locator("tbody tr").first.locator("th, td")).to_have_text(
            [shown.week_of, "2", "5", "1"]
        )
        assert_accessible(page)
        told = only_message(smtp, STAFF_EMAIL, "A student asked for someone to reach out")
        told_text = smtp.text_of(told)
        assert STUDENT_NAME not in told_text
        assert PRIVATE_NOTE not in told_text

        # Staff work the follow-up without seeing the answers.
        go_to(staff_page, "Follow-ups", "Follow-ups")
        waiting = rows_of(staff_page, "Open follow-ups, newest first")
        expect(waiting).to_have_count(1)
        expect(waiting.first.locator("td").nth(0)).to_have_text(STUDENT_NAME)
        expect(waiting.first.locator("td").nth(1)).to_have_text("Asked for someone to reach out")
        expect(waiting.first.locator("td").nth(3)).to_have_text("Nobody yet")
        expect(waiting.first.locator("td").nth(4)).to_have_text("Open")
        assert_accessible(staff_page)
        waiting.first.get_by_role("link", name=STUDENT_NAME, exact=True).click()

        expect(heading(staff_page)).to_have_text(f"Follow-up for {STUDENT_NAME}")
        expect(fact(staff_page, "Reason")).to_have_text("Asked for someone to reach out")
        expect(fact(staff_page, "Status")).to_have_text("Open")
        expect(fact(staff_page, "Assigned to")).to_have_text("Nobody yet")
        expect(fact(staff_page, "Email")).to_have_text(STUDENT_EMAIL)
        expect(
            staff_page.get_by_text("The student has not shared their check-in answers.")
        ).to_be_visible()
        expect(staff_page.locator("main")).not_to_contain_text(PRIVATE_NOTE)
        expect(staff_page.get_by_role("img", name=re.compile("^Line chart"))).to_have_count(0)
        assert_accessible(staff_page)
        staff_page.get_by_role("button", name="Assign to me").click()

        expect(flash(staff_page)).to_have_text("Assigned to you.")
        expect(fact(staff_page, "Assigned to")).to_have_text(STAFF_NAME)
        expect(staff_page.get_by_role("button", name="Assign to me")).to_have_count(0)
        staff_page.get_by_label("Note", exact=True).fill(STAFF_NOTE)
        staff_page.get_by_role("button", name="Add note").click()

        expect(flash(staff_page)).to_have_text("Note added.")
        notes = staff_page.locator('h2:text-is("Notes") + ul').get_by_role("listitem")
        expect(notes).to_have_count(1)
        expect(notes.first).to_contain_text(STAFF_NAME)
        expect(notes.first).to_contain_text(STAFF_NOTE)
        assert_accessible(staff_page)
        staff_page.get_by_role("button", name="Resolve", exact=True).click()

        expect(flash(staff_page)).to_have_text("Follow-up resolved.")
        expect(fact(staff_page, "Status")).to_contain_text("Resolved")
        expect(fact(staff_page, "Status")).to_contain_text(f"by {STAFF_NAME}")
        expect(staff_page.get_by_role("button", name="Reopen")).to_be_visible()
        expect(staff_page.get_by_role("button", name="Resolve", exact=True)).to_have_count(0)
        assert_accessible(staff_page)

        go_to(staff_page, "Follow-ups", "Follow-ups")
        expect(staff_page.get_by_role("table", name="Open follow-ups, newest first")).to_have_count(
            0
        )
        expect(staff_page.get_by_text("Nothing waiting here.")).to_be_visible()
        staff_page.get_by_role("navigation", name="Which follow-ups").get_by_role(
            "link", name=re.compile(r"^\d+ Resolved$")
        ).click()

        expect(staff_page.locator("main h2")).to_have_text("Resolved")
        resolved = rows_of(staff_page, "Resolved follow-ups, newest first")
        expect(resolved).to_have_count(1)
        expect(resolved.first.locator("td").nth(0)).to_have_text(STUDENT_NAME)
        expect(resolved.first.locator("td").nth(3)).to_have_text("You")
        expect(resolved.first.locator("td").nth(4)).to_have_text("Resolved")
        assert_accessible(staff_page)
    finally:
        staff_context.close()

    # The member reads who opened their records.
    go_to(page, "My profile", "My profile")
    expect(fact(page, "Membership")).to_have_text(f"Active since {shown.today}")
    assert_accessible(page)
    page.get_by_role("link", name="See who has opened your records").click()

    expect(heading(page)).to_have_text("Who has opened your records")
    views = rows_of(page, "Views of your records, newest first")
    expect(views.first).to_be_visible()
    who = views.locator("td:nth-child(2)").all_inner_texts()
    what = views.locator("td:nth-child(3)").all_inner_texts()
    assert set(who) == {f"{STAFF_NAME} (program staff)"}
    assert set(what) == {"A follow-up about you", "Your application to join"}
    assert what[0] == "A follow-up about you" and what[-1] == "Your application to join"
    assert_accessible(page)


MENTOR_EMAIL, MENTOR_NAME = "journey.mentor@example.edu", "Avery Mentor"
MENTEE_EMAIL, MENTEE_NAME = "journey.mentee@example.edu", "Sam Mentee"
MENTEE_PHONE = "555-0142"


def arrange_mentoring(app) -> None:
    """Staff, an active peer mentor, and their mentee with a phone number on file."""
    with app.app_context():
        make_user("staff", email=STAFF_EMAIL, name=STAFF_NAME)
        mentor = make_user("student", email=MENTOR_EMAIL, name=MENTOR_NAME)
        mentee = make_user("student", email=MENTEE_EMAIL, name=MENTEE_NAME)
        mentor.profile.is_peer_mentor = True
        mentee.profile.mentor_id = mentor.id
        mentee.profile.phone = MENTEE_PHONE
        db.session.commit()
        db.session.remove()


def test_peer_mentor_logs_a_contact_that_staff_read(app, browser, live_server, page):
    arrange_mentoring(app)
    with app.app_context():
        contact_day = local_today() - timedelta(days=1)
        shown_day = format_date(contact_day)
    topics = "Classes and studying, Wellbeing and self-care"

    signs_in(page, MENTOR_EMAIL, MENTOR_NAME)
    go_to(page, "Mentees", "My mentees")
    mentees = rows_of(page, "Your mentees")
    expect(mentees).to_have_count(1)
    expect(mentees.first.locator("td")).to_have_text([MENTEE_NAME, "—", "—"])
    assert_accessible(page)
    mentees.first.get_by_role("link", name=MENTEE_NAME, exact=True).click()

    expect(heading(page)).to_have_text(MENTEE_NAME)
    expect(page.locator("main dl.facts dt")).to_have_text(
        ["Name", "Goes by", "Pronouns", "Email", "Phone"]
    )
    expect(fact(page, "Email")).to_have_text(MENTEE_EMAIL)
    expect(fact(page, "Phone")).to_have_text(MENTEE_PHONE)
    main = page.get_by_role("main")
    expect(main).not_to_contain_text("Membership")
    expect(main).not_to_contain_text("Active")
    expect(main).not_to_contain_text("Applicant")
    expect(page.get_by_text("None logged yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Date of the contact", exact=True).fill(contact_day.isoformat())
    page.get_by_label("How you were in touch", exact=True).select_option(label="Phone call")
    page.get_by_label("Minutes", exact=True).fill("25")
    talked_about = page.get_by_role("group", name="What you talked about")
    talked_about.get_by_label("Classes and studying", exact=True).check()
    talked_about.get_by_label("Wellbeing and self-care", exact=True).check()
    page.get_by_role("button", name="Log the contact").click()

    expect(flash(page)).to_have_text(f"Logged your contact on {shown_day}.")
    expect(heading(page)).to_have_text(MENTEE_NAME)
    logged = rows_of(page, "Your contacts, newest first")
    expect(logged).to_have_count(1)
    expect(logged.first.locator("td")).to_have_text([shown_day, "Phone call", "25", topics])
    assert_accessible(page)

    staff_context, staff_page = new_page(browser, live_server)
    try:
        signs_in(staff_page, STAFF_EMAIL, STAFF_NAME)
        go_to(staff_page, "Mentoring", "Peer mentoring")
        mentors = rows_of(staff_page, "Peer mentors, their mentees and contacts logged")
        expect(mentors).to_have_count(1)
        expect(mentors.first.locator("th")).to_have_text(MENTOR_NAME)
        expect(mentors.first.locator("td")).to_have_text(
            [f"{MENTEE_NAME}: 1 contact, last {shown_day}", "1", shown_day]
        )
        expect(staff_page.get_by_text("1 contact.", exact=True)).to_be_visible()
        contacts = rows_of(staff_page, "Contacts logged by peer mentors, newest first")
        expect(contacts).to_have_count(1)
        expect(contacts.first.locator("td")).to_have_text(
            [shown_day, MENTOR_NAME, MENTEE_NAME, "Phone call", "25", topics]
        )
        assert_accessible(staff_page)
    finally:
        staff_context.close()


def test_staff_read_check_ins_a_student_chose_to_share(app, browser, live_server, page):
    with app.app_context():
        make_user("staff", email=STAFF_EMAIL, name=STAFF_NAME)
        make_user("student", email=STUDENT_EMAIL, name=STUDENT_NAME)
        db.session.remove()
    shown = shown_dates(app)
    shared_note = "Two midterms done, sleeping better."

    signs_in(page, STUDENT_EMAIL, STUDENT_NAME)
    go_to(page, "My profile", "My profile")
    share = page.get_by_label("Program staff may see my weekly check-in answers", exact=True)
    expect(share).not_to_be_checked()
    expect(share).to_have_accessible_description(
        "Whatever you choose, staff are told when you ask for someone to reach out."
    )
    assert_accessible(page)
    share.check()
    page.get_by_role("button", name="Save profile").click()

    expect(flash(page)).to_have_text("Your profile is saved.")
    expect(
        page.get_by_label("Program staff may see my weekly check-in answers", exact=True)
    ).to_be_checked()
    expect(
        page.get_by_label("Program staff may see my support network", exact=True)
    ).not_to_be_checked()
    assert_accessible(page)

    go_to(page, "Check-in", "Weekly check-in")
    expect(
        page.get_by_text("You currently share your check-ins with program staff.")
    ).to_be_visible()
    scale(page, "How has your mood been this week?", "4")
    scale(page, "How stressed have you felt?", "2")
    scale(page, "How have you slept?", "5 – Very well")
    page.get_by_label("Anything else on your mind? (optional)", exact=True).fill(shared_note)
    page.get_by_label("I'd like someone from the program to reach out", exact=True).check()
    page.get_by_role("button", name="Save my check-in").click()

    expect(flash(page)).to_have_text("Your check-in is saved. Staff will reach out.")
    assert_accessible(page)

    staff_context, staff_page = new_page(browser, live_server)
    try:
        signs_in(staff_page, STAFF_EMAIL, STAFF_NAME)
        go_to(staff_page, "Members", "Members")
        members = rows_of(staff_page, "Members matching the filter")
        expect(members).to_have_count(1)
        assert_accessible(staff_page)
        members.first.get_by_role("link", name=STUDENT_NAME, exact=True).click()

        expect(heading(staff_page)).to_have_text(STUDENT_NAME)
        expect(
            staff_page.get_by_role(
                "img", name=re.compile(r"^Line chart of mood, stress and sleep over 1 week,")
            )
        ).to_be_visible()
        answers = rows_of(staff_page, re.compile(r"^Check-ins the student shares, last 12 weeks\."))
        expect(answers).to_have_count(1)
        expect(answers.first.locator("th, td")).to_have_text([shown.week_of, "4", "2", "5"])
        expect(
            staff_page.get_by_text("Not shared. The student keeps their plan private.")
        ).to_be_visible()
        follow_ups = staff_page.locator('h2:text-is("Follow-ups") + ul').get_by_role("listitem")
        expect(follow_ups).to_have_count(1)
        expect(follow_ups.first).to_have_text(
            f"Asked for someone to reach out, {shown.today}: Open"
        )
        assert_accessible(staff_page)
        follow_ups.first.get_by_role("link", name="Asked for someone to reach out").click()

        expect(heading(staff_page)).to_have_text(f"Follow-up for {STUDENT_NAME}")
        expect(
            staff_page.get_by_role(
                "heading", name=f"The check-in that asked for outreach (week of {shown.week_of})"
            )
        ).to_be_visible()
        expect(fact(staff_page, "Mood")).to_have_text("4 of 5 (1 very low, 5 very good)")
        expect(fact(staff_page, "Stress")).to_have_text("2 of 5 (1 very calm, 5 very stressed)")
        expect(fact(staff_page, "Sleep")).to_have_text("5 of 5 (1 very poorly, 5 very well)")
        expect(fact(staff_page, "Note")).to_have_text(shared_note)
        expect(staff_page.get_by_role("img", name=re.compile("^Line chart"))).to_be_visible()
        expect(
            staff_page.get_by_text("The student has not shared their check-in answers.")
        ).to_have_count(0)
        assert_accessible(staff_page)
    finally:
        staff_context.close()
