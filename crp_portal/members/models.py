"""A student's membership in the program.

Recovery items (the plan, support network, check-ins, follow-ups) live in
`crp_portal.recovery`, peer mentoring's contact log in `crp_portal.mentoring`; the audit
trail of who opened whose record lives in `crp_portal.audit`.
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
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User


class MemberStatus(StrEnum):
    APPLICANT = "applicant"
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    ALUMNI = "alumni"
    INACTIVE = "inactive"


STATUSES = tuple(MemberStatus)
# How long before an event or appointment a student's calendar reminds them (None: no
# reminder). Everyone without a profile (advisors, staff) gets the default.
DEFAULT_CALENDAR_REMINDER_MINUTES = 60
CALENDAR_REMINDER_LABELS = {
    None: "Off",
    15: "15 minutes before",
    60: "1 hour before",
    1440: "1 day before",
}
STATUS_LABELS: dict[str, str] = {
    MemberStatus.APPLICANT: "Applicant",
    MemberStatus.ACTIVE: "Active",
    MemberStatus.ON_LEAVE: "On leave",
    MemberStatus.ALUMNI: "Alumni",
    MemberStatus.INACTIVE: "Inactive",
}


class MemberProfile(Model):
    __tablename__ = "member_profiles"
    __table_args__ = (
        CheckConstraint(values_check("status", MemberStatus), name="status_known"),
        CheckConstraint("class_year BETWEEN 1950 AND 2100", name="class_year_plausible"),
        CheckConstraint("mentor_id IS NULL OR mentor_id <> user_id", name="not_own_mentor"),
        CheckConstraint(
            "calendar_reminder_minutes BETWEEN 0 AND 40320", name="calendar_reminder_plausible"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    preferred_name: Mapped[str | None] = mapped_column(String(80))
    pronouns: Mapped[str | None] = mapped_column(String(40))
    student_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.APPLICANT, index=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    joined_on: Mapped[date | None] = mapped_column(Date)
    show_first_name_to_peers: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    show_real_titles: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    calendar_reminder_minutes: Mapped[int | None] = mapped_column(
        Integer,
        default=DEFAULT_CALENDAR_REMINDER_MINUTES,
        server_default=text(str(DEFAULT_CALENDAR_REMINDER_MINUTES)),
    )
    share_network_with_staff: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    share_plan_with_staff: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    share_check_ins_with_staff: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    major: Mapped[str | None] = mapped_column(String(120))
    class_year: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(40))
    recovery_date: Mapped[date | None] = mapped_column(Date)
    is_peer_mentor: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The advisor staff assigned to this student: the advisor may find and book for them.
    advisor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped["User"] = relationship(back_populates="profile", foreign_keys=[user_id])
    mentor: Mapped["User | None"] = relationship(foreign_keys=[mentor_id])
    advisor: Mapped["User | None"] = relationship(foreign_keys=[advisor_id])

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_applicant(self) -> bool:
        return self.status == MemberStatus.APPLICANT

    @property
    def is_active_member(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class StatusChange(Model):
    """Membership status history: who moved the student from what to what, and when."""

    __tablename__ = "member_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped["User | None"] = relationship(foreign_keys=[changed_by_id])

    @property
    def to_label(self) -> str:
        return STATUS_LABELS[self.to_status]

    @property
    def from_label(self) -> str:
        return STATUS_LABELS[self.from_status] if self.from_status else "—"


class ProgramAgreement(Model):
    """The program agreement applicants acknowledge; each edit is a new version."""

    __tablename__ = "program_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class IntakeStatus(StrEnum):
    SUBMITTED = "submitted"
    CONVERSATION = "conversation"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


APPLICATION_STATUS_LABELS: dict[str, str] = {
    IntakeStatus.SUBMITTED: "Waiting for review",
    IntakeStatus.CONVERSATION: "Staff asked for a conversation",
    IntakeStatus.ACCEPTED: "Accepted",
    IntakeStatus.DECLINED: "Declined",
    IntakeStatus.WITHDRAWN: "Withdrawn",
}
OPEN_APPLICATION_STATUSES = (IntakeStatus.SUBMITTED, IntakeStatus.CONVERSATION)
_OPEN_APPLICATION = values_check("status", OPEN_APPLICATION_STATUSES)
HEARD_FROM_LABELS = {
    "friend": "A friend or another student",
    "counseling": "Counseling or health services",
    "treatment": "A treatment provider",
    "orientation": "Orientation or a campus event",
    "website": "The program's website or social media",
    "staff": "Faculty or staff",
    "other": "Somewhere else",
}


class IntakeApplication(Model):
    """A student's application to join the program, reviewed by staff."""

    __tablename__ = "intake_applications"
    __table_args__ = (
        CheckConstraint(values_check("status", IntakeStatus), name="status_known"),
        CheckConstraint(values_check("heard_from", HEARD_FROM_LABELS), name="heard_from_known"),
        Index(
            "uq_intake_applications_open_student",
            "student_id",
            unique=True,
            sqlite_where=text(_OPEN_APPLICATION),
            postgresql_where=text(_OPEN_APPLICATION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    goals: Mapped[str] = mapped_column(Text)
    heard_from: Mapped[str] = mapped_column(String(16))
    heard_from_detail: Mapped[str] = mapped_column(String(200), default="")
    agreement_id: Mapped[int] = mapped_column(ForeignKey("program_agreements.id"))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=IntakeStatus.SUBMITTED, index=True)
    staff_note: Mapped[str] = mapped_column(String(1000), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    student: Mapped["User"] = relationship(foreign_keys=[student_id])
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id])
    agreement: Mapped[ProgramAgreement] = relationship()

    @property
    def status_label(self) -> str:
        return APPLICATION_STATUS_LABELS[self.status]

    @property
    def heard_from_label(self) -> str:
        return HEARD_FROM_LABELS[self.heard_from]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPLICATION_STATUSES


# The categories of nudges: each campaign is filed under one (`campaigns.category`).
EMAIL_CATEGORY_LABELS = {
    "events": "This week's meetings and sober events",
    "academic": "Exam, deadline and term reminders",
    "housing": "Recovery housing news",
    "wellbeing": "Check-in reminders and wellbeing tips",
}
# Email about the person's own plans that they may still stop, though no campaign sends
# it: kept out of the nudge categories, so no campaign can be filed under it.
EVENT_REMINDERS = "event_reminders"
NOTICE_CATEGORY_LABELS = {EVENT_REMINDERS: "Reminders before events you're going to"}
# Everything a student can opt out of: nudge categories, then those notices.
OPT_OUT_CATEGORY_LABELS = {**EMAIL_CATEGORY_LABELS, **NOTICE_CATEGORY_LABELS}


class EmailOptOut(Model):
    """A category of program email the student chose not to receive (transactional mail
    such as booking confirmations and change notices is not optional)."""

    __tablename__ = "email_opt_outs"
    __table_args__ = (
        CheckConstraint(values_check("category", OPT_OUT_CATEGORY_LABELS), name="category_known"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
