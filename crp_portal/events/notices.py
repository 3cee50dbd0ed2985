"""Telling people an event they are on the list for changed or was cancelled.

A change of time or place (start, end, place, online link) reaches everyone going or on
the waitlist, with what it was and what it is now in the program's time, and an .ics
whose entries keep their UIDs and carry a higher SEQUENCE, so calendars move the entry
rather than add another. A change to the title or description alone tells nobody.

An edit or cancellation of "this and following" reaches each person once: one email
listing their dates, one .ics with those entries. The caller holds the locks on every
event it changed (`services.update_event`, `services.cancel_event`) and queues these
in the same transaction, so the list read here is the list as the change leaves it and
each acknowledged change sends exactly one email to each person on it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crp_portal.auth.models import User
from crp_portal.events.calendars import events_ics, title_for
from crp_portal.events.models import Event, Rsvp, RsvpStatus
from crp_portal.events.rsvp import mail_cancellation, notify_cancellation
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.mail import queue_rendered, render_mail
from crp_portal.timeutil import format_date, format_datetime, format_time, to_local

ON_THE_LIST = (RsvpStatus.GOING, RsvpStatus.WAITLISTED)


@dataclass(frozen=True)
class Before:
    """What a notice compares: an event's time and place before the edit."""

    starts_at: datetime
    ends_at: datetime
    location: str | None
    online_link: str | None

    @classmethod
    def of(cls, event: Event) -> "Before":
        return cls(event.starts_at, event.ends_at, event.location, event.online_link)


def when(starts_at: datetime, ends_at: datetime) -> str:
    """`Tue 3 Nov 2026, 7:00 PM EST to 8:30 PM`, in the program's time."""
    same_day = to_local(starts_at).date() == to_local(ends_at).date()
    return f"{format_datetime(starts_at)} to {format_time(ends_at) if same_day else format_datetime(ends_at)}"


@dataclass(frozen=True)
class Change:
    """One event's change of time or place, as a notice words it."""

    event: Event
    before: Before

    @property
    def time_changed(self) -> bool:
        event = self.event
        return (event.starts_at, event.ends_at) != (self.before.starts_at, self.before.ends_at)

    @property
    def place_changed(self) -> bool:
        return self.event.location != self.before.location

    @property
    def link_changed(self) -> bool:
        return self.event.online_link != self.before.online_link

    @property
    def old_when(self) -> str:
        return when(self.before.starts_at, self.before.ends_at)

    @property
    def new_when(self) -> str:
        return when(self.event.starts_at, self.event.ends_at)

    @property
    def old_place(self) -> str:
        return self.before.location or "no place (online only)"

    @property
    def new_place(self) -> str:
        return self.event.location or "no place (online only)"

    @property
    def link(self) -> str:
        return portal_url("events.detail", event_id=self.event.id)


def changes_to_tell(events: list[Event], before: dict[int, Before], now: datetime) -> list[Change]:
    """The edited events whose time or place changed, that had not started by `now` and
    are not cancelled: a correction to a past event's record tells nobody."""
    changes = []
    for event in events:
        change = Change(event, before[event.id])
        if event.is_cancelled or change.before.starts_at <= now:
            continue
        if change.time_changed or change.place_changed or change.link_changed:
            changes.append(change)
    return changes


def _on_the_list(event_ids: list[int]) -> dict[User, list[Rsvp]]:
    """Everyone going or waitlisted for any of the events, each with their RSVPs."""
    entries = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.event_id.in_(event_ids), Rsvp.status.in_(ON_THE_LIST))
        .options(selectinload(Rsvp.user).selectinload(User.profile))
        .order_by(Rsvp.user_id, Rsvp.id)
    )
    people: dict[User, list[Rsvp]] = defaultdict(list)
    for entry in entries:
        people[entry.user].append(entry)
    return people


def notify_changes(changes: list[Change]) -> int:
    """One email to each person on the list for any changed event, listing their changes
    (a waitlisted date says so), with one .ics of the entries they are going to (someone
    waiting has no entry to update). Returns how many people were told."""
    if not changes:
        return 0
    by_event = {change.event.id: change for change in changes}
    people = _on_the_list(list(by_event))
    for user, entries in people.items():
        theirs = sorted(
            ((by_event[entry.event_id], entry.is_waitlisted) for entry in entries),
            key=lambda item: item[0].event.starts_at,
        )
        going = [change.event for change, waiting in theirs if not waiting]
        first = theirs[0][0].event
        title = title_for(first, user)
        subject = (
            f"Changed: {title}, {format_datetime(first.starts_at)}"
            if len(theirs) == 1
            else f"Changed: {title}, {len(theirs)} dates from {format_date(first.starts_at)}"
        )
        attachments = []
        if going:
            attachments.append(
                ("event.ics", "text/calendar; method=PUBLISH", events_ics(going, user))
            )
        queue_rendered(
            render_mail(
                user.email,
                subject,
                "events/changed",
                attachments=attachments,
                user=user,
                title=title,
                changes=theirs,
                with_ics=bool(going),
            ),
            user_id=user.id,
        )
    return len(people)


def notify_cancellations(events: list[Event]) -> None:
    """Everyone on the list of any cancelled event hears once. One event: each gets the
    cancellation as always. Several (a series from here on): one email per person listing
    their dates, with one .ics cancelling each entry (same UIDs, higher SEQUENCE,
    STATUS:CANCELLED), or the single-event email for someone on the list for one date."""
    if not events:
        return
    if len(events) == 1:
        notify_cancellation(events[0])
        return
    by_id = {event.id: event for event in events}
    for user, entries in _on_the_list(list(by_id)).items():
        theirs = sorted((by_id[entry.event_id] for entry in entries), key=lambda e: e.starts_at)
        if len(theirs) == 1:
            mail_cancellation(user, theirs[0])
            continue
        title = title_for(theirs[0], user)
        queue_rendered(
            render_mail(
                user.email,
                f"Cancelled: {title}, {len(theirs)} dates from {format_date(theirs[0].starts_at)}",
                "events/cancelled_dates",
                attachments=[
                    ("event.ics", "text/calendar; method=PUBLISH", events_ics(theirs, user))
                ],
                user=user,
                title=title,
                events=theirs,
            ),
            user_id=user.id,
        )
