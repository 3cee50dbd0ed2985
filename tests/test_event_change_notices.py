"""Change notices: when an event's time or place changes, everyone going or waitlisted is
told what changed (old and new, in the program's time) with an .ics that updates the
same entry (same UID, higher SEQUENCE); a series edited or cancelled "from here on"
tells each person once; a past event's change and a title-only edit tell nobody."""

import html
from datetime import timedelta

import pytest
from icalendar import Calendar

from crp_portal.events.models import Event
from crp_portal.events.rsvp import rsvp
from crp_portal.events.services import create_event
from crp_portal.extensions import db
from crp_portal.timeutil import format_date, format_datetime, format_time, local_today, utcnow
from tests.factories import event_details, make_event, make_user
from tests.test_calendar_readers import read_by_ical_js, read_by_python
from tests.test_concurrency import run_together
from tests.test_event_races import edit_form

CHANGED, CANCELLED, GOING = "Changed:", "Cancelled:", "You're going:"
ROUNDS = 3


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def mail_to(smtp, address: str, prefix: str) -> list:
    return [m for m in smtp.to(address) if m["Subject"].startswith(prefix)]


def entries(message) -> dict[str, object]:
    """The VEVENTs of a message's .ics attachment by UID; {} when it has none."""
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    if not parts:
        return {}
    [part] = parts
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    return {str(vevent["UID"]): vevent for vevent in calendar.walk("VEVENT")}


def uid(event_id: int) -> str:
    return f"event-{event_id}@portal.test"


def body_of(smtp, message) -> str:
    """The plain text with its lines' spacing kept but runs of spaces made one."""
    return "\n".join(" ".join(line.split()) for line in smtp.text_of(message).splitlines())


@pytest.fixture
def people(ctx):
    """Staff (events scope), two students going and one waitlisted, to an event of two
    places a week from now at 7 pm in Student Center 204."""
    staff = make_user("staff", scopes=["events"])
    kai = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    ren = make_user("student", email="ren@example.edu", name="Ren Ito")
    sam = make_user("student", email="sam@example.edu", name="Sam Park")
    event = make_event(staff, capacity=2, title="Recovery peer support")
    for person in (kai, ren, sam):
        rsvp(event.id, person, utcnow())
    db.session.commit()
    return staff, event, (kai, ren, sam)


def fresh(event_id: int) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event_id)


def test_a_new_time_is_told_to_those_going_and_waiting_with_the_updated_entry(
    ctx, login, smtp, people
):
    staff, event, _students = people
    old_start, old_end = event.starts_at, event.ends_at
    [confirmation] = mail_to(smtp, "kai@example.edu", GOING)
    confirmed = entries(confirmation)[uid(event.id)]

    saved = login(staff).post(
        f"/events/{event.id}/edit",
        data=edit_form(event, start_time="18:00", end_time="19:30"),
        follow_redirects=True,
    )

    assert "Saved 1 event." in text(saved)
    moved = fresh(event.id)
    for address in ("kai@example.edu", "ren@example.edu", "sam@example.edu"):
        [notice] = mail_to(smtp, address, CHANGED)
        assert notice["Subject"] == f"Changed: Tuesday group, {format_datetime(moved.starts_at)}"
        body = body_of(smtp, notice)
        assert f"Was: {format_datetime(old_start)} to {format_time(old_end)}" in body
        assert f"Now: {format_datetime(moved.starts_at)} to {format_time(moved.ends_at)}" in body
        assert "Place was" not in body  # the place did not change
        assert "recovery" not in notice["Subject"].lower()
    for address in ("kai@example.edu", "ren@example.edu"):
        [notice] = mail_to(smtp, address, CHANGED)
        updated = entries(notice)[uid(event.id)]
        assert updated["SEQUENCE"] > confirmed["SEQUENCE"]
        assert updated["DTSTART"].dt == moved.starts_at
        assert "The attached file updates your calendar." in body_of(smtp, notice)
    [waiting] = mail_to(smtp, "sam@example.edu", CHANGED)
    assert entries(waiting) == {}  # nothing in their calendar to update
    assert "You're on the waitlist for this date." in body_of(smtp, waiting)


def test_a_new_place_and_link_are_told_without_the_link_itself(ctx, login, smtp, people):
    staff, event, _students = people
    login(staff).post(
        f"/events/{event.id}/edit",
        data=edit_form(
            event, location="Library, 3rd floor", online_link="https://meet.example.edu/abc"
        ),
    )
    [notice] = mail_to(smtp, "kai@example.edu", CHANGED)
    body = body_of(smtp, notice)
    assert "Place was: Student Center 204\nPlace now: Library, 3rd floor" in body
    assert "The online link changed: the event's page shows the new one." in body
    assert "meet.example.edu" not in body
    assert f"On {format_datetime(event.starts_at)}" in body
    assert entries(notice)[uid(event.id)]["LOCATION"] == "Library, 3rd floor"


