"""The upcoming events list shows 20 events a page, soonest first, with plain page links."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from crp_portal.events.queries import PAGE_SIZE
from crp_portal.extensions import db
from crp_portal.timeutil import local_today
from tests.factories import make_event, make_user

TITLE = re.compile(r'<h2 class="event-title"><a href="[^"]+">([^<]+)</a></h2>')
PAGES_NAV = re.compile(r'<nav class="pager" aria-label="Pages">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def titles(response) -> list[str]:
    return TITLE.findall(text(response))


def page_links(response) -> dict[str, dict[str, list[str]]]:
    """The links in the "Pages" navigation, by their words: each one's query arguments."""
    navs = PAGES_NAV.findall(text(response))
    assert len(navs) <= 1
    links = LINK.findall(navs[0]) if navs else []
    return {words: parse_qs(urlsplit(href).query) for href, words in links}


def add_events(count: int, first_day: int = 8, **details) -> list[str]:
    """`count` events on consecutive days from `first_day` days ahead; their titles in order."""
    staff = make_user("staff")
    names = []
    for number in range(count):
        name = f"{details.get('kind', 'event')} {number:02d}"
        day = local_today() + timedelta(days=first_day + number)
        make_event(created_by=staff, title=name, day=day, **details)
        names.append(name)
    return names


def test_45_events_fill_two_pages_and_a_third_of_5(ctx, login):
    assert PAGE_SIZE == 20
    names = add_events(45)
    client = login(make_user("student"))

    first = client.get("/events/")
    assert first.status_code == 200
    assert titles(first) == names[:20], "the 20 soonest, soonest first"
    assert page_links(first) == {"Later events": {"page": ["2"]}}

    second = client.get("/events/?page=2")
    assert titles(second) == names[20:40]
    assert page_links(second) == {
        "Earlier events": {"page": ["1"]},
        "Later events": {"page": ["3"]},
    }

    third = client.get("/events/?page=3")
    assert titles(third) == names[40:]
    assert page_links(third) == {"Earlier events": {"page": ["2"]}}, "no later page"


def test_exactly_one_page_of_events_has_no_page_links(ctx, login):
    add_events(PAGE_SIZE)
    page = login(make_user("student")).get("/events/")
    assert len(titles(page)) == PAGE_SIZE
    assert page_links(page) == {}
    assert 'aria-label="Pages"' not in text(page)


def test_page_links_keep_the_filters(ctx, login):
    groups = add_events(25, kind="peer_support", location="Room 5")
    add_events(10, first_day=1, kind="wellness")  # sooner, but filtered out
    client = login(make_user("student"))
    kept = {"kind": ["peer_support"], "mode": ["in_person"]}

    first = client.get("/events/?kind=peer_support&mode=in_person")
    assert titles(first) == groups[:20]
    assert page_links(first) == {"Later events": {"page": ["2"], **kept}}

    second = client.get("/events/?kind=peer_support&mode=in_person&page=2")
    assert titles(second) == groups[20:]
    assert page_links(second) == {"Earlier events": {"page": ["1"], **kept}}


def test_filters_are_kept_on_a_page_past_the_end(ctx, login):
    add_events(3, first_day=8)  # next week or later: never "this week"
    page = login(make_user("student")).get("/events/?kind=academic&week=y&page=2")
    assert page.status_code == 200
    assert titles(page) == []
    assert "There are no more upcoming events: the list ends before page 2." in text(page)
    [back] = [
        href for href, words in LINK.findall(text(page)) if words == "Back to the soonest events"
    ]
    assert parse_qs(urlsplit(back).query) == {"kind": ["academic"], "week": ["y"]}


def test_a_page_number_that_is_not_one_shows_the_first_page(ctx, login):
    names = add_events(25)
    client = login(make_user("student"))
    for junk in ("abc", "-1", "0", "1.5", "", "999999", "1e3", "%C2%B2"):
        response = client.get(f"/events/?page={junk}")
        assert response.status_code == 200, junk
        assert titles(response) == names[:20], junk
        assert page_links(response) == {"Later events": {"page": ["2"]}}, junk


def test_a_page_past_the_last_event_says_so_and_links_back(ctx, login):
    add_events(5)
    client = login(make_user("student"))
    for number in ("2", "99999"):
        response = client.get(f"/events/?page={number}")
        assert response.status_code == 200
        assert titles(response) == []
        assert f"the list ends before page {min(int(number), 10_000)}" in text(response)
        assert "Back to the soonest events" in text(response)
        assert "No upcoming events match" not in text(response)
        assert page_links(response) == {}


def test_no_events_at_all_says_nothing_matches(ctx, login):
    response = login(make_user("student")).get("/events/")
    assert "No upcoming events match." in text(response)
    assert page_links(response) == {}


def test_every_page_costs_the_same_however_many_events(ctx, login, count_queries):
    client = login(make_user("student"))
    add_events(25)
    few = count_queries(client, "/events/")
    add_events(20, first_day=40)
    for path in ("/events/", "/events/?page=2", "/events/?page=3"):
        assert count_queries(client, path) == few, path


def test_each_listed_event_says_whether_the_student_is_going_or_waiting(ctx, login):
    student, other = make_user("student"), make_user("student")
    full = make_event(title="Full circle", capacity=1)
    going, waiting, cancelled = (make_event(title=t) for t in ("Going", "Waiting", "Withdrawn"))
    db.session.commit()
    mine, theirs = login(student), login(other)
    assert theirs.post(f"/events/{full.id}/rsvp").status_code == 302
    for event in (going, full, cancelled):
        assert mine.post(f"/events/{event.id}/rsvp").status_code == 302
    assert mine.post(f"/events/{cancelled.id}/rsvp/cancel").status_code == 302

    page = text(mine.get("/events/"))
    items = dict(
        re.findall(r'<h2 class="event-title"><a [^>]+>([^<]+)</a></h2>(.*?)</li>', page, re.S)
    )
    assert "You're going" in items["Going"] and "waitlist" not in items["Going"]
    assert "On the waitlist" in items["Full circle"]
    assert "You're going" not in items["Withdrawn"] and "waitlist" not in items["Withdrawn"]
    assert "You're going" not in items["Waiting"]
