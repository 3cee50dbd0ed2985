"""Turning the database's refusals into messages a person understands."""

from sqlalchemy.exc import IntegrityError

from crp_portal.errors import Conflict
from crp_portal.extensions import db


def lock(instance, **for_update):
    """Lock the instance's row and re-read it, so the caller checks what the change it
    waited for committed; changes already made to it are flushed first, not lost.

    `SELECT … FOR UPDATE` by default; `key_share=True` gives `FOR NO KEY UPDATE` (foreign
    keys pointing at the row still pass), `read=True` gives `FOR SHARE`. SQLite has no
    row locks: there `BEGIN IMMEDIATE` already made this transaction the only writer.
    """
    db.session.flush()
    db.session.refresh(instance, with_for_update=for_update or True)
    return instance


def flush_or_conflict(message: str) -> None:
    """Flush pending changes in a savepoint; a constraint violation becomes a Conflict."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise Conflict(message) from error
