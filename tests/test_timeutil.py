"""Times are stored in UTC and shown in the program's time zone, across DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crp_portal.auth.models import User
from crp_portal.errors import DomainError
from crp_portal.events.models import Event
from crp_portal.events.services import create_event
from crp_portal.extensions import db
from crp_portal.timeutil import (
    AFTER_THE_CHANGE,
    NonexistentLocalTime,
    format_datetime,
    local_midnight,
    local_to_utc,
    to_wall_clock,
    week_start,
)
from tests.factories import event_details, make_user

NEW_YORK = ZoneInfo("America/New_York")


def test_aware_datetimes_round_trip_as_utc(ctx):
    user = make_user("student")
    signed_in = datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK)
    user.last_sign_in_at = signed_in
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(User.last_sign_in_at).where(User.id == user.id))
    assert stored == signed_in
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(ctx):
    user = make_user("student")
    user.last_sign_in_at = datetime(2026, 11, 1, 12, 0)
    with pytest.raises(Exception, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_seven_pm_stays_seven_pm_across_the_dst_change(app):
    before = datetime(2026, 10, 27, 23, 0, tzinfo=UTC)  # 7 pm EDT
    after = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)  # 7 pm EST
    with app.app_context():
        assert format_datetime(before) == "Tue 27 Oct 2026, 7:00 PM EDT"
        assert format_datetime(after) == "Mon 2 Nov 2026, 7:00 PM EST"


def test_program_zone_is_configurable(app):
    app.config["CRP_TIMEZONE"] = "America/Los_Angeles"
    with app.app_context():
        assert format_datetime(datetime(2026, 7, 1, 2, 0, tzinfo=UTC)) == (
            "Tue 30 Jun 2026, 7:00 PM PDT"
        )


# --- One week start and one local-to-UTC conversion, DST included -------------------------

SPRING_FORWARD = date(2027, 3, 14)  # New York: 2:00 AM EST becomes 3:00 AM EDT
FALL_BACK = date(2027, 11, 7)  # New York: 2:00 AM EDT becomes 1:00 AM EST


def test_weeks_start_on_monday():
    monday = date(2027, 3, 8)
    assert {week_start(monday + timedelta(days=n)) for n in range(7)} == {monday}
    assert week_start(monday - timedelta(days=1)) == monday - timedelta(days=7)


def test_a_local_time_the_clocks_skip_is_refused_unless_asked_to_read_it_after(app):
    with app.app_context():
        with pytest.raises(NonexistentLocalTime, match="There is no 2:30 AM on Sun 14 Mar 2027"):
            local_to_utc(datetime.combine(SPRING_FORWARD, time(2, 30)))
        after = local_to_utc(datetime.combine(SPRING_FORWARD, time(2, 30)), AFTER_THE_CHANGE)
        assert format_datetime(after) == "Sun 14 Mar 2027, 3:30 AM EDT"
        assert local_to_utc(datetime.combine(SPRING_FORWARD, time(3))) == datetime(
            2027, 3, 14, 7, 0, tzinfo=UTC
        )


def test_a_repeated_local_time_is_the_first_unless_its_fold_says_the_second(app):
    with app.app_context():
        first = local_to_utc(datetime.combine(FALL_BACK, time(1, 30)))
        second = local_to_utc(datetime.combine(FALL_BACK, time(1, 30, fold=1)))
        assert format_datetime(first) == "Sun 7 Nov 2027, 1:30 AM EDT"
        assert format_datetime(second) == "Sun 7 Nov 2027, 1:30 AM EST"
        assert second - first == timedelta(hours=1)
        assert local_to_utc(to_wall_clock(second)) == second  # the fold survives a round trip


def test_local_midnight_is_the_first_instant_of_the_day_even_where_midnight_is_skipped(app):
    app.config["CRP_TIMEZONE"] = "America/Havana"  # clocks go from 0:00 to 1:00
    with app.app_context():
        assert format_datetime(local_midnight(date(2027, 3, 14))) == (
            "Sun 14 Mar 2027, 1:00 AM CDT"
        )


def test_staff_are_told_an_event_at_a_time_the_clocks_skip_does_not_exist(ctx, login):
    """Before, 2:30–3:30 AM on the spring-forward night was saved as 3:30–3:30 AM EDT: an
    event that ended as it began, an hour after the time typed, without a word."""
    form = {
        "kind": "sober_social",
        "title": "Overnight study hall",
        "public_title": "Study hall",
        "description": "",
        "day": SPRING_FORWARD.isoformat(),
        "start_time": "02:30",
        "end_time": "03:30",
        "location": "Library",
        "online_link": "",
        "capacity": "",
        "rsvp_deadline": "",
    }
    page = login(make_user("staff")).post("/events/new", data=form).get_data(as_text=True)
    assert "There is no 2:30 AM on Sun 14 Mar 2027: the clocks go forward an hour" in page
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_series_that_would_meet_in_the_skipped_hour_names_that_day(ctx):
    staff = make_user("staff")
    details = event_details(day=SPRING_FORWARD - timedelta(weeks=1), start_time=time(2, 30))
    details.end_time = time(4)
    with pytest.raises(DomainError, match="There is no 2:30 AM on Sun 14 Mar 2027"):
        create_event(details, staff, repeat_weeks=1, repeat_until=SPRING_FORWARD)
    db.session.rollback()
    [single] = create_event(details, staff)  # the week before is an ordinary night
    assert format_datetime(single.starts_at) == "Sun 7 Mar 2027, 2:30 AM EST"


def test_an_event_typed_in_the_repeated_hour_is_at_its_first_occurrence(ctx):
    """1:00–1:45 AM on the fall-back night is read as RFC 5545 reads it: summer time."""
    staff = make_user("staff")
    details = event_details(day=FALL_BACK, start_time=time(1, 0), end_time=time(1, 45))
    [event] = create_event(details, staff)
    assert format_datetime(event.ends_at) == "Sun 7 Nov 2027, 1:45 AM EDT"
    assert event.ends_at - event.starts_at == timedelta(minutes=45)


def test_the_nudges_command_refuses_an_at_time_the_clocks_skip(ctx, app):
    """Before, `--at 2027-03-14T02:30` quietly planned for 3:30 AM EDT."""
    result = app.test_cli_runner().invoke(args=["nudges", "plan", "--at", "2027-03-14T02:30"])
    assert result.exit_code == 2
    assert "There is no 2:30 AM on Sun 14 Mar 2027" in result.output
