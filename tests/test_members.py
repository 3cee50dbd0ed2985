"""Member basics: a student's own profile, staff's member list and record."""

from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.members.models import AuditEntry, MemberProfile
from tests.factories import make_user


def test_student_sets_preferred_name_and_pronouns(ctx, login):
    student = make_user("student", name="Alexandra Morgan")
    client = login(student)
    response = client.post(
        "/me/profile",
        data={"preferred_name": "Alex", "pronouns": "she/her"},
        follow_redirects=True,
    )
    assert b"Your profile is saved." in response.data
    assert b"Welcome, Alex" in client.get("/").data


def test_over_long_profile_fields_are_refused_in_place(ctx, login):
    student = make_user("student")
    response = login(student).post(
        "/me/profile", data={"preferred_name": "A" * 500, "pronouns": "x" * 100}
    )
    assert b"Use at most 80 characters." in response.data
    assert b"Use at most 40 characters." in response.data
    db.session.refresh(student.profile)
    assert student.profile.preferred_name is None


def test_student_cannot_change_their_own_status_or_student_id(ctx, login):
    student = make_user("student", student_id="S1", status="applicant")
    login(student).post(
        "/me/profile",
        data={"preferred_name": "", "pronouns": "", "status": "active", "student_id": "S2"},
    )
    db.session.refresh(student.profile)
    assert (student.profile.status, student.profile.student_id) == ("applicant", "S1")


def test_staff_find_members_by_name_and_status(ctx, login):
    make_user("student", name="Kai Nguyen", status="active")
    make_user("student", name="Noor Haddad", status="applicant")
    client = login(make_user("staff"))
    page = client.get("/members/?status=applicant").data
    assert b"Noor Haddad" in page and b"Kai Nguyen" not in page
    assert b"Kai Nguyen" in client.get("/members/?q=kai").data


def test_opening_a_member_record_is_audited(ctx, login):
    staff = make_user("staff")
    student = make_user("student", name="Kai Nguyen")
    response = login(staff).get(f"/members/{student.id}")
    assert b"Kai Nguyen" in response.data
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.actor_id, entry.subject_id, entry.action) == (
        staff.id,
        student.id,
        "member record",
    )


def test_staff_change_status_and_student_id(ctx, login):
    student = make_user("student", status="applicant")
    response = login(make_user("staff")).post(
        f"/members/{student.id}",
        data={"status": "active", "student_id": "S42"},
        follow_redirects=True,
    )
    assert b"membership" in response.data
    profile = db.session.get(MemberProfile, student.id)
    db.session.refresh(profile)
    assert (profile.status, profile.student_id) == ("active", "S42")
    assert profile.joined_on is not None


def test_student_id_clash_is_explained_in_place(ctx, login):
    make_user("student", student_id="S42")
    student = make_user("student")
    response = login(make_user("staff")).post(
        f"/members/{student.id}", data={"status": "active", "student_id": "S42"}
    )
    assert b"That student id already belongs to another member." in response.data
    db.session.refresh(student.profile)
    assert student.profile.student_id is None


def test_a_student_sees_who_opened_their_records(ctx, login):
    staff = make_user("staff", name="Morgan Ellis")
    advisor = make_user("advisor", name="Priya Shah")
    student = make_user("student")
    login(staff).get(f"/members/{student.id}")
    login(advisor).get(f"/advising/students/{student.id}")
    client = login(student)
    assert "See who has opened your records" in client.get("/me/profile").get_data(as_text=True)
    page = client.get("/me/record-views").get_data(as_text=True)
    assert "Morgan Ellis (Staff)" in page and "Member record" in page
    assert "Priya Shah (Advisor)" in page and "Advising record" in page
    assert page.index("Priya Shah") < page.index("Morgan Ellis")  # newest first


def test_students_see_only_views_of_their_own_records(ctx, login):
    staff = make_user("staff", name="Morgan Ellis")
    other = make_user("student")
    login(staff).get(f"/members/{other.id}")
    page = login(make_user("student")).get("/me/record-views").get_data(as_text=True)
    assert "Nobody has opened your records yet." in page and "Morgan Ellis" not in page
