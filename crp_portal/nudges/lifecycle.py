"""A campaign's life: a draft until staff make it live, then running or paused.

A new campaign is a draft: staff preview it for a member and dry-run it before any
member can get it, and planning skips it until someone makes it live. Making live,
pausing and resuming lock the campaign's row (`SELECT … FOR UPDATE`; on SQLite the
database's write lock) and check it after the wait: of two staff acting at once one acts
and the other gets the 409 a second later would give.

Two running campaigns with the same trigger whose audiences share members can send one
member two messages about the same moment; saving or making live such a campaign warns
and names the other (`overlapping`).
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from crp_portal.auth.models import User
from crp_portal.errors import Conflict
from crp_portal.extensions import db
from crp_portal.nudges import audiences
from crp_portal.nudges.campaigns import template_problems
from crp_portal.nudges.models import Audience, Campaign, Trigger
from crp_portal.unit_of_work import lock

DRAFT, NOT_STARTED, ACTIVE, PAUSED, ENDED = "Draft", "Not started", "Active", "Paused", "Ended"


def state_of(campaign: Campaign, today: date) -> str:
    """Draft, Paused, Not started, Active or Ended, as the list page shows it."""
    if campaign.is_draft:
        return DRAFT
    if campaign.paused:
        return PAUSED
    if campaign.active_from > today:
        return NOT_STARTED
    if campaign.active_to is not None and campaign.active_to < today:
        return ENDED
    return ACTIVE


def go_live(campaign: Campaign, staff: User, now: datetime) -> Campaign:
    """Make a draft live: planning sends it from its next run, within its dates.

    A template that cannot be sent is refused here too (the editor refuses to save one,
    but a row saved before today's rules may hold one).
    """
    lock(campaign)
    if not campaign.is_draft:
        raise Conflict(f"{campaign.name} is already live.")
    problems = template_problems(campaign)
    if problems:
        raise Conflict(
            f"{campaign.name} cannot go live until its template is fixed: " + " ".join(problems)
        )
    campaign.live_since = now
    campaign.made_live_by_id = staff.id
    db.session.flush()
    return campaign


def pause_campaign(campaign: Campaign) -> Campaign:
    """A paused campaign plans no new messages until it is resumed.

    Locks the campaign's row and checks after the wait that it is still running; one
    already paused (a moment ago, perhaps by someone else) is a Conflict.
    """
    lock(campaign)
    if campaign.is_draft:
        raise Conflict(f"{campaign.name} is a draft: it sends nothing until it is made live.")
    if campaign.paused:
        raise Conflict(f"{campaign.name} is already paused.")
    campaign.paused = True
    db.session.flush()
    return campaign


def resume_campaign(campaign: Campaign) -> Campaign:
    """A resumed campaign plans messages again from the planner's next run.

    Locks the campaign's row and checks after the wait that it is still paused; one
    already running (resumed a moment ago, perhaps by someone else) is a Conflict.
    """
    lock(campaign)
    if not campaign.paused:
        raise Conflict(f"{campaign.name} is already running.")
    campaign.paused = False
    db.session.flush()
    return campaign


@dataclass(frozen=True)
class Overlap:
    """A running campaign that can reach the same member for the same moment."""

    campaign: Campaign
    shared_members: int  # members in both audiences today

    def describe(self) -> str:
        people = "1 member is" if self.shared_members == 1 else f"{self.shared_members} members are"
        return (
            f"“{self.campaign.name}” is running with the same trigger, and {people} in both "
            "audiences today: they could get both messages."
        )


def _same_moment(campaign: Campaign):
    condition = Campaign.trigger == campaign.trigger
    if campaign.trigger == Trigger.PERIOD:
        condition = and_(condition, Campaign.period_kind == campaign.period_kind)
    return condition


def _dates_meet(campaign: Campaign):
    """The other campaign's dates share a day with this one's (open ends run forever)."""
    conditions = [or_(Campaign.active_to.is_(None), Campaign.active_to >= campaign.active_from)]
    if campaign.active_to is not None:
        conditions.append(Campaign.active_from <= campaign.active_to)
    return and_(*conditions)


def shared_members(first: str, second: str, today: date) -> int:
    """Members in both audiences today."""
    window = audiences.term_window(today)
    return db.session.execute(
        select(func.count()).select_from(
            audiences.members()
            .where(audiences.condition(first, window, today))
            .where(audiences.condition(second, window, today))
            .subquery()
        )
    ).scalar_one()


def _audiences_meet(first: str, second: str, shared: int) -> bool:
    """Every audience is made of active members, so "active members" meets them all; two
    others meet when they are the same or share someone today."""
    return first == second or Audience.ACTIVE_MEMBERS in (first, second) or shared > 0


def overlapping(campaign: Campaign, today: date) -> list[Overlap]:
    """Running campaigns (live, not paused, not ended) with this one's trigger (for a
    calendar-period trigger, the same kind of period), dates that meet this one's, and
    an audience that shares members with it."""
    others = db.session.scalars(
        select(Campaign)
        .where(
            Campaign.id != (campaign.id or 0),
            Campaign.live_since.is_not(None),
            Campaign.paused.is_(False),
            or_(Campaign.active_to.is_(None), Campaign.active_to >= today),
            _same_moment(campaign),
            _dates_meet(campaign),
        )
        .order_by(Campaign.name, Campaign.id)
    ).all()
    found = []
    for other in others:
        shared = shared_members(campaign.audience, other.audience, today)
        if _audiences_meet(campaign.audience, other.audience, shared):
            found.append(Overlap(other, shared))
    return found
