"""Demo members data: the agreement, applications and profiles (mentoring and recovery
seed their own: `crp_portal.mentoring.demo`, `crp_portal.recovery.demo`)."""

from datetime import date

from crp_portal import audit
from crp_portal.extensions import db
from crp_portal.members.models import (
    IntakeApplication,
    IntakeStatus,
    MemberStatus,
    ProgramAgreement,
)
from crp_portal.timeutil import utcnow

AGREEMENT = """As a member of the Collegiate Recovery Program I agree to:

- respect the privacy of everyone I meet in the program: who I see here, and what I hear
  here, stays here;
- keep program spaces and events free of alcohol and other drugs;
- treat other members, staff and guests with respect, whatever their pathway to recovery;
- tell the program staff if I need support, so they can help me find it.

The program agrees to keep my recovery information private, to show staff only what I
choose to share, and to let me see who has opened my records."""

MAJORS = ["Biology", "Psychology", "Computer Science", "English", "Nursing", "History",
          "Economics", "Social Work", "Mechanical Engineering", "Art"]  # fmt: skip
GOALS = [
    "I'm in my first year of recovery and want friends who don't drink.",
    "I came back to school after treatment and want support around finals.",
    "A counselor suggested the program. I'd like a place to study and a community.",
]


def seed_members(today: date, staff, students: list) -> int:
    """`students[0]` is the demo student."""
    agreement = ProgramAgreement(version=1, body=AGREEMENT, published_by_id=staff.id)
    db.session.add(agreement)
    db.session.flush()
    for number, student in enumerate(students):
        profile = student.profile
        profile.major = MAJORS[number % len(MAJORS)]
        profile.class_year = today.year + 1 + number % 4
        profile.phone = f"555-01{number:02d}"
    applicants = [s for s in students if s.profile.status == MemberStatus.APPLICANT]
    for number, student in enumerate(applicants):
        application = IntakeApplication(
            student_id=student.id,
            goals=GOALS[number % len(GOALS)],
            heard_from=("friend", "counseling", "orientation")[number % 3],
            agreement_id=agreement.id,
        )
        if number == len(applicants) - 1:
            application.status = IntakeStatus.CONVERSATION
            application.staff_note = "Thanks for applying! Could we meet for 20 minutes first?"
            application.decided_by_id = staff.id
            application.decided_at = utcnow()
        db.session.add(application)
    audit.record_action(staff, students[0].id, audit.MEMBER_RECORD)
    return len(applicants)
