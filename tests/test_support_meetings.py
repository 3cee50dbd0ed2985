"""Staff keep a directory of outside support meetings; students find one that fits."""

from datetime import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crp_portal.errors import NotFound
from crp_portal.extensions import db
from crp_portal.support_meetings import services
from crp_portal.support_meetings.demo import seed_support_meetings
from crp_portal.support_meetings.models import SupportMeeting, clock_label
from crp_portal.support_meetings.services import MeetingDetails, MeetingError, MeetingFilter
from tests.factories import make_meeting, make_user

MONDAY, TUESDAY, WEDNESDAY, SUNDAY = 0, 1, 2, 6
LINK = "https://example.org/meet/lunchtime-smart"


def meeting_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SupportMeeting))


def names(meetings) -> list[str]:
    return [meeting.name for meeting in meetings]


def form_data(**changes) -> dict:
    data = {
        "name": "Monday Night Big Book",
        "fellowship": "aa",
        "weekday": "0",
        "starts_at": "19:00",
        "duration_minutes": "60",
        "location": "Student Union, Room 214",
        "online_url": "",
        "notes": "Open meeting.",
        "active": "y",
    }
    data.update(changes)
    return data


@pytest.fixture
def a_week():
    """In person on Monday, online on Tuesday, hybrid on Wednesday, paused on Sunday."""
    return {
        "big_book": make_meeting(
            "Monday Night Big Book", fellowship="aa", weekday=MONDAY, starts_at=time(19)
        ),
        "early_bird": make_meeting(
            "Monday Early Bird", fellowship="aa", weekday=MONDAY, starts_at=time(7)
        ),
        "smart": make_meeting(
            "Lunchtime SMART",
            fellowship="smart",
            weekday=TUESDAY,
            starts_at=time(12, 15),
            location="",
            online_url=LINK,
        ),
        "dharma": make_meeting(
            "Campus Recovery Dharma",
            fellowship="dharma",
            weekday=WEDNESDAY,
            starts_at=time(20),
            online_url="https://example.org/meet/campus-dharma",
        ),
        "paused": make_meeting("Summer Serenity", weekday=SUNDAY, active=False),
    }


# Services


def test_meetings_are_listed_in_week_order_without_paused_ones(ctx, a_week):
    assert names(services.list_meetings(MeetingFilter())) == [
        "Monday Early Bird",
        "Monday Night Big Book",
        "Lunchtime SMART",
        "Campus Recovery Dharma",
    ]
    everything = services.list_meetings(MeetingFilter(), include_inactive=True)
    assert names(everything)[-1] == "Summer Serenity"


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (MeetingFilter(weekday=MONDAY), ["Monday Early Bird", "Monday Night Big Book"]),
        (MeetingFilter(fellowship="smart"), ["Lunchtime SMART"]),
        (MeetingFilter(meets="online"), ["Lunchtime SMART", "Campus Recovery Dharma"]),
        (
            MeetingFilter(meets="in_person"),
            ["Monday Early Bird", "Monday Night Big Book", "Campus Recovery Dharma"],
        ),
        (
            MeetingFilter(weekday=WEDNESDAY, fellowship="dharma", meets="online"),
            ["Campus Recovery Dharma"],
        ),
        (MeetingFilter(weekday=TUESDAY, fellowship="aa"), []),
        (MeetingFilter(weekday=99, fellowship="party", meets="teleport"), None),
    ],
)
def test_filters_narrow_the_list(ctx, a_week, chosen, expected):
    everything = names(services.list_meetings(MeetingFilter()))
    assert names(services.list_meetings(chosen)) == (everything if expected is None else expected)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"location": " ", "online_url": ""}, "Give a location, an online link, or both."),
        ({"online_url": "javascript:alert(1)"}, "must be a web address starting with https://"),
        ({"online_url": "https:// example.org"}, "must be a web address starting with https://"),
        ({"fellowship": "party"}, "Choose one of the listed fellowships."),
        ({"weekday": 7}, "Choose a day of the week."),
        ({"duration_minutes": 10**400}, "A meeting lasts from 15 to 480 minutes."),
        ({"name": "  "}, "Name the meeting."),
    ],
)
def test_a_listing_that_breaks_a_rule_is_refused(ctx, changes, message):
    details = MeetingDetails(
        **{
            "name": "Clean Slate NA",
            "fellowship": "na",
            "weekday": TUESDAY,
            "starts_at": time(18, 30),
            "location": "Grace Community Church",
            **changes,
        }
    )
    with pytest.raises(MeetingError, match=message):
        services.create_meeting(details)
    assert meeting_count() == 0


