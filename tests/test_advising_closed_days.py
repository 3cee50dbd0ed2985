"""Advisors are closed on the academic calendar's breaks and holidays unless they open a day:
no slots, no bookings and no moves onto those days, even from a page opened earlier."""

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crp_portal.advising import closed_days, services
from crp_portal.advising.models import Appointment, OpenedDay
from crp_portal.errors import Conflict
from crp_portal.extensions import db
from crp_portal.terms.services import add_period
from crp_portal.timeutil import format_date, local_today, program_zone
from tests.factories import (
    make_academic_year,
    make_appointment,
    make_term,
    make_user,
    make_window,
)

# Monday 21 December 2026, 8 in the morning: the winter break has begun.
NEW_YORK = ZoneInfo("America/New_York")  # the test configuration's program zone
IN_THE_BREAK = datetime(2026, 12, 21, 8, tzinfo=NEW_YORK)
CLOSED = "The advisor is not taking appointments on"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def advisor_open_every_day():
    advisor = make_user("advisor", email="ada@example.edu", name="Ada Advisor")
    make_window(advisor)  # every day 9:00–17:00, 30-minute sessions, 12 hours' notice
    return advisor


def offered_days(advisor, now=IN_THE_BREAK, student=None) -> list[date]:
    slots = services.available_slots(advisor.id, student.id if student else None, now)
    zone = program_zone()
    return sorted({slot.starts_at.astimezone(zone).date() for slot in slots})


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=program_zone())


def test_no_slots_on_break_or_holiday_days(ctx):
    make_academic_year()
    advisor = advisor_open_every_day()
    days = offered_days(advisor)
    assert date(2026, 12, 25) not in days and date(2027, 1, 1) not in days
    assert not [day for day in days if day <= date(2027, 1, 11)]  # the whole winter break
    assert days[0] == date(2027, 1, 12)  # classes start again
    assert date(2027, 1, 18) not in days  # MLK Day
    assert date(2027, 1, 19) in days


def test_reading_days_stay_open_for_advising(ctx):
    make_academic_year()
    advisor = advisor_open_every_day()
    days = offered_days(advisor, now=datetime(2026, 12, 7, 8, tzinfo=NEW_YORK))
    assert date(2026, 12, 10) in days and date(2026, 12, 11) in days


def test_an_opened_day_offers_slots_and_closing_it_takes_them_away(ctx):
    make_academic_year()
    advisor = advisor_open_every_day()
    today = IN_THE_BREAK.date()
    opened = closed_days.open_day(advisor, date(2026, 12, 28), today)
    db.session.commit()
    assert date(2026, 12, 28) in offered_days(advisor)
    assert date(2026, 12, 29) not in offered_days(advisor)
    closed_days.close_day(advisor, opened.id)
    db.session.commit()
    assert date(2026, 12, 28) not in offered_days(advisor)
    with pytest.raises(Conflict, match="is not in a break or holiday"):
        closed_days.open_day(advisor, date(2027, 1, 13), today)
    db.session.rollback()
    closed_days.open_day(advisor, date(2026, 12, 28), today)
    with pytest.raises(Conflict, match="You opened Mon 28 Dec 2026 already."):
        closed_days.open_day(advisor, date(2026, 12, 28), today)


def test_one_advisor_opening_a_day_leaves_the_others_closed(ctx):
    make_academic_year()
    advisor, other = advisor_open_every_day(), make_user("advisor")
    make_window(other)
    closed_days.open_day(advisor, date(2026, 12, 28), IN_THE_BREAK.date())
    db.session.commit()
    assert date(2026, 12, 28) not in offered_days(other)


