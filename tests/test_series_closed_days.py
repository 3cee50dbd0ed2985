"""A weekly series skips breaks and holidays: staff see the skipped dates before saving,
and a later "this and following" move keeps to the rule."""

import html
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crp_portal.errors import DomainError
from crp_portal.events.models import Event, EventSeries
from crp_portal.events.rsvp import rsvp
from crp_portal.events.series import MAX_OCCURRENCES, SkippedDate, series_dates
from crp_portal.events.services import (
    THIS_AND_FOLLOWING,
    THIS_ONE,
    create_event,
    details_of,
    edit_event,
    update_event,
)
from crp_portal.extensions import db
from crp_portal.timeutil import local_today
from tests.factories import event_details, make_academic_year, make_period, make_term, make_user

NEW_YORK = ZoneInfo("America/New_York")
TUESDAY_NOV_24 = date(2026, 11, 24)


def local_days(events) -> list[date]:
    return [event.starts_at.astimezone(NEW_YORK).date() for event in events]


def series_events(series_id: int) -> list[Event]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Event).where(Event.series_id == series_id).order_by(Event.starts_at)
        )
    )


def weekly(first: date, until: date, weeks: int = 1, skip: bool = True, **details):
    events = create_event(
        event_details(day=first, **details),
        make_user("staff"),
        repeat_weeks=weeks,
        repeat_until=until,
        skip_closed_days=skip,
    )
    db.session.commit()
    return events


# The rule itself, without a database: closed days are handed in.


def test_the_rule_leaves_out_closed_days_and_says_why():
    closed = {date(2026, 12, 22): "Winter break", date(2026, 12, 29): "Winter break"}
    dates = series_dates(datetime(2026, 12, 15, 19), 1, date(2027, 1, 5), closed)
    assert [start.date() for start in dates.starts] == [date(2026, 12, 15), date(2027, 1, 5)]
    assert dates.skipped == (
        SkippedDate(datetime(2026, 12, 22, 19), "Winter break"),
        SkippedDate(datetime(2026, 12, 29, 19), "Winter break"),
    )


def test_the_cap_counts_meetings_created_not_dates_skipped():
    first = datetime(2026, 1, 6, 19)
    closed = {(first + timedelta(weeks=week)).date(): "Break" for week in range(5)}
    dates = series_dates(first, 1, date(2028, 1, 1), closed)
    assert len(dates.starts) == MAX_OCCURRENCES
    assert dates.starts[0] == first + timedelta(weeks=5)
    assert len(dates.skipped) == 5


# Against the academic calendar.


def test_a_weekly_series_from_late_november_skips_the_winter_break(ctx):
    make_academic_year()
    events = weekly(TUESDAY_NOV_24, date(2027, 1, 26))
    assert local_days(events) == [
        date(2026, 11, 24), date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15),
        date(2027, 1, 12), date(2027, 1, 19), date(2027, 1, 26),
    ]  # fmt: skip
    assert events[0].series.skips_closed_days is True


def test_without_skipping_the_series_runs_through_the_break(ctx):
    make_academic_year()
    events = weekly(TUESDAY_NOV_24, date(2027, 1, 26), skip=False)
    assert len(events) == 10 and date(2026, 12, 22) in local_days(events)
    assert events[0].series.skips_closed_days is False


def test_a_fortnightly_series_skips_holidays_reading_days_and_the_break(ctx):
    make_academic_year()
    events = weekly(date(2026, 11, 13), date(2027, 1, 22), weeks=2)  # Fridays
    # 27 Nov Thanksgiving, 11 Dec reading days, 25 Dec Christmas, 8 Jan winter break.
    assert local_days(events) == [date(2026, 11, 13), date(2027, 1, 22)]


def test_seven_pm_stays_seven_pm_across_daylight_saving_while_skipping(ctx):
    make_academic_year()
    events = weekly(date(2027, 3, 2), date(2027, 3, 30), start_time=time(19), end_time=time(20))
    local_starts = [event.starts_at.astimezone(NEW_YORK) for event in events]
    # Spring break (13–21 March) takes the 16th; clocks go forward on the 14th.
    assert [start.day for start in local_starts] == [2, 9, 23, 30]
    assert {(start.hour, start.minute) for start in local_starts} == {(19, 0)}
    assert events[1].starts_at.hour == 0 and events[2].starts_at.hour == 23  # UTC shifts


