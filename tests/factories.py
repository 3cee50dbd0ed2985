"""Arrange helpers: accounts and terms made through the services, committed."""

import itertools
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from crp_portal.access import GRANTED_SCOPES
from crp_portal.auth.services import create_user
from crp_portal.extensions import db
from crp_portal.nudges.models import Campaign
from crp_portal.support_meetings.services import MeetingDetails, create_meeting
from crp_portal.terms.services import add_period, create_term
from crp_portal.timeutil import local_today

PASSWORD = "a long test passphrase"
_numbers = itertools.count(1)
# The default term began a while ago and has weeks to run: "this term" on any day.
TERM_DAYS_BEHIND = 90
TERM_DAYS_AHEAD = 60


def make_user(
    role: str = "student",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str | None = PASSWORD,
    is_admin: bool = False,
    active: bool = True,
    status: str = "active",
    student_id: str | None = None,
    scopes: Iterable[str] = GRANTED_SCOPES,
    commit: bool = True,
):
    """An account; staff hold every scope but admin unless `scopes` says otherwise.
    `commit=False` leaves the commit to the caller, who makes several at once."""
    number = next(_numbers)
    user = create_user(
        email or f"{role}{number}@example.edu",
        name or f"{role.title()} Person{number}",
        role,
        password=password,
        student_id=student_id,
        member_status=status,
        scopes=scopes,
    )
    user.is_admin = is_admin and role == "staff"
    user.active = active
    if commit:
        db.session.commit()
    return user


def make_mentor_and_mentee():
    """A peer mentor ("Morgan Mentor") and the mentee assigned to them ("Sam Mentee")."""
    from crp_portal.mentoring import services as mentoring

    mentor = make_user("student", name="Morgan Mentor")
    mentoring.set_peer_mentor(mentor.profile, True)
    mentee = make_user("student", name="Sam Mentee")
    mentoring.assign_mentor(mentee.profile, mentor.id)
    db.session.commit()
    return mentor, mentee


def add_contacts(mentor, mentee, days: range) -> None:
    """One mentor contact a day, `days` days ago, written directly: many, quickly."""
    from crp_portal.mentoring.models import MentorContact

    db.session.add_all(
        MentorContact(
            mentor_id=mentor.id,
            mentee_id=mentee.id,
            contact_date=local_today() - timedelta(days=day),
            mode="phone",
            minutes=20,
            topics="check_in",
        )
        for day in days
    )
    db.session.commit()


def make_term(name: str | None = None, starts_on: date | None = None, ends_on: date | None = None):
    """A term; by default the one under way, whatever day the suite runs on."""
    today = local_today()
    starts_on = starts_on or today - timedelta(days=TERM_DAYS_BEHIND)
    ends_on = ends_on or today + timedelta(days=TERM_DAYS_AHEAD)
    term = create_term(name or f"Term {next(_numbers)}", starts_on, ends_on)
    db.session.commit()
    return term


def make_period(term, kind="finals", starts_on: date | None = None, ends_on: date | None = None):
    """A calendar period; by default the term's last week."""
    ends_on = ends_on or term.ends_on
    starts_on = starts_on or ends_on - timedelta(days=6)
    period = add_period(term, kind, "", starts_on, ends_on)
    db.session.commit()
    return period


def make_meeting(
    name: str | None = None,
    *,
    fellowship: str = "aa",
    weekday: int = 1,
    starts_at: time = time(19, 0),
    location: str = "Student Union, Room 214",
    online_url: str = "",
    active: bool = True,
):
    """An outside support meeting in the directory; in person unless told otherwise."""
    meeting = create_meeting(
        MeetingDetails(
            name=name or f"Meeting {next(_numbers)}",
            fellowship=fellowship,
            weekday=weekday,
            starts_at=starts_at,
            location=location,
            online_url=online_url,
            active=active,
        )
    )
    db.session.commit()
    return meeting


