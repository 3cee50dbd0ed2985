"""Staff create, repeat, edit, duplicate and cancel events."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crp_portal.errors import Conflict, DomainError
from crp_portal.events.models import Event
from crp_portal.events.services import (
    THIS_AND_FOLLOWING,
    THIS_ONE,
    cancel_event,
    create_event,
    details_of,
    update_event,
)
from crp_portal.extensions import db
from crp_portal.timeutil import local_today
from tests.factories import event_details, make_event, make_user

NEW_YORK = ZoneInfo("America/New_York")


def event_form() -> dict[str, str]:
    """A valid new-event form for five days ahead in the program's own calendar."""
    return {
        "kind": "sober_social",
        "title": "Board game night",
        "public_title": "Game night",
        "description": "Bring a **friend**. <script>alert(1)</script>",
        "day": (local_today() + timedelta(days=5)).isoformat(),
        "start_time": "19:00",
        "end_time": "22:00",
        "location": "Student Center lounge",
        "online_link": "",
        "capacity": "20",
        "rsvp_deadline": "",
    }


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def test_staff_create_an_event_and_students_see_it(ctx, login):
    staff = make_user("staff")
    response = login(staff).post("/events/new", data=event_form(), follow_redirects=True)
    assert b"Event added." in response.data
    page = login(make_user("student")).get("/events/").get_data(as_text=True)
    assert "Board game night" in page and "7:00 PM" in page and "20 of 20 places left" in page


def test_description_markdown_is_rendered_and_sanitised(ctx, login):
    staff = make_user("staff")
    login(staff).post("/events/new", data=event_form())
    event = db.session.scalar(select(Event))
    page = login(make_user("student")).get(f"/events/{event.id}").get_data(as_text=True)
    assert "<strong>friend</strong>" in page
    assert "<script>alert(1)</script>" not in page


SHAPE, RULE = 200, 422  # the form's own checks, and the service's rules (unit_of_work)


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        ({"end_time": "18:00"}, "The event must end after it starts.", RULE),
        ({"location": ""}, "Give a place, an online link, or both.", RULE),
        (
            {"online_link": "javascript:alert(1)"},
            "Enter a full web address starting with https://",
            SHAPE,
        ),
        ({"capacity": "9" * 400}, "Enter a whole number from 1 to 10000.", SHAPE),
        ({"capacity": "0"}, "Enter a whole number from 1 to 10000.", SHAPE),
        ({"day": "2026-02-30"}, "Not a valid date value.", SHAPE),
        ({"title": "t" * 300}, "Use at most 120 characters.", SHAPE),
        ({"kind": "rave"}, "Not a valid choice.", SHAPE),
        ({"repeats": "1"}, "Choose the last date of the series.", SHAPE),
    ],
)
def test_bad_event_input_is_explained_and_nothing_saved(ctx, login, changes, message, status):
    response = login(make_user("staff")).post("/events/new", data={**event_form(), **changes})
    assert response.status_code == status
    assert message.encode() in response.data
    assert event_count() == 0


def test_rsvp_deadline_after_the_start_is_refused(ctx, login):
    form = event_form()
    data = {**form, "rsvp_deadline": f"{form['day']}T20:00"}
    response = login(make_user("staff")).post("/events/new", data=data)
    assert b"The RSVP deadline must be before the event starts." in response.data
    assert event_count() == 0


def test_weekly_seven_pm_stays_seven_pm_across_daylight_saving(ctx):
    staff = make_user("staff")
    first = date(2026, 10, 20)  # a Tuesday, before clocks go back on 1 November
    events = create_event(
        event_details(day=first, start_time=time(19, 0), end_time=time(20, 0)),
        staff,
        repeat_weeks=1,
        repeat_until=date(2026, 11, 17),
    )
    db.session.commit()
    local_starts = [event.starts_at.astimezone(NEW_YORK) for event in events]
    assert [start.date() for start in local_starts] == [
        date(2026, 10, 20), date(2026, 10, 27), date(2026, 11, 3), date(2026, 11, 10),
        date(2026, 11, 17),
    ]  # fmt: skip
    assert {(start.hour, start.minute) for start in local_starts} == {(19, 0)}
    assert events[1].starts_at.hour == 23 and events[2].starts_at.hour == 0  # UTC shifts


def test_every_other_week_series(ctx):
    events = create_event(
        event_details(day=date(2027, 1, 5)), make_user("staff"), 2, date(2027, 2, 28)
    )
    days = [e.starts_at.astimezone(NEW_YORK).date() for e in events]
    assert days == [date(2027, 1, 5), date(2027, 1, 19), date(2027, 2, 2), date(2027, 2, 16)]
    assert len({e.checkin_secret for e in events}) == len(events)  # its own codes each time


def test_series_through_the_form(ctx, login):
    data = {
        **event_form(),
        "repeats": "1",
        "repeat_until": (local_today() + timedelta(days=40)).isoformat(),
    }
    response = login(make_user("staff")).post("/events/new", data=data, follow_redirects=True)
    assert b"6 events added." in response.data


