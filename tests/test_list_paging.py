"""Lists that grow show 50 rows a page with Previous/Next links that keep the filters,
and a page costs the same queries however long the list is.

(Members, intake applications, follow-ups, the delivery log, the audit log, accounts and
the events list have their own paging tests.)"""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.services import invite
from crp_portal.events.models import Attendance
from crp_portal.extensions import db
from crp_portal.timeutil import local_today, utcnow
from tests.factories import (
    add_contacts,
    make_application,
    make_appointment,
    make_campaign,
    make_event,
    make_meeting,
    make_mentor_and_mentee,
    make_term,
    make_user,
)

PAGES_NAV = re.compile(r'<nav class="pager" aria-label="Pages">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')
ROW = re.compile(r"<tbody>(.*?)</tbody>", re.S)


def page_links(response) -> dict[str, dict[str, list[str]]]:
    """The pager's links by their words: each one's query arguments."""
    navs = PAGES_NAV.findall(html.unescape(response.get_data(True)))
    assert len(navs) <= 1
    return (
        {words: parse_qs(urlsplit(href).query) for href, words in LINK.findall(navs[0])}
        if navs
        else {}
    )


def row_count(response) -> int:
    bodies = ROW.findall(response.get_data(True))
    return sum(body.count("<tr") for body in bodies)


def students(count: int):
    made = [make_user("student", password=None, commit=False) for _ in range(count)]
    db.session.commit()
    return made


def assert_pages(client, path: str, total: int, kept: dict[str, list[str]] | None = None):
    """`total` rows (51…100) fill page 1 with 50 and page 2 with the rest."""
    kept = kept or {}
    separator = "&" if "?" in path else "?"
    first = client.get(path)
    assert first.status_code == 200
    assert row_count(first) == 50
    assert page_links(first) == {"Next": {"page": ["2"], **kept}}
    second = client.get(f"{path}{separator}page=2")
    assert row_count(second) == total - 50
    assert page_links(second) == {"Previous": {"page": ["1"], **kept}}
    assert "Page 2 of 2" in second.get_data(True)
    # A link to a page the list no longer reaches shows its last page.
    beyond = client.get(f"{path}{separator}page=9")
    assert row_count(beyond) == total - 50
    assert "Page 2 of 2" in beyond.get_data(True)


def test_the_housing_queue_pages_and_numbers_on(ctx, login, count_queries):
    term = make_term()
    client = login(make_user("staff", scopes=["housing"]))
    make_application(make_user("student", password=None), term)
    few = count_queries(client, f"/housing/queue?term={term.id}")
    for student in students(51):
        make_application(student, term)
    path = f"/housing/queue?term={term.id}&status=submitted"
    assert_pages(client, path, 52, {"term": [str(term.id)], "status": ["submitted"]})
    second = client.get(f"{path}&page=2").get_data(True)
    assert "<td>51</td>" in second and "<td>52</td>" in second  # first come, numbered on
    assert count_queries(client, f"/housing/queue?term={term.id}") == few
    assert count_queries(client, f"/housing/queue?term={term.id}&page=2") == few


def test_the_campaign_list_pages(ctx, login, count_queries):
    client = login(make_user("staff", scopes=["nudges"]))
    make_campaign("Campaign 000")
    few = count_queries(client, "/nudges/")
    for number in range(1, 60):
        make_campaign(f"Campaign {number:03d}")
    assert_pages(client, "/nudges/", 60)
    assert "Campaign 050" in client.get("/nudges/?page=2").get_data(True)
    assert count_queries(client, "/nudges/") == few
    assert count_queries(client, "/nudges/?page=2") == few


@pytest.mark.parametrize("who", ["student", "staff"])
def test_the_support_meeting_directory_pages(ctx, login, count_queries, who):
    client = login(make_user(who, scopes=["events"]))
    make_meeting()
    few = count_queries(client, "/support-meetings/")
    for _ in range(54):
        make_meeting(fellowship="na")
    make_meeting(fellowship="aa")
    assert_pages(client, "/support-meetings/?fellowship=na", 54, {"fellowship": ["na"]})
    assert "56 meetings." in client.get("/support-meetings/").get_data(True)
    assert count_queries(client, "/support-meetings/") == few
    assert count_queries(client, "/support-meetings/?page=2") == few


