"""Staff offer beds; students accept or decline; offers expire; staff move residents."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.housing.models import HOLDS_BED, Bed, BedAssignment, HousingApplication
from crp_portal.housing.offers import accept_offer
from crp_portal.timeutil import format_date, local_today
from tests.factories import make_application, make_house, make_offer, make_term, make_user
from tests.test_concurrency import run_together

TAKEN = "That bed was just offered to someone else, or this student already holds a bed"
NOT_OPEN = "Only a submitted or waitlisted application can get an offer."


def text(response) -> str:
    """The page as a person reads it (entities like &#39; decoded)."""
    return html.unescape(response.get_data(as_text=True))


def words(page: str) -> str:
    """The page's text with the tags taken out (a status is a chip: a span around words)."""
    return re.sub(r"<[^>]+>", "", page)


def board_rows(response) -> dict[tuple[str, str], str]:
    """The board's beds, (room, bed) → what the resident column says, tags removed."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", text(response), flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        if len(cells) >= 3:
            rows[(cells[0], cells[1].removesuffix(" (accessible)"))] = cells[2]
    return rows


def live_assignments() -> list[BedAssignment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(BedAssignment)
            .where(BedAssignment.status.in_(HOLDS_BED))
            .order_by(BedAssignment.id)
        )
    )


def status_of(application_id: int) -> str:
    db.session.expire_all()
    return db.session.get(HousingApplication, application_id).status


def offer_form(bed_id, reply_by=None, move_in_on="") -> dict:
    reply_by = reply_by or local_today() + timedelta(days=7)
    return {"bed_id": bed_id, "reply_by": reply_by.isoformat(), "move_in_on": move_in_on}


def make_resident(student, term, bed, move_in_on=None) -> BedAssignment:
    """A student who applied, was offered `bed` and accepted it."""
    assignment = make_offer(make_application(student, term), bed)
    assignment.move_in_on = move_in_on
    accept_offer(assignment, local_today())
    db.session.commit()
    return assignment


@pytest.fixture
def term(ctx):
    """The current term, whatever today is: started 60 days ago, ends in 60 days."""
    today = local_today()
    return make_term("Fall 2026", today - timedelta(days=60), today + timedelta(days=60))


@pytest.fixture
def maple(ctx):
    """Maple House: room 1 with beds A and B."""
    return make_house("Maple House", rooms=1, beds_per_room=2)


@pytest.fixture
def beds(maple) -> dict[str, Bed]:
    return {bed.label: bed for bed in maple.rooms[0].beds}


@pytest.fixture
def staff(ctx, login):
    return login(make_user("staff", name="Sam Staff"))


@pytest.fixture
def rae(ctx):
    return make_user("student", email="rae@example.edu", name="Rae Lee")


# Offering a bed


def test_staff_offer_a_free_bed_and_the_student_is_emailed(
    term, maple, beds, staff, rae, login, smtp
):
    application = make_application(rae, term, maple)
    review = text(staff.get(f"/housing/queue/{application.id}"))
    assert "Offer this bed" in review and "Maple House, room 1, bed B" in review
    reply_by = local_today() + timedelta(days=5)
    move_in_on = local_today() + timedelta(days=10)

    response = staff.post(
        f"/housing/queue/{application.id}/offer",
        data=offer_form(beds["B"].id, reply_by, move_in_on=move_in_on.isoformat()),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/housing/board?term={term.id}")
    board = staff.get(response.headers["Location"])
    assert "Bed offered to Rae Lee; they have been emailed." in text(board)
    assert board_rows(board) == {
        ("1", "A"): "Free",
        ("1", "B"): f"Rae Lee · Offered (reply by {format_date(reply_by)})",
    }
    assert f"In {format_date(move_in_on)}" in text(board)

    page = text(login(rae).get(f"/housing/applications/{application.id}"))
    assert '<dt>Status</dt><dd><span class="badge badge-warn">Offered a bed</span></dd>' in page
    assert "<strong>Maple House</strong>, room 1, bed B" in page
    assert f"Please reply by <strong>{format_date(reply_by)}</strong>." in page
    assert "Accept this bed" in page and "Decline" in page

    [message] = smtp.to("rae@example.edu")
    assert message["Subject"] == "Housing offer (Fall 2026)"
    body = smtp.text_of(message)
    assert "Maple House" in body and "bed B" in body
    assert f"Please accept or decline by {format_date(reply_by)}" in body
    assert f"http://portal.test/housing/applications/{application.id}" in body


@pytest.mark.parametrize(
    ("field", "days_from_today", "message"),
    [
        ("reply_by", -1, "The reply-by date cannot be in the past."),
        ("move_in_on", 61, "The move-in date must fall within the term"),
    ],
)
def test_a_bad_date_is_refused_and_nothing_is_offered(
    term, maple, beds, staff, rae, smtp, field, days_from_today, message
):
    application = make_application(rae, term, maple)
    form = offer_form(beds["A"].id)
    form[field] = (local_today() + timedelta(days=days_from_today)).isoformat()
    response = staff.post(f"/housing/queue/{application.id}/offer", data=form)
    assert response.status_code == 400
    assert message in text(response)
    assert live_assignments() == []
    assert status_of(application.id) == "submitted"
    assert smtp.messages == []


@pytest.mark.parametrize("which", ["out of use", "unknown"])
def test_a_bed_not_in_the_list_is_a_form_error(term, maple, beds, staff, rae, smtp, which):
    application = make_application(rae, term, maple)
    if which == "out of use":
        beds["A"].active = False
        db.session.commit()
    bed_id = beds["A"].id if which == "out of use" else 999_999
    response = staff.post(f"/housing/queue/{application.id}/offer", data=offer_form(bed_id))
    page = text(response)
    assert response.status_code == 200
    assert "Please fix this before saving" in page and "Not a valid choice" in page
    assert "Maple House, room 1, bed B" in page, "the free beds are still offered"
    assert ("Maple House, room 1, bed A" in page) is (which == "unknown")
    assert live_assignments() == []
    assert status_of(application.id) == "submitted"
    assert smtp.messages == []


def test_a_bed_offered_while_the_review_page_was_open_is_a_clear_conflict(
    term, maple, beds, staff, rae, smtp
):
    application = make_application(rae, term, maple)
    assert "Maple House, room 1, bed A" in text(staff.get(f"/housing/queue/{application.id}"))
    kai = make_user("student", name="Kai Moss")
    make_offer(make_application(kai, term), beds["A"])
    response = staff.post(f"/housing/queue/{application.id}/offer", data=offer_form(beds["A"].id))
    assert response.status_code == 409
    assert TAKEN in text(response)
    assert [a.student_id for a in live_assignments()] == [kai.id]
    assert status_of(application.id) == "submitted"
    assert smtp.to("rae@example.edu") == []


@pytest.mark.parametrize("status", ["offered", "declined", "withdrawn"])
def test_only_a_submitted_or_waitlisted_application_gets_an_offer(
    term, maple, beds, staff, rae, status
):
    if status == "offered":
        application = make_application(rae, term, maple)
        make_offer(application, beds["A"])
    else:
        application = make_application(rae, term, maple, status=status)
    response = staff.post(f"/housing/queue/{application.id}/offer", data=offer_form(beds["B"].id))
    assert response.status_code == 409
    assert NOT_OPEN in text(response)
    assert [a.bed_id for a in live_assignments()] == ([beds["A"].id] if status == "offered" else [])
    assert status_of(application.id) == status


# Answering an offer


def test_student_accepts_and_the_house_fills_up(term, maple, beds, staff, rae, login, smtp):
    application = make_application(rae, term, maple)
    assignment = make_offer(application, beds["A"])
    assert "Maple House: 0% occupied" in text(staff.get("/housing/board")), (
        "an offer is not a resident"
    )
    student = login(rae)

    response = student.post(f"/housing/offers/{assignment.id}/accept", follow_redirects=True)
    assert "You accepted the bed. Welcome home! A confirmation is on its way." in text(response)
    offer, confirmation = smtp.to("rae@example.edu")
    assert confirmation["Subject"] == "Housing assignment confirmed (Fall 2026)"
    body = " ".join(smtp.text_of(confirmation).split())
    assert "is confirmed: Maple House, 12 Elm St, room 1, bed A." in body

    page = text(student.get(f"/housing/applications/{application.id}"))
    assert '<dt>Status</dt><dd><span class="badge badge-ok">Accepted</span></dd>' in page
    assert "Status: Accepted" in words(page) and "Accept this bed" not in page
    board = staff.get("/housing/board")
    assert "Maple House: 50% occupied" in text(board) and "1 of 2 beds taken" in text(board)
    assert board_rows(board)[("1", "A")] == "Rae Lee · Accepted"


def test_student_declines_and_the_bed_is_free_again(term, maple, beds, staff, rae, login, smtp):
    application = make_application(rae, term, maple)
    assignment = make_offer(application, beds["A"])
    student = login(rae)

    response = student.post(f"/housing/offers/{assignment.id}/decline", follow_redirects=True)
    assert "You declined the offer." in text(response)
    page = text(student.get(f"/housing/applications/{application.id}"))
    assert (
        '<dt>Status</dt><dd><span class="badge badge-danger">Declined</span>: You declined the offer.</dd>'
        in page
    )
    assert "Accept this bed" not in page
    assert board_rows(staff.get("/housing/board"))[("1", "A")] == "Free"
    other = make_application(make_user("student"), term, maple)
    assert "Maple House, room 1, bed A" in text(staff.get(f"/housing/queue/{other.id}"))
    assert [m["Subject"] for m in smtp.to("rae@example.edu")] == ["Housing offer (Fall 2026)"]


def test_another_students_offer_is_not_found(term, maple, beds, rae, login):
    assignment = make_offer(make_application(rae, term, maple), beds["A"])
    response = login(make_user("student")).post(f"/housing/offers/{assignment.id}/accept")
    assert response.status_code == 404
    assert "There is no housing offer with that number in your list." in text(response)
    assert [a.status for a in live_assignments()] == ["offered"]


def test_accepting_twice_says_the_offer_is_no_longer_open(term, maple, beds, rae, login, smtp):
    assignment = make_offer(make_application(rae, term, maple), beds["A"])
    student = login(rae)
    assert student.post(f"/housing/offers/{assignment.id}/accept").status_code == 302
    again = student.post(f"/housing/offers/{assignment.id}/accept")
    assert again.status_code == 409
    assert "This offer is no longer open." in text(again)
    assert len(smtp.to("rae@example.edu")) == 2, "one offer, one confirmation"


# Expiry


def test_an_offer_past_its_reply_by_date_cannot_be_accepted(term, maple, beds, rae, login):
    application = make_application(rae, term, maple)
    assignment = make_offer(application, beds["A"])
    yesterday = local_today() - timedelta(days=1)
    assignment.reply_by = yesterday
    db.session.commit()
    student = login(rae)

    page = text(student.get(f"/housing/applications/{application.id}"))
    assert f"This offer expired on {format_date(yesterday)}." in page
    assert "Accept this bed" not in page
    response = student.post(f"/housing/offers/{assignment.id}/accept")
    assert response.status_code == 409
    assert f"This offer expired on {format_date(yesterday)}. Ask housing staff" in text(response)
    assert [a.status for a in live_assignments()] == ["offered"]


def test_the_daily_job_expires_stale_offers_and_frees_their_beds(
    app, term, maple, beds, staff, rae, login
):
    stale_application = make_application(rae, term, maple)
    stale = make_offer(stale_application, beds["A"])
    stale.reply_by = local_today() - timedelta(days=1)
    db.session.commit()
    fresh = make_offer(make_application(make_user("student", name="Kai Moss"), term), beds["B"])
    runner = app.test_cli_runner()

    result = runner.invoke(args=["housing", "expire-offers"])
    assert result.exit_code == 0 and "Expired 1 offer(s)." in result.output
    page = text(login(rae).get(f"/housing/applications/{stale_application.id}"))
    assert '<dt>Status</dt><dd><span class="badge badge-neutral">Offer expired</span></dd>' in page
    assert 'Status: <span class="badge badge-neutral">Expired</span>' in page
    rows = board_rows(staff.get("/housing/board"))
    assert rows[("1", "A")] == "Free"
    assert rows[("1", "B")].startswith("Kai Moss · Offered")
    assert "Expired 0 offer(s)." in runner.invoke(args=["housing", "expire-offers"]).output
    assert [a.id for a in live_assignments()] == [fresh.id]


# The board: moves, move-outs, beds out of use


def test_staff_move_a_resident_to_a_free_bed(term, maple, beds, staff, rae):
    resident = make_resident(rae, term, beds["A"])
    response = staff.post(f"/housing/assignments/{resident.id}/move", data={"bed_id": beds["B"].id})
    assert response.status_code == 302
    board = staff.get(response.headers["Location"])
    assert "Rae Lee is moved." in text(board)
    assert board_rows(board) == {("1", "A"): "Free", ("1", "B"): "Rae Lee · Accepted"}


def test_moving_into_a_bed_someone_holds_is_refused(term, maple, beds, staff, rae):
    resident = make_resident(rae, term, beds["A"])
    make_offer(make_application(make_user("student", name="Kai Moss"), term), beds["B"])
    response = staff.post(f"/housing/assignments/{resident.id}/move", data={"bed_id": beds["B"].id})
    assert response.status_code == 409
    assert TAKEN in text(response)
    rows = board_rows(staff.get("/housing/board"))
    assert rows[("1", "A")] == "Rae Lee · Accepted"
    assert rows[("1", "B")].startswith("Kai Moss · Offered")


def test_moving_into_an_unknown_bed_is_refused(term, maple, beds, staff, rae):
    resident = make_resident(rae, term, beds["A"])
    response = staff.post(f"/housing/assignments/{resident.id}/move", data={"bed_id": "999999"})
    assert response.status_code == 400
    assert "Choose a bed that is in use from the list." in text(response)
    assert [a.bed_id for a in live_assignments()] == [beds["A"].id]


def test_a_move_out_before_the_move_in_is_refused(term, maple, beds, staff, rae):
    move_in_on = local_today() + timedelta(days=5)
    resident = make_resident(rae, term, beds["A"], move_in_on=move_in_on)
    day_before = (move_in_on - timedelta(days=1)).isoformat()
    response = staff.post(
        f"/housing/assignments/{resident.id}/move-out", data={"move_out_on": day_before}
    )
    assert response.status_code == 400
    assert "The move-out date must be after the move-in date." in text(response)
    [still] = live_assignments()
    assert (still.status, still.move_out_on) == ("accepted", None)


def test_a_move_out_ends_the_residency_and_frees_the_bed(term, maple, beds, staff, rae, login):
    resident = make_resident(rae, term, beds["A"], move_in_on=term.starts_on)
    assert "Maple House: 50% occupied" in text(staff.get("/housing/board"))
    response = staff.post(
        f"/housing/assignments/{resident.id}/move-out",
        data={"move_out_on": term.ends_on.isoformat()},
    )
    assert response.status_code == 302
    board = staff.get(response.headers["Location"])
    assert "Rae Lee's residency ends on the date given." in text(board)
    assert "Maple House: 0% occupied" in text(board)
    assert board_rows(board)[("1", "A")] == "Free"
    page = text(login(rae).get(f"/housing/applications/{resident.application_id}"))
    moved = f"Move-in {format_date(term.starts_on)} · Move-out {format_date(term.ends_on)}"
    assert f"Status: Ended · {moved}" in words(page)


@pytest.mark.parametrize("held", ["offered", "accepted"])
def test_a_bed_someone_holds_cannot_be_taken_out_of_use(term, maple, beds, staff, rae, held):
    if held == "offered":
        make_offer(make_application(rae, term, maple), beds["A"])
    else:
        make_resident(rae, term, beds["A"])
    response = staff.post(f"/housing/beds/{beds['A'].id}/active", data={"active": "0"})
    assert response.status_code == 409
    assert (
        "Bed A is offered to or held by a resident. Move them or end the residency first."
        in text(response)
    )
    db.session.expire_all()
    assert db.session.get(Bed, beds["A"].id).active is True


# Races


def test_two_staff_offering_one_bed_to_two_students_at_once_offer_it_once(
    term, maple, beds, login, smtp
):
    students = [
        make_user("student", email=f"s{n}@example.edu", name=f"Student {n}") for n in range(2)
    ]
    paths = [f"/housing/queue/{make_application(s, term, maple).id}/offer" for s in students]
    clients = [login(make_user("staff")) for _ in paths]
    form = offer_form(beds["A"].id)

    def offer(client, path):
        return lambda: client.post(path, data=form)

    responses = run_together(*(offer(c, p) for c, p in zip(clients, paths, strict=True)))
    assert sorted(r.status_code for r in responses) == [302, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert TAKEN in text(refused)
    [assignment] = live_assignments()
    assert assignment.bed_id == beds["A"].id
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == next(
        s.email for s in students if s.id == assignment.student_id
    )


def test_two_staff_offering_two_beds_to_one_student_at_once_offer_one(
    term, maple, beds, login, rae, smtp
):
    path = f"/housing/queue/{make_application(rae, term, maple).id}/offer"
    forms = [offer_form(beds["A"].id), offer_form(beds["B"].id)]
    clients = [login(make_user("staff")) for _ in forms]

    def offer(client, form):
        return lambda: client.post(path, data=form)

    responses = run_together(*(offer(c, f) for c, f in zip(clients, forms, strict=True)))
    assert sorted(r.status_code for r in responses) == [302, 409]
    refused = text(next(r for r in responses if r.status_code == 409))
    assert TAKEN in refused or NOT_OPEN in refused
    assert len(live_assignments()) == 1
    assert len(smtp.to("rae@example.edu")) == 1


# Cost


def add_houses_and_offers(term, houses: list[tuple[int, int]], offers: int) -> None:
    """Houses of (rooms, beds per room); `offers` offers, every other one accepted."""
    for rooms, beds_per_room in houses:
        make_house(rooms=rooms, beds_per_room=beds_per_room)
    for number in range(offers):
        assignment = make_offer(make_application(make_user("student"), term))
        if number % 2 == 0:
            accept_offer(assignment, local_today())
    db.session.commit()


def test_the_board_costs_the_same_with_more_houses_beds_and_residents(term, staff, count_queries):
    add_houses_and_offers(term, [(1, 2)], offers=1)
    staff.get("/housing/board")
    few = count_queries(staff, "/housing/board")
    add_houses_and_offers(term, [(2, 2), (2, 2), (3, 2)], offers=7)
    page = text(staff.get("/housing/board"))
    assert page.count("% occupied") == 4 and page.count("<tr>") == 4 + 16
    assert count_queries(staff, "/housing/board") == few
