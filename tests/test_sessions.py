"""Sessions: a fresh one at sign-in, none left after sign-out, and an end after
inactivity (CRP_SESSION_IDLE_MINUTES) or CRP_SESSION_HOURS after sign-in.
"Keep me signed in" deliberately outlasts both, until sign-out."""

import html

import pytest
from sqlalchemy import event

from crp_portal import security
from crp_portal.auth.models import User
from crp_portal.extensions import db
from tests.factories import PASSWORD, make_user

MINUTE = 60
IDLE_OUT = "You were signed out after 30 minutes of inactivity. Sign in again to continue."


class Clock:
    """The time the session rules see; tests move it instead of sleeping."""

    def __init__(self):
        self.now = security.now()

    def __call__(self) -> int:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += int(minutes * MINUTE)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(security, "now", fake)
    return fake


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def sign_in(client, email="kai@example.edu", password=PASSWORD, **extra):
    return client.post("/sign-in", data={"email": email, "password": password, **extra})


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session", domain="portal.test")
    return cookie.value if cookie else None


def is_signed_in(client) -> bool:
    return client.get("/me/profile").status_code == 200


@pytest.fixture
def kai(ctx):
    return make_user("student", email="kai@example.edu", name="Kai Nguyen")


# Sign-in and sign-out


def test_a_session_planted_before_sign_in_is_not_the_one_signed_in(app, kai):
    """Session fixation: someone plants a session cookie in a browser, waits for its owner
    to sign in, then uses the same cookie. The portal signs in a new session instead."""
    attacker = app.test_client()
    with attacker.session_transaction() as session:
        session["planted"] = "by someone else"
    planted = session_cookie(attacker)

    victim = app.test_client()
    victim.set_cookie("session", planted, domain="portal.test")
    assert sign_in(victim).status_code == 302
    assert session_cookie(victim) != planted
    with victim.session_transaction() as session:
        assert "planted" not in session
    assert is_signed_in(victim)

    assert not is_signed_in(attacker)  # the planted cookie is still anonymous


def test_signing_in_again_replaces_the_whole_session(app, kai):
    browser = app.test_client()
    sign_in(browser)
    first = session_cookie(browser)
    browser.post("/sign-out")
    sign_in(browser)
    assert session_cookie(browser) != first


def test_sign_out_ends_this_session_every_copy_and_the_remember_me_cookie(app, kai):
    browser = app.test_client()
    sign_in(browser, remember="y")
    copied_session = session_cookie(browser)
    remember = browser.get_cookie("remember_token", domain="portal.test").value

    response = browser.post("/sign-out", follow_redirects=True)
    assert "You are signed out." in text(response)
    assert browser.get_cookie("remember_token", domain="portal.test") is None
    db.session.expire_all()
    assert db.session.get(User, kai.id).session_version == 2

    elsewhere = app.test_client()
    elsewhere.set_cookie("session", copied_session, domain="portal.test")
    assert not is_signed_in(elsewhere)
    remembered = app.test_client()
    remembered.set_cookie("remember_token", remember, domain="portal.test")
    assert not is_signed_in(remembered)


# Inactivity


def test_thirty_idle_minutes_sign_a_session_out_with_a_message(app, kai, clock):
    browser = app.test_client()
    sign_in(browser)
    assert is_signed_in(browser)

    clock.advance(31)
    response = browser.get("/me/profile?tab=privacy")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/me/profile?tab%3Dprivacy"
    page = browser.get(response.headers["Location"])
    assert IDLE_OUT in text(page)
    assert not is_signed_in(browser)

    back = sign_in(browser)
    assert back.status_code == 302
    assert is_signed_in(browser)


def test_twenty_nine_idle_minutes_are_fine(app, kai, clock):
    browser = app.test_client()
    sign_in(browser)
    clock.advance(29)
    assert is_signed_in(browser)


def test_using_the_portal_keeps_the_session_going_for_hours(app, kai, clock):
    browser = app.test_client()
    sign_in(browser)
    for _ in range(30):  # five hours, a page every ten minutes
        clock.advance(10)
        assert is_signed_in(browser)


def test_a_form_sent_after_the_idle_limit_is_not_acted_on(app, kai, clock):
    browser = app.test_client()
    sign_in(browser)
    clock.advance(45)
    response = browser.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "a different passphrase",
            "confirm": "a different passphrase",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert IDLE_OUT in text(browser.get("/sign-in"))
    db.session.expire_all()
    assert db.session.get(User, kai.id).session_version == 1  # nothing was changed


