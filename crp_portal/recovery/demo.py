"""Demo recovery data: the demo student's network, plan and check-ins (shared with
staff), and a few weeks of check-ins for other members, two asking for outreach."""

from datetime import date, timedelta

from crp_portal.extensions import db
from crp_portal.recovery.models import (
    CheckIn,
    FollowUp,
    FollowUpNote,
    FollowUpReason,
    FollowUpStatus,
    RecoveryPlanVersion,
    SupportPerson,
)
from crp_portal.timeutil import utcnow, week_start


def seed_recovery(today: date, staff, students: list) -> None:
    """`students[0]` is the demo student."""
    _seed_demo_students_recovery(today, students[0])
    _seed_check_ins(today, students[1:20], staff)


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
                    student_id=student.id, check_in_id=check_in.id, reason=FollowUpReason.REACH_OUT
                )
                if number == 9:
                    follow_up.status = FollowUpStatus.RESOLVED
                    follow_up.assigned_to_id = staff.id
                    follow_up.resolved_by_id = staff.id
                    follow_up.resolved_at = utcnow()
                    follow_up.notes.append(
                        FollowUpNote(author_id=staff.id, body="Met for coffee; doing okay.")
                    )
                db.session.add(follow_up)
