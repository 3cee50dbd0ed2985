"""The upcoming list searches titles, descriptions and places, among the events the
viewer may see, and never by words of a real title the viewer is not shown."""

import pytest

from crp_portal.extensions import db
from crp_portal.housing.models import Bed
from tests.factories import make_event, make_house, make_term, make_user
from tests.test_events_paging import add_events, page_links, text, titles
from tests.test_housing_offers import make_resident


def test_search_finds_words_in_the_title_description_or_place(ctx, login):
    make_event(title="Sober bowling night", public_title="Bowling", location="Lanes")
    make_event(title="Yoga", public_title="Yoga", description="Mats are provided.")
    make_event(title="Study hall", public_title="Study hall", location="Library 2nd floor")
    client = login(make_user("staff", scopes=["events"]))
    assert titles(client.get("/events/?q=BOWLING")) == ["Sober bowling night"]
    assert titles(client.get("/events/?q=mats")) == ["Yoga"]
    assert titles(client.get("/events/?q=library")) == ["Study hall"]
    assert titles(client.get("/events/?q=%25")) == []  # a wildcard is just a character
    nothing = text(client.get("/events/?q=chess"))
    assert "No upcoming events match “chess”." in nothing
    assert 'value="chess"' in nothing  # the field keeps the words
    assert len(titles(client.get("/events/?q="))) == 3


def test_a_student_finds_an_event_only_by_the_title_they_are_shown(ctx, login):
    make_event(title="Narcotics Anonymous", public_title="Tuesday group", location="Room 5")
    student = make_user("student")
    client = login(student)
    assert titles(client.get("/events/?q=narcotics")) == []
    assert titles(client.get("/events/?q=tuesday")) == ["Narcotics Anonymous"]
    assert titles(client.get("/events/?q=room 5")) == ["Narcotics Anonymous"]
    assert "<title>Events" in client.get("/events/?q=narcotics").get_data(True)

    student.profile.show_real_titles = True
    db.session.commit()
    assert titles(client.get("/events/?q=narcotics")) == ["Narcotics Anonymous"]


@pytest.fixture
def term_and_house(ctx):
    return make_term(), make_house("Maple House")


def test_search_never_finds_a_house_meeting_the_student_may_not_see(ctx, login, term_and_house):
    term, house = term_and_house
    make_event(title="House meeting", public_title="House meeting", house_id=house.id)
    outsider, resident = make_user("student"), make_user("student")
    bed = db.session.get(Bed, house.rooms[0].beds[0].id)
    make_resident(resident, term, bed)
    assert titles(login(outsider).get("/events/?q=house")) == []
    assert titles(login(resident).get("/events/?q=house")) == ["House meeting"]


def test_search_results_page_and_the_page_links_keep_the_search(ctx, login):
    names = add_events(25, kind="sober_social", public_title="Social")
    add_events(5, first_day=50, kind="academic")
    client = login(make_user("student"))
    first = client.get("/events/?q=social")
    assert titles(first) == names[:20]
    assert page_links(first) == {"Later events": {"page": ["2"], "q": ["social"]}}
    second = client.get("/events/?q=social&page=2")
    assert titles(second) == names[20:]


def test_a_search_costs_the_same_queries_as_the_plain_list(ctx, login, count_queries):
    client = login(make_user("student"))
    add_events(25, kind="sober_social", public_title="Social")
    plain = count_queries(client, "/events/")
    assert count_queries(client, "/events/?q=social") == plain
    assert count_queries(client, "/events/?q=social&page=2") == plain


def test_the_search_field_is_labelled_and_in_the_search_landmark(ctx, login):
    page = login(make_user("student")).get("/events/").get_data(True)
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert '<label for="q">Search titles, descriptions and places</label>' in form
    assert 'type="search"' in form
