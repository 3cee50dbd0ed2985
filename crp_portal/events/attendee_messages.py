"""Notify attendees: staff send a short plain-text message to everyone going, and if they
choose the waitlist too, one email each through the outbox.

The subject names the event by the title each person sees (`title_for`: the neutral one
unless they chose real titles), never the program. Staff are told how many people were
written to, never who: a meeting that keeps no names gives none away here either.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError
from crp_portal.events.calendars import title_for
from crp_portal.events.locks import locked_event
from crp_portal.events.models import Event, EventNotice, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.timeutil import format_datetime

MESSAGE_LENGTH = 1000
CANCELLED = (
    "This event is cancelled; everyone on its list was told then. There is no one to notify."
)
OVER = "This event is over, so its attendees can no longer be notified from here."
NOBODY = "Nobody is on the list to notify yet."


@dataclass(frozen=True)
class Sent:
    recipients: int
    again: bool  # this form was sent before: nobody was written to a second time


def _recipients(event: Event, include_waitlist: bool) -> list[User]:
    statuses = [RsvpStatus.GOING] + ([RsvpStatus.WAITLISTED] if include_waitlist else [])
    entries = db.session.scalars(
        select(Rsvp)
        .join(Rsvp.user)
        .where(Rsvp.event_id == event.id, Rsvp.status.in_(statuses), User.active)
        .options(selectinload(Rsvp.user).selectinload(User.profile))
        .order_by(Rsvp.queue_number)
    )
    return [entry.user for entry in entries]


def audience_size(event: Event) -> tuple[int, int]:
    """(going, waitlisted): how many a message would reach, for the form."""
    counts: dict[str, int] = {RsvpStatus.GOING: 0, RsvpStatus.WAITLISTED: 0}
    rows = db.session.execute(
        select(Rsvp.status, func.count())
        .join(Rsvp.user)
        .where(Rsvp.event_id == event.id, User.active)
        .group_by(Rsvp.status)
    ).all()
    counts.update({status: count for status, count in rows if status in counts})
    return counts[RsvpStatus.GOING], counts[RsvpStatus.WAITLISTED]


def notify_attendees(
    event: Event,
    message: str,
    include_waitlist: bool,
    send_key: str,
    sender: User,
    now: datetime,
) -> Sent:
    """Queue one email to each person going (and waitlisted, if asked), once per send.

    Locks the event row, so no RSVP changes the list while it is read, and reads whether
    this form (`send_key`) was sent already: sent twice, it writes to nobody again. A
    cancelled or finished event takes no message.
    """
    text = message.strip()
    if not text:
        raise DomainError("Write the message to send.")
    if len(text) > MESSAGE_LENGTH:
        raise DomainError(f"Keep the message to {MESSAGE_LENGTH} characters.")
    event = locked_event(event.id)
    earlier = db.session.scalar(
        select(EventNotice).where(
            EventNotice.event_id == event.id, EventNotice.send_key == send_key
        )
    )
    if earlier is not None:
        return Sent(earlier.recipients, again=True)
    if event.is_cancelled:
        raise Conflict(CANCELLED)
    if event.ends_at <= now:
        raise Conflict(OVER)
    people = _recipients(event, include_waitlist)
    if not people:
        raise Conflict(NOBODY)
    link = portal_url("events.detail", event_id=event.id)
    for person in people:
        title = title_for(event, person)
        queue_mail(
            person.email,
            f"A message about {title}, {format_datetime(event.starts_at)}",
            "events/notice",
            user=person,
            event=event,
            title=title,
            message=text,
            link=link,
        )
    db.session.add(
        EventNotice(
            event_id=event.id,
            send_key=send_key,
            sent_by_id=sender.id,
            sent_at=now,
            recipients=len(people),
            included_waitlist=include_waitlist,
        )
    )
    db.session.flush()
    return Sent(len(people), again=False)


def sent_notices(event: Event) -> list[EventNotice]:
    """What was sent about this event, newest first: when, by whom, to how many."""
    return list(
        db.session.scalars(
            select(EventNotice)
            .where(EventNotice.event_id == event.id)
            .options(selectinload(EventNotice.sent_by))
            .order_by(EventNotice.sent_at.desc(), EventNotice.id.desc())
        )
    )
