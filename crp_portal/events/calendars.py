"""iCalendar files for one event and the private per-person feed.

Discreet by default: entries carry an event's neutral public title unless the
student chose real titles, since calendars sit on shared phones and family accounts.
"""

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import cast

from flask import current_app
from icalendar import Alarm, Calendar, Timezone
from icalendar import Event as ICalEvent
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crp_portal.access import ADVISOR, STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import NotFound
from crp_portal.events.models import CalendarFeed, Event, Rsvp, RsvpStatus
from crp_portal.events.queries import visible_to
from crp_portal.events.vtimezone import vtimezone
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.members.models import DEFAULT_CALENDAR_REMINDER_MINUTES
from crp_portal.timeutil import local_today, program_zone, utcnow

FEED_PAST_DAYS = 60
FEED_SOURCES_KEY = "crp_feed_sources"
RECENT_FILES_KEY = "crp_recent_event_files"


def register_feed_source(app, source) -> None:
    """Another area adds entries to personal feeds: `source(user, since)` → components.
    Called from that area's `init_app`, so create_app decides what a feed holds."""
    sources = app.extensions.setdefault(FEED_SOURCES_KEY, [])
    if source not in sources:
        sources.append(source)


def title_for(event: Event, user: User | None) -> str:
    """The real title for staff and for students who opted in; else the neutral one."""
    if user is None or user.is_staff:
        return event.title
    profile = getattr(user, "profile", None)
    return event.title if profile is not None and profile.show_real_titles else event.public_title


def reminder_minutes(user: User) -> int | None:
    """How long before an entry the person's calendar reminds them; None for no reminder.
    Students choose on their profile; advisors and staff (no profile) get the default."""
    profile = getattr(user, "profile", None)
    if profile is None:
        return DEFAULT_CALENDAR_REMINDER_MINUTES
    return profile.calendar_reminder_minutes


def add_reminder(component: ICalEvent, user: User, text: str) -> None:
    """A display alarm (VALARM) before the entry, saying what the entry says, as the person
    chose. A cancelled entry gets none: nobody should be called to something not on."""
    minutes = reminder_minutes(user)
    if minutes is None or component.get("status") == "CANCELLED":
        return
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", timedelta(minutes=-minutes))
    component.add_component(alarm)


def add_start_and_end(component: ICalEvent, starts_at: datetime, ends_at: datetime) -> None:
    """DTSTART and DTEND at the program's local time, naming its zone; in UTC if either
    falls in the hour that repeats when the clocks go back. A local time there names two
    moments, and readers choose differently (RFC 5545 says the first; ical.js takes the
    second), so a meeting across the change would end before it starts."""
    zone = program_zone()
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if _repeated(start) or _repeated(end):
        start, end = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    component.add("dtstart", start)
    component.add("dtend", end)


def _repeated(local: datetime) -> bool:
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _uid(event: Event) -> str:
    host = current_app.config.get("SERVER_NAME") or "crp-portal"
    return f"event-{event.id}@{host}"


def _event_component(event: Event, user: User) -> ICalEvent:
    component = ICalEvent()
    component.add("uid", _uid(event))
    component.add("dtstamp", utcnow())
    add_start_and_end(component, event.starts_at, event.ends_at)
    component.add("summary", title_for(event, user))
    component.add("sequence", event.sequence)
    link = portal_url("events.detail", event_id=event.id)
    component.add("url", link)
    component.add("description", f"Details: {link}")
    if event.location:
        component.add("location", event.location)
    component.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    add_reminder(component, user, str(component["summary"]))
    return component


def new_calendar() -> Calendar:
    """Named with the public name: a calendar app lists it beside family calendars."""
    public_name = current_app.config["CRP_PUBLIC_NAME"]
    calendar = Calendar()
    calendar.add("prodid", f"-//{public_name}//Calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", public_name)
    calendar.add("x-wr-calname", public_name)
    return calendar


@lru_cache(maxsize=16)
def _vtimezone(tzid: str, first: date, last: date) -> Timezone | None:
    """A zone's VTIMEZONE, made once: reading the zone's changes takes milliseconds."""
    return vtimezone(tzid, first, last)


@lru_cache(maxsize=16)
def _vtimezone_ical(tzid: str, first: date, last: date) -> bytes:
    """The same, as the lines it adds to a file: half the lines of a one-event file, so
    writing them out again for every RSVP's confirmation was half the file's cost."""
    timezone = _vtimezone(tzid, first, last)
    return b"" if timezone is None else timezone.to_ical()


def finish(calendar: Calendar) -> bytes:
    """The calendar as iCalendar bytes, with a VTIMEZONE for every zone it uses, right
    for the years the portal writes about (feeds reach two months back; a series at most
    a year ahead). Not `Calendar.add_missing_timezones`: see `vtimezone` for why.

    The VTIMEZONEs go before the calendar's first component, as the first components
    (the place `Calendar.subcomponents` would give them), already written out."""
    this_year = utcnow().year
    first, last = date(this_year - 1, 1, 1), date(this_year + 3, 1, 1)
    missing = sorted(calendar.get_missing_tzids())
    zones = b"".join(_vtimezone_ical(tzid, first, last) for tzid in missing)
    if calendar.timezones:  # one of its own already leads: put these after it, as objects
        position = len(calendar.timezones)
        for tzid in missing:
            timezone = _vtimezone(tzid, first, last)
            if timezone is not None:
                calendar.subcomponents.insert(position, timezone)
                position += 1
        return calendar.to_ical()
    body = calendar.to_ical()
    if not zones:
        return body
    # Properties come before components and never start a line with BEGIN: (line breaks
    # in values are escaped), so the first such line after the calendar's own opens its
    # first component.
    at = body.index(b"\r\nBEGIN:", len(b"BEGIN:VCALENDAR")) + 2
    return body[:at] + zones + body[at:]


