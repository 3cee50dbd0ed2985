"""A student's support network is theirs: shared with staff only by consent, never with advisors."""

import html

from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.recovery.models import SupportPerson
from tests.factories import make_support_person, make_user

PERSON = {
    "name": "Jordan Lee",
    "relationship_to_student": "Sponsor",
    "how_to_reach": "555-0123",
    "expectations": "Call me before a party",
    "emergency_contact": "y",
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_student_adds_edits_and_removes_people(ctx, login):
    student = make_user("student")
    client = login(student)
    added = client.post("/me/network", data=PERSON, follow_redirects=True)
    assert "Jordan Lee is in your support network." in text(added)
    assert "Emergency contact" in text(added) and "Call me before a party" in text(added)
    person = db.session.scalar(select(SupportPerson))
    client.post(f"/me/network/{person.id}", data={**PERSON, "how_to_reach": "jl@example.org"})
    assert "jl@example.org" in text(client.get("/me/network"))
    removed = client.post(f"/me/network/{person.id}/remove", follow_redirects=True)
    assert "no longer in your support network" in text(removed)
    assert db.session.scalars(select(SupportPerson)).all() == []


def test_bad_input_is_explained_and_nothing_saved(ctx, login):
    client = login(make_user("student"))
    response = client.post("/me/network", data={**PERSON, "name": "", "expectations": "x" * 5000})
    assert "Enter their name." in text(response)
    assert "Use at most 1000 characters." in text(response)
    assert db.session.scalars(select(SupportPerson)).all() == []


def test_another_students_entry_is_not_found(ctx, login):
    person = make_support_person(make_user("student"))
    intruder = login(make_user("student"))
    assert intruder.get(f"/me/network/{person.id}").status_code == 404
    response = intruder.post(f"/me/network/{person.id}/remove")
    assert response.status_code == 404
    assert db.session.get(SupportPerson, person.id) is not None


def test_staff_see_the_network_only_when_the_student_shares_it(ctx, login):
    student = make_user("student")
    make_support_person(student, name="Jordan Lee")
    staff = login(make_user("staff"))
    private = text(staff.get(f"/members/{student.id}"))
    assert "Not shared" in private and "Jordan Lee" not in private
    login(student).post("/me/network/sharing", data={"share_network_with_staff": "y"})
    shared = text(staff.get(f"/members/{student.id}"))
    assert "Jordan Lee" in shared and "555-0123" in shared
    login(student).post("/me/network/sharing", data={})
    assert "Jordan Lee" not in text(staff.get(f"/members/{student.id}"))


def test_advisors_never_see_the_network_even_when_shared_with_staff(ctx, login):
    student = make_user("student")
    make_support_person(student, name="Jordan Lee")
    student.profile.share_network_with_staff = True
    student.profile.advisor = make_user("advisor")  # their own advisor
    db.session.commit()
    advisor = login(student.profile.advisor)
    assert advisor.get("/me/network").status_code == 403
    page = advisor.get(f"/advising/students/{student.id}")
    assert page.status_code == 200 and "Jordan Lee" not in text(page)
