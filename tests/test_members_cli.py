"""`flask members purge-expired` and `flask members erase`: the person goes, the counts stay."""

import html
import logging

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from crp_portal.advising.models import Appointment
from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import Invitation, User
from crp_portal.auth.services import authenticate
from crp_portal.events.attendance import attendance_count
from crp_portal.events.models import CalendarFeed, Rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import HousingApplication
from crp_portal.members.models import EmailOptOut, IntakeApplication, MemberProfile
from crp_portal.mentoring.models import MentorContact
from crp_portal.recovery.models import (
    CheckIn,
    FollowUp,
    FollowUpNote,
    RecoveryPlanVersion,
    SupportPerson,
)
from crp_portal.timeutil import utcnow
from tests.factories import PASSWORD, make_event, make_user
from tests.test_privacy import (
    a_student_with_everything,
    attend,
    make_check_in,
    make_follow_up,
)

EMAIL = "alex.kim@example.edu"


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def erase(app, email=EMAIL, answer=None, yes=False):
    args = ["members", "erase", email] + (["--yes"] if yes else [])
    return app.test_cli_runner().invoke(args=args, input=answer)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- erase ----------------------------------------------------------------------------


def test_answering_no_changes_nothing(app, ctx):
    student, _staff, _mentor = a_student_with_everything()
    result = erase(app, answer="n\n")
    assert result.exit_code == 1
    assert "Alex Kim" in result.output and "Student" in result.output
    assert "Nothing was erased." in result.output
    db.session.expire_all()
    assert db.session.get(User, student.id).name == "Alex Kim"
    assert authenticate(EMAIL, PASSWORD) is not None
    assert count(SupportPerson, SupportPerson.student_id == student.id) == 1


def test_an_erased_person_is_gone_and_the_counts_stay(app, ctx, login):
    student, staff, mentor = a_student_with_everything()
    event = make_event(staff)
    attend(event, student)
    attend(event, make_user("student"))
    their_session = login(student)
    staff_client = login(staff)
    assert "Alex Kim" in page_text(staff_client.get("/members/"))
    attended_before = attendance_count(event)
    check_ins_before = count(CheckIn, CheckIn.student_id == student.id)

    result = erase(app, answer="y\n")

    assert result.exit_code == 0, result.output
    assert f"Erased account {student.id}." in result.output
    assert "1 support people" in result.output and "1 plan versions" in result.output
    db.session.expire_all()
    assert authenticate(EMAIL, PASSWORD) is None
    assert their_session.get("/me/profile").status_code == 302  # signed out everywhere
    members = page_text(staff_client.get("/members/"))
    assert "Alex Kim" not in members and EMAIL not in members and "Erased member" in members
    assert count(SupportPerson, SupportPerson.student_id == student.id) == 0
    assert count(RecoveryPlanVersion, RecoveryPlanVersion.student_id == student.id) == 0
    assert attendance_count(event) == attended_before
    assert count(CheckIn, CheckIn.student_id == student.id) == check_ins_before
    assert count(CheckIn, CheckIn.student_id == student.id, CheckIn.note.is_not(None)) == 0


def test_erasure_blanks_every_trace_and_keeps_the_rows(app, ctx, caplog):
    student, _staff, mentor = a_student_with_everything()
    mentee = db.session.scalar(select(User).where(User.name == "Sam Mentee"))
    mentee.profile.mentor_id = student.id
    db.session.get(CalendarFeed, student.id).token = "feed-token"  # made with the account
    db.session.add(Invitation(email=EMAIL, role="student", token_nonce="n1"))
    db.session.commit()
    uid = student.id

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        result = erase(app, yes=True)

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.get(User, uid)
    assert user.name == "Erased member" and user.email == f"erased-{uid}@erased.invalid"
    assert user.password_hash is None and not user.active
    assert user.erased_at is not None and user.deactivated_at is not None
    profile = db.session.get(MemberProfile, uid)
    assert (profile.major, profile.phone, profile.recovery_date, profile.mentor_id) == (None,) * 4
    assert profile.status == "active" and profile.joined_on is not None
    assert not profile.is_peer_mentor and not profile.share_plan_with_staff
    assert db.session.get(MemberProfile, mentee.id).mentor_id is None
    for model, column in ((EmailOptOut, EmailOptOut.user_id), (CalendarFeed, CalendarFeed.user_id)):
        assert count(model, column == uid) == 0
    assert count(Invitation, Invitation.email == EMAIL) == 0
    intake = db.session.scalar(select(IntakeApplication).where(IntakeApplication.student_id == uid))
    assert (intake.goals, intake.heard_from_detail, intake.staff_note) == ("", "", "")
    assert intake.status == "accepted"
    housing = db.session.scalar(
        select(HousingApplication).where(HousingApplication.student_id == uid)
    )
    assert (housing.roommate_request, housing.accessibility_needs) == ("", "")
    appointment = db.session.scalar(select(Appointment).where(Appointment.student_id == uid))
    assert (appointment.private_notes, appointment.summary, appointment.action_items) == ("",) * 3
    assert count(FollowUp, FollowUp.student_id == uid) == 1
    assert db.session.scalar(select(FollowUpNote.body)) is None
    assert count(Rsvp, Rsvp.user_id == uid) == 1
    assert count(MentorContact, MentorContact.mentee_id == uid) == 1
    assert count(MentorContact, MentorContact.mentor_id == uid) == 1
    assert count(AuditEntry, AuditEntry.subject_id == uid, AuditEntry.actor_id.is_(None)) == 1
    logged = [record.getMessage() for record in caplog.records]
    assert f"Erased user {uid}" in logged
    assert not any("Alex Kim" in message or EMAIL in message for message in logged)


