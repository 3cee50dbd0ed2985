"""Junk sent to every form of every route, as every kind of visitor: never a 500, never half-saved.

The routes come from `app.url_map`, so a new route is fuzzed without a line here. For each
route and each visitor who may use it, a probe request finds the names the view reads (the
fields of the WTForms forms it builds, and what it looks up in request.form and
request.args) and the values its page offers; hypothesis then sends right-looking values
with one kind of junk in some fields: huge strings, NULs and other control characters,
invalid UTF-8, unicode edge cases, numbers of hundreds of digits, impossible dates,
repeated and missing fields, a file or JSON where text belongs, and wrong CSRF tokens.

An answer that is not a redirect must leave every table as it was; a visitor who may not
use the route changes nothing at all; only an admin changes who holds which role.
Derandomized, so CI runs the same examples every time.

One app and database per database kind serve the whole module (each route's test makes its
own people and records): a fresh database per route would cost more than the fuzzing.
"""

import html
import io
import itertools
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cached_property
from urllib.parse import urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, TextAreaField

from crp_portal import create_app
from crp_portal.advising.availability import settings_for
from crp_portal.auth.services import invitation_token, invite, reset_token_for
from crp_portal.extensions import csrf as csrf_protect
from crp_portal.extensions import db
from crp_portal.forms import NUL_MESSAGE, PortalForm
from crp_portal.members import intake
from crp_portal.nudges.unsubscribe import unsubscribe_token
from crp_portal.recovery import plan
from crp_portal.recovery.models import SupportPerson
from crp_portal.timeutil import local_today
from tests.conftest import IsolatedClient, empty_database
from tests.factories import make_appointment, make_day_off, make_user, make_window
from tests.fuzzing import (
    PRIVILEGE_COLUMNS,
    PROBE,
    TRACEBACK_SIGNS,
    VIEW_RECORDS,
    Census,
    RecordingRequest,
    Shape,
    Submission,
    WriteWatch,
    numbered,
    page_values,
    query_string,
    recording_reads,
    request_arguments,
    shape_of,
    submissions,
)
from tests.test_access_matrix import (
    ACCESS,
    ADMIN,
    ADMIN_ONLY,
    ADVISOR,
    EVERYONE,
    NOT_OWNER,
    STUDENT,
    VISITORS,
    _actors,
    _url,
    _World,
)

# -- What the fuzzing found, as ordinary tests: first, as the fuzzing leaves its data behind --

PERSON = {
    "name": "Jordan Lee",
    "relationship_to_student": "Sponsor",
    "how_to_reach": "555-0123",
}


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _people() -> list:
    return db.session.scalars(select(SupportPerson)).all()


def test_a_nul_in_a_text_field_is_a_message_beside_it(ctx, login):
    client = login(make_user("student"))
    response = client.post("/me/network", data={**PERSON, "name": "Jordan\x00Lee"})
    assert response.status_code == 200
    assert NUL_MESSAGE in _page(response)
    assert _people() == []


@pytest.mark.parametrize("document", [{"name": 5, "how_to_reach": None}, [1, 2, 3], "Jordan"])
def test_a_json_body_fills_in_no_form(ctx, login, document):
    client = login(make_user("student"))
    response = client.post("/me/network", json=document)
    assert response.status_code == 200
    assert "Enter their name." in _page(response)
    assert _people() == []


def test_a_file_sent_where_text_belongs_is_ignored(ctx, login):
    client = login(make_user("student"))
    upload = {**PERSON, "name": (io.BytesIO(b"Jordan Lee"), "name.txt")}
    response = client.post("/me/network", data=upload, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Enter their name." in _page(response)
    assert _people() == []


def test_searches_and_filters_with_a_nul_answer_instead_of_failing(ctx, login):
    """A NUL in a query string is a 400 for every route (`crp_portal.request_checks`)."""
    make_user("student", name="Jordan Lee")
    staff = login(make_user("staff"))
    assert "Error 400." in _page(staff.get("/members/?q=Jor%00dan&status=%00"))
    assert staff.get("/members/applications?status=%00").status_code == 400
    advisor = login(make_user("advisor"))
    assert advisor.get("/advising/students?q=Jor%00dan").status_code == 400


class _Note(PortalForm):
    class Meta:
        csrf = False

    title = StringField("Title")
    body = TextAreaField("Body")
    carried = HiddenField()


def test_a_nul_is_taken_out_of_the_data_and_reported_by_validate():
    with create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_request_context():
        form = _Note(MultiDict({"title": "Jor\x00dan", "body": "Lee"}))
        assert form.title.data == "Jordan"  # what a search or filter built from it uses
        assert not form.validate()
        assert form.errors == {"title": [NUL_MESSAGE]}


def test_a_one_line_field_loses_line_breaks_as_a_browser_box_does():
    with create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_request_context():
        sent = {"title": "Tuesday\r\nBcc: x@example.org", "body": "a\r\nb", "carried": "c\nd"}
        form = _Note(MultiDict(sent))
        assert form.validate()
        assert form.data == {
            "title": "TuesdayBcc: x@example.org",
            "body": "a\r\nb",
            "carried": "c\nd",
        }


def test_an_application_without_the_hidden_agreement_version_uses_the_one_shown(ctx, login):
    intake.publish_agreement(make_user("staff"), "Respect each other's privacy.")
    db.session.commit()
    student = make_user("student", status="applicant")
    answers = {"goals": "Community", "heard_from": "friend", "acknowledge": "y"}
    response = login(student).post("/me/apply", data=answers)
    assert response.status_code == 302
    [application] = intake.applications_of(student)
    assert application.agreement.version == 1


def test_a_request_too_large_gets_a_page_that_says_so(ctx, login):
    client = login(make_user("student"))
    response = client.post("/me/network", data={**PERSON, "expectations": "x" * 3_000_000})
    assert response.status_code == 413
    assert "Upload too large" in _page(response)
    assert _people() == []


def test_a_wrong_csrf_token_is_a_400_page_and_saves_nothing(app, ctx, login):
    app.config["WTF_CSRF_ENABLED"] = True
    client = login(make_user("student"))
    response = client.post("/me/network", data={**PERSON, "csrf_token": "junk"})
    assert response.status_code == 400
    assert "Form expired" in _page(response)
    assert _people() == []


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def test_every_form_in_the_portal_derives_from_portal_form():
    """PortalForm is what keeps JSON bodies, misplaced files and NULs away from the fields."""
    create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})  # imports every view
    plain = sorted(
        f"{form.__module__}.{form.__qualname__}"
        for form in _subclasses(FlaskForm)
        if form.__module__.startswith("crp_portal.") and not issubclass(form, PortalForm)
    )
    assert plain == []


