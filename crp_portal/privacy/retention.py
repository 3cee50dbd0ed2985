"""Retention: note texts older than the retention period go; their rows (scores, counts)
stay. Each area says which texts it keeps for how long with `register_retention` (from its
`personal_data` module; recovery: check-in notes and follow-up notes)."""

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from dateutil.relativedelta import relativedelta

from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.privacy import RETENTION_KEY, contributions


@dataclass(frozen=True)
class PurgeResult:
    removed: dict[str, int]  # how many of each kind of text went, in registration order


def purge_expired(now: datetime, months: int) -> PurgeResult:
    """Remove texts written before `now - months`; rows, scores and counts stay.

    Idempotent: a text already removed is not counted again.
    """
    if months < 1:
        raise DomainError("The retention period is at least one month.")
    cutoff = now - relativedelta(months=months)
    removed = {cast(str, what): purge(cutoff, now) for what, purge in contributions(RETENTION_KEY)}
    db.session.flush()
    return PurgeResult(removed=removed)
