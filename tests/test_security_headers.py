"""What every response tells the browser: a strict CSP, no sniffing or framing, no
referrer off-site, no devices, no caching of pages; HSTS and Secure cookies in production."""

import re
from pathlib import Path

import pytest

from crp_portal import create_app
from crp_portal.extensions import db
from tests.conftest import empty_database
from tests.factories import PASSWORD, make_user

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ONE_YEAR = 365 * 24 * 3600


def directives(response) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    pairs = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {pair[0]: pair[1] if len(pair) > 1 else "" for pair in pairs}


def cookie_attributes(response, name: str) -> dict[str, str]:
    """The attributes of the Set-Cookie header for `name`, lowercased: {"secure": "", …}."""
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    attributes = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value
    return attributes


@pytest.fixture
def pages(ctx, client, login):
    """One response of each kind: anonymous page, signed-in page, error, redirect, POST."""
    student = make_user("student", email="kai@example.edu")
    signed_in = login(student)
    return {
        "sign-in page": client.get("/sign-in"),
        "signed-in page": signed_in.get("/me/profile"),
        "not found": client.get("/no-such-page"),
        "redirect to sign-in": client.get("/me/profile"),
        "failed sign-in": client.post(
            "/sign-in", data={"email": "kai@example.edu", "password": "not it at all"}
        ),
        "stylesheet": client.get("/static/css/portal.css"),
    }


def test_every_response_carries_the_strict_content_security_policy(pages):
    for name, response in pages.items():
        policy = directives(response)
        assert policy["default-src"] == "'self'", name
        assert policy["script-src"] == "'self'", name
        assert policy["style-src"] == "'self'", name
        assert policy["object-src"] == "'none'", name
        assert policy["frame-ancestors"] == "'none'", name
        assert policy["form-action"] == "'self'", name
        assert policy["base-uri"] == "'self'", name
        assert "unsafe" not in response.headers["Content-Security-Policy"], name


def test_every_response_refuses_sniffing_framing_referrers_and_devices(pages):
    for name, response in pages.items():
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert response.headers["Referrer-Policy"] == "same-origin", name
        permissions = response.headers["Permissions-Policy"]
        for device in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{device}=()" in permissions, (name, device)


def test_pages_are_never_stored_but_the_stylesheet_may_be(pages):
    for name, response in pages.items():
        if name != "stylesheet":
            assert response.headers["Cache-Control"] == "no-store", name
    assert "no-store" not in pages["stylesheet"].headers.get("Cache-Control", "")


def test_no_hsts_outside_production(pages):
    for response in pages.values():
        assert "Strict-Transport-Security" not in response.headers


def test_no_template_needs_inline_script_or_style():
    """The CSP blocks inline code, so none may creep into a template: no <script> without
    src, no <style> element, no style="" or on…="" attribute, no javascript: URL."""
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        markup = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", markup, flags=re.IGNORECASE):
            if "src=" not in tag:
                offenders.append(f"{template.name}: inline {tag}")
        patterns = (r"<style\b", r"\sstyle\s*=", r"\son[a-z]+\s*=", r"javascript:")
        for pattern in patterns:
            if re.search(pattern, markup, flags=re.IGNORECASE):
                offenders.append(f"{template.name}: {pattern}")
    assert offenders == []


def test_development_cookies_are_http_only_and_same_site_but_work_over_plain_http(ctx, client):
    make_user("student", email="kai@example.edu")
    response = client.post(
        "/sign-in", data={"email": "kai@example.edu", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        attributes = cookie_attributes(response, name)
        assert "httponly" in attributes, name
        assert attributes["samesite"] == "Lax", name
        assert "secure" not in attributes, name


@pytest.fixture
def production_app(monkeypatch, database_url):
    """The production settings, on the test database, with cheap password hashing."""
    monkeypatch.setenv("SECRET_KEY", "a-production-like-secret-for-tests")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CRP_BASE_URL", "https://portal.test")
    application = create_app(
        "production",
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SERVER_NAME": "portal.test",
            "CRP_ARGON2_TIME_COST": 1,
            "CRP_ARGON2_MEMORY_KIB": 1024,
            "CRP_ARGON2_PARALLELISM": 1,
        },
    )
    with application.app_context():
        db.create_all()
        yield application
        empty_database()


def sign_in_over_https(application, email: str, remember: bool = True):
    """Sign in as a browser would: fetch the form, send it back with its CSRF token."""
    browser = application.test_client()
    form = browser.get("/sign-in", base_url="https://portal.test").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    response = browser.post(
        "/sign-in",
        data=data,
        base_url="https://portal.test",
        headers={"Referer": "https://portal.test/sign-in"},
    )
    return browser, response


def test_production_sends_hsts_for_a_year(production_app):
    response = production_app.test_client().get("/sign-in", base_url="https://portal.test")
    hsts = response.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= ONE_YEAR
    assert "includeSubDomains" in hsts
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_production_cookies_are_secure_http_only_and_same_site(production_app):
    make_user("student", email="kai@example.edu")
    _, response = sign_in_over_https(production_app, "kai@example.edu")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    for name in ("session", "remember_token"):
        attributes = cookie_attributes(response, name)
        assert "secure" in attributes, name
        assert "httponly" in attributes, name
        assert attributes["samesite"] == "Lax", name


def test_hsts_can_be_tuned_in_production(monkeypatch, database_url):
    monkeypatch.setenv("SECRET_KEY", "a-production-like-secret-for-tests")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CRP_BASE_URL", "https://portal.test")
    application = create_app(
        "production", {"SQLALCHEMY_DATABASE_URI": database_url, "CRP_HSTS_SECONDS": 600}
    )
    response = application.test_client().get("/static/css/portal.css")
    assert response.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
