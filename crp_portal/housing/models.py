"""Recovery housing: houses, rooms and beds; the versioned house agreement; applications."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User
    from crp_portal.terms.models import Term


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


APPLICATION_STATUSES: dict[str, str] = {
    ApplicationStatus.SUBMITTED: "Submitted",
    ApplicationStatus.WAITLISTED: "Waitlisted",
    ApplicationStatus.OFFERED: "Offered a bed",
    ApplicationStatus.ACCEPTED: "Accepted",
    ApplicationStatus.DECLINED: "Declined",
    ApplicationStatus.WITHDRAWN: "Withdrawn",
    ApplicationStatus.EXPIRED: "Offer expired",
}
OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.WAITLISTED)


class House(Model):
    __tablename__ = "houses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    meeting_schedule: Mapped[str] = mapped_column(String(300), default="")
    who_may_live: Mapped[str] = mapped_column(String(80), default="All genders")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    rooms: Mapped[list["Room"]] = relationship(
        back_populates="house", order_by="Room.name", cascade="all, delete-orphan"
    )


class Room(Model):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("house_id", "name", name="uq_rooms_house_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))

    house: Mapped[House] = relationship(back_populates="rooms")
    beds: Mapped[list["Bed"]] = relationship(
        back_populates="room", order_by="Bed.label", cascade="all, delete-orphan"
    )


class Bed(Model):
    __tablename__ = "beds"
    __table_args__ = (UniqueConstraint("room_id", "label", name="uq_beds_room_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    accessible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    room: Mapped[Room] = relationship(back_populates="beds")


class HouseAgreement(Model):
    """Each edit is a new version; an application keeps the version its student agreed to."""

    __tablename__ = "house_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class HousingApplication(Model):
    __tablename__ = "housing_applications"
    __table_args__ = (
        UniqueConstraint("term_id", "student_id", name="uq_housing_applications_term_student"),
        CheckConstraint(values_check("status", ApplicationStatus), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    first_choice_id: Mapped[int | None] = mapped_column(
        ForeignKey("houses.id", ondelete="SET NULL")
    )
    second_choice_id: Mapped[int | None] = mapped_column(
        ForeignKey("houses.id", ondelete="SET NULL")
    )
    roommate_request: Mapped[str] = mapped_column(String(200), default="")
    accessibility_needs: Mapped[str] = mapped_column(Text, default="")
    move_in_wish: Mapped[date | None] = mapped_column(Date)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("house_agreements.id"))
    agreement_acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=ApplicationStatus.SUBMITTED, index=True)
    decision_note: Mapped[str | None] = mapped_column(String(300))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    term: Mapped["Term"] = relationship()
    student: Mapped["User"] = relationship()
    first_choice: Mapped[House | None] = relationship(foreign_keys=[first_choice_id])
    second_choice: Mapped[House | None] = relationship(foreign_keys=[second_choice_id])
    agreement: Mapped[HouseAgreement] = relationship()

    @property
    def status_label(self) -> str:
        return APPLICATION_STATUSES[self.status]

    @property
    def is_open(self) -> bool:
        """Submitted or waitlisted: staff may still offer a bed or decline."""
        return self.status in OPEN_STATUSES

    @property
    def is_submitted(self) -> bool:
        return self.status == ApplicationStatus.SUBMITTED


class AssignmentStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    ENDED = "ended"


HOLDS_BED = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)
ASSIGNMENT_STATUSES: dict[str, str] = {
    AssignmentStatus.OFFERED: "Offered",
    AssignmentStatus.ACCEPTED: "Accepted",
    AssignmentStatus.DECLINED: "Declined",
    AssignmentStatus.EXPIRED: "Expired",
    AssignmentStatus.ENDED: "Ended",
}
_LIVE = values_check("status", HOLDS_BED)


class BedAssignment(Model):
    """A bed offered to, or held by, a student for a term.

    Partial unique indexes let only one live (offered or accepted) row exist per
    (bed, term) and per (student, term): the database, not the code, prevents a
    bed going to two people or a person holding two beds.
    """

    __tablename__ = "bed_assignments"
    __table_args__ = (
        CheckConstraint(values_check("status", AssignmentStatus), name="status_known"),
        CheckConstraint(
            "move_out_on IS NULL OR move_in_on IS NULL OR move_out_on > move_in_on",
            name="move_out_after_move_in",
        ),
        Index(
            "uq_bed_assignments_live_bed_term",
            "bed_id",
            "term_id",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
        Index(
            "uq_bed_assignments_live_student_term",
            "student_id",
            "term_id",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("housing_applications.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(10))
    reply_by: Mapped[date] = mapped_column(Date)
    move_in_on: Mapped[date | None] = mapped_column(Date)
    move_out_on: Mapped[date | None] = mapped_column(Date)
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bed: Mapped[Bed] = relationship()
    student: Mapped["User"] = relationship(foreign_keys=[student_id])
    application: Mapped[HousingApplication | None] = relationship()
    term: Mapped["Term"] = relationship()

    @property
    def status_label(self) -> str:
        return ASSIGNMENT_STATUSES[self.status]

    @property
    def is_offered(self) -> bool:
        return self.status == AssignmentStatus.OFFERED

    @property
    def is_accepted(self) -> bool:
        """The student lives there (or will, from `move_in_on`)."""
        return self.status == AssignmentStatus.ACCEPTED


class ConditionKind(StrEnum):
    MOVE_IN = "move_in"
    MOVE_OUT = "move_out"


CONDITION_KINDS: dict[str, str] = {
    ConditionKind.MOVE_IN: "Move-in",
    ConditionKind.MOVE_OUT: "Move-out",
}
STUDENT_NOTE_WINDOW_HOURS = 48


class ConditionReport(Model):
    """The room's condition at move-in or move-out; the resident may add to it for 48 hours."""

    __tablename__ = "condition_reports"
    __table_args__ = (
        UniqueConstraint("assignment_id", "kind", name="uq_condition_reports_assignment_kind"),
        CheckConstraint(values_check("kind", ConditionKind), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("bed_assignments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    items: Mapped[str] = mapped_column(Text)
    staff_notes: Mapped[str] = mapped_column(Text, default="")
    student_notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    student_added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[BedAssignment] = relationship()

    @property
    def kind_label(self) -> str:
        return CONDITION_KINDS[self.kind]
