"""Does a campaign work? Compare the people it emailed with those its holdout kept back.

For each outbox row of the campaign that was sent or held out, did the person attend a
program event or book advising within 14 days of the row being planned? Both groups
are counted from the planning moment (not the send), so they are measured alike. Only
rows whose 14 days are over are compared; counts below CRP_MIN_CELL are suppressed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Interval, exists, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from crp_portal.advising.models import Appointment
from crp_portal.events.models import Attendance
from crp_portal.extensions import db
from crp_portal.nudges.models import Campaign
from crp_portal.outbox.models import OutboxMessage, OutboxStatus
from crp_portal.timeutil import utcnow

WINDOW_DAYS = 14


@dataclass(frozen=True)
class Count:
    """A count as it may leave the portal: below the minimum cell (zero included, since
    "none of them" says something about each of them) it shows as "<5"."""

    value: int
    minimum: int

    @property
    def suppressed(self) -> bool:
        return self.value < self.minimum

    def __str__(self) -> str:
        return f"<{self.minimum}" if self.suppressed else str(self.value)


@dataclass(frozen=True)
class Group:
    label: str
    people: Count
    acted: Count
    still_open: Count  # rows whose 14 days are not over yet, not in the comparison

    @property
    def share(self) -> float | None:
        """The share who acted; None when either count is suppressed or nobody is counted."""
        if self.people.suppressed or self.acted.suppressed or not self.people.value:
            return None
        return self.acted.value / self.people.value

    @property
    def share_label(self) -> str:
        return "—" if self.share is None else f"{round(self.share * 100)}%"


@dataclass(frozen=True)
class Report:
    campaign: Campaign
    emailed: Group
    held_out: Group
    window_days: int = WINDOW_DAYS

    @property
    def difference_label(self) -> str | None:
        """Emailed minus held out, in percentage points, when both shares can be shown."""
        if self.emailed.share is None or self.held_out.share is None:
            return None
        points = round((self.emailed.share - self.held_out.share) * 100)
        return f"{points:+d} percentage points" if points else "no difference"


def _plus_days(moment: ColumnElement[Any] | InstrumentedAttribute[Any], days: int) -> ColumnElement:
    """`moment + days` in SQL; SQLite has no interval type, so it uses datetime()."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.datetime(moment, f"+{days} days")
    return moment + literal(timedelta(days=days), Interval())


def _acted_within(days: int) -> ColumnElement[bool]:
    """The row's person attended an event or booked advising within `days` of the row."""
    start = OutboxMessage.created_at
    end = _plus_days(OutboxMessage.created_at, days)
    attended = exists().where(
        Attendance.user_id == OutboxMessage.user_id,
        Attendance.recorded_at >= start,
        Attendance.recorded_at < end,
    )
    booked = exists().where(
        Appointment.student_id == OutboxMessage.user_id,
        Appointment.created_at >= start,
        Appointment.created_at < end,
    )
    return or_(attended, booked)


def campaign_report(campaign: Campaign, now: datetime | None = None) -> Report:
    """Counts for the sent and held-out rows of `campaign`, in one grouped query."""
    now = now or utcnow()
    minimum = current_app.config["CRP_MIN_CELL"]
    over = OutboxMessage.created_at <= now - timedelta(days=WINDOW_DAYS)
    rows = db.session.execute(
        select(
            OutboxMessage.status,
            func.count().filter(over),
            func.count().filter(over, _acted_within(WINDOW_DAYS)),
            func.count().filter(~over),
        )
        .where(
            OutboxMessage.campaign_id == campaign.id,
            OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.HELD_OUT)),
            OutboxMessage.user_id.is_not(None),
        )
        .group_by(OutboxMessage.status)
    ).all()
    counts = {status: (people, acted, still_open) for status, people, acted, still_open in rows}

    def group(status: str, label: str) -> Group:
        people, acted, still_open = counts.get(status, (0, 0, 0))
        return Group(
            label, Count(people, minimum), Count(acted, minimum), Count(still_open, minimum)
        )

    return Report(
        campaign, group(OutboxStatus.SENT, "Emailed"), group(OutboxStatus.HELD_OUT, "Held out")
    )