def test_a_series_with_every_date_skipped_is_refused(ctx, login):
    make_academic_year()
    staff = make_user("staff")
    form = series_form(date(2026, 12, 22), date(2027, 1, 5))
    for action in ("check", "save"):
        response = login(staff).post("/events/new", data={**form, "action": action})
        assert response.status_code == 422
        assert "Every date of this series falls in a break, holiday or reading days" in text(
            response
        )
        assert "(Winter break)" in text(response)
    assert db.session.scalar(select(Event)) is None


# Through the form: check the dates, then save.


def series_form(first: date, until: date, **fields) -> dict[str, str]:
    return {
        "kind": "peer_support",
        "title": "Peer support circle",
        "public_title": "Tuesday group",
        "day": first.isoformat(),
        "start_time": "19:00",
        "end_time": "20:00",
        "location": "Student Center 204",
        "repeats": "1",
        "repeat_until": until.isoformat(),
        "skip_closed_days": "y",
        **fields,
    }


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def listed(page: str, list_id: str) -> list[str]:
    found = re.search(rf'<ul class="plain-list" id="{list_id}">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def test_the_series_form_offers_skipping_on_by_default(ctx, login):
    page = login(make_user("staff")).get("/events/new").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*name="skip_closed_days"[^>]*>', page).group(0)
    assert "checked" in checkbox
    assert "Skip breaks and holidays" in page and 'value="check"' in page


def test_check_dates_lists_the_skipped_dates_and_saves_nothing(ctx, login):
    make_academic_year()
    staff = login(make_user("staff"))
    response = staff.post(
        "/events/new", data={**series_form(TUESDAY_NOV_24, date(2027, 1, 26)), "action": "check"}
    )
    page = text(response)
    assert response.status_code == 200
    assert "7 events, nothing saved yet." in page
    assert listed(page, "skipped-dates") == [
        "Tue 22 Dec 2026: Winter break",
        "Tue 29 Dec 2026: Winter break",
        "Tue 5 Jan 2027: Winter break",
    ]
    assert 'value="Peer support circle"' in page  # the form keeps what was typed
    assert db.session.scalar(select(Event)) is None
    saved = staff.post(
        "/events/new",
        data={**series_form(TUESDAY_NOV_24, date(2027, 1, 26)), "action": "save"},
        follow_redirects=True,
    )
    assert "7 events added." in text(saved)


def test_check_dates_names_the_holiday_not_the_break_around_it(ctx, login):
    make_academic_year()
    form = series_form(date(2026, 12, 18), date(2027, 1, 15), repeats="1")  # Fridays
    page = text(login(make_user("staff")).post("/events/new", data={**form, "action": "check"}))
    assert listed(page, "skipped-dates") == [
        "Fri 25 Dec 2026: Christmas Day",
        "Fri 1 Jan 2027: New Year's Day",
        "Fri 8 Jan 2027: Winter break",
    ]


def test_turning_skipping_off_creates_every_date(ctx, login):
    make_academic_year()
    form = series_form(TUESDAY_NOV_24, date(2027, 1, 26))
    del form["skip_closed_days"]
    staff = login(make_user("staff"))
    page = text(staff.post("/events/new", data={**form, "action": "check"}))
    assert "10 events, nothing saved yet." in page and "No dates are skipped." in page
    assert "10 events added." in text(staff.post("/events/new", data=form, follow_redirects=True))


def test_an_event_page_names_the_next_skipped_dates(ctx, login):
    """Upcoming: a break two weeks from now that the weekly meeting skips."""
    today = local_today()
    term = make_term("This term", today - timedelta(days=30), today + timedelta(days=60))
    make_period(term, "break", today + timedelta(days=14), today + timedelta(days=20))
    [first, *_] = weekly(today + timedelta(days=1), today + timedelta(days=35))
    page = text(login(make_user("student")).get(f"/events/{first.id}"))
    skipped_day = today + timedelta(days=15)
    assert f"No meeting in breaks and holidays: {skipped_day:%a} {skipped_day.day}" in page
    assert "(Break)" in page


# "This and following" keeps the rule.


def test_moving_this_and_following_keeps_meetings_off_closed_days(ctx, smtp):
    """A Monday series moved to Thursdays: the Thursdays of Thanksgiving and the reading
    days are cancelled, not moved onto closed days, and the student going is told; the
    break weeks stay empty, and a week the break had taken that the move opens gets one."""
    make_academic_year()
    events = weekly(date(2026, 11, 16), date(2027, 1, 18))  # Mondays
    # The winter break takes 21 Dec to 11 Jan, MLK Day the 18th.
    assert local_days(events) == [
        date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7),
        date(2026, 12, 14),
    ]  # fmt: skip
    student = make_user("student", email="kai@example.edu")
    rsvp(events[1].id, student, datetime(2026, 11, 1, 12, tzinfo=NEW_YORK))
    db.session.commit()
    details = details_of(events[0])
    details.day = date(2026, 11, 19)  # Thursday
    edit = edit_event(events[0], details, THIS_AND_FOLLOWING)
    db.session.commit()
    assert [(local_days([e]), why) for e, why in edit.kept_off] == [
        ([date(2026, 11, 23)], "Thanksgiving"),
        ([date(2026, 12, 7)], "Reading days"),
    ]
    assert local_days(edit.added) == [date(2027, 1, 14)]  # Mon 11 Jan was in the break
    scheduled = [e for e in series_events(events[0].series_id) if not e.is_cancelled]
    assert local_days(scheduled) == [
        date(2026, 11, 19), date(2026, 12, 3), date(2026, 12, 17), date(2027, 1, 14),
    ]  # fmt: skip
    cancelled = db.session.get(Event, events[1].id)
    assert cancelled.is_cancelled and local_days([cancelled]) == [date(2026, 11, 23)]
    assert smtp.to("kai@example.edu")[-1]["Subject"].startswith("Cancelled")


