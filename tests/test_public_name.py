"""What is seen outside a signed-in page carries the neutral public name, never the
program's: tab titles (a shared laptop's tabs and history), emails (inbox lists, lock
screens) and calendar files (family calendars)."""

import email
import email.policy
import html
import re
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from crp_portal.extensions import db
from tests.factories import (
    make_application,
    make_appointment,
    make_campaign,
    make_event,
    make_house,
    make_meeting,
    make_period,
    make_term,
    make_user,
)

PUBLIC = "Student Portal"
PROGRAM = "Collegiate Recovery Program"
TITLE = re.compile(r"<head>.*?<title>(.*?)</title>", re.S)
LINK = re.compile(r'href="(/[^"]*)"')
NOT_PAGES = re.compile(r"^/static/|\.(ics|csv|json)$")


def tab_title(body: str) -> str:
    return html.unescape(TITLE.search(body).group(1))


def names_the_program(text: str) -> bool:
    return PROGRAM in text or re.search(r"\bCRP\b", text) is not None


def links_in(body: str) -> set[str]:
    found = {html.unescape(href).split("#")[0] for href in LINK.findall(body)}
    return {path for path in found if path and not NOT_PAGES.search(urlsplit(path).path)}


def nav_links(body: str) -> set[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', body, re.S).group(1)
    return links_in(nav)


def crawl(client) -> dict[str, str]:
    """Tab title by path: the role's navigation, and every page those pages link to."""
    home = client.get("/")
    assert home.status_code == 200
    menu = nav_links(home.get_data(as_text=True))
    titles, queue = {}, sorted(menu)
    for depth in (1, 2):
        next_queue = set()
        for path in queue:
            if path in titles:
                continue
            response = client.get(path)
            if path in menu:
                assert response.status_code == 200, path
            if response.mimetype != "text/html":
                continue
            body = response.get_data(as_text=True)
            titles[path] = tab_title(body)
            if depth == 1:
                next_queue |= links_in(body)
        queue = sorted(next_queue - titles.keys())
    return titles


@pytest.fixture
def people(ctx):
    """A student (a peer mentor with a mentee), an advisor and an admin, with something
    on every area's pages."""
    admin = make_user("staff", is_admin=True)
    advisor = make_user("advisor")
    student = make_user("student")
    mentee = make_user("student")
    student.profile.is_peer_mentor = True
    mentee.profile.mentor_id = student.id
    db.session.commit()
    term = make_term()
    make_period(term)
    make_event(created_by=admin)
    make_appointment(advisor, student)
    make_application(student, term=term, house=make_house())
    make_meeting()
    make_campaign()
    return {"student": student, "advisor": advisor, "staff": admin}


@pytest.mark.parametrize("role", ["student", "advisor", "staff"])
def test_no_tab_a_signed_in_person_opens_names_the_program(login, people, role):
    titles = crawl(login(people[role]))
    assert len(titles) > 5
    named = {path: title for path, title in titles.items() if names_the_program(title)}
    assert named == {}
    telling = {
        path: title
        for path, title in titles.items()
        if "recovery" in title.lower() or "relapse" in title.lower()
    }
    assert telling == {}
    assert {path for path, title in titles.items() if not title.endswith(f"· {PUBLIC}")} == set()


def test_the_header_names_the_program_only_once_signed_in(login, people):
    signed_in = login(people["student"]).get("/").get_data(as_text=True)
    assert f'class="brand" href="/">{PROGRAM}</a>' in signed_in
    assert tab_title(signed_in) == f"Home · {PUBLIC}"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/sign-in", 200), ("/reset-password", 200), ("/no-such-page", 404)],
)
def test_signed_out_pages_show_only_the_public_name(ctx, client, path, status):
    response = client.get(path)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert tab_title(body).endswith(f"· {PUBLIC}")
    assert f'class="brand" href="/">{PUBLIC}</a>' in body
    assert not names_the_program(html.unescape(body))


