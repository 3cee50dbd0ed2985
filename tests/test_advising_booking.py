"""Booking advising appointments: open times, confirmations, refusals, races and page costs."""

import html
import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from crp_portal.advising.availability import save_settings
from crp_portal.advising.models import Appointment, AppointmentCell
from crp_portal.extensions import db
from crp_portal.timeutil import format_time, program_zone, utcnow
from tests.factories import make_appointment, make_user, make_window
from tests.test_concurrency import run_together

NOT_YOURS = "There is no appointment with that number in your list."
NOT_OPEN = "That time is not open for booking"
TAKEN = "That time was just taken"
MEMBERS_ONLY = "Advising appointments are for current program members only."


def text(response) -> str:
    """The page as a person reads it (entities like &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def listed_starts(response) -> list[str]:
    """The slot keys a page offers: booking links (?start=…) or reschedule buttons."""
    page = response.get_data(as_text=True)
    return re.findall(r'(?:start=|name="start" value=")(\d{8}T\d{4}Z)', page)


def start_of(key: str) -> datetime:
    return datetime.strptime(key, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def key_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def calendar_event(message):
    """The VEVENT in a message's .ics attachment, parsed as a calendar app would."""
    [attachment] = [
        p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    return event


def appointment_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Appointment))


def cell_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AppointmentCell))


def book(client, advisor_id: int, key: str, topic: str = "course_planning"):
    return client.post(f"/advising/advisors/{advisor_id}/book?start={key}", data={"topic": topic})


def appointment_at(advisor, student, starts_at: datetime, **fields):
    """An appointment at an exact moment, e.g. an hour from now or an hour ago."""
    starts_at = starts_at.replace(second=0, microsecond=0)
    return make_appointment(
        advisor, student, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), **fields
    )


def advisor_with_hours(email="ada@example.edu", name="Ada Advisor", **settings):
    """An advisor open every day 9:00–17:00, 30-minute sessions, 12 hours' notice."""
    advisor = make_user("advisor", email=email, name=name)
    make_window(advisor)
    if settings:
        save_settings(advisor, **settings)
        db.session.commit()
    return advisor


