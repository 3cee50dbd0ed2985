"""Finding events: the upcoming list, a month, one event's page and "My events".

Each function issues a fixed number of statements whatever the number of events.
"""

import calendar
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, func, or_, select, true
from sqlalchemy.orm import selectinload

from crp_portal.access import EVENTS, HOUSING, STUDENT, may
from crp_portal.auth.models import User
from crp_portal.database import kept_statement, likely
from crp_portal.errors import NotFound
from crp_portal.events.models import (
    KINDS,
    Event,
    EventFacts,
    EventStatus,
    Rsvp,
    RsvpStatus,
)
from crp_portal.extensions import db
from crp_portal.housing.residency import current_house_ids
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.search import like_pattern
from crp_portal.timeutil import local_midnight, program_zone, week_start

ONLINE, IN_PERSON = "online", "in_person"
LIST_LIMIT = 100
PAGE_SIZE = 20  # events a page of the upcoming list shows
# What a list of events shows (the events page, the week on the staff home page). Reading
# only these makes the list's query a third cheaper (descriptions are the bulk of a row),
# and a listed event (`ListedEvent`) has no other column to read by mistake.
LISTED_COLUMNS = (
    Event.id,
    Event.title,
    Event.starts_at,
    Event.kind,
    Event.location,
    Event.online_link,
    Event.capacity,
    Event.going_count,
    Event.status,
)


@dataclass(frozen=True, slots=True)
class ListedEvent(EventFacts):
    """An event as lists show it (`LISTED_COLUMNS`, in that order), read as a plain row:
    making each of the twenty a page lists an Event object was a sixth of the events list."""

    id: int
    title: str
    starts_at: datetime
    kind: str
    location: str | None
    online_link: str | None
    capacity: int | None
    going_count: int
    status: str


LONGEST_EVENT = timedelta(days=1)
EVERY_EVENT, NO_HOUSE_MEETINGS = "every event", "no house meetings"  # forms of the rule
NOT_YET_MEMBERS = (
    MemberStatus.APPLICANT,
    MemberStatus.INACTIVE,
)  # a declined applicant becomes inactive


def visible_to(user: User, today: date) -> ColumnElement[bool]:
    """The events `user` may see, RSVP to, download and check in to: the one rule every
    list, event page and calendar applies.

    A house meeting (an event with a house) tells where a recovery house is, so it is for
    that house's current residents (`housing.residency`) and for staff who run events or
    housing. A student who is not a member, an applicant or an inactive student, sees only
    events staff opened to applicants.
    """
    return _rule(_rule_key(user, today))


def _rule_key(user: User, today: date) -> tuple:
    """Which form of `visible_to` applies to `user` today: a key the rule, and the
    statements built on it, are remembered by."""
    if may(user, EVENTS, HOUSING):
        return (EVERY_EVENT,)
    if user.role != STUDENT:
        return (NO_HOUSE_MEETINGS,)
    applicants_only = user.profile is None or user.profile.status in NOT_YET_MEMBERS
    return (STUDENT, user.id, today, applicants_only)


@functools.cache
def _for_everyone() -> ColumnElement[bool]:
    return likely(Event.house_id.is_(None))  # see crp_portal.database.likely


@functools.lru_cache(maxsize=1024)
def _rule(key: tuple) -> ColumnElement[bool]:
    """Made once per student and day, not on every page: building the residency subquery
    cost more than running it. (SQL expressions never change once made.)"""
    if key[0] == EVERY_EVENT:
        return true()
    if key[0] == NO_HOUSE_MEETINGS:
        return _for_everyone()
    _, student_id, today, applicants_only = key
    rule = or_(_for_everyone(), Event.house_id.in_(current_house_ids(student_id, today)))
    return and_(rule, Event.open_to_applicants) if applicants_only else rule


def visible_event(event_id: int, user: User, today: date) -> Event:
    """One event as `user` may see it; one they may not see is no event at all (404)."""
    event = db.session.scalar(_visible_event_statement(_rule_key(user, today)), {"id": event_id})
    if event is None:
        raise NotFound("There is no event with that number.")
    return event


@kept_statement
def _visible_event_statement(rule_key: tuple) -> Select:
    return select(Event).where(Event.id == bindparam("id"), _rule(rule_key))


def _local_day(now: datetime) -> date:
    return now.astimezone(program_zone()).date()


