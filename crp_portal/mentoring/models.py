"""Peer mentoring's contact log. Who mentors whom lives on the member profile
(`MemberProfile.is_peer_mentor`, `MemberProfile.mentor_id`)."""

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User

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


class MentorContact(Model):
    """A peer mentor's log of one contact with a mentee: facts only, no clinical notes."""

    __tablename__ = "mentor_contacts"
    __table_args__ = (
        CheckConstraint(values_check("mode", CONTACT_MODE_LABELS), name="mode_known"),
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

    mentor: Mapped["User | None"] = relationship(foreign_keys=[mentor_id])
    mentee: Mapped["User"] = relationship(foreign_keys=[mentee_id])

    @property
    def topic_codes(self) -> list[str]:
        return [code for code in self.topics.split(",") if code]

    @property
    def topic_labels(self) -> list[str]:
        return [CONTACT_TOPIC_LABELS.get(code, code) for code in self.topic_codes]

    @property
    def mode_label(self) -> str:
        return CONTACT_MODE_LABELS[self.mode]
