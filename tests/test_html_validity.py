"""Every page the demo's people can reach is valid HTML to the Nu Html Checker (the W3C
validator), software nobody here wrote.

Each role of the seeded demo signs in with the test client, opens every page in its main
navigation and then the portal pages those pages link to (GET only, a few of each kind);
the signed-out pages and those opened from an email are added, and vnu.jar reads them all
in one run (it takes seconds to start). A duplicate id is what a person notices here: a
label that names the wrong input, a link to a form error that lands on another form; a
skipped heading level, a screen reader's outline of the page with a level missing.

About 250 pages take 15 to 20 seconds per database (vnu.jar a few of them), so it runs on
both like other tests.
"""

import json
import re
import subprocess
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from crp_portal.auth.models import User
from crp_portal.auth.services import invitation_token, invite, reset_token_for
from crp_portal.events.models import Event
from crp_portal.extensions import db
from crp_portal.nudges.unsubscribe import unsubscribe_token
from crp_portal.terms.models import Term
from tests.browser.test_journeys import ANONYMOUS_PAGES, ROLES
from tests.conftest import sign_in_as
from tests.factories import make_application, make_appointment
from tests.readers import java_and_vnu
from tests.snapshots import demo_program

HOST = "portal.test"  # the app fixture's SERVER_NAME
NOT_PAGES = ("/sign-out", "/static/")
PAGES_OF_A_KIND = 2  # e.g. two member records per role, not forty
MOST_PAGES = 600


@pytest.fixture
def app_config():
    """Forms as production renders them: with their CSRF token fields."""
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def emailed_pages(app) -> list[str]:
    """The demo program, where the demo student also has an appointment that can still be
    moved and a housing application (so the pages for those are linked), and the pages
    people open from an email: a reset link, an invitation and an unsubscribe link."""
    with app.app_context():
        demo_program()  # as the journeys have it (tests/snapshots.py)
        student = user_with_email("student@example.edu")
        make_appointment(user_with_email("advisor@example.edu"), student, days_ahead=9, hour=7)
        make_application(student, term=db.session.scalars(select(Term).order_by(Term.id)).first())
        admin = user_with_email("staff@example.edu")
        invitation = invite("new.advisor@example.edu", "advisor", False, admin)
        db.session.commit()
        paths = [
            f"/reset-password/{reset_token_for(student)}",
            f"/invitations/{invitation_token(invitation)}",
            f"/unsubscribe/{unsubscribe_token(student.id, 'events')}",
        ]
        db.session.remove()
    return paths


def user_with_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


class Links(HTMLParser):
    """The hrefs of a page's links, in order."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def portal_links(html: str) -> list[str]:
    """Same-site paths (with their query) a page links to."""
    parser = Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        url = urlsplit(href)
        if url.scheme not in ("", "http", "https") or url.netloc not in ("", HOST):
            continue
        if not url.path.startswith("/") or url.path.startswith(NOT_PAGES):
            continue
        found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def kind_of(path: str) -> str:
    """Pages that differ only in an id or a query value are one kind of page."""
    url = urlsplit(path)
    shape = re.sub(r"/[^/]*\d[^/]*", "/<n>", url.path)
    keys = sorted(key.partition("=")[0] for key in url.query.split("&") if key)
    return shape + ("?" + "&".join(keys) if keys else "")


def crawl(client, start: list[str], per_kind: int = PAGES_OF_A_KIND) -> dict[str, str]:
    """Every HTML page (status 200) reachable from `start`, breadth first, at most
    `per_kind` of each kind: path -> HTML."""
    pages: dict[str, str] = {}
    seen = set(start)
    kinds: Counter = Counter(kind_of(path) for path in start)
    queue = deque(start)
    while queue and len(pages) < MOST_PAGES:
        path = queue.popleft()
        response = client.get(path)
        attachment = "attachment" in response.headers.get("Content-Disposition", "")
        if response.status_code != 200 or response.mimetype != "text/html" or attachment:
            continue
        pages[path] = html = response.get_data(as_text=True)
        for link in portal_links(html):
            if link not in seen and kinds[kind_of(link)] < per_kind:
                seen.add(link)
                kinds[kind_of(link)] += 1
                queue.append(link)
    return pages


def navigation_of(html: str) -> list[str]:
    nav = html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    return portal_links(nav)


def file_name(number: int, who: str, path: str) -> str:
    return f"{number:04d}_" + re.sub(r"[^A-Za-z0-9]+", "_", f"{who} {path}")[:120] + ".html"


# The JVM for one short run: compiled by its quick compiler only, with one garbage
# collector thread. Its optimizing compiler spent more CPU than the checking did (5½ s
# of CPU time become under 3, with the same report, errors and all); code from the quick
# compiler takes more stack, so the main thread gets more than the 1 MiB in which vnu's
# schema ran out of it.
JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss16m"]


def validation_errors(java: str, vnu, directory) -> list[dict]:
    """vnu.jar's errors for every .html file in the directory, read in one run."""
    options = ["--errors-only", "--format", "json", "--skip-non-html"]
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [java, *JVM_OPTIONS, "-jar", str(vnu), *options, str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(result.stderr)
    except json.JSONDecodeError:
        pytest.fail(f"vnu.jar did not report in JSON (exit {result.returncode}):\n{result.stderr}")
    return report["messages"]


def test_every_page_the_demo_reaches_is_valid_html(app, emailed_pages, tmp_path):
    java, vnu = java_and_vnu()
    pages: dict[str, tuple[str, str]] = {}  # file name -> (who and where, HTML)

    anonymous = app.test_client()
    signed_out = [*ANONYMOUS_PAGES, *((path, 200, None) for path in emailed_pages)]
    for path, status, _heading in signed_out:
        response = anonymous.get(path)
        assert response.status_code == status, path
        name = file_name(len(pages), "signed out", path)
        pages[name] = (f"signed out {path}", response.get_data(True))

    for role, (email, *_rest) in ROLES.items():
        with app.app_context():
            user = user_with_email(email)
            db.session.remove()
        client = app.test_client()
        sign_in_as(client, user)
        home = client.get("/")
        assert home.status_code == 200, role
        for path, html in crawl(client, ["/", *navigation_of(home.get_data(True))]).items():
            pages[file_name(len(pages), role, path)] = (f"{role} {path}", html)

    # The page a check-in QR code opens is reached from the code at the event, not a link.
    with app.app_context():
        student = user_with_email("student@example.edu")
        event_id = db.session.scalar(
            select(Event.id).where(Event.house_id.is_(None), Event.headcount_only.is_(False))
        )
        db.session.remove()
    client = app.test_client()
    sign_in_as(client, student)
    path = f"/events/{event_id}/check-in?code=ACDEFG"
    response = client.get(path)
    assert response.status_code == 200
    pages[file_name(len(pages), "student", path)] = (f"student {path}", response.get_data(True))

    assert len(pages) > 100, f"only {len(pages)} pages found: is the demo seeded?"
    for name, (_where, html) in pages.items():
        (tmp_path / name).write_text(html, encoding="utf-8")

    errors = validation_errors(java, vnu, tmp_path)

    def where(message) -> str:
        name = message.get("url", "").rsplit("/", 1)[-1]
        return pages[name][0] if name in pages else message.get("url", "?")

    found = "\n".join(
        sorted(
            f"{where(m)} (line {m.get('lastLine', '?')}): {m['message']}"
            + (f"\n    {m['extract'].strip()}" if m.get("extract") else "")
            for m in errors
        )
    )
    assert not errors, f"{len(errors)} HTML errors on {len(pages)} pages:\n{found}"
