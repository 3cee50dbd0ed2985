"""Admins invite people by email; the invitee chooses a name and password."""

import re

from sqlalchemy import func, select

from crp_portal.auth.models import Invitation, User
from crp_portal.extensions import db
from tests.factories import make_user

PASSWORD = "invitee passphrase ok"


def link_path(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://portal\.test(\S+)", body).group(1)


def invite(client, email, role="advisor", is_admin=False):
    data = {"email": email, "role": role}
    if is_admin:
        data["is_admin"] = "y"
    return client.post("/admin/invitations", data=data, follow_redirects=True)


def accept(client, path, name="Ada Okoye", password=PASSWORD):
    return client.post(path, data={"name": name, "password": password, "confirm": password})


def test_invitation_email_arrives_and_invitee_sets_up_an_account(ctx, login, client, smtp):
    admin = make_user("staff", is_admin=True)
    response = invite(login(admin), "Ada.Okoye@Example.edu", role="advisor")
    assert b"Invitation sent to ada.okoye@example.edu" in response.data

    [message] = smtp.to("ada.okoye@example.edu")
    assert "as an advisor" in message.get_body(preferencelist=("plain",)).get_content()
    path = link_path(message)
    page = client.get(path)
    assert b"You were invited" in page.data and b"ada.okoye@example.edu" in page.data

    assert accept(client, path).headers["Location"] == "/sign-in"
    signed_in = client.post(
        "/sign-in", data={"email": "ada.okoye@example.edu", "password": PASSWORD}
    )
    assert signed_in.headers["Location"] == "/"
    home = client.get("/")
    assert b"Welcome, Ada Okoye" in home.data and b"Advisor" in home.data


def test_invited_staff_admin_gets_admin_rights(ctx, login, client, smtp):
    admin = make_user("staff", is_admin=True)
    invite(login(admin), "lead@example.edu", role="staff", is_admin=True)
    accept(client, link_path(smtp.to("lead@example.edu")[0]), name="Lead Person")
    user = db.session.scalar(select(User).where(User.email == "lead@example.edu"))
    assert user.role == "staff" and user.is_admin


def test_admin_flag_is_ignored_for_students(ctx, login, client, smtp):
    admin = make_user("staff", is_admin=True)
    invite(login(admin), "kid@example.edu", role="student", is_admin=True)
    accept(client, link_path(smtp.to("kid@example.edu")[0]), name="Kid Person")
    user = db.session.scalar(select(User).where(User.email == "kid@example.edu"))
    assert user.role == "student" and not user.is_admin
    assert user.profile.status == "applicant"


def test_duplicate_invitation_is_refused_with_a_clear_message(ctx, login, smtp):
    admin_client = login(make_user("staff", is_admin=True))
    invite(admin_client, "ada@example.edu")
    again = invite(admin_client, "ADA@example.edu")
    assert b"already has a pending invitation" in again.data
    count = db.session.scalar(select(func.count()).select_from(Invitation))
    assert count == 1
    assert len(smtp.to("ada@example.edu")) == 1


def test_inviting_an_existing_account_is_refused(ctx, login, smtp):
    make_user("student", email="kai@example.edu")
    response = invite(login(make_user("staff", is_admin=True)), "kai@example.edu")
    assert b"kai@example.edu already has an account" in response.data
    assert smtp.messages == []


def test_malformed_invitation_email_is_explained(ctx, login):
    response = invite(login(make_user("staff", is_admin=True)), "not-an-email")
    assert b"Enter an email address like name@example.edu." in response.data
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_resend_replaces_the_link(ctx, login, client, smtp):
    admin_client = login(make_user("staff", is_admin=True))
    invite(admin_client, "ada@example.edu")
    old_path = link_path(smtp.to("ada@example.edu")[0])
    invitation = db.session.scalar(select(Invitation))
    resent = admin_client.post(f"/admin/invitations/{invitation.id}/resend", follow_redirects=True)
    assert b"the old link no longer works" in resent.data
    new_path = link_path(smtp.to("ada@example.edu")[1])
    assert client.get(old_path).status_code == 400
    assert client.get(new_path).status_code == 200


def test_withdrawn_invitation_link_stops_working(ctx, login, client, smtp):
    admin_client = login(make_user("staff", is_admin=True))
    invite(admin_client, "ada@example.edu")
    path = link_path(smtp.to("ada@example.edu")[0])
    invitation = db.session.scalar(select(Invitation))
    admin_client.post(f"/admin/invitations/{invitation.id}/revoke")
    response = client.get(path)
    assert response.status_code == 400
    assert b"expired or has already been used" in response.data
    # A withdrawn invitation no longer blocks a fresh one.
    assert b"Invitation sent" in invite(admin_client, "ada@example.edu").data


def test_invitation_link_works_once(ctx, login, client, smtp):
    invite(login(make_user("staff", is_admin=True)), "ada@example.edu")
    path = link_path(smtp.to("ada@example.edu")[0])
    accept(client, path)
    second = accept(client, path, name="Someone Else", password="another passphrase")
    assert second.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_expired_invitation_is_refused(app, ctx, login, client, smtp):
    invite(login(make_user("staff", is_admin=True)), "ada@example.edu")
    path = link_path(smtp.to("ada@example.edu")[0])
    app.config["CRP_INVITATION_MAX_AGE"] = -1
    assert client.get(path).status_code == 400


def test_bad_acceptance_form_saves_nothing(ctx, login, client, smtp):
    invite(login(make_user("staff", is_admin=True)), "ada@example.edu")
    path = link_path(smtp.to("ada@example.edu")[0])
    response = client.post(path, data={"name": "x" * 500, "password": "short", "confirm": "s"})
    assert b"Use at most 120 characters." in response.data
    assert b"Use at least 12 characters" in response.data
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
