"""Event reminders: an email before each event a student is going to, sent by the scheduled
job (`flask events send-reminders`) once per person and start, even with two hosts running
it at once; per kind of event staff turn them off or set how long before; students opt
out; none for a cancelled or started event or for the waitlist; quiet hours hold nudges,
not reminders."""

import html
import re
from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from icalendar import Calendar
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from crp_portal.errors import DomainError
from crp_portal.events.models import Event, EventReminderSetting
from crp_portal.events.reminders import ReminderRule, save_reminder_rules, send_due_reminders
from crp_portal.events.rsvp import rsvp
from crp_portal.events.services import cancel_event, details_of, update_event
from crp_portal.extensions import db
from crp_portal.members.models import EmailOptOut
from crp_portal.nudges.planning import after_quiet_hours
from crp_portal.outbox.models import OutboxMessage
from crp_portal.outbox.sender import send_pending
from crp_portal.timeutil import format_datetime, local_to_utc, local_today, to_local, utcnow
from tests.factories import make_event, make_user
from tests.test_concurrency import run_together
from tests.test_migrations import _empty_database

REMINDER = "Reminder:"
ROUNDS = 3


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def going_to(staff, starts_at, *people, said_going_at=None, **fields) -> Event:
    """An event starting at `starts_at` (an hour long) that `people` said they were going
    to three days before (or at `said_going_at`)."""
    event = make_event(staff, **fields)
    event.starts_at, event.ends_at = starts_at, starts_at + timedelta(hours=1)
    db.session.commit()
    for person in people:
        rsvp(event.id, person, said_going_at or starts_at - timedelta(days=3))
    db.session.commit()
    return event


def reminder_rows(event_id: int | None = None) -> Counter:
    """{recipient: reminder rows in the outbox}."""
    db.session.expire_all()
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.startswith(REMINDER))
    ).all()
    if event_id is not None:
        rows = [row for row in rows if f"/events/{event_id}" in row.body_text]
    return Counter(row.recipient for row in rows)


@pytest.fixture
def now(ctx) -> datetime:
    """A fixed moment the job runs as: 11 pm in ten days, inside the nudges' quiet hours
    (9 pm to 8 am by default)."""
    return local_to_utc(datetime.combine(local_today() + timedelta(days=10), time(23, 0)))


def run_job(now: datetime) -> int:
    sent = send_due_reminders(now)
    db.session.commit()
    return sent


def reminders_to(smtp, address: str, now: datetime | None = None) -> list:
    """The reminders the SMTP server got for `address`, after delivering the rows due by
    `now` (the moment the job ran as) or, without it, by the real time."""
    if now is not None:
        db.session.commit()
        send_pending(now)
    return [m for m in smtp.to(address) if m["Subject"].startswith(REMINDER)]


def calendar_of(message) -> Calendar:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))


def test_the_job_reminds_each_person_once_with_the_ics_and_a_neutral_subject(app, ctx, smtp):
    staff = make_user("staff")
    kai = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    ren = make_user("student", email="ren@example.edu", name="Ren Ito")
    starts = utcnow().replace(second=0, microsecond=0) + timedelta(hours=5)
    event = going_to(staff, starts, kai, ren, title="Recovery peer support group")
    runner = app.test_cli_runner()

    first = runner.invoke(args=["events", "send-reminders"])
    second = runner.invoke(args=["events", "send-reminders"])

    assert first.exit_code == 0 and "Sent 2 event reminder(s)." in first.output
    assert second.exit_code == 0 and "Sent 0 event reminder(s)." in second.output
    for address in ("kai@example.edu", "ren@example.edu"):
        [message] = reminders_to(smtp, address)
        assert message["Subject"] == f"Reminder: Tuesday group, {format_datetime(starts)}"
        assert "recovery" not in message["Subject"].lower()
        body = smtp.text_of(message)
        assert "you're going to Tuesday group" in body
        assert f"/events/{event.id}" in body
        [entry] = calendar_of(message).walk("VEVENT")
        assert str(entry["UID"]) == f"event-{event.id}@portal.test"
        assert entry["DTSTART"].dt == starts
        assert str(entry["SUMMARY"]) == "Tuesday group"
        # A way to stop them: the footer link and the header mail clients offer.
        assert re.search(r"Stop emails like this: http://portal\.test/unsubscribe/\S+", body)
        assert message["List-Unsubscribe"].startswith("<http://portal.test/unsubscribe/")


