"""Staff keep the housing inventory: houses, rooms, beds and the versioned house agreement."""

import html
import re

import pytest
from sqlalchemy import func, select

from crp_portal.extensions import db
from crp_portal.housing.models import Bed, House, HouseAgreement, Room
from tests.factories import make_application, make_house, make_term, make_user


def text(response) -> str:
    """The page as a person reads it (entities like &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def house_row(response, name: str) -> str:
    """The houses-list row of one house, tags removed: what a person reads across it."""
    for row in re.findall(r"<tr>(.*?)</tr>", text(response), flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td>(.*?)</td>", row, flags=re.S)
        ]
        if cells and cells[0] == name:
            return " | ".join(cells)
    raise AssertionError(f"{name} is not listed")


def house_values(**overrides) -> dict:
    values = {
        "name": "Maple House",
        "address": "14 Maple Ave",
        "who_may_live": "Women and nonbinary students",
        "meeting_schedule": "Sundays 7 pm",
        "description": "Two floors, a shared kitchen.",
        "active": "y",
    }
    values.update(overrides)
    return values


@pytest.fixture
def staff(ctx, login):
    return login(make_user("staff"))


# Houses


def test_staff_add_a_house_and_land_on_its_page_to_add_rooms(staff):
    response = staff.post("/housing/houses/new", data=house_values())
    house = db.session.scalars(select(House)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/housing/houses/{house.id}")
    page = text(staff.get(response.headers["Location"]))
    assert "Maple House is added. Now add its rooms and beds." in page
    assert "14 Maple Ave · Women and nonbinary students · House meetings: Sundays 7 pm" in page
    assert "No rooms yet." in page
    listed = staff.get("/housing/houses")
    assert house_row(listed, "Maple House") == (
        "Maple House | 14 Maple Ave | Women and nonbinary students | 0 of 0 | Yes"
    )


def test_a_house_without_name_or_address_shows_the_errors_beside_the_fields(staff):
    response = staff.post("/housing/houses/new", data=house_values(name="  ", address=""))
    page = text(response)
    assert response.status_code == 200
    assert "Please fix these before saving" in page
    assert "Name the house." in page and "Give the address." in page
    assert 'id="name-error"' in page and 'id="address-error"' in page
    assert "Women and nonbinary students" in page, "what was typed stays in the form"
    assert count(House) == 0


@pytest.mark.parametrize(
    ("field", "limit"),
    [("name", 120), ("address", 300), ("who_may_live", 80), ("meeting_schedule", 300)],
)
def test_over_long_house_fields_are_refused_in_place(staff, field, limit):
    response = staff.post("/housing/houses/new", data=house_values(**{field: "x" * (limit + 1)}))
    page = text(response)
    assert response.status_code == 200
    assert f'id="{field}-error"' in page
    assert f"Use at most {limit} characters." in page
    assert count(House) == 0


def test_a_second_house_with_a_taken_name_is_refused_in_place(staff):
    make_house("Maple House")
    response = staff.post("/housing/houses/new", data=house_values(address="99 Other Rd"))
    page = text(response)
    assert response.status_code == 409
    assert "A house named “Maple House” already exists." in page
    assert 'id="name-error"' in page
    assert "99 Other Rd" in page, "the rest of the form is kept"
    assert count(House) == 1
    assert db.session.scalars(select(House.address)).one() == "12 Elm St"


def test_renaming_a_house_to_a_taken_name_keeps_its_old_name(staff):
    make_house("Maple House")
    oak = make_house("Oak House")
    response = staff.post(f"/housing/houses/{oak.id}", data=house_values(address="1 Oak Rd"))
    assert response.status_code == 409
    assert "A house named “Maple House” already exists." in text(response)
    db.session.expire_all()
    assert db.session.get(House, oak.id).name == "Oak House"
    assert db.session.get(House, oak.id).address == "12 Elm St"


def test_staff_edit_a_house(staff):
    house = make_house("Maple House")
    response = staff.post(
        f"/housing/houses/{house.id}",
        data=house_values(name="Maple Cottage", meeting_schedule="Mondays 8 pm", active=""),
        follow_redirects=True,
    )
    page = text(response)
    assert "Maple Cottage is saved." in page
    assert "House meetings: Mondays 8 pm" in page
    listed = staff.get("/housing/houses")
    assert house_row(listed, "Maple Cottage").endswith("| No")


# Rooms and beds


def test_staff_add_a_room_and_a_second_with_the_same_name_is_refused(staff):
    house = make_house("Maple House", rooms=0)
    added = staff.post(f"/housing/houses/{house.id}/rooms", data={"name": " 2B "})
    assert added.status_code == 302
    assert "Room 2B is added." in text(staff.get(added.headers["Location"]))

    again = staff.post(f"/housing/houses/{house.id}/rooms", data={"name": "2B"})
    page = text(again)
    assert again.status_code == 409
    assert "Maple House already has a room named “2B”." in page
    assert page.count(">Room 2B</h3>") == 1
    assert count(Room) == 1


def test_a_room_needs_a_name(staff):
    house = make_house(rooms=0)
    response = staff.post(f"/housing/houses/{house.id}/rooms", data={"name": ""})
    assert response.status_code == 200
    assert "Name the room, e.g. 2B." in text(response)
    assert count(Room) == 0


def labelled_input(page: str, label: str) -> str:
    """The input a label names (by its `for`), as a screen reader or a click on it finds it."""
    target = re.search(rf'<label for="([^"]+)">{re.escape(label)}</label>', page).group(1)
    inputs = re.findall(rf'<input [^>]*\bid="{re.escape(target)}"[^>]*>', page)
    assert len(inputs) == 1, f"{len(inputs)} inputs have the id {target!r}"
    return inputs[0]


def test_the_house_name_label_names_the_house_name_not_the_new_room(staff):
    house = make_house("Maple House", rooms=1)

    page = text(staff.get(f"/housing/houses/{house.id}"))

    assert 'value="Maple House"' in labelled_input(page, "Name")
    assert 'name="name"' in labelled_input(page, "Room name")
    assert 'value=""' in labelled_input(page, "Room name")

    refused = text(staff.post(f"/housing/houses/{house.id}/rooms", data={"name": ""}))
    error_link = re.search(r'<a href="#([^"]+)">Room name: Name the room', refused).group(1)
    assert 'aria-invalid="true"' in labelled_input(refused, "Room name")
    assert f'id="{error_link}"' in labelled_input(refused, "Room name")


def test_staff_add_beds_to_a_room_with_its_own_form(staff):
    house = make_house("Maple House", rooms=0)
    staff.post(f"/housing/houses/{house.id}/rooms", data={"name": "2B"})
    room = db.session.scalars(select(Room)).one()
    page = text(staff.get(f"/housing/houses/{house.id}"))
    assert "No beds yet." in page
    assert f'name="room{room.id}-label"' in page

    response = staff.post(
        f"/housing/rooms/{room.id}/beds",
        data={f"room{room.id}-label": "Window", f"room{room.id}-accessible": "y"},
        follow_redirects=True,
    )
    page = text(response)
    assert "Bed Window is added to room 2B." in page
    assert "Bed Window (accessible)" in page
    staff.post(f"/housing/rooms/{room.id}/beds", data={f"room{room.id}-label": "Door"})
    page = text(staff.get(f"/housing/houses/{house.id}"))
    assert "Bed Door" in page and "Bed Door (accessible)" not in page
    assert house_row(staff.get("/housing/houses"), "Maple House").endswith("| 2 of 2 | Yes")


def test_a_second_bed_with_the_same_label_in_a_room_is_refused_with_a_message(staff):
    house = make_house("Maple House", rooms=1, beds_per_room=1)
    room = house.rooms[0]
    response = staff.post(
        f"/housing/rooms/{room.id}/beds",
        data={f"room{room.id}-label": "A"},
        follow_redirects=True,
    )
    assert "Room 1 already has a bed labelled “A”." in text(response)
    assert count(Bed) == 1


def test_a_bed_needs_a_label(staff):
    house = make_house(rooms=1, beds_per_room=0)
    room = house.rooms[0]
    response = staff.post(
        f"/housing/rooms/{room.id}/beds",
        data={f"room{room.id}-label": "  "},
        follow_redirects=True,
    )
    assert "Label the bed, e.g. Window." in text(response)
    assert count(Bed) == 0


def test_staff_take_a_bed_out_of_use_and_put_it_back(staff):
    house = make_house("Maple House", rooms=2, beds_per_room=2)
    listed = staff.get("/housing/houses")
    assert house_row(listed, "Maple House").endswith("| 4 of 4 | Yes")
    bed = house.rooms[0].beds[0]

    out = staff.post(f"/housing/beds/{bed.id}/active", data={"active": "0"}, follow_redirects=True)
    page = text(out)
    assert "Bed A is out of use." in page
    assert "Out of use" in page
    assert 'Put back in use<span class="visually-hidden"> for bed A in room 1</span>' in page
    assert house_row(staff.get("/housing/houses"), "Maple House").endswith("| 3 of 4 | Yes")

    back = staff.post(f"/housing/beds/{bed.id}/active", data={"active": "1"}, follow_redirects=True)
    page = text(back)
    assert "Bed A is back in use." in page
    assert "badge-warn" not in page
    assert house_row(staff.get("/housing/houses"), "Maple House").endswith("| 4 of 4 | Yes")


def test_the_houses_list_counts_beds_in_use_per_house(staff):
    make_house("Birch House", rooms=1, beds_per_room=3)
    oak = make_house("Oak House", rooms=2, beds_per_room=1)
    staff.post(f"/housing/beds/{oak.rooms[1].beds[0].id}/active", data={"active": "0"})
    listed = staff.get("/housing/houses")
    assert house_row(listed, "Birch House").endswith("| 3 of 3 | Yes")
    assert house_row(listed, "Oak House").endswith("| 1 of 2 | Yes")
    assert text(listed).index("Birch House") < text(listed).index("Oak House")


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("get", "/housing/houses/999999", "There is no house with that number."),
        ("post", "/housing/houses/999999", "There is no house with that number."),
        ("post", "/housing/houses/999999/rooms", "There is no house with that number."),
        ("post", "/housing/rooms/999999/beds", "There is no room with that number."),
        ("post", "/housing/beds/999999/active", "There is no bed with that number."),
    ],
)
def test_unknown_house_room_or_bed_is_a_clear_404(staff, method, path, message):
    response = getattr(staff, method)(path, data={"name": "2B", "active": "0"})
    assert response.status_code == 404
    assert message in text(response)


# The house agreement


def test_publishing_the_agreement_makes_version_1_then_2_and_identical_text_is_refused(staff):
    page = text(staff.get("/housing/agreement"))
    assert "No agreement is published yet, so students cannot apply." in page

    first = staff.post(
        "/housing/agreement", data={"body": "No alcohol or drugs."}, follow_redirects=True
    )
    page = text(first)
    assert "Version 1 of the house agreement is published." in page
    assert "Version 1, published" in page

    second = staff.post(
        "/housing/agreement",
        data={"body": "No alcohol or drugs.\nCome to house meetings."},
        follow_redirects=True,
    )
    page = text(second)
    assert "Version 2 of the house agreement is published." in page
    assert "Version 2, published" in page
    assert "Come to house meetings." in page, "the form starts from the current text"

    same = staff.post(
        "/housing/agreement", data={"body": "  No alcohol or drugs.\nCome to house meetings.\n"}
    )
    page = text(same)
    assert same.status_code == 422
    assert "That text is the same as the current version." in page
    assert 'id="body-error"' in page
    versions = db.session.execute(
        select(HouseAgreement.version, HouseAgreement.body).order_by(HouseAgreement.version)
    ).all()
    assert versions == [
        (1, "No alcohol or drugs."),
        (2, "No alcohol or drugs.\nCome to house meetings."),
    ]


def test_an_empty_agreement_is_not_published(staff):
    response = staff.post("/housing/agreement", data={"body": ""})
    assert response.status_code == 200
    assert "Write the agreement." in text(response)
    assert count(HouseAgreement) == 0


# Pages issue a fixed number of SQL statements, however much there is.


def add_houses(count: int) -> list[House]:
    return [make_house(rooms=2, beds_per_room=2) for _ in range(count)]


def test_the_houses_list_costs_the_same_with_more_houses(staff, count_queries):
    add_houses(2)
    staff.get("/housing/houses")
    few = count_queries(staff, "/housing/houses")
    add_houses(10)
    assert count_queries(staff, "/housing/houses") == few


def add_applications(term, count: int) -> None:
    """Each application has a first and a second choice, from two separate sets of houses."""
    for _ in range(count):
        first, second = make_house(rooms=0), make_house(rooms=0)
        make_application(make_user("student"), term, first, second_choice_id=second.id)


def test_the_application_queue_costs_the_same_with_more_applications(staff, count_queries):
    term = make_term("Fall 2026")
    add_applications(term, 2)
    path = f"/housing/queue?term={term.id}"
    staff.get(path)
    few = count_queries(staff, path)
    add_applications(term, 12)
    assert count_queries(staff, path) == few