def event_details(**overrides):
    """Form values for an event a week from now at 7 pm local, in person."""
    from crp_portal.events.services import EventDetails

    values = {
        "kind": "peer_support",
        "title": "Peer support group",
        "public_title": "Tuesday group",
        "description": "",
        "day": local_today() + timedelta(days=7),
        "start_time": time(19, 0),
        "end_time": time(20, 30),
        "location": "Student Center 204",
    }
    values.update(overrides)
    return EventDetails(**values)


def make_event(created_by=None, **overrides):
    from crp_portal.events.services import create_event

    creator = created_by or make_user("staff")
    [event] = create_event(event_details(**overrides), creator)
    db.session.commit()
    return event


def make_window(advisor, weekday=None, start=None, end=None, mode="in_person", place="Room 3"):
    """A weekly availability window; by default every day 9:00–17:00."""
    from datetime import time

    from crp_portal.advising.availability import add_window

    days = range(7) if weekday is None else [weekday]
    windows = [
        add_window(advisor, day, start or time(9), end or time(17), mode, place) for day in days
    ]
    db.session.commit()
    return windows[0]


def make_day_off(advisor, day=None, note=""):
    from crp_portal.advising.availability import add_day_off

    day_off = add_day_off(advisor, day or local_today() + timedelta(days=100), note)
    db.session.commit()
    return day_off


def make_appointment(advisor, student, days_ahead: int = 10, hour: int = 10, **fields):
    """A booked appointment with its time cells, written directly (no slot rules)."""
    from datetime import datetime

    from crp_portal.advising.models import Appointment, AppointmentCell, AppointmentStatus
    from crp_portal.timeutil import program_zone

    starts = datetime.combine(local_today() + timedelta(days=days_ahead), time(hour)).replace(
        tzinfo=program_zone()
    )
    values = {
        "advisor_id": advisor.id,
        "student_id": student.id,
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=30),
        "topic": "course_planning",
        "student_note": "",
        "mode": "in_person",
        "place": "Room 3",
        "status": AppointmentStatus.BOOKED,
        "booked_by_id": student.id,
    }
    values.update(fields)
    appointment = Appointment(**values)
    db.session.add(appointment)
    db.session.flush()
    moment = appointment.starts_at
    while moment < appointment.ends_at:
        db.session.add(
            AppointmentCell(
                appointment_id=appointment.id,
                advisor_id=advisor.id,
                student_id=student.id,
                cell_start=moment,
            )
        )
        moment += timedelta(minutes=5)
    db.session.commit()
    return appointment


def make_house(name=None, rooms=1, beds_per_room=2):
    """A house with rooms "1", "2"… and beds "A", "B"…, all in use."""
    from crp_portal.housing.services import add_bed, add_room, save_house

    house = save_house(
        None, name=name or f"House {next(_numbers)}", address="12 Elm St", who_may_live="All genders",
        meeting_schedule="Sundays 7 pm", description="", active=True,
    )  # fmt: skip
    for room_number in range(1, rooms + 1):
        room = add_room(house, str(room_number))
        for bed_number in range(beds_per_room):
            add_bed(room, "ABCDEFGH"[bed_number], accessible=bed_number == 0)
    db.session.commit()
    return house


def make_agreement(body="Keep the house substance-free. Come to house meetings.", staff=None):
    from crp_portal.housing.services import current_agreement, publish_agreement

    existing = current_agreement()
    if existing is not None and existing.body == body:
        return existing
    agreement = publish_agreement(body, staff or make_user("staff"))
    db.session.commit()
    return agreement


def make_application(student, term=None, house=None, **fields):
    """A submitted application that acknowledges the current agreement."""
    from crp_portal.housing.models import HousingApplication
    from crp_portal.timeutil import utcnow

    agreement = make_agreement()
    term = term or make_term()
    values = {
        "term_id": term.id,
        "student_id": student.id,
        "first_choice_id": house.id if house else None,
        "agreement_id": agreement.id,
        "agreement_acknowledged_at": utcnow(),
        "status": "submitted",
        "submitted_at": utcnow(),
    }
    values.update(fields)
    application = HousingApplication(**values)
    db.session.add(application)
    db.session.commit()
    return application