def test_a_moved_event_is_reminded_again_for_its_new_time(ctx, smtp, now):
    staff = make_user("staff")
    kai = make_user("student", email="kai@example.edu")
    event = going_to(staff, now + timedelta(hours=20), kai)
    assert run_job(now) == 1

    details = details_of(event)
    details.start_time, details.end_time = time(17, 0), time(18, 0)
    update_event(event, details, now=now)
    db.session.commit()
    moved_to = db.session.get(Event, event.id).starts_at
    assert now < moved_to <= now + timedelta(hours=24)

    assert run_job(now) == 1
    assert run_job(now) == 0
    first, again = reminders_to(smtp, "kai@example.edu", now)
    assert [calendar_of(m).walk("VEVENT")[0]["DTSTART"].dt for m in (first, again)] == [
        now + timedelta(hours=20),
        moved_to,
    ]


def test_an_event_moved_before_its_reminder_is_reminded_once_for_the_new_time(ctx, smtp, now):
    staff = make_user("staff")
    kai = make_user("student", email="kai@example.edu")
    event = going_to(staff, now + timedelta(days=3), kai, said_going_at=now - timedelta(days=5))
    details = details_of(event)
    details.day = to_local(now).date() + timedelta(days=1)  # 10 am tomorrow: 11 hours on
    details.start_time, details.end_time = time(10, 0), time(11, 0)
    update_event(event, details, now=now - timedelta(days=1))
    db.session.commit()

    assert run_job(now) == 1
    assert run_job(now) == 0
    [reminder] = reminders_to(smtp, "kai@example.edu", now)
    assert (
        calendar_of(reminder).walk("VEVENT")[0]["DTSTART"].dt
        == db.session.get(Event, event.id).starts_at
    )


def test_staff_turn_a_kind_off_and_set_another_kinds_lead_time(ctx, login, now):
    staff = make_user("staff")
    events_staff = login(make_user("staff", scopes=["events"]))
    page = events_staff.get("/events/reminders")
    assert page.status_code == 200 and "Sober social" in page_text(page)
    form = {}
    for kind in ("all_recovery", "peer_support", "sober_social", "academic", "wellness"):
        form[f"enabled_{kind}"], form[f"hours_{kind}"] = "y", "24"
    form.pop("enabled_sober_social")  # off
    form["enabled_service"], form["hours_service"] = "y", "48"
    saved = events_staff.post("/events/reminders", data=form, follow_redirects=True)
    assert "Reminder settings saved." in page_text(saved)

    people = [make_user("student") for _ in range(4)]
    social = going_to(staff, now + timedelta(hours=5), people[0], kind="sober_social")
    outing = going_to(staff, now + timedelta(hours=40), people[1], kind="service")
    not_yet = going_to(staff, now + timedelta(hours=40), people[2], kind="peer_support")
    due = going_to(staff, now + timedelta(hours=20), people[3], kind="peer_support")

    assert run_job(now) == 2
    assert reminder_rows(social.id) == Counter()
    assert reminder_rows(outing.id) == Counter({people[1].email: 1})
    assert reminder_rows(not_yet.id) == Counter()
    assert reminder_rows(due.id) == Counter({people[3].email: 1})


def test_the_settings_page_shows_defaults_and_refuses_a_lead_time_not_listed(ctx, login):
    events_staff = login(make_user("staff", scopes=["events"]))
    page = page_text(events_staff.get("/events/reminders"))
    assert page.count('selected value="24"') == 6  # every kind: on, a day before
    assert page.count("checked") == 6
    refused = events_staff.post(
        "/events/reminders", data={"enabled_service": "y", "hours_service": "999"}
    )
    assert refused.status_code == 200
    assert "Not a valid choice" in page_text(refused)
    assert db.session.scalar(select(func.count()).select_from(EventReminderSetting)) == 0
    with pytest.raises(DomainError, match="Choose how long before"):
        save_reminder_rules([ReminderRule("service", True, 5)], make_user("staff"))


def test_staff_events_pages_link_to_the_settings(ctx, login):
    page = page_text(login(make_user("staff", scopes=["events"])).get("/events/"))
    assert 'href="/events/reminders"' in page
    student_page = page_text(login(make_user("student")).get("/events/"))
    assert "/events/reminders" not in student_page


def test_students_who_opted_out_get_none(ctx, login, smtp, now):
    staff = make_user("staff")
    kai = make_user("student", email="kai@example.edu")
    ren = make_user("student", email="ren@example.edu")
    profile = login(kai).get("/me/profile")
    assert "Reminders before events you&#39;re going to" in profile.get_data(as_text=True)
    login(kai).post(
        "/me/profile", data={"email_categories": ["events", "academic", "housing", "wellbeing"]}
    )
    assert db.session.scalar(select(EmailOptOut.category).where(EmailOptOut.user_id == kai.id)) == (
        "event_reminders"
    )
    event = going_to(staff, now + timedelta(hours=5), kai, ren)

    assert run_job(now) == 1
    assert reminder_rows(event.id) == Counter({"ren@example.edu": 1})


