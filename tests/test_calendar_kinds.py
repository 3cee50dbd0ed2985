"""Holidays and reading days in the academic calendar: imported from the registrar's feed,
kept between terms where a winter break falls, allowed by the database, and read right by
the nudges that count from breaks."""

from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from crp_portal.extensions import db
from crp_portal.nudges.campaigns import describe_trigger
from crp_portal.nudges.models import Trigger
from crp_portal.terms import ics_import
from crp_portal.terms.models import PERIOD_KINDS, CalendarPeriod
from crp_portal.terms.services import DateRangeError, add_period, update_term
from tests.factories import make_academic_year, make_term, make_user
from tests.test_calendar_import import FEED, academic_year, counts, save, upload
from tests.test_migrations import _empty_database
from tests.test_nudge_planning import at, make_campaign, make_member, planned_for


def feed(*events: tuple[str, str, str]) -> str:
    """A registrar calendar of all-day events: (title, first day, day after the last)."""
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:e{number}@registrar.test\r\nDTSTAMP:20260301T120000Z\r\n"
        f"DTSTART;VALUE=DATE:{start}\r\nDTEND;VALUE=DATE:{end}\r\nSUMMARY:{title}\r\n"
        "END:VEVENT\r\n"
        for number, (title, start, end) in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"


def planned(text_: str) -> dict[str, tuple[str | None, str | None, str]]:
    """Title → (kind, term name, outcome) with the default rules."""
    rules = ics_import.parse_rules(ics_import.DEFAULT_RULES)
    lines = ics_import.plan_import(ics_import.read_feed(text_), rules).lines
    return {
        line.event.title: (line.kind, line.term.name if line.term else None, line.outcome)
        for line in lines
    }


def test_the_new_kinds_have_labels():
    assert PERIOD_KINDS["holiday"] == "Holiday"
    assert PERIOD_KINDS["reading_days"] == "Reading days"


def test_the_default_rules_recognise_holidays_and_reading_days(ctx):
    academic_year()  # Fall 2026 ends 18 Dec; Spring 2027 starts 19 Jan
    found = planned(
        feed(
            ("Labor Day Holiday\\, No Classes", "20260907", "20260908"),
            ("Thanksgiving", "20261126", "20261128"),
            ("Thanksgiving Recess", "20261125", "20261130"),
            ("Reading Days", "20261210", "20261212"),
            ("Study Day (no exams)", "20261211", "20261212"),
            ("Winter Break", "20261219", "20270119"),
            ("Christmas Day – University Closed", "20261225", "20261226"),
            ("Martin Luther King Jr. Day", "20270118", "20270119"),
            ("Spring Holiday", "20270312", "20270313"),
            ("Reading Period before Finals", "20270505", "20270507"),
        )
    )
    assert found == {
        "Labor Day Holiday, No Classes": ("holiday", "Fall 2026", "new"),
        "Thanksgiving": ("holiday", "Fall 2026", "new"),
        "Thanksgiving Recess": ("break", "Fall 2026", "new"),
        "Reading Days": ("reading_days", "Fall 2026", "new"),
        "Study Day (no exams)": ("reading_days", "Fall 2026", "new"),
        # Between the terms: filed under the term before.
        "Winter Break": ("break", "Fall 2026", "new"),
        "Christmas Day – University Closed": ("holiday", "Fall 2026", "new"),
        "Martin Luther King Jr. Day": ("holiday", "Fall 2026", "new"),
        "Spring Holiday": ("holiday", "Spring 2027", "new"),
        "Reading Period before Finals": ("reading_days", "Spring 2027", "new"),
    }


def test_only_breaks_and_holidays_are_filed_between_terms(ctx):
    academic_year()
    found = planned(
        feed(
            ("Winter Commencement Reception", "20261221", "20261222"),
            ("Summer Holiday", "20270704", "20270705"),  # seven weeks after spring ends
            ("Summer Recess", "20270801", "20270802"),  # eleven weeks after
        )
    )
    assert found["Winter Commencement Reception"] == ("graduation", None, "skipped")
    assert found["Summer Holiday"] == ("holiday", "Spring 2027", "new")
    assert found["Summer Recess"] == ("break", None, "skipped")


def test_the_sample_feed_imports_labor_day_as_a_holiday(ctx, login):
    academic_year()
    client = login(make_user("staff"))
    preview = upload(client, FEED)
    assert counts(preview)["new"] == 14
    save(client, preview)
    labor_day = db.session.scalar(
        select(CalendarPeriod).where(CalendarPeriod.name.startswith("Labor Day"))
    )
    assert labor_day.kind == "holiday" and labor_day.kind_label == "Holiday"


