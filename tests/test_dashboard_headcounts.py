"""Issue #17, figures that count what happened: people counted by headcount at meetings
that keep no names are on the dashboard, in its CSVs and in the printable report, apart
from attendance by name and in the totals; counts that are not about people (events
held, beds) are shown exactly, while small counts of people are still suppressed."""

import csv
import html
import io
from datetime import date, time, timedelta

import pytest

from crp_portal.dashboard import queries, rollups
from crp_portal.dashboard.exports import SUPPRESSED, Formatter, Parts
from crp_portal.dashboard.queries import DateRange
from crp_portal.dashboard.rollup_models import EventTally
from crp_portal.events.attendance import add_walk_in, record_headcount
from crp_portal.events.models import EventStatus, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.housing.models import BedAssignment
from crp_portal.timeutil import local_midnight, local_today, utcnow
from tests.factories import make_event, make_house, make_term, make_user
from tests.test_dashboard_rollups import rebuilt_rows, refreshed_rows


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def held(staff, day: date, kind: str, headcount_only: bool = False):
    """An evening event on a day that has passed, so attendance is open."""
    return make_event(
        staff,
        day=day,
        kind=kind,
        start_time=time(19),
        end_time=time(20, 30),
        headcount_only=headcount_only,
    )


def walked_in(event, staff, *people) -> None:
    """Staff record people by name at an event that has started."""
    for person in people:
        add_walk_in(event, person.id, staff, utcnow())
    db.session.commit()


def going(event, *people) -> None:
    for number, person in enumerate(people, start=1):
        db.session.add(
            Rsvp(event_id=event.id, user_id=person.id, status=RsvpStatus.GOING, queue_number=number)
        )
    event.going_count = len(people)
    db.session.commit()


class Meetings:
    """The 56 days ending today: an all-recovery meeting 10 days ago that keeps no names,
    where staff counted 19; a peer support group 3 days ago with six students recorded by
    name; a sober social 20 days ago with two. One event of each kind: every count of
    events is under 5."""

    def __init__(self, login):
        today = local_today()
        self.range = DateRange(today - timedelta(days=55), today)
        self.meeting_day = today - timedelta(days=10)
        self.staff = make_user("staff", is_admin=True)
        self.students = [make_user("student", name=f"Student {n}") for n in range(8)]
        self.meeting = held(self.staff, self.meeting_day, "all_recovery", headcount_only=True)
        self.client = login(self.staff)
        response = self.client.post(
            f"/events/{self.meeting.id}/headcount", data={"headcount": "19"}
        )
        assert response.status_code == 302, text(response)
        group = held(self.staff, today - timedelta(days=3), "peer_support")
        walked_in(group, self.staff, *self.students[:6])
        social = held(self.staff, today - timedelta(days=20), "sober_social")
        walked_in(social, self.staff, *self.students[6:])

    @property
    def query(self) -> str:
        return f"start={self.range.start.isoformat()}&end={self.range.end.isoformat()}"

    @property
    def meeting_week_from(self) -> str:
        monday = self.meeting_day - timedelta(days=self.meeting_day.weekday())
        return max(monday, self.range.start).isoformat()


@pytest.fixture
def meetings(ctx, login) -> Meetings:
    return Meetings(login)


# --- Figures --------------------------------------------------------------------------


def test_a_headcount_counts_in_attendance_apart_from_names(meetings):
    figures = queries.figures(meetings.range, None)

    kinds = {row.kind: row for row in figures.events_by_kind}
    meeting = kinds["all_recovery"]
    assert (meeting.events, meeting.named_attendance, meeting.headcount) == (1, 0, 19)
    assert meeting.attendance == 19
    assert (kinds["peer_support"].named_attendance, kinds["peer_support"].headcount) == (6, 0)

    p = figures.participation
    assert (p.named_attendance, p.headcount, p.attendance) == (8, 19, 27)
    assert p.unique_attendees == 8  # nobody at the meeting has a name

    [week] = [w for w in figures.weekly if w.start <= meetings.meeting_day <= w.end]
    assert (week.named_attendance, week.headcount, week.attendance) == (0, 19, 19)
    assert sum(w.attendance for w in figures.weekly) == 27


