"""Issue #17: advising and housing changes sent at the same moment, on SQLite and PostgreSQL.

Each race starts its requests on their own threads (each its own test client, so its own
database connection) behind a barrier, for a few rounds. A change reads the row it
changes under a lock, so what the database ends with is what the same requests one after
another would leave: the losers get the 409 a person gets a second later, and every
acknowledged change sends its emails once.
"""

import functools
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crp_portal.advising.models import CELL_MINUTES, Appointment, AppointmentCell, AppointmentStatus
from crp_portal.extensions import db
from crp_portal.housing.models import HOLDS_BED, BedAssignment
from crp_portal.timeutil import local_today, program_zone, utcnow
from tests.factories import (
    make_application,
    make_appointment,
    make_house,
    make_offer,
    make_term,
    make_user,
)
from tests.test_advising_booking import advisor_with_hours, listed_starts, start_of, text
from tests.test_concurrency import run_together

ROUNDS = 3
DAY_FULL = "That day is full: the advisor takes at most 1 appointment a day."
CHANGED = "This appointment changed a moment ago"
NOT_BOOKED = "This appointment is no longer booked, so it cannot change."
NOT_OPEN = "This offer is no longer open."
WELCOME = "You accepted the bed. Welcome home! A confirmation is on its way."
DECLINED = "You declined the offer."


def emails(smtp, subject_start: str) -> int:
    """Messages delivered so far whose subject starts so (each side of a change counts)."""
    return sum(1 for m in smtp.messages if m["Subject"].startswith(subject_start))


def later_starts(page) -> list[str]:
    """The times a page offers from two days on, past the students' change cut-off."""
    return [key for key in listed_starts(page) if start_of(key) > utcnow() + timedelta(days=2)]


def post(client, path: str, **form):
    """One request for `run_together`, to send when the barrier opens."""
    return functools.partial(client.post, path, data=form)


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


# Advising


def page_version(response) -> dict:
    """The appointment version a page's forms send back (absent: the request sends none)."""
    found = re.search(r'name="sequence" value="(\d+)"', response.get_data(as_text=True))
    return {"sequence": found.group(1)} if found else {}


def assert_each_appointment_holds_exactly_its_own_time() -> None:
    """A booked appointment's cells are its own span in 5-minute steps; a cancelled one's
    are gone. (Extra cells would be times shown free that answer 409.)"""
    db.session.expire_all()
    for appointment in db.session.scalars(select(Appointment)):
        cells = sorted(
            db.session.scalars(
                select(AppointmentCell.cell_start).where(
                    AppointmentCell.appointment_id == appointment.id
                )
            )
        )
        expected = []
        if appointment.status != AppointmentStatus.CANCELLED:
            moment = appointment.starts_at
            while moment < appointment.ends_at:
                expected.append(moment)
                moment += timedelta(minutes=CELL_MINUTES)
        assert cells == expected, f"appointment {appointment.id} ({appointment.status})"


def test_students_booking_one_capped_day_at_once_get_the_cap_and_no_more(ctx, login, smtp):
    advisor = advisor_with_hours(max_per_day=1)
    students = [make_user("student") for _ in range(6)]
    clients = [login(student) for student in students]
    by_day: dict = {}
    for key in listed_starts(clients[0].get(f"/advising/advisors/{advisor.id}")):
        by_day.setdefault(start_of(key).astimezone(program_zone()).date(), []).append(key)
    days = [day for day in sorted(by_day) if len(by_day[day]) >= len(clients)][:ROUNDS]

    for day in days:
        keys = by_day[day][: len(clients)]
        paths = [f"/advising/advisors/{advisor.id}/book?start={key}" for key in keys]
        responses = run_together(
            *(
                post(client, path, topic="registration")
                for client, path in zip(clients, paths, strict=True)
            )
        )
        assert statuses(responses) == [302] + [409] * 5
        assert all(DAY_FULL in text(r) for r in responses if r.status_code == 409)

    db.session.expire_all()
    booked_days = [
        a.starts_at.astimezone(program_zone()).date()
        for a in db.session.scalars(select(Appointment).where(Appointment.advisor_id == advisor.id))
    ]
    assert sorted(booked_days) == days, "one booking a day, the cap"
    assert emails(smtp, "Advising appointment booked") == 2 * len(days)
    assert_each_appointment_holds_exactly_its_own_time()


