"""Joining the program: a student applies under a versioned agreement; staff decide."""

import html

import pytest
from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.extensions import db
from crp_portal.members import intake
from crp_portal.members.models import IntakeApplication, StatusChange
from tests.factories import make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def publish(body="Keep program spaces substance-free.", staff=None):
    agreement = intake.publish_agreement(staff or make_user("staff"), body)
    db.session.commit()
    return agreement


def application_form(agreement, **overrides):
    return {
        "goals": "Friends who don't drink, and help around finals.",
        "heard_from": "friend",
        "heard_from_detail": "",
        "agreement_version": str(agreement.version),
        "acknowledge": "y",
        **overrides,
    }


def test_an_applicant_applies_and_staff_accept(ctx, login, smtp):
    agreement = publish()
    student = make_user("student", status="applicant", name="Robin Applicant")
    client = login(student)
    page = text(client.get("/me/apply"))
    assert "Keep program spaces substance-free." in page and "version 1" in page
    sent = client.post("/me/apply", data=application_form(agreement), follow_redirects=True)
    assert "Your application is with the program staff." in text(sent)
    assert "Waiting for review" in text(sent)

    staff = make_user("staff", name="Casey Staff")
    staff_client = login(staff)
    queue = text(staff_client.get("/members/applications"))
    assert "Robin Applicant" in queue
    application = db.session.scalar(select(IntakeApplication))
    detail = text(staff_client.get(f"/members/applications/{application.id}"))
    assert "Friends who don't drink" in detail and "Acknowledged version 1" in detail
    decided = staff_client.post(
        f"/members/applications/{application.id}",
        data={"decision": "accepted", "note": ""},
        follow_redirects=True,
    )
    assert "Robin Applicant is now an active member." in text(decided)
    db.session.refresh(student.profile)
    assert student.profile.status == "active" and student.profile.joined_on is not None
    history = db.session.scalars(
        select(StatusChange).where(StatusChange.user_id == student.id).order_by(StatusChange.id)
    ).all()
    assert [(c.from_status, c.to_status) for c in history] == [
        (None, "applicant"),
        ("applicant", "active"),
    ]
    assert history[-1].changed_by_id == staff.id
    mail = smtp.to(student.email)
    assert len(mail) == 1 and "An update on your application" in mail[0]["Subject"]
    assert "Friends" not in smtp.text_of(mail[0])
    views = text(client.get("/me/record-views"))
    assert "Casey Staff (program staff)" in views and "Your application to join" in views


def test_asking_for_a_conversation_shows_the_note_to_the_student(ctx, login, smtp):
    agreement = publish()
    student = make_user("student", status="applicant")
    client = login(student)
    client.post("/me/apply", data=application_form(agreement))
    application = db.session.scalar(select(IntakeApplication))
    staff_client = login(make_user("staff"))
    refused = staff_client.post(
        f"/members/applications/{application.id}", data={"decision": "conversation", "note": ""}
    )
    assert "Write a note to the student: they will read it." in text(refused)
    staff_client.post(
        f"/members/applications/{application.id}",
        data={"decision": "conversation", "note": "Could we meet on Thursday?"},
    )
    page = text(client.get("/me/apply"))
    assert "Staff asked for a conversation" in page and "Could we meet on Thursday?" in page
    staff_client.post(
        f"/members/applications/{application.id}",
        data={"decision": "declined", "note": "We think the counseling center fits better."},
    )
    db.session.refresh(student.profile)
    assert student.profile.status == "inactive"
    assert "counseling center fits better" in text(client.get("/me/apply"))


def test_a_declined_student_may_apply_again_but_never_twice_at_once(ctx, login):
    agreement = publish()
    student = make_user("student", status="inactive")
    client = login(student)
    client.post("/me/apply", data=application_form(agreement))
    again = client.post("/me/apply", data=application_form(agreement))
    assert "You already have an application waiting for review." in text(again)
    assert db.session.scalar(select(db.func.count()).select_from(IntakeApplication)) == 1
    db.session.refresh(student.profile)
    assert student.profile.status == "applicant"


