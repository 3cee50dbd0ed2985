"""Demo mentoring: two peer mentors, their mentees, and a few weeks of logged contacts."""

from datetime import date, timedelta

from crp_portal import audit
from crp_portal.extensions import db
from crp_portal.mentoring.models import MentorContact


def seed_mentoring(today: date, students: list) -> None:
    """`students[0]` is the demo student, mentored by student01; student01 and student02
    are peer mentors."""
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
    audit.record_action(mentors[0], demo.id, audit.MENTEE_CONTACT, detail=audit.BY_PEER_MENTOR)