class RecentFiles:
    """The last few hundred one-event files, by everything that goes into them.

    Writing a file is most of what an RSVP's confirmation costs (icalendar folds and
    escapes every line), and the students who answer one event in a burst each get the
    same file, give or take their title setting and reminder. Thread-safe: gunicorn may
    run threads."""

    def __init__(self, size: int = 256):
        self._size = size
        self._files: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._files:
                self._files.move_to_end(key)
                return self._files[key]
        made = make()
        with self._lock:
            self._files[key] = made
            while len(self._files) > self._size:
                self._files.popitem(last=False)
        return made


def event_ics(event: Event, user: User) -> bytes:
    """One event's file for this person, made at most once a minute for the event as it
    now stands: the key holds every value the file shows and the minute, so a change to
    the event makes a new file at once and DTSTAMP (when the file was made) is never more
    than a minute old. Per app, since its configuration goes into the file too."""
    key = (
        event.id,
        event.sequence,
        event.starts_at,
        event.ends_at,
        event.location,
        event.is_cancelled,
        title_for(event, user),
        reminder_minutes(user),
        utcnow().replace(second=0, microsecond=0),
    )
    files = current_app.extensions.get(RECENT_FILES_KEY)
    if files is None:
        files = current_app.extensions.setdefault(RECENT_FILES_KEY, RecentFiles())
    return files.get_or_make(key, lambda: events_ics([event], user))


def events_ics(events: list[Event], user: User) -> bytes:
    """One file for one or several events: each entry keeps its UID and carries the event's
    SEQUENCE, so a file sent after a change or cancellation updates the entries a calendar
    already holds rather than adding new ones."""
    calendar = new_calendar()
    calendar.add("method", "PUBLISH")
    for event in events:
        calendar.add_component(_event_component(event, user))
    return finish(calendar)


def feed_for(user: User) -> CalendarFeed:
    """The person's feed record, made if missing.

    Locks nothing: the primary key keeps one feed per person. Of two requests making it
    at once, the second insert waits for the first, fails, and reads its row.
    """
    feed = db.session.get(CalendarFeed, user.id)
    if feed is None:
        try:
            with db.session.begin_nested():
                feed = CalendarFeed(user_id=user.id, token=secrets.token_urlsafe(32))
                db.session.add(feed)
        except IntegrityError:
            # The other request's row, which made this insert fail.
            feed = cast(
                CalendarFeed,
                db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id)),
            )
    return feed


FEED_ROLES = frozenset({STUDENT, ADVISOR})  # who has a calendar page


def ensure_feed(user: User) -> CalendarFeed | None:
    """Students and advisors get their private calendar address with the account (or the
    role), so the calendar page only reads it."""
    return feed_for(user) if user.role in FEED_ROLES else None


def saved_feed(user: User) -> CalendarFeed | None:
    """The person's feed as saved. An account made before feeds came with accounts has
    none until the person asks for an address (`regenerate_feed`)."""
    return db.session.get(CalendarFeed, user.id)


def regenerate_feed(user: User) -> CalendarFeed:
    """A new secret URL; calendars still holding the old one stop updating.

    Locks the person's feed row, so of two regenerations at once the later one's address
    is the one that stays, and the page that showed it is right.
    """
    feed_for(user)
    feed = cast(
        CalendarFeed,  # feed_for made it if missing
        db.session.scalar(
            select(CalendarFeed)
            .where(CalendarFeed.user_id == user.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ),
    )
    feed.token = secrets.token_urlsafe(32)
    feed.created_at = utcnow()
    db.session.flush()
    return feed


def feed_url(feed: CalendarFeed) -> str:
    return portal_url("events.calendar_feed", token=feed.token)


def user_for_feed_token(token: str):
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token[:64]))
    if feed is None:
        raise NotFound("This calendar address is not in use. Copy the current one from the portal.")
    user = db.session.get(User, feed.user_id)
    if user is None or not user.active:
        raise NotFound("This calendar address is not in use. Copy the current one from the portal.")
    return user


def personal_feed_ics(user: User) -> bytes:
    """Events the person is going to and may still see (a resident who moved out loses the
    house's meetings), and other areas' entries, from two months back."""
    since = utcnow() - timedelta(days=FEED_PAST_DAYS)
    events = db.session.scalars(
        select(Event)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(Rsvp.user_id == user.id, Rsvp.status == RsvpStatus.GOING, Event.starts_at >= since)
        .where(visible_to(user, local_today()))
        .order_by(Event.starts_at)
    )
    calendar = new_calendar()
    for event in events:
        calendar.add_component(_event_component(event, user))
    for source in current_app.extensions.get(FEED_SOURCES_KEY, []):
        for component in source(user, since):
            calendar.add_component(component)
    return finish(calendar)
