"""Events under real parallel requests (issue #17): capacity changes while students RSVP,
edits and cancellations racing each other, the attendance roster saved while students
check in, and a database connection lost in the middle of a write.

Each race runs a few rounds. In a round, threads with their own signed-in clients (so
their own database connections) are released together by a barrier; then the test checks
what must hold whatever order the database put them in: the stored going count equals
the going RSVPs and stays within capacity, nobody sees a 500, what a person was told is
saved is still there, and each acknowledged change sent exactly one email. On PostgreSQL
the requests really overlap and row locks decide; on SQLite they queue on the write lock.
"""

import html
import itertools
import re
import threading
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select

from crp_portal.events.models import Attendance, CalendarFeed, Event, Rsvp, RsvpStatus
from crp_portal.events.services import details_of
from crp_portal.extensions import db
from crp_portal.outbox.sender import send_pending
from crp_portal.timeutil import utcnow
from tests.factories import code_now, make_event, make_user
from tests.test_concurrency import run_together

ROUNDS = 3
GOING_MAIL, WAITLIST_MAIL = "You're going:", "You're on the waitlist:"
PLACE_MAIL, CANCELLED_MAIL = "You have a place:", "Cancelled:"
CHECKED_IN = "You're checked in. Welcome!"
SINCE_OPENED = "Checked in since you opened this page:"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def fresh(event_id: int) -> Event:
    """The event as the database holds it now, not as this session last saw it."""
    db.session.rollback()
    return db.session.get(Event, event_id)


def rsvps(event_id: int) -> dict[str, list[int]]:
    """{status: [user ids in queue order]} as the database holds them now."""
    db.session.rollback()
    rows = db.session.execute(
        select(Rsvp.status, Rsvp.user_id)
        .where(Rsvp.event_id == event_id)
        .order_by(Rsvp.queue_number)
    )
    result: dict[str, list[int]] = {}
    for status, user_id in rows:
        result.setdefault(status, []).append(user_id)
    return result


def assert_counts_hold(event_id: int) -> Event:
    """The invariant every RSVP change keeps: the stored count is the going RSVPs, within
    capacity, and nobody waits while a place is free."""
    found = rsvps(event_id)
    event = fresh(event_id)
    going, waiting = len(found.get(RsvpStatus.GOING, [])), len(found.get(RsvpStatus.WAITLISTED, []))
    assert event.going_count == going
    if event.capacity is not None:
        assert going <= event.capacity
        assert not waiting or going == event.capacity, "someone waits beside a free place"
    return event


def sent_mail(smtp) -> dict[str, Counter]:
    """Send the outbox, then take what the SMTP server got since the last call:
    {address: {subject prefix: how many}}."""
    db.session.commit()  # on SQLite the sender needs the write lock this session holds
    send_pending()
    received, smtp.messages[:] = list(smtp.messages), []
    kinds = (GOING_MAIL, WAITLIST_MAIL, PLACE_MAIL, CANCELLED_MAIL)
    mail: dict[str, Counter] = defaultdict(Counter)
    for message in received:
        subject = message["Subject"]
        kind = next((kind for kind in kinds if subject.startswith(kind)), subject)
        mail[message["To"].addresses[0].addr_spec][kind] += 1
    return mail


def students(count: int) -> list:
    return [make_user("student") for _ in range(count)]


def post(client, path: str, data=None, *, follow: bool = False):
    """A form post to send later, when the barrier opens."""
    return lambda: client.post(path, data=data, follow_redirects=follow)


def rsvp_by(client, event_id: int):
    return post(client, f"/events/{event_id}/rsvp")


def edit_form(event: Event, **changes) -> dict:
    """The edit form as the page fills it, with `changes` typed over it."""
    details = details_of(event)
    form = {
        "kind": details.kind,
        "title": details.title,
        "public_title": details.public_title,
        "description": details.description,
        "day": details.day.isoformat(),
        "start_time": details.start_time.strftime("%H:%M"),
        "end_time": details.end_time.strftime("%H:%M"),
        "location": details.location or "",
        "online_link": details.online_link or "",
        "capacity": "" if details.capacity is None else str(details.capacity),
        "rsvp_deadline": "",
        "house_id": "0",
        "scope": "this",
    }
    form.update({name: str(value) for name, value in changes.items()})
    return form


