"""Staff keep the academic calendar: terms and their periods."""

from datetime import date

from sqlalchemy import func, select

from crp_portal.extensions import db
from crp_portal.terms.models import CalendarPeriod, Term
from crp_portal.terms.services import current_term
from tests.factories import make_period, make_term, make_user

FALL_2026 = (date(2026, 8, 24), date(2026, 12, 18))


def staff_client(login):
    return login(make_user("staff"))


def test_staff_add_a_term_and_its_periods(ctx, login):
    client = staff_client(login)
    response = client.post(
        "/terms/new",
        data={"name": "Fall 2026", "starts_on": "2026-08-24", "ends_on": "2026-12-18"},
        follow_redirects=True,
    )
    assert b"Fall 2026 is added." in response.data
    term = db.session.scalar(select(Term))
    added = client.post(
        f"/terms/{term.id}/periods",
        data={"kind": "finals", "name": "", "starts_on": "2026-12-12", "ends_on": "2026-12-18"},
        follow_redirects=True,
    )
    assert b"Finals is added to Fall 2026." in added.data
    assert b"Sat 12 Dec 2026" in added.data
    listing = client.get("/terms/").data
    assert b"Fall 2026" in listing


def test_end_before_start_is_explained_and_nothing_saved(ctx, login):
    response = staff_client(login).post(
        "/terms/new", data={"name": "Backwards", "starts_on": "2026-12-18", "ends_on": "2026-08-24"}
    )
    assert b"The end date must be on or after the start date." in response.data
    assert db.session.scalar(select(func.count()).select_from(Term)) == 0


def test_malformed_dates_and_missing_name_are_explained(ctx, login):
    response = staff_client(login).post(
        "/terms/new", data={"name": "", "starts_on": "2026-13-45", "ends_on": "9" * 400}
    )
    assert response.status_code == 200
    assert b"Name the term" in response.data
    assert b"Not a valid date value." in response.data


def test_duplicate_term_name_is_refused_in_place(ctx, login):
    make_term("Fall 2026")
    response = staff_client(login).post(
        "/terms/new", data={"name": "Fall 2026", "starts_on": "2027-08-24", "ends_on": "2027-12-18"}
    )
    assert "A term named “Fall 2026” already exists.".encode() in response.data
    assert db.session.scalar(select(func.count()).select_from(Term)) == 1


def test_period_in_the_wrong_year_is_refused(ctx, login):
    term = make_term("Fall 2026", *FALL_2026)
    response = staff_client(login).post(
        f"/terms/{term.id}/periods",
        data={"kind": "midterms", "starts_on": "2025-10-12", "ends_on": "2025-10-16"},
    )
    assert b"The dates must touch the term" in response.data
    assert db.session.scalar(select(func.count()).select_from(CalendarPeriod)) == 0


def test_unknown_period_kind_is_refused(ctx, login):
    term = make_term("Fall 2026", *FALL_2026)
    response = staff_client(login).post(
        f"/terms/{term.id}/periods",
        data={"kind": "party", "starts_on": "2026-10-12", "ends_on": "2026-10-16"},
    )
    assert b"Not a valid choice" in response.data


def test_edit_and_delete_a_period(ctx, login):
    term = make_term("Fall 2026", *FALL_2026)
    period = make_period(term)
    client = staff_client(login)
    edited = client.post(
        f"/terms/periods/{period.id}/edit",
        data={
            "kind": "break",
            "name": "Winter break",
            "starts_on": "2026-12-18",
            "ends_on": "2027-01-10",
        },
        follow_redirects=True,
    )
    assert b"Winter break is saved." in edited.data
    deleted = client.post(f"/terms/periods/{period.id}/delete", follow_redirects=True)
    assert b"Winter break is deleted." in deleted.data
    assert db.session.scalar(select(func.count()).select_from(CalendarPeriod)) == 0


def test_shrinking_a_term_past_its_periods_is_refused(ctx, login):
    term = make_term("Fall 2026", *FALL_2026)
    make_period(term, starts_on=date(2026, 12, 12), ends_on=date(2026, 12, 18))
    response = staff_client(login).post(
        f"/terms/{term.id}/edit",
        data={"name": "Fall 2026", "starts_on": "2026-08-24", "ends_on": "2026-11-30"},
    )
    assert b"would fall outside the term" in response.data
    db.session.expire_all()
    assert db.session.get(Term, term.id).ends_on == date(2026, 12, 18)


def test_deleting_a_term_removes_its_periods(ctx, login):
    term = make_term("Fall 2026", *FALL_2026)
    make_period(term)
    response = staff_client(login).post(f"/terms/{term.id}/delete", follow_redirects=True)
    assert b"Fall 2026 and its calendar periods are deleted." in response.data
    assert db.session.scalar(select(func.count()).select_from(CalendarPeriod)) == 0


def test_current_term_is_the_running_one_else_the_next(ctx):
    make_term("Spring 2026", date(2026, 1, 12), date(2026, 5, 8))
    make_term("Fall 2026", *FALL_2026)
    assert current_term(date(2026, 3, 1)).name == "Spring 2026"
    assert current_term(date(2026, 6, 1)).name == "Fall 2026"
    assert current_term(date(2027, 1, 1)) is None


def test_home_page_shows_whats_coming_up_this_term(app, ctx, login, monkeypatch):
    term = make_term("Fall 2026", *FALL_2026)
    make_period(term, "finals", date(2026, 12, 12), date(2026, 12, 18))
    make_period(term, "midterms", date(2026, 10, 12), date(2026, 10, 16))
    monkeypatch.setattr("crp_portal.home.routes.local_today", lambda: date(2026, 11, 25))
    page = login(make_user("student")).get("/").data
    assert b"Fall 2026" in page and b"Finals" in page
    assert b"Midterms" not in page  # already over


def test_unknown_term_is_a_404(ctx, login):
    response = staff_client(login).get("/terms/12345")
    assert response.status_code == 404
    assert b"There is no term with that number." in response.data
