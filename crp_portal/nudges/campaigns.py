"""Nudge campaigns as staff write them: the rules a campaign must follow to be saved.

A campaign names when it fires (its trigger), whom it reaches (its audience), which
email category a student can opt out of, and the subject and body templates. Each
trigger needs its own settings and no others, so the planner never meets a campaign
it cannot read.

A saved campaign is a draft until staff make it live (`lifecycle`).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from jinja2 import TemplateError
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.members.models import EMAIL_CATEGORY_LABELS, MemberProfile, MemberStatus
from crp_portal.nudges import templating
from crp_portal.nudges.models import (
    ANCHORS,
    AUDIENCE_LABELS,
    HOLDOUT_MAX,
    TRIGGER_LABELS,
    Anchor,
    Campaign,
    Trigger,
)
from crp_portal.nudges.unsubscribe import INERT_UNSUBSCRIBE
from crp_portal.outbox.models import OutboxMessage
from crp_portal.outbox.sender import unsubscribe_line
from crp_portal.search import like_pattern, paginate
from crp_portal.terms.models import PERIOD_KINDS, PeriodKind
from crp_portal.timeutil import DATE_BOUNDS_MESSAGE, in_date_bounds

NAME_MAX, SUBJECT_MAX, BODY_MAX = 120, 200, 5000
OFFSET_MAX = 90
INACTIVE_DAYS = (1, 365)
ADVISING_WEEKS = (1, 20)
PREVIEW_MEMBERS = 200


class InvalidCampaign(DomainError):
    """A campaign rule was broken; `field` names the form field the problems belong to."""

    def __init__(self, field: str, problems: str | list[str]):
        self.field = field
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(" ".join(self.problems))


@dataclass(frozen=True)
class CampaignDetails:
    """What staff type into the campaign form, as plain values."""

    name: str
    trigger: str
    audience: str
    category: str
    subject_template: str
    body_template: str
    active_from: date
    active_to: date | None = None
    period_kind: str | None = None
    anchor: str | None = None
    offset_days: int = 0
    days: int | None = None
    holdout_percent: int = 0


CAMPAIGN_PAGE_SIZE = 50


def list_campaigns(page: int = 1, per_page: int = CAMPAIGN_PAGE_SIZE):
    """One page of the campaigns, by name."""
    statement = select(Campaign).order_by(Campaign.name, Campaign.id)
    return paginate(statement, page, per_page)


def outbox_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Messages per campaign and status for these campaigns, in one grouped query:
    {campaign id: {status: n}}."""
    rows = db.session.execute(
        select(OutboxMessage.campaign_id, OutboxMessage.status, func.count())
        .where(OutboxMessage.campaign_id.in_(campaign_ids))
        .group_by(OutboxMessage.campaign_id, OutboxMessage.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for campaign_id, status, count in rows:
        # campaign_id is never None: the query skips rows without one.
        counts.setdefault(cast(int, campaign_id), {})[status] = count
    return counts


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("There is no campaign with that number.")
    return campaign


def _plural(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def describe_trigger(campaign) -> str:
    """The trigger in words, e.g. “3 days before Finals starts” or “No activity for 21 days”."""
    if campaign.trigger == Trigger.PERIOD:
        period = PERIOD_KINDS.get(campaign.period_kind or "", "a period")
        moment = f"{period} {ANCHORS.get(campaign.anchor or '', 'starts')}"
        if campaign.period_kind == PeriodKind.CLASSES_START and campaign.anchor == Anchor.START:
            moment = "classes start"
        offset = campaign.offset_days or 0
        if offset == 0:
            return f"On the day {moment}"
        return f"{_plural(abs(offset), 'day')} {'before' if offset < 0 else 'after'} {moment}"
    if campaign.trigger == Trigger.INACTIVE:
        return f"No activity for {_plural(campaign.days or 0, 'day')}"
    if campaign.trigger == Trigger.NO_ADVISING:
        return f"No advising session by week {campaign.days} of term"
    return {
        Trigger.FIRST_TERM_WEEK: "In the first week of a member's first term",
        Trigger.MOVE_IN: "On a resident's housing move-in date",
        Trigger.BACK_FROM_BREAK: "On the first day back from a break",
    }.get(campaign.trigger, TRIGGER_LABELS.get(campaign.trigger, campaign.trigger))


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise InvalidCampaign(field, message)


def _check_template(field: str, source: str, maximum: int, missing: str) -> None:
    _require(bool(source.strip()), field, missing)
    _require(len(source) <= maximum, field, f"Use at most {maximum} characters.")
    problems = templating.check_template(source)
    if problems:
        raise InvalidCampaign(field, problems)


def _trigger_settings(details: CampaignDetails) -> dict:
    """The settings the trigger uses; every other setting is cleared."""
    trigger = details.trigger
    _require(trigger in TRIGGER_LABELS, "trigger", "Choose one of the listed triggers.")
    settings: dict[str, Any] = {"period_kind": None, "anchor": None, "offset_days": 0, "days": None}
    if trigger == Trigger.PERIOD:
        _require(
            details.period_kind in PERIOD_KINDS,
            "period_kind",
            "Choose the kind of calendar period this campaign counts from.",
        )
        _require(
            details.anchor in ANCHORS, "anchor", "Choose whether to count from its start or end."
        )
        _require(
            -OFFSET_MAX <= details.offset_days <= OFFSET_MAX,
            "offset_days",
            f"Count at most {OFFSET_MAX} days before or after.",
        )
        settings.update(
            period_kind=details.period_kind, anchor=details.anchor, offset_days=details.offset_days
        )
    elif trigger == Trigger.INACTIVE:
        low, high = INACTIVE_DAYS
        _require(
            details.days is not None and low <= details.days <= high,
            "days",
            f"Enter how many days without activity, from {low} to {high}.",
        )
        settings["days"] = details.days
    elif trigger == Trigger.NO_ADVISING:
        low, high = ADVISING_WEEKS
        _require(
            details.days is not None and low <= details.days <= high,
            "days",
            f"Enter the week of term to check by, from {low} to {high}.",
        )
        settings["days"] = details.days
    return settings


def _validated(details: CampaignDetails) -> dict:
    """Every column of a campaign, checked; raises InvalidCampaign naming the field."""
    name = " ".join(details.name.split())
    _require(bool(name), "name", "Name the campaign, e.g. “Finals week”.")
    _require(len(name) <= NAME_MAX, "name", f"Use at most {NAME_MAX} characters.")
    settings = _trigger_settings(details)
    _require(details.audience in AUDIENCE_LABELS, "audience", "Choose one of the listed audiences.")
    _require(
        details.category in EMAIL_CATEGORY_LABELS,
        "category",
        "Choose the kind of email students can opt out of.",
    )
    _check_template(
        "subject_template", details.subject_template, SUBJECT_MAX, "Write the email's subject."
    )
    _check_template("body_template", details.body_template, BODY_MAX, "Write the email's text.")
    _require(details.active_from is not None, "active_from", "Enter the first day it may send.")
    _require(in_date_bounds(details.active_from), "active_from", DATE_BOUNDS_MESSAGE)
    _require(in_date_bounds(details.active_to), "active_to", DATE_BOUNDS_MESSAGE)
    _require(
        details.active_to is None or details.active_to >= details.active_from,
        "active_to",
        "The last day must be on or after the first day.",
    )
    _require(
        0 <= details.holdout_percent <= HOLDOUT_MAX,
        "holdout_percent",
        f"Hold out from 0 to {HOLDOUT_MAX} percent.",
    )
    return {
        "name": name,
        "trigger": details.trigger,
        **settings,
        "audience": details.audience,
        "category": details.category,
        "subject_template": details.subject_template.strip(),
        "body_template": details.body_template.strip() + "\n",
        "active_from": details.active_from,
        "active_to": details.active_to,
        "holdout_percent": details.holdout_percent,
    }


def _check_name_free(name: str, campaign_id: int | None) -> None:
    taken = db.session.scalar(
        select(Campaign.id).where(
            func.lower(Campaign.name) == name.lower(), Campaign.id != (campaign_id or 0)
        )
    )
    if taken is not None:
        raise InvalidCampaign(
            "name", f"A campaign named “{name}” already exists. Choose another name."
        )


def _save(campaign: Campaign) -> Campaign:
    try:
        with db.session.begin_nested():
            db.session.add(campaign)
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(
            f"A campaign named “{campaign.name}” was just saved by someone else. Choose another name."
        ) from error
    return campaign


def create_campaign(details: CampaignDetails, staff: User) -> Campaign:
    """A new campaign, saved as a draft (`lifecycle.go_live` makes it send). Names are
    unique, ignoring case."""
    values = _validated(details)
    _check_name_free(values["name"], None)
    return _save(Campaign(**values, created_by_id=staff.id if staff else None, paused=False))


def update_campaign(campaign: Campaign, details: CampaignDetails) -> Campaign:
    """Change a campaign. Messages already in the outbox keep the text they were given."""
    values = _validated(details)
    _check_name_free(values["name"], campaign.id)
    for column, value in values.items():
        setattr(campaign, column, value)
    return _save(campaign)


def preview_members(query: str = "", limit: int = PREVIEW_MEMBERS) -> list[User]:
    """Active members to preview a nudge for, by name; matching `query` when given."""
    statement = (
        select(User)
        .join(MemberProfile, MemberProfile.user_id == User.id)
        .where(
            User.role == STUDENT,
            User.active,
            User.erased_at.is_(None),
            MemberProfile.status == MemberStatus.ACTIVE,
        )
        .options(selectinload(User.profile))
        .order_by(User.name, User.id)
        .limit(limit)
    )
    if query.strip():
        pattern = like_pattern(query)
        statement = statement.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(MemberProfile.preferred_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(statement))


def preview_member(user_id: int) -> User:
    """One active member for a preview; anyone else is not found."""
    member = db.session.scalar(
        select(User)
        .join(MemberProfile, MemberProfile.user_id == User.id)
        .where(
            User.id == user_id,
            User.role == STUDENT,
            User.active,
            User.erased_at.is_(None),
            MemberProfile.status == MemberStatus.ACTIVE,
        )
        .options(selectinload(User.profile))
    )
    if member is None:
        raise NotFound("Choose an active member from the list.")
    return member


@dataclass(frozen=True)
class PreviewEmail:
    subject: str
    body: str
    unsubscribe_line: str = unsubscribe_line(INERT_UNSUBSCRIBE)
    problem: str = ""


def preview_email(campaign: Campaign, member: User, today: date, now) -> PreviewEmail:
    """The nudge as `member` would get it now, its unsubscribe link an inert stand-in.

    The real link opts the member out for whoever opens it, so a preview (pasted into a
    ticket, opened by a link checker) never carries one. A template that was fine when
    saved can still fail on real data; the problem is reported for staff to fix rather
    than raised.
    """
    try:
        subject, body = templating.render_nudge(
            campaign, member, templating.week_ahead(today, now), templating.links()
        )
    except (TemplateError, TypeError, ValueError) as error:
        reason = str(error).rstrip(".")
        return PreviewEmail("", "", problem=f"This template cannot be sent: {reason}.")
    return PreviewEmail(subject, body)


def template_problems(campaign: Campaign) -> list[str]:
    """Why a stored campaign's templates cannot be sent (saved before today's rules, or
    written around the editor), so the dry run and the editor can say planning skips it."""
    return [
        f"{part}: {problem}"
        for part, source in (
            ("Subject", campaign.subject_template),
            ("Text", campaign.body_template),
        )
        for problem in templating.check_template(source)
    ]
