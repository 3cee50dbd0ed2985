"""When a campaign fires, as SQL: each trigger turns today into zero or more *sources* —
one SELECT of the audience's members who are due, with the key that names this
occurrence of the trigger (so the outbox's unique key stops a second message).

Occurrence keys: "period:<id>" (a period trigger, or the break someone is back from),
"term:<id>" (first week of a first term, no advising by week N), "assignment:<id>"
(move-in), "inactive:<local date of the last activity>" (so someone who comes back
and drifts away again is due again).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, cast, func, literal, select, union_all

from crp_portal.advising.models import Appointment
from crp_portal.auth.models import User
from crp_portal.events.models import Attendance, Rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import AssignmentStatus, BedAssignment
from crp_portal.nudges import audiences
from crp_portal.nudges.models import Anchor, Campaign, Trigger
from crp_portal.recovery.models import CheckIn
from crp_portal.terms.closed_days import closed_days
from crp_portal.terms.models import ADVISING_CLOSED, CalendarPeriod, PeriodKind
from crp_portal.timeutil import format_date, local_midnight, to_local

FIRST_WEEK_DAYS = 7


@dataclass(frozen=True)
class Source:
    """Members due for one occurrence (or, for inactivity, one per person).

    `query` selects `user_id` from users ⋈ member_profiles with the audience and the
    trigger applied; `key` is a column to add to it: the occurrence itself, or for
    inactivity the moment of the last activity (`by_time`), from which the occurrence
    is derived and against which "already nudged since then" is checked.
    """

    query: Select
    key: ColumnElement
    occurrence: Callable[[Any], str]
    why: Callable[[Any], str]
    by_time: bool = False


def sources(
    campaign: Campaign, today: date, now: datetime, window: audiences.TermWindow | None
) -> list[Source]:
    members = audiences.members().where(audiences.condition(campaign.audience, window, today))
    build = _BUILDERS[campaign.trigger]
    return build(campaign, members, today, now, window)


def _fixed(members: Select, occurrence: str, why: str) -> Source:
    """Everyone in `members` is due for the same occurrence."""
    return Source(members, literal(occurrence, String), lambda key: key, lambda _key: why)


def _period_name(period: CalendarPeriod) -> str:
    return period.name or period.kind_label


def _when(offset: int) -> str:
    if offset == 0:
        return "today"
    days = "day" if abs(offset) == 1 else "days"
    return f"in {-offset} {days}" if offset < 0 else f"{offset} {days} ago"


def _period(campaign, members, today, now, window) -> list[Source]:
    """N days before/after (offset_days, negative = before) a period of a kind starts or ends."""
    ends = campaign.anchor == Anchor.END
    anchor = CalendarPeriod.ends_on if ends else CalendarPeriod.starts_on
    target = today - timedelta(days=campaign.offset_days)
    periods = db.session.scalars(
        select(CalendarPeriod)
        .where(CalendarPeriod.kind == campaign.period_kind, anchor == target)
        .order_by(CalendarPeriod.id)
    ).all()
    verb = "ends" if ends else "starts"
    if campaign.offset_days > 0:
        verb = "ended" if ends else "started"
    return [
        _fixed(
            members,
            f"period:{period.id}",
            f"{_period_name(period)} {verb} {_when(campaign.offset_days)} ({format_date(target)})",
        )
        for period in periods
    ]


def _first_term_week(campaign, members, today, now, window) -> list[Source]:
    """The first seven days of the term that is the member's first (see audiences.joined_for)."""
    if window is None:
        return []
    term = window.term
    if not term.starts_on <= today < term.starts_on + timedelta(days=FIRST_WEEK_DAYS):
        return []
    due = members.where(audiences.joined_for(window))
    return [_fixed(due, f"term:{term.id}", f"first week of {term.name}, their first term")]


