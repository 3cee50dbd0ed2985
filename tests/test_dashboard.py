"""The staff dashboard: figures on a small arranged world, the page, CSV suppression,
the falling list, bad filters, access, and a statement count that does not grow."""

import csv
import html
import io
import re
from datetime import date, time, timedelta

import pytest
from flask import render_template_string

from crp_portal.dashboard import queries, rollups, routes
from crp_portal.dashboard.queries import DateRange
from crp_portal.events.models import Attendance, EventStatus, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.housing.models import BedAssignment
from crp_portal.recovery.models import CheckIn, FollowUp
from crp_portal.timeutil import local_today
from tests.factories import make_appointment, make_event, make_house, make_term, make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def student(name: str, status: str = "active"):
    return make_user("student", name=name, status=status, password=None)


def event_on(day: date, kind: str = "peer_support", staff=None, cancelled: bool = False):
    event = make_event(staff, day=day, kind=kind, start_time=time(19), end_time=time(20, 30))
    if cancelled:
        event.status = EventStatus.CANCELLED
        db.session.commit()
    return event


def going(event, *people):
    for number, person in enumerate(people, start=1):
        db.session.add(
            Rsvp(event_id=event.id, user_id=person.id, status=RsvpStatus.GOING, queue_number=number)
        )
    event.going_count = len(people)
    db.session.commit()


def attended(event, *people):
    for person in people:
        db.session.add(Attendance(event_id=event.id, user_id=person.id, source="roster"))
    db.session.commit()


def check_in(person, week_start: date):
    db.session.add(CheckIn(student_id=person.id, week_start=week_start, mood=3, stress=3, sleep=3))
    db.session.commit()


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


class World:
    """Ada, Ben, Cy and Fay active; Dee on leave; Eve applying. The range is the 56
    days ending today; the term runs around it.

    - Events: peer support 3 days ago (RSVPs Ada, Ben; attended by Ada and Cy), sober
      social 30 days ago (RSVP and attendance Cy), one 100 days ago (Ben attended),
      one cancelled.
    - Advising: Ben completed 28 days ago; Ada no-show 10 days ago, booked yesterday;
      Cy completed 200 days ago.
    - Check-ins: Cy this week and last; Fay 5 weeks ago. Fay joined long ago.
    - Housing: a house with two beds, Ada accepted for the term. One open follow-up.
    """

    def __init__(self):
        today = local_today()
        self.range = DateRange(today - timedelta(days=55), today)
        self.staff = make_user("staff", is_admin=True)
        self.ada, self.ben = student("Ada Adams"), student("Ben Brown")
        self.cy, self.fay = student("Cy Chen"), student("Fay Fox")
        self.dee = student("Dee Diaz", status="on_leave")
        self.eve = student("Eve Evans", status="applicant")
        self.fay.profile.joined_on = today - timedelta(days=400)
        db.session.commit()

        self.recent = event_on(today - timedelta(days=3), staff=self.staff)
        self.earlier = event_on(today - timedelta(days=30), kind="sober_social", staff=self.staff)
        old = event_on(today - timedelta(days=100), staff=self.staff)
        event_on(today - timedelta(days=5), staff=self.staff, cancelled=True)
        going(self.recent, self.ada, self.ben)
        going(self.earlier, self.cy)
        attended(self.recent, self.ada, self.cy)
        attended(self.earlier, self.cy)
        attended(old, self.ben)

        advisor = make_user("advisor")
        make_appointment(advisor, self.ben, days_ahead=-28, status="completed")
        make_appointment(advisor, self.ada, days_ahead=-10, status="no_show")
        make_appointment(advisor, self.ada, days_ahead=-1)
        make_appointment(advisor, self.cy, days_ahead=-200, status="completed")

        check_in(self.cy, monday(today))
        check_in(self.cy, monday(today) - timedelta(days=7))
        check_in(self.fay, monday(today - timedelta(days=35)))

        self.term = make_term("Now term", today - timedelta(days=60), today + timedelta(days=60))
        self.house = make_house("Elm House", rooms=1, beds_per_room=2)
        bed = self.house.rooms[0].beds[0]
        db.session.add(
            BedAssignment(term_id=self.term.id, bed_id=bed.id, student_id=self.ada.id,
                          status="accepted", reply_by=today)
        )  # fmt: skip
        db.session.add(FollowUp(student_id=self.ada.id, reason="staff_concern", status="open"))
        db.session.commit()

    @property
    def query(self) -> str:
        return f"start={self.range.start.isoformat()}&end={self.range.end.isoformat()}"


# --- Figures --------------------------------------------------------------------------


