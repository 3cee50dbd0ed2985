"""After booking: moving, cancelling, outcomes and privacy, no-show pauses, hours, reminders."""

import re
from datetime import time, timedelta

from sqlalchemy import select

from crp_portal.advising.availability import save_settings
from crp_portal.advising.models import AdvisorSettings, Appointment, AvailabilityWindow, DayOff
from crp_portal.audit.models import AuditEntry
from crp_portal.extensions import db
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_appointment, make_event, make_user, make_window
from tests.test_advising_booking import (
    advisor_with_hours,
    appointment_at,
    book,
    calendar_event,
    cell_count,
    listed_starts,
    start_of,
    text,
)

TOO_CLOSE = "It is too close to the appointment to change it online."


def reload(appointment) -> Appointment:
    db.session.expire_all()
    return db.session.get(Appointment, appointment.id)


def test_moving_an_appointment_frees_the_old_time_and_tells_both(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu")
    client = login(student)
    old_key, *_ = listed_starts(client.get(f"/advising/advisors/{advisor.id}"))
    book(client, advisor.id, old_key)
    appointment = db.session.scalars(select(Appointment)).one()
    path = f"/advising/appointments/{appointment.id}/reschedule"
    new_key = listed_starts(client.get(path))[4]

    response = client.post(path, data={"start": new_key}, follow_redirects=True)
    assert "The appointment is moved; both of you have been emailed." in text(response)
    assert reload(appointment).starts_at == start_of(new_key)
    assert cell_count() == 6
    for address in ("kai@example.edu", "ada@example.edu"):
        moved = [
            m for m in smtp.to(address) if m["Subject"].startswith("Advising appointment moved")
        ]
        assert len(moved) == 1
        assert calendar_event(moved[0])["DTSTART"].dt == start_of(new_key)
    other = login(make_user("student"))
    assert old_key in listed_starts(other.get(f"/advising/advisors/{advisor.id}"))
    assert book(other, advisor.id, old_key).status_code == 302


def test_a_move_to_a_time_that_is_not_free_keeps_the_old_time(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu")
    appointment = make_appointment(advisor, student, days_ahead=3, hour=10)
    old_start = appointment.starts_at
    other = login(make_user("student"))
    taken = listed_starts(other.get(f"/advising/advisors/{advisor.id}"))[0]
    book(other, advisor.id, taken)
    path = f"/advising/appointments/{appointment.id}/reschedule"
    client = login(student)

    refused = client.post(path, data={"start": taken})
    assert refused.status_code == 409 and "That time is not open for booking" in text(refused)
    junk = client.post(path, data={"start": "tomorrow"})
    assert junk.status_code == 400 and "Choose one of the listed times." in text(junk)
    assert reload(appointment).starts_at == old_start
    assert cell_count() == 12
    assert not [m for m in smtp.to("kai@example.edu") if "moved" in m["Subject"]]


def test_cancelling_before_the_cut_off_frees_the_time_and_tells_both(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu")
    client = login(student)
    key = listed_starts(client.get(f"/advising/advisors/{advisor.id}"))[0]
    book(client, advisor.id, key)
    appointment = db.session.scalars(select(Appointment)).one()

    response = client.post(
        f"/advising/appointments/{appointment.id}/cancel",
        data={"reason": "Exam moved"},
        follow_redirects=True,
    )
    assert "The appointment is cancelled; both of you have been emailed." in text(response)
    status = re.sub(r"<[^>]+>", "", text(response))  # the status is a chip: words in a span
    assert "Cancelled by" in status and "Exam moved" in status
    assert reload(appointment).status == "cancelled"
    assert cell_count() == 0
    for address in ("kai@example.edu", "ada@example.edu"):
        [cancelled] = [m for m in smtp.to(address) if "cancelled" in m["Subject"]]
        assert "Reason: Exam moved" in smtp.text_of(cancelled)
        assert str(calendar_event(cancelled)["STATUS"]) == "CANCELLED"
    assert key in listed_starts(client.get(f"/advising/advisors/{advisor.id}"))


def test_after_the_cut_off_the_student_is_sent_to_the_advisor_who_can_still_cancel(
    ctx, login, smtp
):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu")
    appointment = appointment_at(advisor, student, utcnow() + timedelta(hours=1))
    starts_at = appointment.starts_at
    path = f"/advising/appointments/{appointment.id}"
    client = login(student)
    page = text(client.get(path))
    assert TOO_CLOSE in page and "ada@example.edu" in page
    assert "Cancel the appointment" not in page

    for refused in (
        client.post(f"{path}/cancel", data={"reason": "Overslept"}),
        client.post(f"{path}/reschedule", data={"start": "20991201T1400Z"}),
    ):
        assert refused.status_code == 409
        assert TOO_CLOSE in text(refused)
        assert "Please contact Ada Advisor (ada@example.edu)." in text(refused)
    found = reload(appointment)
    assert (found.status, found.starts_at) == ("booked", starts_at)
    assert smtp.messages == []

    advisor_cancels = login(advisor).post(f"{path}/cancel", data={"reason": "Called in sick"})
    assert advisor_cancels.status_code == 302
    assert reload(appointment).status == "cancelled"
    assert len(smtp.to("kai@example.edu")) == 1 and len(smtp.to("ada@example.edu")) == 1


OUTCOME = {
    "status": "completed",
    "summary": "We planned your spring courses.",
    "action_items": "Email the registrar\nDrop CHEM 101 by Friday",
    "private_notes": "Seemed worried about money; follow up gently.",
}


def test_the_student_reads_the_summary_and_action_items_but_never_private_notes(ctx, login):
    advisor = advisor_with_hours()
    student = make_user("student")
    appointment = appointment_at(advisor, student, utcnow() - timedelta(hours=1))
    path = f"/advising/appointments/{appointment.id}"
    saved = login(advisor).post(f"{path}/outcome", data=OUTCOME, follow_redirects=True)
    assert "Outcome saved." in text(saved) and OUTCOME["private_notes"] in text(saved)
    assert reload(appointment).status == "completed"

    page = text(login(student).get(path))
    assert "We planned your spring courses." in page
    assert "<li>Email the registrar</li>" in page and "<li>Drop CHEM 101 by Friday</li>" in page
    assert "Completed" in page
    assert "worried about money" not in page and "Private notes" not in page
    assert "worried about money" not in text(login(student).get("/advising/appointments"))
    assert b"worried about money" not in login(student).get(f"{path}.ics").data
    assert login(student).post(f"{path}/outcome", data=OUTCOME).status_code == 403


def test_staff_overview_shows_counts_but_no_notes_summaries_or_topics(ctx, login):
    advisor = advisor_with_hours()
    student = make_user("student")
    done = appointment_at(advisor, student, utcnow() - timedelta(hours=3), topic="withdrawal")
    login(advisor).post(f"/advising/appointments/{done.id}/outcome", data=OUTCOME)
    make_appointment(advisor, student, days_ahead=5, topic="withdrawal")
    make_appointment(advisor, student, days_ahead=6, topic="withdrawal", status="cancelled")

    page = text(login(make_user("staff")).get("/advising/overview"))
    counts = "<td>1</td><td>1</td><td>0</td><td>1</td>"  # booked, completed, no-show, cancelled
    assert f'<th scope="row">Ada Advisor</th>{counts}' in page
    for private in ("worried about money", "spring courses", "registrar", "Withdrawal"):
        assert private not in page


def test_marking_completed_before_the_start_is_refused(ctx, login):
    advisor = advisor_with_hours()
    appointment = make_appointment(advisor, make_user("student"), days_ahead=2)
    path = f"/advising/appointments/{appointment.id}"
    response = login(advisor).post(f"{path}/outcome", data=OUTCOME)
    # Shown in the outcome form beside the Outcome field, the advisor's text kept.
    assert response.status_code == 409
    page = text(response)
    assert "Outcome: An appointment can be marked completed or no-show once it has started." in page
    assert OUTCOME["private_notes"] in page
    found = reload(appointment)
    assert (found.status, found.private_notes) == ("booked", "")


def test_the_advisors_student_page_is_audited_and_shows_no_recovery_data(ctx, login):
    advisor = advisor_with_hours()
    student = make_user("student", name="Noor Haddad", student_id="A0012345")
    student.profile.advisor_id = advisor.id  # staff assigned Noor to this advisor
    event = make_event(title="Recovery peer circle", public_title="Thursday circle")
    login(student).post(f"/events/{event.id}/rsvp")

    page = text(login(advisor).get(f"/advising/students/{student.id}"))
    assert "Noor Haddad" in page and "A0012345" in page
    for recovery in ("Recovery peer circle", "Thursday circle", "Peer support"):
        assert recovery not in page
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert (entry.actor_id, entry.subject_id, entry.action) == (
        advisor.id,
        student.id,
        "advising record",
    )


def test_after_two_no_shows_self_booking_pauses_but_the_advisor_can_book(app, ctx, login):
    app.config["CRP_ADVISING_NO_SHOW_LIMIT"] = 2
    advisor = advisor_with_hours()
    student = make_user("student")
    for days_ago in (7, 14):
        make_appointment(advisor, student, days_ahead=-days_ago, status="no_show")
    slots_page = login(student).get(f"/advising/advisors/{advisor.id}")
    assert "Online booking is paused after several missed appointments." in text(slots_page)
    key, other_key, *_ = listed_starts(login(advisor).get(f"/advising/students/{student.id}"))

    paused = book(login(student), advisor.id, key)
    assert paused.status_code == 403
    assert "Online booking is paused after several missed appointments." in text(paused)
    by_advisor = login(advisor).post(
        f"/advising/students/{student.id}/book?start={other_key}", data={"topic": "standing"}
    )
    assert by_advisor.status_code == 302
    booked = db.session.scalars(select(Appointment).where(Appointment.status == "booked")).all()
    assert [a.starts_at for a in booked] == [start_of(other_key)]


def window_form(**overrides):
    values = {
        "weekday": "0",
        "start_time": "09:00",
        "end_time": "12:00",
        "mode": "in_person",
        "place": "Room 3",
    }
    return values | overrides


def test_advisor_adds_and_removes_weekly_windows(ctx, login):
    advisor = make_user("advisor")
    client = login(advisor)
    backwards = client.post(
        "/advising/availability/windows", data=window_form(start_time="14:00", end_time="13:00")
    )
    assert backwards.status_code == 422
    assert "The window must end after it starts." in text(backwards)
    assert db.session.scalars(select(AvailabilityWindow)).all() == []

    added = client.post("/advising/availability/windows", data=window_form(), follow_redirects=True)
    assert "Availability added." in text(added) and "09:00–12:00" in text(added)
    window = db.session.scalars(select(AvailabilityWindow)).one()
    someone_else = login(make_user("advisor")).post(
        f"/advising/availability/windows/{window.id}/delete"
    )
    assert someone_else.status_code == 404
    removed = client.post(
        f"/advising/availability/windows/{window.id}/delete", follow_redirects=True
    )
    assert "Availability removed." in text(removed) and "No windows yet" in text(removed)
    assert db.session.scalars(select(AvailabilityWindow)).all() == []


def test_the_same_day_off_twice_is_an_error_beside_the_field(ctx, login):
    advisor = advisor_with_hours()
    client = login(advisor)
    day = local_today() + timedelta(days=9)
    form = {"day": day.isoformat(), "note": "Conference"}
    first = client.post("/advising/availability/days-off", data=form, follow_redirects=True)
    assert "Day off added." in text(first) and "(Conference)" in text(first)
    again = client.post("/advising/availability/days-off", data=form)
    assert again.status_code == 409
    assert f"{day:%a %d %b %Y} is already a day off." in text(again)
    assert len(db.session.scalars(select(DayOff)).all()) == 1
    student_view = login(make_user("student")).get(f"/advising/advisors/{advisor.id}")
    assert not [key for key in listed_starts(student_view) if start_of(key).date() == day]


def settings_form(**overrides):
    values = {"slot_minutes": "45", "buffer_minutes": "10", "min_notice_hours": "24"}
    return values | {"horizon_days": "60", "max_per_day": ""} | overrides


def test_booking_settings_refuse_odd_lengths_and_huge_numbers(ctx, login):
    advisor = make_user("advisor")
    client = login(advisor)
    odd = client.post("/advising/availability", data=settings_form(slot_minutes="7"))
    assert odd.status_code == 200 and "Use a multiple of 5 minutes." in text(odd)
    huge = client.post("/advising/availability", data=settings_form(min_notice_hours="9" * 400))
    assert huge.status_code == 200
    assert "Enter a whole number from 0 to 336." in text(huge)
    assert db.session.get(AdvisorSettings, advisor.id) is None  # still the unsaved defaults

    saved = client.post("/advising/availability", data=settings_form(), follow_redirects=True)
    assert "Booking settings saved." in text(saved)
    db.session.expire_all()
    settings = db.session.get(AdvisorSettings, advisor.id)
    assert (settings.slot_minutes, settings.buffer_minutes, settings.horizon_days) == (45, 10, 60)
    assert settings.max_per_day is None


def reminders(inbox, address: str) -> list:
    return [m for m in inbox.to(address) if m["Subject"].startswith("Reminder:")]


def first_between(keys, hours_from: float, hours_to: float) -> str:
    now = utcnow()
    low, high = timedelta(hours=hours_from), timedelta(hours=hours_to)
    return next(key for key in keys if low <= start_of(key) - now < high)


def test_reminders_go_once_to_each_side_and_again_after_a_move(app, ctx, login, smtp):
    advisor = make_user("advisor", email="ada@example.edu")
    make_window(advisor, start=time(0), end=time(23, 30))
    save_settings(advisor, min_notice_hours=0)
    student = make_user("student", email="kai@example.edu")
    appointment_at(advisor, make_user("student"), utcnow() + timedelta(hours=30))
    client = login(student)
    tomorrow = first_between(
        listed_starts(client.get(f"/advising/advisors/{advisor.id}")), 19.5, 21
    )
    book(client, advisor.id, tomorrow)
    runner = app.test_cli_runner()

    first_run = runner.invoke(args=["advising", "send-reminders"])
    assert first_run.exit_code == 0 and "Sent 1 reminder(s)." in first_run.output
    for address in ("kai@example.edu", "ada@example.edu"):
        [reminder] = reminders(smtp, address)
        assert calendar_event(reminder)["DTSTART"].dt == start_of(tomorrow)
    assert "Sent 0 reminder(s)." in runner.invoke(args=["advising", "send-reminders"]).output
    assert len(reminders(smtp, "kai@example.edu")) == 1
    assert len(reminders(smtp, "ada@example.edu")) == 1

    appointment = db.session.scalars(
        select(Appointment).where(Appointment.student_id == student.id)
    ).one()
    path = f"/advising/appointments/{appointment.id}/reschedule"
    later = first_between(listed_starts(client.get(path)), 21.5, 23)
    assert client.post(path, data={"start": later}).status_code == 302
    assert "Sent 1 reminder(s)." in runner.invoke(args=["advising", "send-reminders"]).output
    for address in ("kai@example.edu", "ada@example.edu"):
        _first, moved = reminders(smtp, address)
        assert calendar_event(moved)["DTSTART"].dt == start_of(later)


def test_an_overlapping_window_is_refused_in_place(ctx, login):
    advisor = make_user("advisor")
    client = login(advisor)
    client.post("/advising/availability/windows", data=window_form())
    response = client.post(
        "/advising/availability/windows", data=window_form(start_time="11:00", end_time="13:00")
    )
    assert "This overlaps your window from 09:00 to 12:00 that day." in text(response)
    assert len(db.session.scalars(select(AvailabilityWindow)).all()) == 1


def test_the_reschedule_page_does_not_offer_the_current_time(ctx, login):
    advisor = make_user("advisor")
    make_window(advisor)
    student = make_user("student")
    appointment = make_appointment(advisor, student, days_ahead=3, hour=10)
    offered = listed_starts(
        login(student).get(f"/advising/appointments/{appointment.id}/reschedule")
    )
    assert offered, "other times are offered"
    assert appointment.starts_at.strftime("%Y%m%dT%H%MZ") not in offered


def test_reaching_the_no_show_limit_asks_staff_to_reach_out_not_the_student(app, ctx, login, smtp):
    app.config["CRP_ADVISING_NO_SHOW_LIMIT"] = 2
    advisor = make_user("advisor")
    make_user("staff", email="coordinator@example.edu")
    student = make_user("student", name="Kai Nguyen", email="kai@example.edu")
    make_appointment(advisor, student, days_ahead=-14, status="no_show")
    missed = make_appointment(advisor, student, days_ahead=-1)
    login(advisor).post(f"/advising/appointments/{missed.id}/outcome", data={"status": "no_show"})
    [message] = smtp.to("coordinator@example.edu")
    assert message["Subject"] == "Please reach out: Kai Nguyen (advising)"
    assert "missed 2 advising appointments" in " ".join(smtp.text_of(message).split())
    assert smtp.to("kai@example.edu") == []