def test_create_trims_text_and_keeps_blank_optional_fields_empty(ctx):
    meeting = services.create_meeting(
        MeetingDetails(
            name="  Clean Slate NA ",
            fellowship="na",
            weekday=TUESDAY,
            starts_at=time(18, 30, 59),
            location="",
            online_url=" HTTPS://example.org/meet/clean-slate ",
        )
    )
    db.session.commit()
    db.session.expire_all()
    assert meeting.name == "Clean Slate NA"
    assert meeting.starts_at == time(18, 30)
    assert meeting.location is None and meeting.notes is None
    assert meeting.online_url == "HTTPS://example.org/meet/clean-slate"
    assert meeting.active is True
    assert meeting.created_at.tzinfo is not None


def test_update_applies_the_same_rules(ctx):
    meeting = make_meeting("Monday Night Big Book", weekday=MONDAY)
    with pytest.raises(MeetingError, match="Give a location"):
        services.update_meeting(
            meeting,
            MeetingDetails(name="Big Book", fellowship="aa", weekday=MONDAY, starts_at=time(19)),
        )
    db.session.rollback()
    saved = services.update_meeting(
        meeting,
        MeetingDetails(
            name="Big Book", fellowship="aa", weekday=SUNDAY, starts_at=time(18), online_url=LINK
        ),
    )
    db.session.commit()
    assert (saved.weekday_name, saved.starts_label, saved.location) == ("Sunday", "6:00 PM", None)


def test_deactivated_meeting_leaves_the_directory_and_deleted_one_is_gone(ctx):
    paused = make_meeting("Summer Serenity")
    gone = make_meeting("Closed Group")
    services.deactivate_meeting(paused)
    services.delete_meeting(gone)
    db.session.commit()
    assert services.list_meetings(MeetingFilter()) == []
    assert names(services.list_meetings(MeetingFilter(), include_inactive=True)) == [
        "Summer Serenity"
    ]
    with pytest.raises(NotFound, match="There is no support meeting with that number."):
        services.get_meeting(gone.id)


@pytest.mark.parametrize(
    "columns",
    [
        {"location": None, "online_url": None},
        {"location": None, "online_url": "javascript:alert(1)"},
        {"location": "Room 1", "weekday": 7},
        {"location": "Room 1", "fellowship": "party"},
        {"location": "Room 1", "duration_minutes": 100_000},
    ],
)
def test_the_database_refuses_a_broken_listing_too(ctx, columns):
    db.session.add(
        SupportMeeting(
            **{"name": "Direct", "fellowship": "aa", "weekday": 0, "starts_at": time(9), **columns}
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (time(0, 0), "12:00 AM"),
        (time(7, 5), "7:05 AM"),
        (time(12, 30), "12:30 PM"),
        (time(19), "7:00 PM"),
    ],
)
def test_times_read_like_a_meeting_list(value, label):
    assert clock_label(value) == label


def test_demo_meetings_obey_the_rules_and_cover_the_week(ctx):
    assert seed_support_meetings() == meeting_count() >= 10
    meetings = services.list_meetings(MeetingFilter())
    assert {meeting.weekday for meeting in meetings} == set(range(7))
    assert services.list_meetings(MeetingFilter(meets="online"))
    assert services.list_meetings(MeetingFilter(meets="in_person"))


