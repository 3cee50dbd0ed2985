"""Check-in at the door (issue #21), staff's side: the attendance page shows the code and a
QR code of the check-in page; the kiosk screen shows only those (and the neutral title and
time) and reloads as the code changes; the sign-in sheet and the roster CSV name people
only for events that keep names, and are on the audit trail; "Notify attendees" emails
each person going (and the waitlist if asked) once, with a neutral subject."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.events.rsvp import rsvp
from crp_portal.events.services import cancel_event
from crp_portal.extensions import db
from crp_portal.timeutil import utcnow
from tests.factories import code_now, make_event, make_user
from tests.test_calendar_subscribe import CalendarPage, qr_encodes
from tests.test_concurrency import run_together
from tests.test_events_attendance import happening, text_of

PROGRAM = "Hope Recovery Community"


@pytest.fixture
def app_config():
    return {"CRP_PROGRAM_NAME": PROGRAM}


def parsed(response) -> CalendarPage:
    page = CalendarPage()
    page.feed(response.get_data(as_text=True))
    page.close()
    return page


def an_event_with_people(staff, **overrides):
    """An event with Robin (who goes by Rob) and Sam going, and Kai on the waitlist."""
    event = make_event(created_by=staff, capacity=2, **overrides)
    robin = make_user("student", name="Robin Walker", email="robin@example.edu")
    robin.profile.preferred_name = "Rob"
    sam = make_user("student", name="Sam Ortiz", email="sam@example.edu")
    kai = make_user("student", name="Kai Chen", email="kai@example.edu")
    db.session.commit()
    for student in (robin, sam, kai):
        rsvp(event.id, student, utcnow())
    db.session.commit()
    return event, (robin, sam, kai)


def audit_actions() -> list[tuple[str, str | None, int | None]]:
    return [
        (entry.action, entry.detail, entry.subject_id)
        for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


# The code on the attendance page and the kiosk -----------------------------------------


def test_the_attendance_page_shows_the_current_code_and_a_qr_code_of_the_check_in_page(ctx, login):
    staff = make_user("staff")
    event = happening(make_event(created_by=staff))

    response = login(staff).get(f"/events/{event.id}/attendance")

    code = code_now(event)
    page = parsed(response)
    assert code in page.text
    [qr] = page.svgs
    assert "style" not in qr and all("style" not in path for path in qr["paths"])
    url = f"http://portal.test/events/{event.id}/check-in?code={code}"
    assert qr_encodes(qr, url)  # what a phone's camera reads: the check-in page, code in
    kiosk = page.link("Open the kiosk screen")
    assert kiosk.href == f"/events/{event.id}/kiosk"


def test_the_kiosk_shows_the_code_qr_and_neutral_title_and_nothing_else(ctx, login):
    staff = make_user("staff")
    event, people = an_event_with_people(staff, title="NA step meeting", public_title="Circle")
    happening(event)

    response = login(staff).get(f"/events/{event.id}/kiosk")

    assert response.status_code == 200
    html = text_of(response)
    code = code_now(event)
    assert code in html and "Circle" in html
    assert 1 < int(response.headers["Refresh"]) <= 61  # reloads just after the code changes
    page = parsed(response)
    [qr] = page.svgs
    assert qr_encodes(qr, f"http://portal.test/events/{event.id}/check-in?code={code}")
    for secret in ("NA step meeting", PROGRAM, "Robin", "Rob ", "Sam", "Kai", "2 going"):
        assert secret not in html
    assert page.links == []  # no way from the screen into staff pages
    assert "<script" not in html and "style=" not in html


@pytest.mark.parametrize("role", ["student", "advisor"])
def test_the_kiosk_is_refused_to_an_account_that_is_not_events_staff(ctx, login, role):
    event = happening(make_event())
    response = login(make_user(role)).get(f"/events/{event.id}/kiosk")
    assert response.status_code == 403
    assert code_now(event) not in text_of(response)
    housing = make_user("staff", scopes=["housing"])
    assert login(housing).get(f"/events/{event.id}/kiosk").status_code == 403


def test_the_kiosk_of_a_cancelled_or_finished_event_shows_no_code(ctx, login):
    staff = make_user("staff")
    cancelled, finished = make_event(created_by=staff), make_event(created_by=staff)
    cancel_event(cancelled)
    happening(finished, starts_in=timedelta(hours=-3))
    client = login(staff)

    for event, says in ((cancelled, "This event is cancelled."), (finished, "Check-in has closed")):
        response = client.get(f"/events/{event.id}/kiosk")
        html = text_of(response)
        assert says in html
        assert code_now(event) not in html and "<svg" not in html
        assert "Refresh" not in response.headers


# The sign-in sheet and the roster CSV ---------------------------------------------------


def test_the_sign_in_sheet_lists_those_going_by_the_name_they_go_by(ctx, login):
    staff = make_user("staff")
    event, (robin, sam, kai) = an_event_with_people(staff)

    response = login(staff).get(f"/events/{event.id}/sign-in-sheet")

    assert response.status_code == 200
    html = text_of(response)
    assert "<td>Rob</td>" in html and "<td>Sam Ortiz</td>" in html
    assert "Robin Walker" not in html  # passed round the room: not the legal name too
    assert "Kai Chen" not in html  # waitlisted: not going
    [(action, detail, subject)] = audit_actions()
    assert action == "event sign-in sheet opened to print" and subject is None
    assert f"event #{event.id} on " in detail and "2 names" in detail


def test_the_roster_csv_names_the_roster_and_cannot_run_as_a_formula(ctx, login):
    staff = make_user("staff")
    event, (robin, sam, kai) = an_event_with_people(staff)
    sam.name = '=HYPERLINK("http://evil.example","Sam")'
    db.session.commit()

    response = login(staff).get(f"/events/{event.id}/roster.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Name", "Full name", "Email", "RSVP", "Present"]
    by_email = {row[2]: row for row in rows[1:]}
    assert by_email["robin@example.edu"] == [
        "Rob",
        "Robin Walker",
        "robin@example.edu",
        "Going",
        "no",
    ]
    assert by_email["kai@example.edu"][3] == "Waitlisted"
    assert by_email["sam@example.edu"][0].startswith("'=HYPERLINK")
    [(action, detail, subject)] = audit_actions()
    assert action == "event roster exported as CSV" and subject is None
    assert f"event #{event.id} on " in detail and "3 names" in detail
    for person in (robin, sam, kai):
        assert person.email not in detail and person.name not in detail


@pytest.mark.parametrize("path", ["sign-in-sheet", "roster.csv"])
def test_a_headcount_only_meeting_has_no_sheet_or_roster_to_take_away(ctx, login, path):
    staff = make_user("staff")
    event, _people = an_event_with_people(staff, headcount_only=True)

    response = login(staff).get(f"/events/{event.id}/{path}")

    assert response.status_code == 409
    html = text_of(response)
    assert "headcount only: it keeps no names" in html
    assert "Rob" not in html and "Sam" not in html
    assert audit_actions() == []


def test_the_attendance_page_links_to_the_sheet_csv_and_notice(ctx, login):
    staff = make_user("staff")
    named, meeting = make_event(created_by=staff), make_event(created_by=staff, headcount_only=True)
    client = login(staff)
    links = {
        link.text.strip(): link.href
        for link in parsed(client.get(f"/events/{named.id}/attendance")).links
    }
    assert links["Sign-in sheet to print"] == f"/events/{named.id}/sign-in-sheet"
    assert links["Download the roster (CSV)"] == f"/events/{named.id}/roster.csv"
    assert links["Notify attendees"] == f"/events/{named.id}/notify"
    meeting_links = {
        link.text.strip() for link in parsed(client.get(f"/events/{meeting.id}/attendance")).links
    }
    assert "Notify attendees" in meeting_links
    assert not meeting_links & {
        "Sign-in sheet to print",
        "Download the roster (CSV)",
        "Open the kiosk screen",
    }


# Notify attendees -----------------------------------------------------------------------


def notices(smtp) -> list:
    """The messages staff sent (not the RSVP confirmations before them)."""
    return [m for m in smtp.messages if m["Subject"].startswith("A message about ")]


def to_whom(smtp) -> list[str]:
    return sorted(m["To"] for m in notices(smtp))


def notify(client, event, message="Room change: we're in 204 tonight.", **extra):
    page = client.get(f"/events/{event.id}/notify")
    assert page.status_code == 200
    key = re.search(r'name="send_key" type="hidden" value="(\w+)"', page.get_data(as_text=True))
    assert key, "the form carries its send key"
    data = {"message": message, "send_key": key[1], **extra}
    return client.post(f"/events/{event.id}/notify", data=data, follow_redirects=True), data


def test_notify_emails_each_person_going_once_with_a_neutral_subject(ctx, login, smtp):
    staff = make_user("staff")
    event, (robin, sam, kai) = an_event_with_people(
        staff, title="NA step meeting", public_title="Thursday circle"
    )
    sam.profile.show_real_titles = True
    db.session.commit()
    client = login(staff)

    response, sent = notify(client, event, "Room change: <b>204</b>\nBring a mug.")

    assert "Sent to 2 people." in text_of(response)
    assert "Robin" not in text_of(response) and "Sam" not in text_of(response)
    assert to_whom(smtp) == ["robin@example.edu", "sam@example.edu"]  # not Kai: waitlisted
    [to_robin, to_sam] = sorted(notices(smtp), key=lambda m: m["To"])
    assert to_robin["Subject"].startswith("A message about Thursday circle, ")
    assert "NA" not in to_robin["Subject"].split() and PROGRAM not in to_robin["Subject"]
    assert to_sam["Subject"].startswith("A message about NA step meeting, ")  # opted in
    body = smtp.text_of(to_robin)
    assert "Room change: <b>204</b>\r\nBring a mug." in body  # plain text, as written
    html = to_robin.get_body(preferencelist=("html",)).get_content()
    assert "Room change: &lt;b&gt;204&lt;/b&gt;<br>Bring a mug." in html
    assert f"http://portal.test/events/{event.id}" in body

    again = client.post(f"/events/{event.id}/notify", data=sent, follow_redirects=True)
    assert "already sent, to 2 people. Nobody got it twice." in text_of(again)
    assert len(notices(smtp)) == 2


def test_notify_reaches_the_waitlist_when_asked(ctx, login, smtp):
    staff = make_user("staff")
    event, _people = an_event_with_people(staff)

    response, _ = notify(login(staff), event, include_waitlist="y")

    assert "Sent to 3 people." in text_of(response)
    assert to_whom(smtp) == [
        "kai@example.edu",
        "robin@example.edu",
        "sam@example.edu",
    ]


def test_notify_a_headcount_only_meeting_says_how_many_never_who(ctx, login, smtp):
    staff = make_user("staff")
    event, _people = an_event_with_people(staff, headcount_only=True)
    client = login(staff)

    response, _ = notify(client, event)

    html = text_of(response)
    assert "Sent to 2 people." in html
    assert "to 2 people" in html  # the list of sends
    for name in ("Rob", "Robin", "Sam", "Kai"):
        assert name not in html.split("Signed in as")[1]
    assert len(notices(smtp)) == 2


@pytest.mark.parametrize("what", ["cancelled", "over"])
def test_notify_refuses_a_cancelled_or_finished_event(ctx, login, smtp, what):
    staff = make_user("staff")
    event, _people = an_event_with_people(staff)
    client = login(staff)
    page = client.get(f"/events/{event.id}/notify").get_data(as_text=True)
    key = re.search(r'name="send_key" type="hidden" value="(\w+)"', page)[1]
    if what == "cancelled":
        cancel_event(event)
        db.session.commit()
        said = "This event is cancelled; everyone on its list was told then."
    else:
        happening(event, starts_in=timedelta(hours=-3))
        said = "This event is over"

    response = client.post(f"/events/{event.id}/notify", data={"message": "Hello", "send_key": key})

    assert response.status_code == 409
    assert said in text_of(response)
    assert notices(smtp) == []


@pytest.mark.parametrize(
    ("message", "said"),
    [("", "Write the message to send."), ("x" * 1001, "Use at most 1000 characters.")],
    ids=["empty", "too long"],
)
def test_notify_explains_a_bad_message_in_place(ctx, login, smtp, message, said):
    staff = make_user("staff")
    event, _people = an_event_with_people(staff)
    response = login(staff).post(
        f"/events/{event.id}/notify", data={"message": message, "send_key": "k" * 32}
    )
    assert response.status_code == 200
    assert said in text_of(response)
    assert notices(smtp) == []


def test_the_same_send_twice_at_once_emails_each_person_once(ctx, login, smtp):
    """Two requests with one form (a double click on a slow network) race for the event
    row (on SQLite, for the database's write lock); the second reads the first's send
    and writes to nobody."""
    staff = make_user("staff")
    event, _people = an_event_with_people(staff)
    clients = [login(staff), login(staff)]
    path = f"/events/{event.id}/notify"  # read here: the threads have no app context
    form = {"message": "See you soon", "send_key": "a" * 32, "include_waitlist": "y"}
    for _round in range(3):
        form["send_key"] = f"{_round}" * 32
        answers = run_together(
            *[(lambda c=client: c.post(path, data=dict(form)).status_code) for client in clients]
        )
        assert answers == [302, 302]
    assert to_whom(smtp) == sorted(["kai@example.edu", "robin@example.edu", "sam@example.edu"] * 3)
