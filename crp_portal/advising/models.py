"""Advisor availability, appointments, and the time cells that make double booking impossible."""

from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User

TOPICS = {
    "course_planning": "Course planning",
    "registration": "Registration",
    "withdrawal": "Withdrawal or incomplete",
    "standing": "Academic standing or probation",
    "study_skills": "Study skills",
    "returning": "Returning from leave",
    "other": "Something else",
}
MODES = {"in_person": "In person", "video": "Video call", "phone": "Phone call"}


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


STATUS_LABELS: dict[str, str] = {
    AppointmentStatus.BOOKED: "Booked",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.NO_SHOW: "No-show",
    AppointmentStatus.CANCELLED: "Cancelled",
}
CELL_MINUTES = 5


class AdvisorSettings(Model):
    __tablename__ = "advisor_settings"
    __table_args__ = (
        CheckConstraint("slot_minutes BETWEEN 10 AND 240", name="slot_length"),
        CheckConstraint("slot_minutes % 5 = 0", name="slot_multiple_of_5"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 120", name="buffer_length"),
        CheckConstraint("buffer_minutes % 5 = 0", name="buffer_multiple_of_5"),
        CheckConstraint("min_notice_hours BETWEEN 0 AND 336", name="notice_range"),
        CheckConstraint("horizon_days BETWEEN 1 AND 180", name="horizon_range"),
        CheckConstraint("max_per_day IS NULL OR max_per_day >= 1", name="max_per_day_positive"),
    )

    advisor_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_hours: Mapped[int] = mapped_column(Integer, default=12)
    horizon_days: Mapped[int] = mapped_column(Integer, default=30)
    max_per_day: Mapped[int | None] = mapped_column(Integer)


class AvailabilityWindow(Model):
    """A weekly window in the program's local time, e.g. Tuesdays 9:00–12:00 in person."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint(values_check("mode", MODES), name="mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    mode: Mapped[str] = mapped_column(String(12))
    place: Mapped[str] = mapped_column(String(300))

    @property
    def mode_label(self) -> str:
        return MODES[self.mode]


class DayOff(Model):
    __tablename__ = "advisor_days_off"
    __table_args__ = (UniqueConstraint("advisor_id", "day", name="uq_advisor_days_off_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(120))


class OpenedDay(Model):
    """A day the academic calendar closes (a break or a holiday) that the advisor opened
    for booking anyway; removing the row closes the day again."""

    __tablename__ = "advisor_opened_days"
    __table_args__ = (UniqueConstraint("advisor_id", "day", name="uq_advisor_opened_days_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppointmentLabels:
    """How pages name an appointment's topic and status: shared by the model and by the
    plain rows lists read (`lists.Listed`)."""

    __slots__ = ()

    if TYPE_CHECKING:
        topic: str
        status: str

    @property
    def topic_label(self) -> str:
        return TOPICS[self.topic]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


class Appointment(AppointmentLabels, Model):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(values_check("status", AppointmentStatus), name="status_known"),
        CheckConstraint(values_check("topic", TOPICS), name="topic_known"),
        CheckConstraint(values_check("mode", MODES), name="mode_known"),
        # An advisor's week and their sessions awaiting an outcome, without reading
        # their whole history:
        Index("ix_appointments_advisor_starts_at", "advisor_id", "starts_at"),
        Index("ix_appointments_advisor_status_starts_at", "advisor_id", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    topic: Mapped[str] = mapped_column(String(20))
    student_note: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(12))
    place: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default=AppointmentStatus.BOOKED)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    private_notes: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    action_items: Mapped[str] = mapped_column(Text, default="")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the student opened the summary or action items (their home lists them until
    # then); cleared when the advisor changes either.
    summary_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    advisor: Mapped["User"] = relationship(foreign_keys=[advisor_id])
    student: Mapped["User"] = relationship(foreign_keys=[student_id])
    cancelled_by: Mapped["User | None"] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def is_booked(self) -> bool:
        return self.status == AppointmentStatus.BOOKED

    @property
    def is_cancelled(self) -> bool:
        return self.status == AppointmentStatus.CANCELLED

    @property
    def mode_label(self) -> str:
        return MODES[self.mode]


class AppointmentCell(Model):
    """Five-minute cells an active appointment covers, one row per cell.

    Unique per advisor and per student, so two bookings that overlap by even one
    cell cannot both be saved: the database itself forbids double booking.
    """

    __tablename__ = "appointment_cells"
    __table_args__ = (
        UniqueConstraint("advisor_id", "cell_start", name="uq_appointment_cells_advisor"),
        UniqueConstraint("student_id", "cell_start", name="uq_appointment_cells_student"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    advisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    cell_start: Mapped[datetime] = mapped_column(UTCDateTime)
