"""The pages campus sign-in adds or changes are valid HTML to the Nu Html Checker too:
the sign-in page with campus buttons and the emergency form folded away, an invitation
that points to campus sign-in, the signed-out page, and an admin's account page listing
a linked identity."""

import pytest

from crp_portal.auth.services import invitation_token, invite
from crp_portal.extensions import db
from crp_portal.sso import SIGNED_OUT_OF
from crp_portal.sso.models import SsoIdentity
from tests.factories import make_user
from tests.readers import java_and_vnu
from tests.test_html_validity import validation_errors


@pytest.fixture
def app_config():
    return {
        "WTF_CSRF_ENABLED": True,
        "CRP_PASSWORD_SIGN_IN": False,
        "CRP_OIDC_ISSUER": "http://127.0.0.1:9",  # discovery waits for a sign-in
        "CRP_OIDC_CLIENT_ID": "portal",
        "CRP_OIDC_CLIENT_SECRET": "secret",
    }


def test_campus_sign_in_pages_are_valid_html(client, ctx, login, tmp_path):
    java, vnu = java_and_vnu()
    admin = make_user("staff", email="admin@example.edu", is_admin=True)
    student = make_user("student", email="kai@example.edu")
    db.session.add(
        SsoIdentity(user_id=student.id, protocol="oidc", issuer="https://idp.test", subject="1")
    )
    invitation = invite("dr.okoye@example.edu", "advisor", False, admin)
    db.session.commit()
    pages = {
        "sign-in": client.get("/sign-in"),
        "invitation": client.get(f"/invitations/{invitation_token(invitation)}"),
        "account": login(admin).get(f"/admin/accounts/{student.id}"),
    }
    with client.session_transaction() as session:
        session[SIGNED_OUT_OF] = "oidc"
    pages["signed-out"] = client.get("/signed-out")
    for name, response in pages.items():
        assert response.status_code == 200, name
        (tmp_path / f"{name}.html").write_text(response.get_data(as_text=True), encoding="utf-8")
    assert "Administrator emergency sign-in" in pages["sign-in"].get_data(as_text=True)
    assert "Unlink campus sign-in" in pages["account"].get_data(as_text=True)
    assert validation_errors(java, vnu, tmp_path) == []
