"""The delivery log: what the outbox holds, filtered for staff, and sending again.

Bodies are never read here: a message may be personal, and staff need only to know
who was sent what subject, when, and what went wrong.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.nudges.models import Campaign
from crp_portal.outbox import sender
from crp_portal.outbox.models import OUTBOX_STATUS_LABELS, OutboxKind, OutboxMessage, OutboxStatus
from crp_portal.search import paginate

ALL = "all"
STATUS_FILTERS = {
    ALL: "All",
    OutboxStatus.PENDING: "Pending",
    OutboxStatus.SENDING: "Being sent",
    OutboxStatus.SENT: "Sent",
    OutboxStatus.FAILED: "Failed",
    OutboxStatus.SUPPRESSED: "Suppressed",
    OutboxStatus.HELD_OUT: "Held out",
    OutboxStatus.NEEDS_REVIEW: "Needs review",
}
KIND_FILTERS = {
    ALL: "Nudges and transactional",
    OutboxKind.NUDGE: "Nudges",
    OutboxKind.TRANSACTIONAL: "Transactional",
}
RETRY_CHUNK = 500


@dataclass(frozen=True)
class LogFilter:
    status: str = ALL
    kind: str = ALL
    campaign_id: int | None = None

    @classmethod
    def from_values(cls, status: str | None, kind: str | None, campaign_id: int | None):
        """Unknown values mean “all”, so a mistyped address still shows a log."""
        return cls(
            status=status if status in OUTBOX_STATUS_LABELS else ALL,
            kind=kind if kind in (OutboxKind.NUDGE, OutboxKind.TRANSACTIONAL) else ALL,
            campaign_id=campaign_id or None,
        )


def _where(statement, filters: LogFilter, *, by_status: bool = True):
    if by_status and filters.status != ALL:
        statement = statement.where(OutboxMessage.status == filters.status)
    if filters.kind != ALL:
        statement = statement.where(OutboxMessage.kind == filters.kind)
    if filters.campaign_id is not None:
        statement = statement.where(OutboxMessage.campaign_id == filters.campaign_id)
    return statement


def search_log(filters: LogFilter, page: int, per_page: int = 50):
    """Messages matching the filter, newest first, with their person and campaign."""
    statement = _where(
        select(OutboxMessage).options(
            selectinload(OutboxMessage.user), selectinload(OutboxMessage.campaign)
        ),
        filters,
    ).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return paginate(statement, page, per_page)


def status_counts(filters: LogFilter) -> dict[str, int]:
    """How many messages of each status match the kind and campaign filter (one query)."""
    rows = db.session.execute(
        _where(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status),
            filters,
            by_status=False,
        )
    )
    counts = dict.fromkeys(OUTBOX_STATUS_LABELS, 0)
    counts.update(dict(rows.all()))
    return counts


def campaign_names() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name)))


def _retry(ids: list[int], now: datetime) -> int:
    return sum(
        sender.retry(ids[start : start + RETRY_CHUNK], now)
        for start in range(0, len(ids), RETRY_CHUNK)
    )


def retry_failed(filters: LogFilter, selected: list[int], now: datetime) -> int:
    """Send failed messages again: those chosen, else every failed one the kind and
    campaign filter shows. Only failed rows are touched; a message that needs review
    is resent one at a time, by a person who checked it did not arrive."""
    statement = _where(
        select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.FAILED),
        filters,
        by_status=False,
    )
    if selected:
        statement = statement.where(OutboxMessage.id.in_(selected))
    ids = list(db.session.scalars(statement.order_by(OutboxMessage.id)))
    return _retry(ids, now) if ids else 0


def message_to_resend(message_id: int) -> OutboxMessage:
    """Read-only, for the page that asks before resending: a message waiting for review."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("There is no message with that number.")
    if message.status != OutboxStatus.NEEDS_REVIEW:
        raise Conflict(
            f"This message is {message.status_label.lower()}, not waiting for review, "
            "so there is nothing to resend."
        )
    return message


def resend(message_id: int, now: datetime) -> OutboxMessage:
    """Send a “needs review” message again: its sender stopped after the mail server may
    have accepted it, so only staff, who can ask the person, decide to risk a copy."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("There is no message with that number.")
    if message.status != OutboxStatus.NEEDS_REVIEW:
        raise DomainError(
            f"This message is {message.status_label.lower()}, not waiting for review, "
            "so it was not resent."
        )
    _retry([message.id], now)
    return message
