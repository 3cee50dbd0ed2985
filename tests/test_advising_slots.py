"""Free slots: weekly windows cut into sessions, minus notice, horizon, days off and bookings.

`free_slots` is a pure function, so these tests build settings and windows without a
database; an app context supplies the program's time zone (America/New_York).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from crp_portal import create_app
from crp_portal.advising.models import AdvisorSettings, AvailabilityWindow
from crp_portal.advising.slots import Busy, free_slots

NEW_YORK = ZoneInfo("America/New_York")
MONDAY, TUESDAY, SUNDAY = 0, 1, 6


@pytest.fixture(scope="module", autouse=True)
def program_time_zone():
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with application.app_context():
        yield


def settings(slot=30, buffer=0, notice=0, horizon=14, max_per_day=None) -> AdvisorSettings:
    return AdvisorSettings(
        advisor_id=1,
        slot_minutes=slot,
        buffer_minutes=buffer,
        min_notice_hours=notice,
        horizon_days=horizon,
        max_per_day=max_per_day,
    )


def window(weekday, start, end, mode="in_person", place="Room 3") -> AvailabilityWindow:
    return AvailabilityWindow(
        advisor_id=1, weekday=weekday, start_time=start, end_time=end, mode=mode, place=place
    )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=NEW_YORK)


def busy(day: date, start: tuple[int, int], end: tuple[int, int]) -> Busy:
    return Busy(local(day, *start), local(day, *end))


def wall_clock(slots) -> list[str]:
    """What a student reads: local day and time of each offered slot."""
    return [f"{s.starts_at.astimezone(NEW_YORK):%a %d %b %H:%M}" for s in slots]


# Sunday 4 Oct 2026, 8:00 in the morning; the next Monday is the 5th.
SUNDAY_MORNING = local(date(2026, 10, 4), 8)
MON_5, TUE_6, MON_12 = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 12)


def test_a_window_is_cut_into_sessions_of_the_slot_length():
    slots = free_slots(
        settings(slot=30, horizon=7),
        [window(MONDAY, time(9), time(11), mode="video", place="https://meet.example.edu/a")],
        set(),
        [],
        [],
        SUNDAY_MORNING,
    )
    assert wall_clock(slots) == [
        "Mon 05 Oct 09:00",
        "Mon 05 Oct 09:30",
        "Mon 05 Oct 10:00",
        "Mon 05 Oct 10:30",
    ]
    first = slots[0]
    assert first.starts_at == datetime(2026, 10, 5, 13, 0, tzinfo=UTC)
    assert first.ends_at - first.starts_at == local(MON_5, 9, 30) - local(MON_5, 9)
    assert (first.mode, first.place) == ("video", "https://meet.example.edu/a")
    assert first.key == "20261005T1300Z"


def test_the_break_between_sessions_spaces_them_and_the_last_must_fit():
    slots = free_slots(
        settings(slot=30, buffer=15, horizon=7),
        [window(MONDAY, time(9), time(10, 50))],
        set(),
        [],
        [],
        SUNDAY_MORNING,
    )
    assert wall_clock(slots) == ["Mon 05 Oct 09:00", "Mon 05 Oct 09:45"]


def test_several_windows_on_several_days_come_back_soonest_first():
    slots = free_slots(
        settings(slot=60, horizon=7),
        [
            window(TUESDAY, time(9), time(10)),
            window(MONDAY, time(14), time(15)),
            window(MONDAY, time(9), time(10)),
        ],
        set(),
        [],
        [],
        SUNDAY_MORNING,
    )
    assert wall_clock(slots) == ["Mon 05 Oct 09:00", "Mon 05 Oct 14:00", "Tue 06 Oct 09:00"]


def test_minimum_notice_hides_slots_starting_too_soon():
    monday_eight = local(MON_5, 8)
    slots = free_slots(
        settings(notice=2, horizon=1),
        [window(MONDAY, time(9), time(11))],
        set(),
        [],
        [],
        monday_eight,
    )
    assert wall_clock(slots) == ["Mon 05 Oct 10:00", "Mon 05 Oct 10:30"]


def test_the_horizon_is_how_far_ahead_students_may_book():
    monday_window = [window(MONDAY, time(9), time(10))]
    monday_eight = local(MON_5, 8)
    one_week = free_slots(settings(slot=60, horizon=7), monday_window, set(), [], [], monday_eight)
    eight_days = free_slots(
        settings(slot=60, horizon=8), monday_window, set(), [], [], monday_eight
    )
    assert wall_clock(one_week) == ["Mon 05 Oct 09:00"]
    assert wall_clock(eight_days) == ["Mon 05 Oct 09:00", "Mon 12 Oct 09:00"]


def test_days_off_offer_nothing_that_day():
    slots = free_slots(
        settings(slot=60, horizon=7),
        [window(MONDAY, time(9), time(10)), window(TUESDAY, time(9), time(10))],
        {TUE_6},
        [],
        [],
        SUNDAY_MORNING,
    )
    assert wall_clock(slots) == ["Mon 05 Oct 09:00"]


def test_a_full_day_under_the_daily_cap_offers_nothing_more():
    windows = [window(MONDAY, time(9), time(12)), window(TUESDAY, time(9), time(10))]
    two_on_monday = [busy(MON_5, (9, 0), (9, 30)), busy(MON_5, (11, 0), (11, 30))]
    capped = free_slots(
        settings(slot=30, horizon=7, max_per_day=2),
        windows,
        set(),
        two_on_monday,
        [],
        SUNDAY_MORNING,
    )
    assert wall_clock(capped) == ["Tue 06 Oct 09:00", "Tue 06 Oct 09:30"]
    one_on_monday = two_on_monday[:1]
    under_cap = free_slots(
        settings(slot=30, horizon=7, max_per_day=2),
        windows,
        set(),
        one_on_monday,
        [],
        SUNDAY_MORNING,
    )
    assert "Mon 05 Oct 09:00" not in wall_clock(under_cap)
    assert "Mon 05 Oct 09:30" in wall_clock(under_cap)


def test_the_advisors_bookings_block_their_slot_and_the_break_around_it():
    windows = [window(MONDAY, time(9), time(12))]
    advisor_booked = [busy(MON_5, (10, 15), (10, 45))]
    with_break = free_slots(
        settings(slot=30, buffer=15, horizon=7), windows, set(), advisor_booked, [], SUNDAY_MORNING
    )
    # 9:45–10:15 only touches the booking, but its 15-minute break would run into it.
    assert wall_clock(with_break) == ["Mon 05 Oct 09:00", "Mon 05 Oct 11:15"]
    no_break = free_slots(
        settings(slot=30, horizon=7), windows, set(), advisor_booked, [], SUNDAY_MORNING
    )
    assert wall_clock(no_break) == [
        "Mon 05 Oct 09:00",
        "Mon 05 Oct 09:30",
        "Mon 05 Oct 11:00",
        "Mon 05 Oct 11:30",
    ]


def test_times_the_student_is_booked_elsewhere_are_left_out():
    slots = free_slots(
        settings(slot=30, horizon=7),
        [window(MONDAY, time(9), time(11))],
        set(),
        [],
        [busy(MON_5, (9, 45), (10, 15))],
        SUNDAY_MORNING,
    )
    assert wall_clock(slots) == ["Mon 05 Oct 09:00", "Mon 05 Oct 10:30"]


def test_a_monday_nine_oclock_stays_nine_oclock_across_the_november_change():
    """Clocks go back on Sunday 1 Nov 2026: 9:00 EDT is 13:00 UTC, 9:00 EST is 14:00 UTC."""
    slots = free_slots(
        settings(slot=60, horizon=14),
        [window(MONDAY, time(9), time(10))],
        set(),
        [],
        [],
        local(date(2026, 10, 24), 12),
    )
    assert [s.starts_at for s in slots] == [
        datetime(2026, 10, 26, 13, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
    ]
    assert wall_clock(slots) == ["Mon 26 Oct 09:00", "Mon 02 Nov 09:00"]
    assert all(s.ends_at - s.starts_at == local(MON_5, 10) - local(MON_5, 9) for s in slots)


def test_a_monday_nine_oclock_stays_nine_oclock_across_the_march_change():
    """Clocks go forward on Sunday 14 Mar 2027: Monday 8 Mar is EST, Monday 15 Mar EDT."""
    slots = free_slots(
        settings(slot=60, horizon=14),
        [window(MONDAY, time(9), time(10))],
        set(),
        [],
        [],
        local(date(2027, 3, 6), 12),
    )
    assert [s.starts_at for s in slots] == [
        datetime(2027, 3, 8, 14, 0, tzinfo=UTC),
        datetime(2027, 3, 15, 13, 0, tzinfo=UTC),
    ]
    assert wall_clock(slots) == ["Mon 08 Mar 09:00", "Mon 15 Mar 09:00"]


def test_the_hour_skipped_in_spring_is_not_offered_twice():
    """2:00 and 2:30 do not exist on 14 Mar 2027; they must not turn into a second 3:00."""
    slots = free_slots(
        settings(slot=30, horizon=2),
        [window(SUNDAY, time(1), time(4))],
        set(),
        [],
        [],
        local(date(2027, 3, 13), 12),
    )
    assert wall_clock(slots) == [
        "Sun 14 Mar 01:00",
        "Sun 14 Mar 01:30",
        "Sun 14 Mar 03:00",
        "Sun 14 Mar 03:30",
    ]
    assert len({s.starts_at for s in slots}) == len(slots)


def test_the_hour_repeated_in_autumn_is_offered_once():
    slots = free_slots(
        settings(slot=60, horizon=2),
        [window(SUNDAY, time(0), time(3))],
        set(),
        [],
        [],
        local(date(2026, 10, 31), 12),
    )
    assert wall_clock(slots) == ["Sun 01 Nov 00:00", "Sun 01 Nov 01:00", "Sun 01 Nov 02:00"]
    assert [s.starts_at.hour for s in slots] == [4, 5, 7]
