"""Rate limits: sign-in, password reset, invitation acceptance, self check-in codes and
unsubscribe; each keyed sensibly and answered with a clear 429 page. With
RATELIMIT_STORAGE_URI pointing at Redis, every process shares the counts.

Under CI=true a missing redis-server fails the Redis tests; locally they skip.
"""

import html
import subprocess
import sys
from pathlib import Path

import pytest

from crp_portal import create_app
from crp_portal.auth import services
from crp_portal.extensions import db, limiter
from crp_portal.nudges.unsubscribe import unsubscribe_url
from crp_portal.timeutil import utcnow
from tests.conftest import Inbox, IsolatedClient, RedisServer
from tests.factories import PASSWORD, code_now, make_event, make_user

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "maple lanterns drift east"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def from_address(client, address: str):
    """Requests from this client come from `address` (its REMOTE_ADDR)."""
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, email="kai@example.edu", password=PASSWORD):
    return client.post("/sign-in", data={"email": email, "password": password})


def app_counting_in(storage_url: str, database_url: str, app_config: dict, **settings):
    """Another instance of the portal on the same database, counting in `storage_url`."""
    application = create_app(
        "testing",
        {
            **app_config,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SERVER_NAME": "portal.test",
            "RATELIMIT_STORAGE_URI": storage_url,
            **settings,
        },
    )
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture
def app_config():
    """Small limits, so each test reaches them in a few requests."""
    return {
        "CRP_SIGNIN_LIMIT_ACCOUNT_ADDRESS": "3 per 15 minutes",
        "CRP_SIGNIN_LIMIT_ACCOUNT": "6 per 15 minutes",
        "CRP_SIGNIN_LIMIT_ADDRESS": "5 per 15 minutes",
        "CRP_RESET_LIMIT": "4 per hour",
        "CRP_RESET_LIMIT_ACCOUNT": "2 per hour",
        "CRP_LINK_LIMIT": "3 per hour",
        "CRP_CHECK_IN_LIMIT": "2 per 10 minutes",
        "CRP_UNSUBSCRIBE_LIMIT": "3 per minute",
    }


# The 429 page


def test_a_refusal_says_why_and_when_to_try_again(ctx, client):
    make_user("student", email="kai@example.edu")
    for _ in range(3):
        sign_in(client, password="a wrong guess")
    refused = sign_in(client)
    assert refused.status_code == 429
    page = text(refused)
    assert "<h1>Too many attempts</h1>" in page
    assert "Too many sign-in attempts for this account or from this network." in page
    assert "You can try again in about 15 minutes." in page
    assert 14 * 60 <= int(refused.headers["Retry-After"]) <= 15 * 60 + 1
    assert refused.headers["Cache-Control"] == "no-store"


# Sign-in: failures per account, and per network address


def test_a_distributed_attack_meets_the_account_ceiling(ctx, app):
    """Six failures from six addresses reach the per-account ceiling (6 here): then even
    the right password waits, from anywhere; other accounts are unaffected."""
    make_user("student", email="kai@example.edu")
    make_user("student", email="lee@example.edu")
    for number in range(6):
        guesser = from_address(app.test_client(), f"198.51.100.{number}")
        assert sign_in(guesser, password="a wrong guess").status_code == 200
    elsewhere = from_address(app.test_client(), "203.0.113.9")
    assert sign_in(elsewhere).status_code == 429
    assert sign_in(elsewhere, email="lee@example.edu").status_code == 302


def test_a_flood_from_one_address_never_locks_the_owner_out_elsewhere(ctx, app, smtp):
    """The scanner's case: wrong passwords for one account, again and again, from one
    address. That address is refused; the owner, on another network, signs in, and is told
    by email (once) that someone is trying."""
    make_user("student", email="kai@example.edu", name="Kai Moreno")
    attacker = from_address(app.test_client(), "198.51.100.66")
    answers = [sign_in(attacker, password=f"guess {n}").status_code for n in range(40)]
    assert answers[:3] == [200, 200, 200] and set(answers[3:]) == {429}
    assert sign_in(attacker).status_code == 429  # the right password, from there, waits too
    owner = from_address(app.test_client(), "203.0.113.9")
    assert sign_in(owner).status_code == 302
    [notice] = smtp.to("kai@example.edu")
    assert notice["Subject"] == "Wrong passwords were typed for your account"
    body = Inbox.text_of(notice)
    assert "you can still sign in as usual" in body
    assert "http://portal.test/reset-password" in body


