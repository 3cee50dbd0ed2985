"""Importing the registrar's published .ics calendar as calendar periods.

The feed is read (`read_feed`), each event gets a kind of period from keyword rules
(`parse_rules`) and the term that contains its first day, and the outcome is planned
against what earlier imports saved (`plan_import`) before anything is written
(`save_import`). A period keeps its event's UID in `source_uid`, so importing the same
feed again changes nothing, and an event whose dates moved updates its period.
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crp_portal import text_rules
from crp_portal.errors import Conflict, DomainError
from crp_portal.extensions import db
from crp_portal.terms.models import PERIOD_KINDS, CalendarPeriod, Term
from crp_portal.timeutil import EARLIEST_DATE, LATEST_DATE, in_date_bounds, program_zone

MAX_FEED_BYTES = 1_000_000
MAX_RULES_CHARS = 4000
NAME_LENGTH = 120
UID_LENGTH = 255
LONGEST_EVENT = timedelta(days=366)

DEFAULT_RULES = """\
classes_start: classes begin, first day of classes
add_drop: add/drop, drop deadline, last day to add, last day to drop
reading_days: reading day, reading period, study day, study period
midterms: midterm, mid-term
finals: final exam, finals
break: break, recess
holiday: holiday, thanksgiving, labor day, memorial day, independence day, juneteenth, \
martin luther king, mlk day, veterans day, christmas, new year's day, new year’s day, \
presidents' day, presidents day, indigenous peoples, columbus day, university closed, no classes
move_in: move-in, move in, residence halls open
move_out: move-out, move out, residence halls close
graduation: commencement, graduation"""

NEW, UPDATED, UNCHANGED, SKIPPED = "new", "updated", "unchanged", "skipped"

TOO_BIG = (
    "The calendar is larger than 1 MB. Export a shorter stretch from the registrar's "
    "site, such as one academic year."
)
EMPTY = "The calendar is empty. Choose the registrar's .ics file or paste its text."
NOT_TEXT = (
    "This file is not a text calendar. Choose the registrar's .ics file: it is plain text "
    "that starts with BEGIN:VCALENDAR."
)
NOT_ICS = (
    "This is not an iCalendar (.ics) calendar: it does not start with BEGIN:VCALENDAR. "
    "Check that you chose the registrar's .ics file, not a web page or a spreadsheet."
)
DAMAGED = (
    "The calendar cannot be read: it is damaged or cut short (it must end with "
    "END:VCALENDAR). Download it again from the registrar's site."
)
NO_EVENTS = (
    "The calendar has no events in it. Check that you exported the academic calendar "
    "itself, with its dates."
)
HIDDEN_CHARACTERS = (
    "The calendar has hidden characters that cannot be saved, so nothing was imported. "
    "{lines} Download the calendar again from the registrar's site, or ask them to remove "
    "these characters."
)
LINES_SHOWN = 5
PREVIEW_UNREADABLE = (
    "The calendar from the preview could not be read back. Choose the file or paste the text again."
)

NO_RULE = "no keyword rule matches its title"
NO_TERM = "no term covers this date"
REPEATS = "it repeats; add repeating dates by hand"
ONE_OCCURRENCE = "it changes one date of a repeating event"
NO_START = "it has no start date"
BAD_DATES = "its dates cannot be read"
CANCELLED = "the registrar marked it cancelled"
DUPLICATE = "the same event (UID) appears earlier in the calendar"
TOO_LONG = "it lasts more than a year"
OUT_OF_YEARS = f"its dates are outside {EARLIEST_DATE.year}–{LATEST_DATE.year}"


class FeedError(DomainError):
    """The text is not a calendar the import can read; the message says what to do."""


class RuleError(DomainError):
    """A keyword rule line cannot be understood; the message names the line."""


@dataclass(frozen=True)
class KeywordRule:
    kind: str
    keywords: tuple[str, ...]

    def matches(self, title: str) -> bool:
        folded = title.casefold()
        return any(keyword in folded for keyword in self.keywords)


def _kind_key(text: str) -> str:
    """`Move-in`, `move in` and `move_in` all name the kind move_in."""
    return re.sub(r"[\s/-]+", "_", text.strip().casefold())


def parse_rules(text: str) -> list[KeywordRule]:
    """One rule a line, `kind: keyword, keyword`; blank lines and `#` lines are ignored.

    A kind is a key of PERIOD_KINDS or its label. Matching is a case-insensitive
    substring test on the event title, and the first rule that matches wins, so the
    order of the lines matters. Any line that cannot be read is refused, naming it.
    """
    rules = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        kind_text, colon, keyword_text = line.partition(":")
        if not colon:
            raise RuleError(
                f"Line {number}: write the rule as “kind: keyword, keyword”, "
                "for example “finals: final exam”."
            )
        kind = _kind_key(kind_text)
        if kind not in PERIOD_KINDS:
            raise RuleError(
                f"Line {number}: “{kind_text.strip()[:40]}” is not a kind of period. "
                f"Use one of {', '.join(PERIOD_KINDS)}."
            )
        keywords = tuple(dict.fromkeys(word.strip().casefold() for word in keyword_text.split(",")))
        keywords = tuple(word for word in keywords if word)
        if not keywords:
            raise RuleError(f"Line {number}: list at least one keyword after “{kind}:”.")
        rules.append(KeywordRule(kind, keywords))
    if not rules:
        raise RuleError("Write at least one rule, for example “finals: final exam”.")
    return rules


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT as the import sees it; `problem` says why it can never be imported."""

    uid: str
    title: str
    starts_on: date | None
    ends_on: date | None
    problem: str = ""

    @property
    def name(self) -> str:
        return self.title[:NAME_LENGTH].rstrip()


