"""Recovery items that belong to the student: the relapse-prevention plan, the support
network and weekly check-ins; and the program's care around them: staff follow-ups.

Staff see the plan, the network and check-in answers only where the student consented
(`MemberProfile.share_*`); a follow-up exists whatever the consent, but carries no
answers of its own.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
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

PLAN_SECTIONS = {
    "warning_signs": "Warning signs",
    "triggers": "Triggers",
    "coping_strategies": "Coping strategies",
    "people_and_places": "People and places that help",
    "crisis_steps": "What to do in a crisis",
}
PLAN_SECTION_MAX = 4000


class RecoveryPlanVersion(Model):
    """Each save of the plan is a new version; the student can read every earlier one."""

    __tablename__ = "recovery_plan_versions"
    __table_args__ = (UniqueConstraint("student_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    warning_signs: Mapped[str] = mapped_column(Text, default="")
    triggers: Mapped[str] = mapped_column(Text, default="")
    coping_strategies: Mapped[str] = mapped_column(Text, default="")
    people_and_places: Mapped[str] = mapped_column(Text, default="")
    crisis_steps: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def sections(self) -> list[tuple[str, str]]:
        return [(label, getattr(self, name)) for name, label in PLAN_SECTIONS.items()]


class SupportPerson(Model):
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


SCALE_MIN, SCALE_MAX = 1, 5
CHECK_IN_NOTE_MAX = 1000


class CheckIn(Model):
    """One per student per week (weeks start on Monday in the program's time zone)."""

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("student_id", "week_start"),
        CheckConstraint("mood BETWEEN 1 AND 5", name="mood_scale"),
        CheckConstraint("stress BETWEEN 1 AND 5", name="stress_scale"),
        CheckConstraint("sleep BETWEEN 1 AND 5", name="sleep_scale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date] = mapped_column(Date, index=True)
    mood: Mapped[int] = mapped_column(SmallInteger)
    stress: Mapped[int] = mapped_column(SmallInteger)
    sleep: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    note_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wants_outreach: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    student: Mapped["User"] = relationship()


class FollowUpStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class FollowUpReason(StrEnum):
    REACH_OUT = "reach_out"
    MISSED_ADVISING = "missed_advising"
    STAFF_CONCERN = "staff_concern"


FOLLOW_UP_REASON_LABELS: dict[str, str] = {
    FollowUpReason.REACH_OUT: "Asked for someone to reach out",
    FollowUpReason.MISSED_ADVISING: "Missed advising appointments",
    FollowUpReason.STAFF_CONCERN: "Raised by staff",
}
FOLLOW_UP_NOTE_MAX = 2000


class FollowUp(Model):
    """An item in the staff follow-up queue: somebody should reach out to this student."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(values_check("status", FollowUpStatus), name="status_known"),
        CheckConstraint(values_check("reason", FollowUpReason), name="reason_known"),
        Index("ix_follow_ups_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    check_in_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_ins.id", ondelete="SET NULL"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=FollowUpStatus.OPEN)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    student: Mapped["User"] = relationship(foreign_keys=[student_id])
    assigned_to: Mapped["User | None"] = relationship(foreign_keys=[assigned_to_id])
    resolved_by: Mapped["User | None"] = relationship(foreign_keys=[resolved_by_id])
    check_in: Mapped[CheckIn | None] = relationship()
    notes: Mapped[list["FollowUpNote"]] = relationship(
        back_populates="follow_up",
        order_by="FollowUpNote.created_at, FollowUpNote.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def reason_label(self) -> str:
        return FOLLOW_UP_REASON_LABELS[self.reason]

    @property
    def is_open(self) -> bool:
        return self.status == FollowUpStatus.OPEN


class FollowUpNote(Model):
    """Staff's working note on a follow-up; the text goes after the retention period."""

    __tablename__ = "follow_up_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str | None] = mapped_column(Text)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    follow_up: Mapped[FollowUp] = relationship(back_populates="notes")
    author: Mapped["User | None"] = relationship()
