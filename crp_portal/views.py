"""Small helpers shared by the thin views."""

from crp_portal.errors import DomainError
from crp_portal.extensions import db

MAX_RECORD_ID = 2**31 - 1  # a database integer, as RecordIdConverter bounds URL ids


def id_from_form(value) -> int:
    """A record id typed or posted by a browser; junk, or a number no database integer
    holds, becomes 0, which matches nothing."""
    value = str(value if value is not None else "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= MAX_RECORD_ID:
        return int(value)
    return 0


def commit_or_form_error(form, field_name: str, action):
    """Run a service action and commit; a rule it breaks becomes an error on that field.

    Returns the action's result, or None after rolling back, so the view re-renders
    the form with the person's input and the reason beside the field.
    """
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        getattr(form, field_name).errors.append(error.message)
        return None
    db.session.commit()
    return result