@pytest.mark.parametrize("from_the_page", [True, False], ids=["page", "no-version"])
def test_moving_one_appointment_to_four_times_at_once(ctx, login, smtp, from_the_page):
    """From the reschedule confirm step one move wins; without the page's version the moves take
    turns. Either way the appointment holds its own time only, and each move emails once."""
    advisor = advisor_with_hours()
    moved = 0
    for round_number in range(ROUNDS):
        student = make_user("student")
        appointment = make_appointment(advisor, student, days_ahead=3 + round_number, hour=10)
        clients = [login(student) for _ in range(4)]
        path = f"/advising/appointments/{appointment.id}/reschedule"
        keys = later_starts(clients[0].get(path))[:4]
        # Each time's confirm step carries the version the page showed.
        version = page_version(clients[0].get(f"{path}?start={keys[0]}")) if from_the_page else {}

        responses = run_together(
            *(
                post(client, path, start=key, **version)
                for client, key in zip(clients, keys, strict=True)
            )
        )
        won = [r for r in responses if r.status_code == 302]
        moved += len(won)
        if from_the_page:
            assert statuses(responses) == [302, 409, 409, 409]
            assert all(CHANGED in text(r) for r in responses if r.status_code == 409)
        else:
            assert won and all(r.status_code in (302, 409) for r in responses)
        db.session.expire_all()
        now_at = db.session.get(Appointment, appointment.id).starts_at
        assert now_at in [start_of(key) for key in keys]
        free_now = listed_starts(
            login(make_user("student")).get(f"/advising/advisors/{advisor.id}")
        )
        assert set(keys) - {key for key in keys if start_of(key) == now_at} <= set(free_now)

    assert_each_appointment_holds_exactly_its_own_time()
    assert emails(smtp, "Advising appointment moved") == 2 * moved


@pytest.mark.parametrize("from_the_page", [True, False], ids=["page", "no-version"])
def test_a_move_and_a_cancel_at_once(ctx, login, smtp, from_the_page):
    """The student moves while the advisor cancels. From the page one of them wins; without
    the page's version a cancel after the move still goes through. A cancelled appointment
    holds no time, and each side hears of exactly what happened."""
    advisor = advisor_with_hours()
    advisor_client = login(advisor)
    moves = cancels = 0
    for round_number in range(ROUNDS):
        student = make_user("student")
        appointment = make_appointment(advisor, student, days_ahead=3 + round_number, hour=10)
        student_client = login(student)
        path = f"/advising/appointments/{appointment.id}"
        move_page = student_client.get(f"{path}/reschedule")
        key = later_starts(move_page)[0]
        confirm_page = student_client.get(f"{path}/reschedule?start={key}")
        move_version = page_version(confirm_page) if from_the_page else {}
        cancel_version = page_version(advisor_client.get(path)) if from_the_page else {}

        move, cancel = run_together(
            post(student_client, f"{path}/reschedule", start=key, **move_version),
            post(advisor_client, f"{path}/cancel", reason="Ill", **cancel_version),
        )
        assert cancel.status_code == 302 or move.status_code == 302
        moves += move.status_code == 302
        cancels += cancel.status_code == 302
        db.session.expire_all()
        final = db.session.get(Appointment, appointment.id)
        if from_the_page:
            assert statuses([move, cancel]) == [302, 409]
            loser = move if cancel.status_code == 302 else cancel
            assert NOT_BOOKED in text(loser) or CHANGED in text(loser)
        if cancel.status_code == 302:
            assert final.status == AppointmentStatus.CANCELLED
            assert move.status_code == 409 or final.starts_at == start_of(key)
        else:
            assert final.status == "booked" and final.starts_at == start_of(key)
            assert NOT_BOOKED in text(cancel) or CHANGED in text(cancel)

    assert_each_appointment_holds_exactly_its_own_time()
    assert emails(smtp, "Advising appointment moved") == 2 * moves
    assert emails(smtp, "Advising appointment cancelled") == 2 * cancels


