"""Creating, editing, cancelling and repeating events (staff).

Edits and cancellations lock the rows they change (`locks`) and read the event again
under the lock, so one that races an RSVP or another staff member's change sees what that
change saved, as it would a second later.
"""

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import cast

from sqlalchemy import select

from crp_portal.errors import Conflict, DomainError, NotFound, check_date_bounds
from crp_portal.events import notices
from crp_portal.events.checkin_codes import new_checkin_secret
from crp_portal.events.locks import locked_event, locked_from_here_on
from crp_portal.events.models import KINDS, Event, EventSeries, EventStatus
from crp_portal.events.rsvp import count_going, promote_waitlisted
from crp_portal.events.series import (
    Replanned,
    SeriesDates,
    plan_series,
    replan_following,
)
from crp_portal.extensions import db
from crp_portal.terms.closed_days import closed_reason
from crp_portal.timeutil import (
    NonexistentLocalTime,
    format_date,
    local_to_utc,
    to_wall_clock,
    utcnow,
)

ALL_SKIPPED = (
    "Every date of this series falls in a break, holiday or reading days ({reasons}), so "
    "it would have no meetings. Choose other dates, or turn off “Skip breaks and holidays”."
)
THIS_ONE, THIS_AND_FOLLOWING = "this", "following"


@dataclass
class EventDetails:
    """What staff type into the event form, in the program's local time."""

    kind: str
    title: str
    public_title: str
    description: str
    day: date
    start_time: time
    end_time: time
    location: str | None = None
    online_link: str | None = None
    capacity: int | None = None
    rsvp_deadline_local: datetime | None = None
    show_attendee_names: bool = False
    headcount_only: bool = False
    house_id: int | None = None
    open_to_applicants: bool = False
    allow_walk_ins: bool = True

    def local_start(self) -> datetime:
        return datetime.combine(self.day, self.start_time)

    def local_end(self) -> datetime:
        return datetime.combine(self.day, self.end_time)


def _utc(local: datetime) -> datetime:
    """A wall-clock time staff typed (or a series repeats) in UTC. One the spring change
    skips (2:30 AM that night) is refused, naming the day, rather than moved an hour."""
    try:
        return local_to_utc(local)
    except NonexistentLocalTime as error:
        raise DomainError(str(error)) from None


def _check(details: EventDetails) -> None:
    check_date_bounds(details.day, details.rsvp_deadline_local)
    if details.kind not in KINDS:
        raise DomainError("Choose one of the listed kinds of event.")
    if details.local_end() <= details.local_start():
        raise DomainError("The event must end after it starts.")
    if not (details.location or details.online_link):
        raise DomainError("Give a place, an online link, or both.")
    if details.rsvp_deadline_local and details.rsvp_deadline_local > details.local_start():
        raise DomainError("The RSVP deadline must be before the event starts.")


def _apply(event: Event, details: EventDetails, local_start: datetime) -> None:
    duration = details.local_end() - details.local_start()
    event.kind = details.kind
    event.title = details.title.strip()
    event.public_title = details.public_title.strip()
    event.description = (details.description or "").strip()
    event.starts_at = _utc(local_start)
    event.ends_at = _utc(local_start + duration)
    event.location = (details.location or "").strip() or None
    event.online_link = (details.online_link or "").strip() or None
    event.show_attendee_names = details.show_attendee_names
    event.headcount_only = details.headcount_only
    event.house_id = details.house_id or None
    event.open_to_applicants = details.open_to_applicants
    event.allow_walk_ins = details.allow_walk_ins
    if details.rsvp_deadline_local is None:
        event.rsvp_deadline = None
    else:
        before_start = details.local_start() - details.rsvp_deadline_local
        event.rsvp_deadline = _utc(local_start - before_start)


def plan_event_dates(
    details: EventDetails,
    repeat_weeks: int | None = None,
    repeat_until: date | None = None,
    skip_closed_days: bool = True,
) -> SeriesDates:
    """The local starts saving would create, and the dates a series skips and why.

    Checks everything `create_event` checks, so "Check dates" refuses what saving would;
    writes nothing.
    """
    _check(details)
    if details.capacity is not None and details.capacity < 1:
        raise DomainError("Capacity must be at least 1, or left empty for no limit.")
    if not repeat_weeks:
        return SeriesDates((details.local_start(),))
    if repeat_weeks not in (1, 2):
        raise DomainError("Repeat weekly or every other week.")
    if repeat_until is None or repeat_until <= details.day:
        raise DomainError("Choose the last date of the series, after the first meeting.")
    check_date_bounds(repeat_until)
    if repeat_until > details.day + timedelta(days=366):
        raise DomainError("A series can run for at most a year; add another later.")
    dates = plan_series(details.local_start(), repeat_weeks, repeat_until, skip_closed_days)
    if not dates.starts:
        reasons = ", ".join(dict.fromkeys(skipped.reason for skipped in dates.skipped))
        raise DomainError(ALL_SKIPPED.format(reasons=reasons))
    return dates


