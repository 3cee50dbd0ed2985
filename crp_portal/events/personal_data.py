"""What events hold about a person, for the privacy duties (`crp_portal.privacy`): their
RSVPs and attendance in their data download, each event under the title they see; on
erasure their private calendar feed goes (its address is a credential, not data about
them, and is not in the download). RSVPs and attendance stay, for the counts."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crp_portal.events.calendars import title_for
from crp_portal.events.models import Attendance, CalendarFeed, Rsvp
from crp_portal.privacy import register_eraser, register_export_section
from crp_portal.privacy.erasure import delete_where
from crp_portal.privacy.export import rows


def _event_title(user) -> dict:
    return {"event": lambda entry: title_for(entry.event, user)}


def rsvps(user) -> list[dict]:
    return rows(
        select(Rsvp)
        .where(Rsvp.user_id == user.id)
        .options(joinedload(Rsvp.event))
        .order_by(Rsvp.created_at, Rsvp.id),
        {
            **_event_title(user),
            "starts_at": "event.starts_at",
            "status": "status",
            "answered_at": "created_at",
            "changed_at": "updated_at",
            "reminded_of_start": "reminded_for",
            "waitlist_place_last_shown": "seen_waitlist_place",
        },
    )


def attendance(user) -> list[dict]:
    return rows(
        select(Attendance)
        .where(Attendance.user_id == user.id)
        .options(joinedload(Attendance.event))
        .order_by(Attendance.recorded_at, Attendance.id),
        {
            **_event_title(user),
            "starts_at": "event.starts_at",
            "recorded_as": "source",
            "recorded_at": "recorded_at",
        },
    )


def erase_calendar_feeds(user, _now) -> int:
    return delete_where(CalendarFeed, CalendarFeed.user_id == user.id)


def init_app(app) -> None:
    register_export_section(app, "rsvps", rsvps)
    register_export_section(app, "attendance", attendance)
    register_eraser(app, "calendar feeds", erase_calendar_feeds)