SEARCH_LENGTH = 100  # characters of a search that count; the field allows as many


@dataclass(frozen=True)
class EventFilter:
    kind: str = ""
    mode: str = ""
    this_week: bool = False
    text: str = ""  # words to find in the title, description or place (upcoming list)


def searched_title(viewer: User) -> str:
    """The title column a search matches for `viewer`: the one they are given
    (`calendars.title_for`), so a student who sees only the neutral public title cannot
    find an event by words of its real title: a hit would tell them what it is."""
    if viewer.is_staff:
        return "title"
    profile = getattr(viewer, "profile", None)
    return "title" if profile is not None and profile.show_real_titles else "public_title"


def _search_clause(title_column: str) -> ColumnElement[bool]:
    """The event's title (as `searched_title` names it), description or place holds the
    `pattern` bind parameter (a lower-cased LIKE pattern, `search.like_pattern`)."""
    pattern = bindparam("pattern", type_=String)
    columns = (getattr(Event, title_column), Event.description, Event.location)
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


def _filtered(statement, filters: EventFilter):
    if filters.kind in KINDS:
        statement = statement.where(Event.kind == filters.kind)
    if filters.mode == ONLINE:
        statement = statement.where(Event.online_link.is_not(None))
    elif filters.mode == IN_PERSON:
        statement = statement.where(Event.location.is_not(None))
    return statement


def upcoming(
    viewer: User,
    now: datetime,
    today: date,
    filters: EventFilter,
    limit: int = LIST_LIMIT,
    offset: int = 0,
) -> list[ListedEvent]:
    """Events not yet over that `viewer` may see, soonest first; "this week" runs to the
    coming Sunday. At most `limit` of them, after skipping the first `offset`.

    An event ends on the day it starts (see services.EventDetails), so one not yet over
    started less than a day ago: that bound lets the starts_at index skip the past
    instead of reading the program's whole history to find what is still to come.
    """
    values = {"now": now, "since": now - LONGEST_EVENT, "limit": limit, "offset": offset}
    if filters.this_week:
        values["week_end"] = local_midnight(week_start(today) + timedelta(days=7))
    text = filters.text.strip()[:SEARCH_LENGTH]
    if text:
        values["pattern"] = like_pattern(text)
    kept = EventFilter(
        kind=filters.kind if filters.kind in KINDS else "",
        mode=filters.mode if filters.mode in (ONLINE, IN_PERSON) else "",
        this_week=filters.this_week,
    )  # the words are a bind parameter: statements are kept per column searched, not text
    search = searched_title(viewer) if text else ""
    rows = db.session.execute(_upcoming_statement(_rule_key(viewer, today), kept, search), values)
    return [ListedEvent(*row) for row in rows]


@kept_statement
def _upcoming_statement(rule_key: tuple, filters: EventFilter, search: str = "") -> Select:
    """`upcoming`'s statement for one form of the rule and one set of filters; `search`
    names the title column a search matches (`searched_title`), or is empty."""
    statement = (
        select(*LISTED_COLUMNS)
        .where(Event.ends_at >= bindparam("now"), Event.starts_at > bindparam("since"))
        .where(_rule(rule_key))
        .order_by(Event.starts_at, Event.id)
    )
    if filters.this_week:
        statement = statement.where(Event.starts_at < bindparam("week_end"))
    if search:
        statement = statement.where(_search_clause(search))
    return _filtered(statement, filters).limit(bindparam("limit")).offset(bindparam("offset"))


@dataclass(frozen=True)
class EventPage:
    """One page of the upcoming list; `number` counts from 1."""

    events: list[ListedEvent]
    number: int
    has_later: bool

    @property
    def has_earlier(self) -> bool:
        return self.number > 1


def upcoming_page(
    viewer: User,
    now: datetime,
    today: date,
    filters: EventFilter,
    number: int,
    size: int = PAGE_SIZE,
) -> EventPage:
    """Page `number` of `upcoming`, `size` events a page (a number below 1 means the
    first page). One statement: it reads one event more than the page shows, to know
    whether a later page exists without counting them all. A page past the last event
    is empty."""
    number = max(number, 1)
    found = upcoming(viewer, now, today, filters, limit=size + 1, offset=(number - 1) * size)
    return EventPage(events=found[:size], number=number, has_later=len(found) > size)


