"""Academic terms and the periods inside them (finals, breaks, move-in…)."""

from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.database import values_check
from crp_portal.extensions import Model


class PeriodKind(StrEnum):
    CLASSES_START = "classes_start"
    ADD_DROP = "add_drop"
    MIDTERMS = "midterms"
    FINALS = "finals"
    BREAK = "break"
    HOLIDAY = "holiday"
    READING_DAYS = "reading_days"
    MOVE_IN = "move_in"
    MOVE_OUT = "move_out"
    GRADUATION = "graduation"
    OTHER = "other"


PERIOD_KINDS: dict[str, str] = {
    PeriodKind.CLASSES_START: "Classes start",
    PeriodKind.ADD_DROP: "Add/drop",
    PeriodKind.MIDTERMS: "Midterms",
    PeriodKind.FINALS: "Finals",
    PeriodKind.BREAK: "Break",
    PeriodKind.HOLIDAY: "Holiday",
    PeriodKind.READING_DAYS: "Reading days",
    PeriodKind.MOVE_IN: "Move-in",
    PeriodKind.MOVE_OUT: "Move-out",
    PeriodKind.GRADUATION: "Graduation",
    PeriodKind.OTHER: "Other",
}


# Days no weekly series meets on (unless staff say otherwise) and, for breaks and
# holidays, days advisors are closed unless they open one (`terms.closed_days`).
SERIES_SKIPS = (PeriodKind.BREAK, PeriodKind.HOLIDAY, PeriodKind.READING_DAYS)
ADVISING_CLOSED = (PeriodKind.BREAK, PeriodKind.HOLIDAY)
# A winter break or a holiday in it often falls between two terms; such a period may
# start up to this long after the term it is filed under ends.
BETWEEN_TERMS = timedelta(weeks=8)


class Term(Model):
    __tablename__ = "terms"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)

    periods: Mapped[list["CalendarPeriod"]] = relationship(
        back_populates="term",
        cascade="all, delete-orphan",
        order_by="(CalendarPeriod.starts_on, CalendarPeriod.id)",
    )

    def __repr__(self) -> str:
        return f"<Term {self.name}>"

    def holds_period(self, kind: str, starts_on: date, ends_on: date) -> bool:
        return fits_term(self.starts_on, self.ends_on, kind, starts_on, ends_on)


def fits_term(term_start: date, term_end: date, kind: str, starts_on: date, ends_on: date) -> bool:
    """A period touches its term, or is a break, holiday or reading days starting in the
    weeks after it (the winter break, and Dec 25 and Jan 1 inside it)."""
    if starts_on <= term_end and ends_on >= term_start:
        return True
    return kind in SERIES_SKIPS and term_end < starts_on <= term_end + BETWEEN_TERMS


class CalendarPeriod(Model):
    """A stretch of a term; `source_uid` is the UID of the registrar's .ics event it was
    imported from, so importing the same feed again changes nothing."""

    __tablename__ = "calendar_periods"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint(values_check("kind", PeriodKind), name="kind_known"),
        Index("ix_calendar_periods_kind_starts_on", "kind", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    source_uid: Mapped[str | None] = mapped_column(String(255), unique=True)

    term: Mapped[Term] = relationship(back_populates="periods")

    @property
    def kind_label(self) -> str:
        return PERIOD_KINDS[self.kind]