def test_who_opened_my_records_pages_through_all_of_it(ctx, login, count_queries):
    student = make_user("student")
    staff = make_user("staff")
    client = login(student)
    profile = client.get("/me/profile").get_data(True)
    assert 'href="/me/record-views"' in profile
    start = utcnow() - timedelta(days=300)
    db.session.add(AuditEntry(actor_id=staff.id, subject_id=student.id, action="record"))
    db.session.commit()
    few = count_queries(client, "/me/record-views")
    db.session.add_all(
        AuditEntry(
            actor_id=staff.id,
            subject_id=student.id,
            action="record",
            created_at=start + timedelta(days=number),
        )
        for number in range(259)
    )
    db.session.commit()
    first = client.get("/me/record-views")
    assert "260 entries, newest first." in first.get_data(True)
    assert row_count(first) == 50
    assert page_links(first) == {"Next": {"page": ["2"]}}
    last = client.get("/me/record-views?page=6")
    assert row_count(last) == 10  # the oldest, beyond the 200 the page used to stop at
    assert page_links(last) == {"Previous": {"page": ["5"]}}
    assert count_queries(client, "/me/record-views") == few
    assert count_queries(client, "/me/record-views?page=6") == few


def test_past_appointments_page_newest_first(ctx, login, count_queries):
    student, advisor = make_user("student"), make_user("advisor")
    client = login(student)
    make_appointment(advisor, student, days_ahead=-1)
    few = count_queries(client, "/advising/appointments")
    for days in range(2, 26):
        make_appointment(advisor, student, days_ahead=-days)
    first = client.get("/advising/appointments")
    past = first.get_data(True).split("<h2>Past</h2>", 1)[1]
    assert past.count('<li><a href="/advising/appointments/') == 20
    assert 'href="/advising/appointments?page=2" rel="next">Older</a>' in past
    second = client.get("/advising/appointments?page=2").get_data(True)
    assert second.split("<h2>Past</h2>", 1)[1].count('<li><a href="/advising/appointments/') == 5
    assert 'href="/advising/appointments?page=1" rel="prev">Newer</a>' in second
    assert "the list ends before page 9" in client.get("/advising/appointments?page=9").get_data(
        True
    )
    assert count_queries(client, "/advising/appointments") == few
    assert count_queries(client, "/advising/appointments?page=2") == few


def test_my_past_events_page_newest_first(ctx, login, count_queries):
    student, staff = make_user("student"), make_user("staff")
    client = login(student)

    def attended_on(days_ago: int):
        day = local_today() - timedelta(days=days_ago)
        event = make_event(staff, title=f"Past {days_ago:02d}", day=day)
        db.session.add(Attendance(event_id=event.id, user_id=student.id, source="roster"))
        db.session.commit()

    attended_on(1)
    few = count_queries(client, "/events/mine")
    for days_ago in range(2, 26):
        attended_on(days_ago)
    first = client.get("/events/mine").get_data(True).split("Past events you attended", 1)[1]
    assert re.findall(r">Past (\d\d)</a>", first) == [f"{n:02d}" for n in range(1, 21)]
    assert 'href="/events/mine?page=2" rel="next">Older</a>' in first
    second = client.get("/events/mine?page=2").get_data(True)
    assert re.findall(r">Past (\d\d)</a>", second) == [f"{n:02d}" for n in range(21, 26)]
    assert 'href="/events/mine?page=1" rel="prev">Newer</a>' in second
    assert "the list ends before page 7" in client.get("/events/mine?page=7").get_data(True)
    assert count_queries(client, "/events/mine") == few
    assert count_queries(client, "/events/mine?page=2") == few


def test_pending_invitations_page(ctx, login, count_queries):
    admin = make_user("staff", is_admin=True)
    client = login(admin)
    invite("first@example.edu", "advisor", False, admin)
    db.session.commit()
    few = count_queries(client, "/admin/invitations")
    for number in range(51):
        invite(f"invitee{number:02d}@example.edu", "advisor", False, admin)
    db.session.commit()
    assert_pages(client, "/admin/invitations", 52)
    assert count_queries(client, "/admin/invitations") == few
    assert count_queries(client, "/admin/invitations?page=2") == few


def test_a_mentors_own_contact_log_pages(ctx, login, count_queries):
    mentor, mentee = make_mentor_and_mentee()
    client = login(mentor)
    path = f"/mentoring/{mentee.id}"

    add_contacts(mentor, mentee, range(1, 2))
    client.get(path)  # the first opening is audited; reopenings within 10 minutes are not
    few = count_queries(client, path)
    add_contacts(mentor, mentee, range(2, 61))
    first = client.get(path)
    assert row_count(first) == 50
    assert page_links(first) == {"Next": {"page": ["2"]}}
    second = client.get(f"{path}?page=2")
    assert row_count(second) == 10
    assert page_links(second) == {"Previous": {"page": ["1"]}}
    assert count_queries(client, path) == few
    assert count_queries(client, f"{path}?page=2") == few