def edit_by(client, event: Event, **changes):
    return post(client, f"/events/{event.id}/edit", edit_form(event, **changes))


# Bug 1: lowering capacity while students RSVP ------------------------------------------


def test_lowering_capacity_while_students_rsvp_saves_or_is_a_clear_409(ctx, login, smtp):
    staff = make_user("staff")
    editor = login(staff)
    early, racing = students(2), students(4)
    for _ in range(ROUNDS):
        event = make_event(staff, capacity=6)
        for student in early:
            login(student).post(f"/events/{event.id}/rsvp")

        answers = run_together(
            edit_by(editor, event, capacity=4),
            *(rsvp_by(login(student), event.id) for student in racing),
        )

        edit, *student_answers = answers
        assert [answer.status_code for answer in student_answers] == [302] * len(racing)
        assert edit.status_code in (302, 409), text_of(edit)
        event = assert_counts_hold(event.id)
        if edit.status_code == 302:
            assert event.capacity == 4
        else:
            assert "people are already going" in text_of(edit)
            assert "the capacity cannot be lower" in text_of(edit)
            assert event.capacity == 6
        mail = sent_mail(smtp)
        for student in early + racing:
            told = mail[student.email]
            assert told[GOING_MAIL] + told[WAITLIST_MAIL] == 1 == told.total(), "one per RSVP"


def test_the_capacity_refusal_a_race_gives_is_the_one_a_second_later_gives(ctx, login):
    staff = make_user("staff")
    event = make_event(staff, capacity=5)
    for student in students(3):
        login(student).post(f"/events/{event.id}/rsvp")

    refused = login(staff).post(f"/events/{event.id}/edit", data=edit_form(event, capacity=2))

    assert refused.status_code == 409
    assert "3 people are already going" in text_of(refused)
    assert fresh(event.id).capacity == 5


# Bug 2: raising capacity while students RSVP and cancel --------------------------------


def test_raising_capacity_while_students_rsvp_keeps_the_count_and_mails_each_once(ctx, login, smtp):
    staff = make_user("staff")
    editor = login(staff)
    going, waiting, newcomers = students(2), students(3), students(3)
    for _ in range(ROUNDS):
        event = make_event(staff, capacity=2)
        for student in going + waiting:
            login(student).post(f"/events/{event.id}/rsvp")
        leaver = login(going[0])

        answers = run_together(
            edit_by(editor, event, capacity=6),
            post(leaver, f"/events/{event.id}/rsvp/cancel"),
            *(rsvp_by(login(student), event.id) for student in newcomers),
        )

        assert [answer.status_code for answer in answers] == [302] * len(answers)
        event = assert_counts_hold(event.id)
        assert event.capacity == 6
        final = rsvps(event.id)
        assert len(final[RsvpStatus.GOING]) == 6 and len(final[RsvpStatus.WAITLISTED]) == 1
        mail = sent_mail(smtp)
        for student in waiting:
            assert student.id in final[RsvpStatus.GOING], "the waitlist goes first"
            assert mail[student.email][PLACE_MAIL] == 1
        for student in going[1:] + waiting + newcomers:
            told_going = mail[student.email][GOING_MAIL] + mail[student.email][PLACE_MAIL]
            assert told_going == (1 if student.id in final[RsvpStatus.GOING] else 0), student.email


# The same lost updates for edit and cancel with scope "this" ---------------------------


def test_two_staff_editing_one_event_while_students_rsvp_both_count(ctx, login):
    first, second = make_user("staff"), make_user("staff")
    editors = [login(first), login(second)]
    racing = students(5)
    for _ in range(ROUNDS):
        event = make_event(first, capacity=3)
        sequence = event.sequence

        answers = run_together(
            edit_by(editors[0], event, location="Library room 2"),
            edit_by(editors[1], event, location="Student Center 110"),
            *(rsvp_by(login(student), event.id) for student in racing),
        )

        assert [answer.status_code for answer in answers] == [302] * len(answers)
        event = assert_counts_hold(event.id)
        assert event.sequence == sequence + 2, "each saved edit tells calendars once"
        assert event.location in ("Library room 2", "Student Center 110")