def test_the_invitation_page_shows_only_the_public_name(ctx, login, client, smtp):
    invite(login(make_user("staff", is_admin=True)), "ada@example.edu")
    [message] = smtp.to("ada@example.edu")
    path = re.search(r"https?://portal\.test(\S+)", smtp.text_of(message)).group(1)
    body = html.unescape(client.get(path).get_data(as_text=True))
    assert f"You were invited to {PUBLIC} as an advisor" in body
    assert not names_the_program(body)


def invite(client, address):
    response = client.post("/admin/invitations", data={"email": address, "role": "advisor"})
    assert response.status_code == 302


def decoded(message) -> tuple[dict[str, str], str]:
    """The headers and the text and HTML parts, read back from the bytes that crossed
    the wire (a mail client shows these, with encoded words decoded)."""
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    headers = {name: str(value) for name, value in parsed.items()}
    parts = [part.get_content() for part in parsed.walk() if part.get_content_maintype() == "text"]
    return headers, "\n".join(parts)


def assert_public_only(message, subject: str) -> None:
    headers, text = decoded(message)
    assert headers["From"] == f"{PUBLIC} <portal@example.edu>"
    assert headers["Subject"] == subject
    assert PUBLIC in text
    shown = "\n".join([*headers.values(), text])
    assert not names_the_program(shown) and "recovery" not in shown.lower()
    assert PROGRAM.encode() not in message.raw and b"recovery" not in message.raw.lower()


def test_a_reset_email_carries_only_the_public_name(ctx, client, smtp):
    make_user("student", email="kai@example.edu")
    client.post("/reset-password", data={"email": "kai@example.edu"})
    [message] = smtp.to("kai@example.edu")
    assert_public_only(message, f"Reset your {PUBLIC} password")
    assert f"your {PUBLIC} account" in decoded(message)[1]


def test_an_invitation_email_carries_only_the_public_name(ctx, login, smtp):
    invite(login(make_user("staff", is_admin=True)), "ada@example.edu")
    [message] = smtp.to("ada@example.edu")
    assert_public_only(message, f"You're invited to {PUBLIC}")
    assert f"join the {PUBLIC} as an advisor" in decoded(message)[1]


@pytest.mark.parametrize("app_config", [{"MAIL_DEFAULT_SENDER": "CRP <crp-office@example.edu>"}])
def test_the_from_name_is_the_public_name_whatever_the_sender_setting_says(ctx, client, smtp):
    make_user("student", email="kai@example.edu")
    client.post("/reset-password", data={"email": "kai@example.edu"})
    [message] = smtp.to("kai@example.edu")
    assert message["From"] == f"{PUBLIC} <crp-office@example.edu>"


def test_a_nudge_fills_program_name_with_the_public_name(ctx, login):
    campaign = make_campaign(subject_template="This week at {{ program_name }}")
    member = make_user("student")
    page = login(make_user("staff")).get(
        f"/nudges/campaigns/{campaign.id}/preview?member={member.id}"
    )
    body = html.unescape(page.get_data(as_text=True))
    assert f"This week at {PUBLIC}" in body
    assert f"This week at {PROGRAM}" not in body


def calendar_names(ics: bytes) -> tuple[str, str, str]:
    calendar = Calendar.from_ical(ics)
    return str(calendar["X-WR-CALNAME"]), str(calendar["NAME"]), str(calendar["PRODID"])


def test_calendar_files_and_feeds_are_named_with_the_public_name(ctx, login):
    student, advisor = make_user("student"), make_user("advisor")
    event = make_event()
    appointment = make_appointment(advisor, student)
    client = login(student)
    page = client.get("/calendar/").get_data(as_text=True)
    feed = re.search(r'value="http://portal\.test(/calendar/[^"]+\.ics)"', page).group(1)
    files = {
        "event": client.get(f"/events/{event.id}.ics"),
        "appointment": client.get(f"/advising/appointments/{appointment.id}.ics"),
        "feed": client.get(feed),
    }
    for kind, response in files.items():
        assert response.mimetype == "text/calendar", kind
        calname, name, prodid = calendar_names(response.data)
        assert (calname, name) == (PUBLIC, PUBLIC), kind
        assert PUBLIC in prodid and not names_the_program(prodid), kind