def test_withdrawing_closes_the_application(ctx, login):
    agreement = publish()
    student = make_user("student", status="applicant")
    client = login(student)
    client.post("/me/apply", data=application_form(agreement))
    withdrawn = client.post("/me/apply/withdraw", follow_redirects=True)
    assert "Your application is withdrawn." in text(withdrawn)
    assert db.session.scalar(select(IntakeApplication.status)) == "withdrawn"
    assert client.post("/me/apply/withdraw").status_code == 409


def test_bad_application_input_is_explained_and_nothing_saved(ctx, login):
    agreement = publish()
    client = login(make_user("student", status="applicant"))
    response = client.post(
        "/me/apply",
        data=application_form(agreement, goals="x" * 5000, heard_from="tiktok", acknowledge=""),
    )
    page = text(response)
    assert "Use at most 4000 characters." in page
    assert "Not a valid choice" in page
    assert "tick the box to acknowledge it" in page
    assert db.session.scalar(select(IntakeApplication)) is None


def test_an_agreement_changed_while_reading_must_be_read_again(ctx, login):
    first = publish("Version one text.")
    client = login(make_user("student", status="applicant"))
    publish("Version two text.")
    response = client.post("/me/apply", data=application_form(first))
    page = text(response)
    assert "The program agreement changed while you were reading it." in page
    assert "Version two text." in page
    assert db.session.scalar(select(IntakeApplication)) is None


def test_without_an_agreement_nobody_can_apply(ctx, login):
    client = login(make_user("student", status="applicant"))
    page = text(client.get("/me/apply"))
    assert "Applications open once the program staff publish the program agreement." in page


def test_active_members_have_nothing_to_apply_for(ctx, login):
    agreement = publish()
    client = login(make_user("student", status="active"))
    assert "There is nothing to apply for" in text(client.get("/me/apply"))
    assert client.post("/me/apply", data=application_form(agreement)).status_code == 409
    assert db.session.scalar(select(IntakeApplication)) is None


def test_staff_publish_versions_and_old_applications_keep_theirs(ctx, login):
    staff_client = login(make_user("staff"))
    staff_client.post("/members/agreement", data={"body": "First rules."})
    student = make_user("student", status="applicant")
    agreement = intake.current_agreement()
    login(student).post("/me/apply", data=application_form(agreement))
    published = staff_client.post(
        "/members/agreement", data={"body": "Second rules."}, follow_redirects=True
    )
    assert "Published version 2 of the program agreement." in text(published)
    same = staff_client.post("/members/agreement", data={"body": "Second rules."})
    assert "This is the same text as the current version." in text(same)
    application = db.session.scalar(select(IntakeApplication))
    assert application.agreement.version == 1


def test_a_decided_application_cannot_be_decided_again(ctx, login):
    agreement = publish()
    student = make_user("student", status="applicant")
    login(student).post("/me/apply", data=application_form(agreement))
    application = db.session.scalar(select(IntakeApplication))
    staff_client = login(make_user("staff"))
    url = f"/members/applications/{application.id}"
    staff_client.post(url, data={"decision": "accepted"})
    again = staff_client.post(url, data={"decision": "declined", "note": "No"})
    assert again.status_code == 409 and "already accepted" in text(again)


@pytest.mark.parametrize("role", ["student", "advisor"])
def test_only_staff_review_applications(ctx, login, role):
    agreement = publish()
    applicant = make_user("student", status="applicant")
    login(applicant).post("/me/apply", data=application_form(agreement))
    application = db.session.scalar(select(IntakeApplication))
    client = login(make_user(role))
    assert client.get("/members/applications").status_code == 403
    assert client.get(f"/members/applications/{application.id}").status_code == 403
    assert client.post("/members/agreement", data={"body": "Mine now"}).status_code == 403


def test_unknown_application_is_a_clear_404_and_not_audited(ctx, login):
    response = login(make_user("staff")).get("/members/applications/99999")
    assert response.status_code == 404
    assert "There is no application with that number." in text(response)
    assert db.session.scalar(select(AuditEntry)) is None


def test_invited_students_start_as_applicants_and_see_the_invitation_to_apply(ctx, login):
    publish()
    student = make_user("student", status="applicant")
    home = text(login(student).get("/"))
    assert "Apply to join the program" in home