def test_no_attack_notice_goes_to_an_address_without_an_account(ctx, app, smtp):
    attacker = from_address(app.test_client(), "198.51.100.66")
    for number in range(5):
        sign_in(attacker, email="nobody@example.edu", password=f"guess {number}")
    assert smtp.messages == []


def test_sign_in_failures_are_limited_per_address_across_accounts(ctx, app):
    make_user("student", email="kai@example.edu")
    one_network = from_address(app.test_client(), "198.51.100.7")
    for number in range(5):
        sign_in(one_network, email=f"guess{number}@example.edu", password="a wrong guess")
    assert sign_in(one_network).status_code == 429
    another_network = from_address(app.test_client(), "203.0.113.9")
    assert sign_in(another_network).status_code == 302


# Password reset


def request_reset(client, email="kai@example.edu"):
    return client.post("/reset-password", data={"email": email})


def test_reset_requests_are_limited_per_address(ctx, app, smtp):
    make_user("student", email="kai@example.edu")
    network = from_address(app.test_client(), "198.51.100.7")
    for number in range(4):
        assert request_reset(network, f"someone{number}@example.edu").status_code == 302
    refused = request_reset(network)
    assert refused.status_code == 429
    assert "Too many reset requests" in text(refused)
    assert smtp.to("kai@example.edu") == []


def test_reset_requests_for_one_inbox_are_limited_from_any_address(ctx, app, smtp):
    """No one can flood a person's inbox with reset links by switching networks."""
    make_user("student", email="kai@example.edu")
    for number in range(2):
        client = from_address(app.test_client(), f"198.51.100.{number}")
        assert request_reset(client).status_code == 302
    third = from_address(app.test_client(), "203.0.113.9")
    assert request_reset(third).status_code == 429
    assert len(smtp.to("kai@example.edu")) == 2
    # The same answer whether or not an account exists: the limit reveals nothing.
    for number in range(2):
        request_reset(from_address(app.test_client(), f"192.0.2.{number}"), "nobody@example.edu")
    assert request_reset(third, "nobody@example.edu").status_code == 429


def test_failed_uses_of_a_reset_link_are_limited_per_address(ctx, app):
    kai = make_user("student", email="kai@example.edu")
    path = f"/reset-password/{services.reset_token_for(kai)}"
    network = from_address(app.test_client(), "198.51.100.7")
    for _ in range(3):
        mismatch = network.post(path, data={"password": "one long phrase", "confirm": "another"})
        assert mismatch.status_code == 200
    good = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert network.post(path, data=good).status_code == 429
    other_network = from_address(app.test_client(), "203.0.113.9")
    assert other_network.post(path, data=good).headers["Location"] == "/sign-in"


# Invitation acceptance


def invitation_path(email: str, inviter) -> str:
    invitation = services.invite(email, "student", False, inviter)
    db.session.commit()
    return f"/invitations/{services.invitation_token(invitation)}"


def accept(client, path, name="Ada Okoye", password=NEW_PASSWORD):
    return client.post(path, data={"name": name, "password": password, "confirm": password})


def test_bad_invitation_links_are_limited_per_address(ctx, app):
    admin = make_user("staff", is_admin=True)
    prober = from_address(app.test_client(), "198.51.100.7")
    for number in range(3):
        assert accept(prober, f"/invitations/made-up-token-{number}").status_code == 400
    real = invitation_path("ada@example.edu", admin)
    refused = accept(prober, real)
    assert refused.status_code == 429
    assert "Too many attempts with emailed links from this network." in text(refused)
    invitee = from_address(app.test_client(), "203.0.113.9")
    assert accept(invitee, real).headers["Location"] == "/sign-in"


def test_a_room_full_of_invitees_on_one_network_can_all_accept(ctx, app):
    """Orientation: many people accept their invitations from the campus network at once.
    Only failures count, so successes from one address are never refused."""
    admin = make_user("staff", is_admin=True)
    campus = from_address(app.test_client(), "198.51.100.7")
    for number in range(6):
        path = invitation_path(f"newcomer{number}@example.edu", admin)
        response = accept(campus, path, name=f"Newcomer Number{number}")
        assert response.headers["Location"] == "/sign-in", number


# Self check-in codes