def test_a_title_or_description_edit_tells_nobody(ctx, login, smtp, people):
    staff, event, _students = people
    page = text(login(staff).get(f"/events/{event.id}/edit"))
    assert "a change of title or description alone emails nobody" in page
    saved = login(staff).post(
        f"/events/{event.id}/edit",
        data=edit_form(event, title="Peer circle", description="Bring a friend."),
    )
    assert saved.status_code == 302
    assert fresh(event.id).title == "Peer circle"
    assert [m for m in smtp.messages if m["Subject"].startswith(CHANGED)] == []


def test_a_change_to_a_past_event_tells_nobody(ctx, login, smtp):
    staff = make_user("staff", scopes=["events"])
    kai = make_user("student", email="kai@example.edu")
    event = make_event(staff, day=local_today() - timedelta(days=1))
    rsvp(event.id, kai, event.starts_at - timedelta(days=2))
    db.session.commit()
    saved = login(staff).post(
        f"/events/{event.id}/edit",
        data=edit_form(event, start_time="18:00", location="Room 12"),
    )
    assert saved.status_code == 302
    assert mail_to(smtp, "kai@example.edu", CHANGED) == []


def weekly_series(staff, weeks: int = 4) -> list[Event]:
    day = local_today() + timedelta(days=7)
    created = create_event(
        event_details(day=day), staff, repeat_weeks=1, repeat_until=day + timedelta(weeks=weeks - 1)
    )
    db.session.commit()
    assert len(created) == weeks
    return created


def test_this_and_following_tells_each_person_once_with_all_their_dates(ctx, login, smtp):
    staff = make_user("staff", scopes=["events"])
    kai = make_user("student", email="kai@example.edu")
    ren = make_user("student", email="ren@example.edu")
    series = weekly_series(staff)
    for occurrence in series:
        rsvp(occurrence.id, kai, utcnow())
    for occurrence in series[2:]:
        rsvp(occurrence.id, ren, utcnow())
    db.session.commit()
    confirmed = {
        key: value["SEQUENCE"]
        for message in mail_to(smtp, "kai@example.edu", GOING)
        for key, value in entries(message).items()
    }

    saved = login(staff).post(
        f"/events/{series[1].id}/edit",
        data=edit_form(series[1], start_time="18:00", end_time="19:30", scope="following"),
        follow_redirects=True,
    )

    assert "Saved 3 events." in text(saved)
    moved = [fresh(occurrence.id) for occurrence in series[1:]]
    [notice] = mail_to(smtp, "kai@example.edu", CHANGED)
    assert notice["Subject"] == (
        f"Changed: Tuesday group, 3 dates from {format_date(moved[0].starts_at)}"
    )
    body = body_of(smtp, notice)
    for occurrence in moved:
        assert f"Now: {format_datetime(occurrence.starts_at)}" in body
    updated = entries(notice)
    assert set(updated) == {uid(occurrence.id) for occurrence in moved}
    for occurrence in moved:
        entry = updated[uid(occurrence.id)]
        assert entry["SEQUENCE"] > confirmed[uid(occurrence.id)]
        assert entry["DTSTART"].dt == occurrence.starts_at
    [theirs] = mail_to(smtp, "ren@example.edu", CHANGED)
    assert set(entries(theirs)) == {uid(occurrence.id) for occurrence in moved[1:]}
    assert theirs["Subject"].startswith("Changed: Tuesday group, 2 dates from ")


def test_a_series_cancelled_from_here_on_tells_each_person_once(ctx, login, smtp):
    staff = make_user("staff", scopes=["events"])
    kai = make_user("student", email="kai@example.edu")
    ren = make_user("student", email="ren@example.edu")
    series = weekly_series(staff)
    for occurrence in series:
        rsvp(occurrence.id, kai, utcnow())
    rsvp(series[3].id, ren, utcnow())
    db.session.commit()

    done = login(staff).post(
        f"/events/{series[1].id}/cancel", data={"scope": "following"}, follow_redirects=True
    )

    assert "Cancelled 3 event(s)" in text(done)
    [notice] = mail_to(smtp, "kai@example.edu", CANCELLED)
    assert notice["Subject"] == (
        f"Cancelled: Tuesday group, 3 dates from {format_date(series[1].starts_at)}"
    )
    body = body_of(smtp, notice)
    for occurrence in series[1:]:
        assert f"- {format_datetime(occurrence.starts_at)}" in body
    cancelled = entries(notice)
    assert set(cancelled) == {uid(occurrence.id) for occurrence in series[1:]}
    assert {str(entry["STATUS"]) for entry in cancelled.values()} == {"CANCELLED"}
    assert {entry["SEQUENCE"] for entry in cancelled.values()} == {1}
    # Someone on the list for one of the dates gets the one-event cancellation, as before.
    [single] = mail_to(smtp, "ren@example.edu", CANCELLED)
    assert single["Subject"] == f"Cancelled: Tuesday group, {format_datetime(series[3].starts_at)}"
    assert set(entries(single)) == {uid(series[3].id)}