# Pages


def test_staff_add_edit_and_delete_a_meeting(ctx, login):
    client = login(make_user("staff"))
    added = client.post("/support-meetings/new", data=form_data(), follow_redirects=True)
    assert b"Monday Night Big Book is added." in added.data
    assert b"Monday" in added.data and b"7:00 PM" in added.data
    assert b"Student Union, Room 214" in added.data
    meeting = db.session.scalar(select(SupportMeeting))

    edited = client.post(
        f"/support-meetings/{meeting.id}/edit",
        data=form_data(
            name="Big Book Online", weekday="6", starts_at="18:30", location="", online_url=LINK
        ),
        follow_redirects=True,
    )
    assert b"Big Book Online is saved." in edited.data
    assert b"Sunday" in edited.data and b"6:30 PM" in edited.data
    assert f'href="{LINK}"'.encode() in edited.data

    deleted = client.post(f"/support-meetings/{meeting.id}/delete", follow_redirects=True)
    assert b"Big Book Online is deleted from the directory." in deleted.data
    assert meeting_count() == 0


def test_edit_form_shows_the_saved_meeting(ctx, login):
    meeting = make_meeting("Clean Slate NA", fellowship="na", starts_at=time(18, 30))
    page = login(make_user("staff")).get(f"/support-meetings/{meeting.id}/edit").data
    assert b'value="Clean Slate NA"' in page
    assert b'type="time"' in page and b'value="18:30"' in page
    assert b'<option selected value="na">' in page
    assert b"Delete Clean Slate NA" in page


def test_staff_can_unlist_a_meeting_and_students_stop_seeing_it(ctx, login):
    meeting = make_meeting("Summer Serenity")
    staff = login(make_user("staff"))
    staff.post(
        f"/support-meetings/{meeting.id}/edit",
        data={
            key: value
            for key, value in form_data(name="Summer Serenity").items()
            if key != "active"
        },
    )
    assert b"Summer Serenity" not in login(make_user("student")).get("/support-meetings/").data
    staff_view = staff.get("/support-meetings/").data
    assert b"Summer Serenity" in staff_view and b"Not listed" in staff_view


def test_students_see_the_directory_but_no_way_to_change_it(ctx, login, a_week):
    page = login(make_user("student")).get("/support-meetings/").data.decode()
    assert "Monday Night Big Book" in page and "Lunchtime SMART" in page
    assert "4 meetings." in page
    assert "Summer Serenity" not in page
    assert "Add a meeting" not in page and "/edit" not in page
    assert f'href="{LINK}"' in page and "Join online" in page
    assert "12:15 PM" in page and "SMART Recovery" in page


def test_staff_see_add_and_edit_links(ctx, login, a_week):
    page = login(make_user("staff")).get("/support-meetings/").data.decode()
    assert "Add a meeting" in page
    assert f"/support-meetings/{a_week['smart'].id}/edit" in page
    assert "Summer Serenity" in page and "Not listed" in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("?day=0", ["Monday Early Bird", "Monday Night Big Book"], ["Lunchtime SMART"]),
        ("?fellowship=smart", ["Lunchtime SMART"], ["Monday Night Big Book"]),
        ("?meets=online", ["Lunchtime SMART", "Campus Recovery Dharma"], ["Monday Early Bird"]),
        ("?meets=in_person", ["Monday Early Bird", "Campus Recovery Dharma"], ["Lunchtime SMART"]),
        ("?day=2&fellowship=dharma&meets=online", ["Campus Recovery Dharma"], ["Lunchtime SMART"]),
    ],
)
def test_students_filter_by_day_fellowship_and_how_it_meets(
    ctx, login, a_week, query, shown, hidden
):
    page = login(make_user("student")).get(f"/support-meetings/{query}").data.decode()
    for name in shown:
        assert name in page, name
    for name in hidden:
        assert name not in page, name


