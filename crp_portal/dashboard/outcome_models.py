"""Registrar records: one member's academic outcome for one term, uploaded by staff.

Only rows whose student id matched a member are stored; the rest of a registrar's file
never reaches the database. The records feed aggregates only (`outcomes.py`): no page
shows one person's GPA.
"""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Numeric, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User
    from crp_portal.terms.models import Term

GPA_MAX = Decimal("5")  # covers 4.0, 4.3 and 5.0 scales
CREDITS_MAX = Decimal("60")


class RegistrarRecord(Model):
    """A member's term GPA (empty when the term earned no grade points), credits earned,
    and whether they were enrolled the next term or graduated at its end."""

    __tablename__ = "registrar_records"
    __table_args__ = (
        UniqueConstraint("user_id", "term_id", name="uq_registrar_records_user_term"),
        CheckConstraint("term_gpa IS NULL OR (term_gpa >= 0 AND term_gpa <= 5)", name="gpa_range"),
        CheckConstraint("credits >= 0 AND credits <= 60", name="credits_range"),
        CheckConstraint("NOT (enrolled_next_term AND graduated)", name="enrolled_or_graduated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    term_gpa: Mapped[float | None] = mapped_column(Numeric(4, 3, asdecimal=False))
    credits: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False))
    enrolled_next_term: Mapped[bool] = mapped_column(Boolean)
    graduated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    term: Mapped["Term"] = relationship()
    uploaded_by: Mapped["User | None"] = relationship(foreign_keys=[uploaded_by_id])
