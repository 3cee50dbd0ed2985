"""A student's "My events": what they are going to or waiting for, and the past events
they attended, a page at a time (a list that grows every week)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from crp_portal.auth.models import User
from crp_portal.events.models import Attendance, Event, Rsvp, RsvpStatus
from crp_portal.events.queries import visible_to
from crp_portal.extensions import db
from crp_portal.timeutil import to_local

ATTENDED_PAGE = 20


@dataclass(frozen=True)
class MyEvents:
    going: list[Event]
    waitlisted: list[Event]
    attended: list[Event]  # one page of them, newest first
    attended_page: int = 1  # counts from 1
    has_older: bool = False

    @property
    def has_newer(self) -> bool:
        return self.attended_page > 1


def my_events(user: User, now: datetime, page: int = 1, size: int = ATTENDED_PAGE) -> MyEvents:
    """Upcoming events the user is going to or waiting for, and page `page` of the past
    ones they attended (two statements: the second reads one more than a page, to know
    whether an older page exists without counting them all)."""
    page = max(page, 1)
    visible = visible_to(user, to_local(now).date())
    upcoming_rows = db.session.execute(
        select(Event, Rsvp.status)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(
            Rsvp.user_id == user.id,
            Rsvp.status.in_((RsvpStatus.GOING, RsvpStatus.WAITLISTED)),
            Event.ends_at >= now,
            visible,
        )
        .order_by(Event.starts_at)
    ).all()
    attended = db.session.scalars(
        select(Event)
        .join(Attendance, Attendance.event_id == Event.id)
        .where(Attendance.user_id == user.id, Event.starts_at < now, visible)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(size + 1)
        .offset((page - 1) * size)
    ).all()
    return MyEvents(
        going=[event for event, status in upcoming_rows if status == RsvpStatus.GOING],
        waitlisted=[event for event, status in upcoming_rows if status == RsvpStatus.WAITLISTED],
        attended=list(attended[:size]),
        attended_page=page,
        has_older=len(attended) > size,
    )