def _move_in(campaign, members, today, now, window) -> list[Source]:
    """Today is the move-in date of the member's accepted bed."""
    due = members.join(BedAssignment, BedAssignment.student_id == User.id).where(
        BedAssignment.status == AssignmentStatus.ACCEPTED, BedAssignment.move_in_on == today
    )
    key = literal("assignment:", String) + cast(BedAssignment.id, String)
    return [Source(due, key, lambda key: key, lambda _key: "moves into recovery housing today")]


BACK_LOOKS_BACK = 14  # days of holidays right after a break that can put off "back"


def _back_from_break(campaign, members, today, now, window) -> list[Source]:
    """Today is the first day after a break that is not itself a holiday or break day:
    a break that ends the day before MLK Day has its first day back the day after."""
    closed = closed_days(today - timedelta(days=BACK_LOOKS_BACK), today, ADVISING_CLOSED)
    if today in closed:
        return []
    open_before = today - timedelta(days=1)
    while open_before in closed:
        open_before -= timedelta(days=1)
    breaks = db.session.scalars(
        select(CalendarPeriod)
        .where(
            CalendarPeriod.kind == PeriodKind.BREAK,
            CalendarPeriod.ends_on >= open_before,
            CalendarPeriod.ends_on < today,
        )
        .order_by(CalendarPeriod.id)
    ).all()
    return [
        _fixed(members, f"period:{period.id}", f"first day back after {_period_name(period)}")
        for period in breaks
    ]


def last_activity(now: datetime):
    """Per member, the latest of: attendance, RSVP, booking an appointment or having one,
    a check-in, signing in — or, for someone who never did any of these, the account's
    creation. A subquery with columns `user_id` and `at`."""
    activity = union_all(
        select(Attendance.user_id.label("user_id"), Attendance.recorded_at.label("at")),
        select(Rsvp.user_id, Rsvp.created_at),
        select(Appointment.student_id, Appointment.created_at),
        select(Appointment.student_id, Appointment.starts_at).where(
            Appointment.status.in_(audiences.ADVISING_STATUSES), Appointment.starts_at <= now
        ),
        select(CheckIn.student_id, CheckIn.created_at),
        select(User.id, User.last_sign_in_at).where(User.last_sign_in_at.is_not(None)),
        select(User.id, User.created_at),
    ).subquery("activity")
    return (
        select(activity.c.user_id, func.max(activity.c.at).label("at"))
        .group_by(activity.c.user_id)
        .subquery("last_activity")
    )


def _inactive(campaign, members, today, now, window) -> list[Source]:
    """No activity of any kind on the last `days` local days (the last was `days` or more
    days ago); due once per spell of inactivity."""
    days = max(campaign.days or 1, 1)
    cutoff = local_midnight(today - timedelta(days=days - 1))
    last = last_activity(now)
    due = members.join(last, last.c.user_id == User.id).where(last.c.at < cutoff)
    return [
        Source(
            due,
            last.c.at,
            lambda at: f"inactive:{to_local(at).date().isoformat()}",
            lambda at: f"no activity since {format_date(at)}",
            by_time=True,
        )
    ]


def term_week(term, today: date) -> int:
    return 1 + (today - term.starts_on).days // 7


def _no_advising(campaign, members, today, now, window) -> list[Source]:
    """In week `days` of the term, members with no booked or completed appointment in it."""
    if window is None or not window.term.starts_on <= today <= window.term.ends_on:
        return []
    week = term_week(window.term, today)
    if week != campaign.days:
        return []
    due = members.where(~audiences.has_advising(window))
    why = f"week {week} of {window.term.name} and no advising booked this term"
    return [_fixed(due, f"term:{window.id}", why)]


_BUILDERS: dict[str, Callable[..., list[Source]]] = {
    Trigger.PERIOD: _period,
    Trigger.FIRST_TERM_WEEK: _first_term_week,
    Trigger.MOVE_IN: _move_in,
    Trigger.BACK_FROM_BREAK: _back_from_break,
    Trigger.INACTIVE: _inactive,
    Trigger.NO_ADVISING: _no_advising,
}
