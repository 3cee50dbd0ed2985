"""Students apply for recovery housing; staff work through the queue and decide."""

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.extensions import db
from crp_portal.housing.models import HousingApplication
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_agreement, make_application, make_house, make_term, make_user
from tests.test_concurrency import run_together

ALREADY = "You have already applied for Fall 2026."
CHANGED = "The house agreement changed while you were reading it."


def text(response) -> str:
    """The page as a person reads it (entities like &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def words(page: str) -> str:
    """The page's text with the tags taken out (a status is a chip: a span around words)."""
    return re.sub(r"<[^>]+>", "", page)


def applications() -> list[HousingApplication]:
    db.session.expire_all()
    return list(db.session.scalars(select(HousingApplication).order_by(HousingApplication.id)))


def shown_agreement_version(client) -> str:
    """The agreement version the apply page hands back with the form."""
    page = text(client.get("/housing/apply"))
    return re.search(r'name="agreement_version" value="(\d+)"', page).group(1)


def application_form(term, first, version, **overrides) -> dict:
    values = {
        "term_id": term.id,
        "first_choice_id": first.id,
        "second_choice_id": 0,
        "roommate_request": "",
        "accessibility_needs": "",
        "move_in_wish": "",
        "acknowledge": "y",
        "agreement_version": version,
    }
    values.update(overrides)
    return values


def term_from_today(name: str, starts_in_days: int, lasts_days: int = 120):
    """A term placed around today, so the tests mean the same whatever day they run."""
    starts_on = local_today() + timedelta(days=starts_in_days)
    return make_term(name, starts_on, starts_on + timedelta(days=lasts_days))


@pytest.fixture
def term(ctx):
    return term_from_today("Fall 2026", -10)


@pytest.fixture
def maple(ctx):
    return make_house("Maple House")


@pytest.fixture
def oak(ctx):
    return make_house("Oak House")


@pytest.fixture
def agreement(ctx):
    return make_agreement("Keep the house substance-free.")


# Applying


def test_student_applies_and_sees_their_submitted_application(
    term, maple, oak, agreement, login, smtp
):
    student = make_user("student", email="rae@example.edu")
    client = login(student)
    version = shown_agreement_version(client)
    assert version == "1"
    before = utcnow()
    response = client.post(
        "/housing/apply",
        data=application_form(
            term,
            maple,
            version,
            second_choice_id=oak.id,
            roommate_request="Sam Lee",
            accessibility_needs="Ground floor, please.",
            move_in_wish="2026-08-20",
        ),
    )
    [application] = applications()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/housing/applications/{application.id}")

    page = text(client.get(response.headers["Location"]))
    assert "Your application is in. We have emailed you a copy." in page
    assert "Housing application: Fall 2026" in page
    assert '<dt>Status</dt><dd><span class="badge badge-info">Submitted</span></dd>' in page
    assert "<dt>First choice</dt><dd>Maple House</dd>" in page
    assert "<dt>Second choice</dt><dd>Oak House</dd>" in page
    assert "Sam Lee" in page and "Ground floor, please." in page
    assert "<dt>House agreement</dt><dd>Version 1, acknowledged" in page
    assert "Withdraw my application" in page

    assert application.student_id == student.id
    assert application.agreement_id == agreement.id
    assert before <= application.agreement_acknowledged_at <= utcnow()
    assert application.move_in_wish == date(2026, 8, 20)
    assert application.second_choice_id == oak.id

    [message] = smtp.to("rae@example.edu")
    assert message["Subject"] == "Housing application received (Fall 2026)"
    body = smtp.text_of(message)
    assert "We have your housing application for Fall 2026." in body
    assert f"http://portal.test/housing/applications/{application.id}" in body

    listed = text(client.get("/housing/"))
    assert "Fall 2026" in listed and "Submitted" in listed


def test_without_acknowledging_the_agreement_nothing_is_sent(term, maple, agreement, login, smtp):
    client = login(make_user("student", email="rae@example.edu"))
    response = client.post(
        "/housing/apply", data=application_form(term, maple, "1", acknowledge="")
    )
    assert response.status_code == 200
    assert "Acknowledge the house agreement to apply." in text(response)
    assert applications() == []
    assert smtp.to("rae@example.edu") == []


def test_applying_twice_for_a_term_says_so_and_keeps_one_application(
    term, maple, oak, agreement, login, smtp
):
    client = login(make_user("student", email="rae@example.edu"))
    client.post("/housing/apply", data=application_form(term, maple, "1"))
    again = client.post("/housing/apply", data=application_form(term, oak, "1"))
    assert again.status_code == 409
    assert ALREADY in text(again)
    [application] = applications()
    assert application.first_choice_id == maple.id
    assert len(smtp.to("rae@example.edu")) == 1


def test_a_student_may_apply_for_another_term(term, maple, agreement, login):
    spring = term_from_today("Spring 2027", 130)
    client = login(make_user("student"))
    client.post("/housing/apply", data=application_form(term, maple, "1"))
    response = client.post("/housing/apply", data=application_form(spring, maple, "1"))
    assert response.status_code == 302
    assert len(applications()) == 2


