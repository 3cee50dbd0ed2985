"""Dates a program can use, and addresses PostgreSQL can read (security issue #15, item 5).

A date is typed or imported between 2000 and 2100, or refused with a message; a term
stored with wilder dates before that rule still leaves the dashboard, its CSVs and the
nudges working. A NUL in an address is a 404 (path) or 400 (query), never a 500.
"""

import html
from datetime import date, time

import pytest
from sqlalchemy import func, select

from crp_portal.advising.availability import add_day_off
from crp_portal.audit.search import AuditFilter, search_audit
from crp_portal.dashboard import outcomes
from crp_portal.errors import DomainError
from crp_portal.events.models import Event
from crp_portal.events.services import create_event
from crp_portal.extensions import db
from crp_portal.nudges.models import Campaign
from crp_portal.outbox.models import OutboxMessage
from crp_portal.terms import ics_import
from crp_portal.terms.models import Term
from crp_portal.terms.services import create_term
from tests.factories import event_details, make_campaign, make_user

BOUNDS_MESSAGE = "Enter a date between 2000 and 2100."
EVENT_FORM = {
    "kind": "sober_social",
    "title": "Board game night",
    "public_title": "Game night",
    "description": "",
    "day": "9999-12-31",
    "start_time": "23:00",
    "end_time": "23:30",
    "location": "Student Center lounge",
    "online_link": "",
    "capacity": "",
    "rsvp_deadline": "",
}


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None, "CRP_BASE_URL": "https://crp.example.edu"}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- typed dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [("0001-01-01", "9999-12-31"), ("1999-12-31", "2000-05-01"), ("2100-09-01", "2101-01-01")],
)
def test_a_term_outside_the_years_a_program_uses_is_refused_at_the_form(
    ctx, login, starts_on, ends_on
):
    staff = login(make_user("staff"))
    response = staff.post(
        "/terms/new", data={"name": "Forever", "starts_on": starts_on, "ends_on": ends_on}
    )
    assert response.status_code == 200
    assert BOUNDS_MESSAGE in text(response)
    assert count(Term) == 0


def test_the_first_and_last_usable_days_are_accepted(ctx, login):
    staff = login(make_user("staff"))
    response = staff.post(
        "/terms/new",
        data={"name": "The century", "starts_on": "2000-01-01", "ends_on": "2100-12-31"},
        follow_redirects=True,
    )
    assert "The century is added." in text(response)


def test_the_term_service_refuses_extreme_dates_too(ctx):
    with pytest.raises(DomainError, match=BOUNDS_MESSAGE):
        create_term("Forever", date(1, 1, 1), date(9999, 12, 31))


def test_an_event_on_the_last_day_of_9999_is_refused_not_a_500(ctx, login):
    response = login(make_user("staff")).post("/events/new", data=EVENT_FORM)
    assert response.status_code == 200
    assert BOUNDS_MESSAGE in text(response)
    assert count(Event) == 0


def test_an_event_on_the_last_usable_evening_works_everywhere(ctx, login):
    staff = login(make_user("staff"))
    response = staff.post("/events/new", data={**EVENT_FORM, "day": "2100-12-31"})
    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert staff.get(f"/events/{event.id}").status_code == 200
    assert staff.get(f"/events/{event.id}.ics").status_code == 200
    assert staff.get("/events/month?year=2100&month=12").status_code == 200


def test_the_event_service_refuses_it_too(ctx):
    staff = make_user("staff")
    details = event_details(day=date(9999, 12, 31), start_time=time(23), end_time=time(23, 30))
    with pytest.raises(DomainError, match=BOUNDS_MESSAGE):
        create_event(details, staff)
    assert count(Event) == 0


