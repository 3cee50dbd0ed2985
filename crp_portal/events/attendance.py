"""Who came: staff's roster, self check-in with a short code, walk-ins and headcounts."""

import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.dashboard import rollups
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.events.models import (
    FROM_ROSTER,
    GOING,
    SELF_CHECK_IN,
    WAITLISTED,
    WALK_IN,
    Attendance,
    Event,
    Rsvp,
)
from crp_portal.extensions import db
from crp_portal.search import like_pattern

CHECK_IN_OPENS_BEFORE = timedelta(minutes=15)


class WrongCode(DomainError):
    """A self check-in code that does not match, or is not valid right now."""


def check_in_window_open(event: Event, now: datetime) -> bool:
    return event.starts_at - CHECK_IN_OPENS_BEFORE <= now <= event.ends_at


def self_check_in(event: Event, user, code: str, now: datetime) -> Attendance:
    """A student enters the code shown at the event, from 15 minutes before it starts."""
    if user.role != STUDENT:
        raise DomainError("Only students check in to events.")
    if event.is_cancelled:
        raise Conflict("This event is cancelled.")
    if event.headcount_only:
        raise Conflict("This meeting keeps no names; there is nothing to check in to.")
    if not check_in_window_open(event, now):
        raise WrongCode("Check-in is open from 15 minutes before the event starts until it ends.")
    given = code.strip().upper().encode()
    if not hmac.compare_digest(given, event.checkin_code.encode()):
        raise WrongCode("That code does not match. Check the code shown at the event.")
    return _record(event, user.id, SELF_CHECK_IN, recorded_by=None)


def _record(event: Event, user_id: int, source: str, recorded_by) -> Attendance:
    existing = db.session.scalar(
        select(Attendance).where(Attendance.event_id == event.id, Attendance.user_id == user_id)
    )
    if existing is not None:
        return existing
    attendance = Attendance(
        event_id=event.id,
        user_id=user_id,
        source=source,
        recorded_by_id=recorded_by.id if recorded_by else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attendance)
    except IntegrityError:
        # A double tap: the other request recorded the same person a moment ago.
        return db.session.scalar(
            select(Attendance).where(Attendance.event_id == event.id, Attendance.user_id == user_id)
        )
    return attendance


def roster(event: Event) -> list[tuple[User, str | None, bool]]:
    """Everyone going or waitlisted, plus walk-ins: (person, RSVP status, attended)."""
    entries = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.event_id == event.id, Rsvp.status.in_((GOING, WAITLISTED)))
        .options(selectinload(Rsvp.user).selectinload(User.profile))
        .order_by(Rsvp.status, Rsvp.queue_number)
    ).all()
    attended = {
        row.user_id: row
        for row in db.session.scalars(
            select(Attendance)
            .where(Attendance.event_id == event.id)
            .options(selectinload(Attendance.user).selectinload(User.profile))
        )
    }
    rows = [(entry.user, entry.status, entry.user_id in attended) for entry in entries]
    listed = {entry.user_id for entry in entries}
    rows += [(row.user, None, True) for uid, row in attended.items() if uid not in listed]
    return rows


def save_roster(event: Event, present_ids: set[int], recorded_by) -> int:
    """Mark exactly these people (from the roster) as present; returns how many came."""
    if event.headcount_only:
        raise Conflict("This meeting is headcount only: record a number, not names.")
    on_roster = {user.id for user, _, _ in roster(event)}
    unknown = present_ids - on_roster
    if unknown:
        raise DomainError("Someone marked present is not on this event's roster.")
    db.session.execute(
        delete(Attendance).where(
            Attendance.event_id == event.id, Attendance.user_id.not_in(present_ids or {-1})
        )
    )
    rollups.mark_attendance(event.id, on_roster - present_ids)
    for user_id in sorted(present_ids):
        _record(event, user_id, FROM_ROSTER, recorded_by)
    db.session.flush()
    return len(present_ids)


def add_walk_in(event: Event, user_id: int, recorded_by) -> Attendance:
    if event.headcount_only:
        raise Conflict("This meeting is headcount only: record a number, not names.")
    user = db.session.get(User, user_id)
    if user is None or user.role != STUDENT:
        raise NotFound("There is no student with that number.")
    return _record(event, user.id, WALK_IN, recorded_by)


def find_students(query: str, limit: int = 10) -> list[User]:
    if len(query.strip()) < 2:
        return []
    pattern = like_pattern(query)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == STUDENT,
                User.active,
                func.lower(User.name).like(pattern, escape="\\")
                | User.email.like(pattern, escape="\\"),
            )
            .order_by(User.name)
            .limit(limit)
        )
    )


def record_headcount(event: Event, count: int) -> None:
    if not event.headcount_only:
        raise Conflict("This event takes attendance by name; use the roster.")
    if count < 0:
        raise DomainError("A headcount cannot be negative.")
    event.headcount = count
    db.session.flush()


def has_attended(event: Event, user) -> bool:
    return (
        db.session.scalar(
            select(Attendance.id).where(
                Attendance.event_id == event.id, Attendance.user_id == user.id
            )
        )
        is not None
    )


def attendance_count(event: Event) -> int:
    if event.headcount_only:
        return event.headcount or 0
    return db.session.scalar(
        select(func.count()).select_from(Attendance).where(Attendance.event_id == event.id)
    )
