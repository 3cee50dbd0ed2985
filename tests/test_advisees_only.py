"""Privacy item 4: advisors find, open and book for their advisees only.

An advisee is a student who has an appointment with the advisor (any, past or future)
or whom recovery staff assigned to them on the member record. Anyone else is a 404
that reads like no student at all, and never shows up in "Book for a student".
"""

import functools
import re

import pytest
from sqlalchemy import func, select

from crp_portal.advising import services
from crp_portal.advising.models import Appointment
from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.errors import NotFound
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile
from crp_portal.timeutil import utcnow
from tests.factories import make_appointment, make_user
from tests.test_advising_booking import advisor_with_hours, listed_starts, text
from tests.test_concurrency import run_together

NO_STUDENT = "There is no student with that number."


def listed_students(response) -> set[int]:
    """The students a "Book for a student" page links to."""
    return {int(found) for found in re.findall(r'href="/advising/students/(\d+)"', text(response))}


def appointment_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Appointment))


def audit_rows(actor_id: int, subject_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.actor_id == actor_id, AuditEntry.subject_id == subject_id)
            .order_by(AuditEntry.id)
        )
    )


def assign(student, advisor) -> None:
    student.profile.advisor_id = advisor.id
    db.session.commit()


# Finding students


def test_book_for_a_student_lists_and_finds_only_the_advisors_advisees(ctx, login):
    advisor, colleague = advisor_with_hours(), make_user("advisor")
    assigned = make_user("student", name="Noor Assigned")
    assign(assigned, advisor)
    booked_before = make_user("student", name="Noor Earlier")
    make_appointment(advisor, booked_before, days_ahead=-20, status="completed")
    booked_ahead = make_user("student", name="Noor Later")
    make_appointment(advisor, booked_ahead, days_ahead=6)
    called_off = make_user("student", name="Noor Cancelled")
    make_appointment(advisor, called_off, days_ahead=-3, status="cancelled")
    theirs = make_user("student", name="Noor Colleagues")
    make_appointment(colleague, theirs, days_ahead=6)
    assign(theirs, colleague)
    make_user("student", name="Noor Nobody", email="noor.nobody@example.edu")
    client = login(advisor)

    mine = {assigned.id, booked_before.id, booked_ahead.id, called_off.id}
    listing = client.get("/advising/students")
    assert listed_students(listing) == mine
    found = client.get("/advising/students?q=noor")
    assert listed_students(found) == mine
    for hidden in ("Noor Colleagues", "Noor Nobody"):
        assert hidden not in text(listing) and hidden not in text(found)

    by_email = client.get("/advising/students?q=noor.nobody")
    assert listed_students(by_email) == set()
    assert "None of your advisees matches “noor.nobody”." in text(by_email)
    assert "Noor Nobody" not in text(by_email)

    assert listed_students(login(colleague).get("/advising/students?q=noor")) == {theirs.id}


def test_an_advisor_with_no_advisees_is_told_how_students_become_theirs(ctx, login):
    make_user("student", name="Someone Else")
    page = text(login(make_user("advisor")).get("/advising/students"))
    assert "You have no advisees yet." in page and "Someone Else" not in page


# Opening and booking for someone else's student


def test_someone_elses_student_looks_like_no_student_and_nothing_is_written(ctx, login, smtp):
    advisor, colleague = advisor_with_hours(), advisor_with_hours("bo@example.edu", "Bo Colleague")
    own = make_user("student", name="Ada Own")
    assign(own, advisor)
    booked_elsewhere = make_user("student", name="Zed Elsewhere", email="zed@example.edu")
    elsewhere = make_appointment(colleague, booked_elsewhere, days_ahead=3)
    former = make_user("student", name="Fay Former", status="alumni")
    client = login(advisor)
    key = listed_starts(client.get(f"/advising/students/{own.id}"))[0]

    missing = client.get("/advising/students/999999")
    assert missing.status_code == 404 and NO_STUDENT in text(missing)
    for student in (booked_elsewhere, former):
        for response in (
            client.get(f"/advising/students/{student.id}"),
            client.get(f"/advising/students/{student.id}/book?start={key}"),
            client.post(
                f"/advising/students/{student.id}/book?start={key}", data={"topic": "standing"}
            ),
        ):
            assert response.status_code == 404, student.name
            page = text(response)
            assert NO_STUDENT in page and student.name not in page and student.email not in page
        assert audit_rows(advisor.id, student.id) == []
    assert appointment_count() == 1
    assert smtp.to("zed@example.edu") == []

    # The advisor's own pages say nothing about the colleague's student either.
    for path in ("/advising/agenda", f"/advising/appointments/{elsewhere.id}"):
        assert "Zed Elsewhere" not in text(client.get(path))


def test_the_booking_rule_refuses_an_advisor_booking_for_someone_elses_student(ctx):
    advisor = advisor_with_hours()
    stranger = make_user("student")
    now = utcnow()
    slot = services.available_slots(advisor.id, stranger.id, now)[0]
    with pytest.raises(NotFound):
        services.book(advisor.id, stranger, slot.starts_at, "standing", "", advisor, now)
    db.session.rollback()
    assert appointment_count() == 0


# Staff assign an advisor on the member record


