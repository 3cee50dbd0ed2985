"""Planning: who is due a nudge now, written to the outbox once.

For each campaign that is running today the database returns the due members in one
query per occurrence (audience ∧ trigger, see `audiences` and `triggers`), with
whether they opted out of the category and whether this occurrence was already
planned for them. Python walks only those due rows: the frequency cap, the holdout,
rendering. Rows are shaped by the outbox's writer and inserted with ON CONFLICT DO
NOTHING on its unique key (campaign, person, occurrence), so planning twice — or two
planners at once — writes each key once.

Nothing is committed here: the caller (the CLI) commits.
"""

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any, cast

from flask import current_app
from jinja2 import TemplateError
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import contains_eager

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.members.models import EMAIL_CATEGORY_LABELS, EmailOptOut
from crp_portal.nudges import audiences, templating, triggers
from crp_portal.nudges.models import Campaign
from crp_portal.nudges.unsubscribe import unsubscribe_url
from crp_portal.outbox import writer
from crp_portal.outbox.models import OutboxKind, OutboxMessage, OutboxStatus
from crp_portal.timeutil import AFTER_THE_CHANGE, local_to_utc, to_local

WOULD_SEND, SUPPRESS, HOLD_OUT, ALREADY_PLANNED = (
    "would send",
    "suppressed",
    "held out",
    "already planned",
)
COUNTED_BY_CAP = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT)
CHUNK = 1000


@dataclass(frozen=True)
class Due:
    """One person a campaign is due for now, and what planning does about it."""

    user: User
    occurrence: str
    outcome: str  # WOULD_SEND, SUPPRESS, HOLD_OUT or ALREADY_PLANNED
    reason: str


@dataclass
class CampaignCounts:
    campaign_id: int
    name: str
    planned: int = 0
    suppressed: int = 0
    held_out: int = 0
    already_planned: int = 0
    error: str = ""

    @property
    def anything(self) -> bool:
        return bool(
            self.planned or self.suppressed or self.held_out or self.already_planned or self.error
        )

    def __str__(self) -> str:
        if self.error:
            return f"{self.name}: not planned — {self.error}"
        text = f"{self.name}: {self.planned} planned, {self.suppressed} suppressed, "
        text += f"{self.held_out} held out"
        if self.already_planned:
            text += f", {self.already_planned} already planned"
        return text


@dataclass
class PlanReport:
    campaigns: list[CampaignCounts] = field(default_factory=list)
    notice: str = ""  # a problem outside any one campaign, e.g. an unusable current term

    @property
    def planned(self) -> int:
        return sum(counts.planned for counts in self.campaigns)

    @property
    def suppressed(self) -> int:
        return sum(counts.suppressed for counts in self.campaigns)

    @property
    def held_out(self) -> int:
        return sum(counts.held_out for counts in self.campaigns)

    @property
    def already_planned(self) -> int:
        return sum(counts.already_planned for counts in self.campaigns)

    def for_campaign(self, campaign_id: int) -> CampaignCounts | None:
        return next((c for c in self.campaigns if c.campaign_id == campaign_id), None)

    def __str__(self) -> str:
        return "\n".join(line for line in (self.notice, self._summary()) if line)

    def _summary(self) -> str:
        if not self.campaigns:
            return "No campaign is running today."
        busy = [str(counts) for counts in self.campaigns if counts.anything]
        if not busy:
            running = len(self.campaigns)
            return f"Nobody is due now ({running} campaign{'s' if running != 1 else ''} running)."
        return "\n".join(busy)


@dataclass
class _Candidate:
    user_id: int
    email: str
    occurrence: str
    why: str
    outcome: str
    reason: str = ""


def in_holdout(campaign: Campaign, user_id: int) -> bool:
    """A stable draw: the same person is always in (or out of) a campaign's holdout."""
    digest = hashlib.sha256(f"{campaign.id}:{user_id}".encode()).hexdigest()
    return int(digest, 16) % 100 < campaign.holdout_percent


def after_quiet_hours(now: datetime) -> datetime:
    """`now`, or the end of the quiet hours (local time, possibly spanning midnight)."""
    start = current_app.config["CRP_QUIET_HOURS_START"]
    end = current_app.config["CRP_QUIET_HOURS_END"]
    if start == end:
        return now
    local = to_local(now)
    spans_midnight = start > end
    quiet = (
        (local.hour >= start or local.hour < end) if spans_midnight else start <= local.hour < end
    )
    if not quiet:
        return now
    day = local.date() + timedelta(days=1 if spans_midnight and local.hour >= start else 0)
    return local_to_utc(datetime.combine(day, time(end)), skipped=AFTER_THE_CHANGE)


