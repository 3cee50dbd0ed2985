"""The outbox's tables: every email the portal sends is one row, written in the same
transaction as the change that causes it, so a rolled-back change emails nobody and a
committed one cannot lose its email.

Nudges carry their (campaign, person, occurrence) key, unique, so planning twice adds
nothing; transactional mail (confirmations, reminders, offers) has no campaign. The
campaign is named by table (`campaigns.id`) and by mapper name, so this module imports no
feature.
"""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
    from crp_portal.nudges.models import Campaign


class OutboxKind(StrEnum):
    NUDGE = "nudge"
    TRANSACTIONAL = "transactional"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    HELD_OUT = "held_out"
    NEEDS_REVIEW = "needs_review"


OUTBOX_STATUS_LABELS: dict[str, str] = {
    OutboxStatus.PENDING: "Pending",
    OutboxStatus.SENDING: "Being sent",
    OutboxStatus.SENT: "Sent",
    OutboxStatus.FAILED: "Failed",
    OutboxStatus.SUPPRESSED: "Suppressed",
    OutboxStatus.HELD_OUT: "Held out (comparison group)",
    OutboxStatus.NEEDS_REVIEW: "Needs review",
}
MAX_ATTEMPTS = 5


class OutboxMessage(Model):
    """One email. Nudges carry their (campaign, person, occurrence) key; transactional
    mail (confirmations, reminders, offers) has no campaign and cannot be opted out of."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id", "occurrence", name="uq_outbox_nudge_key"),
        CheckConstraint(values_check("kind", OutboxKind), name="kind_known"),
        CheckConstraint(values_check("status", OutboxStatus), name="status_known"),
        CheckConstraint(
            f"kind = '{OutboxKind.TRANSACTIONAL}' OR (campaign_id IS NOT NULL AND occurrence IS NOT NULL)",
            name="nudge_has_key",
        ),
        Index("ix_outbox_status_due", "status", "due_at"),
        Index("ix_outbox_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    occurrence: Mapped[str | None] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    reason: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped["Campaign | None"] = relationship()
    user: Mapped["User | None"] = relationship()
    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def status_label(self) -> str:
        return OUTBOX_STATUS_LABELS[self.status]

    @property
    def is_failed(self) -> bool:
        return self.status == OutboxStatus.FAILED

    @property
    def needs_review(self) -> bool:
        """Claimed for sending but never marked: it may or may not have gone out."""
        return self.status == OutboxStatus.NEEDS_REVIEW


class OutboxAttachment(Model):
    """A file sent with a message, such as the .ics of a booking confirmation."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(80))
    data: Mapped[bytes] = mapped_column(LargeBinary)