def test_a_filter_with_no_match_says_so(ctx, login, a_week):
    page = login(make_user("student")).get("/support-meetings/?day=1&fellowship=na").data
    assert b"No meeting matches these filters." in page
    assert b"Clear the filters" in page


@pytest.mark.parametrize(
    "query",
    [
        "?day=99&fellowship=party&meets=teleport",
        "?day=abc",
        "?day=-1",
        "?day=" + "9" * 400,
        "?fellowship=%3Cscript%3E",
        "?day=&fellowship=&meets=&page=x",
        "?meets=" + "x" * 5000,
    ],
)
def test_junk_filter_arguments_show_the_whole_directory(ctx, login, a_week, query):
    response = login(make_user("student")).get(f"/support-meetings/{query}")
    assert response.status_code == 200
    assert b"4 meetings." in response.data
    assert b"<script>" not in response.data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"location": "", "online_url": ""}, "Give a location, an online link, or both."),
        ({"online_url": "javascript:alert(1)"}, "Enter a web address that starts with https://"),
        (
            {"online_url": "ftp://example.org/meeting"},
            "Enter a web address that starts with https://",
        ),
        ({"online_url": "example.org/meeting"}, "Enter a web address that starts with https://"),
        ({"duration_minutes": "9" * 400}, "Enter a whole number from 15 to 480."),
        ({"duration_minutes": "5"}, "Enter a whole number from 15 to 480."),
        ({"starts_at": "25:99"}, "Enter the start time as hours and minutes, e.g. 7:00 PM."),
        ({"starts_at": ""}, "Enter the start time, e.g. 7:00 PM."),
        ({"name": "   "}, "Name the meeting, e.g. Tuesday Night Big Book."),
        ({"name": "x" * 121}, "Use at most 120 characters."),
        ({"weekday": "7"}, "Choose a day of the week."),
        ({"weekday": "Monday"}, "Choose a day of the week."),
        ({"fellowship": "party"}, "Choose one of the listed fellowships."),
    ],
)
def test_bad_input_is_explained_and_nothing_saved(ctx, login, changes, message):
    response = login(make_user("staff")).post("/support-meetings/new", data=form_data(**changes))
    assert response.status_code == 200
    assert message.encode() in response.data
    assert b"Please fix" in response.data
    assert meeting_count() == 0


def test_a_bad_edit_leaves_the_meeting_as_it_was(ctx, login):
    meeting = make_meeting("Clean Slate NA", location="Grace Community Church")
    response = login(make_user("staff")).post(
        f"/support-meetings/{meeting.id}/edit",
        data=form_data(name="Renamed", location="", online_url="javascript:alert(1)"),
    )
    assert b"Enter a web address that starts with https://" in response.data
    db.session.expire_all()
    saved = db.session.get(SupportMeeting, meeting.id)
    assert (saved.name, saved.location, saved.online_url) == (
        "Clean Slate NA",
        "Grace Community Church",
        None,
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/support-meetings/12345/edit"), ("post", "/support-meetings/12345/delete")],
)
def test_unknown_meeting_is_a_404_page(ctx, login, method, path):
    response = getattr(login(make_user("staff")), method)(path)
    assert response.status_code == 404
    assert b"There is no support meeting with that number." in response.data


@pytest.mark.parametrize("role", ["student", "staff"])
def test_directory_costs_the_same_with_more_meetings(ctx, login, count_queries, role):
    client = login(make_user(role))
    for number in range(3):
        make_meeting(weekday=number % 7, online_url=LINK if number % 2 else "")
    few = count_queries(client, "/support-meetings/")
    for number in range(27):
        make_meeting(
            weekday=number % 7, online_url=LINK if number % 2 else "", active=number % 5 > 0
        )
    assert count_queries(client, "/support-meetings/") == few