def create_event(
    details: EventDetails,
    created_by,
    repeat_weeks: int | None = None,
    repeat_until: date | None = None,
    skip_closed_days: bool = True,
) -> list[Event]:
    """Create one event, or every occurrence of a weekly (1) or fortnightly (2) series;
    a series that skips closed days (the default) has no meeting in a break, holiday
    or reading days, and remembers that for later edits.

    Locks nothing: it only adds rows nobody else can see before the commit.
    """
    dates = plan_event_dates(details, repeat_weeks, repeat_until, skip_closed_days)
    series = None
    if repeat_weeks:
        series = EventSeries(
            interval_weeks=repeat_weeks,
            first_start_local=details.local_start(),
            until_local=datetime.combine(cast(date, repeat_until), time(23, 59)),
            skips_closed_days=skip_closed_days,
        )
        db.session.add(series)
    events = [
        _new_occurrence(details, series, created_by.id, local_start) for local_start in dates.starts
    ]
    db.session.flush()
    return events


def _new_occurrence(details, series, created_by_id, local_start: datetime) -> Event:
    event = Event(
        series=series,
        capacity=details.capacity,
        checkin_secret=new_checkin_secret(),
        created_by_id=created_by_id,
        status=EventStatus.SCHEDULED,
        going_count=0,
        sequence=0,
    )
    _apply(event, details, local_start)
    db.session.add(event)
    return event


def get_event(event_id: int, for_update: bool = False) -> Event:
    if for_update:
        return locked_event(event_id)
    event = db.session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        raise NotFound("There is no event with that number.")
    return event


def _locked_targets(event: Event, scope: str) -> tuple[Event, list[Event]]:
    """The event and the occurrences a change applies to, each read under its row lock."""
    event = locked_event(event.id)
    return event, locked_from_here_on(event) if scope == THIS_AND_FOLLOWING else [event]


@dataclass
class EventEdit:
    """What an edit changed: the events moved or edited, and for a series that skips
    closed days, the later occurrences cancelled rather than moved onto one (with the
    period's name) and the meetings added in weeks the move opens."""

    changed: list[Event]
    kept_off: list[tuple[Event, str]] = field(default_factory=list)
    added: list[Event] = field(default_factory=list)


def update_event(
    event: Event, details: EventDetails, scope: str = THIS_ONE, now: datetime | None = None
) -> list[Event]:
    """Edit this occurrence, or it and every later one in its series (see `edit_event`)."""
    return edit_event(event, details, scope, now).changed


def edit_event(
    event: Event, details: EventDetails, scope: str = THIS_ONE, now: datetime | None = None
) -> EventEdit:
    """Edit this occurrence, or it and every later one in its series.

    For later occurrences the wall-clock shift is applied to each one's own local
    start, so moving a 7 pm meeting to 6 pm keeps it at 6 pm on both sides of DST.
    A series that skips breaks and holidays keeps doing so when moved: an occurrence
    the move would put on a closed day is cancelled instead (everyone going is told),
    and a week it skipped gets a meeting if the move takes it to an open day.
    Locks the event row (and, for "this and following", each later occurrence's, in start
    order) before reading what it changes, so RSVPs and other edits queue behind it.
    A new time or place is told, under those locks, to everyone on the lists of events
    that had not started by `now`: once per person however many dates (`notices`).
    """
    _check(details)
    event, targets = _locked_targets(event, scope)
    before = {target.id: notices.Before.of(target) for target in targets}
    shift = details.local_start() - to_wall_clock(event.starts_at)
    replanned = _replan(event, targets, scope, shift)
    edit = EventEdit(changed=[])
    for target in targets:
        if target.id in replanned.kept_off:
            if target.status != EventStatus.CANCELLED:
                _mark_cancelled(target)
                edit.kept_off.append((target, replanned.kept_off[target.id]))
            continue
        _set_capacity(target, details.capacity)
        local_start = (
            details.local_start() if target is event else to_wall_clock(target.starts_at) + shift
        )
        _apply(target, details, local_start)
        target.sequence += 1
        edit.changed.append(target)
    if scope == THIS_ONE and event.series_id is not None and shift:
        event.series_id = None
    edit.added = [
        _new_occurrence(details, event.series, event.created_by_id, local_start)
        for local_start in replanned.added
    ]
    db.session.flush()
    notices.notify_changes(notices.changes_to_tell(edit.changed, before, now or utcnow()))
    notices.notify_cancellations([cancelled for cancelled, _why in edit.kept_off])
    return edit


