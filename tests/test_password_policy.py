"""Password sign-in turned off for everyone but named break-glass admins, as a program
with campus sign-on runs it: their password still works, and every use is audited."""

import pytest
from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.auth.services import BREAK_GLASS_SIGN_IN, invitation_token, invite
from crp_portal.extensions import db
from tests.factories import PASSWORD, make_user

FAILED = b"That email and password do not match an active account."


@pytest.fixture
def app_config():
    return {
        "CRP_PASSWORD_SIGN_IN": False,
        "CRP_BREAK_GLASS_ADMINS": ["Emergency@Example.edu"],
        # Campus sign-in configured (never reached here: discovery waits for a sign-in).
        "CRP_OIDC_ISSUER": "http://127.0.0.1:9",
        "CRP_OIDC_CLIENT_ID": "portal",
        "CRP_OIDC_CLIENT_SECRET": "secret",
    }


def sign_in(client, email, password=PASSWORD):
    return client.post("/sign-in", data={"email": email, "password": password})


def break_glass_rows() -> list[int]:
    return list(
        db.session.scalars(
            select(AuditEntry.subject_id).where(AuditEntry.action == BREAK_GLASS_SIGN_IN)
        )
    )


def test_a_student_with_a_password_cannot_use_it(client, ctx):
    make_user("student", email="kai@example.edu")
    response = sign_in(client, "kai@example.edu")
    assert response.status_code == 200 and FAILED in response.data
    assert b"Sign in" in client.get("/").data


def test_an_admin_not_named_cannot_use_a_password_either(client, ctx):
    make_user("staff", email="admin@example.edu", is_admin=True)
    assert FAILED in sign_in(client, "admin@example.edu").data


def test_a_named_break_glass_admin_signs_in_and_each_use_is_audited(client, ctx):
    admin = make_user("staff", email="emergency@example.edu", name="Em Ergency", is_admin=True)
    assert sign_in(client, "emergency@example.edu").status_code == 302
    client.post("/sign-out")
    assert sign_in(client, "emergency@example.edu").status_code == 302
    assert break_glass_rows() == [admin.id, admin.id]


def test_a_named_account_that_is_not_an_admin_gets_no_password(client, ctx):
    make_user("staff", email="emergency@example.edu", is_admin=False)
    assert FAILED in sign_in(client, "emergency@example.edu").data
    assert break_glass_rows() == []


def test_the_sign_in_page_keeps_the_password_form_for_emergencies_only(client, ctx):
    page = client.get("/sign-in").data
    assert b"<summary>Administrator emergency sign-in</summary>" in page
    assert b"Forgot your password?" not in page


def test_reset_links_go_only_to_break_glass_accounts(client, ctx, smtp):
    make_user("student", email="kai@example.edu")
    make_user("staff", email="emergency@example.edu", is_admin=True)
    page = client.get("/reset-password").data
    assert b"Only the program's emergency administrator accounts get a reset link" in page
    for email in ("kai@example.edu", "emergency@example.edu"):
        client.post("/reset-password", data={"email": email})
    assert smtp.to("kai@example.edu") == []
    assert len(smtp.to("emergency@example.edu")) == 1


def test_an_invitation_without_passwords_is_accepted_by_signing_in_on_campus(client, ctx):
    admin = make_user("staff", email="admin@example.edu", is_admin=True)
    invitation = invite("dr.okoye@example.edu", "advisor", False, admin)
    db.session.commit()
    link = f"/invitations/{invitation_token(invitation)}"
    page = client.get(link).get_data(as_text=True)
    assert "uses dr.okoye@example.edu" in page and 'name="password"' not in page
    response = client.post(link, data={"name": "Ada", "password": "x" * 20, "confirm": "x" * 20})
    assert response.status_code == 200
    assert db.session.scalar(select(User).where(User.email == "dr.okoye@example.edu")) is None