def test_student_books_an_open_time_and_both_sides_get_a_calendar_invitation(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    client = login(student)
    page = client.get(f"/advising/advisors/{advisor.id}")
    assert "Book with Ada Advisor" in text(page)
    key = listed_starts(page)[3]
    assert format_time(start_of(key)) in text(page)
    form = client.get(f"/advising/advisors/{advisor.id}/book?start={key}")
    assert "What would you like to talk about?" in text(form)

    response = client.post(
        f"/advising/advisors/{advisor.id}/book?start={key}",
        data={"topic": "registration", "note": "Thinking of dropping a class"},
        follow_redirects=True,
    )
    assert "Your appointment is booked. A confirmation is on its way." in text(response)
    assert "Registration" in text(response) and "Thinking of dropping a class" in text(response)
    [appointment] = db.session.scalars(select(Appointment)).all()
    assert appointment.starts_at == start_of(key)
    assert cell_count() == 6
    for address in ("kai@example.edu", "ada@example.edu"):
        [message] = smtp.to(address)
        assert message["Subject"].startswith("Advising appointment booked:")
        event = calendar_event(message)
        assert event["DTSTART"].dt == start_of(key)
        assert event["DTEND"].dt == start_of(key) + timedelta(minutes=30)
    assert "Academic advising with Ada Advisor" in str(calendar_event(smtp.to("kai@")[0]))
    assert "Advising: Kai Nguyen" in str(calendar_event(smtp.to("ada@")[0]))
    other = login(make_user("student")).get(f"/advising/advisors/{advisor.id}")
    assert key not in listed_starts(other)


def test_times_outside_hours_or_in_the_past_are_refused(ctx, login):
    advisor = advisor_with_hours()
    client = login(make_user("student"))
    zone = program_zone()
    in_two_days = (utcnow() + timedelta(days=2)).astimezone(zone).date()
    early = datetime.combine(in_two_days, time(7), tzinfo=zone)
    outside = book(client, advisor.id, key_of(early))
    assert outside.status_code == 409
    assert NOT_OPEN in text(outside)
    yesterday = datetime.combine(in_two_days - timedelta(days=3), time(10), tzinfo=zone)
    past = book(client, advisor.id, key_of(yesterday))
    assert past.status_code == 400
    assert "That time has passed. Choose a time in the future." in text(past)
    assert appointment_count() == 0 and cell_count() == 0


def test_a_time_inside_the_minimum_notice_is_refused_until_the_notice_allows_it(ctx, login):
    advisor = advisor_with_hours(min_notice_hours=0)
    client = login(make_user("student"))
    an_hour_away = utcnow() + timedelta(hours=1)
    keys = listed_starts(client.get(f"/advising/advisors/{advisor.id}"))
    soon = next(key for key in keys if start_of(key) > an_hour_away)
    save_settings(advisor, min_notice_hours=48)
    db.session.commit()
    assert soon not in listed_starts(client.get(f"/advising/advisors/{advisor.id}"))
    too_soon = book(client, advisor.id, soon)
    assert too_soon.status_code == 409 and NOT_OPEN in text(too_soon)
    assert appointment_count() == 0 and cell_count() == 0

    save_settings(advisor, min_notice_hours=0)
    db.session.commit()
    assert book(client, advisor.id, soon).status_code == 302
    assert appointment_count() == 1


def test_a_junk_start_asks_for_a_listed_time_and_saves_nothing(ctx, login):
    advisor = advisor_with_hours()
    client = login(make_user("student"))
    for junk in ("junk", "20261301T0900Z", "", "2026-12-01T14:00Z", "9" * 400):
        response = client.post(
            f"/advising/advisors/{advisor.id}/book?start={junk}",
            data={"topic": "registration"},
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert "Choose one of the listed times." in text(response), junk
    assert appointment_count() == 0


def test_only_current_members_can_be_booked(ctx, login):
    advisor = advisor_with_hours()
    key = listed_starts(login(make_user("student")).get(f"/advising/advisors/{advisor.id}"))[0]
    for status in ("alumni", "inactive"):
        former = make_user("student", status=status)
        response = book(login(former), advisor.id, key)
        assert response.status_code == 400
        assert MEMBERS_ONLY in text(response)
        former.profile.advisor_id = advisor.id  # their advisor, so the rule is what refuses
        db.session.commit()
        by_advisor = login(advisor).post(
            f"/advising/students/{former.id}/book?start={key}", data={"topic": "registration"}
        )
        assert by_advisor.status_code == 400 and MEMBERS_ONLY in text(by_advisor)
    colleague = make_user("advisor")
    for_colleague = login(advisor).post(
        f"/advising/students/{colleague.id}/book?start={key}", data={"topic": "registration"}
    )
    assert for_colleague.status_code == 404
    assert "There is no student with that number." in text(for_colleague)
    assert book(login(colleague), advisor.id, key).status_code == 403
    assert appointment_count() == 0


def test_a_student_cannot_see_move_or_cancel_someone_elses_appointment(ctx, login):
    advisor = advisor_with_hours()
    owner = make_user("student")
    appointment = make_appointment(advisor, owner, days_ahead=5, hour=10)
    path = f"/advising/appointments/{appointment.id}"
    starts_at = appointment.starts_at
    free = listed_starts(login(owner).get(f"/advising/advisors/{advisor.id}"))[0]
    snoop = login(make_user("student"))
    for response in (
        snoop.get(path),
        snoop.get(f"{path}.ics"),
        snoop.get(f"{path}/reschedule"),
        snoop.post(f"{path}/reschedule", data={"start": free}),
        snoop.post(f"{path}/cancel", data={"reason": "not mine"}),
    ):
        assert response.status_code == 404
        assert NOT_YOURS in text(response)
    db.session.expire_all()
    found = db.session.get(Appointment, appointment.id)
    assert (found.status, found.starts_at) == ("booked", starts_at)
    assert login(owner).get(path).status_code == 200


def test_advisor_books_a_member_from_their_page(ctx, login, smtp):
    advisor = advisor_with_hours()
    student = make_user("student", email="noor@example.edu", name="Noor Haddad")
    student.profile.advisor_id = advisor.id  # staff assigned Noor to this advisor
    db.session.commit()
    client = login(advisor)
    found = client.get("/advising/students?q=noor")
    assert "Noor Haddad" in text(found)
    key = listed_starts(client.get(f"/advising/students/{student.id}"))[2]
    response = client.post(
        f"/advising/students/{student.id}/book?start={key}",
        data={"topic": "standing"},
        follow_redirects=True,
    )
    assert "Booked with Noor Haddad; you both have a confirmation." in text(response)
    appointment = db.session.scalars(select(Appointment)).one()
    assert (appointment.student_id, appointment.booked_by_id) == (student.id, advisor.id)
    assert appointment.starts_at == start_of(key)
    assert len(smtp.to("noor@example.edu")) == 1 and len(smtp.to("ada@example.edu")) == 1
    assert "Academic standing or probation" in text(login(student).get("/advising/appointments"))


# Real parallel requests: the database, not the code path, keeps one booking per time.


def test_thirty_students_booking_one_time_at_once_get_one_booking(ctx, login):
    advisor = advisor_with_hours()
    clients = [login(make_user("student")) for _ in range(30)]
    key = listed_starts(clients[0].get(f"/advising/advisors/{advisor.id}"))[0]
    path = f"/advising/advisors/{advisor.id}/book?start={key}"

    def booking(client):
        return lambda: client.post(path, data={"topic": "registration"})

    responses = run_together(*(booking(client) for client in clients))
    assert sorted(r.status_code for r in responses) == [302] + [409] * 29
    for refused in (r for r in responses if r.status_code == 409):
        assert TAKEN in text(refused) or NOT_OPEN in text(refused)
    assert appointment_count() == 1
    assert cell_count() == 6


def test_two_students_moving_into_one_free_time_one_keeps_their_old_time(ctx, login):
    advisor = advisor_with_hours()
    first, second = make_user("student"), make_user("student")
    mine = make_appointment(advisor, first, days_ahead=3, hour=10)
    theirs = make_appointment(advisor, second, days_ahead=4, hour=10)
    originals = {mine.id: mine.starts_at, theirs.id: theirs.starts_at}
    offered = listed_starts(login(first).get(f"/advising/appointments/{mine.id}/reschedule"))
    key = next(k for k in offered if start_of(k) not in originals.values())
    clients = [login(first), login(second)]
    paths = [f"/advising/appointments/{i}/reschedule" for i in (mine.id, theirs.id)]

    responses = run_together(
        lambda: clients[0].post(paths[0], data={"start": key}),
        lambda: clients[1].post(paths[1], data={"start": key}),
    )
    assert sorted(r.status_code for r in responses) == [302, 409]
    loser_index = [r.status_code for r in responses].index(409)
    assert TAKEN in text(responses[loser_index]) or NOT_OPEN in text(responses[loser_index])
    db.session.expire_all()
    winner_id, loser_id = (mine.id, theirs.id) if loser_index else (theirs.id, mine.id)
    assert db.session.get(Appointment, winner_id).starts_at == start_of(key)
    assert db.session.get(Appointment, loser_id).starts_at == originals[loser_id]
    loser_cells = db.session.scalars(
        select(AppointmentCell.cell_start).where(AppointmentCell.appointment_id == loser_id)
    ).all()
    assert min(loser_cells) == originals[loser_id] and len(loser_cells) == 6


def test_a_student_booking_two_advisors_for_one_time_at_once_gets_one(ctx, login):
    advisors = [advisor_with_hours(email=f"a{n}@example.edu") for n in range(2)]
    student = make_user("student")
    clients = [login(student), login(student)]
    key = listed_starts(clients[0].get(f"/advising/advisors/{advisors[0].id}"))[0]
    assert key in listed_starts(clients[1].get(f"/advising/advisors/{advisors[1].id}"))
    paths = [f"/advising/advisors/{a.id}/book?start={key}" for a in advisors]

    responses = run_together(
        lambda: clients[0].post(paths[0], data={"topic": "registration"}),
        lambda: clients[1].post(paths[1], data={"topic": "registration"}),
    )
    assert sorted(r.status_code for r in responses) == [302, 409]
    assert appointment_count() == 1


def test_students_opening_a_new_advisors_times_at_once_all_see_them(ctx, login):
    advisor = advisor_with_hours()
    clients = [login(make_user("student")) for _ in range(8)]
    path = f"/advising/advisors/{advisor.id}"

    def opening(client):
        return lambda: client.get(path)

    responses = run_together(*(opening(client) for client in clients))
    assert [r.status_code for r in responses] == [200] * 8
    assert all(listed_starts(r) for r in responses)


# Pages issue a fixed number of SQL statements, however many appointments there are.


def spread_appointments(pairs, days: range) -> None:
    """For each day, each (advisor, student) pair meets that many days ahead and ago."""
    for day in days:
        for hour, (advisor, student) in enumerate(pairs, start=10):
            make_appointment(advisor, student, days_ahead=day, hour=hour)
            make_appointment(advisor, student, days_ahead=-day, hour=hour)


def test_advising_pages_cost_the_same_with_more_appointments(ctx, login, count_queries):
    advisor, other_advisor = make_user("advisor"), make_user("advisor")
    make_window(advisor)
    student, other_student = make_user("student"), make_user("student")
    # Early today: both students are on the advisor's agenda for this week.
    make_appointment(advisor, student, days_ahead=0, hour=0)
    make_appointment(advisor, other_student, days_ahead=0, hour=1)
    pairs = [(advisor, student), (other_advisor, student), (advisor, other_student)]
    pages = [
        (login(student), f"/advising/advisors/{advisor.id}"),
        (login(student), "/advising/appointments"),
        (login(advisor), "/advising/agenda"),
    ]
    spread_appointments(pairs, range(2, 4))
    for client, path in pages:
        client.get(path)  # a first visit may save the advisor's default settings
    few = [count_queries(client, path) for client, path in pages]
    spread_appointments(pairs, range(4, 16))
    assert [count_queries(client, path) for client, path in pages] == few


# An advisor's page for one student pages through all their appointments together.


def appointment_ids(section: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/advising/appointments/(\d+)"', section)]


def history(response) -> tuple[list[int], list[int]]:
    """The appointments the student page lists: (upcoming, past), each in page order."""
    assert response.status_code == 200
    page = text(response).split("<h2>Book a time for", 1)[0]
    upcoming, past = page.split("<h2>Past appointments", 1)
    return appointment_ids(upcoming), appointment_ids(past)


def history_pager(response, label: str) -> dict[str, dict[str, list[str]]]:
    """The links of the pager named `label`, by their words: each one's query arguments."""
    navs = re.findall(rf'<nav class="pager" aria-label="{label}">(.*?)</nav>', text(response), re.S)
    if not navs:
        return {}
    [nav] = navs
    return {
        words: parse_qs(urlsplit(href).query)
        for href, words in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    }


UPCOMING, PAST = "Pages of upcoming appointments", "Pages of past appointments"


def test_an_advisors_history_with_a_student_pages_past_and_upcoming(ctx, login):
    advisor, student = make_user("advisor"), make_user("student")
    other_advisor = make_user("advisor")
    make_appointment(other_advisor, student, days_ahead=-1, hour=8)  # never on this advisor's page
    past = [make_appointment(advisor, student, days_ahead=-days).id for days in range(1, 26)]
    upcoming = [make_appointment(advisor, student, days_ahead=days).id for days in range(1, 24)]
    client = login(advisor)
    path = f"/advising/students/{student.id}"

    first = client.get(path)
    assert history(first) == (upcoming[:20], past[:20])  # soonest first, newest first
    assert history_pager(first, UPCOMING) == {"Later": {"upcoming_page": ["2"]}}
    assert history_pager(first, PAST) == {"Older": {"page": ["2"]}}

    second = client.get(f"{path}?page=2&upcoming_page=2")
    assert history(second) == (upcoming[20:], past[20:])  # beyond the 100 it used to stop at
    assert history_pager(second, UPCOMING) == {"Sooner": {"upcoming_page": ["1"], "page": ["2"]}}
    assert history_pager(second, PAST) == {"Newer": {"page": ["1"], "upcoming_page": ["2"]}}


def own_lists(response) -> tuple[list[int], list[int]]:
    """The appointments a student's own page lists: (upcoming, past), each in page order."""
    assert response.status_code == 200
    upcoming, past = text(response).split("<h2>Upcoming</h2>", 1)[1].split("<h2>Past</h2>", 1)
    return appointment_ids(upcoming), appointment_ids(past)


def test_a_student_pages_through_their_own_upcoming_and_past_appointments(ctx, login):
    advisor, student = make_user("advisor"), make_user("student")
    past = [make_appointment(advisor, student, days_ahead=-days).id for days in range(1, 23)]
    upcoming = [make_appointment(advisor, student, days_ahead=days).id for days in range(1, 24)]
    client = login(student)

    first = client.get("/advising/appointments")
    assert own_lists(first) == (upcoming[:20], past[:20])
    assert history_pager(first, UPCOMING) == {"Later": {"upcoming_page": ["2"]}}
    assert history_pager(first, PAST) == {"Older": {"page": ["2"]}}

    second = client.get("/advising/appointments?upcoming_page=2")
    assert own_lists(second) == (upcoming[20:], past[:20])
    assert history_pager(second, UPCOMING) == {"Sooner": {"upcoming_page": ["1"]}}

    advising_home = client.get("/advising/")  # the next five, and the way to all of them
    assert appointment_ids(text(advising_home)) == upcoming[:5]


@pytest.mark.parametrize("junk", ["abc", "-3", "0", "1.5", "", "999999", "%C2%B2"])
def test_junk_page_numbers_show_the_first_pages_of_a_students_history(ctx, login, junk):
    advisor, student = make_user("advisor"), make_user("student")
    past = [make_appointment(advisor, student, days_ahead=-days).id for days in range(1, 22)]
    upcoming = [make_appointment(advisor, student, days_ahead=days).id for days in range(1, 22)]
    response = login(advisor).get(
        f"/advising/students/{student.id}?page={junk}&upcoming_page={junk}"
    )
    assert history(response) == (upcoming[:20], past[:20])
    assert history_pager(response, PAST)["Older"]["page"] == ["2"]


def test_a_history_page_past_the_end_says_so_and_links_back(ctx, login):
    advisor, student = make_user("advisor"), make_user("student")
    make_appointment(advisor, student, days_ahead=-1)
    upcoming = make_appointment(advisor, student, days_ahead=1).id
    response = login(advisor).get(f"/advising/students/{student.id}?page=99999")
    assert history(response) == ([upcoming], [])
    assert "the list ends before page 10000" in text(response)  # the number is capped
    assert f'<a href="/advising/students/{student.id}">Back to the newest</a>' in text(response)
    assert history_pager(response, PAST) == {}


def test_an_advisors_student_page_costs_the_same_however_long_the_history(
    ctx, login, count_queries
):
    advisor, student = make_user("advisor"), make_user("student")
    make_window(advisor)
    make_appointment(advisor, student, days_ahead=-1)
    make_appointment(advisor, student, days_ahead=1)
    client = login(advisor)
    path = f"/advising/students/{student.id}"
    client.get(path)  # the first opening is audited, and may save the advisor's settings
    few = count_queries(client, path)
    for days in range(2, 60):
        make_appointment(advisor, student, days_ahead=-days)
        make_appointment(advisor, student, days_ahead=days)
    assert count_queries(client, path) == few
    assert count_queries(client, f"{path}?page=3&upcoming_page=2") == few
