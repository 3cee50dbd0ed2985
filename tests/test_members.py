"""Member basics: a student's own profile, staff's member list and record."""

from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.extensions import db
from crp_portal.members.models import EmailOptOut, MemberProfile, StatusChange
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
    student.profile.advisor_id = advisor.id  # their advisor
    db.session.commit()
    login(staff).get(f"/members/{student.id}")
    login(advisor).get(f"/advising/students/{student.id}")
    client = login(student)
    assert "See who has opened your records" in client.get("/me/profile").get_data(as_text=True)
    page = client.get("/me/record-views").get_data(as_text=True)
    assert "Morgan Ellis (program staff)" in page and "Your member record" in page
    assert "Priya Shah (your assigned advisor)" in page and "Your advising record" in page
    assert "(Staff)" not in page and "(Advisor)" not in page
    assert page.index("Priya Shah") < page.index("Morgan Ellis")  # newest first


def test_students_see_only_views_of_their_own_records(ctx, login):
    staff = make_user("staff", name="Morgan Ellis")
    other = make_user("student")
    login(staff).get(f"/members/{other.id}")
    page = login(make_user("student")).get("/me/record-views").get_data(as_text=True)
    assert "Nobody has opened your records yet." in page and "Morgan Ellis" not in page


PROFILE = {
    "preferred_name": "Alex",
    "pronouns": "she/her",
    "major": "Biology",
    "class_year": "2028",
    "phone": "555-0100",
    "recovery_date": "2025-01-05",
    "email_categories": ["events", "academic", "event_reminders"],
}


def test_student_keeps_contact_details_recovery_date_and_email_choices(ctx, login):
    student = make_user("student")
    client = login(student)
    saved = client.post("/me/profile", data=PROFILE, follow_redirects=True)
    assert b"Your profile is saved." in saved.data
    db.session.refresh(student.profile)
    profile = student.profile
    assert (profile.major, profile.class_year, profile.phone) == ("Biology", 2028, "555-0100")
    assert profile.recovery_date.isoformat() == "2025-01-05"
    opted_out = set(
        db.session.scalars(select(EmailOptOut.category).where(EmailOptOut.user_id == student.id))
    )
    assert opted_out == {"housing", "wellbeing"}
    client.post("/me/profile", data={**PROFILE, "email_categories": ["housing"]})
    opted_out = set(
        db.session.scalars(select(EmailOptOut.category).where(EmailOptOut.user_id == student.id))
    )
    assert opted_out == {"events", "academic", "wellbeing", "event_reminders"}


def test_bad_profile_values_are_explained_in_place(ctx, login):
    student = make_user("student")
    response = login(student).post(
        "/me/profile",
        data={
            **PROFILE,
            "class_year": "20x8",
            "phone": "call me maybe",
            "recovery_date": "2999-01-01",
            "email_categories": ["gossip"],
        },
    )
    assert b"Enter a whole number from 1950 to 2100." in response.data
    assert b"Use digits, spaces and + ( ) - . only." in response.data
    assert b"is not a valid choice for this field." in response.data
    db.session.refresh(student.profile)
    assert student.profile.phone is None


def test_a_future_recovery_date_is_refused(ctx, login):
    student = make_user("student")
    response = login(student).post("/me/profile", data={**PROFILE, "recovery_date": "2999-01-01"})
    assert b"A recovery date cannot be in the future." in response.data
    db.session.refresh(student.profile)
    assert student.profile.recovery_date is None


def test_the_recovery_date_is_never_on_the_staff_record(ctx, login):
    student = make_user("student")
    login(student).post("/me/profile", data={**PROFILE, "share_plan_with_staff": "y"})
    page = login(make_user("staff")).get(f"/members/{student.id}").get_data(as_text=True)
    assert "555-0100" in page and "Biology" in page
    from datetime import date

    from crp_portal.timeutil import format_date

    assert "2025-01-05" not in page and format_date(date(2025, 1, 5)) not in page


def test_status_changes_keep_a_history_with_who_and_why(ctx, login):
    student = make_user("student", status="active")
    staff = make_user("staff", name="Casey Staff")
    client = login(staff)
    client.post(
        f"/members/{student.id}",
        data={"status": "on_leave", "student_id": "", "note": "Medical leave this term"},
    )
    page = client.get(f"/members/{student.id}").get_data(as_text=True)
    assert "Medical leave this term" in page and "Casey Staff" in page and "On leave" in page
    changes = db.session.scalars(
        select(StatusChange).where(StatusChange.user_id == student.id).order_by(StatusChange.id)
    ).all()
    assert [(c.from_status, c.to_status) for c in changes] == [
        (None, "active"),
        ("active", "on_leave"),
    ]


def test_the_staff_record_shows_participation_and_follow_ups(ctx, login):
    from crp_portal.events.models import Attendance
    from tests.factories import make_event

    student = make_user("student")
    event = make_event(title="Tuesday group")
    db.session.add(Attendance(event_id=event.id, user_id=student.id, source="roster"))
    db.session.commit()
    client = login(make_user("staff"))
    opened = client.post(f"/members/{student.id}/follow-ups", follow_redirects=True)
    assert opened.status_code == 200
    page = client.get(f"/members/{student.id}").get_data(as_text=True)
    assert "events attended" in page
    assert '<span class="stat-number">1</span> <span class="stat-label">events attended' in page
    assert "Raised by staff" in page


def test_recovery_items_reach_the_staff_record_only_with_consent(ctx, login):
    from crp_portal.recovery.plan import save_plan
    from tests.factories import make_support_person

    student = make_user("student")
    make_support_person(student, name="Jordan Lee")
    save_plan(student, {"warning_signs": "Skipping class", "crisis_steps": "Call Jordan"})
    db.session.commit()
    staff = login(make_user("staff"))
    private = staff.get(f"/members/{student.id}").get_data(as_text=True)
    assert "Skipping class" not in private and "Jordan Lee" not in private
    assert private.count("Not shared.") == 3
    login(student).post(
        "/me/profile",
        data={"share_plan_with_staff": "y", "share_network_with_staff": "y"},
    )
    shared = staff.get(f"/members/{student.id}").get_data(as_text=True)
    assert "Skipping class" in shared and "Jordan Lee" in shared
    assert shared.count("Not shared.") == 1


def test_reopening_a_record_within_minutes_is_written_once(ctx, login, monkeypatch):
    from datetime import timedelta

    from crp_portal import audit
    from crp_portal.timeutil import utcnow

    student = make_user("student")
    client = login(make_user("staff"))
    client.get(f"/members/{student.id}")
    client.get(f"/members/{student.id}")
    assert len(db.session.scalars(select(AuditEntry)).all()) == 1
    later = utcnow() + audit.REPEAT_WINDOW + timedelta(minutes=1)
    monkeypatch.setattr(audit, "utcnow", lambda: later)
    client.get(f"/members/{student.id}")
    assert len(db.session.scalars(select(AuditEntry)).all()) == 2


def test_shared_check_in_notes_are_on_the_record_and_private_ones_are_not(ctx, login):
    from crp_portal.recovery.check_ins import Answers, save_check_in
    from crp_portal.timeutil import local_today

    student = make_user("student")
    save_check_in(student, Answers(2, 4, 3, note="Rough week with exams"), local_today())
    db.session.commit()
    staff = login(make_user("staff"))
    assert "Rough week with exams" not in staff.get(f"/members/{student.id}").get_data(True)
    student.profile.share_check_ins_with_staff = True
    db.session.commit()
    assert "Rough week with exams" in staff.get(f"/members/{student.id}").get_data(True)
