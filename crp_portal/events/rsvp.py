"""RSVPs: capacity, a first-come-first-served waitlist, and promotion when a seat frees.

Every change locks the event row first (`locks.locked_event`: `SELECT … FOR UPDATE` on
PostgreSQL; on SQLite that read takes the database's write lock), so concurrent requests queue in commit
order. Under the lock the going RSVPs are counted afresh rather than trusting a count read
earlier, and the stored `going_count` is set from that count; the `within_capacity` check
constraint makes overbooking impossible even for a bug here.

Every RSVP to an event queues behind that lock, so what can be done before it is: the
"you're going" email (its templates and .ics, over a millisecond) is rendered from the
event as read before the lock, and queued under the lock if the event still reads the same.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, inspect, select
from sqlalchemy.orm import selectinload

from crp_portal.auth.models import User
from crp_portal.database import kept_statement
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.events.calendars import event_ics, title_for
from crp_portal.events.locks import locked_event
from crp_portal.events.models import Event, Rsvp, RsvpStatus
from crp_portal.events.queries import visible_event, waitlist_count
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.mail import RenderedMail, queue_rendered, render_mail
from crp_portal.timeutil import format_datetime, to_local


def rsvp_of(event_id: int, user_id: int) -> Rsvp | None:
    return db.session.scalar(_rsvp_of(), {"event_id": event_id, "user_id": user_id})


@kept_statement
def _rsvp_of() -> Select:
    return select(Rsvp).where(
        Rsvp.event_id == bindparam("event_id"), Rsvp.user_id == bindparam("user_id")
    )


def count_going(event_id: int) -> int:
    """The going RSVPs as the database holds them (with this session's changes flushed);
    call with the event row locked, so nobody else changes them until the commit."""
    db.session.flush()
    return db.session.execute(_count_going(), {"event_id": event_id}).scalar_one()


@kept_statement
def _count_going() -> Select:
    return (
        select(func.count())
        .select_from(Rsvp)
        .where(Rsvp.event_id == bindparam("event_id"), Rsvp.status == RsvpStatus.GOING)
    )


def going_and_last_place(event_id: int) -> tuple[int, int]:
    """How many are going and the highest place given in this event's queue (0 for none),
    in one query; call only with the event row locked."""
    db.session.flush()
    going, highest = db.session.execute(_going_and_last_place(), {"event_id": event_id}).one()
    return going, highest or 0


@kept_statement
def _going_and_last_place() -> Select:
    return select(
        func.count().filter(Rsvp.status == RsvpStatus.GOING), func.max(Rsvp.queue_number)
    ).where(Rsvp.event_id == bindparam("event_id"))


def check_open_for_rsvp(event: Event, now: datetime) -> None:
    if event.is_cancelled:
        raise Conflict("This event is cancelled, so it takes no RSVPs.")
    if event.starts_at <= now:
        raise Conflict("This event has already started or ended; RSVPs are closed.")
    if event.rsvp_deadline is not None and event.rsvp_deadline < now:
        raise Conflict(f"RSVPs closed on {format_datetime(event.rsvp_deadline)}.")


def rsvp(event_id: int, user: User, now: datetime) -> Rsvp:
    """Say "I'm going": a seat if one is free, else the end of the waitlist.

    Saying it twice changes nothing; someone who cancelled joins at the back. An event the
    person may not see (`queries.visible_to`) is no event to them. Locks the event row,
    then checks that it still takes RSVPs and counts who is going.
    """
    if not user.is_student:
        raise DomainError("Only students RSVP to events.")
    draft = _draft_confirmation(visible_event(event_id, user, to_local(now).date()), user, now)
    event = locked_event(event_id)
    check_open_for_rsvp(event, now)
    existing = rsvp_of(event.id, user.id)
    if existing is not None and existing.status in (RsvpStatus.GOING, RsvpStatus.WAITLISTED):
        return existing
    going, last_place = going_and_last_place(event.id)
    status = (
        RsvpStatus.GOING
        if event.capacity is None or going < event.capacity
        else RsvpStatus.WAITLISTED
    )
    number = last_place + 1
    if existing is None:
        existing = Rsvp(event_id=event.id, user_id=user.id, status=status)
        db.session.add(existing)
    existing.status, existing.queue_number, existing.queued_at = status, number, now
    existing.seen_waitlist_place = None  # their own answer is no news (`waitlist_news`)
    event.going_count = going + (1 if status == RsvpStatus.GOING else 0)
    db.session.flush()
    _confirm(existing, event, user, draft)
    return existing


def cancel_rsvp(event_id: int, user: User, now: datetime) -> Rsvp:
    """Take oneself off the list; a freed seat goes to the first person waiting.

    Locks the event row, then reads the person's RSVP (a double tap finds it cancelled).
    """
    event = locked_event(event_id)
    existing = rsvp_of(event.id, user.id)
    if existing is None or existing.status == RsvpStatus.CANCELLED:
        raise NotFound("You are not on the list for this event.")
    if event.starts_at <= now:
        raise Conflict("This event has already started, so your RSVP can no longer change.")
    was_going = existing.status == RsvpStatus.GOING
    existing.status = RsvpStatus.CANCELLED
    if was_going:
        promote_waitlisted(event)
    db.session.flush()
    return existing


@dataclass(frozen=True)
class GivingUp:
    """What taking oneself off an event's list will do, said before it is done."""

    event: Event
    entry: Rsvp
    position: int | None  # the person's place on the waitlist, if they are waiting
    waiting: int  # how many are waiting: the first of them gets a freed seat

    @property
    def frees_a_seat_for_someone(self) -> bool:
        return self.entry.status == RsvpStatus.GOING and self.waiting > 0


def plan_cancel_rsvp(event_id: int, user: User, now: datetime) -> GivingUp:
    """Read-only: the person's place on the event's list and who a freed seat goes to.
    `cancel_rsvp` checks it all again under the event's lock."""
    existing = rsvp_of(event_id, user.id)
    if existing is None or existing.status == RsvpStatus.CANCELLED:
        raise NotFound("You are not on the list for this event.")
    event = existing.event
    if event.starts_at <= now:
        raise Conflict("This event has already started, so your RSVP can no longer change.")
    waiting = waitlist_count(event)
    position = waitlist_position(event, existing) if existing.is_waitlisted else None
    return GivingUp(event, existing, position, waiting)


def promote_waitlisted(event: Event) -> list[Rsvp]:
    """Give free seats to the waitlist in order; each promoted person is emailed once.

    The caller holds the event row lock (`locked_event`), as every RSVP change does, so
    the seats are counted from the RSVPs as they stand now and the count stored here
    cannot overwrite an RSVP committed after the caller first read the event. The
    waitlist is read only when someone is on it (one count tells both): a cancellation
    with nobody waiting, the usual one, makes one query under the lock rather than two.
    """
    db.session.flush()
    going, waiting = db.session.execute(_going_and_waiting(), {"event_id": event.id}).one()
    event.going_count = going
    if event.is_cancelled or not waiting:
        return []
    free = None if event.capacity is None else event.capacity - going
    if free is not None and free <= 0:
        return []
    promoted = list(
        db.session.scalars(_first_waiting(free is not None), {"event_id": event.id, "free": free})
    )
    for waiting_entry in promoted:
        waiting_entry.status = RsvpStatus.GOING
        _mail(
            waiting_entry.user,
            event,
            "You have a place",
            "events/promoted",
            with_ics=True,
        )
    event.going_count = going + len(promoted)
    db.session.flush()
    return promoted


@kept_statement
def _going_and_waiting() -> Select:
    return select(
        func.count().filter(Rsvp.status == RsvpStatus.GOING),
        func.count().filter(Rsvp.status == RsvpStatus.WAITLISTED),
    ).where(Rsvp.event_id == bindparam("event_id"))


@kept_statement
def _first_waiting(limited: bool) -> Select:
    statement = (
        select(Rsvp)
        .where(Rsvp.event_id == bindparam("event_id"), Rsvp.status == RsvpStatus.WAITLISTED)
        .order_by(Rsvp.queue_number)
        .options(selectinload(Rsvp.user))
    )
    return statement.limit(bindparam("free")) if limited else statement


def waitlist_position(event: Event, entry: Rsvp) -> int:
    ahead = db.session.execute(
        _waiting_ahead(), {"event_id": event.id, "queue_number": entry.queue_number}
    ).scalar_one()
    return ahead + 1


@kept_statement
def _waiting_ahead() -> Select:
    return (
        select(func.count())
        .select_from(Rsvp)
        .where(
            Rsvp.event_id == bindparam("event_id"),
            Rsvp.status == RsvpStatus.WAITLISTED,
            Rsvp.queue_number < bindparam("queue_number"),
        )
    )


def notify_cancellation(event: Event) -> None:
    """Email everyone going or waitlisted. Call with the event row locked and the event
    marked cancelled: an RSVP committed before the lock is on this list, and one after it
    is refused, so each person on the list hears exactly once."""
    entries = db.session.scalars(
        select(Rsvp)
        .where(
            Rsvp.event_id == event.id, Rsvp.status.in_((RsvpStatus.GOING, RsvpStatus.WAITLISTED))
        )
        .options(selectinload(Rsvp.user))
    )
    for entry in entries:
        mail_cancellation(entry.user, event)


def mail_cancellation(user: User, event: Event) -> None:
    """The cancellation email, with an .ics that marks the entry cancelled."""
    _mail(user, event, "Cancelled", "events/cancelled", with_ics=True)


@dataclass(frozen=True)
class _Draft:
    """A confirmation rendered before the lock, with the event's values it was made from."""

    read: tuple
    mail: RenderedMail


@functools.cache
def _mailed_columns() -> tuple[str, ...]:
    """The event's columns an email may show: all but the live count and its timestamp,
    which every other RSVP changes."""
    return tuple(
        attribute.key
        for attribute in inspect(Event).column_attrs
        if attribute.key not in ("going_count", "updated_at")
    )


def _as_mailed(event: Event) -> tuple:
    return tuple(getattr(event, key) for key in _mailed_columns())


def _draft_confirmation(event: Event, user: User, now: datetime) -> _Draft | None:
    """The "you're going" email, rendered with no lock held; None where, as the event was
    last saved, the RSVP will not get a place (closed, or full)."""
    if event.is_cancelled or event.starts_at <= now:
        return None
    if event.rsvp_deadline is not None and event.rsvp_deadline < now:
        return None
    if event.capacity is not None and event.going_count >= event.capacity:
        return None
    mail = _rendered(user, event, "You're going", "events/going", with_ics=True)
    return _Draft(_as_mailed(event), mail)


def _confirm(entry: Rsvp, event: Event, user: User, draft: _Draft | None = None) -> None:
    """Queue the confirmation: the draft if the locked event reads as it did when the draft
    was made (a change in between, such as a new place or time, is rendered afresh)."""
    if entry.status == RsvpStatus.GOING:
        if draft is not None and draft.read == _as_mailed(event):
            queue_rendered(draft.mail)
        else:
            _mail(user, event, "You're going", "events/going", with_ics=True)
    else:
        position = waitlist_position(event, entry)
        _mail(user, event, "You're on the waitlist", "events/waitlisted", position=position)


def _mail(user: User, event: Event, prefix: str, template: str, with_ics: bool = False, **context):
    queue_rendered(_rendered(user, event, prefix, template, with_ics, **context))


def _rendered(
    user: User, event: Event, prefix: str, template: str, with_ics: bool = False, **context
) -> RenderedMail:
    """Subjects use the neutral title unless the person chose real titles."""
    title = title_for(event, user)
    attachments = []
    if with_ics:
        attachments.append(("event.ics", "text/calendar; method=PUBLISH", event_ics(event, user)))
    return render_mail(
        user.email,
        f"{prefix}: {title}, {format_datetime(event.starts_at)}",
        template,
        attachments=attachments,
        user=user,
        event=event,
        title=title,
        link=portal_url("events.detail", event_id=event.id),
        **context,
    )
