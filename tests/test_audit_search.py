"""Admins search the audit trail by who, whose, what and when."""

import html
from datetime import datetime, time, timedelta

import pytest

from crp_portal.audit.models import AuditEntry
from crp_portal.extensions import db
from crp_portal.timeutil import local_today, program_zone
from tests.factories import make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rows(response) -> str:
    """The results table only, so the filter form's echo of the query does not count."""
    page = text(response)
    return page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""


def opened(actor, subject, action="member record", days_ago=0, hour=12):
    """An audit row written at `hour` o'clock local time, `days_ago` days back."""
    day = local_today() - timedelta(days=days_ago)
    when = datetime.combine(day, time(hour), tzinfo=program_zone())
    entry = AuditEntry(actor_id=actor.id, subject_id=subject.id, action=action, created_at=when)
    db.session.add(entry)
    db.session.commit()
    return entry


@pytest.fixture
def people(ctx):
    return {
        "admin": make_user("staff", is_admin=True, name="Ada Admin"),
        "casey": make_user("staff", name="Casey Coordinator", email="casey@example.edu"),
        "avery": make_user("advisor", name="Avery Advisor"),
        "sam": make_user("student", name="Sam Student"),
        "riley": make_user("student", name="Riley Student"),
    }


def test_admins_see_every_entry_newest_first(people, login):
    opened(people["casey"], people["sam"], days_ago=2)
    opened(people["avery"], people["riley"], "appointment", days_ago=0)
    page = rows(login(people["admin"]).get("/admin/audit"))
    assert page.index("Avery Advisor") < page.index("Casey Coordinator")
    assert "Riley Student" in page and "Appointment" in page


def test_search_by_who_whose_and_what(people, login):
    opened(people["casey"], people["sam"], "member record")
    opened(people["avery"], people["sam"], "advising record")
    opened(people["casey"], people["riley"], "mentoring record")
    client = login(people["admin"])

    by_name = rows(client.get("/admin/audit?who=coordinator"))
    assert "Casey Coordinator" in by_name and "Avery Advisor" not in by_name
    by_email = rows(client.get("/admin/audit?who=CASEY@example"))
    assert by_email.count("<tr>") == 2
    whose = rows(client.get("/admin/audit?whose=riley"))
    assert "Mentoring record" in whose and "Sam Student" not in whose
    what = rows(client.get("/admin/audit?what=advising"))
    assert "Avery Advisor" in what and "Casey Coordinator" not in what
    both = rows(client.get("/admin/audit?who=casey&whose=sam"))
    assert both.count("<tr>") == 1 and "Member record" in both
    nothing = text(client.get("/admin/audit?who=nobody%25_"))
    assert "No entry matches." in nothing


def test_search_by_local_dates(people, login):
    opened(people["casey"], people["sam"], "member record", days_ago=10)
    opened(people["casey"], people["sam"], "advising record", days_ago=5, hour=0)
    opened(people["casey"], people["sam"], "mentoring record", days_ago=5, hour=23)
    opened(people["casey"], people["sam"], "account", days_ago=1)
    client = login(people["admin"])
    day = (local_today() - timedelta(days=5)).isoformat()

    that_day = rows(client.get(f"/admin/audit?date_from={day}&date_to={day}"))
    assert "Advising record" in that_day and "Mentoring record" in that_day
    assert "Member record" not in that_day and "Account" not in that_day
    since = rows(client.get(f"/admin/audit?date_from={day}"))
    assert "Account" in since and "Member record" not in since
    until = rows(client.get(f"/admin/audit?date_to={day}"))
    assert "Member record" in until and "Account" not in until


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-02-30", "Enter a real date, for example 2026-03-14."),
        ("date_to=yesterday", "Enter a real date, for example 2026-03-14."),
        ("date_from=0001-01-01", "Enter a date between 2000 and 2100."),
        ("date_to=9999-12-31", "Enter a date between 2000 and 2100."),
        ("date_from=2026-03-10&date_to=2026-03-01", "The “to” date is before the “from” date."),
        ("who=" + "x" * 101, "Use at most 100 characters."),
    ],
)
def test_bad_filters_are_explained_in_place(people, login, query, message):
    opened(people["casey"], people["sam"])
    response = login(people["admin"]).get(f"/admin/audit?{query}")
    assert response.status_code == 200
    page = text(response)
    assert message in page and "Fix the search above" in page
    assert "<tbody>" not in page


def test_the_trail_pages(people, login):
    for _ in range(55):
        opened(people["casey"], people["sam"])
    client = login(people["admin"])
    assert "Page 1 of 2" in text(client.get("/admin/audit"))
    assert rows(client.get("/admin/audit?page=2")).count("<tr>") == 5


@pytest.mark.parametrize("who", ["casey", "avery", "sam"])
def test_only_admins_may_search(people, login, who):
    response = login(people[who]).get("/admin/audit")
    assert response.status_code == 403


def test_the_search_costs_the_same_with_more_entries(people, login, count_queries):
    client = login(people["admin"])

    def add_entries(count: int) -> None:
        for _ in range(count):
            opened(make_user("staff"), make_user("student"))

    add_entries(2)
    few = {path: count_queries(client, path) for path in ("/admin/audit", "/admin/audit?who=s")}
    add_entries(20)
    many = {path: count_queries(client, path) for path in ("/admin/audit", "/admin/audit?who=s")}
    assert many == few
