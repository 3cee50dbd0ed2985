"""How a change to an event takes its turn: it reads the event row under a lock first.

The event row is the turnstile for everything hanging off it. Edits, cancellations,
RSVPs, waitlist promotion, roster saves and headcounts lock it for update; check-ins and
walk-ins, which only add an attendance row, lock it shared, so they run side by side but
never beside one of those. Whatever a service decides after taking the lock (how many are
going, whether the event is cancelled, who is present) it reads again under the lock, so
a request that lost the race sees what the winner saved, as it would a second later.

On PostgreSQL this is `SELECT … FOR UPDATE` (`FOR SHARE`); on SQLite, where SQLAlchemy
leaves the clause out of the SQL, the locking read takes the database's write lock
(`crp_portal.database`), so changes from there on run one at a time.

The locked read refreshes an event the session loaded earlier (a view loads it to show
its form, then calls the service): without `populate_existing` the session would hand
back the values it read before the lock, which is exactly the stale read to avoid.
"""

from sqlalchemy import Select, bindparam, select

from crp_portal.database import kept_statement
from crp_portal.errors import NotFound
from crp_portal.events.models import Event
from crp_portal.extensions import db


def locked_event(event_id: int, *, shared: bool = False) -> Event:
    """The event, read under a row lock held until the transaction ends."""
    event = db.session.scalar(_locked_event(shared), {"event_id": event_id})
    if event is None:
        raise NotFound("There is no event with that number.")
    return event


@kept_statement
def _locked_event(shared: bool) -> Select:
    return (
        select(Event)
        .where(Event.id == bindparam("event_id"))
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    )


def locked_from_here_on(event: Event) -> list[Event]:
    """This occurrence and every later one in its series, each locked for update.

    Call with `event` itself locked. Rows are locked in start order, as every caller does,
    so two staff changing overlapping parts of one series queue instead of deadlocking.
    """
    if event.series_id is None:
        return [event]
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.series_id == event.series_id, Event.starts_at >= event.starts_at)
            .order_by(Event.starts_at, Event.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