def test_rules_may_name_the_new_kinds_by_label(ctx):
    rules = ics_import.parse_rules("Reading days: reading\nHoliday: founders day")
    assert [(rule.kind, rule.keywords) for rule in rules] == [
        ("reading_days", ("reading",)),
        ("holiday", ("founders day",)),
    ]


def test_staff_may_file_a_winter_break_after_the_term_but_not_finals(ctx, login):
    fall = make_term("Fall 2026", date(2026, 8, 24), date(2026, 12, 18))
    add_period(fall, "break", "Winter break", date(2026, 12, 19), date(2027, 1, 11))
    add_period(fall, "holiday", "New Year's Day", date(2027, 1, 1), date(2027, 1, 1))
    with pytest.raises(DateRangeError, match="must touch the term"):
        add_period(fall, "finals", "Late finals", date(2026, 12, 21), date(2026, 12, 22))
    with pytest.raises(DateRangeError, match="may also start in the 8 weeks after it"):
        add_period(fall, "break", "Far away", date(2027, 3, 1), date(2027, 3, 2))
    db.session.commit()
    update_term(fall, "Fall 2026", date(2026, 8, 24), date(2026, 12, 17))  # still holds them
    db.session.commit()
    page = login(make_user("staff")).get(f"/terms/{fall.id}").get_data(as_text=True)
    assert "Winter break" in page and "Holiday" in page


def test_a_period_form_offers_the_new_kinds(ctx, login):
    term = make_term()
    page = login(make_user("staff")).get(f"/terms/{term.id}").get_data(as_text=True)
    assert '<option value="holiday">Holiday</option>' in page
    assert '<option value="reading_days">Reading days</option>' in page


# Nudges that count from calendar periods.


def test_back_from_break_waits_for_the_holidays_after_it(ctx):
    fall, spring = make_academic_year()
    # A break that ends the day before MLK Day: the first day back is the Tuesday.
    add_period(spring, "break", "Intersession", date(2027, 1, 12), date(2027, 1, 17))
    db.session.commit()
    member = make_member()
    campaign = make_campaign(trigger=Trigger.BACK_FROM_BREAK, period_kind=None, anchor=None)
    assert planned_for(campaign, at(date(2027, 1, 18))) == {}
    [message] = planned_for(campaign, at(date(2027, 1, 19))).values()
    assert message.user_id == member.id


def test_back_from_break_is_not_the_day_after_a_holiday_inside_a_break(ctx):
    make_academic_year()
    make_member()
    campaign = make_campaign(
        trigger=Trigger.BACK_FROM_BREAK, period_kind=None, anchor=None, active_from=date(2026, 9, 1)
    )
    for day in (date(2026, 11, 28), date(2026, 12, 26), date(2027, 1, 2), date(2027, 1, 19)):
        assert planned_for(campaign, at(day)) == {}, day  # after Thanksgiving, Dec 25, Jan 1, MLK
    assert len(planned_for(campaign, at(date(2026, 11, 30)))) == 1  # Thanksgiving recess over
    assert len(planned_for(campaign, at(date(2027, 1, 12)))) == 1  # winter break over


def test_a_campaign_may_count_from_a_holiday_or_reading_days(ctx):
    make_academic_year()
    member = make_member()
    campaign = make_campaign(
        period_kind="reading_days", anchor="start", offset_days=-1, active_from=date(2026, 9, 1)
    )
    assert describe_trigger(campaign) == "1 day before Reading days starts"
    assert set(planned_for(campaign, at(date(2026, 12, 9)))) == {member.id}


# The database's own check, as the migration leaves it.


def test_the_migration_lets_the_database_hold_the_new_kinds(database_url):
    app = _empty_database(database_url)
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO terms (id, name, starts_on, ends_on) "
                    "VALUES (1, 'Fall', '2026-08-24', '2026-12-18')"
                )
            )
            for number, kind in enumerate(("holiday", "reading_days", "break"), start=1):
                connection.execute(
                    text(
                        "INSERT INTO calendar_periods (id, term_id, kind, name, starts_on, ends_on)"
                        " VALUES (:id, 1, :kind, :kind, '2026-12-01', '2026-12-02')"
                    ),
                    {"id": number, "kind": kind},
                )
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO calendar_periods (id, term_id, kind, name, starts_on, ends_on) "
                    "VALUES (9, 1, 'festival', 'x', '2026-12-01', '2026-12-02')"
                )
            )
        downgrade(revision="0016_saml_assertions_seen")
        with db.engine.begin() as connection:
            kinds = connection.execute(
                text("SELECT kind FROM calendar_periods ORDER BY id")
            ).scalars()
            assert list(kinds) == ["break", "other", "break"]
        downgrade(revision="base")
        db.engine.dispose()
