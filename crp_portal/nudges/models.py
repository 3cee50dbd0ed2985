"""Campaigns: who gets which nudge when.

A campaign's messages are outbox rows (`crp_portal.outbox.models`), keyed by (campaign,
person, occurrence), which makes planning idempotent: planning twice adds nothing.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.members.models import EMAIL_CATEGORY_LABELS
from crp_portal.terms.models import PeriodKind
from crp_portal.timeutil import UTCDateTime, utcnow


class Trigger(StrEnum):
    """When a campaign's message goes out."""

    PERIOD = "period"
    FIRST_TERM_WEEK = "first_term_week"
    MOVE_IN = "move_in"
    BACK_FROM_BREAK = "back_from_break"
    INACTIVE = "inactive"
    NO_ADVISING = "no_advising"


TRIGGER_LABELS: dict[str, str] = {
    Trigger.PERIOD: "Days before or after a calendar period starts or ends",
    Trigger.FIRST_TERM_WEEK: "The first week of a member's first term",
    Trigger.MOVE_IN: "A resident's housing move-in date",
    Trigger.BACK_FROM_BREAK: "The first day back from a break",
    Trigger.INACTIVE: "No activity of any kind for a number of days",
    Trigger.NO_ADVISING: "No advising session yet this term, by a week of term",
}


class Anchor(StrEnum):
    """Which end of a calendar period a `Trigger.PERIOD` campaign counts from."""

    START = "start"
    END = "end"


ANCHORS: dict[str, str] = {Anchor.START: "starts", Anchor.END: "ends"}


class Audience(StrEnum):
    ACTIVE_MEMBERS = "active_members"
    RESIDENTS = "residents"
    FIRST_TERM_MEMBERS = "first_term_members"
    PEER_MENTORS = "peer_mentors"
    NO_ADVISING_THIS_TERM = "no_advising_this_term"


AUDIENCE_LABELS: dict[str, str] = {
    Audience.ACTIVE_MEMBERS: "Active members",
    Audience.RESIDENTS: "Residents of recovery housing",
    Audience.FIRST_TERM_MEMBERS: "Members in their first term",
    Audience.PEER_MENTORS: "Peer mentors",
    Audience.NO_ADVISING_THIS_TERM: "Members with no advising this term",
}
HOLDOUT_MAX = 50


class Campaign(Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(values_check("trigger", Trigger), name="trigger_known"),
        CheckConstraint(values_check("audience", Audience), name="audience_known"),
        CheckConstraint(values_check("category", EMAIL_CATEGORY_LABELS), name="category_known"),
        CheckConstraint(
            "period_kind IS NULL OR " + values_check("period_kind", PeriodKind),
            name="period_kind_known",
        ),
        CheckConstraint("anchor IS NULL OR " + values_check("anchor", Anchor), name="anchor_known"),
        CheckConstraint("offset_days BETWEEN -90 AND 90", name="offset_range"),
        CheckConstraint(f"holdout_percent BETWEEN 0 AND {HOLDOUT_MAX}", name="holdout_range"),
        CheckConstraint("active_to IS NULL OR active_to >= active_from", name="active_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    trigger: Mapped[str] = mapped_column(String(24))
    period_kind: Mapped[str | None] = mapped_column(String(20))
    anchor: Mapped[str | None] = mapped_column(String(8))
    offset_days: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    days: Mapped[int | None] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    subject_template: Mapped[str] = mapped_column(String(200))
    body_template: Mapped[str] = mapped_column(Text)
    active_from: Mapped[date] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    holdout_percent: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # None while the campaign is a draft: staff preview and dry-run it, then make it live.
    live_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    made_live_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_draft(self) -> bool:
        return self.live_since is None

    @property
    def trigger_label(self) -> str:
        return TRIGGER_LABELS[self.trigger]

    @property
    def audience_label(self) -> str:
        return AUDIENCE_LABELS[self.audience]

    @property
    def category_label(self) -> str:
        return EMAIL_CATEGORY_LABELS[self.category]
