"""Small helpers shared by the thin views (saving is `crp_portal.unit_of_work`)."""

MAX_RECORD_ID = 2**31 - 1  # a database integer, as RecordIdConverter bounds URL ids


def id_from_form(value) -> int:
    """A record id typed or posted by a browser; junk, or a number no database integer
    holds, becomes 0, which matches nothing."""
    value = str(value if value is not None else "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 10 and int(value) <= MAX_RECORD_ID:
        return int(value)
    return 0
