"""Events, recurring series, RSVPs, attendance and private calendar feeds."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User


class EventKind(StrEnum):
    ALL_RECOVERY = "all_recovery"
    PEER_SUPPORT = "peer_support"
    SOBER_SOCIAL = "sober_social"
    ACADEMIC = "academic"
    WELLNESS = "wellness"
    SERVICE = "service"


KINDS: dict[str, str] = {
    EventKind.ALL_RECOVERY: "All-recovery meeting",
    EventKind.PEER_SUPPORT: "Peer support group",
    EventKind.SOBER_SOCIAL: "Sober social",
    EventKind.ACADEMIC: "Academic workshop",
    EventKind.WELLNESS: "Wellness",
    EventKind.SERVICE: "Service outing",
}


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RsvpStatus(StrEnum):
    """A cancelled RSVP is the person's answer, not the event's (that is `EventStatus`)."""

    GOING = "going"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class AttendanceSource(StrEnum):
    ROSTER = "roster"
    SELF_CHECK_IN = "self"
    WALK_IN = "walk_in"


class EventSeries(Model):
    """A weekly or fortnightly meeting; its occurrences are rows of `events`.

    The rule is kept in local wall-clock time so 7 pm stays 7 pm across DST.
    """

    __tablename__ = "event_series"
    __table_args__ = (CheckConstraint("interval_weeks IN (1, 2)", name="interval_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interval_weeks: Mapped[int] = mapped_column(Integer)
    first_start_local: Mapped[datetime] = mapped_column(DateTime)
    until_local: Mapped[datetime] = mapped_column(DateTime)
    # No meeting on a day inside a break, holiday or reading days (`events.series`); kept
    # so "this and following" edits keep to the rule the series was made with.
    skips_closed_days: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    events: Mapped[list["Event"]] = relationship(
        back_populates="series", order_by="Event.starts_at"
    )


class EventFacts:
    """What pages say of an event from its columns: shared by the model and by the plain
    rows lists read (`queries.ListedEvent`)."""

    __slots__ = ()

    if TYPE_CHECKING:
        kind: str
        status: str
        online_link: str | None
        capacity: int | None
        going_count: int

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED

    @property
    def is_online(self) -> bool:
        return bool(self.online_link)

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.going_count, 0)


class Event(EventFacts, Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("going_count >= 0", name="going_not_negative"),
        CheckConstraint("capacity IS NULL OR going_count <= capacity", name="within_capacity"),
        CheckConstraint("headcount IS NULL OR headcount >= 0", name="headcount_not_negative"),
        CheckConstraint(values_check("status", EventStatus), name="status_known"),
        CheckConstraint(values_check("kind", EventKind), name="kind_known"),
        Index("ix_events_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_series.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    public_title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    online_link: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(Integer)
    house_id: Mapped[int | None] = mapped_column(
        ForeignKey("houses.id", ondelete="SET NULL"), index=True
    )
    rsvp_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=EventStatus.SCHEDULED)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    show_attendee_names: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    headcount_only: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    headcount: Mapped[int | None] = mapped_column(Integer)
    open_to_applicants: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # The key of the rotating self check-in code (`checkin_codes`); never shown.
    checkin_secret: Mapped[str] = mapped_column(String(64))
    # Whether a student who is not going (no RSVP, waitlisted, cancelled) may check in with
    # the code, recorded as a walk-in.
    allow_walk_ins: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    going_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    series: Mapped["EventSeries | None"] = relationship(back_populates="events")


class Rsvp(Model):
    """One per (event, person); `queue_number` orders the list, first come first served.

    The number is taken while the event row is locked, so it follows commit order
    on every host, whatever their clocks say.
    """

    __tablename__ = "rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_rsvps_event_user"),
        CheckConstraint(values_check("status", RsvpStatus), name="status_known"),
        UniqueConstraint("event_id", "queue_number", name="uq_rsvps_event_queue_number"),
        Index("ix_rsvps_event_status_queue", "event_id", "status", "queue_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    queue_number: Mapped[int] = mapped_column(Integer)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The start the reminder email was sent for (`reminders`): a moved event no longer
    # matches it, so the new time is reminded too.
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The waitlist place the person was last shown on the event's page, NULL once they
    # have seen themselves going: their home says when a place came or they moved up.
    seen_waitlist_place: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    user: Mapped["User"] = relationship()

    @property
    def is_going(self) -> bool:
        return self.status == RsvpStatus.GOING

    @property
    def is_waitlisted(self) -> bool:
        return self.status == RsvpStatus.WAITLISTED


DEFAULT_REMINDER_HOURS = 24
REMINDER_LEAD_HOURS: dict[int, str] = {
    2: "2 hours before",
    6: "6 hours before",
    12: "12 hours before",
    24: "1 day before",
    48: "2 days before",
    72: "3 days before",
}


class EventReminderSetting(Model):
    """Staff's choice for one kind of event: reminders on or off, and how long before.

    A kind without a row gets the defaults (on, `DEFAULT_REMINDER_HOURS`)."""

    __tablename__ = "event_reminder_settings"
    __table_args__ = (
        CheckConstraint(values_check("kind", EventKind), name="kind_known"),
        CheckConstraint("lead_hours BETWEEN 1 AND 168", name="lead_hours_plausible"),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    lead_hours: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_REMINDER_HOURS, server_default=text(str(DEFAULT_REMINDER_HOURS))
    )
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


class Attendance(Model):
    """Someone was there: from the roster, a self check-in or as a walk-in."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_attendances_event_user"),
        CheckConstraint(values_check("source", AttendanceSource), name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    user: Mapped["User"] = relationship(foreign_keys=[user_id])


class CalendarFeed(Model):
    """A person's private calendar URL; regenerating the token kills the old URL."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventNotice(Model):
    """A message staff sent to everyone going (and perhaps the waitlist): who sent it, when,
    and to how many people. The text lives only in the emails (the outbox), never here.

    `send_key` comes with the form: the same form sent twice (a double click, a retried
    request) is one send, so each person gets the message once.
    """

    __tablename__ = "event_notices"
    __table_args__ = (
        UniqueConstraint("event_id", "send_key", name="uq_event_notices_send_key"),
        CheckConstraint("recipients >= 0", name="recipients_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    send_key: Mapped[str] = mapped_column(String(32))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer)
    included_waitlist: Mapped[bool] = mapped_column(Boolean)

    sent_by: Mapped["User | None"] = relationship()