def running_campaigns(today: date) -> list[Campaign]:
    """The campaigns to plan, each read under a share lock held until the plan commits: a
    pause (which locks the row for update) waits for this run, or this run sees it."""
    return list(
        db.session.scalars(
            select(Campaign)
            .where(
                Campaign.live_since.is_not(None),
                Campaign.paused.is_(False),
                Campaign.active_from <= today,
                or_(Campaign.active_to.is_(None), Campaign.active_to >= today),
            )
            .order_by(Campaign.id)
            .with_for_update(read=True)
        )
    )


def recent_nudges(now: datetime) -> Counter:
    """Per person, the nudges pending or sent in the cap's window (one grouped query)."""
    since = now - timedelta(days=current_app.config["CRP_NUDGE_CAP_DAYS"])
    rows = db.session.execute(
        select(OutboxMessage.user_id, func.count())
        .where(
            OutboxMessage.kind == OutboxKind.NUDGE,
            OutboxMessage.status.in_(COUNTED_BY_CAP),
            OutboxMessage.created_at > since,
            OutboxMessage.user_id.is_not(None),
        )
        .group_by(OutboxMessage.user_id)
    )
    return Counter(dict(rows.all()))


def _candidates(
    campaign: Campaign, today: date, now: datetime, window, recent: Counter
) -> list[_Candidate]:
    """The campaign's due rows, each with its outcome; `recent` counts what is planned."""
    cap = current_app.config["CRP_NUDGE_CAP"]
    cap_days = current_app.config["CRP_NUDGE_CAP_DAYS"]
    opted_out = exists().where(
        EmailOptOut.user_id == User.id, EmailOptOut.category == campaign.category
    )
    opted_out_reason = f"opted out of “{EMAIL_CATEGORY_LABELS[campaign.category]}”"
    found, seen = [], set()
    for source in triggers.sources(campaign, today, now, window):
        mine = [OutboxMessage.campaign_id == campaign.id, OutboxMessage.user_id == User.id]
        if source.by_time:
            planned = exists().where(*mine, OutboxMessage.created_at >= source.key)
        else:
            planned = exists().where(*mine, OutboxMessage.occurrence == source.key)
        statement = source.query.add_columns(
            source.key.label("key"),
            User.email,
            opted_out.label("opted_out"),
            planned.label("planned"),
        ).order_by(User.id)
        for user_id, key, email, is_opted_out, is_planned in db.session.execute(statement):
            occurrence = source.occurrence(key)
            if (user_id, occurrence) in seen:
                continue
            seen.add((user_id, occurrence))
            candidate = _Candidate(user_id, email, occurrence, source.why(key), WOULD_SEND)
            if is_planned:
                candidate.outcome = ALREADY_PLANNED
                candidate.reason = "a message for this was already planned"
            elif is_opted_out:
                candidate.outcome, candidate.reason = SUPPRESS, opted_out_reason
            elif recent[user_id] >= cap:
                candidate.outcome = SUPPRESS
                candidate.reason = f"frequency cap: {recent[user_id]} nudges in {cap_days} days"
            elif in_holdout(campaign, user_id):
                candidate.outcome, candidate.reason = HOLD_OUT, "holdout"
            else:
                candidate.reason = candidate.why
                recent[user_id] += 1
            found.append(candidate)
    return found


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _users(ids: list[int], known: dict[int, User] | None = None) -> dict[int, User]:
    """The members with their profiles (rendering reads both), in chunks of ids; those
    already in `known` are not loaded again, and `known` gains those that are."""
    users = {} if known is None else known
    missing = [user_id for user_id in ids if user_id not in users]
    for chunk in _chunks(missing):
        users.update(
            (user.id, user)
            for user in db.session.scalars(
                select(User)
                .outerjoin(User.profile)
                .where(User.id.in_(chunk))
                .options(contains_eager(User.profile))
            )
        )
    return users


