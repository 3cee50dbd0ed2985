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
    """One query on a pooled connection, through the database driver alone: a load
    balancer asks every few seconds, and the ORM session and SQLAlchemy's transaction
    around a `SELECT 1` cost more than the query did. A connection that fails it is
    dropped from the pool, as SQLAlchemy would drop it."""
    engine = db.engine
    driver_error = engine.dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()  # may reconnect (pool_pre_ping), or raise
    except (SQLAlchemyError, driver_error):
        return False
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            cursor.close()
    except driver_error:
        connection.invalidate()
        return False
    finally:
        connection.close()
    return True