def test_one_appointment_cancelled_three_times_at_once_is_cancelled_and_emailed_once(
    ctx, login, smtp
):
    advisor = advisor_with_hours()
    for round_number in range(ROUNDS):
        student = make_user("student")
        appointment = make_appointment(advisor, student, days_ahead=3 + round_number, hour=10)
        path = f"/advising/appointments/{appointment.id}"
        clients = [login(student), login(student), login(advisor)]
        versions = [page_version(client.get(path)) for client in clients]

        responses = run_together(
            *(
                post(client, f"{path}/cancel", **version)
                for client, version in zip(clients, versions, strict=True)
            )
        )
        assert statuses(responses) == [302, 409, 409]
        assert all(NOT_BOOKED in text(r) for r in responses if r.status_code == 409)

    assert_each_appointment_holds_exactly_its_own_time()
    assert emails(smtp, "Advising appointment cancelled") == 2 * ROUNDS


# Housing


@pytest.fixture
def term(ctx):
    today = local_today()
    return make_term("Fall 2026", today - timedelta(days=60), today + timedelta(days=60))


@pytest.fixture
def house(ctx):
    return make_house("Maple House", rooms=1, beds_per_room=ROUNDS)


def offered(term, house) -> BedAssignment:
    """A new student offered the next free bed of the house."""
    student = make_user("student")
    return make_offer(make_application(student, term, house))


def assignment_status(assignment_id: int) -> str:
    db.session.expire_all()
    return db.session.get(BedAssignment, assignment_id).status


def live_beds() -> list[int]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(BedAssignment.bed_id).where(BedAssignment.status.in_(HOLDS_BED)))
    )


def test_one_offer_accepted_five_times_at_once_is_accepted_once(term, house, login, smtp):
    for _ in range(ROUNDS):
        assignment = offered(term, house)
        clients = [login(assignment.student) for _ in range(5)]
        path = f"/housing/offers/{assignment.id}/accept"

        responses = run_together(*(post(client, path) for client in clients))
        assert statuses(responses) == [302] + [409] * 4
        for refused in (r for r in responses if r.status_code == 409):
            assert f"{NOT_OPEN} You have accepted it." in text(refused)
        assert assignment_status(assignment.id) == "accepted"

    assert len(live_beds()) == ROUNDS
    assert emails(smtp, "Housing assignment confirmed") == ROUNDS


def test_accepting_and_declining_one_offer_at_once_acknowledges_one(term, house, login, smtp):
    accepted = 0
    for _ in range(ROUNDS):
        assignment = offered(term, house)
        accepting, declining = login(assignment.student), login(assignment.student)
        path = f"/housing/offers/{assignment.id}"

        accept, decline = run_together(
            post(accepting, f"{path}/accept"), post(declining, f"{path}/decline")
        )
        assert statuses([accept, decline]) == [302, 409]
        if accept.status_code == 302:
            accepted += 1
            assert WELCOME in text(accepting.get("/housing/"))
            assert f"{NOT_OPEN} You have accepted it." in text(decline)
            assert assignment_status(assignment.id) == "accepted"
            assert assignment.bed_id in live_beds()
        else:
            assert DECLINED in text(declining.get("/housing/"))
            assert f"{NOT_OPEN} You have declined it." in text(accept)
            assert assignment_status(assignment.id) == "declined"
            assert assignment.bed_id not in live_beds()

    assert emails(smtp, "Housing assignment confirmed") == accepted
