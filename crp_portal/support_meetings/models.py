"""Outside recovery support meetings (AA, SMART…) that students can attend.

These are run by other organizations, not by the program: the directory only says when
and where they meet. `starts_at` is wall-clock time in the program's zone, because a
weekly meeting stays at 7 PM across a daylight-saving change.
"""

from datetime import datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

FELLOWSHIPS = {
    "aa": "Alcoholics Anonymous (AA)",
    "na": "Narcotics Anonymous (NA)",
    "smart": "SMART Recovery",
    "dharma": "Recovery Dharma",
    "sos": "Secular Organizations for Sobriety (SOS)",
    "all_recovery": "All-recovery",
    "other": "Other",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORTEST_MINUTES, LONGEST_MINUTES = 15, 480
WEB_SCHEMES = ("http://", "https://")


def clock_label(value: time) -> str:
    """`7:00 PM`, `12:30 AM`: the way meeting lists write times, whatever the locale."""
    hour = value.hour % 12 or 12
    return f"{hour}:{value.minute:02d} {'AM' if value.hour < 12 else 'PM'}"


class SupportMeeting(Model):
    __tablename__ = "support_meetings"
    __table_args__ = (
        CheckConstraint(
            "fellowship IN (" + ", ".join(f"'{key}'" for key in FELLOWSHIPS) + ")",
            name="fellowship_known",
        ),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_in_week"),
        CheckConstraint(
            f"duration_minutes IS NULL OR duration_minutes BETWEEN {SHORTEST_MINUTES} "
            f"AND {LONGEST_MINUTES}",
            name="duration_sensible",
        ),
        CheckConstraint("location IS NOT NULL OR online_url IS NOT NULL", name="has_a_place"),
        CheckConstraint(
            "online_url IS NULL OR "
            + " OR ".join(
                f"lower(substr(online_url, 1, {len(scheme)})) = '{scheme}'"
                for scheme in WEB_SCHEMES
            ),
            name="online_url_is_web",
        ),
        Index("ix_support_meetings_active_weekday_starts_at", "active", "weekday", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    fellowship: Mapped[str] = mapped_column(String(20), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    online_url: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def fellowship_label(self) -> str:
        return FELLOWSHIPS[self.fellowship]

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]

    @property
    def starts_label(self) -> str:
        return clock_label(self.starts_at)

    def __repr__(self) -> str:
        return f"<SupportMeeting {self.id} {self.name}>"
