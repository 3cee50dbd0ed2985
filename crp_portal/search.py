"""Helpers for the portal's simple name/email searches."""


def like_pattern(text: str) -> str:
    """A case-folded `%text%` for LIKE (escape character `\\`) with wildcards escaped.

    NULs are dropped: PostgreSQL refuses them in a query, and no name or email has one.
    """
    text = text.replace("\x00", "").strip().lower()
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


MAX_PAGE = 10_000


def page_number(args, name: str = "page") -> int:
    """The `page` (or `name`) query argument as a sane page number; junk means page 1."""
    raw = args.get(name, "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 5:  # "²" is a digit int() refuses
        return 1
    return min(max(int(raw), 1), MAX_PAGE)