@pytest.mark.parametrize(
    ("idle_minutes", "quiet_for", "message"),
    [
        (5, 6, "You were signed out after 5 minutes of inactivity."),
        (60, 61, "You were signed out after 1 hour of inactivity."),
    ],
)
def test_the_idle_limit_is_configurable(app, kai, clock, idle_minutes, quiet_for, message):
    app.config["CRP_SESSION_IDLE_MINUTES"] = idle_minutes
    browser = app.test_client()
    sign_in(browser)
    clock.advance(quiet_for - 2)
    assert is_signed_in(browser)
    clock.advance(quiet_for)
    response = browser.get("/", follow_redirects=True)
    assert message in text(response)
    assert not is_signed_in(browser)


def test_an_idle_limit_of_zero_turns_it_off(app, kai, clock):
    app.config["CRP_SESSION_IDLE_MINUTES"] = 0
    browser = app.test_client()
    sign_in(browser)
    clock.advance(11 * 60)
    assert is_signed_in(browser)


def test_activity_is_noted_in_the_cookie_not_the_database(app, kai, clock):
    """No database write per request, and no new cookie per request within a minute."""
    browser = app.test_client()
    sign_in(browser)
    browser.get("/me/profile")
    writes = []

    def note(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        clock.advance(0.5)
        within_the_minute = browser.get("/me/profile")
        clock.advance(5)
        later = browser.get("/me/profile")
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert writes == []
    assert "session=" not in " ".join(within_the_minute.headers.getlist("Set-Cookie"))
    assert "session=" in " ".join(later.headers.getlist("Set-Cookie"))


def test_a_session_from_before_the_stamps_is_stamped_not_signed_out(app, kai, login, clock):
    """Sessions made before this rule existed carry no times: they get them on use."""
    browser = login(kai)  # a bare session, as an older release wrote it
    assert is_signed_in(browser)
    with browser.session_transaction() as session:
        assert session[security.LAST_SEEN_AT] == clock.now
    clock.advance(31)
    assert not is_signed_in(browser)


# The absolute limit


def test_a_busy_session_still_ends_twelve_hours_after_sign_in(app, kai, clock):
    browser = app.test_client()
    sign_in(browser)
    for _ in range(12 * 4):  # every quarter hour for twelve hours
        clock.advance(15)
        assert is_signed_in(browser)
    clock.advance(15)
    response = browser.get("/", follow_redirects=True)
    assert "You were signed out 12 hours after signing in." in text(response)
    assert not is_signed_in(browser)


def test_the_session_lifetime_follows_crp_session_hours(app, kai, clock):
    from datetime import timedelta

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=1)
    browser = app.test_client()
    sign_in(browser)
    for _ in range(3):
        clock.advance(20)
        assert is_signed_in(browser)
    clock.advance(20)
    assert "You were signed out 1 hour after signing in." in text(
        browser.get("/", follow_redirects=True)
    )


# "Keep me signed in"


def test_keep_me_signed_in_survives_inactivity_by_design(app, kai, clock):
    browser = app.test_client()
    sign_in(browser, remember="y")
    clock.advance(3 * 60)
    response = browser.get("/me/profile")
    assert response.status_code == 200
    assert "signed out" not in text(response)
    clock.advance(20)
    assert is_signed_in(browser)  # a new session began from the remember cookie


def test_keep_me_signed_in_survives_the_session_lifetime_too(app, kai, clock):
    browser = app.test_client()
    sign_in(browser, remember="y")
    for _ in range(13):
        clock.advance(60)
        assert browser.get("/me/profile").status_code == 200


def test_a_revoked_remember_cookie_does_not_rescue_an_idle_session(app, kai, clock, login):
    browser = app.test_client()
    sign_in(browser, remember="y")
    other_device = login(kai)
    other_device.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "a different passphrase",
            "confirm": "a different passphrase",
        },
    )  # signs out every other device, remember cookies included
    clock.advance(31)
    response = browser.get("/me/profile", follow_redirects=True)
    assert "/sign-in" in response.request.path
    assert not is_signed_in(browser)


def test_the_server_ends_a_remember_cookie_after_its_fourteen_days(app, kai, clock):
    """A browser may keep the cookie past its expiry (or a copy of it may leak): the server
    itself refuses a remembered sign-in older than REMEMBER_COOKIE_DURATION."""
    browser = app.test_client()
    sign_in(browser, remember="y")
    remember = browser.get_cookie("remember_token", domain="portal.test").value
    copied = app.test_client()
    copied.set_cookie("remember_token", remember, domain="portal.test")
    clock.advance(13 * 24 * 60)
    assert is_signed_in(copied)
    later = app.test_client()
    later.set_cookie("remember_token", remember, domain="portal.test")
    clock.advance(2 * 24 * 60)
    response = later.get("/me/profile", follow_redirects=True)
    assert "/sign-in" in response.request.path
    assert not is_signed_in(browser)