def test_wrong_check_in_codes_are_limited_per_person_and_event(ctx, login):
    student, classmate = make_user("student"), make_user("student")
    event = make_event()
    event.starts_at = utcnow()
    db.session.commit()
    wrong = "QQQQQQ" if code_now(event) != "QQQQQQ" else "WWWWWW"
    client = login(student)
    for _ in range(2):
        assert client.post(f"/events/{event.id}/check-in", data={"code": wrong}).status_code == 302
    refused = client.post(f"/events/{event.id}/check-in", data={"code": code_now(event)})
    assert refused.status_code == 429
    assert "Too many wrong codes." in text(refused)
    right = login(classmate).post(f"/events/{event.id}/check-in", data={"code": code_now(event)})
    assert right.status_code == 302


# Unsubscribe


def test_unsubscribe_is_limited_per_address_and_one_click_still_needs_no_csrf(ctx, app):
    app.config["WTF_CSRF_ENABLED"] = True
    student = make_user("student")
    path = "/" + unsubscribe_url(student.id, "events").split("/", 3)[3]
    network = from_address(app.test_client(), "198.51.100.7")
    assert network.get(path).status_code == 200
    one_click = network.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200  # no cookie, no CSRF token, as RFC 8058 sends it
    assert network.get(path + "x").status_code == 400
    refused = network.get(path)
    assert refused.status_code == 429
    assert "Too many unsubscribe requests from this network." in text(refused)
    assert from_address(app.test_client(), "203.0.113.9").get(path).status_code == 200


# Behind the reverse proxy


def test_behind_a_proxy_each_visitor_is_counted_by_their_own_address(ctx, app, app_config):
    """Production trusts one proxy hop: X-Forwarded-For names the visitor. Without it the
    per-address limits would count the whole campus as the proxy's one address."""
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    proxied = app_counting_in("memory://", database_url, app_config, CRP_PROXY_HOPS=1)

    def via_proxy(visitor: str):
        client = from_address(proxied.test_client(), "127.0.0.1")
        client.environ_base["HTTP_X_FORWARDED_FOR"] = visitor
        return client

    make_user("student", email="kai@example.edu")
    guesser = via_proxy("198.51.100.7")
    for number in range(5):
        sign_in(guesser, email=f"guess{number}@example.edu", password="a wrong guess")
    assert sign_in(guesser).status_code == 429
    assert sign_in(via_proxy("203.0.113.9")).status_code == 302


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(ctx, app):
    make_user("student", email="kai@example.edu")
    client = from_address(app.test_client(), "198.51.100.7")
    for number in range(5):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{number}"
        sign_in(client, email=f"guess{number}@example.edu", password="a wrong guess")
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "10.0.0.99"
    assert sign_in(client).status_code == 429


SECOND_PROCESS = """
import sys
from crp_portal import create_app
app = create_app("testing", {
    "SQLALCHEMY_DATABASE_URI": sys.argv[1], "SERVER_NAME": "portal.test",
    "RATELIMIT_STORAGE_URI": sys.argv[2], "CRP_SIGNIN_LIMIT_ACCOUNT_ADDRESS": "3 per 15 minutes",
})
response = app.test_client().post(
    "/sign-in", data={"email": "kai@example.edu", "password": sys.argv[3]}
)
print(response.status_code)
"""


def test_sign_in_counts_live_in_redis_and_bind_another_process(
    ctx, database_url, app_config, redis_server, redis_url
):
    """Three failures in this process; a fourth attempt, with the right password, from a
    separate process (another gunicorn worker or host) is refused."""
    make_user("student", email="kai@example.edu")
    client = app_counting_in(redis_url, database_url, app_config).test_client()
    for _ in range(3):
        assert sign_in(client, password="a wrong guess").status_code == 200
    keys = [key.decode() for key in redis_server.client().keys("*")]
    assert any("sign-in:kai@example.edu" in key for key in keys), keys
    db.session.commit()

    second = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SECOND_PROCESS, database_url, redis_url, PASSWORD],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert second.stdout.strip().splitlines()[-1] == "429"

    redis_server.client().flushall()  # the counts were only ever in Redis
    assert sign_in(client).status_code == 302


def test_when_redis_goes_away_limits_fall_back_to_memory_not_to_errors(
    ctx, database_url, app_config
):
    """Sign-in must not break when Redis is down: each process counts on its own until
    Redis is back."""
    server = RedisServer.start()
    try:
        make_user("student", email="kai@example.edu")
        client = app_counting_in(server.url, database_url, app_config).test_client()
        assert sign_in(client, password="a wrong guess").status_code == 200
        server.stop()
        for _ in range(3):
            assert sign_in(client, password="a wrong guess").status_code == 200
        assert sign_in(client).status_code == 429
    finally:
        server.stop()
        limiter._storage_dead = False  # the limiter outlives this app; start the next clean
