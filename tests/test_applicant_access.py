"""Before their application is accepted, a student comes to events open to applicants,
reads the meeting directory and talks with staff about joining; advising and housing open
once the membership is active."""

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from crp_portal.advising.models import Appointment
from crp_portal.events.demo import seed_events
from crp_portal.events.models import Event, Rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import HousingApplication
from crp_portal.members import intake
from crp_portal.members.models import IntakeApplication
from crp_portal.timeutil import local_today
from tests.factories import (
    make_agreement,
    make_event,
    make_house,
    make_meeting,
    make_term,
    make_user,
    make_window,
)

ADVISING_LATER = "Advising opens once your membership is active."
HOUSING_LATER = "Recovery housing opens once your membership is active."
OPEN, CLOSED = "All-recovery meeting", "Peer support circle"
MEMBERS_EVENTS = {"inactive": False, "on_leave": True, "alumni": True, "active": True}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def two_events():
    """An all-recovery meeting open to applicants, and a members' peer support circle."""
    staff = make_user("staff")
    opened = make_event(
        staff, kind="all_recovery", title=OPEN, public_title="Tuesday group",
        open_to_applicants=True,
    )  # fmt: skip
    return opened, make_event(staff, title=CLOSED, public_title="Thursday circle")


def rsvps_of(event) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Rsvp).where(Rsvp.event_id == event.id)
    )


def listed_starts(response) -> list[str]:
    return re.findall(r"start=(\d{8}T\d{4}Z)", response.get_data(as_text=True))


def test_an_applicant_sees_and_rsvps_only_to_events_open_to_applicants(ctx, login, smtp):
    opened, circle = two_events()
    client = login(make_user("student", status="applicant"))
    for path in ("/events/", f"/events/month?year={local_today().year}"):
        page = text(client.get(path))
        assert OPEN in page and CLOSED not in page, path
    assert client.get(f"/events/{circle.id}").status_code == 404
    assert client.get(f"/events/{circle.id}.ics").status_code == 404
    assert client.post(f"/events/{circle.id}/rsvp").status_code == 404
    assert rsvps_of(circle) == 0

    going = client.post(f"/events/{opened.id}/rsvp", follow_redirects=True)
    assert "You're going." in text(going)
    assert OPEN in text(client.get("/events/mine"))


def test_staff_open_an_event_to_applicants_from_the_event_form(ctx, login):
    staff = login(make_user("staff", scopes=["events"]))
    form = text(staff.get("/events/new"))
    assert "Open to applicants" in form
    day = (local_today() + timedelta(days=5)).isoformat()
    values = {
        "kind": "sober_social", "title": "Welcome coffee", "public_title": "Coffee",
        "description": "", "day": day, "start_time": "10:00", "end_time": "11:00",
        "location": "Student Center lounge", "online_link": "", "capacity": "",
        "rsvp_deadline": "", "house_id": "0", "repeats": "", "repeat_until": "",
        "open_to_applicants": "y",
    }  # fmt: skip
    created = staff.post("/events/new", data=values)
    assert created.status_code == 302
    event = db.session.scalar(select(Event).where(Event.title == "Welcome coffee"))
    applicant = login(make_user("student", status="applicant"))
    assert "Welcome coffee" in text(applicant.get("/events/"))
    assert "Open to applicants" in text(staff.get(f"/events/{event.id}"))

    values.pop("open_to_applicants")
    edited = staff.post(f"/events/{event.id}/edit", data={**values, "scope": "this"})
    assert edited.status_code == 302
    assert "Welcome coffee" not in text(applicant.get("/events/"))
    assert applicant.get(f"/events/{event.id}").status_code == 404


def test_advising_opens_once_the_membership_is_active(ctx, login):
    advisor = make_user("advisor", name="Ada Advisor")
    make_window(advisor)
    key = listed_starts(login(make_user("student")).get(f"/advising/advisors/{advisor.id}"))[0]
    applicant = make_user("student", status="applicant")
    client = login(applicant)

    home = text(client.get("/advising/"))
    assert ADVISING_LATER in home and f"/advising/advisors/{advisor.id}" not in home
    slots = client.get(f"/advising/advisors/{advisor.id}")
    assert ADVISING_LATER in text(slots) and listed_starts(slots) == []
    form = text(client.get(f"/advising/advisors/{advisor.id}/book?start={key}"))
    assert ADVISING_LATER in form and "What would you like to talk about?" not in form
    refused = client.post(
        f"/advising/advisors/{advisor.id}/book?start={key}", data={"topic": "registration"}
    )
    assert refused.status_code == 403 and ADVISING_LATER in text(refused)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0

    applicant.profile.status = "active"
    db.session.commit()
    assert listed_starts(client.get(f"/advising/advisors/{advisor.id}"))


