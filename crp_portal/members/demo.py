"""Demo members data: the agreement, applications, profiles, mentors, plans, check-ins."""

from datetime import date, timedelta

from crp_portal import audit
from crp_portal.extensions import db
from crp_portal.members.models import (
    APPLICANT,
    CONVERSATION,
    IntakeApplication,
    ProgramAgreement,
    SupportPerson,
)
from crp_portal.members.recovery_models import (
    REACH_OUT,
    RESOLVED,
    CheckIn,
    FollowUp,
    FollowUpNote,
    MentorContact,
    RecoveryPlanVersion,
)
from crp_portal.timeutil import utcnow, week_start

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
    """`students[0]` is the demo student; student01 and student02 are peer mentors."""
    agreement = ProgramAgreement(version=1, body=AGREEMENT, published_by_id=staff.id)
    db.session.add(agreement)
    db.session.flush()
    for number, student in enumerate(students):
        profile = student.profile
        profile.major = MAJORS[number % len(MAJORS)]
        profile.class_year = today.year + 1 + number % 4
        profile.phone = f"555-01{number:02d}"
    applicants = [s for s in students if s.profile.status == APPLICANT]
    for number, student in enumerate(applicants):
        application = IntakeApplication(
            student_id=student.id,
            goals=GOALS[number % len(GOALS)],
            heard_from=("friend", "counseling", "orientation")[number % 3],
            agreement_id=agreement.id,
        )
        if number == len(applicants) - 1:
            application.status = CONVERSATION
            application.staff_note = "Thanks for applying! Could we meet for 20 minutes first?"
            application.decided_by_id = staff.id
            application.decided_at = utcnow()
        db.session.add(application)
    demo, mentors, mentees = students[0], students[1:3], students[3:11]
    for mentor in mentors:
        mentor.profile.is_peer_mentor = True
    demo.profile.mentor_id = mentors[0].id
    for number, mentee in enumerate(mentees):
        mentee.profile.mentor_id = mentors[number % 2].id
    for number, mentee in enumerate([demo, *mentees[:4]]):
        for week in range(3):
            db.session.add(
                MentorContact(
                    mentor_id=mentee.profile.mentor_id,
                    mentee_id=mentee.id,
                    contact_date=today - timedelta(days=7 * week + number + 1),
                    mode=("in_person", "phone", "message")[week],
                    minutes=(30, 15, 5)[week],
                    topics=("check_in,academics", "events", "check_in")[week],
                )
            )
    _seed_demo_students_recovery(today, demo)
    audit.record_action(staff, demo.id, audit.MEMBER_RECORD)
    audit.record_action(mentors[0], demo.id, audit.MENTEE_CONTACT, detail=audit.BY_PEER_MENTOR)
    _seed_check_ins(today, students[1:20], staff)
    return len(applicants)


def _seed_demo_students_recovery(today: date, demo) -> None:
    demo.profile.share_plan_with_staff = True
    demo.profile.share_check_ins_with_staff = True
    demo.profile.recovery_date = today - timedelta(days=400)
    db.session.add_all(
        [
            SupportPerson(
                student_id=demo.id,
                name="Sam Rivera",
                relationship_to_student="Sponsor",
                how_to_reach="555-0142",
                expectations="Answer when I call before a party or a bad night.",
                emergency_contact=True,
            ),
            SupportPerson(
                student_id=demo.id,
                name="Jamie Morgan",
                relationship_to_student="Sister",
                how_to_reach="jamie@example.org",
                expectations="Sunday calls.",
            ),
        ]
    )
    for version, coping in enumerate(
        ["Call Sam. Go to the Tuesday meeting.", "Call Sam. Tuesday meeting. Run before class."],
        start=1,
    ):
        db.session.add(
            RecoveryPlanVersion(
                student_id=demo.id,
                version=version,
                warning_signs="Skipping meals and sleep. Avoiding my roommates.",
                triggers="Exam weeks. Parties after games.",
                coping_strategies=coping,
                people_and_places="Sam; the recovery lounge; the library's quiet floor.",
                crisis_steps="Call Sam, then the campus crisis line. Go to the lounge.",
            )
        )
    for weeks_ago in range(8, 0, -1):
        db.session.add(
            CheckIn(
                student_id=demo.id,
                week_start=week_start(today) - timedelta(weeks=weeks_ago),
                mood=2 + weeks_ago % 3,
                stress=1 + (weeks_ago + 1) % 5,
                sleep=3 + weeks_ago % 2,
                note="Midterms week." if weeks_ago == 4 else None,
            )
        )


def _seed_check_ins(today: date, students: list, staff) -> None:
    """A few weeks of check-ins for some members; two asked for someone to reach out."""
    for number, student in enumerate(students):
        for weeks_ago in range(number % 4 + 1):
            check_in = CheckIn(
                student_id=student.id,
                week_start=week_start(today) - timedelta(weeks=weeks_ago),
                mood=1 + (number + weeks_ago) % 5,
                stress=1 + (number * 2 + weeks_ago) % 5,
                sleep=1 + (number + 2 * weeks_ago) % 5,
                wants_outreach=weeks_ago == 0 and number in (4, 9),
            )
            db.session.add(check_in)
            if check_in.wants_outreach:
                db.session.flush()
                follow_up = FollowUp(
                    student_id=student.id, check_in_id=check_in.id, reason=REACH_OUT
                )
                if number == 9:
                    follow_up.status = RESOLVED
                    follow_up.assigned_to_id = staff.id
                    follow_up.resolved_by_id = staff.id
                    follow_up.resolved_at = utcnow()
                    follow_up.notes.append(
                        FollowUpNote(author_id=staff.id, body="Met for coffee; doing okay.")
                    )
                db.session.add(follow_up)