def test_each_figure_on_a_small_world(ctx):
    world = World()
    figures = queries.figures(world.range, world.term)

    members = figures.members
    assert (members.count("active"), members.count("on_leave")) == (4, 1)
    assert (members.count("applicant"), members.count("alumni")) == (1, 0)
    assert members.joined_in_range == 3

    kinds = {row.kind: (row.events, row.attendance) for row in figures.events_by_kind}
    assert kinds["peer_support"] == (1, 2)
    assert kinds["sober_social"] == (1, 1)
    assert kinds["wellness"] == (0, 0)
    assert figures.events_held == 2

    p = figures.participation
    assert (p.going_rsvps, p.going_and_attended, p.attendance, p.unique_attendees) == (3, 2, 3, 2)
    assert p.rsvp_attendance_rate == pytest.approx(2 / 3)
    assert p.active_members == 4
    assert p.events_per_active_member == pytest.approx(3 / 4)

    assert len(figures.weekly) == len(world.range.weeks())
    weeks = [(w.attendance, w.unique_attendees) for w in figures.weekly if w.attendance]
    assert weeks == [(1, 1), (2, 2)]
    assert figures.weekly[0].start == world.range.start
    assert figures.weekly[-1].end == world.range.end

    assert {row.status: row.count for row in figures.advising} == {
        "booked": 1, "completed": 1, "no_show": 1, "cancelled": 0,
    }  # fmt: skip

    [house] = figures.housing.houses
    assert (house.name, house.occupied, house.beds, house.rate) == ("Elm House", 1, 2, 0.5)

    c = figures.check_ins
    assert (c.check_ins, c.active_members, c.weeks) == (3, 4, len(world.range.weeks()))
    assert c.completion_rate == pytest.approx(3 / (4 * c.weeks))
    assert c.open_follow_ups == 1

    assert [(t.tier, t.members) for t in figures.engagement.tiers] == [
        ("0", 1), ("1–2", 2), ("3+", 1),
    ]  # fmt: skip

    assert [m.name for m in figures.falling.members] == ["Ben Brown", "Fay Fox"]
    assert figures.falling.total == 2


def test_weekly_trend_buckets_by_local_week(ctx):
    staff = make_user("staff")
    person = student("Gus Green")
    sunday = date(2026, 3, 8)  # the night clocks change in New York; 19:00 Sunday, local
    attended(event_on(sunday, staff=staff), person)
    attended(event_on(sunday + timedelta(days=1), staff=staff), person)
    rollups.refresh()
    weeks = queries.weekly_trend(DateRange(date(2026, 3, 2), date(2026, 3, 15)))
    assert [(w.start, w.attendance, w.unique_attendees) for w in weeks] == [
        (date(2026, 3, 2), 1, 1),
        (date(2026, 3, 9), 1, 1),
    ]


def test_falling_list_is_capped_with_the_total(ctx):
    today = local_today()
    for name in ("Ann", "Bo", "Cal"):
        check_in(student(name), monday(today - timedelta(days=35)))
    rollups.refresh()
    found = queries.falling(DateRange(today - timedelta(days=10), today), limit=2)
    assert [m.name for m in found.members] == ["Ann", "Bo"]
    assert (found.total, found.more) == (3, 1)


def test_erased_and_inactive_members_are_not_on_the_falling_list(ctx):
    today = local_today()
    gone = student("Gone", status="alumni")
    check_in(gone, monday(today - timedelta(days=35)))
    assert queries.falling(DateRange(today, today)).members == []


# --- Pages ------------------------------------------------------------------------------


def test_overview_shows_the_figures_and_the_falling_list(ctx, login):
    world = World()
    page = text(login(world.staff).get(f"/dashboard/?{world.query}"))
    assert "<h1>Dashboard</h1>" in page
    assert "RSVP → attendance rate</dt><dd>67%" in page
    assert "Events attended per active member</dt><dd>0.8 on average" in page
    assert '<th scope="row">Peer support group</th><td>1</td><td>2</td>' in page
    assert '<th scope="row">Elm House</th><td>1</td><td>2</td><td>50%</td>' in page
    assert '<th scope="row">3+</th><td>1</td>' in page
    assert "Open follow-ups</dt><dd>1" in page
    # charts: titled, labelled, with a table behind
    assert page.count('role="img"') == 2
    assert "<title>Attendance and unique attendees by week</title>" in page
    assert "<caption>Attendance and unique attendees by week" in page
    # the falling list links to the record and opens a follow-up
    assert f'href="/members/{world.ben.id}">Ben Brown</a>' in page
    assert f'formaction="/members/{world.fay.id}/follow-ups"' in page
    assert f'href="/members/{world.cy.id}"' not in page
    assert "/dashboard/export/tiers.csv?start=" in page