def test_cancelling_while_students_rsvp_tells_everyone_acknowledged_exactly_once(ctx, login, smtp):
    first, second = make_user("staff"), make_user("staff")
    cancellers = [login(first), login(second)]
    racing = students(4)
    clients = [login(student) for student in racing]
    for _ in range(ROUNDS):
        event = make_event(first, capacity=2)

        answers = run_together(
            *(post(c, f"/events/{event.id}/cancel", {"scope": "this"}) for c in cancellers),
            *(rsvp_by(client, event.id) for client in clients),
        )

        staff_answers, student_answers = answers[:2], answers[2:]
        assert sorted(answer.status_code for answer in staff_answers) == [302, 409]
        lost = next(answer for answer in staff_answers if answer.status_code == 409)
        assert "already cancelled" in text_of(lost)
        assert fresh(event.id).is_cancelled
        assert_counts_hold(event.id)
        listed = {user_id for ids in rsvps(event.id).values() for user_id in ids}
        mail = sent_mail(smtp)
        for student, answer in zip(racing, student_answers, strict=True):
            told = mail[student.email]
            if answer.status_code == 302:
                assert student.id in listed
                assert told[CANCELLED_MAIL] == 1, "told once, by whichever cancel won"
                assert told[GOING_MAIL] + told[WAITLIST_MAIL] == 1
            else:
                assert answer.status_code == 409
                assert "This event is cancelled" in text_of(answer)
                assert student.id not in listed
                assert told.total() == 0


# Bug 9: the roster saved while students check in ---------------------------------------


def roster_form(page: str) -> dict[str, list[str]]:
    """What the roster form will send back besides the ticks: whom it showed, and whom it
    showed as present."""
    return {
        name: re.findall(rf'<input type="hidden" name="{name}" value="(\d+)">', page)
        for name in ("shown", "was_present")
    }


def begun(event_id: int) -> None:
    """Move the event (RSVPs taken) so it began five minutes ago: attendance is open."""
    found = fresh(event_id)
    found.starts_at = utcnow() - timedelta(minutes=5)
    found.ends_at = found.starts_at + timedelta(hours=1)
    db.session.commit()


def attendance_of(event_id: int) -> dict[int, str]:
    db.session.rollback()
    rows = db.session.scalars(select(Attendance).where(Attendance.event_id == event_id))
    return {row.user_id: row.source for row in rows}


def test_saving_the_roster_keeps_every_check_in_made_while_it_was_open(ctx, login):
    staff = make_user("staff")
    roster_client = login(staff)
    everyone = students(6)
    came_early, checking_in, ticked, unticked = everyone[0], everyone[1:4], everyone[4], everyone[5]
    for _ in range(ROUNDS):
        event = make_event(staff)
        for student in everyone:
            login(student).post(f"/events/{event.id}/rsvp")
        begun(event.id)
        login(came_early).post(f"/events/{event.id}/check-in", data={"code": code_now(event)})
        db.session.add(Attendance(event_id=event.id, user_id=unticked.id, source="roster"))
        db.session.commit()
        page = roster_client.get(f"/events/{event.id}/attendance")
        form = roster_form(text_of(page))
        assert sorted(map(int, form["shown"])) == sorted(student.id for student in everyone)
        form["present"] = [str(came_early.id), str(ticked.id)]  # and unticks `unticked`
        code = {"code": code_now(event)}

        answers = run_together(
            post(roster_client, f"/events/{event.id}/attendance", form, follow=True),
            *(
                post(login(student), f"/events/{event.id}/check-in", code, follow=True)
                for student in checking_in
            ),
        )

        saved, *checked_in = answers
        assert saved.status_code == 200 and "Attendance saved:" in text_of(saved)
        for answer in checked_in:
            assert answer.status_code == 200 and CHECKED_IN in text_of(answer)
        came_by_code = {student.id: "self" for student in [came_early, *checking_in]}
        assert attendance_of(event.id) == came_by_code | {ticked.id: "roster"}
        message = text_of(saved).split("Attendance saved:")[1].split("<")[0]
        named = [s for s in everyone if re.search(rf"\b{re.escape(s.name)}\b", message)]
        assert set(named) <= set(checking_in), "only people who came in meanwhile are named"
        # Those who checked in before the save are named and counted; the rest came after.
        assert message.startswith(f" {2 + len(named)} present.")


