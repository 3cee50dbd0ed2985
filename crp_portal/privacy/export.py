"""Everything the portal holds about a student, as plain JSON values: the subject's
right of access. An advisor's private notes are the advisor's working notes, not the
student's, and are left out.

Each area writes its own sections (`register_export_section`, from its `personal_data`
module) with the helpers here: a field map gives each output key an attribute path
(dotted through relationships) or a function of the row. Dates and times come out as
ISO-8601, times in UTC.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.privacy import EXPORT_KEY, contributions
from crp_portal.timeutil import utcnow


def same(*names: str) -> dict[str, str]:
    """Fields whose output key is their attribute's name."""
    return {name: name for name in names}


RECORD_VIEW = {
    "who": lambda entry: entry.actor.name if entry.actor else "The program",
    "what": "action",
    "when": "created_at",
}


def value_at(row, path: str):
    """The attribute at a dotted path (None past a missing relation); dates as ISO-8601."""
    value = row
    for name in path.split("."):
        if value is None:
            return None
        value = getattr(value, name)
    return value.isoformat() if isinstance(value, date) else value


def pick(row, fields: dict) -> dict:
    """One row as a JSON object, by a field map."""
    return {
        key: value_at(row, how) if isinstance(how, str) else how(row) for key, how in fields.items()
    }


def rows(statement, fields: dict) -> list[dict]:
    """Every row a statement selects, each by the field map."""
    return [pick(row, fields) for row in all_rows(statement)]


def all_rows(statement) -> list:
    """Every row a statement selects (once each, whatever it joins eagerly)."""
    return list(db.session.scalars(statement).unique())


def export_data(user: User) -> dict:
    """All the portal holds about this person: every area's sections, in the order the
    areas registered them, in a fixed number of queries whatever the data.

    Other people appear only by the name of staff, advisors and mentors who dealt
    with them (and of their own mentees, for a peer mentor). An advisor's private
    notes stay out: they are the advisor's working notes, not the student's record.
    """
    return {
        "generated_at": utcnow().isoformat(),
        **{name: collect(user) for name, collect in contributions(EXPORT_KEY)},
        "record_views": rows(
            select(AuditEntry)
            .where(AuditEntry.subject_id == user.id)
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.created_at, AuditEntry.id),
            RECORD_VIEW,
        ),
    }
