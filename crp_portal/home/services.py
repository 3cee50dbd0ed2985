"""What each role sees first, and whether the portal can reach its database."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from crp_portal.extensions import db
from crp_portal.terms.models import CalendarPeriod, Term
from crp_portal.terms.services import current_term


@dataclass(frozen=True)
class TermOutlook:
    term: Term | None
    coming_up: list[CalendarPeriod]


def term_outlook(today: date, limit: int = 5) -> TermOutlook:
    """The current term and its periods that have not ended yet, soonest first."""
    term = current_term(today)
    if term is None:
        return TermOutlook(None, [])
    periods = db.session.scalars(
        select(CalendarPeriod)
        .where(CalendarPeriod.term_id == term.id, CalendarPeriod.ends_on >= today)
        .order_by(CalendarPeriod.starts_on, CalendarPeriod.id)
        .limit(limit)
    )
    return TermOutlook(term, list(periods))


def database_reachable() -> bool:
    """One round trip on a pooled connection. Not through the ORM session: a load balancer
    asks every few seconds, so the answer should cost little more than the query."""
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
        return False
    return True