def test_the_link_in_a_reminder_stops_the_next_ones(ctx, client, smtp, now):
    staff = make_user("staff")
    kai = make_user("student", email="kai@example.edu")
    going_to(staff, now + timedelta(hours=5), kai)
    assert run_job(now) == 1
    [message] = reminders_to(smtp, "kai@example.edu", now)
    path = message["List-Unsubscribe"].strip("<>").removeprefix("http://portal.test")

    asked = client.get(path)
    assert "Stop emails about reminders before events you're going to?" in page_text(asked)
    done = client.post(path)  # what a mail client's one-click unsubscribe sends
    assert "You will no longer get emails about reminders before events" in page_text(done)

    later = going_to(staff, now + timedelta(hours=6), kai)
    assert run_job(now) == 0
    assert reminder_rows(later.id) == Counter()


def test_none_for_a_cancelled_event(ctx, now):
    staff = make_user("staff")
    event = going_to(staff, now + timedelta(hours=5), make_user("student"))
    cancel_event(event)
    db.session.commit()
    assert run_job(now) == 0
    assert reminder_rows() == Counter()


def test_none_once_the_event_has_started(ctx, now):
    staff = make_user("staff")
    started = going_to(staff, now - timedelta(minutes=1), make_user("student"))
    starting = going_to(staff, now, make_user("student"))
    assert run_job(now) == 0
    assert reminder_rows(started.id) == reminder_rows(starting.id) == Counter()


def test_none_for_the_waitlist(ctx, now):
    staff = make_user("staff")
    going, waiting = make_user("student"), make_user("student")
    event = going_to(staff, now + timedelta(hours=5), going, waiting, capacity=1)
    assert run_job(now) == 1
    assert reminder_rows(event.id) == Counter({going.email: 1})


def test_none_for_someone_who_said_going_after_the_reminder_time(ctx, now):
    """They just had the confirmation with the .ics; a reminder too would be noise."""
    staff = make_user("staff")
    late = make_user("student")
    event = going_to(staff, now + timedelta(hours=5), late, said_going_at=now - timedelta(hours=1))
    assert run_job(now) == 0
    assert reminder_rows(event.id) == Counter()


def test_quiet_hours_do_not_hold_a_reminder(ctx, smtp, now):
    """At 11 pm a nudge would wait for the morning; a reminder is transactional and goes."""
    assert after_quiet_hours(now) > now, "now is inside the quiet hours"
    staff = make_user("staff")
    going_to(staff, now + timedelta(hours=10), make_user("student", email="kai@example.edu"))
    smtp.messages.clear()  # the confirmation

    assert run_job(now) == 1
    [row] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.startswith(REMINDER))
    ).all()
    assert row.kind == "transactional" and row.due_at == now
    assert len(reminders_to(smtp, "kai@example.edu", now)) == 1  # delivered at `now`


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_hosts_running_the_job_at_once_remind_each_person_once(app, ctx, now):
    """Two "hosts" (threads, each with its own session and connection) released together
    by a barrier, several rounds: each round's people are reminded exactly once."""
    staff = make_user("staff")

    def host():
        with app.app_context():
            sent = send_due_reminders(now)
            db.session.commit()
            return sent

    for round_number in range(ROUNDS):
        people = [make_user("student") for _ in range(4)]
        event = going_to(staff, now + timedelta(hours=2 + round_number), *people)
        results = run_together(host, host)
        assert sum(results) == len(people)
        assert reminder_rows(event.id) == Counter({person.email: 1 for person in people})


def test_the_migration_adds_event_reminders_to_what_students_may_opt_out_of(database_url):
    """Upgrading to 0018 lets an opt-out of event reminders be stored (0016 refused it);
    downgrading drops those opt-outs with the category."""
    app = _empty_database(database_url)
    opt_out = text(
        "INSERT INTO email_opt_outs (user_id, category, created_at) "
        "VALUES (1, 'event_reminders', :now)"
    )
    moment = {"now": "2026-12-01 12:00:00+00:00"}
    with app.app_context():
        upgrade(revision="0016_saml_assertions_seen")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, role, created_at, updated_at) "
                    "VALUES (1, 'kai@example.edu', 'Kai', 'student', :now, :now)"
                ),
                moment,
            )
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(opt_out, moment)
        upgrade(revision="0018_event_reminders")
        with db.engine.begin() as connection:
            connection.execute(opt_out, moment)
        downgrade(revision="0016_saml_assertions_seen")
        with db.engine.begin() as connection:
            left = connection.scalar(text("SELECT count(*) FROM email_opt_outs"))
        downgrade(revision="base")
        db.engine.dispose()
    assert left == 0
