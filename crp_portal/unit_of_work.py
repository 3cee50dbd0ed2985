"""Turning the database's refusals into messages a person understands."""

from sqlalchemy.exc import IntegrityError

from crp_portal.errors import Conflict
from crp_portal.extensions import db


def flush_or_conflict(message: str) -> None:
    """Flush pending changes in a savepoint; a constraint violation becomes a Conflict."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(message) from error
