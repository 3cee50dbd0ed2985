"""Waitlist news for a student's home: a place came free for them, or they moved up the
waitlist, since they last opened the event's page.

The rule, kept quiet on purpose: the event's page remembers the waitlist place it showed
the person (`Rsvp.seen_waitlist_place`, NULL once it showed them going). Their home lists
an upcoming event only when what they were last shown is out of date in their favour:
they are going now, or their place number is lower. Moving down never happens (the
waitlist is first come, first served), a place they never saw is no news, and opening
the event's page clears the item.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from crp_portal.auth.models import User
from crp_portal.events.models import Event, EventStatus, Rsvp, RsvpStatus
from crp_portal.events.queries import visible_to
from crp_portal.extensions import db
from crp_portal.timeutil import to_local

NEWS_LISTED = 3


@dataclass(frozen=True, slots=True)
class WaitlistNews:
    event_id: int
    title: str
    starts_at: datetime
    going: bool  # promoted: a place came free
    place: int | None  # on the waitlist: the place now
    was_place: int  # the place last shown


def note_place_seen(entry: Rsvp | None, position: int | None) -> None:
    """The event's page showed the person `entry` (their waitlist place `position`, or
    going): remember it, so their home stops listing the news. Writes only when it
    changed, and only if the RSVP still has the status the page showed (a promotion
    committed meanwhile stays news). Leaves the loaded object alone."""
    if entry is None or entry.status == RsvpStatus.CANCELLED:
        return
    shown = position if entry.status == RsvpStatus.WAITLISTED else None
    if entry.seen_waitlist_place == shown:
        return
    db.session.execute(
        update(Rsvp)
        .where(Rsvp.id == entry.id, Rsvp.status == entry.status)
        .values(seen_waitlist_place=shown)
        .execution_options(synchronize_session=False)
    )


def waitlist_news(user: User, now: datetime) -> list[WaitlistNews]:
    """The student's upcoming events where a place came or they moved up since they last
    looked, soonest first; one statement, however long the waitlists."""
    ahead = aliased(Rsvp)
    place_now = (
        select(func.count() + 1)
        .where(
            ahead.event_id == Rsvp.event_id,
            ahead.status == RsvpStatus.WAITLISTED,
            ahead.queue_number < Rsvp.queue_number,
        )
        .correlate(Rsvp)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Event.id,
            Event.title,
            Event.starts_at,
            Rsvp.status,
            place_now,
            Rsvp.seen_waitlist_place,
        )
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(
            Rsvp.user_id == user.id,
            Rsvp.seen_waitlist_place.is_not(None),
            Event.starts_at > now,
            Event.status == EventStatus.SCHEDULED,
            or_(
                Rsvp.status == RsvpStatus.GOING,
                and_(Rsvp.status == RsvpStatus.WAITLISTED, place_now < Rsvp.seen_waitlist_place),
            ),
            visible_to(user, to_local(now).date()),
        )
        .order_by(Event.starts_at, Event.id)
        .limit(NEWS_LISTED)
    )
    return [
        WaitlistNews(
            event_id,
            title,
            starts_at,
            status == RsvpStatus.GOING,
            None if status == RsvpStatus.GOING else place,
            was,
        )
        for event_id, title, starts_at, status, place, was in rows
    ]