def decode_feed(raw: bytes) -> str:
    """An uploaded file as text; iCalendar files are UTF-8."""
    if len(raw) > MAX_FEED_BYTES:
        raise FeedError(TOO_BIG)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedError(NOT_TEXT) from error


def feed_token(text: str) -> str:
    """The feed as one opaque line, carried in the preview's hidden field."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def feed_from_token(token: str) -> str:
    """The feed back from `feed_token`; it is read and checked again like any upload."""
    if len(token) > (MAX_FEED_BYTES // 3 + 1) * 4:
        raise FeedError(TOO_BIG)
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error, ValueError) as error:
        raise FeedError(PREVIEW_UNREADABLE) from error
    return decode_feed(raw)


def read_feed(text: str) -> list[FeedEvent]:
    """Every VEVENT in the calendar text, in feed order.

    A text that is too big, empty, not iCalendar, damaged or without events raises
    FeedError. A single event that cannot be imported (no start, repeating, unreadable
    dates) is kept with its `problem`, so the preview can say why it is left out.
    """
    if len(text.encode("utf-8", "replace")) > MAX_FEED_BYTES:
        raise FeedError(TOO_BIG)
    if not text.strip():
        raise FeedError(EMPTY)
    if not text.lstrip("\ufeff \t\r\n").upper().startswith("BEGIN:VCALENDAR"):
        raise FeedError(NOT_ICS)
    _refuse_hidden_characters(text)
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except Exception as error:  # noqa: BLE001 - a damaged file can fail anywhere in the parser
        raise FeedError(DAMAGED) from error
    if not calendars:  # the parser drops a calendar that never ends
        raise FeedError(DAMAGED)
    components = [
        component
        for calendar in calendars
        for component in calendar.subcomponents
        if component.name == "VEVENT"
    ]
    if not components:
        raise FeedError(NO_EVENTS)
    zone = program_zone()
    events, seen = [], set()
    for component in components:
        event = _read_event(component, zone)
        if event.uid in seen and not event.problem:
            event = replace(event, problem=DUPLICATE)
        seen.add(event.uid)
        events.append(event)
    return events


def _refuse_hidden_characters(text: str) -> None:
    """The whole calendar, line by line, is held to `text_rules` (RFC 5545 allows no
    control character but tab in it either), so no event's title or UID brings one in.
    Refusing the file, rather than dropping the characters, tells staff where they are."""
    found = text_rules.lines_with_problems(text)
    if not found:
        return
    lines = [f"Line {number} contains {problem}." for number, problem in found[:LINES_SHOWN]]
    if len(found) > LINES_SHOWN:
        lines.append(f"And {len(found) - LINES_SHOWN} more lines.")
    raise FeedError(HIDDEN_CHARACTERS.format(lines=" ".join(lines)))


def _text(component, name: str) -> str:
    """A property's text on one line (an escaped line break in it becomes a space)."""
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return ""
    return " ".join(str(value).split())


