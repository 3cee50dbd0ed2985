"""Recovery items that belong to the student: the relapse-prevention plan and weekly
check-ins; and the program's care around them: staff follow-ups and peer mentoring.

Staff see the plan and check-in answers only where the student consented
(`MemberProfile.share_*`); a follow-up exists whatever the consent, but carries no
answers of its own.
"""

from datetime import date, datetime

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

from crp_portal.extensions import db
from crp_portal.timeutil import UTCDateTime, utcnow

PLAN_SECTIONS = {
    "warning_signs": "Warning signs",
    "triggers": "Triggers",
    "coping_strategies": "Coping strategies",
    "people_and_places": "People and places that help",
    "crisis_steps": "What to do in a crisis",
}
PLAN_SECTION_MAX = 4000


class RecoveryPlanVersion(db.Model):
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


SCALE_MIN, SCALE_MAX = 1, 5
CHECK_IN_NOTE_MAX = 1000


class CheckIn(db.Model):
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

    student = relationship("User")


OPEN, RESOLVED = "open", "resolved"
FOLLOW_UP_STATUSES = (OPEN, RESOLVED)
REACH_OUT, MISSED_ADVISING, STAFF_CONCERN = "reach_out", "missed_advising", "staff_concern"
FOLLOW_UP_REASON_LABELS = {
    REACH_OUT: "Asked for someone to reach out",
    MISSED_ADVISING: "Missed advising appointments",
    STAFF_CONCERN: "Raised by staff",
}
FOLLOW_UP_NOTE_MAX = 2000


class FollowUp(db.Model):
    """An item in the staff follow-up queue: somebody should reach out to this student."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
        CheckConstraint(
            "reason IN (" + ", ".join(f"'{r}'" for r in FOLLOW_UP_REASON_LABELS) + ")",
            name="reason_known",
        ),
        Index("ix_follow_ups_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    check_in_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_ins.id", ondelete="SET NULL"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    student = relationship("User", foreign_keys=[student_id])
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])
    check_in = relationship("CheckIn")
    notes = relationship(
        "FollowUpNote",
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
        return self.status == OPEN


class FollowUpNote(db.Model):
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

    follow_up = relationship("FollowUp", back_populates="notes")
    author = relationship("User")


CONTACT_MODE_LABELS = {
    "in_person": "In person",
    "phone": "Phone call",
    "video": "Video call",
    "message": "Text or message",
}
CONTACT_TOPIC_LABELS = {
    "check_in": "General check-in",
    "academics": "Classes and studying",
    "events": "Program events",
    "housing": "Housing",
    "social": "Friends and social life",
    "wellbeing": "Wellbeing and self-care",
    "campus_resources": "Campus resources",
    "referral": "Referred to staff",
}
CONTACT_MINUTES_MAX = 600


class MentorContact(db.Model):
    """A peer mentor's log of one contact with a mentee: facts only, no clinical notes."""

    __tablename__ = "mentor_contacts"
    __table_args__ = (
        CheckConstraint(
            "mode IN (" + ", ".join(f"'{m}'" for m in CONTACT_MODE_LABELS) + ")",
            name="mode_known",
        ),
        CheckConstraint(f"minutes BETWEEN 1 AND {CONTACT_MINUTES_MAX}", name="minutes_range"),
        Index("ix_mentor_contacts_mentee_date", "mentee_id", "contact_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_date: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[int] = mapped_column(Integer)
    topics: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mentor = relationship("User", foreign_keys=[mentor_id])
    mentee = relationship("User", foreign_keys=[mentee_id])

    @property
    def topic_codes(self) -> list[str]:
        return [code for code in self.topics.split(",") if code]

    @property
    def topic_labels(self) -> list[str]:
        return [CONTACT_TOPIC_LABELS.get(code, code) for code in self.topic_codes]

    @property
    def mode_label(self) -> str:
        return CONTACT_MODE_LABELS[self.mode]