def test_recovery_staff_assign_an_advisor_who_can_then_find_and_book_the_student(ctx, login, smtp):
    advisor = advisor_with_hours(name="Priya Shah")
    make_user("advisor", name="Retired Advisor", active=False)
    student = make_user("student", name="Noor Haddad", email="noor@example.edu")
    staff = make_user("staff", name="Morgan Ellis", scopes=["recovery"])
    desk = login(staff)
    finder = login(advisor)
    assert finder.get(f"/advising/students/{student.id}").status_code == 404

    record = text(desk.get(f"/members/{student.id}"))
    assert f'<option value="{advisor.id}">Priya Shah</option>' in record
    assert "Retired Advisor" not in record
    saved = desk.post(
        f"/members/{student.id}/advisor",
        data={"advisor_id": str(advisor.id)},
        follow_redirects=True,
    )
    assert "Saved Noor Haddad's advisor." in text(saved)
    assert f'<option selected value="{advisor.id}">Priya Shah</option>' in text(saved)
    assert db.session.get(MemberProfile, student.id).advisor_id == advisor.id
    assert "advisor assigned" in audit_rows(staff.id, student.id)

    assert listed_students(finder.get("/advising/students")) == {student.id}
    key = listed_starts(finder.get(f"/advising/students/{student.id}"))[0]
    booked = finder.post(
        f"/advising/students/{student.id}/book?start={key}",
        data={"topic": "standing"},
        follow_redirects=True,
    )
    assert "Booked with Noor Haddad; you both have a confirmation." in text(booked)
    assert len(smtp.to("noor@example.edu")) == 1


def test_clearing_the_advisor_hides_a_student_who_never_booked_with_them(ctx, login):
    advisor = advisor_with_hours()
    student = make_user("student", name="Noor Haddad")
    assign(student, advisor)
    staff = make_user("staff", scopes=["recovery"])
    finder = login(advisor)
    assert finder.get(f"/advising/students/{student.id}").status_code == 200

    cleared = login(staff).post(
        f"/members/{student.id}/advisor", data={"advisor_id": "0"}, follow_redirects=True
    )
    assert "Saved Noor Haddad's advisor." in text(cleared)
    assert db.session.get(MemberProfile, student.id).advisor_id is None
    assert "advisor removed" in audit_rows(staff.id, student.id)
    assert finder.get(f"/advising/students/{student.id}").status_code == 404
    assert listed_students(finder.get("/advising/students")) == set()


def test_only_an_active_advisor_can_be_assigned(ctx, login):
    student = make_user("student")
    retired = make_user("advisor", active=False)
    colleague = make_user("staff")
    other_student = make_user("student")
    desk = login(make_user("staff", scopes=["recovery"]))
    for wrong in (retired.id, colleague.id, other_student.id, student.id, "junk"):
        response = desk.post(f"/members/{student.id}/advisor", data={"advisor_id": str(wrong)})
        assert response.status_code == 422, wrong
        assert "Choose an advisor from the list, or no advisor." in text(response)
    assert db.session.get(MemberProfile, student.id).advisor_id is None


def test_only_recovery_staff_assign_advisors(ctx, login):
    advisor = make_user("advisor")
    student = make_user("student")
    path = f"/members/{student.id}/advisor"
    for visitor in (
        make_user("staff", scopes=["housing"]),
        make_user("staff", scopes=["events", "reports", "nudges"]),
        advisor,
        student,
    ):
        response = login(visitor).post(path, data={"advisor_id": str(advisor.id)})
        assert response.status_code == 403, visitor.email
    assert db.session.get(MemberProfile, student.id).advisor_id is None
    assert login(advisor).get(f"/advising/students/{student.id}").status_code == 404


def test_two_staff_assigning_one_advisor_at_once_audit_it_once(ctx, login):
    advisor = make_user("advisor")
    clients = [login(make_user("staff", scopes=["recovery"])) for _ in range(2)]
    for _ in range(3):
        student = make_user("student")
        path = f"/members/{student.id}/advisor"
        form = {"advisor_id": str(advisor.id)}
        responses = run_together(
            *(functools.partial(client.post, path, data=form) for client in clients)
        )
        assert [r.status_code for r in responses] == [302, 302]
        db.session.expire_all()
        assigned = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.subject_id == student.id, AuditEntry.action == "advisor assigned")
        )
        assert assigned == 1
        assert db.session.get(MemberProfile, student.id).advisor_id == advisor.id


def test_the_students_data_download_names_their_assigned_advisor(ctx, login):
    student = make_user("student")
    assign(student, make_user("advisor", name="Priya Shah"))
    download = login(student).get("/me/data.json")
    assert download.get_json()["profile"]["advisor"] == "Priya Shah"


# The demo


def test_the_demo_advisor_has_advisees_to_book_for(app, ctx, login):
    app.test_cli_runner().invoke(args=["seed-demo"])
    priya = db.session.scalar(select(User).where(User.email == "advisor@example.edu"))
    listed = listed_students(login(priya).get("/advising/students"))
    assert len(listed) >= 3
    assert all(services.is_advisee(priya.id, student_id) for student_id in listed)
    students = db.session.scalar(select(func.count()).select_from(MemberProfile))
    assert len(listed) < students
