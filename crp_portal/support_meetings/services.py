"""The directory of outside support meetings: staff keep it, students filter it."""

from dataclasses import dataclass
from datetime import time
from urllib.parse import urlsplit

from sqlalchemy import select

from crp_portal.errors import DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.search import paginate
from crp_portal.support_meetings.models import (
    FELLOWSHIPS,
    LONGEST_MINUTES,
    SHORTEST_MINUTES,
    WEEKDAYS,
    SupportMeeting,
)

ONLINE, IN_PERSON = "online", "in_person"


class MeetingError(DomainError):
    """A listing that breaks a rule: no place to go, an unsafe link, an unknown day…"""


@dataclass(frozen=True)
class MeetingDetails:
    """What staff type about a meeting; blank optional text means "none"."""

    name: str
    fellowship: str
    weekday: int
    starts_at: time
    duration_minutes: int | None = None
    location: str = ""
    online_url: str = ""
    notes: str = ""
    active: bool = True


@dataclass(frozen=True)
class MeetingFilter:
    """What a visitor narrowed the directory to; None or "" means any."""

    weekday: int | None = None
    fellowship: str = ""
    meets: str = ""


def is_web_link(url: str) -> bool:
    """An http(s) address with a host: never `javascript:`, `data:` or a bare word."""
    if any(character.isspace() for character in url):
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _check(details: MeetingDetails) -> None:
    """A listing needs a name, a known fellowship and day, and somewhere to go."""
    if not details.name.strip():
        raise MeetingError("Name the meeting.")
    if details.fellowship not in FELLOWSHIPS:
        raise MeetingError("Choose one of the listed fellowships.")
    if details.weekday not in range(len(WEEKDAYS)):
        raise MeetingError("Choose a day of the week.")
    minutes = details.duration_minutes
    if minutes is not None and not SHORTEST_MINUTES <= minutes <= LONGEST_MINUTES:
        raise MeetingError(f"A meeting lasts from {SHORTEST_MINUTES} to {LONGEST_MINUTES} minutes.")
    if not details.location.strip() and not details.online_url.strip():
        raise MeetingError("Give a location, an online link, or both.")
    if details.online_url.strip() and not is_web_link(details.online_url.strip()):
        raise MeetingError("The online link must be a web address starting with https://.")


def _apply(meeting: SupportMeeting, details: MeetingDetails) -> SupportMeeting:
    _check(details)
    meeting.name = details.name.strip()
    meeting.fellowship = details.fellowship
    meeting.weekday = details.weekday
    meeting.starts_at = details.starts_at.replace(second=0, microsecond=0, tzinfo=None)
    meeting.duration_minutes = details.duration_minutes
    meeting.location = details.location.strip() or None
    meeting.online_url = details.online_url.strip() or None
    meeting.notes = details.notes.strip() or None
    meeting.active = details.active
    db.session.add(meeting)
    db.session.flush()
    return meeting


DIRECTORY_PAGE_SIZE = 50


def list_meetings(filters: MeetingFilter, include_inactive: bool = False) -> list[SupportMeeting]:
    """Every meeting matching `filters`, in week order (`meetings_statement`)."""
    return list(db.session.scalars(meetings_statement(filters, include_inactive)))


def meetings_page(
    filters: MeetingFilter,
    include_inactive: bool,
    page: int,
    per_page: int = DIRECTORY_PAGE_SIZE,
):
    """One page of the directory: `per_page` meetings in week order, and the total."""
    statement = meetings_statement(filters, include_inactive)
    return paginate(statement, page, per_page)


def meetings_statement(filters: MeetingFilter, include_inactive: bool = False):
    """Meetings in week order (Monday first, then by start time).

    Hybrid meetings count as both online and in person. Inactive meetings are hidden
    unless `include_inactive` (staff, who may list them again). A filter value that
    is not a known day, fellowship or way of meeting is ignored rather than refused.
    """
    statement = select(SupportMeeting).order_by(
        SupportMeeting.weekday, SupportMeeting.starts_at, SupportMeeting.name, SupportMeeting.id
    )
    if not include_inactive:
        statement = statement.where(SupportMeeting.active.is_(True))
    if filters.weekday in range(len(WEEKDAYS)):
        statement = statement.where(SupportMeeting.weekday == filters.weekday)
    if filters.fellowship in FELLOWSHIPS:
        statement = statement.where(SupportMeeting.fellowship == filters.fellowship)
    if filters.meets == ONLINE:
        statement = statement.where(SupportMeeting.online_url.is_not(None))
    elif filters.meets == IN_PERSON:
        statement = statement.where(SupportMeeting.location.is_not(None))
    return statement


def get_meeting(meeting_id: int) -> SupportMeeting:
    meeting = db.session.get(SupportMeeting, meeting_id)
    if meeting is None:
        raise NotFound("There is no support meeting with that number.")
    return meeting


def create_meeting(details: MeetingDetails) -> SupportMeeting:
    """Add a listing; it must have a location or an http(s) link students can follow."""
    return _apply(SupportMeeting(), details)


def update_meeting(meeting: SupportMeeting, details: MeetingDetails) -> SupportMeeting:
    """Change a listing; the same rules as adding one."""
    return _apply(meeting, details)


def deactivate_meeting(meeting: SupportMeeting) -> SupportMeeting:
    """Stop showing a meeting to students (it paused, or moved) without losing it."""
    meeting.active = False
    db.session.flush()
    return meeting


def delete_meeting(meeting: SupportMeeting) -> None:
    """Remove a listing for good; nothing else refers to it."""
    db.session.delete(meeting)
    db.session.flush()