def test_a_new_agreement_published_while_reading_must_be_read_again(
    term, maple, agreement, login, smtp
):
    client = login(make_user("student", email="rae@example.edu"))
    version = shown_agreement_version(client)
    make_agreement("Keep the house substance-free. Quiet hours from 11 pm.")

    response = client.post("/housing/apply", data=application_form(term, maple, version))
    page = text(response)
    assert response.status_code == 409
    assert CHANGED in page
    assert "House agreement (version 2)" in page and "Quiet hours from 11 pm." in page
    assert applications() == []
    assert smtp.to("rae@example.edu") == []

    resent = client.post(
        "/housing/apply", data=application_form(term, maple, shown_agreement_version(client))
    )
    assert resent.status_code == 302
    [application] = applications()
    assert application.agreement.version == 2


def test_the_same_house_twice_is_refused(term, maple, agreement, login):
    client = login(make_user("student"))
    response = client.post(
        "/housing/apply", data=application_form(term, maple, "1", second_choice_id=maple.id)
    )
    assert response.status_code == 422
    assert "Choose two different houses, or leave the second choice empty." in text(response)
    assert applications() == []


@pytest.mark.parametrize("status", ["alumni", "inactive"])
def test_only_current_members_apply(term, maple, agreement, login, status):
    client = login(make_user("student", status=status))
    response = client.post("/housing/apply", data=application_form(term, maple, "1"))
    assert response.status_code == 422
    assert "Recovery housing is for current program members." in text(response)
    assert applications() == []


def test_before_an_agreement_is_published_applications_open_later(term, maple, login):
    client = login(make_user("student"))
    message = "Applications open once the program publishes its house agreement."
    assert message in text(client.get("/housing/"))
    page = text(client.get("/housing/apply"))
    assert message in page
    assert "Send my application" not in page
    response = client.post("/housing/apply", data=application_form(term, maple, "1"))
    assert message in text(response)
    assert applications() == []


def test_a_past_term_cannot_be_chosen(term, maple, agreement, login):
    past = term_from_today("Spring 2026", -250)
    client = login(make_user("student"))
    assert "Spring 2026" not in text(client.get("/housing/apply"))
    response = client.post("/housing/apply", data=application_form(past, maple, "1"))
    page = text(response)
    assert response.status_code == 200
    assert "Choose a current or upcoming term." in page or "Not a valid choice." in page
    assert applications() == []


def test_another_students_application_looks_like_none(term, maple, agreement, login):
    theirs = make_application(make_user("student"), term, maple)
    client = login(make_user("student"))
    message = "There is no housing application with that number in your list."
    page = client.get(f"/housing/applications/{theirs.id}")
    assert page.status_code == 404
    assert message in text(page)
    withdrawn = client.post(f"/housing/applications/{theirs.id}/withdraw")
    assert withdrawn.status_code == 404
    assert message in text(withdrawn)
    assert applications()[0].status == "submitted"


@pytest.mark.parametrize("status", ["submitted", "waitlisted"])
def test_student_withdraws_and_a_second_withdraw_is_refused(term, maple, agreement, login, status):
    student = make_user("student")
    application = make_application(student, term, maple, status=status)
    client = login(student)
    path = f"/housing/applications/{application.id}/withdraw"
    response = client.post(path, follow_redirects=True)
    page = text(response)
    assert "Your application is withdrawn." in page
    assert '<td><span class="badge badge-neutral">Withdrawn</span></td>' in page
    assert "Withdraw my application" not in text(
        client.get(f"/housing/applications/{application.id}")
    )

    again = client.post(path)
    assert again.status_code == 409
    assert "Only a submitted or waitlisted application can be withdrawn." in text(again)
    assert applications()[0].status == "withdrawn"


