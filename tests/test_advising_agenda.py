"""The advisor's agenda: today, later this week, waiting for an outcome, coming up; each
appointment under one heading only."""

import html
import re

from crp_portal.advising.lists import AGENDA_LISTED
from crp_portal.timeutil import local_today
from tests.factories import make_appointment, make_user

HEADING = re.compile(r"<h2>([^<]+)</h2>")
APPOINTMENT = re.compile(r'href="/advising/appointments/(\d+)"')


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def sections(response) -> dict[str, list[int]]:
    """Each h2 of the agenda (today's without its date) and the appointments listed under it."""
    page = text(response).split("</h1>", 1)[1]
    parts = HEADING.split(page)[1:]
    listed = {}
    for heading, body in zip(parts[::2], parts[1::2], strict=True):
        listed[heading.split(",")[0]] = [int(found) for found in APPOINTMENT.findall(body)]
    return listed


def days_left_this_week() -> int:
    """Days after today up to Sunday (0 on a Sunday)."""
    return 6 - local_today().weekday()


def test_each_appointment_is_listed_under_one_heading(ctx, login):
    advisor, student = make_user("advisor"), make_user("student")
    sunday = days_left_this_week()

    def meets(days_ahead, hour, **fields):
        return make_appointment(advisor, student, days_ahead=days_ahead, hour=hour, **fields).id

    started_today = meets(0, 0)  # started in the small hours, no outcome yet
    later_today = meets(0, 23)
    meets(0, 12, status="cancelled")
    yesterday = meets(-1, 10)
    meets(-2, 10, status="completed")
    later_this_week = [meets(sunday, 9)] if sunday else []
    next_monday = meets(sunday + 1, 9)
    meets(sunday + 1, 11, status="cancelled")
    in_a_month = meets(sunday + 30, 9)

    listed = sections(login(advisor).get("/advising/agenda"))

    assert listed == {
        "Today": [started_today, later_today],
        "Later this week": later_this_week,
        "Waiting for an outcome": [yesterday],
        "Coming up": [next_monday, in_a_month],
    }
    everything = [found for ids in listed.values() for found in ids]
    assert len(everything) == len(set(everything)), "no appointment is listed twice"


def test_an_empty_agenda_says_so_under_each_heading(ctx, login):
    page = text(login(make_user("advisor")).get("/advising/agenda"))
    assert "Nothing booked today." in page
    assert "Nothing else booked this week." in page
    assert "Every appointment before today has an outcome." in page
    assert "Nothing booked after this week." in page
    assert "more, older" not in page


def test_long_lists_show_ten_and_say_how_many_more_wait(ctx, login):
    advisor, student = make_user("advisor"), make_user("student")
    waiting = [make_appointment(advisor, student, days_ahead=-day).id for day in range(1, 14)]
    first_later = days_left_this_week() + 1
    coming = [
        make_appointment(advisor, student, days_ahead=first_later + day).id for day in range(12)
    ]
    client = login(advisor)

    response = client.get("/advising/agenda")
    listed = sections(response)
    assert AGENDA_LISTED == 10
    assert listed["Waiting for an outcome"] == waiting[:10], "the newest ten"
    assert "…and 3 more, older." in text(response)
    assert listed["Coming up"] == coming[:10], "the soonest ten"

    make_appointment(advisor, student, days_ahead=-20)
    assert "…and 4 more, older." in text(client.get("/advising/agenda"))


def test_exactly_ten_waiting_has_no_more(ctx, login):
    advisor, student = make_user("advisor"), make_user("student")
    for day in range(1, 11):
        make_appointment(advisor, student, days_ahead=-day)
    response = login(advisor).get("/advising/agenda")
    assert len(sections(response)["Waiting for an outcome"]) == 10
    assert "more, older" not in text(response)


def test_the_agenda_costs_the_same_however_long_its_lists(ctx, login, count_queries):
    advisor, student = make_user("advisor"), make_user("student")
    client = login(advisor)
    first_later = days_left_this_week() + 1
    for day in range(1, 3):
        make_appointment(advisor, student, days_ahead=-day)
        make_appointment(advisor, student, days_ahead=first_later + day)
    make_appointment(advisor, student, days_ahead=0, hour=1)
    client.get("/advising/agenda")
    few = count_queries(client, "/advising/agenda")
    for day in range(3, 20):
        make_appointment(advisor, student, days_ahead=-day)
        make_appointment(advisor, student, days_ahead=first_later + day)
    assert count_queries(client, "/advising/agenda") == few


WAITING_LINK = re.compile(
    r'<a href="(/advising/agenda/waiting)">All (\d+) waiting for an outcome</a>'
)
PAGE_LINK = re.compile(r'<a href="/advising/agenda/waiting\?page=(\d+)" rel="(prev|next)">')


def listed_ids(response) -> list[int]:
    return [int(found) for found in APPOINTMENT.findall(text(response))]


def test_every_appointment_waiting_for_an_outcome_is_a_page_away(ctx, login):
    advisor, student, colleague = make_user("advisor"), make_user("student"), make_user("advisor")
    waiting = [make_appointment(advisor, student, days_ahead=-day).id for day in range(1, 31)]
    make_appointment(advisor, student, days_ahead=-40, status="completed")
    make_appointment(advisor, student, days_ahead=-41, status="cancelled")
    make_appointment(colleague, student, days_ahead=-2, hour=14)
    make_appointment(advisor, student, days_ahead=0, hour=0)  # today's stays under today
    client = login(advisor)

    [(href, total)] = WAITING_LINK.findall(text(client.get("/advising/agenda")))
    assert (href, total) == ("/advising/agenda/waiting", "30")

    first = client.get(href)
    assert first.status_code == 200
    assert "<title>Waiting for an outcome" in text(first)
    assert listed_ids(first) == waiting[:25], "the newest first"
    assert PAGE_LINK.findall(text(first)) == [("2", "next")]

    second = client.get(f"{href}?page=2")
    assert listed_ids(second) == waiting[25:]
    assert PAGE_LINK.findall(text(second)) == [("1", "prev")]

    past_the_end = client.get(f"{href}?page=3")
    assert listed_ids(past_the_end) == []
    assert "There are no more: the list ends before page 3." in text(past_the_end)
    assert listed_ids(client.get(f"{href}?page=junk")) == waiting[:25]


def test_with_nothing_waiting_the_agenda_has_no_link_and_the_page_says_so(ctx, login):
    client = login(make_user("advisor"))
    assert not WAITING_LINK.findall(text(client.get("/advising/agenda")))
    page = text(client.get("/advising/agenda/waiting"))
    assert "Every appointment before today has an outcome." in page


def test_the_waiting_list_costs_the_same_however_long(ctx, login, count_queries):
    advisor, student = make_user("advisor"), make_user("student")
    client = login(advisor)
    make_appointment(advisor, student, days_ahead=-1)
    client.get("/advising/agenda/waiting")
    few = count_queries(client, "/advising/agenda/waiting")
    for day in range(2, 40):
        make_appointment(advisor, student, days_ahead=-day)
    assert count_queries(client, "/advising/agenda/waiting") == few
