"""Signing in and out: one message for every failure, safe redirects, throttling,
and sessions that really end at sign-out."""

import pytest

from crp_portal.auth.models import User
from crp_portal.auth.routes import safe_next
from crp_portal.extensions import db
from tests.factories import PASSWORD, make_user

FAILED = b"That email and password do not match an active account."


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/sign-in", data={"email": email, "password": password, **extra})


def test_sign_in_with_right_password_lands_on_home(client, ctx):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    response = sign_in(client, "  KAI@Example.edu ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert b"Welcome, Kai Nguyen" in client.get("/").data


def test_wrong_password_and_unknown_email_get_the_same_message(client, ctx):
    make_user("student", email="kai@example.edu")
    wrong_password = sign_in(client, "kai@example.edu", "not the password")
    unknown_email = sign_in(client, "nobody@example.edu", "not the password")
    assert wrong_password.status_code == unknown_email.status_code == 200
    assert FAILED in wrong_password.data and FAILED in unknown_email.data


def test_deactivated_account_cannot_sign_in(client, ctx):
    make_user("advisor", email="gone@example.edu", active=False)
    assert FAILED in sign_in(client, "gone@example.edu").data


def test_invited_account_without_password_cannot_sign_in(client, ctx):
    make_user("student", email="nopass@example.edu", password=None)
    response = sign_in(client, "nopass@example.edu", "anything at all here")
    assert FAILED in response.data


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/terms/", "/terms/"),
        ("/members/?q=kai", "/members/?q=kai"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_next_parameter_only_returns_to_same_site_paths(client, ctx, target, expected):
    make_user("staff", email="coord@example.edu")
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"email": "coord@example.edu", "password": PASSWORD},
    )
    assert response.headers["Location"] == expected


def test_safe_next_refuses_control_characters():
    assert safe_next("/ok\r\nSet-Cookie: x") is None
    assert safe_next("/fine/path?x=1") == "/fine/path?x=1"


def test_anonymous_visitor_is_sent_to_sign_in_and_back(client, ctx):
    make_user("staff", email="coord@example.edu")
    response = client.get("/terms/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    back = client.post(
        response.headers["Location"], data={"email": "coord@example.edu", "password": PASSWORD}
    )
    assert back.headers["Location"] == "/terms/"


def test_sign_out_is_post_only_and_ends_the_session(client, ctx):
    make_user("student", email="kai@example.edu")
    sign_in(client, "kai@example.edu")
    assert client.get("/sign-out").status_code == 405
    assert client.get("/me/profile").status_code == 200
    response = client.post("/sign-out", follow_redirects=True)
    assert b"You are signed out." in response.data
    assert client.get("/me/profile").status_code == 302


def test_a_copied_session_cookie_stops_working_after_sign_out(app, ctx):
    make_user("student", email="kai@example.edu")
    browser = app.test_client()
    sign_in(browser, "kai@example.edu")
    stolen = browser.get_cookie("session", domain="portal.test").value

    browser.post("/sign-out")

    attacker = app.test_client()
    attacker.set_cookie("session", stolen, domain="portal.test")
    response = attacker.get("/me/profile")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_remember_me_cookie_is_revoked_by_sign_out(app, ctx):
    make_user("student", email="kai@example.edu")
    browser = app.test_client()
    sign_in(browser, "kai@example.edu", remember="y")
    remember = browser.get_cookie("remember_token", domain="portal.test")
    assert remember is not None

    returning = app.test_client()
    returning.set_cookie("remember_token", remember.value, domain="portal.test")
    assert returning.get("/me/profile").status_code == 200

    browser.post("/sign-out")

    later = app.test_client()
    later.set_cookie("remember_token", remember.value, domain="portal.test")
    assert later.get("/me/profile").status_code == 302


def test_session_changes_at_sign_in(app, ctx):
    make_user("student", email="kai@example.edu")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(browser, "kai@example.edu")
    with browser.session_transaction() as session:
        assert "planted" not in session


@pytest.fixture
def app_config():
    return {
        "CRP_SIGNIN_LIMIT_ACCOUNT": "3 per 15 minutes",
        "CRP_SIGNIN_LIMIT_ADDRESS": "6 per 15 minutes",
    }


def test_repeated_failures_on_one_account_are_throttled(client, ctx):
    make_user("student", email="kai@example.edu")
    for _ in range(3):
        assert sign_in(client, "kai@example.edu", "wrong guess").status_code == 200
    blocked = sign_in(client, "kai@example.edu", PASSWORD)
    assert blocked.status_code == 429
    assert b"Too many sign-in attempts" in blocked.data
    # Another account from the same address still works: the account limit is per account.
    make_user("student", email="other@example.edu")
    assert sign_in(client, "other@example.edu").status_code == 302


def test_many_failures_from_one_address_are_throttled_across_accounts(client, ctx):
    for number in range(6):
        sign_in(client, f"guess{number}@example.edu", "wrong guess")
    make_user("student", email="kai@example.edu")
    assert sign_in(client, "kai@example.edu").status_code == 429


def test_successful_sign_ins_are_not_counted(client, ctx):
    make_user("student", email="kai@example.edu")
    for _ in range(5):
        assert sign_in(client, "kai@example.edu").status_code == 302
        client.post("/sign-out")


def test_stale_password_hash_is_upgraded_at_sign_in(app, client, ctx):
    user = make_user("student", email="kai@example.edu")
    old_hash = user.password_hash
    assert "t=1" in old_hash
    app.config["CRP_ARGON2_TIME_COST"] = 2
    assert sign_in(client, "kai@example.edu").status_code == 302
    db.session.expire_all()
    new_hash = db.session.get(User, user.id).password_hash
    assert new_hash != old_hash and "t=2" in new_hash
    assert "$argon2id$" in new_hash
