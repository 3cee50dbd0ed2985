"""Academic terms and the periods inside them (finals, breaks, move-in…)."""

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.extensions import db

PERIOD_KINDS = {
    "classes_start": "Classes start",
    "add_drop": "Add/drop",
    "midterms": "Midterms",
    "finals": "Finals",
    "break": "Break",
    "move_in": "Move-in",
    "move_out": "Move-out",
    "graduation": "Graduation",
    "other": "Other",
}


class Term(db.Model):
    __tablename__ = "terms"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)

    periods = relationship(
        "CalendarPeriod",
        back_populates="term",
        cascade="all, delete-orphan",
        order_by="(CalendarPeriod.starts_on, CalendarPeriod.id)",
    )

    def __repr__(self) -> str:
        return f"<Term {self.name}>"


class CalendarPeriod(db.Model):
    """A stretch of a term; `source_uid` is the UID of the registrar's .ics event it was
    imported from, so importing the same feed again changes nothing."""

    __tablename__ = "calendar_periods"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in PERIOD_KINDS) + ")",
            name="kind_known",
        ),
        Index("ix_calendar_periods_kind_starts_on", "kind", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    source_uid: Mapped[str | None] = mapped_column(String(255), unique=True)

    term = relationship("Term", back_populates="periods")

    @property
    def kind_label(self) -> str:
        return PERIOD_KINDS[self.kind]