def tags(page: str) -> str:
    """Markup with the whitespace between tags and runs of spaces taken out."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", page)).strip()


@pytest.mark.parametrize(
    "query",
    ["", "term=abc", "start=2026-13-45&end=2026-04-01", "start=%22%3E%3Cb&end=2026-04-01"],
)
def test_the_filter_is_written_as_wtforms_and_the_field_macro_write_it(ctx, app, login, query):
    """The page writes its filter's fields itself (WTForms' widgets cost it more than its
    tables), so it must write what `form.term()` and `field()` (_forms.html) would."""
    world = World()
    page = tags(login(world.staff).get(f"/dashboard/?{query}").get_data(as_text=True))
    with app.test_request_context(f"/dashboard/?{query}"):
        form = routes._filter().form
        term = render_template_string("{{ form.term.label() }} {{ form.term() }}", form=form)
        dates = [
            render_template_string(
                '{% from "_forms.html" import field %}{{ field(f) }}', f=getattr(form, name)
            )
            for name in ("start", "end")
        ]
    for written in [term, *dates]:
        assert tags(written) in page


def test_the_falling_list_is_one_form_whose_buttons_post_to_each_member(ctx, login):
    world = World()
    page = text(login(world.staff).get(f"/dashboard/?{world.query}"))
    falling = page[page.index('<h2 id="falling">') :]
    assert falling.count('name="csrf_token"') == 1
    for member in (world.ben, world.fay):
        assert f'formaction="/members/{member.id}/follow-ups"' in falling


def test_opening_a_follow_up_from_the_list(ctx, login):
    world = World()
    client = login(world.staff)
    response = client.post(f"/members/{world.fay.id}/follow-ups", data={})
    assert response.status_code == 302
    assert db.session.query(FollowUp).filter_by(student_id=world.fay.id).count() == 1


def test_default_is_the_current_term_and_a_term_can_be_chosen(ctx, login):
    world = World()
    other = make_term("Long ago", date(2020, 1, 6), date(2020, 5, 1))
    client = login(world.staff)
    page = text(client.get("/dashboard/"))
    assert "(Now term)" in page
    assert f'<option selected value="{world.term.id}">Now term</option>' in page
    page = text(client.get(f"/dashboard/?term={other.id}"))
    assert "From Mon 6 Jan 2020 to Fri 1 May 2020 (Long ago)." in page


def test_printable_report_suppresses_and_names_nobody(ctx, login):
    world = World()
    response = login(world.staff).get(f"/dashboard/print?{world.query}")
    page = text(response)
    assert response.status_code == 200
    assert "<h1>Participation report</h1>" in page
    assert "Ben Brown" not in page and "Fay Fox" not in page
    assert '<form method="get"' not in page and "Open a follow-up" not in page
    assert '<th scope="row">Active</th><td>&lt;5</td>' in response.get_data(as_text=True)
    assert "RSVP → attendance rate</dt><dd>suppressed" in page
    assert "Download this table" not in page and 'role="img"' not in page


def test_no_terms_at_all_shows_the_last_13_weeks(ctx, login):
    page = text(login(make_user("staff")).get("/dashboard/"))
    today = local_today()
    assert f"to {today.strftime('%a')} {today.day} {today:%b %Y}." in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-05-01&end=2026-04-01", "The range must end on or after the day it starts."),
        ("start=2026-13-45&end=2026-04-01", "Not a valid date value."),
        ("start=2020-01-01&end=2026-01-01", "Choose a range of at most 3 years."),
        ("start=2026-01-01", "Enter both dates of the range"),
        ("start=0001-01-01&end=0001-01-02", "Enter a date between 2000 and 2100."),
        ("term=99999", "Choose a term from the list."),
        ("term=abc", "Choose a term from the list."),
    ],
)
def test_bad_filters_give_a_message_in_place(ctx, login, query, message):
    client = login(make_user("staff"))
    response = client.get(f"/dashboard/?{query}")
    assert response.status_code == 200
    assert message in text(response)
    assert "These choices cannot be used" in text(response)
    assert client.get(f"/dashboard/print?{query}").status_code == 200
    export = client.get(f"/dashboard/export/status.csv?{query}")
    assert export.status_code == 400
    assert message in export.get_data(as_text=True)


@pytest.mark.parametrize("role", ["student", "advisor"])
@pytest.mark.parametrize(
    "path", ["/dashboard/", "/dashboard/print", "/dashboard/export/status.csv"]
)
def test_only_staff_may_see_the_dashboard(ctx, login, role, path):
    assert login(make_user(role)).get(path).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, ctx):
    assert client.get("/dashboard/").status_code == 302


# --- Exports ------------------------------------------------------------------------------


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_suppresses_small_counts(ctx, login):
    for number in range(7):
        student(f"Active {number}")
    for number in range(3):
        student(f"Leave {number}", status="on_leave")
    today = local_today()
    response = login(make_user("staff")).get(
        f"/dashboard/export/status.csv?start={today.isoformat()}&end={today.isoformat()}"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="crp-status-{today.isoformat()}-to-{today.isoformat()}.csv"'
    )
    rows = rows_of(response)
    assert rows[0] == ["Status", "Members"]
    assert ["Active", "7"] in rows
    assert ["On leave", "<5"] in rows
    assert ["Alumni", "<5"] in rows  # zero too
    assert ["Joined in the range", "7"] in rows


def test_csv_rates_from_suppressed_counts_are_suppressed(ctx, login):
    world = World()
    client = login(world.staff)
    [header, house] = rows_of(client.get(f"/dashboard/export/housing.csv?{world.query}"))
    assert header == ["House", "Beds taken (accepted)", "Active beds", "Occupancy"]
    assert house == ["Elm House", "<5", "2", "suppressed"]  # beds are not people


@pytest.mark.parametrize("app_config", [{"CRP_MIN_CELL": 2}])
def test_csv_follows_the_configured_minimum(ctx, login, app_config):
    world = World()
    client = login(world.staff)
    rows = rows_of(client.get(f"/dashboard/export/events_by_kind.csv?{world.query}"))
    assert ["Peer support group", "1", "2", "2", "<2"] in rows  # events are not people
    assert ["Wellness", "0", "<2", "<2", "<2"] in rows
    weekly = rows_of(client.get(f"/dashboard/export/weekly.csv?{world.query}"))
    assert weekly[0] == ["Week from", "Week to", "Attendance", "Unique attendees"]
    assert len(weekly) == 1 + len(world.range.weeks())
    assert sum(row[2] == "2" for row in weekly) == 1
    [_, house] = rows_of(client.get(f"/dashboard/export/housing.csv?{world.query}"))
    assert house == ["Elm House", "<2", "2", "suppressed"]


@pytest.mark.parametrize(
    "table", ["status", "events_by_kind", "weekly", "advising", "housing", "tiers"]
)
def test_every_table_exports(ctx, login, table):
    world = World()
    response = login(world.staff).get(f"/dashboard/export/{table}.csv?{world.query}")
    assert response.status_code == 200
    assert len(rows_of(response)) >= 2


@pytest.mark.parametrize("table", ["falling", "nope", "..%2Fstatus"])
def test_unknown_tables_and_the_named_list_are_not_exported(ctx, login, table):
    assert login(make_user("staff")).get(f"/dashboard/export/{table}.csv").status_code == 404


# --- Cost ---------------------------------------------------------------------------------


def add_history(count: int, staff, today: date) -> None:
    """`count` members each with an RSVP, an attendance, an appointment and a check-in,
    and `count` events, spread over the range."""
    advisor = make_user("advisor", password=None)
    for number in range(count):
        person = make_user("student", password=None)
        event = event_on(today - timedelta(days=number % 50), staff=staff)
        going(event, person)
        attended(event, person)
        make_appointment(advisor, person, days_ahead=-(number % 40), hour=9 + number % 8,
                         status="completed")  # fmt: skip
        check_in(person, monday(today - timedelta(days=7 * (number % 8))))


@pytest.mark.parametrize(
    "path",
    ["/dashboard/", "/dashboard/?{query}", "/dashboard/print", "/dashboard/export/weekly.csv"],
)
def test_dashboard_costs_the_same_with_more_data(ctx, login, count_queries, path):
    """Reading costs the same; the refresh of what the writes marked is the writes' cost
    (see test_dashboard_rollups.py)."""
    world = World()
    client = login(world.staff)
    target = path.format(query=world.query)
    today = local_today()
    add_history(2, world.staff, today)
    rollups.refresh()
    db.session.commit()
    few = count_queries(client, target)
    add_history(18, world.staff, today)  # 10× the first history
    rollups.refresh()
    db.session.commit()
    assert count_queries(client, target) == few, target
    assert few <= 16, few


def test_mid_term_the_falling_list_looks_back_from_today_not_the_terms_end(ctx):
    """Someone at last week's event is not "falling" just because the term ends in a month."""
    today = local_today()
    regular = student("Riley Regular")
    attended(event_on(today - timedelta(days=35)), regular)
    attended(event_on(today - timedelta(days=7)), regular)
    term_range = DateRange(today - timedelta(days=60), today + timedelta(days=30))
    found = queries.figures(term_range, None, today=today)
    assert found.falling.until == today
    assert regular.id not in {member.user_id for member in found.falling.members}
    assert found.engagement is not None