def test_a_double_submitted_application_makes_one(term, maple, agreement, login, smtp):
    student = make_user("student", email="rae@example.edu")
    clients = [login(student), login(student)]
    form = application_form(term, maple, "1")

    responses = run_together(*(lambda c=c: c.post("/housing/apply", data=form) for c in clients))
    assert sorted(r.status_code for r in responses) == [302, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert ALREADY in text(refused)
    assert len(applications()) == 1
    assert len(smtp.to("rae@example.edu")) == 1


# The staff queue


@pytest.fixture
def staff(ctx, login):
    return login(make_user("staff"))


def queued_names(response) -> list[str]:
    return re.findall(r'<a href="/housing/queue/\d+">([^<]+)</a>', text(response))


def test_the_queue_lists_a_terms_applications_in_submission_order(
    staff, term, maple, oak, agreement
):
    now = utcnow()
    # Entered first, submitted last: the queue follows submission time, not entry order.
    make_application(
        make_user("student", name="Ava Later"), term, maple, submitted_at=now - timedelta(hours=1)
    )
    make_application(
        make_user("student", name="Ben Earliest"),
        term,
        oak,
        second_choice_id=maple.id,
        submitted_at=now - timedelta(days=2),
    )
    make_application(
        make_user("student", name="Cy Middle"),
        term,
        maple,
        status="waitlisted",
        submitted_at=now - timedelta(days=1),
    )
    other_term = term_from_today("Spring 2027", 130)
    make_application(make_user("student", name="Dee Spring"), other_term, maple)

    response = staff.get(f"/housing/queue?term={term.id}")
    page = text(response)
    assert queued_names(response) == ["Ben Earliest", "Cy Middle", "Ava Later"]
    assert "Oak House, then Maple House" in page
    assert ">Submitted (2)</option>" in page
    assert ">Waitlisted (1)</option>" in page
    assert ">Declined (0)</option>" in page

    waitlisted = staff.get(f"/housing/queue?term={term.id}&status=waitlisted")
    assert queued_names(waitlisted) == ["Cy Middle"]
    assert queued_names(staff.get(f"/housing/queue?term={other_term.id}")) == ["Dee Spring"]
    assert "No applications match." in text(
        staff.get(f"/housing/queue?term={term.id}&status=declined")
    )


@pytest.mark.parametrize(
    "query",
    [
        "term=abc",
        "term=-1",
        "term=99999999999999999999999999",
        "term=1.5&status=nonsense",
        "status=%3Cscript%3E",
        "term=&status=",
    ],
)
def test_junk_in_the_queue_address_shows_the_queue(staff, term, maple, agreement, query):
    make_application(make_user("student", name="Ava Student"), term, maple)
    response = staff.get(f"/housing/queue?{query}")
    assert response.status_code == 200
    assert queued_names(response) == ["Ava Student"]


def test_opening_an_application_in_the_queue_is_logged(staff, term, maple, agreement):
    student = make_user("student", name="Ava Student")
    application = make_application(student, term, maple)
    page = text(staff.get(f"/housing/queue/{application.id}"))
    assert "Ava Student: Fall 2026" in page
    assert "Opening this application is logged." in page
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert entry.subject_id == student.id
    assert entry.action == "housing application"
    assert entry.actor.role == "staff"


def test_an_unknown_application_in_the_queue_is_a_clear_404(staff):
    response = staff.get("/housing/queue/999999")
    assert response.status_code == 404
    assert "There is no housing application with that number." in text(response)


def test_staff_waitlist_an_application_and_the_student_is_emailed(
    staff, term, maple, agreement, login, smtp
):
    student = make_user("student", name="Ava Student", email="ava@example.edu")
    application = make_application(student, term, maple)
    response = staff.post(
        f"/housing/queue/{application.id}/waitlist",
        data={"note": "Maple is full until January."},
        follow_redirects=True,
    )
    assert "Ava Student: waitlisted. They have been emailed." in text(response)
    [message] = smtp.to("ava@example.edu")
    assert message["Subject"] == "Housing application: waitlist (Fall 2026)"
    body = smtp.text_of(message)
    assert "is on the waitlist" in body
    assert "Note from staff: Maple is full until January." in body
    page = text(login(student).get(f"/housing/applications/{application.id}"))
    assert "Waitlisted: Maple is full until January." in words(page)


def test_staff_decline_with_a_reason_and_the_student_is_emailed(
    staff, term, maple, agreement, login, smtp
):
    student = make_user("student", name="Ava Student", email="ava@example.edu")
    application = make_application(student, term, maple)
    response = staff.post(
        f"/housing/queue/{application.id}/decline",
        data={"note": "You live at home this year."},
        follow_redirects=True,
    )
    assert "Ava Student: declined. They have been emailed." in text(response)
    [message] = smtp.to("ava@example.edu")
    assert message["Subject"] == "Housing application: decision (Fall 2026)"
    assert "Reason: You live at home this year." in smtp.text_of(message)
    page = text(login(student).get(f"/housing/applications/{application.id}"))
    assert "Declined: You live at home this year." in words(page)
    assert "Withdraw my application" not in page


def test_declining_without_a_reason_asks_for_one_and_changes_nothing(
    staff, term, maple, agreement, smtp
):
    application = make_application(make_user("student", email="ava@example.edu"), term, maple)
    response = staff.post(f"/housing/queue/{application.id}/decline", data={"note": "  "})
    assert response.status_code == 400
    assert "Give the student a reason; it is included in their email." in text(response)
    [unchanged] = applications()
    assert unchanged.status == "submitted" and unchanged.decision_note is None
    assert smtp.to("ava@example.edu") == []


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("decline", "decline", "Only a submitted or waitlisted application can be declined."),
        ("decline", "waitlist", "Only a submitted application can be waitlisted."),
        ("waitlist", "waitlist", "Only a submitted application can be waitlisted."),
    ],
)
def test_deciding_twice_is_refused_and_emails_once(
    staff, term, maple, agreement, smtp, first, second, message
):
    application = make_application(make_user("student", email="ava@example.edu"), term, maple)
    staff.post(f"/housing/queue/{application.id}/{first}", data={"note": "First decision."})
    response = staff.post(
        f"/housing/queue/{application.id}/{second}", data={"note": "Second decision."}
    )
    assert response.status_code == 409
    assert message in text(response)
    [decided] = applications()
    assert decided.decision_note == "First decision."
    assert len(smtp.to("ava@example.edu")) == 1
