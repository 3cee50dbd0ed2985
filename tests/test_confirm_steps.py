"""Moves, move-outs, removing a window, giving up a place and resending ask first.

Each action's page (a GET, reached by a link or a form without script) says what will
happen and changes nothing; its button POSTs, with the CSRF token, to the endpoint that
always did the change, which locks and re-checks as before.
"""

import html
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from crp_portal.advising.models import AvailabilityWindow
from crp_portal.events.models import Rsvp
from crp_portal.events.rsvp import rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import BedAssignment
from crp_portal.outbox.models import OutboxMessage
from crp_portal.timeutil import local_today, utcnow
from tests.factories import (
    make_appointment,
    make_event,
    make_house,
    make_term,
    make_user,
    make_window,
)
from tests.test_delivery_log import make_message, status_of
from tests.test_housing_offers import make_resident


def text(response) -> str:
    """The page's words, tags dropped and entities decoded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(True))))


def outbox_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def posts_to(response, action: str) -> bool:
    """The page holds a POST form to `action` carrying a CSRF token field."""
    page = response.get_data(True)
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    return form is not None and 'name="csrf_token"' in form.group(0)


# Housing: move and end a residency


@pytest.fixture
def housing(ctx, login):
    today = local_today()
    term = make_term("Fall 2026", today - timedelta(days=60), today + timedelta(days=60))
    maple = make_house("Maple House", rooms=1, beds_per_room=2)
    oak = make_house("Oak House", rooms=1, beds_per_room=1)
    rae = make_user("student", name="Rae Lee")
    resident = make_resident(rae, term, maple.rooms[0].beds[0])
    staff = login(make_user("staff", scopes=["housing"]))
    return term, maple, oak, resident, staff


def bed_of(assignment_id: int) -> tuple[int, str]:
    db.session.expire_all()
    found = db.session.get(BedAssignment, assignment_id)
    return found.bed_id, found.status


def test_the_board_asks_before_a_move_and_the_confirmation_moves(housing):
    _term, maple, oak, resident, staff = housing
    board = staff.get("/housing/board").get_data(True)
    action = f"/housing/assignments/{resident.id}/move"
    assert re.search(rf'<form method="get" action="{action}"', board)

    to_bed = oak.rooms[0].beds[0]
    before = outbox_count()
    page = staff.get(f"{action}?bed_id={to_bed.id}")
    assert page.status_code == 200
    words = text(page)
    assert "Move Rae Lee?" in words
    assert "Now Maple House, room 1, bed A (accessible)" in words
    assert "After the move Oak House, room 1, bed A (accessible)" in words
    assert "Maple House, room 1, bed A (accessible) becomes free on the board" in words
    assert "Rae Lee sees Oak House’s house meetings from now on" in words
    assert "Nobody is emailed" in words
    assert "moving them back while their old bed is still free" in words
    assert posts_to(page, action)
    assert bed_of(resident.id) == (maple.rooms[0].beds[0].id, "accepted")
    assert outbox_count() == before

    done = staff.post(action, data={"bed_id": to_bed.id})
    assert done.status_code == 302
    assert "Rae Lee is moved." in text(staff.get(done.headers["Location"]))
    assert bed_of(resident.id) == (to_bed.id, "accepted")
    assert outbox_count() == before


def test_the_move_page_refuses_a_taken_bed_or_none(housing):
    _term, maple, _oak, resident, staff = housing
    other = make_resident(make_user("student"), resident.term, maple.rooms[0].beds[1])
    action = f"/housing/assignments/{resident.id}/move"
    taken = staff.get(f"{action}?bed_id={other.bed_id}")
    assert taken.status_code == 409
    assert "just offered to someone else" in text(taken)
    assert staff.get(action).status_code == 400
    assert staff.get(f"{action}?bed_id={resident.bed_id}").status_code == 400
    assert bed_of(resident.id) == (maple.rooms[0].beds[0].id, "accepted")


def test_ending_a_residency_asks_for_the_date_on_a_page_that_says_what_happens(housing):
    term, _maple, _oak, resident, staff = housing
    board = staff.get("/housing/board").get_data(True)
    action = f"/housing/assignments/{resident.id}/move-out"
    assert f'href="{action}"' in board

    page = staff.get(action)
    assert page.status_code == 200
    words = text(page)
    assert "End Rae Lee’s residency?" in words
    assert "The bed shows as free on the board at once" in words
    assert "no longer sees Maple House’s house meetings" in words
    assert "Nobody is emailed" in words
    assert "It cannot be undone here" in words
    assert posts_to(page, action)
    assert bed_of(resident.id)[1] == "accepted"

    missing = staff.post(action, data={"move_out_on": ""})
    assert missing.status_code == 400
    assert "Enter the date." in text(missing)
    assert 'aria-invalid="true"' in missing.get_data(True)
    assert bed_of(resident.id)[1] == "accepted"

    done = staff.post(action, data={"move_out_on": term.ends_on.isoformat()})
    assert done.status_code == 302
    assert bed_of(resident.id)[1] == "ended"
    assert staff.get(action).status_code == 409


# Advising: remove a window


def test_removing_a_window_names_the_appointments_that_stay_booked(ctx, login):
    advisor = make_user("advisor")
    window = make_window(advisor, start=time(9), end=time(12))  # every weekday
    student = make_user("student", name="Sam Student")
    inside = make_appointment(advisor, student, days_ahead=10, hour=10)
    make_appointment(advisor, student, days_ahead=11, hour=14)  # outside the window
    client = login(advisor)
    action = f"/advising/availability/windows/{window.id}/delete"
    assert f'href="{action}"' in client.get("/advising/availability").get_data(True)

    weekday = (local_today() + timedelta(days=10)).weekday()
    db.session.expire_all()
    matching = db.session.scalar(
        select(AvailabilityWindow).where(
            AvailabilityWindow.advisor_id == advisor.id, AvailabilityWindow.weekday == weekday
        )
    )
    matching_id = matching.id
    action = f"/advising/availability/windows/{matching_id}/delete"
    page = client.get(action)
    assert page.status_code == 200
    words = text(page)
    assert "Students can no longer book these hours" in words
    assert "The 1 appointment already booked in these hours stays booked" in words
    assert "nobody is emailed" in words
    assert f'href="/advising/appointments/{inside.id}"' in page.get_data(True)
    assert "Sam Student" in words
    assert posts_to(page, action)
    assert db.session.get(AvailabilityWindow, matching_id) is not None

    done = client.post(action)
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(AvailabilityWindow, matching_id) is None
    assert client.get(action).status_code == 404
    # Another advisor's window is no window to them.
    other = make_window(make_user("advisor"), weekday=1)
    assert client.get(f"/advising/availability/windows/{other.id}/delete").status_code == 404


# Events: give up a place


def status_at(event_id: int, user_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(
        select(Rsvp.status).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
    )


def test_giving_up_a_place_says_who_gets_it_and_only_the_button_gives_it_up(ctx, login):
    event = make_event(capacity=1)
    first, second = make_user("student"), make_user("student")
    rsvp(event.id, first, utcnow())
    rsvp(event.id, second, utcnow())
    db.session.commit()
    client = login(first)
    action = f"/events/{event.id}/rsvp/cancel"
    assert f'href="{action}"' in client.get(f"/events/{event.id}").get_data(True)

    before = outbox_count()
    page = client.get(action)
    assert page.status_code == 200
    words = text(page)
    assert "Give up your place?" in words
    assert "Your seat goes to the first person on the waitlist, who is emailed" in words
    assert "You get no email about it" in words
    assert "you would be on the waitlist" in words
    assert "<title>Give up your place? Tuesday group" in page.get_data(True)
    assert posts_to(page, action)
    assert (status_at(event.id, first.id), status_at(event.id, second.id)) == (
        "going",
        "waitlisted",
    )
    assert outbox_count() == before

    waiting = login(second).get(action)
    assert "Leave the waitlist?" in text(waiting)
    assert "Number 1 on the waitlist" in text(waiting)

    assert client.post(action).status_code == 302
    assert (status_at(event.id, first.id), status_at(event.id, second.id)) == (
        "cancelled",
        "going",
    )
    assert outbox_count() == before + 1  # the promotion, and nothing to the one leaving
    assert client.get(action).status_code == 404


def test_giving_up_a_place_with_nobody_waiting_frees_the_seat(ctx, login):
    event = make_event(capacity=5)
    student = make_user("student")
    rsvp(event.id, student, utcnow())
    db.session.commit()
    words = text(login(student).get(f"/events/{event.id}/rsvp/cancel"))
    assert "Your seat is free for anyone else to take." in words
    assert status_at(event.id, student.id) == "going"


# Nudges: resend a message that needs review


def test_resend_asks_first_and_says_who_may_get_it_twice(ctx, login):
    student = make_user("student", name="Ada Reader")
    message = make_message("needs_review", user=student, attempts=1, subject="Your booking")
    client = login(make_user("staff", scopes=["nudges"]))
    log = client.get("/nudges/outbox?status=needs_review").get_data(True)
    action = f"/nudges/outbox/{message.id}/resend"
    assert f'href="{action}"' in log

    page = client.get(action)
    assert page.status_code == 200
    words = text(page)
    assert "Resend the message?" in words
    assert f"To Ada Reader, {student.email}" in words
    assert "Ada Reader gets it twice" in words
    assert "nobody else is emailed" in words
    assert "It cannot be undone once it is sent" in words
    assert posts_to(page, action)
    assert status_of(message) == "needs_review"

    assert client.post(action).status_code == 302
    assert status_of(message) == "pending"
    again = client.get(action)
    assert again.status_code == 409
    assert "nothing to resend" in text(again)
    assert client.get("/nudges/outbox/99999/resend").status_code == 404
