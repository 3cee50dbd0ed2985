"""Who came: staff's roster, self check-in with a short code, walk-ins and headcounts.

Students check themselves in with the code shown at the event (it changes every minute:
`checkin_codes`) from 15 minutes before the start; a student who is not going checks in
as a walk-in where the event takes walk-ins; staff take attendance
(roster, walk-ins, headcount) once the event has started. Check-ins and walk-ins only add
a row, so they lock the event row shared and run side by side; a roster save or a
headcount locks it for update, so it sees every check-in committed before it and the ones
after it wait (see `locks`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Select, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.database import kept_statement
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.events.checkin_codes import CodeCheck, accepted_windows, check_code, normalized
from crp_portal.events.checkin_codes import code_for as code_in_window
from crp_portal.events.locks import locked_event
from crp_portal.events.models import (
    Attendance,
    AttendanceSource,
    Event,
    EventStatus,
    Rsvp,
    RsvpStatus,
)
from crp_portal.events.queries import visible_event
from crp_portal.extensions import db
from crp_portal.search import like_pattern
from crp_portal.timeutil import format_datetime, to_local, utcnow

CHECK_IN_OPENS_BEFORE = timedelta(minutes=15)
NOT_ON_ROSTER = "Someone marked present is not on this event's roster."
WRONG_CODE = "That code does not match. Check the code shown at the event."
EXPIRED_CODE = (
    "That code has expired: the code changes every minute. Scan the QR code at the event "
    "again, or type the code it shows now."
)
OTHER_EVENTS_CODE = (
    "That code is for another event happening now. Check you are checking in on the page "
    "of the event you are at."
)
NO_WALK_INS = (
    "You're not on the list for this event, and it does not take walk-ins. "
    "Please speak to the staff at the door."
)
OTHER_EVENTS_CHECKED = 100  # events open for check-in at once, far more than any program runs


class WrongCode(DomainError):
    """A self check-in code that does not match, or is not valid right now."""


def check_in_window_open(event: Event, now: datetime) -> bool:
    return event.starts_at - CHECK_IN_OPENS_BEFORE <= now <= event.ends_at


def attendance_open(event: Event, now: datetime) -> bool:
    """Staff take attendance once the event has started (and any time after)."""
    return now >= event.starts_at


def _check_attendance_open(event: Event, now: datetime) -> None:
    if not attendance_open(event, now):
        raise Conflict(
            f"Attendance opens when the event starts, {format_datetime(event.starts_at)}. "
            "Until then students can still RSVP or leave the list."
        )


def self_check_in(event: Event, user: User, code: str, now: datetime) -> Attendance:
    """A student enters (or scans) the code shown at the event, from 15 minutes before it
    starts until it ends.

    The code must be the event's code of this minute, or of the last one within the grace
    (`checkin_codes`); an older one has expired, and another event's is named as such. A
    student who is going is recorded as checked in; one who is not (no RSVP, waitlisted,
    cancelled) as a walk-in where the event takes walk-ins, and is refused otherwise.
    An event the student may not see (`queries.visible_to`) is no event to them. Locks
    the event row shared, then checks it again: a check-in never lands on an event
    cancelled a moment earlier, and a roster save in progress finishes first.
    """
    if user.role != STUDENT:
        raise DomainError("Only students check in to events.")
    visible_event(event.id, user, to_local(now).date())
    event = locked_event(event.id, shared=True)
    if event.is_cancelled:
        raise Conflict("This event is cancelled.")
    if event.headcount_only:
        raise Conflict("This meeting keeps no names; there is nothing to check in to.")
    if not check_in_window_open(event, now):
        raise WrongCode("Check-in is open from 15 minutes before the event starts until it ends.")
    _check_code(event, code, now)
    if has_attended(event, user):
        return _record(event, user.id, AttendanceSource.SELF_CHECK_IN, recorded_by=None)
    entry = db.session.scalar(
        select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.user_id == user.id)
    )
    if entry is not None and entry.is_going:
        return _record(event, user.id, AttendanceSource.SELF_CHECK_IN, recorded_by=None)
    if not event.allow_walk_ins:
        raise Conflict(NO_WALK_INS)
    return _record(event, user.id, AttendanceSource.WALK_IN, recorded_by=None)


def _check_code(event: Event, code: str, now: datetime) -> None:
    """Raise `WrongCode` with the reason a person can act on, unless the code is good now."""
    checked = check_code(event, code, now)
    if checked == CodeCheck.VALID:
        return
    if checked == CodeCheck.EXPIRED:
        raise WrongCode(EXPIRED_CODE)
    if _another_events_code(event, code, now):
        raise WrongCode(OTHER_EVENTS_CODE)
    raise WrongCode(WRONG_CODE)


def _another_events_code(event: Event, code: str, now: datetime) -> bool:
    """Whether `code` is the code, right now, of another event open for check-in. It says
    nothing of which event: the student may not be meant to see it."""
    given = normalized(code)
    others = db.session.execute(
        select(Event.id, Event.checkin_secret)
        .where(
            Event.id != event.id,
            Event.status == EventStatus.SCHEDULED,
            Event.headcount_only.is_(False),
            Event.starts_at <= now + CHECK_IN_OPENS_BEFORE,
            Event.ends_at >= now,
        )
        .limit(OTHER_EVENTS_CHECKED)
    ).all()
    windows = list(accepted_windows(now))
    return any(
        code_in_window(other_id, secret, window) == given
        for other_id, secret in others
        for window in windows
    )


def _record(event: Event, user_id: int, source: str, recorded_by: User | None) -> Attendance:
    """Add the person as present unless they already are (the first record is kept).

    Call with the event row locked, shared or for update; the unique (event, person)
    constraint settles two shared holders adding the same person.
    """
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
        return cast(
            Attendance,
            db.session.scalar(
                select(Attendance).where(
                    Attendance.event_id == event.id, Attendance.user_id == user_id
                )
            ),
        )
    return attendance


def roster(event: Event) -> list[tuple[User, str | None, bool]]:
    """Everyone going or waitlisted, plus walk-ins: (person, RSVP status, attended)."""
    entries = db.session.scalars(
        select(Rsvp)
        .where(
            Rsvp.event_id == event.id, Rsvp.status.in_((RsvpStatus.GOING, RsvpStatus.WAITLISTED))
        )
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
    rows: list[tuple[User, str | None, bool]] = [
        (entry.user, entry.status, entry.user_id in attended) for entry in entries
    ]
    listed = {entry.user_id for entry in entries}
    rows += [(row.user, None, True) for uid, row in attended.items() if uid not in listed]
    return rows


@dataclass
class RosterSaved:
    """What a roster save did, for the page that follows it."""

    present: int  # everyone recorded as present once the save is done
    arrived_meanwhile: list[User]  # present now, though the form showed them absent or not at all


def save_roster(
    event: Event,
    present_ids: set[int],
    recorded_by: User,
    *,
    shown_ids: set[int] | None = None,
    was_present_ids: set[int] | None = None,
    now: datetime | None = None,
) -> RosterSaved:
    """Save the roster form: of the people it showed, the ticked ones are present and the
    ones it showed ticked but are now unticked are not; nobody else changes.

    The form says whom it showed (`shown_ids`) and whom it showed as present
    (`was_present_ids`), so a student who checked in with the code while staff had the
    page open keeps the check-in they were told about, and is named in the result. A
    caller with no form leaves both out: the roster and the attendance as they stand
    under the lock count as shown.

    Locks the event row, so check-ins and walk-ins (which lock it shared) wait for the
    save, and reads the roster and the attendance after the lock.
    """
    event = locked_event(event.id)
    if event.headcount_only:
        raise Conflict("This meeting is headcount only: record a number, not names.")
    _check_attendance_open(event, now or utcnow())
    rows = roster(event)
    on_roster = {user.id for user, _, _ in rows}
    attended = {user.id for user, _, came in rows if came}
    shown = on_roster if shown_ids is None else set(shown_ids)
    was_present = attended if was_present_ids is None else set(was_present_ids) & shown
    added, removed = present_ids - was_present, was_present - present_ids
    if not present_ids <= shown or not added <= on_roster:
        raise DomainError(NOT_ON_ROSTER)
    if removed:
        db.session.execute(
            delete(Attendance).where(
                Attendance.event_id == event.id, Attendance.user_id.in_(removed)
            )
        )
    for user_id in sorted(added):
        _record(event, user_id, AttendanceSource.ROSTER, recorded_by)
    db.session.flush()
    present = (attended - removed) | added
    arrived = [user for user, _, came in rows if came and user.id not in was_present | present_ids]
    return RosterSaved(len(present), sorted(arrived, key=lambda user: user.display_name))


def add_walk_in(event: Event, user_id: int, recorded_by: User, now: datetime) -> Attendance:
    """Staff add someone who came without an RSVP, once the event has started.

    Locks the event row shared, as a check-in does; the person is added at most once.
    """
    event = locked_event(event.id, shared=True)
    if event.headcount_only:
        raise Conflict("This meeting is headcount only: record a number, not names.")
    _check_attendance_open(event, now)
    user = db.session.get(User, user_id)
    if user is None or user.role != STUDENT:
        raise NotFound("There is no student with that number.")
    return _record(event, user.id, AttendanceSource.WALK_IN, recorded_by)


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


def record_headcount(event: Event, count: int, now: datetime) -> None:
    """Staff record how many came to a meeting that keeps no names, once it has started.

    Locks the event row: the number replaces the last one saved.
    """
    event = locked_event(event.id)
    if not event.headcount_only:
        raise Conflict("This event takes attendance by name; use the roster.")
    _check_attendance_open(event, now)
    if count < 0:
        raise DomainError("A headcount cannot be negative.")
    event.headcount = count
    db.session.flush()


def has_attended(event: Event, user: User) -> bool:
    found = db.session.scalar(_attendance_of(), {"event_id": event.id, "user_id": user.id})
    return found is not None


@kept_statement
def _attendance_of() -> Select:
    return select(Attendance.id).where(
        Attendance.event_id == bindparam("event_id"), Attendance.user_id == bindparam("user_id")
    )


def attendance_count(event: Event) -> int:
    if event.headcount_only:
        return event.headcount or 0
    return db.session.execute(
        select(func.count()).select_from(Attendance).where(Attendance.event_id == event.id)
    ).scalar_one()