def test_booking_christmas_from_a_stale_page_is_refused(ctx):
    make_academic_year()
    advisor, student = advisor_open_every_day(), make_user("student")
    with pytest.raises(Conflict, match=rf"{CLOSED} Fri 25 Dec 2026 \(Christmas Day\)"):
        services.book(
            advisor.id, student, at(date(2026, 12, 25)), "registration", "", student, IN_THE_BREAK
        )
    db.session.rollback()
    services.book(
        advisor.id, student, at(date(2027, 1, 12)), "registration", "", student, IN_THE_BREAK
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_moving_onto_a_closed_day_is_refused_and_keeps_the_old_time(ctx):
    make_academic_year()
    advisor, student = advisor_open_every_day(), make_user("student")
    booked = services.book(
        advisor.id, student, at(date(2027, 1, 12)), "registration", "", student, IN_THE_BREAK
    )
    db.session.commit()
    with pytest.raises(Conflict, match=rf"{CLOSED} Mon 18 Jan 2027 \(Martin Luther King Jr. Day\)"):
        services.reschedule(booked, student, at(date(2027, 1, 18)), IN_THE_BREAK)
    db.session.rollback()
    assert db.session.get(Appointment, booked.id).starts_at == at(date(2027, 1, 12))
    closed_days.open_day(advisor, date(2027, 1, 18), IN_THE_BREAK.date())
    services.reschedule(booked, student, at(date(2027, 1, 18)), IN_THE_BREAK)
    db.session.commit()
    assert db.session.get(Appointment, booked.id).starts_at == at(date(2027, 1, 18))


# Through the pages, with a holiday a few days from today.


def slot_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def holiday_soon(days_ahead: int = 5, name: str = "Founders Day") -> date:
    term = make_term("This term", local_today() - timedelta(days=30), local_today() + timedelta(60))
    day = local_today() + timedelta(days=days_ahead)
    add_period(term, "holiday", name, day, day)
    db.session.commit()
    return day


def listed_days(response) -> set[str]:
    return set(re.findall(r"start=(\d{8})T", response.get_data(as_text=True)))


def test_students_see_no_times_on_a_holiday_and_booking_one_answers_409(ctx, login):
    day = holiday_soon()
    advisor = advisor_open_every_day()
    client = login(make_user("student"))
    page = client.get(f"/advising/advisors/{advisor.id}")
    assert f"{day:%Y%m%d}" not in listed_days(page)
    assert f"{day + timedelta(days=1):%Y%m%d}" in listed_days(page)
    response = client.post(
        f"/advising/advisors/{advisor.id}/book?start={slot_key(at(day))}",
        data={"topic": "registration"},
    )
    assert response.status_code == 409
    assert f"{CLOSED} {format_date(day)} (Founders Day)" in text(response)
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_rescheduling_onto_a_holiday_answers_409(ctx, login):
    day = holiday_soon()
    advisor, student = advisor_open_every_day(), make_user("student")
    appointment = make_appointment(advisor, student, days_ahead=8, hour=10)
    client = login(student)
    path = f"/advising/appointments/{appointment.id}/reschedule"
    assert f"{day:%Y%m%d}" not in listed_days(client.get(path))
    response = client.post(path, data={"start": slot_key(at(day))})
    assert response.status_code == 409 and "(Founders Day)" in text(response)


def test_the_advisor_opens_and_closes_a_holiday_from_their_availability_page(ctx, login):
    day = holiday_soon()
    advisor = advisor_open_every_day()
    client = login(advisor)
    page = text(client.get("/advising/availability"))
    assert "Breaks and holidays" in page
    row = re.search(
        rf"<td[^>]*>{format_date(day)}</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", page
    )
    assert row.groups() == ("Founders Day", "Closed")

    opened = client.post(
        "/advising/availability/closed-days/open",
        data={"day": day.isoformat()},
        follow_redirects=True,
    )
    assert "is open: students can book your times that day." in text(opened)
    assert "Open: you opened it" in text(opened)
    student = login(make_user("student"))
    assert f"{day:%Y%m%d}" in listed_days(student.get(f"/advising/advisors/{advisor.id}"))

    [row_id] = db.session.scalars(select(OpenedDay.id)).all()
    closed = client.post(
        f"/advising/availability/opened-days/{row_id}/close", follow_redirects=True
    )
    assert "is closed again. Booked appointments that day stay booked." in text(closed)
    assert f"{day:%Y%m%d}" not in listed_days(student.get(f"/advising/advisors/{advisor.id}"))


def test_opening_a_day_that_is_not_closed_or_another_advisors_day_is_refused(ctx, login):
    day = holiday_soon()
    advisor = advisor_open_every_day()
    client = login(advisor)
    ordinary = client.post(
        "/advising/availability/closed-days/open",
        data={"day": (day + timedelta(days=1)).isoformat()},
    )
    assert ordinary.status_code == 409 and "open already" in text(ordinary)
    junk = client.post("/advising/availability/closed-days/open", data={"day": "soon"})
    assert junk.status_code == 302
    other = make_user("advisor")
    theirs = closed_days.open_day(other, day, local_today())
    db.session.commit()
    response = client.post(f"/advising/availability/opened-days/{theirs.id}/close")
    assert response.status_code == 404
    assert db.session.get(OpenedDay, theirs.id) is not None
