"""Calendar files: one event's .ics, the file in the RSVP email, and the private feed.

Discreet by default: what lands in a student's calendar or inbox carries the neutral
title, because calendars sit on shared phones and family accounts.
"""

import html
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from crp_portal.auth.services import deactivate
from crp_portal.events.calendars import feed_for, feed_url
from crp_portal.events.rsvp import cancel_rsvp, rsvp
from crp_portal.events.services import update_event
from crp_portal.extensions import db
from crp_portal.members.services import update_own_profile
from crp_portal.timeutil import local_today, utcnow
from tests.factories import event_details, make_event, make_user
from tests.test_advising_calendar import text_types_without_utf8

NEW_YORK = ZoneInfo("America/New_York")
REAL, NEUTRAL = "Recovery meeting", "Tuesday group"
FEED_URL = re.compile(r'value="http://portal\.test(/calendar/[^"]+\.ics)"')
NOT_IN_USE = "This calendar address is not in use."


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def discreet_event(**overrides):
    """An all-recovery meeting whose real title must stay off shared calendars."""
    return make_event(kind="all_recovery", title=REAL, public_title=NEUTRAL, **overrides)


def download(client, event) -> Calendar:
    response = client.get(f"/events/{event.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def only_event(calendar: Calendar):
    [vevent] = calendar.walk("VEVENT")
    return vevent


def summaries(calendar: Calendar) -> list[str]:
    return sorted(str(vevent["SUMMARY"]) for vevent in calendar.walk("VEVENT"))


def unfolded(ics: bytes) -> bytes:
    """iCalendar folds long lines at 75 octets; undo that before searching the text."""
    return ics.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")


def feed_path(client) -> str:
    """The private address the student copies from "Your calendar"."""
    page = client.get("/calendar/")
    assert page.status_code == 200
    return FEED_URL.search(page.get_data(as_text=True)).group(1)


def viewer(kind: str):
    if kind == "staff":
        return make_user("staff")
    student = make_user("student")
    if kind == "student who chose real titles":
        update_own_profile(student, show_real_titles=True)
        db.session.commit()
    return student


# One event's file ----------------------------------------------------------------------


def test_event_file_is_one_event_at_local_time_with_its_time_zone(ctx, login):
    day = local_today() + timedelta(days=7)
    event = make_event(day=day, start_time=time(19, 0), end_time=time(20, 30))

    calendar = download(login(make_user("student")), event)

    vevent = only_event(calendar)
    start, end = vevent["DTSTART"], vevent["DTEND"]
    assert start.params["TZID"] == "America/New_York"
    assert end.params["TZID"] == "America/New_York"
    assert start.dt == datetime.combine(day, time(19, 0), tzinfo=NEW_YORK)
    assert end.dt == datetime.combine(day, time(20, 30), tzinfo=NEW_YORK)
    assert start.dt.replace(tzinfo=None) == datetime.combine(day, time(19, 0))
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "America/New_York"
    assert str(vevent["LOCATION"]) == "Student Center 204"
    assert vevent["STATUS"] == "CONFIRMED"
    assert f"/events/{event.id}" in str(vevent["URL"])


def test_event_keeps_its_uid_across_downloads_and_edits(ctx, login):
    day = local_today() + timedelta(days=7)
    event = make_event(day=day)
    client = login(make_user("student"))

    first = only_event(download(client, event))
    second = only_event(download(client, event))
    assert first["UID"] == second["UID"]

    update_event(event, event_details(day=day, start_time=time(18, 0), end_time=time(19, 0)))
    db.session.commit()
    edited = only_event(download(client, event))

    assert edited["UID"] == first["UID"]
    assert edited["DTSTART"].dt == datetime.combine(day, time(18, 0), tzinfo=NEW_YORK)
    # A higher SEQUENCE makes calendar apps replace the entry rather than keep the old one.
    assert edited["SEQUENCE"] > first["SEQUENCE"]


def test_a_file_downloaded_again_at_once_shows_every_change_made_in_between(ctx, login):
    """Files are reused for a minute (an RSVP burst attaches the same one), never past a
    change to what they show: place, cancellation, or the person's title setting."""
    day = local_today() + timedelta(days=7)
    event = discreet_event(day=day, location="Student Center 204")
    student = make_user("student")
    client = login(student)
    before = only_event(download(client, event))
    assert before["DTSTAMP"].dt >= utcnow().replace(second=0, microsecond=0)

    update_event(
        event,
        event_details(
            kind="all_recovery",
            title=REAL,
            public_title=NEUTRAL,
            day=day,
            location="Library room 3",
        ),
    )
    db.session.commit()
    moved = only_event(download(client, event))
    assert str(moved["LOCATION"]) == "Library room 3"
    assert (moved["SUMMARY"], moved["STATUS"]) == (NEUTRAL, "CONFIRMED")

    update_own_profile(student, show_real_titles=True)
    db.session.commit()
    assert only_event(download(client, event))["SUMMARY"] == REAL


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("student", NEUTRAL),
        ("student who chose real titles", REAL),
        ("staff", REAL),
    ],
)
def test_calendar_title_is_neutral_unless_the_person_chose_real_titles(ctx, login, kind, title):
    event = discreet_event()
    vevent = only_event(download(login(viewer(kind)), event))
    assert vevent["SUMMARY"] == title


