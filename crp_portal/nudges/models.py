"""Campaigns: who gets which nudge when.

A campaign's messages are outbox rows (`crp_portal.outbox.models`), keyed by (campaign,
person, occurrence), which makes planning idempotent: planning twice adds nothing.
"""

from datetime import date, datetime

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

from crp_portal.extensions import db
from crp_portal.members.models import EMAIL_CATEGORY_LABELS
from crp_portal.terms.models import PERIOD_KINDS
from crp_portal.timeutil import UTCDateTime, utcnow


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


PERIOD, FIRST_TERM_WEEK, MOVE_IN, BACK_FROM_BREAK, INACTIVE, NO_ADVISING = (
    "period",
    "first_term_week",
    "move_in",
    "back_from_break",
    "inactive",
    "no_advising",
)
TRIGGER_LABELS = {
    PERIOD: "Days before or after a calendar period starts or ends",
    FIRST_TERM_WEEK: "The first week of a member's first term",
    MOVE_IN: "A resident's housing move-in date",
    BACK_FROM_BREAK: "The first day back from a break",
    INACTIVE: "No activity of any kind for a number of days",
    NO_ADVISING: "No advising session yet this term, by a week of term",
}
ANCHORS = {"start": "starts", "end": "ends"}

ACTIVE_MEMBERS, RESIDENTS, FIRST_TERM_MEMBERS, PEER_MENTORS, NO_ADVISING_THIS_TERM = (
    "active_members",
    "residents",
    "first_term_members",
    "peer_mentors",
    "no_advising_this_term",
)
AUDIENCE_LABELS = {
    ACTIVE_MEMBERS: "Active members",
    RESIDENTS: "Residents of recovery housing",
    FIRST_TERM_MEMBERS: "Members in their first term",
    PEER_MENTORS: "Peer mentors",
    NO_ADVISING_THIS_TERM: "Members with no advising this term",
}
HOLDOUT_MAX = 50


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(_in("trigger", TRIGGER_LABELS), name="trigger_known"),
        CheckConstraint(_in("audience", AUDIENCE_LABELS), name="audience_known"),
        CheckConstraint(_in("category", EMAIL_CATEGORY_LABELS), name="category_known"),
        CheckConstraint(
            "period_kind IS NULL OR " + _in("period_kind", PERIOD_KINDS), name="period_kind_known"
        ),
        CheckConstraint("anchor IS NULL OR " + _in("anchor", ANCHORS), name="anchor_known"),
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
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def trigger_label(self) -> str:
        return TRIGGER_LABELS[self.trigger]

    @property
    def audience_label(self) -> str:
        return AUDIENCE_LABELS[self.audience]

    @property
    def category_label(self) -> str:
        return EMAIL_CATEGORY_LABELS[self.category]
