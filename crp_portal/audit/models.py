"""The audit trail's table: one row per view of another person's data, admin action or
export. Rows are written only by `crp_portal.audit.recorder`."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User


class AuditEntry(Model):
    """One row each time staff, an advisor or a peer mentor opens another person's record."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_subject_created", "subject_id", "created_at"),
        Index("ix_audit_entries_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(80))
    detail: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped["User | None"] = relationship(foreign_keys=[actor_id])
    subject: Mapped["User | None"] = relationship(foreign_keys=[subject_id])
