"""A bed offer starts on a free bed in the student's first choice of house, then their
second, keeping accessible beds for students who wrote accessibility needs."""

import re

import pytest

from crp_portal.housing.offers import free_beds
from crp_portal.housing.preferences import preferred_bed
from tests.factories import make_application, make_house, make_offer, make_term, make_user


def preselected(page) -> str:
    """The label of the bed the offer form starts on."""
    select = re.search(r'<select[^>]*name="bed_id".*?</select>', page.get_data(True), re.S)
    assert select is not None
    chosen = re.search(r"<option selected[^>]*>([^<]*)</option>", select.group(0))
    assert chosen is not None, "no bed is preselected"
    return chosen.group(1)


@pytest.fixture
def houses(ctx):
    """Ash (alphabetically first, so the old default: its accessible bed A) with one room
    and Birch with two, of two beds each; bed A of every room is accessible."""
    return make_house("Ash House", rooms=1), make_house("Birch House", rooms=2)


def test_the_offer_form_starts_on_the_first_choice_house(houses, login):
    ash, birch = houses
    term = make_term()
    student = make_user("student", name="Rae Lee")
    application = make_application(student, term, birch, second_choice_id=ash.id)
    staff = login(make_user("staff", scopes=["housing"]))
    page = staff.get(f"/housing/queue/{application.id}")
    # No accessibility needs: Birch's first bed that is not accessible, not Ash's bed A.
    assert preselected(page) == "Birch House, room 1, bed B"


def test_a_full_first_choice_falls_to_the_second(houses):
    ash, birch = houses
    term = make_term()
    for bed in (bed for room in birch.rooms for bed in room.beds):
        make_offer(make_application(make_user("student"), term), bed)
    application = make_application(make_user("student"), term, birch, second_choice_id=ash.id)
    chosen = preferred_bed(application, free_beds(term.id))
    assert (chosen.room.house.name, chosen.label) == ("Ash House", "B")


def test_accessibility_needs_start_on_an_accessible_bed_in_the_first_choice(houses):
    _ash, birch = houses
    term = make_term()
    application = make_application(
        make_user("student"), term, birch, accessibility_needs="I use a wheelchair."
    )
    chosen = preferred_bed(application, free_beds(term.id))
    assert (chosen.room.house.name, chosen.room.name, chosen.label) == ("Birch House", "1", "A")
    assert chosen.accessible


def test_accessibility_needs_outrank_the_house_when_it_has_no_accessible_bed_free(houses):
    ash, birch = houses
    term = make_term()
    for room in birch.rooms:
        make_offer(make_application(make_user("student"), term), room.beds[0])
    application = make_application(
        make_user("student"), term, birch, second_choice_id=ash.id, accessibility_needs="Ramp"
    )
    chosen = preferred_bed(application, free_beds(term.id))
    assert (chosen.room.house.name, chosen.label, chosen.accessible) == ("Ash House", "A", True)


def test_without_choices_or_free_beds(houses):
    term = make_term()
    application = make_application(make_user("student"), term)
    chosen = preferred_bed(application, free_beds(term.id))
    assert (chosen.room.house.name, chosen.label) == ("Ash House", "B")
    assert preferred_bed(application, []) is None