@dataclass(frozen=True)
class _Run:
    """What a planning run computes once and every campaign shares."""

    now: datetime
    due_at: datetime
    week: templating.WeekAhead
    links: dict
    users: dict = field(default_factory=dict)  # loaded once a run, shared by campaigns


def _row(campaign: Campaign, candidate: _Candidate, run: _Run, user: User | None) -> dict:
    """The outbox row of one candidate: a suppressed or held-out one keeps its key and
    reason, with no message."""
    fields: dict[str, Any] = {
        "kind": OutboxKind.NUDGE,
        "campaign_id": campaign.id,
        "user_id": candidate.user_id,
        "occurrence": candidate.occurrence,
        "reason": candidate.reason,
        "now": run.now,
    }
    if candidate.outcome != WOULD_SEND:
        status = {SUPPRESS: OutboxStatus.SUPPRESSED, HOLD_OUT: OutboxStatus.HELD_OUT}.get(
            candidate.outcome, OutboxStatus.PENDING
        )
        return writer.message_values(candidate.email, "", "", status=status, **fields)
    # A would-send candidate's user was loaded by _users.
    subject, body = templating.render_nudge(campaign, cast(User, user), run.week, run.links)
    return writer.message_values(
        candidate.email,
        subject,
        body,
        body_html=templating.as_html(body),
        unsubscribe_url=unsubscribe_url(candidate.user_id, campaign.category),
        due_at=run.due_at,
        **fields,
    )


def _plan_campaign(campaign: Campaign, candidates: list[_Candidate], run: _Run) -> CampaignCounts:
    counts = CampaignCounts(campaign.id, campaign.name)
    new = [c for c in candidates if c.outcome != ALREADY_PLANNED]
    counts.already_planned = len(candidates) - len(new)
    for chunk in _chunks(new):
        users = _users([c.user_id for c in chunk if c.outcome == WOULD_SEND], run.users)
        try:
            rows = [_row(campaign, c, run, users.get(c.user_id)) for c in chunk]
        except (TemplateError, TypeError, ValueError) as error:
            current_app.logger.warning("Campaign %s not planned: %s", campaign.id, error)
            counts.error = f"its template could not be filled in ({error})"
            return counts
        inserted = writer.insert_new(rows)
        counts.planned += inserted[OutboxStatus.PENDING]
        counts.suppressed += inserted[OutboxStatus.SUPPRESSED]
        counts.held_out += inserted[OutboxStatus.HELD_OUT]
        counts.already_planned += len(rows) - sum(inserted.values())
    return counts


def plan(now: datetime) -> PlanReport:
    """Write the outbox rows every running campaign is due now; flushes, does not commit.

    For each due person, in order: opted out of the category → suppressed; at the
    frequency cap (CRP_NUDGE_CAP nudges pending or sent within CRP_NUDGE_CAP_DAYS,
    counting this run's) → suppressed; in the campaign's holdout → held out; else
    pending, due now or when the quiet hours end. Suppressed and held-out rows are
    recorded, not dropped, and keep their key so they are not planned again.
    """
    today = to_local(now).date()
    campaigns = running_campaigns(today)
    report = PlanReport()
    if not campaigns:
        return report
    window = audiences.term_window(today)
    if window is None:
        report.notice = audiences.unusable_term(today)
    recent = recent_nudges(now)
    run = _Run(now, after_quiet_hours(now), templating.week_ahead(today, now), templating.links())
    for campaign in campaigns:
        candidates = _candidates(campaign, today, now, window, recent)
        report.campaigns.append(_plan_campaign(campaign, candidates, run))
    db.session.flush()
    return report


def due_now(campaign: Campaign, now: datetime) -> list[Due]:
    """Who `campaign` is due for at `now`, and what planning would do — writing nothing.

    The same rules as `plan`, for this campaign alone (other campaigns due in the same
    run are not counted against the cap), whether or not it is live, paused or in its dates.
    """
    today = to_local(now).date()
    candidates = _candidates(campaign, today, now, audiences.term_window(today), recent_nudges(now))
    users = _users([c.user_id for c in candidates])
    return [
        Due(users[c.user_id], c.occurrence, c.outcome, c.reason)
        for c in candidates
        if c.user_id in users
    ]


def is_running(campaign: Campaign, today: date) -> bool:
    return (
        not campaign.is_draft
        and not campaign.paused
        and campaign.active_from <= today
        and (campaign.active_to is None or campaign.active_to >= today)
    )
