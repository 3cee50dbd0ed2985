"""A student downloads everything the portal holds about them, and nobody else's data."""

import json
from datetime import date, datetime, timedelta

from crp_portal.audit.models import AuditEntry
from crp_portal.events.models import Attendance, CalendarFeed, Rsvp
from crp_portal.extensions import db
from crp_portal.members.models import EmailOptOut, IntakeApplication, ProgramAgreement, StatusChange
from crp_portal.mentoring.models import MentorContact
from crp_portal.recovery.models import (
    CheckIn,
    FollowUp,
    FollowUpNote,
    RecoveryPlanVersion,
)
from crp_portal.timeutil import local_today, utcnow
from tests.factories import (
    make_application,
    make_appointment,
    make_condition_report,
    make_event,
    make_house,
    make_offer,
    make_support_person,
    make_term,
    make_user,
)

_weeks = iter(range(1, 1000))


def make_check_in(student, note="Rough week, but I held on", created_at=None, **fields):
    """A weekly check-in, written directly (a different week each call)."""
    check_in = CheckIn(
        student_id=student.id,
        week_start=date(2020, 1, 6) + timedelta(weeks=next(_weeks)),
        mood=3,
        stress=4,
        sleep=2,
        note=note,
        created_at=created_at or utcnow(),
        **fields,
    )
    db.session.add(check_in)
    db.session.commit()
    return check_in


def make_follow_up(student, note="Called; they are doing better", author=None, created_at=None):
    """A staff follow-up with one working note, written directly."""
    follow_up = FollowUp(student_id=student.id, reason="reach_out", status="open")
    db.session.add(follow_up)
    db.session.flush()
    db.session.add(
        FollowUpNote(
            follow_up_id=follow_up.id,
            author_id=author.id if author else None,
            body=note,
            created_at=created_at or utcnow(),
        )
    )
    db.session.commit()
    return follow_up


def make_intake(student, goals="Stay sober through finals"):
    agreement = ProgramAgreement(version=1, body="Respect each other's anonymity.")
    db.session.add(agreement)
    db.session.flush()
    application = IntakeApplication(
        student_id=student.id,
        goals=goals,
        heard_from="friend",
        heard_from_detail="My roommate Casey",
        agreement_id=agreement.id,
        status="accepted",
        staff_note="A warm first conversation",
    )
    db.session.add(application)
    db.session.commit()
    return application


def make_plan(student, triggers="Exam-week parties"):
    plan = RecoveryPlanVersion(student_id=student.id, version=1, triggers=triggers)
    db.session.add(plan)
    db.session.commit()
    return plan


def make_mentor_contact(mentor, mentee, minutes=25, topics="academics,housing"):
    contact = MentorContact(
        mentor_id=mentor.id,
        mentee_id=mentee.id,
        contact_date=local_today(),
        mode="phone",
        minutes=minutes,
        topics=topics,
    )
    db.session.add(contact)
    db.session.commit()
    return contact


def attend(event, user):
    db.session.add(Rsvp(event_id=event.id, user_id=user.id, status="going", queue_number=user.id))
    db.session.add(Attendance(event_id=event.id, user_id=user.id, source="roster"))
    db.session.commit()


def a_student_with_everything():
    """A peer mentor who uses every part of the portal; returns (student, staff, mentor)."""
    staff = make_user("staff", name="Dana Coordinator")
    mentor = make_user("student", name="Riley Mentor")
    student = make_user("student", name="Alex Kim", email="alex.kim@example.edu")
    mentee = make_user("student", name="Sam Mentee")
    profile = student.profile
    profile.major = "Marine Biology"
    profile.phone = "555-0199"
    profile.recovery_date = date(2023, 3, 14)
    profile.is_peer_mentor = True
    profile.mentor_id = mentor.id
    db.session.add(
        StatusChange(
            user_id=student.id, from_status="applicant", to_status="active", note="Welcome aboard"
        )
    )
    db.session.add(EmailOptOut(user_id=student.id, category="housing"))
    db.session.add(AuditEntry(actor_id=staff.id, subject_id=student.id, action="member record"))
    db.session.commit()
    make_intake(student)
    make_support_person(student, name="Jordan Lee")
    make_plan(student)
    make_check_in(student)
    make_follow_up(student, author=staff)
    attend(make_event(staff, title="Peer support group", public_title="Evening gathering"), student)
    make_appointment(
        make_user("advisor", name="Pat Advisor"),
        student,
        summary="Drop CHEM 101 before the deadline",
        action_items="Email the registrar",
        private_notes="Seemed exhausted; keep an eye out",
    )
    application = make_application(
        student, make_term(), make_house("Hope House"), roommate_request="Morgan Ortiz",
        accessibility_needs="Ground floor room",
    )  # fmt: skip
    report = make_condition_report(make_offer(application, staff=staff), items="Desk: scratched")
    report.student_notes = "The window sticks"
    db.session.commit()
    make_mentor_contact(mentor, student, minutes=25)
    make_mentor_contact(student, mentee, minutes=45, topics="wellbeing")
    return student, staff, mentor


def download(client):
    response = client.get("/me/data.json")
    assert response.status_code == 200
    return response, json.loads(response.get_data(as_text=True))


