"""At the door: the code and QR staff show (on the attendance page or a kiosk screen), and
the names staff take away (a printable sign-in sheet, a roster CSV).

Names leave the portal on paper or in a file only for events that keep names; a meeting
that keeps a headcount alone has no names to give, and says so. Each sheet and file is
written to the audit trail before it leaves, as the dashboard's exports are: about no
one (the trail names nobody in its detail), saying which event and how many names.
"""

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crp_portal import audit, csv_export
from crp_portal.auth.models import User
from crp_portal.errors import Conflict
from crp_portal.events.attendance import roster
from crp_portal.events.checkin_codes import current_code, next_change, seconds_to_next_change
from crp_portal.events.models import Event, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.qr import qr_svg
from crp_portal.timeutil import format_date

QR_LABEL = "QR code that opens this event's check-in page with the code filled in"
NO_NAMES = (
    "This meeting is headcount only: it keeps no names, so there is no sign-in sheet or "
    "roster to take away. Record how many came on the attendance page."
)
ROSTER_EXPORTED = "event roster exported as CSV"
SIGN_IN_SHEET_PRINTED = "event sign-in sheet opened to print"
RSVP_LABELS: dict[str, str] = {RsvpStatus.GOING: "Going", RsvpStatus.WAITLISTED: "Waitlisted"}


@dataclass(frozen=True)
class ShownCode:
    """The check-in code as shown at the event right now, and when it changes."""

    code: str
    check_in_url: str  # what the QR code opens: the event's check-in page, code filled in
    qr: Markup
    changes_at: datetime
    refresh_after: int  # seconds: a page showing the code reloads then


def shown_code(event: Event, now: datetime) -> ShownCode:
    code = current_code(event, now)
    url = portal_url("events.check_in_page", event_id=event.id, code=code)
    return ShownCode(
        code=code,
        check_in_url=url,
        qr=qr_svg(url, QR_LABEL),
        changes_at=next_change(now),
        # One second late rather than early: the server's clock has moved on by then.
        refresh_after=seconds_to_next_change(now) + 1,
    )


def keeps_names(event: Event) -> None:
    if event.headcount_only:
        raise Conflict(NO_NAMES)


def going_people(event: Event) -> list[User]:
    """Everyone going, by the name they go by (the sheet goes round the room)."""
    entries = db.session.scalars(
        select(Rsvp)
        .where(Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.GOING)
        .options(selectinload(Rsvp.user).selectinload(User.profile))
    )
    return sorted((entry.user for entry in entries), key=lambda user: user.display_name.lower())


def _detail(event: Event, names: int) -> str:
    return f"event #{event.id} on {format_date(event.starts_at)}, {names} names"


def sign_in_sheet(event: Event, staff: User) -> list[User]:
    """The people going, for a sheet to sign; refused for a meeting that keeps no names.
    The sheet is written to the audit trail (the caller commits it: `audited_read`)."""
    keeps_names(event)
    people = going_people(event)
    audit.record_action(staff, None, SIGN_IN_SHEET_PRINTED, detail=_detail(event, len(people)))
    return people


CSV_HEADER = ["Name", "Full name", "Email", "RSVP", "Present"]


def roster_csv(event: Event, staff: User) -> str:
    """The roster as a CSV file: everyone going or waitlisted, and walk-ins, with whether
    they are recorded as present. Refused for a meeting that keeps no names; written to
    the audit trail (the caller commits it)."""
    keeps_names(event)
    rows = roster(event)
    audit.record_action(staff, None, ROSTER_EXPORTED, detail=_detail(event, len(rows)))
    return csv_export.to_csv(
        CSV_HEADER,
        (
            (
                person.display_name,
                person.name,
                person.email,
                RSVP_LABELS.get(status or "", "Walk-in"),
                "yes" if present else "no",
            )
            for person, status, present in rows
        ),
    )
