"""Demo data: a believable program around today's date (`flask seed-demo`)."""

from datetime import date, timedelta
from typing import cast

from sqlalchemy import func, select

from crp_portal.access import ADVISOR, EVENTS, HOUSING, REPORTS, SCOPES, STAFF, STUDENT
from crp_portal.advising.demo import seed_advising
from crp_portal.auth.models import User
from crp_portal.auth.services import create_user
from crp_portal.events.demo import seed_events
from crp_portal.extensions import db
from crp_portal.home.demo import seed_home
from crp_portal.housing.demo import seed_housing
from crp_portal.members.demo import seed_members
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.mentoring.demo import seed_mentoring
from crp_portal.nudges.demo import seed_campaigns
from crp_portal.recovery.demo import seed_recovery
from crp_portal.support_meetings.demo import seed_support_meetings
from crp_portal.terms.demo import seed_terms
from crp_portal.terms.services import current_term
from crp_portal.timeutil import utcnow

DEMO_PASSWORD = "recovery-demo"  # noqa: S105 - published in the README on purpose  # nosec B105
STAFF_PEOPLE = [  # each staff job's account holds only that job's areas
    ("staff@example.edu", "Morgan Ellis", SCOPES),
    ("housing@example.edu", "Jordan Blake", (HOUSING,)),
    ("events@example.edu", "Sam Whitaker", (EVENTS,)),
    ("reports@example.edu", "Robin Castillo", (REPORTS,)),
]
ADVISOR_PEOPLE = [
    ("advisor@example.edu", "Priya Shah"),
    ("advisor2@example.edu", "Marcus Lee"),
    ("advisor3@example.edu", "Elena García"),
]
FIRST_NAMES = [
    "Avery",
    "Blake",
    "Cameron",
    "Dana",
    "Emerson",
    "Finley",
    "Gray",
    "Harper",
    "Indigo",
    "Jules",
    "Kai",
    "Logan",
    "Micah",
    "Noor",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Tatum",
    "Umar",
    "Val",
    "Wren",
    "Xiomara",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bodhi",
    "Carmen",
    "Diego",
    "Esme",
    "Felix",
    "Gia",
    "Hiro",
    "Ines",
    "Jonah",
    "Kenji",
    "Lena",
    "Mateo",
    "Nia",
]
LAST_NAMES = [
    "Nguyen",
    "Okafor",
    "Patel",
    "Kowalski",
    "Haddad",
    "Lindqvist",
    "Mensah",
    "Silva",
    "Tanaka",
    "Walsh",
    "Romero",
    "Brooks",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gutierrez",
    "Hughes",
    "Ivanova",
    "Jensen",
]
PRONOUNS = ["she/her", "he/him", "they/them", None]


def membership_status(number: int) -> str:
    """Mostly active members, with a few at every other stage of membership."""
    if number <= 32:
        return MemberStatus.ACTIVE
    return {
        33: MemberStatus.APPLICANT,
        34: MemberStatus.APPLICANT,
        35: MemberStatus.APPLICANT,
        36: MemberStatus.ON_LEAVE,
        37: MemberStatus.ON_LEAVE,
        38: MemberStatus.ALUMNI,
        39: MemberStatus.ALUMNI,
    }.get(number, MemberStatus.INACTIVE)


def database_has_accounts() -> bool:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one() > 0


def seed(today: date) -> dict[str, int]:
    """Fill an empty database; returns what was made, by kind."""
    term_count = seed_terms(today)
    for email, name, scopes in STAFF_PEOPLE:
        create_user(email, name, STAFF, password=DEMO_PASSWORD).scopes = scopes
    for email, name in ADVISOR_PEOPLE:
        create_user(email, name, ADVISOR, password=DEMO_PASSWORD)
    students: list[tuple[str, str, str, str | None, str | None]] = [
        ("student@example.edu", "Alex Morgan", MemberStatus.ACTIVE, "she/her", "Alex")
    ]
    for number in range(1, 41):
        first = FIRST_NAMES[number - 1]
        last = LAST_NAMES[(number * 7) % len(LAST_NAMES)]
        pronouns = PRONOUNS[number % len(PRONOUNS)]
        preferred = first[:3] if number % 9 == 0 else None
        students.append(
            (
                f"student{number:02d}@example.edu",
                f"{first} {last}",
                membership_status(number),
                pronouns,
                preferred,
            )
        )
    student_users = []
    for number, (email, name, status, pronouns, preferred) in enumerate(students):
        user = create_user(
            email,
            name,
            STUDENT,
            password=DEMO_PASSWORD,
            student_id=f"S{2026000 + number:07d}",
            member_status=status,
        )
        student_users.append(user)
        profile = cast(MemberProfile, user.profile)  # create_user gives students one
        profile.pronouns = pronouns
        profile.preferred_name = preferred
        if status == MemberStatus.ACTIVE:
            profile.joined_on = today - timedelta(days=20 * (number % 30) + 7)
    db.session.flush()
    active = [
        user
        for user in student_users
        if cast(MemberProfile, user.profile).status == MemberStatus.ACTIVE
    ]
    staff_user = db.session.scalar(select(User).where(User.email == STAFF_PEOPLE[0][0]))
    event_count = seed_events(today, staff_user, active)
    meeting_count = seed_support_meetings()
    advisor_users = list(
        db.session.scalars(select(User).where(User.role == ADVISOR).order_by(User.email))
    )
    appointment_count = seed_advising(today, advisor_users, active)
    current = current_term(today)
    house_count = (
        seed_housing(staff_user, current, active[10:14], active[14:17], utcnow()) if current else 0
    )
    application_count = seed_members(today, staff_user, student_users)
    seed_mentoring(today, student_users)
    seed_recovery(today, staff_user, student_users)
    campaign_count = seed_campaigns(today, staff_user, utcnow())
    demo_advisor = db.session.scalars(select(User).where(User.email == ADVISOR_PEOPLE[0][0])).one()
    seed_home(
        today, utcnow(), cast(User, staff_user), student_users[0], demo_advisor, active[20:32]
    )
    return {
        "campaigns": campaign_count,
        "applications": application_count,
        "events": event_count,
        "support meetings": meeting_count,
        "advising appointments": appointment_count,
        "houses": house_count,
        "terms": term_count,
        "staff": len(STAFF_PEOPLE),
        "advisors": len(ADVISOR_PEOPLE),
        "students": len(students),
    }