def test_an_unknown_email_is_explained_without_a_traceback(app, ctx):
    result = erase(app, email="nobody@example.edu", yes=True)
    assert result.exit_code == 1
    assert "No account uses nobody@example.edu." in result.output
    assert "Traceback" not in result.output


def test_erasing_twice_says_the_person_is_gone_already(app, ctx):
    student, _staff, _mentor = a_student_with_everything()
    assert erase(app, yes=True).exit_code == 0
    again = erase(app, yes=True)
    assert again.exit_code == 1 and "erased already" in again.output
    by_new_address = erase(app, email=f"erased-{student.id}@erased.invalid", yes=True)
    assert by_new_address.exit_code == 1
    assert f"Account {student.id} was already erased" in by_new_address.output
    assert count(AuditEntry, AuditEntry.action == "erased on request") == 1


def test_the_last_active_admin_cannot_be_erased(app, ctx):
    make_user("staff", email="lead@example.edu", is_admin=True)
    refused = erase(app, email="lead@example.edu", yes=True)
    assert refused.exit_code == 1
    assert "only active admin account" in refused.output
    assert authenticate("lead@example.edu", PASSWORD) is not None
    make_user("staff", is_admin=True)
    assert erase(app, email="lead@example.edu", yes=True).exit_code == 0
    assert authenticate("lead@example.edu", PASSWORD) is None


def test_an_advisor_leaving_can_be_erased_too(app, ctx):
    advisor = make_user("advisor", email="pat@example.edu", name="Pat Advisor")
    result = erase(app, email="pat@example.edu", answer="y\n")
    assert result.exit_code == 0, result.output
    assert "Pat Advisor" in result.output and "Advisor" in result.output
    db.session.expire_all()
    assert db.session.get(User, advisor.id).name == "Erased member"


# --- purge-expired --------------------------------------------------------------------


def test_purge_removes_old_notes_keeps_recent_ones_and_every_count(app, ctx):
    student = make_user("student")
    staff = make_user("staff")
    long_ago = utcnow() - relativedelta(months=25)
    old = make_check_in(student, note="Old words", created_at=long_ago)
    recent = make_check_in(student, note="Recent words")
    make_check_in(student, note=None, created_at=long_ago)
    make_follow_up(student, note="Old staff note", author=staff, created_at=long_ago)
    make_follow_up(student, note="Recent staff note", author=staff)

    first = app.test_cli_runner().invoke(args=["members", "purge-expired"])

    assert first.exit_code == 0, first.output
    assert first.output.strip() == (
        "Removed 1 check-in note(s) and 1 follow-up note(s) older than 24 months."
    )
    db.session.expire_all()
    assert db.session.get(CheckIn, old.id).note is None
    assert db.session.get(CheckIn, old.id).note_removed_at is not None
    assert db.session.get(CheckIn, old.id).mood == 3
    assert db.session.get(CheckIn, recent.id).note == "Recent words"
    bodies = set(db.session.scalars(select(FollowUpNote.body)))
    assert bodies == {None, "Recent staff note"}
    assert count(CheckIn) == 3 and count(FollowUp) == 2 and count(FollowUpNote) == 2

    second = app.test_cli_runner().invoke(args=["members", "purge-expired"])
    assert "Removed 0 check-in note(s) and 0 follow-up note(s)" in second.output


def test_purge_takes_a_shorter_period(app, ctx):
    student = make_user("student")
    make_check_in(student, note="Two months old", created_at=utcnow() - relativedelta(months=2))
    result = app.test_cli_runner().invoke(args=["members", "purge-expired", "--months", "1"])
    assert "Removed 1 check-in note(s) and 0 follow-up note(s) older than 1 month." in result.output
    assert count(CheckIn, CheckIn.note.is_not(None)) == 0