def _replan(event: Event, targets: list[Event], scope: str, shift: timedelta) -> Replanned:
    """Where a "this and following" move of a series that skips closed days may not go,
    and where it adds meetings; nothing for any other edit."""
    series = event.series
    if scope != THIS_AND_FOLLOWING or not shift or series is None or not series.skips_closed_days:
        return Replanned({}, ())
    day = (to_wall_clock(event.starts_at) + shift).date()
    reason = closed_reason(day)
    if reason is not None:
        raise DomainError(
            f"{format_date(day)} is closed ({reason}), and this series skips breaks and "
            "holidays. Choose another day, or change this event only."
        )
    return replan_following(
        event.id,
        {target.id: to_wall_clock(target.starts_at) for target in targets},
        series.interval_weeks,
        series.until_local.date(),
        shift,
    )


def _set_capacity(event: Event, capacity: int | None) -> None:
    """A capacity may not fall below the number already going; raising it promotes.

    The caller holds the event row lock; the people going are counted under it, not
    taken from a count read before an RSVP committed.
    """
    if capacity is not None and capacity < 1:
        raise DomainError("Capacity must be at least 1, or left empty for no limit.")
    going = count_going(event.id)
    if capacity is not None and capacity < going:
        raise Conflict(
            f"{going} {'person is' if going == 1 else 'people are'} already going on "
            f"{to_wall_clock(event.starts_at):%a %d %b}; the capacity cannot be lower. "
            "Choose at least that many, or leave it empty."
        )
    event.going_count, event.capacity = going, capacity
    db.session.flush()
    promote_waitlisted(event)


def cancel_event(event: Event, scope: str = THIS_ONE) -> list[Event]:
    """Cancel this occurrence (or it and the rest of its series); everyone on the list is
    told, once however many of their dates it cancels.

    Locks the event row (and each later occurrence's) and reads the status again under
    the lock: of two staff cancelling at once, the second is told it is already done and
    nobody is emailed twice.
    """
    event, targets = _locked_targets(event, scope)
    cancelled = []
    for target in targets:
        if target.status == EventStatus.CANCELLED:
            continue
        _mark_cancelled(target)
        cancelled.append(target)
    if not cancelled:
        raise Conflict(
            "This event is already cancelled; everyone on the list was told then."
            if len(targets) == 1
            else "These events are already cancelled; everyone on their lists was told then."
        )
    db.session.flush()
    notices.notify_cancellations(cancelled)
    return cancelled


def _mark_cancelled(target: Event) -> None:
    """Cancel a locked occurrence; the caller tells everyone on the lists once
    (`notices.notify_cancellations`), however many dates they were going to."""
    target.status = EventStatus.CANCELLED
    target.cancelled_at = utcnow()
    target.sequence += 1


def details_of(event: Event) -> EventDetails:
    """The form values that would recreate this event (used by edit and duplicate)."""
    start, end = to_wall_clock(event.starts_at), to_wall_clock(event.ends_at)
    return EventDetails(
        kind=event.kind,
        title=event.title,
        public_title=event.public_title,
        description=event.description,
        day=start.date(),
        start_time=start.time(),
        end_time=end.time(),
        location=event.location,
        online_link=event.online_link,
        capacity=event.capacity,
        rsvp_deadline_local=to_wall_clock(event.rsvp_deadline) if event.rsvp_deadline else None,
        show_attendee_names=event.show_attendee_names,
        headcount_only=event.headcount_only,
        house_id=event.house_id,
        open_to_applicants=event.open_to_applicants,
        allow_walk_ins=event.allow_walk_ins,
    )


def detail_field_names() -> list[str]:
    return [field.name for field in fields(EventDetails)]