def test_housing_opens_once_the_membership_is_active(ctx, login):
    term = make_term(
        "Next term", local_today() + timedelta(days=30), local_today() + timedelta(150)
    )
    maple = make_house("Maple House")
    agreement = make_agreement()
    client = login(make_user("student", status="applicant"))

    housing = text(client.get("/housing/"))
    assert HOUSING_LATER in housing and "Apply for housing" not in housing
    form = text(client.get("/housing/apply"))
    assert HOUSING_LATER in form and "Send my application" not in form
    values = {
        "term_id": term.id, "first_choice_id": maple.id, "second_choice_id": 0,
        "roommate_request": "", "accessibility_needs": "", "move_in_wish": "",
        "acknowledge": "y", "agreement_version": agreement.version,
    }  # fmt: skip
    refused = client.post("/housing/apply", data=values)
    assert refused.status_code == 403 and HOUSING_LATER in text(refused)
    assert db.session.scalars(select(HousingApplication)).all() == []


def test_an_applicant_asks_to_talk_reads_the_directory_and_joins(ctx, login):
    staff = make_user("staff")
    agreement = intake.publish_agreement(staff, "Keep program spaces substance-free.")
    db.session.commit()
    make_meeting("Campus SMART Recovery", fellowship="smart")
    _, circle = two_events()
    applicant = make_user("student", status="applicant", name="Robin Applicant")
    client = login(applicant)

    assert "/me/apply" in text(client.get("/"))
    sent = client.post(
        "/me/apply",
        data={
            "goals": "Meet people who don't drink.",
            "heard_from": "friend",
            "heard_from_detail": "",
            "agreement_version": str(agreement.version),
            "acknowledge": "y",
        },  # fmt: skip
        follow_redirects=True,
    )
    assert "Waiting for review" in text(sent)
    application = db.session.scalar(select(IntakeApplication))
    reviewer = login(staff)
    reviewer.post(
        f"/members/applications/{application.id}",
        data={"decision": "conversation", "note": "Could we meet on Thursday?"},
    )
    page = text(client.get("/me/apply"))
    assert "Staff asked for a conversation" in page and "Could we meet on Thursday?" in page
    assert "Campus SMART Recovery" in text(client.get("/support-meetings/"))
    assert CLOSED not in text(client.get("/events/"))

    reviewer.post(
        f"/members/applications/{application.id}", data={"decision": "accepted", "note": ""}
    )
    assert CLOSED in text(client.get("/events/"))
    assert "You're going." in text(client.post(f"/events/{circle.id}/rsvp", follow_redirects=True))


def test_an_inactive_student_sees_what_an_applicant_sees_and_members_keep_theirs(ctx, login):
    """A declined applicant becomes inactive: they see no more than an applicant. Members
    on leave and alumni keep the events they had."""
    _, circle = two_events()
    for status, sees_members_events in MEMBERS_EVENTS.items():
        client = login(make_user("student", status=status))
        page = text(client.get("/events/"))
        assert OPEN in page and (CLOSED in page) is sees_members_events, status
        rsvp = client.post(f"/events/{circle.id}/rsvp")
        assert rsvp.status_code == (302 if sees_members_events else 404), status
    assert rsvps_of(circle) == 3


def test_the_demo_opens_the_all_recovery_meeting_to_applicants(ctx, login):
    staff = make_user("staff")
    seed_events(local_today(), staff, [make_user("student") for _ in range(15)])
    db.session.commit()
    page = text(login(make_user("student", status="applicant")).get("/events/month"))
    assert "All-recovery meeting" in page and "Peer support circle" not in page


def test_an_applicants_navigation_leads_to_their_application_not_advising_or_housing(
    app, ctx, login
):
    applicant = login(make_user("student", status="applicant"))
    nav = applicant.get("/").get_data(as_text=True).split('<nav aria-label="Main"', 1)[1]
    nav = nav.split("</nav>", 1)[0]
    assert "Your application" in nav and 'href="/me/apply"' in nav
    assert "Advising" not in nav and "Housing" not in nav
    member = login(make_user("student")).get("/").get_data(as_text=True)
    member_nav = member.split('<nav aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    assert "Advising" in member_nav and "Your application" not in member_nav