def test_the_page_after_saving_names_who_checked_in_since_it_was_opened(ctx, login):
    staff = make_user("staff")
    event = make_event(staff)
    robin, sam = make_user("student", name="Robin Vale"), make_user("student", name="Sam Ortiz")
    for student in (robin, sam):
        login(student).post(f"/events/{event.id}/rsvp")
    begun(event.id)
    client = login(staff)
    form = roster_form(text_of(client.get(f"/events/{event.id}/attendance")))

    login(robin).post(f"/events/{event.id}/check-in", data={"code": code_now(event)})
    saved = client.post(
        f"/events/{event.id}/attendance",
        data={**form, "present": [str(sam.id)]},
        follow_redirects=True,
    )

    page = text_of(saved)
    assert f"Attendance saved: 2 present. {SINCE_OPENED} Robin Vale." in page
    assert attendance_of(event.id) == {robin.id: "self", sam.id: "roster"}


# A student's calendar address, made on first use ------------------------------------------


def test_two_tabs_opening_the_calendar_page_at_once_show_one_address(ctx, login):
    for student in students(ROUNDS):
        tabs = [login(student), login(student)]

        pages = run_together(*(lambda tab=tab: tab.get("/calendar/") for tab in tabs))

        assert [page.status_code for page in pages] == [200, 200]
        shown = {re.search(r"/calendar/([\w-]+)\.ics", text_of(page)).group(1) for page in pages}
        db.session.rollback()
        [feed] = db.session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == student.id))
        assert shown == {feed.token}


# Bug 10: the database connection lost in the middle of a write --------------------------


@contextmanager
def connections_ended_before(statement_start: str, every: int, url: str):
    """While active, every `every`-th statement starting with `statement_start` finds its
    server connection ended first (pg_terminate_backend from another connection, as an
    administrator, a crash or a restart would)."""
    seen = itertools.count(1)
    lock = threading.Lock()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")

    def end_connection(_connection, cursor, statement, *_args) -> None:
        if not statement.startswith(statement_start):
            return
        with lock:
            number = next(seen)
        if number % every:
            return
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(%s, 5000)", (cursor.connection.info.backend_pid,)
            )

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", end_connection)
    try:
        yield
    finally:
        sqlalchemy_event.remove(db.engine, "before_cursor_execute", end_connection)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_rsvps_whose_connection_dies_mid_write_are_503_and_the_rest_are_kept(app, ctx, login, smtp):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    racing = students(6)
    clients = [login(student) for student in racing]
    for _ in range(ROUNDS):
        event = make_event(capacity=4)

        with connections_ended_before("INSERT INTO rsvps", every=2, url=url):
            answers = run_together(*(rsvp_by(client, event.id) for client in clients))

        codes = [answer.status_code for answer in answers]
        assert set(codes) <= {302, 503}, codes
        assert 503 in codes
        listed = {user_id for ids in rsvps(event.id).values() for user_id in ids}
        for student, answer in zip(racing, answers, strict=True):
            if answer.status_code == 503:
                assert "can't reach its database" in text_of(answer)
                assert student.id not in listed, "a 503 saved nothing by halves"
            else:
                assert student.id in listed, "an acknowledged RSVP is kept"
        assert_counts_hold(event.id)

        again = [
            clients[i].post(f"/events/{event.id}/rsvp") for i, c in enumerate(codes) if c == 503
        ]
        assert {answer.status_code for answer in again} == {302}
        assert len({user_id for ids in rsvps(event.id).values() for user_id in ids}) == 6
        assert_counts_hold(event.id)
        mail = sent_mail(smtp)
        for student in racing:
            told = mail[student.email]
            assert told[GOING_MAIL] + told[WAITLIST_MAIL] == 1 == told.total(), "one per RSVP"