def test_edit_this_and_following_moves_later_meetings_in_local_time(ctx):
    staff = make_user("staff")
    events = create_event(
        event_details(day=date(2026, 10, 20)),
        staff,
        repeat_weeks=1,
        repeat_until=date(2026, 11, 17),
    )
    db.session.commit()
    third = events[2]
    details = details_of(third)
    details.start_time, details.end_time = time(18, 0), time(19, 30)
    details.title = "Peer support (new time)"
    update_event(third, details, THIS_AND_FOLLOWING)
    db.session.commit()
    db.session.expire_all()
    local = [
        e.starts_at.astimezone(NEW_YORK)
        for e in db.session.scalars(select(Event).order_by(Event.starts_at))
    ]
    assert [(s.hour, s.day) for s in local] == [(19, 20), (19, 27), (18, 3), (18, 10), (18, 17)]
    titles = db.session.scalars(select(Event.title).order_by(Event.starts_at)).all()
    assert titles[:2] == ["Peer support group"] * 2
    assert titles[2:] == ["Peer support (new time)"] * 3


def test_edit_this_one_leaves_the_rest_of_the_series(ctx):
    events = create_event(
        event_details(day=date(2026, 10, 20)), make_user("staff"), 1, date(2026, 11, 3)
    )
    details = details_of(events[1])
    details.location = "Library room 2"
    update_event(events[1], details, THIS_ONE)
    db.session.commit()
    places = db.session.scalars(select(Event.location).order_by(Event.starts_at)).all()
    assert places == ["Student Center 204", "Library room 2", "Student Center 204"]


def test_capacity_below_the_number_going_is_refused(ctx, login):
    staff = make_user("staff")
    event = make_event(staff, capacity=5)
    for _ in range(3):
        login(make_user("student")).post(f"/events/{event.id}/rsvp")
    data = {
        **event_form(),
        "day": details_of(event).day.isoformat(),
        "capacity": "2",
        "scope": "this",
    }
    response = login(staff).post(f"/events/{event.id}/edit", data=data)
    assert b"3 people are already going" in response.data
    db.session.refresh(event)
    assert event.capacity == 5 and event.title == "Peer support group"


def test_raising_capacity_promotes_the_waitlist(ctx, login, smtp):
    staff = make_user("staff")
    event = make_event(staff, capacity=1)
    login(make_user("student")).post(f"/events/{event.id}/rsvp")
    waiting = make_user("student", email="waiting@example.edu")
    login(waiting).post(f"/events/{event.id}/rsvp")
    details = details_of(event)
    details.capacity = 2
    update_event(event, details)
    with ctx_request():
        db.session.commit()
    assert any(m["Subject"].startswith("You have a place") for m in smtp.to("waiting@example.edu"))


def ctx_request():
    from flask import current_app

    return current_app.test_request_context()


def test_duplicate_prefills_a_new_event_form(ctx, login):
    staff = make_user("staff")
    event = make_event(staff, title="Sunrise hike", location="North trailhead")
    page = login(staff).get(f"/events/{event.id}/duplicate").get_data(as_text=True)
    assert "Duplicate an event" in page
    assert 'value="Sunrise hike"' in page and 'value="North trailhead"' in page
    assert event_count() == 1


def test_cancel_one_occurrence_emails_people_on_the_list(ctx, login, smtp):
    staff = make_user("staff")
    events = create_event(event_details(), staff, 1, local_today() + timedelta(days=30))
    db.session.commit()
    student = make_user("student", email="kai@example.edu")
    login(student).post(f"/events/{events[0].id}/rsvp")
    response = login(staff).post(
        f"/events/{events[0].id}/cancel", data={"scope": "this"}, follow_redirects=True
    )
    assert b"Cancelled 1 event(s)" in response.data
    cancelled_mail = [m for m in smtp.to("kai@example.edu") if m["Subject"].startswith("Cancelled")]
    assert len(cancelled_mail) == 1
    assert "Tuesday group" in cancelled_mail[0]["Subject"]
    statuses = db.session.scalars(select(Event.status).order_by(Event.starts_at)).all()
    assert statuses[0] == "cancelled" and set(statuses[1:]) == {"scheduled"}


def test_cancel_this_and_following(ctx):
    events = create_event(
        event_details(), make_user("staff"), 1, local_today() + timedelta(days=30)
    )
    with ctx_request():
        cancelled = cancel_event(events[2], THIS_AND_FOLLOWING)
        db.session.commit()
    assert len(cancelled) == len(events) - 2


def test_unknown_event_is_a_clear_404(ctx, login):
    response = login(make_user("student")).get("/events/424242")
    assert response.status_code == 404
    assert b"There is no event with that number." in response.data


def test_services_refuse_rule_breaking_details(ctx):
    staff = make_user("staff")
    with pytest.raises(DomainError, match="end after it starts"):
        create_event(event_details(end_time=time(18, 0)), staff)
    event = make_event(staff, capacity=3)
    details = details_of(event)
    details.capacity = 0
    with pytest.raises(DomainError):
        update_event(event, details)
    assert isinstance(Conflict("x"), DomainError)
