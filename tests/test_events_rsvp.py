"""RSVPs: capacity, a first-come-first-served waitlist, promotion, and who sees what."""

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from crp_portal.events.models import Event, Rsvp
from crp_portal.extensions import db
from crp_portal.members.services import update_own_profile
from crp_portal.timeutil import utcnow
from tests.factories import make_event, make_user
from tests.test_concurrency import run_together

NEW_YORK = ZoneInfo("America/New_York")


def text(response) -> str:
    """The page as a person reads it (entities like &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def statuses(event) -> dict[str, list[int]]:
    rows = db.session.execute(
        select(Rsvp.status, Rsvp.user_id)
        .where(Rsvp.event_id == event.id)
        .order_by(Rsvp.queue_number)
    ).all()
    result: dict[str, list[int]] = {}
    for status, user_id in rows:
        result.setdefault(status, []).append(user_id)
    return result


def test_student_says_im_going_and_gets_a_confirmation_with_ics(ctx, login, smtp):
    event = make_event(capacity=10)
    student = make_user("student", email="kai@example.edu")
    response = login(student).post(f"/events/{event.id}/rsvp", follow_redirects=True)
    assert b"You're going." in response.data
    [message] = smtp.to("kai@example.edu")
    assert message["Subject"].startswith("You're going: Tuesday group")
    attachment = next(part for part in message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    db.session.refresh(event)
    assert event.going_count == 1


def test_the_confirmation_is_made_before_the_lock_and_shows_a_change_made_meanwhile(
    ctx, login, smtp, monkeypatch
):
    """RSVPs to an event queue behind its row lock, so the "you're going" email is rendered
    before the lock is taken; if the event changed in between (staff moved it to another
    room), the email and its .ics say where it is now."""
    from crp_portal.events import rsvp as rsvp_service

    event = make_event(capacity=10, location="Room 3")
    student = make_user("student", email="kai@example.edu")
    steps = []
    real_render, real_lock = rsvp_service.render_mail, rsvp_service.locked_event

    def render_mail(*args, **kwargs):
        steps.append("render")
        return real_render(*args, **kwargs)

    def locked_event(event_id, **kwargs):
        steps.append("lock")
        with db.engine.begin() as staff_connection:  # staff save a new room meanwhile
            staff_connection.execute(
                update(Event).where(Event.id == event_id).values(location="Room 12")
            )
        return real_lock(event_id, **kwargs)

    monkeypatch.setattr(rsvp_service, "render_mail", render_mail)
    monkeypatch.setattr(rsvp_service, "locked_event", locked_event)
    login(student).post(f"/events/{event.id}/rsvp")
    assert steps == ["render", "lock", "render"]
    [message] = smtp.to("kai@example.edu")
    assert "Place: Room 12" in message.get_body(("plain",)).get_content()
    ics = next(message.iter_attachments()).get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "LOCATION:Room 12" in ics and "Room 3" not in ics


def test_rsvp_twice_changes_nothing(ctx, login, smtp):
    event = make_event(capacity=10)
    client = login(make_user("student", email="kai@example.edu"))
    client.post(f"/events/{event.id}/rsvp")
    client.post(f"/events/{event.id}/rsvp")
    db.session.refresh(event)
    assert event.going_count == 1
    assert len(smtp.to("kai@example.edu")) == 1


def test_beyond_capacity_students_join_the_waitlist_in_order(ctx, login, smtp):
    event = make_event(capacity=1)
    first, second, third = (make_user("student", email=f"s{n}@example.edu") for n in range(3))
    login(first).post(f"/events/{event.id}/rsvp")
    page = login(second).post(f"/events/{event.id}/rsvp", follow_redirects=True)
    assert "you're on the waitlist" in text(page)
    assert "number 1" in text(page)
    third_page = login(third).post(f"/events/{event.id}/rsvp", follow_redirects=True)
    assert "number 2" in text(third_page)
    assert smtp.to("s1@example.edu")[0]["Subject"].startswith("You're on the waitlist")


def test_cancelling_promotes_the_first_waitlisted_and_emails_them(ctx, login, smtp):
    event = make_event(capacity=1)
    going = make_user("student", email="going@example.edu")
    waiting = make_user("student", email="waiting@example.edu")
    later = make_user("student", email="later@example.edu")
    for student in (going, waiting, later):
        login(student).post(f"/events/{event.id}/rsvp")
    response = login(going).post(f"/events/{event.id}/rsvp/cancel", follow_redirects=True)
    assert b"no longer on the list" in response.data
    promoted = [
        m for m in smtp.to("waiting@example.edu") if m["Subject"].startswith("You have a place")
    ]
    assert len(promoted) == 1
    assert any(
        part.get_content_type() == "text/calendar" for part in promoted[0].iter_attachments()
    )
    assert statuses(event) == {
        "cancelled": [going.id],
        "going": [waiting.id],
        "waitlisted": [later.id],
    }
    assert b"You're going." in login(waiting).get(f"/events/{event.id}").data


def test_no_rsvp_after_deadline_to_cancelled_or_past_events(ctx, login):
    student = make_user("student")
    client = login(student)
    closed = make_event()
    closed.rsvp_deadline = utcnow() - timedelta(hours=1)
    cancelled = make_event(title="Cancelled one")
    cancelled.status = "cancelled"
    past = make_event()
    past.starts_at, past.ends_at = (
        utcnow() - timedelta(days=2),
        utcnow() - timedelta(days=2, hours=-1),
    )
    db.session.commit()
    assert b"RSVPs closed on" in client.post(f"/events/{closed.id}/rsvp").data
    cancelled_response = client.post(f"/events/{cancelled.id}/rsvp")
    assert cancelled_response.status_code == 409
    assert b"This event is cancelled" in cancelled_response.data
    assert b"already started or ended" in client.post(f"/events/{past.id}/rsvp").data
    assert db.session.scalars(select(Rsvp)).all() == []


def test_cancelling_an_rsvp_you_do_not_have_is_a_clear_404(ctx, login):
    event = make_event()
    response = login(make_user("student")).post(f"/events/{event.id}/rsvp/cancel")
    assert response.status_code == 404
    assert b"You are not on the list for this event." in response.data


def test_nobody_can_rsvp_for_someone_else(ctx, login):
    event = make_event()
    victim = make_user("student")
    attacker = login(make_user("student"))
    attacker.post(f"/events/{event.id}/rsvp", data={"user_id": victim.id})
    assert statuses(event) == {"going": [victim.id + 1]}


def test_online_link_only_for_people_going_and_staff(ctx, login):
    staff = make_user("staff")
    event = make_event(staff, online_link="https://meet.example.edu/secret-room")
    student = make_user("student")
    client = login(student)
    assert b"secret-room" not in client.get(f"/events/{event.id}").data
    assert b"The link is shown once you're going." in client.get(f"/events/{event.id}").data
    client.post(f"/events/{event.id}/rsvp")
    assert b"secret-room" in client.get(f"/events/{event.id}").data
    assert b"secret-room" in login(staff).get(f"/events/{event.id}").data
    assert b"secret-room" not in client.get("/events/").data


def test_students_see_a_count_and_only_opted_in_first_names(ctx, login):
    shown = make_event(show_attendee_names=True)
    hidden = make_event(title="Quiet one")
    willing = make_user("student", name="Noor Haddad")
    shy = make_user("student", name="Kai Nguyen")
    update_own_profile(willing, show_first_name_to_peers=True)
    db.session.commit()
    for student in (willing, shy):
        login(student).post(f"/events/{shown.id}/rsvp")
        login(student).post(f"/events/{hidden.id}/rsvp")
    viewer = login(make_user("student"))
    shown_page = viewer.get(f"/events/{shown.id}").get_data(as_text=True)
    assert "2 going" in shown_page and "Noor" in shown_page and "Kai" not in shown_page
    hidden_page = viewer.get(f"/events/{hidden.id}").get_data(as_text=True)
    assert "2 going" in hidden_page and "Noor" not in hidden_page


def test_staff_see_everyone_going_on_the_roster(ctx, login):
    staff = make_user("staff")
    event = make_event(staff)
    login(make_user("student", name="Kai Nguyen")).post(f"/events/{event.id}/rsvp")
    assert b"Kai Nguyen" in login(staff).get(f"/events/{event.id}/attendance").data


def test_my_events_lists_going_waitlisted_and_attended(ctx, login):
    student = make_user("student")
    client = login(student)
    going = make_event(title="Going one", capacity=5)
    full = make_event(title="Full one", capacity=1)
    login(make_user("student")).post(f"/events/{full.id}/rsvp")
    client.post(f"/events/{going.id}/rsvp")
    client.post(f"/events/{full.id}/rsvp")
    page = client.get("/events/mine").get_data(as_text=True)
    going_section, rest = page.split("On the waitlist", 1)
    assert "Going one" in going_section and "Full one" in rest.split("Past events")[0]


def test_fifty_parallel_rsvps_fill_ten_places_and_queue_the_rest(app, ctx, login):
    event = make_event(capacity=10)
    students = [make_user("student") for _ in range(50)]
    clients = [login(student) for student in students]
    path = f"/events/{event.id}/rsvp"

    def going(client):
        return lambda: client.post(path)

    responses = run_together(*(going(client) for client in clients))
    assert [r.status_code for r in responses] == [302] * 50
    db.session.expire_all()
    result = statuses(event)
    assert len(result["going"]) == 10 and len(result["waitlisted"]) == 40
    assert db.session.get(Event, event.id).going_count == 10

    leaving = result["going"][:3]
    for user_id in leaving:
        login(next(s for s in students if s.id == user_id)).post(f"/events/{event.id}/rsvp/cancel")
    after = statuses(event)
    assert set(after["going"]) == set(result["going"][3:]) | set(result["waitlisted"][:3])
    assert after["waitlisted"] == result["waitlisted"][3:]
    assert db.session.get(Event, event.id).going_count == 10


def test_the_database_refuses_overbooking_even_without_the_service(ctx):
    import pytest
    from sqlalchemy.exc import IntegrityError

    event = make_event(capacity=1)
    event.going_count = 2
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_browser_tab_title_is_neutral_for_students_by_default(ctx, login):
    event = make_event(title="Recovery peer circle", public_title="Thursday circle")
    student = make_user("student")
    page = text(login(student).get(f"/events/{event.id}"))
    assert "<title>Thursday circle ·" in page
    update_own_profile(student, show_real_titles=True)
    db.session.commit()
    assert "<title>Recovery peer circle ·" in text(login(student).get(f"/events/{event.id}"))


def test_home_page_shows_a_students_next_events_and_staff_this_week(ctx, login, monkeypatch):
    event = make_event(title="Board game night")
    student = make_user("student")
    client = login(student)
    assert "You haven't said you're going" in text(client.get("/"))
    client.post(f"/events/{event.id}/rsvp")
    starts = event.starts_at
    monkeypatch.setattr("crp_portal.home.routes.utcnow", lambda: starts - timedelta(hours=1))
    monkeypatch.setattr(
        "crp_portal.home.routes.local_today", lambda: starts.astimezone(NEW_YORK).date()
    )
    assert "Board game night" in text(client.get("/"))
    staff_home = text(login(make_user("staff")).get("/"))
    assert "Board game night" in staff_home and "1 going" in staff_home
