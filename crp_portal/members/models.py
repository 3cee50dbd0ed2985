"""A student's membership in the program, and the audit trail of who opened whose record."""

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.extensions import db
from crp_portal.timeutil import UTCDateTime, utcnow

APPLICANT, ACTIVE, ON_LEAVE, ALUMNI, INACTIVE = (
    "applicant",
    "active",
    "on_leave",
    "alumni",
    "inactive",
)
STATUSES = (APPLICANT, ACTIVE, ON_LEAVE, ALUMNI, INACTIVE)
STATUS_LABELS = {
    APPLICANT: "Applicant",
    ACTIVE: "Active",
    ON_LEAVE: "On leave",
    ALUMNI: "Alumni",
    INACTIVE: "Inactive",
}


class MemberProfile(db.Model):
    __tablename__ = "member_profiles"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")",
            name="status_known",
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    preferred_name: Mapped[str | None] = mapped_column(String(80))
    pronouns: Mapped[str | None] = mapped_column(String(40))
    student_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=APPLICANT, index=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_on: Mapped[date | None] = mapped_column(Date)
    show_first_name_to_peers: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    show_real_titles: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    share_network_with_staff: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User", back_populates="profile", foreign_keys=[user_id])

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


class AuditEntry(db.Model):
    """One row each time staff or an advisor opens another person's record."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject_created", "subject_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User", foreign_keys=[actor_id])


class SupportPerson(db.Model):
    """Someone the student counts on. Recovery data: the student's own, shared only by consent."""

    __tablename__ = "support_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    relationship_to_student: Mapped[str] = mapped_column(String(80))
    how_to_reach: Mapped[str] = mapped_column(String(200))
    expectations: Mapped[str] = mapped_column(String(1000), default="")
    emergency_contact: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
