"""The app factory, configuration, health check and error pages."""

import subprocess
import sys
from pathlib import Path

import pytest

from crp_portal import create_app
from tests.factories import make_user


def test_production_refuses_to_start_without_secret_key_and_database(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        create_app("production")


def test_production_starts_with_both_set(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-of-at-least-32-bytes")
    monkeypatch.setenv("CRP_BASE_URL", "https://crp.example.edu")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prod.sqlite3")
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["ENV_NAME"] == "production"


def test_unknown_config_name_is_refused():
    with pytest.raises(RuntimeError, match="CRP_CONFIG must be one of"):
        create_app("staging")


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app("development")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/crp_portal.sqlite3")


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database_with_503(tmp_path):
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"}
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "error"


def test_unknown_page_says_not_found(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"988" in response.data  # crisis resources are on every page


def test_get_on_a_post_only_route_says_method_not_allowed(client):
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert b"does not accept that kind of request" in response.data
    assert "POST" in response.headers["Allow"]


def test_oversized_upload_gets_413_page(app, ctx, login):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    admin = make_user("staff", is_admin=True)
    response = login(admin).post(
        "/admin/import", data={"roster": (__import__("io").BytesIO(b"x" * 4096), "r.csv")}
    )
    assert response.status_code == 413
    assert b"larger than the portal accepts" in response.data


@pytest.mark.fresh_app
def test_unexpected_error_shows_friendly_500_without_traceback(app, client):
    @app.get("/explode-for-test")
    def explode():
        raise RuntimeError("secret internals")

    response = client.get("/explode-for-test")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data
    assert b"secret internals" not in response.data
    assert b"Traceback" not in response.data


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


def test_missing_csrf_token_is_refused_with_clear_message(app, ctx, login):
    app.config["WTF_CSRF_ENABLED"] = True
    student = make_user("student")
    response = login(student).post("/me/profile", data={"preferred_name": "Sneaky"})
    assert response.status_code == 400
    assert b"did not come from the portal" in response.data
    from crp_portal.extensions import db

    db.session.refresh(student.profile)
    assert student.profile.preferred_name is None


def test_an_id_too_big_for_the_database_is_a_404_not_a_crash(ctx, login):
    from tests.factories import make_user

    client = login(make_user("staff"))
    for path in (
        "/members/99999999999999999999999",
        "/events/2147483648",
        "/follow-ups/" + "9" * 30,
    ):
        response = client.get(path)
        assert response.status_code == 404, path


WIRED_BY_CREATE_APP = """
import importlib, pathlib, sys
from sqlalchemy import event
from crp_portal.extensions import db

features = [p for p in pathlib.Path("crp_portal").rglob("*.py") if "dashboard" not in p.parts]
for path in features:
    importlib.import_module(".".join(path.with_suffix("").parts).removesuffix(".__init__"))
assert not [name for name in sys.modules if name.startswith("crp_portal.dashboard")]

from crp_portal import create_app
from crp_portal.advising.calendar import feed_entries
from crp_portal.dashboard import marking
from crp_portal.events.calendars import FEED_SOURCES_KEY

listeners = [("after_flush", marking._mark_flushed), ("do_orm_execute", marking._mark_statement)]
assert not any(event.contains(db.session, name, fn) for name, fn in listeners)
app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
assert all(event.contains(db.session, name, fn) for name, fn in listeners)
assert app.extensions[FEED_SOURCES_KEY] == [feed_entries]
create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
assert app.extensions[FEED_SOURCES_KEY] == [feed_entries]
"""


def test_features_do_not_import_the_dashboard_and_create_app_wires_listeners_and_feeds():
    """Importing every module outside the dashboard imports no dashboard module and wires
    nothing; create_app registers the rollup listeners (once, however many apps) and the
    calendar feed sources (per app)."""
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", WIRED_BY_CREATE_APP], cwd=root, check=True)