def make_offer(application, bed=None, reply_days: int = 7, staff=None):
    """Offer a bed (the first free one by default) through the service, committed."""
    from crp_portal.housing.offers import free_beds, offer_bed

    bed = bed or free_beds(application.term_id)[0]
    assignment = offer_bed(
        application, bed.id, local_today() + timedelta(days=reply_days), None,
        staff or make_user("staff"), local_today(),
    )  # fmt: skip
    db.session.commit()
    return assignment


def make_condition_report(assignment, kind="move_in", items="Mattress: good\nDesk: scratched"):
    """A condition report recorded now (written directly, whatever the assignment's status)."""
    from crp_portal.housing.models import ConditionReport

    report = ConditionReport(assignment_id=assignment.id, kind=kind, items=items, staff_notes="")
    db.session.add(report)
    db.session.commit()
    return report


def make_support_person(student, name="Jordan Lee", emergency=False):
    from crp_portal.recovery.network import save_person

    person = save_person(
        student, None, name=name, relationship_to_student="Sponsor",
        how_to_reach="555-0123", expectations="Call me when things get hard",
        emergency_contact=emergency,
    )  # fmt: skip
    db.session.commit()
    return person


def make_campaign(name: str = "Finals week", **fields) -> Campaign:
    """A campaign written straight to the database (as an old or forged row would be),
    three days before finals to active members unless `fields` say otherwise."""
    campaign = Campaign(
        **{
            "name": name,
            "trigger": "period",
            "period_kind": "finals",
            "anchor": "start",
            "offset_days": -3,
            "audience": "active_members",
            "category": "academic",
            "subject_template": "Finals are coming, {{ first_name }}",
            "body_template": "Hi {{ first_name }}",
            "active_from": date(2026, 1, 1),
            "live_since": datetime(2026, 1, 1, tzinfo=UTC),
            **fields,
        }
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign


def code_now(event) -> str:
    """The event's self check-in code as the event shows it right now (it changes every
    minute, and the last one is taken for a minute more)."""
    from crp_portal.events.checkin_codes import current_code
    from crp_portal.timeutil import utcnow

    return current_code(event, utcnow())


def make_academic_year():
    """Fall 2026 and Spring 2027 with the days a calendar closes: Thanksgiving (a recess
    around the holiday), reading days before finals, the winter break between the terms
    with Christmas and New Year's Day inside it, MLK Day and spring break."""
    fall = make_term("Fall 2026", date(2026, 8, 24), date(2026, 12, 18))
    spring = make_term("Spring 2027", date(2027, 1, 12), date(2027, 5, 8))
    for term, kind, name, starts_on, ends_on in [
        (fall, "break", "Thanksgiving recess", date(2026, 11, 25), date(2026, 11, 29)),
        (fall, "holiday", "Thanksgiving", date(2026, 11, 26), date(2026, 11, 27)),
        (fall, "reading_days", "Reading days", date(2026, 12, 10), date(2026, 12, 11)),
        (fall, "finals", "Final exams", date(2026, 12, 12), date(2026, 12, 18)),
        (fall, "break", "Winter break", date(2026, 12, 19), date(2027, 1, 11)),
        (fall, "holiday", "Christmas Day", date(2026, 12, 25), date(2026, 12, 25)),
        (fall, "holiday", "New Year's Day", date(2027, 1, 1), date(2027, 1, 1)),
        (spring, "holiday", "Martin Luther King Jr. Day", date(2027, 1, 18), date(2027, 1, 18)),
        (spring, "break", "Spring break", date(2027, 3, 13), date(2027, 3, 21)),
    ]:
        add_period(term, kind, name, starts_on, ends_on)
    db.session.commit()
    return fall, spring
