"""Demo housing: two houses, the agreement, and a few applications for the current term."""

from datetime import datetime, timedelta

from crp_portal.extensions import db
from crp_portal.housing.models import (
    ApplicationStatus,
    AssignmentStatus,
    BedAssignment,
    HousingApplication,
)
from crp_portal.housing.services import add_bed, add_room, publish_agreement, save_house

AGREEMENT = """1. The house is substance-free: no alcohol, drugs or paraphernalia, for residents or guests.
2. Residents attend the weekly house meeting and keep a recovery plan they are working on.
3. Guests sign in, leave by 11 pm on weeknights and never stay overnight without house consent.
4. If you use, tell house staff within 24 hours; we respond with support first.
5. Shared spaces are everyone's: clean up after yourself and respect quiet hours (11 pm – 8 am).
6. Conflicts go to the house meeting or to house staff, never to social media."""

HOUSES: list[tuple[str, str, str, str, str, dict[str, tuple[str, ...]]]] = [
    ("Maple House", "14 Maple Ave", "All genders", "Sundays at 7 pm",
     "A renovated Victorian five minutes from the library, with a shared kitchen and garden.",
     {"1": ("A", "B"), "2": ("A", "B"), "3": ("A",)}),
    ("Harbor House", "3 Harbor Rd", "Women and non-binary students", "Mondays at 8 pm",
     "A quiet house by the river path with a study room and a meditation corner.",
     {"1": ("A", "B"), "2": ("A", "B")}),
]  # fmt: skip


# One waiting application has accessibility needs: its offer form starts on an accessible
# bed in the student's first choice of house; the other starts on a bed that is not.
NEEDS = "A ground-floor room, please: I use a wheelchair."


def seed_housing(staff, term, students, residents, now: datetime) -> int:
    """Two houses, the agreement, applications in the queue and a few residents."""
    houses = []
    for name, address, who, meetings, description, rooms in HOUSES:
        house = save_house(
            None, name=name, address=address, who_may_live=who, meeting_schedule=meetings,
            description=description, active=True,
        )  # fmt: skip
        for room_name, beds in rooms.items():
            room = add_room(house, room_name)
            for index, label in enumerate(beds):
                add_bed(room, label, accessible=room_name == "1" and index == 0)
        houses.append(house)
    agreement = publish_agreement(AGREEMENT, staff)
    submitted, waitlisted, declined = (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.WAITLISTED,
        ApplicationStatus.DECLINED,
    )
    statuses = [submitted, submitted, waitlisted, declined]
    for index, (student, status) in enumerate(zip(students, statuses, strict=False)):
        db.session.add(
            HousingApplication(
                term_id=term.id, student_id=student.id, first_choice_id=houses[index % 2].id,
                second_choice_id=houses[(index + 1) % 2].id, roommate_request="",
                accessibility_needs=NEEDS if index == 1 else "", agreement_id=agreement.id,
                agreement_acknowledged_at=now - timedelta(days=10 - index), status=status,
                decision_note="No bed fits the dates you need." if status == declined else None,
                submitted_at=now - timedelta(days=10 - index),
            )
        )  # fmt: skip
    for offset, student in enumerate(residents):
        bed = houses[0].rooms[offset].beds[0]
        application = HousingApplication(
            term_id=term.id, student_id=student.id, first_choice_id=houses[0].id,
            roommate_request="", accessibility_needs="", agreement_id=agreement.id,
            agreement_acknowledged_at=now - timedelta(days=60), status=ApplicationStatus.ACCEPTED,
            submitted_at=now - timedelta(days=60),
        )  # fmt: skip
        db.session.add(application)
        db.session.flush()
        db.session.add(
            BedAssignment(
                term_id=term.id, bed_id=bed.id, student_id=student.id,
                application_id=application.id, status=AssignmentStatus.ACCEPTED,
                reply_by=term.starts_on, move_in_on=term.starts_on - timedelta(days=3),
                offered_by_id=staff.id, offered_at=now - timedelta(days=55),
                answered_at=now - timedelta(days=54),
            )
        )  # fmt: skip
    db.session.flush()
    return len(houses)
