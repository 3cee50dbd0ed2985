"""One-click unsubscribe: a signed token names a person and an email category.

The token never expires (an old email's link must keep working) and carries no
secret beyond the signature; using it only ever turns email off.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.members.models import OPT_OUT_CATEGORY_LABELS, EmailOptOut

SALT = "crp-unsubscribe"
# Where staff see a nudge, its footer (`outbox.sender.unsubscribe_line`) shows this instead.
INERT_UNSUBSCRIBE = "(unsubscribe link — works only in the sent email)"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user_id: int, category: str) -> str:
    return _serializer().dumps([user_id, category])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, category), or None for a token that was altered or never issued."""
    try:
        user_id, category = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or category not in OPT_OUT_CATEGORY_LABELS:
        return None
    return user_id, category


def unsubscribe_url(user_id: int, category: str) -> str:
    return portal_url("nudges.unsubscribe", token=unsubscribe_token(user_id, category))


def is_opted_out(user_id: int, category: str) -> bool:
    found = db.session.scalar(
        select(EmailOptOut.user_id).where(
            EmailOptOut.user_id == user_id, EmailOptOut.category == category
        )
    )
    return found is not None


def opt_out(user_id: int, category: str) -> None:
    """Record that the person wants no more email of `category`. Idempotent: a second
    click, or two mail clients posting at once, leaves the one row there is."""
    if is_opted_out(user_id, category):
        return
    try:
        with db.session.begin_nested():
            db.session.add(EmailOptOut(user_id=user_id, category=category))
    except IntegrityError:
        pass  # the same opt-out was recorded a moment ago: the person's wish is met