def test_the_download_holds_a_value_from_every_table(ctx, login):
    student, _staff, _mentor = a_student_with_everything()
    response, data = download(login(student))

    assert response.mimetype == "application/json"
    filename = f"my-data-{local_today().isoformat()}.json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["Cache-Control"] == "no-store"

    assert data["account"]["email"] == "alex.kim@example.edu"
    assert data["account"]["role"] == "Student"
    assert data["profile"]["major"] == "Marine Biology"
    assert data["profile"]["recovery_date"] == "2023-03-14"
    assert data["profile"]["mentor"] == "Riley Mentor"
    assert "Welcome aboard" in [change["note"] for change in data["status_history"]]
    [intake] = data["intake_applications"]
    assert intake["goals"] == "Stay sober through finals"
    assert intake["agreement_version"] == 1 and intake["staff_note"] == "A warm first conversation"
    assert data["support_network"][0]["name"] == "Jordan Lee"
    assert data["recovery_plan_versions"][0]["triggers"] == "Exam-week parties"
    assert data["check_ins"][0]["note"] == "Rough week, but I held on"
    assert data["check_ins"][0]["mood"] == 3
    [follow_up] = data["follow_ups"]
    assert follow_up["notes"][0]["text"] == "Called; they are doing better"
    assert data["email_opt_outs"][0]["category"] == "Recovery housing news"
    assert data["rsvps"][0]["event"] == "Evening gathering"  # the neutral title they chose
    assert data["attendance"][0]["recorded_as"] == "roster"
    [appointment] = data["advising_appointments"]
    assert appointment["advisor"] == "Pat Advisor"
    assert appointment["summary"] == "Drop CHEM 101 before the deadline"
    assert appointment["action_items"] == "Email the registrar"
    [housing] = data["housing_applications"]
    assert housing["roommate_request"] == "Morgan Ortiz" and housing["first_choice"] == "Hope House"
    [bed] = data["bed_assignments"]
    assert bed["house"] == "Hope House" and bed["status"] == "Offered"
    assert bed["condition_reports"][0]["your_notes"] == "The window sticks"
    assert data["mentoring_received"][0] == {
        "mentor": "Riley Mentor",
        "date": local_today().isoformat(),
        "mode": "Phone call",
        "minutes": 25,
        "topics": ["Classes and studying", "Housing"],
    }
    assert data["mentoring_given"][0]["mentee"] == "Sam Mentee"
    assert data["record_views"][0]["who"] == "Dana Coordinator"
    assert data["record_views"][0]["what"] == "member record"


def test_dates_are_iso_8601(ctx, login):
    student, _staff, _mentor = a_student_with_everything()
    _response, data = download(login(student))
    created = data["account"]["created_at"]
    assert created.endswith("+00:00")
    assert abs(datetime.fromisoformat(created) - utcnow()) < timedelta(hours=1)
    assert date.fromisoformat(data["check_ins"][0]["week_start"])


def test_the_advisors_private_notes_stay_out(ctx, login):
    student, _staff, _mentor = a_student_with_everything()
    response, _data = download(login(student))
    body = response.get_data(as_text=True)
    assert "private_notes" not in body
    assert "Seemed exhausted" not in body


def test_another_students_data_is_absent(ctx, login):
    a_student_with_everything()
    other = make_user("student", name="Quinn Other")
    make_support_person(other, name="Someone Else Entirely")
    make_check_in(other, note="Only Quinn wrote this")
    response, data = download(login(other))
    body = response.get_data(as_text=True)
    assert data["account"]["name"] == "Quinn Other"
    for secret in ("Alex Kim", "Jordan Lee", "Rough week", "Marine Biology", "Drop CHEM 101"):
        assert secret not in body
    assert [p["name"] for p in data["support_network"]] == ["Someone Else Entirely"]
    assert data["rsvps"] == [] and data["record_views"] == []


def test_a_new_student_gets_empty_sections(ctx, login):
    _response, data = download(login(make_user("student")))
    assert data["check_ins"] == [] and data["bed_assignments"] == []
    assert data["profile"]["status"] == "Active"


def test_queries_do_not_grow_with_the_data(ctx, login, count_queries):
    student, staff, _mentor = a_student_with_everything()
    client = login(student)
    before = count_queries(client, "/me/data.json")
    for _ in range(3):
        make_check_in(student)
        make_follow_up(student, author=staff)
        make_support_person(student)
        attend(make_event(staff), student)
    assert count_queries(client, "/me/data.json") == before


def test_only_the_student_themself_downloads(ctx, login, client):
    for role in ("staff", "advisor"):
        assert login(make_user(role)).get("/me/data.json").status_code == 403
    signed_out = client.get("/me/data.json")
    assert signed_out.status_code == 302
    assert "/sign-in" in signed_out.headers["Location"]


def test_a_calendar_feed_is_not_part_of_the_copy(ctx, login):
    """The private feed token is a credential, not data about the person."""
    student = make_user("student")
    db.session.get(CalendarFeed, student.id).token = "feed-token-secret"  # made with the account
    db.session.commit()
    response, _data = download(login(student))
    assert "feed-token-secret" not in response.get_data(as_text=True)