# -- The fuzzing -------------------------------------------------------------------------


EXAMPLES_PER_TARGET = 6
MOST_EXAMPLES = 24
ACCEPTED = (301, 302, 303)
# Routes whose success is a page, not a redirect: their 200 may save.
SAVED_WITH_A_PAGE = {
    "nudges.unsubscribe": "one-click unsubscribe (RFC 8058): mail clients post and read a 200",
}
RAW_TOKEN = "fuzz-session-csrf-token"


def _endpoints():
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()} - {"static"})


ENDPOINTS = _endpoints()

# What every visitor who may not use a route posts to it: it must change nothing.
OUTSIDER_JUNK = Submission(
    [("name", "x" * 5000 + "\x00"), ("id", "9" * 300), ("day", "0000-00-00"), ("is_admin", "y")],
    [],
    "valid",
    "urlencoded",
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    overrides = {"SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": "portal.test"}
    app = create_app("testing", {**overrides, "WTF_CSRF_ENABLED": True})
    app.test_client_class = IsolatedClient
    app.request_class = RecordingRequest
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        empty_database()


@pytest.fixture
def fuzz_ctx(fuzz_app):
    with fuzz_app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def census(fuzz_ctx):
    with Census(db.engine, db.metadata) as counts:
        yield counts


# Links whose token the route checks before its form: a real one lets the form run.
LINK_TOKENS = {
    "auth.reset_password": lambda world: reset_token_for(world.subject),
    "auth.accept_invitation": lambda world: invitation_token(
        invite(f"fuzz-invitee{world.number}@example.edu", "student", False, world.admin)
    ),
    "nudges.unsubscribe": lambda world: unsubscribe_token(world.subject.id, "academic"),
}


class _FuzzWorld(_World):
    """The access matrix's world, but a route may need dozens of them: each world's
    appointment, window and day off get a time no earlier world used, and its `token`
    is one the route accepts."""

    CONSTANTS = {name: value for name, value in _World.CONSTANTS.items() if name != "token"}
    _numbers = itertools.count()

    def __init__(self, endpoint, admin, student, advisor):
        super().__init__(admin, student, advisor)
        self.endpoint = endpoint
        self.number = next(self._numbers)
        self.ahead = 10 + self.number

    @cached_property
    def token(self):
        make = LINK_TOKENS.get(self.endpoint)
        return make(self) if make else "not-a-real-token"

    @cached_property
    def appointment_id(self):
        return make_appointment(self.advisor, self.student, days_ahead=self.ahead).id

    @cached_property
    def window_id(self):
        start = time(self.number // 7 % 24)
        return make_window(self.advisor, self.number % 7, start, time(start.hour, 30)).id

    @cached_property
    def day_off_id(self):
        return make_day_off(self.advisor, local_today() + timedelta(days=self.ahead)).id


@dataclass
class Target:
    """One way into the route: a method and a visitor who may use it, with what it reads."""

    method: str
    visitor: str
    shape: Shape

    def __repr__(self) -> str:
        return f"{self.method} as {self.visitor} ({', '.join(sorted(self.shape.plausible))})"


class Fuzzer:
    _unique = itertools.count()  # for the whole module: names made by one route's test stay taken

    def __init__(self, app, endpoint: str, census: Census):
        self.app, self.endpoint, self.census = app, endpoint, census
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        self.methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        view = app.view_functions[endpoint]
        self.csrf_exempt = f"{view.__module__}.{view.__name__}" in csrf_protect._exempt_views
        self.allowed = ACCESS.get(endpoint, EVERYONE) - NOT_OWNER.get(endpoint, set())
        self.actors = _actors()
        settings_for(
            self.actors[ADVISOR].id
        )  # saved with defaults the first time a page shows them
        plan.save_plan(self.actors[STUDENT], {"warning_signs": "Sleeping badly"})  # plan version 1
        db.session.commit()
        self._world = self._url = None
        self._clients = {}
        self.watch = WriteWatch(db.engine)
        signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        self.token = signer.dumps(RAW_TOKEN)
        self.other_token = signer.dumps("another session's token")

    def url(self) -> str:
        if self._url is None:
            actors = self.actors
            self._world = _FuzzWorld(self.endpoint, actors[ADMIN], actors[STUDENT], actors[ADVISOR])
            self._url = _url(self.app, self.endpoint, self._world)
        return self._url

    def client(self, visitor: str):
        if visitor not in self._clients:
            client = self.app.test_client()
            user = self.actors[visitor]
            with client.session_transaction() as session:
                session["csrf_token"] = RAW_TOKEN
                if user is not None:
                    db.session.refresh(user)  # its session version may have changed
                    session["_user_id"] = user.get_id()
                    session["_fresh"] = True
            self._clients[visitor] = client
        return self._clients[visitor]

    def count(self) -> dict:
        return self.census.read(db.session)

    def send(self, method: str, visitor: str, submission: Submission, *, outsider=False):
        url, client = self.url(), self.client(visitor)
        submission = numbered(submission, next(self._unique))
        if method == "POST":
            arguments = request_arguments(submission, self.token, self.other_token)
            before = self.count()
        else:
            arguments = {}
            url = f"{url}?{query_string(submission.pairs)}"
        with self.watch.watching() as writes:
            response = client.open(url, method=method, **arguments)
        status = response.status_code
        where = f"{method} {self.endpoint} as {visitor}, {submission!r}: {status}"
        assert status < 500, where
        body = response.get_data()
        assert not [sign for sign in TRACEBACK_SIGNS if sign in body], where
        if method == "POST" and submission.csrf not in ("valid", "none") and not self.csrf_exempt:
            assert status in (400, 413), where
        answered_with_page = status == 200 and self.endpoint in SAVED_WITH_A_PAGE
        refused = status not in ACCEPTED and not answered_with_page
        unchanged = outsider or (refused and (method == "POST" or status >= 400))
        if unchanged:
            assert not writes.committed, f"{where}: committed {writes.committed}"
        if method == "POST":
            after = self.count()
            if unchanged:
                changed = {
                    name: (before[name], after[name])
                    for name in before
                    if before[name] != after[name] and name not in VIEW_RECORDS
                }
                assert not changed, f"{where}: rows changed {changed}"
            if visitor not in ADMIN_ONLY:  # only admins may change roles and rights
                for name in PRIVILEGE_COLUMNS:
                    assert before[name] == after[name], f"{where}: {name} changed"
        if not refused:
            # The records may be gone or changed, and the session signed out: start afresh.
            self._world = self._url = None
            self._clients.clear()
        return response

    def refuse_outsiders(self) -> None:
        if "POST" in self.methods:
            for visitor in sorted(set(VISITORS) - self.allowed):
                self.send("POST", visitor, OUTSIDER_JUNK, outsider=True)

    def discover(self) -> list[Target]:
        targets = []
        for visitor in sorted(self.allowed):
            offered = {}
            if "GET" in self.methods:
                url = self.url()
                with recording_reads() as reads:
                    page = self.send(
                        "GET", visitor, Submission([(PROBE, "1")], [], "none", "query")
                    )
                shape = shape_of(reads, local_today())
                if shape.plausible:  # a query form, not just a page
                    targets.append(Target("GET", visitor, shape))
                offered = page_values(page.get_data(as_text=True), urlsplit(url).path, "post")
            if "POST" in self.methods:
                with recording_reads() as reads:
                    self.send(
                        "POST", visitor, Submission([(PROBE, "1")], [], "valid", "urlencoded")
                    )
                shape = shape_of(reads, local_today())
                for name, values in offered.items():
                    if name != "csrf_token":
                        shape.add(name, values)
                targets.append(Target("POST", visitor, shape))
        return targets


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_junk_never_breaks_a_route_nor_half_saves(fuzz_app, fuzz_ctx, census, endpoint):
    fuzzer = Fuzzer(fuzz_app, endpoint, census)
    fuzzer.refuse_outsiders()
    targets = fuzzer.discover()
    if not targets:
        return

    def sent(target: Target):
        return st.tuples(st.just(target), submissions(target.shape, csrf=target.method == "POST"))

    @settings(
        max_examples=min(EXAMPLES_PER_TARGET * len(targets), MOST_EXAMPLES),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.sampled_from(targets).flatmap(sent))
    def fuzz(drawn):
        target, submission = drawn
        fuzzer.send(target.method, target.visitor, submission)

    fuzz()
