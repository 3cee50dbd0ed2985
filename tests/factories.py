"""Arrange helpers: accounts and terms made through the services, committed."""

import itertools
from datetime import date, time

from crp_portal.auth.services import create_user
from crp_portal.extensions import db
from crp_portal.support_meetings.services import MeetingDetails, create_meeting
from crp_portal.terms.services import add_period, create_term

PASSWORD = "a long test passphrase"
_numbers = itertools.count(1)


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
):
    number = next(_numbers)
    user = create_user(
        email or f"{role}{number}@example.edu",
        name or f"{role.title()} Person{number}",
        role,
        password=password,
        student_id=student_id,
        member_status=status,
    )
    user.is_admin = is_admin
    user.active = active
    db.session.commit()
    return user


def make_term(name: str | None = None, starts_on=date(2026, 8, 24), ends_on=date(2026, 12, 18)):
    term = create_term(name or f"Term {next(_numbers)}", starts_on, ends_on)
    db.session.commit()
    return term


def make_period(term, kind="finals", starts_on=date(2026, 12, 12), ends_on=date(2026, 12, 18)):
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
    from datetime import time, timedelta

    from crp_portal.events.services import EventDetails
    from crp_portal.timeutil import local_today

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
