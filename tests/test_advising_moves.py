"""Moving an appointment shows what changes before anything moves, and the student hears
when an advisor's summary of a session is waiting (never what it says)."""

from datetime import time, timedelta

from sqlalchemy import select

from crp_portal.advising.models import Appointment
from crp_portal.extensions import db
from crp_portal.timeutil import to_local, utcnow
from tests.factories import make_appointment, make_user, make_window
from tests.test_advising_booking import (
    advisor_with_hours,
    appointment_at,
    listed_starts,
    start_of,
    text,
)
from tests.test_advising_changes import OUTCOME
from tests.test_booking_and_offer_races import post, statuses
from tests.test_concurrency import run_together

IN_PERSON_UNTIL_NOON_THEN_VIDEO = (("in_person", "Room 3", 9, 12), ("video", "Video link", 13, 17))


def reload(appointment) -> Appointment:
    db.session.expire_all()
    return db.session.get(Appointment, appointment.id)


def split_day_advisor():
    """Open every day: in person in Room 3 in the morning, by video in the afternoon."""
    advisor = make_user("advisor", email="ada@example.edu", name="Ada Advisor")
    for mode, place, start, end in IN_PERSON_UNTIL_NOON_THEN_VIDEO:
        for weekday in range(7):
            make_window(advisor, weekday, time(start), time(end), mode, place)
    return advisor


def afternoon_key(keys: list[str], appointment) -> str:
    """The first offered time on the appointment's day after 1 pm there (a video slot)."""
    day = to_local(appointment.starts_at).date()
    for key in keys:
        moment = to_local(start_of(key))
        if moment.date() == day and moment.hour >= 13:
            return key
    raise AssertionError("no afternoon time offered")


def test_choosing_a_new_time_shows_what_changes_and_moves_nothing_yet(ctx, login, smtp):
    advisor = split_day_advisor()
    student = make_user("student", email="kai@example.edu")
    appointment = make_appointment(advisor, student, days_ahead=3, hour=10)
    before = (appointment.starts_at, appointment.sequence)
    client = login(student)
    path = f"/advising/appointments/{appointment.id}/reschedule"
    choice = afternoon_key(listed_starts(client.get(path)), appointment)

    confirm = client.get(f"{path}?start={choice}")
    page = text(confirm)
    assert confirm.status_code == 200
    assert "Move the appointment?" in page
    assert "This changes how you meet: from in person to video call." in page
    assert "This changes where: Video link, not Room 3." in page
    assert "Nothing changes until you choose “Move it”." in page
    assert (reload(appointment).starts_at, reload(appointment).sequence) == before
    assert smtp.messages == []

    moved = client.post(path, data={"start": choice, "sequence": before[1]})
    assert moved.status_code == 302
    after = reload(appointment)
    assert after.mode == "video" and after.place == "Video link"
    assert after.sequence == before[1] + 1


def test_a_move_within_the_same_mode_and_place_names_no_changes_but_the_time(ctx, login):
    advisor = advisor_with_hours()
    student = make_user("student")
    appointment = make_appointment(advisor, student, days_ahead=3, hour=10)
    client = login(student)
    path = f"/advising/appointments/{appointment.id}/reschedule"
    choice = listed_starts(client.get(path))[3]
    page = text(client.get(f"{path}?start={choice}"))
    assert "Move the appointment?" in page and "This changes" not in page
    assert page.count("Room 3") == 2 and page.count("In person") == 2


def test_confirming_a_time_taken_meanwhile_is_refused_and_the_old_time_kept(ctx, login):
    advisor = advisor_with_hours()
    student = make_user("student")
    appointment = make_appointment(advisor, student, days_ahead=3, hour=10)
    client = login(student)
    path = f"/advising/appointments/{appointment.id}/reschedule"
    choice = listed_starts(client.get(path))[0]
    other = login(make_user("student"))
    assert other.post(f"/advising/advisors/{advisor.id}/book?start={choice}",
                      data={"topic": "course_planning"}).status_code == 302  # fmt: skip

    refused = client.get(f"{path}?start={choice}")
    assert refused.status_code == 409 and "That time is not open for booking" in text(refused)
    junk = client.get(f"{path}?start=soon")
    assert junk.status_code == 400 and "Choose one of the listed times." in text(junk)
    assert reload(appointment).starts_at == appointment.starts_at


def test_the_confirm_step_is_only_for_the_two_people_in_the_appointment(ctx, login):
    advisor = advisor_with_hours()
    appointment = make_appointment(advisor, make_user("student"), days_ahead=3, hour=10)
    key = (appointment.starts_at + timedelta(hours=2)).strftime("%Y%m%dT%H%MZ")
    stranger = login(make_user("student"))
    response = stranger.get(f"/advising/appointments/{appointment.id}/reschedule?start={key}")
    assert response.status_code == 404


# The summary is waiting


def test_the_student_is_told_a_summary_is_waiting_without_what_it_says(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu")
    appointment = appointment_at(advisor, student, utcnow() - timedelta(hours=1))
    client = login(advisor)
    path = f"/advising/appointments/{appointment.id}"
    assert client.post(f"{path}/outcome", data=OUTCOME).status_code == 302

    [message] = smtp.to("kai@example.edu")
    assert message["Subject"].startswith("Notes from your advising appointment: ")
    body = smtp.text_of(message)
    assert "Ada Advisor has written up your academic advising appointment" in body
    assert f"/advising/appointments/{appointment.id}" in body
    for secret in (OUTCOME["summary"], "registrar", "CHEM 101", "worried"):
        assert secret not in body and secret not in message["Subject"]
    assert smtp.to("ada@example.edu") == []

    corrected = {**OUTCOME, "summary": "We planned your spring and summer courses."}
    assert client.post(f"{path}/outcome", data=corrected).status_code == 302
    assert len(smtp.to("kai@example.edu")) == 1


def test_an_outcome_without_a_summary_or_action_items_sends_nothing(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu")
    appointment = appointment_at(advisor, student, utcnow() - timedelta(hours=1))
    only_private = {"status": "completed", "private_notes": "Quiet today."}
    path = f"/advising/appointments/{appointment.id}/outcome"
    assert login(advisor).post(path, data=only_private).status_code == 302
    assert smtp.to("kai@example.edu") == []
    assert db.session.scalars(select(Appointment)).one().status == "completed"


def test_an_outcome_saved_twice_at_once_tells_the_student_once(ctx, login, smtp):
    """A double click on "Save outcome": both requests lock the appointment in turn; the
    second finds the summary already there and emails nobody."""
    advisor = advisor_with_hours()
    clients = [login(advisor), login(advisor)]
    for number in range(3):
        student = make_user("student", email=f"kai{number}@example.edu")
        appointment = appointment_at(advisor, student, utcnow() - timedelta(hours=1 + number))
        path = f"/advising/appointments/{appointment.id}/outcome"

        responses = run_together(*(post(client, path, **OUTCOME) for client in clients))

        assert statuses(responses) == [302, 302]
        assert len(smtp.to(f"kai{number}@example.edu")) == 1