def test_a_move_opens_weeks_the_series_had_skipped(ctx):
    """A Thursday series skips Thanksgiving; moved to Mondays, that week has a meeting."""
    make_academic_year()
    events = weekly(date(2026, 11, 19), date(2026, 12, 3))  # Thu 19 Nov, (26 skipped), 3 Dec
    assert local_days(events) == [date(2026, 11, 19), date(2026, 12, 3)]
    details = details_of(events[0])
    details.day = date(2026, 11, 16)
    edit = edit_event(events[0], details, THIS_AND_FOLLOWING)
    db.session.commit()
    assert local_days(edit.added) == [date(2026, 11, 23)]
    assert local_days(series_events(events[0].series_id)) == [
        date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30),
    ]  # fmt: skip


def test_moving_the_chosen_meeting_onto_a_closed_day_is_refused(ctx):
    make_academic_year()
    events = weekly(date(2026, 12, 14), date(2027, 1, 25))  # Mondays
    details = details_of(events[0])
    details.day = date(2026, 12, 25)
    with pytest.raises(DomainError, match=r"Fri 25 Dec 2026 is closed \(Christmas Day\)"):
        update_event(events[0], details, THIS_AND_FOLLOWING)
    db.session.rollback()
    # One meeting alone may still be moved there on purpose.
    update_event(events[0], details, THIS_ONE)
    db.session.commit()
    assert local_days([db.session.get(Event, events[0].id)]) == [date(2026, 12, 25)]


def test_a_series_made_without_skipping_moves_as_before(ctx):
    make_academic_year()
    events = weekly(date(2026, 11, 16), date(2026, 11, 30), skip=False)
    details = details_of(events[0])
    details.day = date(2026, 11, 19)
    edit = edit_event(events[0], details, THIS_AND_FOLLOWING)
    db.session.commit()
    assert edit.kept_off == [] and edit.added == []
    assert date(2026, 11, 26) in local_days(series_events(events[0].series_id))


def test_the_edit_page_says_the_series_skips_and_flashes_what_moved(ctx, login):
    make_academic_year()
    events = weekly(date(2026, 11, 16), date(2026, 11, 30))
    staff = login(make_user("staff"))
    page = text(staff.get(f"/events/{events[0].id}/edit"))
    assert "This series skips breaks and holidays" in page
    form = {**series_form(date(2026, 11, 19), date(2026, 11, 30)), "scope": "following"}
    for name in ("repeats", "repeat_until", "skip_closed_days"):
        del form[name]
    saved = text(staff.post(f"/events/{events[0].id}/edit", data=form, follow_redirects=True))
    assert "Saved 2 events." in saved
    assert "Mon 23 Nov 2026 (Thanksgiving)" in saved
    assert db.session.get(EventSeries, events[0].series_id).skips_closed_days
