"""Who a campaign speaks to, as SQL: each audience is a condition on `users` joined to
`member_profiles`, so planning asks the database for a set, never loops over members.

Every audience is made of reachable, active members: an account that can sign in, not
erased, with membership status "active". Alumni, applicants and members on leave get
no program nudges.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.housing.models import AssignmentStatus, BedAssignment
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.nudges.models import Audience
from crp_portal.terms.models import Term
from crp_portal.terms.services import current_term
from crp_portal.timeutil import EARLIEST_DATE, LATEST_DATE, in_date_bounds, local_midnight

FIRST_TERM_LEAD_DAYS = 30  # joining this close before a term makes it the member's first
ADVISING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)


@dataclass(frozen=True)
class TermWindow:
    """The current term with its first and last moments, as UTC instants."""

    term: Term
    starts_at: datetime
    ends_at: datetime  # exclusive: midnight after the last day

    @property
    def id(self) -> int:
        return self.term.id


def term_window(today: date) -> TermWindow | None:
    """The term under way today, or else the next one to start (None with no terms, or
    when that term's dates are unusable: see `unusable_term`)."""
    term = current_term(today)
    if term is None or not in_date_bounds(term.starts_on, term.ends_on):
        return None
    return TermWindow(
        term, local_midnight(term.starts_on), local_midnight(term.ends_on + timedelta(days=1))
    )


def unusable_term(today: date) -> str:
    """What to tell staff when the current term is saved with dates outside the years a
    program can use (stored before dates were bounded, say 0001 to 9999): its weeks mean
    nothing and its date sums overflow, so campaigns that count from the term skip it."""
    term = current_term(today)
    if term is None or in_date_bounds(term.starts_on, term.ends_on):
        return ""
    return (
        f"The current term, {term.name}, is saved with dates outside "
        f"{EARLIEST_DATE.year}–{LATEST_DATE.year} ({term.starts_on.isoformat()} to "
        f"{term.ends_on.isoformat()}), so campaigns and audiences that count from the term "
        "skip it. Correct the term's dates under Terms."
    )


def active_member() -> ColumnElement[bool]:
    return and_(User.active, User.erased_at.is_(None), MemberProfile.status == MemberStatus.ACTIVE)


def joined_for(window: TermWindow) -> ColumnElement[bool]:
    """Joined during the term or in the month before it: this is their first term."""
    term = window.term
    return MemberProfile.joined_on.between(
        term.starts_on - timedelta(days=FIRST_TERM_LEAD_DAYS), term.ends_on
    )


def has_advising(window: TermWindow) -> ColumnElement[bool]:
    """A booked or completed appointment starting within the term."""
    return (
        exists()
        .where(
            Appointment.student_id == User.id,
            Appointment.status.in_(ADVISING_STATUSES),
            Appointment.starts_at >= window.starts_at,
            Appointment.starts_at < window.ends_at,
        )
        .correlate(User)
    )


def lives_in_housing(window: TermWindow, today: date) -> ColumnElement[bool]:
    # Correlated on users only: the move-in trigger joins bed_assignments itself.
    return (
        exists()
        .where(
            BedAssignment.student_id == User.id,
            BedAssignment.term_id == window.id,
            BedAssignment.status == AssignmentStatus.ACCEPTED,
            or_(BedAssignment.move_out_on.is_(None), BedAssignment.move_out_on > today),
        )
        .correlate(User)
    )


def condition(audience: str, window: TermWindow | None, today: date) -> ColumnElement[bool]:
    """The audience as a WHERE clause over `users` joined to `member_profiles`."""
    base = active_member()
    if audience == Audience.ACTIVE_MEMBERS:
        return base
    if audience == Audience.PEER_MENTORS:
        return and_(base, MemberProfile.is_peer_mentor)
    if window is None:  # the other audiences are defined by a term
        return false()
    if audience == Audience.RESIDENTS:
        return and_(base, lives_in_housing(window, today))
    if audience == Audience.FIRST_TERM_MEMBERS:
        return and_(base, joined_for(window))
    if audience == Audience.NO_ADVISING_THIS_TERM:
        return and_(base, ~has_advising(window))
    raise ValueError(f"unknown audience {audience!r}")


def members():
    """`SELECT users.id FROM users JOIN member_profiles`, to add conditions and columns to."""
    return select(User.id.label("user_id")).join(MemberProfile, MemberProfile.user_id == User.id)