def test_default_student_file_never_says_recovery(ctx, login):
    event = discreet_event(description="An all-recovery meeting, open to everyone in recovery.")
    response = login(make_user("student")).get(f"/events/{event.id}.ics")
    assert response.status_code == 200
    assert b"recovery" not in unfolded(response.data).lower()


def test_cancelled_event_shows_as_cancelled_in_calendars(ctx, login, smtp):
    staff, student = make_user("staff"), make_user("student", email="kai@example.edu")
    event = discreet_event(created_by=staff)
    rsvp(event.id, student, utcnow())
    db.session.commit()
    client = login(student)
    before = only_event(download(client, event))

    cancelled = login(staff).post(f"/events/{event.id}/cancel", data={"scope": "this"})
    assert cancelled.status_code == 302

    after = only_event(download(client, event))
    assert after["STATUS"] == "CANCELLED"
    assert after["UID"] == before["UID"]
    [notice] = [m for m in smtp.to("kai@example.edu") if m["Subject"].startswith("Cancelled: ")]
    assert notice["Subject"].startswith(f"Cancelled: {NEUTRAL}, ")
    [attached] = [
        part for part in notice.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    emailed = only_event(Calendar.from_ical(attached.get_payload(decode=True)))
    assert emailed["STATUS"] == "CANCELLED"
    assert emailed["UID"] == before["UID"]


# Reminders -----------------------------------------------------------------------------


def reminders(vevent) -> list[tuple[str, timedelta, str]]:
    return [
        (str(alarm["ACTION"]), alarm["TRIGGER"].dt, str(alarm["DESCRIPTION"]))
        for alarm in vevent.walk("VALARM")
    ]


def choose_reminder(client, choice: str):
    """The student picks a reminder on their profile page, as the select sends it."""
    saved = client.post(
        "/me/profile", data={"calendar_reminder_minutes": choice}, follow_redirects=True
    )
    assert "Your profile is saved." in text_of(saved)
    return saved


@pytest.mark.parametrize("kind", ["student", "staff"])
def test_calendar_entries_remind_an_hour_before_by_default(ctx, login, kind):
    event = discreet_event()
    vevent = only_event(download(login(viewer(kind)), event))
    title = NEUTRAL if kind == "student" else REAL
    assert reminders(vevent) == [("DISPLAY", timedelta(hours=-1), title)]


def test_students_choose_their_reminder_or_none_on_their_profile(app, ctx, login):
    student = make_user("student")
    event = discreet_event()
    rsvp(event.id, student, utcnow())
    db.session.commit()
    client = login(student)
    page = text_of(client.get("/me/profile"))
    assert '<option selected value="60">1 hour before</option>' in page
    for label in ("Off", "15 minutes before", "1 day before"):
        assert f">{label}</option>" in page

    choose_reminder(client, "1440")
    assert reminders(only_event(download(client, event))) == [
        ("DISPLAY", timedelta(days=-1), NEUTRAL)
    ]

    saved = choose_reminder(client, "off")
    assert '<option selected value="off">Off</option>' in text_of(saved)
    assert reminders(only_event(download(client, event))) == []
    with app.test_request_context():
        path = feed_url(feed_for(student)).split("portal.test", 1)[1]
        db.session.commit()
    feed = Calendar.from_ical(app.test_client().get(path).data)
    assert reminders(only_event(feed)) == []


def test_a_reminder_not_offered_is_refused_in_place(ctx, login):
    student = make_user("student")
    for junk in ("5", "soon"):
        response = login(student).post("/me/profile", data={"calendar_reminder_minutes": junk})
        assert "Choose a reminder from the list, or Off." in text_of(response)
        assert "Your profile is saved." not in text_of(response)
    db.session.refresh(student.profile)
    assert student.profile.calendar_reminder_minutes == 60


def test_a_cancelled_event_reminds_nobody(ctx, login):
    staff, student = make_user("staff"), make_user("student")
    event = discreet_event(created_by=staff)
    client = login(student)
    assert reminders(only_event(download(client, event))) != []

    login(staff).post(f"/events/{event.id}/cancel", data={"scope": "this"})

    vevent = only_event(download(client, event))
    assert vevent["STATUS"] == "CANCELLED"
    assert reminders(vevent) == []


# The RSVP email ------------------------------------------------------------------------


def test_rsvp_email_carries_a_calendar_file_under_a_neutral_subject(ctx, login, smtp):
    student = make_user("student", email="kai@example.edu")
    event = discreet_event()
    client = login(student)

    client.post(f"/events/{event.id}/rsvp")

    [message] = smtp.to("kai@example.edu")
    assert message["Subject"].startswith(f"You're going: {NEUTRAL}, ")
    assert "recovery" not in message["Subject"].lower()
    assert "recovery" not in smtp.text_of(message).lower()
    [attached] = [
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    ics = attached.get_payload(decode=True)
    assert b"recovery" not in unfolded(ics).lower()
    vevent = only_event(Calendar.from_ical(ics))
    assert vevent["SUMMARY"] == NEUTRAL
    assert vevent["UID"] == only_event(download(client, event))["UID"]


def test_rsvp_email_uses_the_real_title_for_a_student_who_chose_it(ctx, login, smtp):
    student = viewer("student who chose real titles")
    event = discreet_event()

    login(student).post(f"/events/{event.id}/rsvp")

    [message] = smtp.to(student.email)
    assert message["Subject"].startswith(f"You're going: {REAL}, ")


def test_rsvp_email_names_utf8_for_its_text_and_its_calendar_file(ctx, login, smtp):
    student = make_user("student", email="kai@example.edu")
    event = discreet_event(location="Café Ñandú, upstairs")

    login(student).post(f"/events/{event.id}/rsvp")

    [message] = smtp.to("kai@example.edu")
    assert text_types_without_utf8(message.raw) == []
    [attached] = [
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    assert attached.get_content_charset() == "utf-8"
    assert only_event(Calendar.from_ical(attached.get_payload(decode=True)))["LOCATION"] == (
        "Café Ñandú, upstairs"
    )


# The private feed ----------------------------------------------------------------------


def test_calendar_page_shows_the_private_address(ctx, login):
    client = login(make_user("student"))
    page = client.get("/calendar/")
    assert page.status_code == 200
    assert "Your private calendar address" in text_of(page)
    assert feed_path(client) == feed_path(client)


def test_feed_lists_only_the_events_the_student_is_going_to(app, ctx, login):
    student, classmate = make_user("student"), make_user("student")
    going_to = make_event(public_title="Going")
    full = make_event(public_title="Waitlisted", capacity=1)
    changed_mind = make_event(public_title="Changed mind")
    not_mine = make_event(public_title="Someone else's")
    now = utcnow()
    rsvp(going_to.id, student, now)
    rsvp(full.id, classmate, now)
    rsvp(full.id, student, now)
    rsvp(changed_mind.id, student, now)
    cancel_rsvp(changed_mind.id, student, now)
    rsvp(not_mine.id, classmate, now)
    db.session.commit()
    path = feed_path(login(student))

    response = app.test_client().get(path)

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    assert summaries(calendar) == ["Going"]
    assert only_event(calendar)["UID"] == f"event-{going_to.id}@portal.test"


def test_feed_is_discreet_and_shows_cancellations(app, ctx, login):
    staff, student = make_user("staff"), make_user("student")
    event = discreet_event(created_by=staff)
    rsvp(event.id, student, utcnow())
    db.session.commit()
    path = feed_path(login(student))
    login(staff).post(f"/events/{event.id}/cancel", data={"scope": "this"})

    response = app.test_client().get(path)

    assert b"recovery" not in unfolded(response.data).lower()
    vevent = only_event(Calendar.from_ical(response.data))
    assert vevent["SUMMARY"] == NEUTRAL
    assert vevent["STATUS"] == "CANCELLED"


def test_new_address_replaces_the_old_one(app, ctx, login):
    student = make_user("student")
    event = make_event(public_title="Going")
    rsvp(event.id, student, utcnow())
    db.session.commit()
    client = login(student)
    old = feed_path(client)

    done = client.post("/calendar/regenerate", follow_redirects=True)

    assert "Your calendar has a new address. The old one no longer works." in text_of(done)
    new = FEED_URL.search(done.get_data(as_text=True)).group(1)
    assert new != old
    anonymous = app.test_client()
    gone = anonymous.get(old)
    assert gone.status_code == 404
    assert NOT_IN_USE in text_of(gone)
    works = anonymous.get(new)
    assert works.status_code == 200
    assert summaries(Calendar.from_ical(works.data)) == ["Going"]


def test_deactivated_account_feed_stops(app, ctx, login):
    student = make_user("student")
    event = make_event()
    rsvp(event.id, student, utcnow())
    db.session.commit()
    path = feed_path(login(student))

    deactivate(student, make_user("staff", is_admin=True))
    db.session.commit()
    response = app.test_client().get(path)

    assert response.status_code == 404
    assert NOT_IN_USE in text_of(response)


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 500], ids=["unknown", "very long"])
def test_unknown_feed_address_is_not_found(client, ctx, token):
    make_user("student")
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 404
    assert NOT_IN_USE in text_of(response)