def test_a_single_cancellation_still_tells_each_person_once(ctx, login, smtp, people):
    staff, event, _students = people
    login(staff).post(f"/events/{event.id}/cancel", data={"scope": "this"})
    for address in ("kai@example.edu", "ren@example.edu", "sam@example.edu"):
        [notice] = mail_to(smtp, address, CANCELLED)
        assert notice["Subject"] == f"Cancelled: Tuesday group, {format_datetime(event.starts_at)}"
        assert str(entries(notice)[uid(event.id)]["STATUS"]) == "CANCELLED"


def test_every_reader_sees_the_notice_update_the_confirmed_entry(ctx, login, smtp, tmp_path):
    """icalendar (with the zone data), dateutil (only the file's VTIMEZONE) and ical.js
    (Thunderbird's parser) read the change notice's .ics as the same entry as the
    confirmation's, at the new time, with a higher SEQUENCE; and the cancellation's
    entries as cancelled."""
    staff = make_user("staff", scopes=["events"])
    kai = make_user("student", email="kai@example.edu")
    series = weekly_series(staff, weeks=3)
    for occurrence in series:
        rsvp(occurrence.id, kai, utcnow())
    db.session.commit()
    client = login(staff)
    client.post(
        f"/events/{series[0].id}/edit",
        data=edit_form(series[0], start_time="17:00", end_time="18:00", scope="following"),
    )
    client.post(f"/events/{series[1].id}/cancel", data={"scope": "following"})
    files = {}
    for prefix in (GOING, CHANGED, CANCELLED):
        for number, message in enumerate(mail_to(smtp, "kai@example.edu", prefix)):
            [part] = [p for p in message.iter_attachments() if p.get_filename()]
            path = tmp_path / f"{prefix[:-1].replace(' ', '-').replace(chr(39), '')}-{number}.ics"
            path.write_bytes(part.get_payload(decode=True))
            files.setdefault(prefix, []).append(path)
    assert [len(files[prefix]) for prefix in (GOING, CHANGED, CANCELLED)] == [3, 1, 1]
    by_ical_js = read_by_ical_js([path for paths in files.values() for path in paths])

    def sequences(path) -> dict[str, int]:
        calendar = Calendar.from_ical(path.read_bytes())
        return {str(v["UID"]): int(v["SEQUENCE"]) for v in calendar.walk("VEVENT")}

    confirmed = {}
    for path in files[GOING]:
        confirmed |= sequences(path)
    [changed] = files[CHANGED]
    [cancelled] = files[CANCELLED]
    stored = {uid(e.id): fresh(e.id) for e in series}
    in_python = {entry["uid"]: entry for entry in read_by_python(changed)}
    in_js = {entry["uid"]: entry for entry in by_ical_js[str(changed)]}
    assert set(in_python) == set(in_js) == set(confirmed)
    for key, event in stored.items():
        moved = (event.starts_at, event.ends_at)
        assert in_python[key]["icalendar"] == in_python[key]["dateutil"] == moved
        assert (in_js[key]["start"], in_js[key]["end"]) == tuple(
            moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in moved
        )
        assert sequences(changed)[key] == in_js[key]["sequence"] > confirmed[key]
    in_js = {entry["uid"]: entry for entry in by_ical_js[str(cancelled)]}
    assert set(in_js) == {uid(e.id) for e in series[1:]}
    for key, entry in in_js.items():
        assert entry["status"] == "CANCELLED"
        assert entry["sequence"] == sequences(cancelled)[key] > sequences(changed)[key]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_staff_moving_an_event_at_once_send_one_notice_per_saved_move(ctx, login, smtp):
    """Each acknowledged move sends each person exactly one notice, whose .ics carries
    that move's SEQUENCE; the last saved time is the one the last notice gives."""
    staff = [make_user("staff", scopes=["events"]) for _ in range(2)]
    clients = [login(person) for person in staff]
    kai = make_user("student", email="kai@example.edu")
    for _ in range(ROUNDS):
        event = make_event(staff[0])
        rsvp(event.id, kai, utcnow())
        db.session.commit()
        smtp.received.clear()
        forms = [edit_form(event, start_time=t, end_time="20:45") for t in ("17:00", "18:00")]
        path = f"/events/{event.id}/edit"
        responses = run_together(
            *(
                lambda c=client, f=form, p=path: c.post(p, data=f)
                for client, form in zip(clients, forms, strict=True)
            )
        )
        saved = [response for response in responses if response.status_code == 302]
        assert all(response.status_code in (302, 409) for response in responses)
        notices = mail_to(smtp, "kai@example.edu", CHANGED)
        assert len(notices) == len(saved) >= 1
        latest = max(notices, key=lambda m: entries(m)[uid(event.id)]["SEQUENCE"])
        stored = fresh(event.id)
        assert entries(latest)[uid(event.id)]["SEQUENCE"] == stored.sequence
        assert entries(latest)[uid(event.id)]["DTSTART"].dt == stored.starts_at