def feed(*events: tuple[str, str, str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Registrar//EN"]
    for uid, start, end in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "SUMMARY:Final exams",
            f"DTSTART;VALUE=DATE:{start}",
            f"DTEND;VALUE=DATE:{end}",
            "END:VEVENT",
        ]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def test_an_imported_calendar_event_outside_the_years_is_left_out_and_says_why(ctx):
    events = ics_import.read_feed(
        feed(("old", "19991213", "19991218"), ("far", "21011213", "21011218"))
    )
    assert [event.problem for event in events] == ["its dates are outside 2000–2100"] * 2


def test_other_services_refuse_extreme_dates(ctx):
    advisor = make_user("advisor")
    with pytest.raises(DomainError, match=BOUNDS_MESSAGE):
        add_day_off(advisor, date(9999, 12, 31), "")
    with pytest.raises(DomainError, match=BOUNDS_MESSAGE):
        search_audit(AuditFilter(date_to=date(9999, 12, 31)), 1)


def test_a_day_off_in_9999_is_refused_at_the_form(ctx, login):
    response = login(make_user("advisor")).post(
        "/advising/availability/days-off", data={"day": "9999-12-31", "note": ""}
    )
    assert BOUNDS_MESSAGE in text(response)


@pytest.mark.parametrize(
    "query",
    ["start=0001-01-01&end=0001-01-02", "start=2100-12-30&end=2101-01-02"],
)
def test_a_dashboard_range_outside_the_years_is_refused(ctx, login, query):
    response = login(make_user("staff")).get(f"/dashboard/?{query}")
    assert response.status_code == 200
    assert BOUNDS_MESSAGE in text(response)


# --- a term already stored with extreme dates --------------------------------------------


@pytest.fixture
def forever_term(ctx):
    """A term inserted before dates were bounded, under way today and for ever."""
    term = Term(name="Forever", starts_on=date(1, 1, 1), ends_on=date(9999, 12, 31))
    db.session.add(term)
    db.session.commit()
    return term


def make_advising_campaign() -> Campaign:
    return make_campaign(
        "Week four",
        trigger="no_advising",
        period_kind=None,
        anchor=None,
        offset_days=28,
        audience="no_advising_this_term",
        subject_template="Have you met your advisor, {{ first_name }}?",
        body_template="Hi {{ first_name }}, book a time: {{ advising_link }}",
        active_from=date(2000, 1, 1),
    )


def test_the_dashboard_and_its_csv_work_around_a_stored_extreme_term(forever_term, login):
    make_user("student", name="Ana Reyes")
    staff = login(make_user("staff"))
    page = staff.get("/dashboard/")
    assert page.status_code == 200
    assert "Forever" in text(page)
    assert "outside 2000–2100" in text(page)
    chosen = staff.get(f"/dashboard/?term={forever_term.id}")
    assert chosen.status_code == 200
    export = staff.get(f"/dashboard/export/weekly.csv?term={forever_term.id}")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    assert "2000-01-01-to-2100-12-31" in export.headers["Content-Disposition"]
    assert staff.get("/dashboard/export/status.csv").status_code == 200
    assert staff.get("/dashboard/print").status_code == 200
    assert staff.get("/").status_code == 200
    assert staff.get("/terms/").status_code == 200


def test_academic_outcomes_count_touches_within_the_years_of_such_a_term(forever_term):
    figures = outcomes.outcomes_for(forever_term, 5)
    assert figures.term == forever_term


def test_a_nudge_dry_run_works_around_a_stored_extreme_term(forever_term, login):
    make_user("student", name="Ana Reyes")
    campaign = make_advising_campaign()
    staff = login(make_user("staff"))
    page = staff.get(f"/nudges/campaigns/{campaign.id}/dry-run")
    assert page.status_code == 200
    assert "Week four" in text(page)
    assert "campaigns and audiences that count from the term skip it" in text(page)
    assert staff.get(f"/nudges/campaigns/{campaign.id}/dry-run?on=2030-01-01").status_code == 200


def test_flask_nudges_run_works_around_a_stored_extreme_term(app, forever_term):
    make_user("student", name="Ana Reyes")
    make_advising_campaign()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["nudges", "run", "--at", "2026-10-01T10:00"])
    assert result.exit_code == 0, result.output
    assert "The current term, Forever, is saved with dates outside 2000–2100" in result.output
    assert count(OutboxMessage) == 0


def test_the_nudge_cli_refuses_a_moment_outside_the_years(app, ctx):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["nudges", "run", "--at", "9999-12-31T23:00"])
    assert result.exit_code == 2, result.output
    assert BOUNDS_MESSAGE in result.output


# --- addresses with characters PostgreSQL refuses ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/%00.ics",
        "/calendar/abc%00def.ics",
        "/unsubscribe/%00",
        "/reset-password/%00",
        "/invitations/%00",
        "/%00",
        "/events/%00",
        "/dashboard/export/%00.csv",
    ],
)
def test_a_nul_in_the_path_is_a_404_on_every_database(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Error 404." in text(response)


@pytest.mark.parametrize(
    "path",
    [
        "/?q=%00",
        "/calendar/token.ics?x=a%00b",
        "/events/?kind=%00",
        "/sign-in?next=%00",
        "/?%00x=1",
    ],
)
def test_a_nul_in_the_query_string_is_a_400_on_every_database(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "Bad request" in text(response) and "Error 400." in text(response)
    assert "a hidden character in it that the portal cannot read" in text(response)


def test_a_nul_in_a_signed_in_query_is_a_400(ctx, login):
    staff = login(make_user("staff", is_admin=True))
    for path in (
        "/admin/audit?who=%00",
        "/dashboard/?start=2026-01-01%00",
        "/events/?kind=a%00",
        "/housing/queue?term=%00&status=%00",
        "/terms/1?x=%00",
    ):
        response = staff.get(path)
        assert response.status_code == 400, path
        assert "Bad request" in text(response)


def test_a_lone_surrogate_escape_in_the_path_is_a_404(client):
    response = client.get("/calendar/%ED%A0%80.ics")
    assert response.status_code == 404
