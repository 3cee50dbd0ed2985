"""Academic terms and their calendar periods, which events, housing and nudges hang on."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal.errors import Conflict, DomainError, NotFound, check_date_bounds
from crp_portal.extensions import db
from crp_portal.terms.models import (
    BETWEEN_TERMS,
    PERIOD_KINDS,
    CalendarPeriod,
    Term,
    fits_term,
)


class DateRangeError(DomainError):
    """An end before a start, or a period outside its term."""


def _check_range(starts_on: date, ends_on: date) -> None:
    check_date_bounds(starts_on, ends_on)
    if ends_on < starts_on:
        raise DateRangeError("The end date must be on or after the start date.")


def list_terms() -> list[Term]:
    return list(db.session.scalars(select(Term).order_by(Term.starts_on.desc())))


def get_term(term_id: int) -> Term:
    term = db.session.scalar(
        select(Term).where(Term.id == term_id).options(selectinload(Term.periods))
    )
    if term is None:
        raise NotFound("There is no term with that number.")
    return term


def current_term(today: date) -> Term | None:
    """The term under way today, or else the next one to start."""
    running = db.session.scalar(
        select(Term).where(Term.starts_on <= today, Term.ends_on >= today).order_by(Term.starts_on)
    )
    if running is not None:
        return running
    return db.session.scalar(
        select(Term).where(Term.starts_on > today).order_by(Term.starts_on).limit(1)
    )


def _save_term(term: Term) -> Term:
    try:
        with db.session.begin_nested():
            db.session.add(term)
    except IntegrityError as error:
        raise Conflict(f"A term named “{term.name}” already exists.") from error
    return term


def create_term(name: str, starts_on: date, ends_on: date) -> Term:
    _check_range(starts_on, ends_on)
    return _save_term(Term(name=name.strip(), starts_on=starts_on, ends_on=ends_on))


def update_term(term: Term, name: str, starts_on: date, ends_on: date) -> Term:
    _check_range(starts_on, ends_on)
    outside = [
        p for p in term.periods if not fits_term(starts_on, ends_on, p.kind, p.starts_on, p.ends_on)
    ]
    if outside:
        raise DateRangeError(
            f"“{outside[0].name}” would fall outside the term. Move or delete it first."
        )
    term.name, term.starts_on, term.ends_on = name.strip(), starts_on, ends_on
    return _save_term(term)


def delete_term(term: Term) -> None:
    db.session.delete(term)
    db.session.flush()


def _check_period(term: Term, kind: str, starts_on: date, ends_on: date) -> None:
    if kind not in PERIOD_KINDS:
        raise DomainError("Choose one of the listed kinds of period.")
    _check_range(starts_on, ends_on)
    if not term.holds_period(kind, starts_on, ends_on):
        raise DateRangeError(
            f"The dates must touch the term ({term.starts_on:%d %b %Y} – "
            f"{term.ends_on:%d %b %Y}); a break or holiday may also start in the "
            f"{BETWEEN_TERMS.days // 7} weeks after it. Check the year."
        )


def add_period(term: Term, kind: str, name: str, starts_on: date, ends_on: date) -> CalendarPeriod:
    _check_period(term, kind, starts_on, ends_on)
    period = CalendarPeriod(
        term=term,
        kind=kind,
        name=name.strip() or PERIOD_KINDS[kind],
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(period)
    db.session.flush()
    return period


def get_period(period_id: int) -> CalendarPeriod:
    period = db.session.get(CalendarPeriod, period_id)
    if period is None:
        raise NotFound("There is no calendar period with that number.")
    return period


def update_period(
    period: CalendarPeriod, kind: str, name: str, starts_on: date, ends_on: date
) -> CalendarPeriod:
    _check_period(period.term, kind, starts_on, ends_on)
    period.kind = kind
    period.name = name.strip() or PERIOD_KINDS[kind]
    period.starts_on, period.ends_on = starts_on, ends_on
    db.session.flush()
    return period


def delete_period(period: CalendarPeriod) -> None:
    db.session.delete(period)
    db.session.flush()