# --- Screen, print, CSV ------------------------------------------------------------------


def test_the_dashboard_shows_the_headcount_labelled_and_in_the_totals(meetings):
    page = text(meetings.client.get(f"/dashboard/?{meetings.query}"))

    assert "<dt>Attendance</dt><dd>27</dd>" in page
    assert "<dt>Attendance by name</dt><dd>8</dd>" in page
    assert "<dt>Headcount</dt><dd>19</dd>" in page
    assert (
        '<th scope="col">Attendance</th><th scope="col">Attendance by name</th>'
        '<th scope="col">Headcount</th>'
    ) in page
    assert (
        '<th scope="row">All-recovery meeting</th><td>1</td><td>19</td><td>0</td><td>19</td>'
        in (page)
    )
    assert '<th scope="row">Peer support group</th><td>1</td><td>6</td><td>6</td><td>0</td>' in page
    assert "<dt>Events held</dt><dd>3</dd>" in page


def test_the_printable_report_counts_the_headcount_and_shows_events_exactly(meetings):
    page = text(meetings.client.get(f"/dashboard/print?{meetings.query}"))

    assert "<h1>Participation report</h1>" in page
    assert "<dt>Attendance</dt><dd>27</dd>" in page
    assert "<dt>Headcount</dt><dd>19</dd>" in page
    assert "<dt>Events held</dt><dd>3</dd>" in page
    # events are not people: 1 is shown; the people at them are still suppressed
    assert (
        '<th scope="row">All-recovery meeting</th><td>1</td><td>19</td><td><5</td><td>19</td>'
        in (page)
    )
    assert '<th scope="row">Sober social</th><td>1</td><td><5</td><td><5</td><td><5</td>' in page
    assert '<th scope="row">Wellness</th><td>0</td><td><5</td><td><5</td><td><5</td>' in page
    assert "counts of events and beds are shown in full" in page


def test_the_csvs_count_the_headcount_and_show_events_exactly(meetings):
    client = meetings.client
    rows = rows_of(client.get(f"/dashboard/export/events_by_kind.csv?{meetings.query}"))
    assert rows[0] == ["Kind", "Events held", "Attendance", "Attendance by name", "Headcount"]
    assert ["All-recovery meeting", "1", "19", "<5", "19"] in rows
    assert ["Peer support group", "1", "6", "6", "<5"] in rows
    assert ["Sober social", "1", "<5", "<5", "<5"] in rows
    assert ["Wellness", "0", "<5", "<5", "<5"] in rows

    weekly = rows_of(client.get(f"/dashboard/export/weekly.csv?{meetings.query}"))
    by_week = {row[0]: row[2:] for row in weekly[1:]}
    assert by_week[meetings.meeting_week_from] == ["19", "<5"]


def test_a_total_never_gives_away_a_suppressed_part():
    printed = Formatter(5, suppress=True)
    assert printed.attendance(3, 19) == Parts(SUPPRESSED, "<5", "19")
    assert (printed.attendance(0, 19).total, printed.attendance(0, 19).named) == ("19", "<5")
    assert printed.attendance(2, 1).total == "<5"
    assert printed.attendance(7, 9).total == "16"
    on_screen = Formatter(5, suppress=False).attendance(3, 19)
    assert (on_screen.total, on_screen.named, on_screen.headcount) == ("22", "3", "19")
    assert printed.exact(0) == "0" and printed.count(0) == "<5"


def test_small_named_attendance_beside_a_headcount_suppresses_the_total(ctx, login):
    today = local_today()
    staff = make_user("staff")
    meeting = held(staff, today - timedelta(days=2), "all_recovery", headcount_only=True)
    record_headcount(meeting, 19, utcnow())
    group = held(staff, today - timedelta(days=1), "peer_support")
    walked_in(group, staff, make_user("student"), make_user("student"))
    query = f"start={(today - timedelta(days=6)).isoformat()}&end={today.isoformat()}"
    client = login(staff)

    page = text(client.get(f"/dashboard/print?{query}"))
    assert f"<dt>Attendance</dt><dd>{SUPPRESSED}</dd>" in page
    assert "<dt>Attendance by name</dt><dd><5</dd>" in page
    assert "<dt>Headcount</dt><dd>19</dd>" in page
    assert "<dt>Attendance</dt><dd>21</dd>" in text(client.get(f"/dashboard/?{query}"))


