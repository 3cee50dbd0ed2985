"""The outside security review's findings (issue #15, items 1–4), kept as regression tests:
links that follow the Host header, timing that tells whether an account exists, a public
key that signs sessions, and wrong passwords that lock the owner out (see
tests/test_throttling.py for the last)."""

import html
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crp_portal import create_app
from crp_portal.extensions import db
from crp_portal.outbox.models import OutboxMessage
from crp_portal.outbox.worker import deliver_due
from tests.conftest import Inbox, empty_database
from tests.factories import make_user

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 48


def portal(config_name: str, database_url: str, smtp: Inbox, **settings):
    application = create_app(
        config_name,
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "CRP_BASE_URL": "https://crp.example.edu",
            **settings,
        },
    )
    with application.app_context():
        db.create_all()
        make_user("staff", email="lead@example.edu", is_admin=True)
    return application


@pytest.fixture
def production_env(monkeypatch, database_url):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CRP_BASE_URL", "https://crp.example.edu")


def delivered(application, smtp: Inbox) -> list:
    with application.app_context():
        deliver_due()
    return smtp.received


def links_in(message) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", Inbox.text_of(message))


# 1. Links in email never follow the request's Host header


def test_a_reset_asked_for_with_a_forged_host_links_to_the_real_portal(database_url, smtp):
    application = portal("development", database_url, smtp, WTF_CSRF_ENABLED=False)
    try:
        client = application.test_client()
        response = client.post(
            "/reset-password",
            data={"email": "lead@example.edu"},
            headers={"Host": "evil.example"},
        )
        assert response.status_code == 302  # development answers any host, but…
        [message] = delivered(application, smtp)
        [link] = links_in(message)
        assert link.startswith("https://crp.example.edu/reset-password/")
        assert "evil.example" not in message.as_string()
    finally:
        with application.app_context():
            empty_database()


def test_production_refuses_a_foreign_host_before_anything_happens(
    production_env, database_url, smtp
):
    application = portal("production", database_url, smtp, SECRET_KEY=STRONG_KEY)
    try:
        real = application.test_client()
        form = real.get("/reset-password", base_url="https://crp.example.edu")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text).group(1)
        forged = real.post(
            "/reset-password",
            data={"email": "lead@example.edu", "csrf_token": token},
            base_url="https://crp.example.edu",
            headers={"Host": "evil.example"},
        )
        assert forged.status_code == 400
        page = html.unescape(forged.text)
        assert "This address is not the portal's." in page
        assert 'href="https://crp.example.edu/' in page or 'href="/' in page
        assert delivered(application, smtp) == []

        honest = real.post(
            "/reset-password",
            data={"email": "lead@example.edu", "csrf_token": token},
            base_url="https://crp.example.edu",
            headers={"Referer": "https://crp.example.edu/reset-password"},
        )
        assert honest.status_code == 302
        [message] = delivered(application, smtp)
        assert links_in(message)[0].startswith("https://crp.example.edu/reset-password/")
    finally:
        with application.app_context():
            empty_database()


def test_production_answers_the_extra_trusted_hosts(production_env, database_url, smtp):
    application = portal(
        "production",
        database_url,
        smtp,
        SECRET_KEY=STRONG_KEY,
        CRP_TRUSTED_HOSTS=["health.internal"],
    )
    try:
        client = application.test_client()
        assert client.get("/healthz", headers={"Host": "health.internal"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "crp.example.edu:443"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "other.example"}).status_code == 400
    finally:
        with application.app_context():
            empty_database()


# 2. Nothing tells whether an address has an account


def elapsed_ms(client, path: str, data: dict) -> float:
    started = time.perf_counter()
    response = client.post(path, data=data)
    assert response.status_code in (200, 302)
    return (time.perf_counter() - started) * 1000


def timing_gap(client, path: str, known: dict, stranger: dict, pairs: int = 50) -> float:
    """How far apart the two kinds of request take, relative to the faster: the median,
    over `pairs` back-to-back pairs, of each pair's gap. A pair's two requests run a moment
    apart, so a burst of load from elsewhere slows both; a difference in the work done
    shows in every pair. The pairs alternate which goes first, so neither pays for going
    first."""
    for _ in range(5):  # warm up templates and connections
        elapsed_ms(client, path, known)
        elapsed_ms(client, path, stranger)
    gaps = []
    for pair in range(pairs):
        if pair % 2 == 0:
            known_ms, stranger_ms = (
                elapsed_ms(client, path, known),
                elapsed_ms(client, path, stranger),
            )
        else:
            stranger_ms, known_ms = (
                elapsed_ms(client, path, stranger),
                elapsed_ms(client, path, known),
            )
        gaps.append((known_ms - stranger_ms) / min(known_ms, stranger_ms))
    return abs(statistics.median(gaps))