def _read_event(component, zone: ZoneInfo) -> FeedEvent:
    title = _text(component, "SUMMARY")
    problem = ""
    starts_on = ends_on = None
    start_key = ""
    try:
        start, end = component.start, component.end
        starts_on, ends_on = _dates(start, end, zone)
        start_key = start.isoformat()
    except Exception:  # noqa: BLE001 - icalendar reports broken dates in several ways
        problem = NO_START if "DTSTART" not in component else BAD_DATES
    if not problem:
        if "RRULE" in component or "RDATE" in component:
            problem = REPEATS
        elif "RECURRENCE-ID" in component:
            problem = ONE_OCCURRENCE
        elif _text(component, "STATUS").upper() == "CANCELLED":
            problem = CANCELLED
        elif not in_date_bounds(starts_on, ends_on):
            problem = OUT_OF_YEARS
        elif cast(date, ends_on) - cast(date, starts_on) > LONGEST_EVENT:  # set: no problem
            problem = TOO_LONG
    return FeedEvent(_source_uid(component, title, start_key), title, starts_on, ends_on, problem)


def _dates(start, end, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last day an event touches in the program's time zone.

    An all-day event's DTEND is the day after its last day; a timed event that ends
    exactly at midnight does not touch the day it ends on.
    """
    if isinstance(start, datetime):
        first, finish = _local(start, zone), _local(end, zone)
        last = finish.date()
        if finish > first and finish.time() == time(0) and last > first.date():
            last -= timedelta(days=1)
        return first.date(), max(first.date(), last)
    last = end - timedelta(days=1) if end > start else start
    return start, last


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware time in the program's zone; a floating time is taken as local already."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def _source_uid(component, title: str, start_key: str) -> str:
    """The event's UID; without one, a stable stand-in from its title and start."""
    uid = _text(component, "UID")
    if not uid:
        digest = hashlib.sha1(f"{title}\n{start_key}".encode(), usedforsecurity=False)
        return f"derived:{digest.hexdigest()}"
    if len(uid) > UID_LENGTH:
        return f"sha1:{hashlib.sha1(uid.encode(), usedforsecurity=False).hexdigest()}"
    return uid


@dataclass(frozen=True)
class PlanLine:
    """What saving does with one event."""

    event: FeedEvent
    outcome: str
    reason: str = ""
    kind: str | None = None
    term: Term | None = None
    period: CalendarPeriod | None = None
    changes: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return PERIOD_KINDS[self.kind] if self.kind else ""


@dataclass(frozen=True)
class ImportPlan:
    lines: tuple[PlanLine, ...]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((NEW, UPDATED, UNCHANGED, SKIPPED), 0)
        for line in self.lines:
            counts[line.outcome] += 1
        return counts

    @property
    def digest(self) -> str:
        """Fingerprint of everything the preview shows, to tell whether a save would do
        the same; it changes when the feed, the rules, the terms or saved periods do."""
        fingerprint = hashlib.sha256()
        for line in self.lines:
            fingerprint.update(
                repr(
                    (
                        line.event.uid,
                        line.event.name,
                        line.event.starts_on,
                        line.event.ends_on,
                        line.outcome,
                        line.kind,
                        line.term.id if line.term else None,
                        line.period.id if line.period else None,
                    )
                ).encode()
            )
        return fingerprint.hexdigest()


def plan_import(events: list[FeedEvent], rules: list[KeywordRule]) -> ImportPlan:
    """Each event's outcome, in date order, without changing anything.

    An event becomes a period when a rule matches its title and a term contains its
    first day (the latest-starting one, if terms overlap). An event already imported
    (same UID) is unchanged when term, kind, name and dates agree, and else updated.
    """
    terms = list(db.session.scalars(select(Term).order_by(Term.starts_on, Term.id)))
    uids = [event.uid for event in events if not event.problem]
    existing = {}
    if uids:
        query = select(CalendarPeriod).where(CalendarPeriod.source_uid.in_(uids))
        existing = {period.source_uid: period for period in db.session.scalars(query)}
    lines = [_plan_line(event, rules, terms, existing) for event in events]
    lines.sort(
        key=lambda line: (
            line.event.starts_on is None,
            line.event.starts_on or date.min,
            line.event.title.casefold(),
        )
    )
    return ImportPlan(tuple(lines))


def _plan_line(event, rules, terms, existing) -> PlanLine:
    if event.problem:
        return PlanLine(event, SKIPPED, event.problem)
    kind = next((rule.kind for rule in rules if rule.matches(event.title)), None)
    if kind is None:
        return PlanLine(event, SKIPPED, NO_RULE)
    term = _term_for(event, kind, terms)
    if term is None:
        return PlanLine(event, SKIPPED, NO_TERM, kind=kind)
    period = existing.get(event.uid)
    if period is None:
        return PlanLine(event, NEW, kind=kind, term=term)
    changes = tuple(
        change
        for change, differs in (
            ("dates", (period.starts_on, period.ends_on) != (event.starts_on, event.ends_on)),
            ("title", period.name != event.name),
            ("kind", period.kind != kind),
            ("term", period.term_id != term.id),
        )
        if differs
    )
    outcome = UPDATED if changes else UNCHANGED
    return PlanLine(event, outcome, kind=kind, term=term, period=period, changes=changes)


def _term_for(event: FeedEvent, kind: str, terms: list[Term]) -> Term | None:
    """The term containing the event's first day (the latest-starting one, if terms
    overlap); for a break or holiday between two terms, the term it follows."""
    day = cast(date, event.starts_on)  # an event without a problem has both dates
    covering = [term for term in terms if term.starts_on <= day <= term.ends_on]
    if covering:
        return covering[-1]
    before = [
        term
        for term in terms
        if term.ends_on < day and term.holds_period(kind, day, cast(date, event.ends_on))
    ]
    return max(before, key=lambda term: (term.ends_on, term.id)) if before else None


def save_import(plan: ImportPlan) -> dict[str, int]:
    """Create the new periods and bring updated ones in line with the feed.

    Unchanged and skipped events are left alone, and so are periods whose event has
    left the feed: removing a date is a decision for staff, not for the import.
    """
    for line in plan.lines:
        if line.outcome == NEW:
            db.session.add(
                CalendarPeriod(
                    term=line.term,
                    kind=line.kind,
                    name=line.event.name,
                    starts_on=line.event.starts_on,
                    ends_on=line.event.ends_on,
                    source_uid=line.event.uid,
                )
            )
        elif line.outcome == UPDATED:
            # An updated line names its period, term and kind; its event has both dates.
            period = cast(CalendarPeriod, line.period)
            period.term = cast(Term, line.term)
            period.kind, period.name = cast(str, line.kind), line.event.name
            period.starts_on = cast(date, line.event.starts_on)
            period.ends_on = cast(date, line.event.ends_on)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise Conflict(
            "Another import saved some of these events just now. Preview the calendar again."
        ) from error
    return plan.counts