@dataclass(frozen=True)
class MyAnswer:
    """What the events list says of the viewer's RSVP to an event."""

    is_going: bool
    is_waitlisted: bool


MY_ANSWERS: dict[str, MyAnswer] = {
    RsvpStatus.GOING: MyAnswer(is_going=True, is_waitlisted=False),
    RsvpStatus.WAITLISTED: MyAnswer(is_going=False, is_waitlisted=True),
}


def my_rsvps(user: User, events: list[ListedEvent]) -> dict[int, MyAnswer]:
    """The viewer's answer to each listed event they are going to or waiting for, by
    event id, in one statement. Two columns, not RSVP objects: the list shows a badge,
    and loading twenty ORM objects for it cost a tenth of the page."""
    if not events or user.role != STUDENT:
        return {}
    answers = db.session.execute(
        _my_answers_statement(), {"user_id": user.id, "event_ids": [event.id for event in events]}
    )
    return {event_id: MY_ANSWERS[status] for event_id, status in answers if status in MY_ANSWERS}


@kept_statement
def _my_answers_statement() -> Select:
    return select(Rsvp.event_id, Rsvp.status).where(
        Rsvp.user_id == bindparam("user_id"),
        Rsvp.event_id.in_(bindparam("event_ids", expanding=True)),
    )


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    weeks: list[list[date]]
    events_by_day: dict[date, list[Event]]

    @property
    def title(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)

    @property
    def next(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)


def month(viewer: User, today: date, year: int, month_number: int, filters: EventFilter) -> Month:
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month_number)
    start, end = local_midnight(weeks[0][0]), local_midnight(weeks[-1][-1] + timedelta(days=1))
    statement = (
        select(Event)
        .where(Event.starts_at >= start, Event.starts_at < end, visible_to(viewer, today))
        .order_by(Event.starts_at, Event.id)
    )
    by_day: dict[date, list[Event]] = {}
    for event in db.session.scalars(_filtered(statement, filters)):
        by_day.setdefault(event.starts_at.astimezone(program_zone()).date(), []).append(event)
    return Month(year, month_number, weeks, by_day)


def next_for(user: User, now: datetime, limit: int = 3) -> list[Event]:
    """The next few events a student is going to."""
    return list(
        db.session.scalars(
            select(Event)
            .join(Rsvp, Rsvp.event_id == Event.id)
            .where(Rsvp.user_id == user.id, Rsvp.status == RsvpStatus.GOING, Event.ends_at >= now)
            .where(visible_to(user, _local_day(now)))
            .order_by(Event.starts_at)
            .limit(limit)
        )
    )


def house_meetings(viewer: User, house_id: int, now: datetime, limit: int = 5) -> list[Event]:
    """Upcoming events linked to a recovery house, for its residents (none for anyone else)."""
    return list(
        db.session.scalars(
            select(Event)
            .where(
                Event.house_id == house_id,
                Event.ends_at >= now,
                Event.status != EventStatus.CANCELLED,
            )
            .where(visible_to(viewer, _local_day(now)))
            .order_by(Event.starts_at)
            .limit(limit)
        )
    )


def waitlist_count(event: Event) -> int:
    return db.session.execute(_waitlist_count(), {"event_id": event.id}).scalar_one()


@kept_statement
def _waitlist_count() -> Select:
    return (
        select(func.count())
        .select_from(Rsvp)
        .where(Rsvp.event_id == bindparam("event_id"), Rsvp.status == RsvpStatus.WAITLISTED)
    )


def opted_in_first_names(event: Event) -> list[str]:
    """First names of people going who chose to be shown to peers; only when the event allows."""
    if not event.show_attendee_names or event.status == EventStatus.CANCELLED:
        return []
    users = db.session.scalars(
        select(User)
        .join(Rsvp, Rsvp.user_id == User.id)
        .join(MemberProfile, MemberProfile.user_id == User.id)
        .where(
            Rsvp.event_id == event.id,
            Rsvp.status == RsvpStatus.GOING,
            MemberProfile.show_first_name_to_peers,
        )
        .options(selectinload(User.profile))
        .order_by(Rsvp.queue_number)
    )
    # The join on MemberProfile keeps only people with a profile.
    return [
        (cast(MemberProfile, user.profile).preferred_name or user.name).split()[0] for user in users
    ]