def assert_indistinguishable(client, path: str, known: dict, stranger: dict) -> None:
    """The pairs' median gap is under 10%. A difference in the work done shows in every
    measurement; a busy machine only in some, so up to three are taken."""
    gaps = []
    for _ in range(3):
        gaps.append(timing_gap(client, path, known, stranger))
        if gaps[-1] < 0.10:
            return
    pytest.fail(f"an account's requests take a different time from a stranger's: gaps {gaps}")


def test_a_reset_for_an_account_takes_as_long_as_one_for_a_stranger(app, ctx, smtp):
    """50 pairs of requests: their median gap is under 10%, and the request
    talks no SMTP either way (the worker sends the link afterwards)."""
    make_user("student", email="kai@example.edu")
    client = app.test_client()
    app.config.update(CRP_RESET_LIMIT="1000 per hour", CRP_RESET_LIMIT_ACCOUNT="1000 per hour")
    assert_indistinguishable(
        client, "/reset-password", {"email": "kai@example.edu"}, {"email": "nobody@example.edu"}
    )
    assert smtp.received == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert len(smtp.to("kai@example.edu")) >= 55
    assert len(smtp.messages) == len(smtp.to("kai@example.edu"))


OWASP_ARGON2 = {"CRP_ARGON2_TIME_COST": 2, "CRP_ARGON2_MEMORY_KIB": 19456}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # hashing, not storage
@pytest.mark.parametrize(
    ("password", "hashed_before_the_parameters_were_raised"),
    [("x", False), ("x", True), ("ﬁne ligature", False)],
    ids=["current-hash", "older-cheaper-hash", "password-that-normalizes"],
)
def test_a_wrong_password_takes_as_long_as_an_unknown_address(
    app, ctx, password, hashed_before_the_parameters_were_raised
):
    """With Argon2 at the smallest cost a deployment may set (OWASP's 19 MiB, 2 passes),
    since hashing is most of a real sign-in. Also for an account whose hash was made with
    the cheaper parameters of an earlier release, and for a password whose normalized
    form differs from what was typed (two checks for an account)."""
    if not hashed_before_the_parameters_were_raised:
        app.config.update(OWASP_ARGON2)
    make_user("student", email="kai@example.edu")
    app.config.update(
        OWASP_ARGON2,
        CRP_SIGNIN_LIMIT_ACCOUNT="1000 per hour",
        CRP_SIGNIN_LIMIT_ACCOUNT_ADDRESS="1000 per hour",
        CRP_SIGNIN_LIMIT_ADDRESS="1000 per hour",
    )
    assert_indistinguishable(
        app.test_client(),
        "/sign-in",
        {"email": "kai@example.edu", "password": password},
        {"email": "nobody@example.edu", "password": password},
    )


# 3. No public key ever signs a real session


def run_wsgi(env: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CRP_")}
    clean.pop("SECRET_KEY", None)
    return subprocess.run(  # noqa: S603 - our own interpreter importing our own module
        [sys.executable, "-c", "import wsgi; print(wsgi.app.config['ENV_NAME'])"],
        cwd=PROJECT_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gunicorns_app_is_production_unless_told_otherwise(tmp_path):
    """What the scanner did: no CRP_CONFIG, so the development key would sign an admin
    cookie. Now wsgi.py starts production, which refuses to run without a real key."""
    started = run_wsgi({"DATABASE_URL": f"sqlite:///{tmp_path}/p.db"})
    assert started.returncode != 0
    assert "Production needs these environment variables set: SECRET_KEY" in started.stderr


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("development-only-not-secret", "SECRET_KEY is the development key, which is public"),
        ("short-but-set", "SECRET_KEY is 13 bytes; production needs at least 32"),
    ],
)
def test_production_refuses_a_public_or_short_key(tmp_path, key, says):
    started = run_wsgi(
        {
            "SECRET_KEY": key,
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
            "CRP_BASE_URL": "https://crp.example.edu",
        }
    )
    assert started.returncode != 0
    assert says in started.stderr


def test_production_starts_with_a_strong_key(tmp_path):
    started = run_wsgi(
        {
            "SECRET_KEY": STRONG_KEY,
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
            "CRP_BASE_URL": "https://crp.example.edu",
        }
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "production"


def test_development_still_runs_when_asked_for(tmp_path):
    started = run_wsgi({"CRP_CONFIG": "development"})
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "development"