def test_beds_are_not_people(ctx, login):
    today = local_today()
    staff = make_user("staff")
    term = make_term("Now", today - timedelta(days=30), today + timedelta(days=30))
    house = make_house("Elm House", rooms=1, beds_per_room=3)
    db.session.add(
        BedAssignment(term_id=term.id, bed_id=house.rooms[0].beds[0].id,
                      student_id=make_user("student").id, status="accepted", reply_by=today)
    )  # fmt: skip
    db.session.commit()
    rows = rows_of(login(staff).get(f"/dashboard/export/housing.csv?term={term.id}"))
    assert rows[1] == ["Elm House", "<5", "3", SUPPRESSED]


def test_rsvps_to_a_meeting_that_keeps_no_names_leave_the_rate_alone(ctx):
    today = local_today()
    staff = make_user("staff")
    people = [make_user("student") for _ in range(5)]
    group = held(staff, today - timedelta(days=1), "peer_support")
    going(group, *people[:2])
    walked_in(group, staff, *people[:2])
    meeting = held(staff, today - timedelta(days=2), "all_recovery", headcount_only=True)
    going(meeting, *people[2:])
    record_headcount(meeting, 12, utcnow())
    db.session.commit()

    p = queries.figures(DateRange(today - timedelta(days=6), today), None).participation
    assert (p.going_rsvps, p.going_to_named_events, p.going_and_attended) == (5, 2, 2)
    assert p.rsvp_attendance_rate == 1.0


# --- Rollups ------------------------------------------------------------------------------


def test_headcount_changes_refresh_exactly_as_a_rebuild(ctx):
    today = local_today()
    staff = make_user("staff")
    meeting = held(staff, today - timedelta(days=9), "all_recovery", headcount_only=True)
    span = DateRange(today - timedelta(days=30), today)

    def attendance() -> tuple[int, int]:
        figures = queries.figures(span, None)
        db.session.commit()
        return figures.participation.headcount, figures.participation.attendance

    assert refreshed_rows() == rebuilt_rows()
    assert db.session.get(EventTally, meeting.id).headcount == 0  # not yet counted

    record_headcount(meeting, 19, utcnow())
    db.session.commit()
    assert attendance() == (19, 19)
    assert refreshed_rows() == rebuilt_rows()

    record_headcount(meeting, 21, utcnow())  # counted again: the number replaces the last
    db.session.commit()
    assert attendance() == (21, 21)
    assert refreshed_rows() == rebuilt_rows()

    meeting.starts_at = local_midnight(today - timedelta(days=16)) + timedelta(hours=19)
    meeting.ends_at = meeting.starts_at + timedelta(hours=1)
    db.session.commit()
    assert refreshed_rows() == rebuilt_rows()
    weeks = queries.weekly_trend(span)
    assert [w.headcount for w in weeks if w.headcount] == [21]
    assert [w for w in weeks if w.headcount][0].start <= today - timedelta(days=16)

    meeting.headcount_only = False  # now it takes names: the old number no longer counts
    db.session.commit()
    assert attendance() == (0, 0)
    assert refreshed_rows() == rebuilt_rows()

    meeting.headcount_only = True
    db.session.commit()
    assert attendance() == (21, 21)
    meeting.status = EventStatus.CANCELLED
    db.session.commit()
    assert attendance() == (0, 0)
    assert refreshed_rows() == rebuilt_rows()


def test_a_rebuild_mark_fills_headcounts_in(ctx):
    """What the migration leaves: tallies written before they had a headcount."""
    today = local_today()
    staff = make_user("staff")
    meeting = held(staff, today - timedelta(days=3), "all_recovery", headcount_only=True)
    record_headcount(meeting, 19, utcnow())
    db.session.commit()
    rollups.refresh()
    db.session.get(EventTally, meeting.id).headcount = None
    db.session.commit()
    rollups.mark_everything()
    figures = queries.figures(DateRange(today - timedelta(days=6), today), None)
    assert figures.participation.headcount == 19
