"""Helpers for the portal's simple name/email searches and its paged lists."""

from crp_portal.extensions import db


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


def paginate(statement, page: int, per_page: int):
    """One page of `statement`'s rows; past the last page, the last page. A link to page 9
    of a list that has since shrunk to two shows page 2 with its pager, not an empty list
    that reads as "nothing matches". (One more count and read, only then.)"""
    found = db.paginate(statement, page=page, per_page=per_page, error_out=False)
    if not found.items and found.pages and page > found.pages:
        found = db.paginate(statement, page=found.pages, per_page=per_page, error_out=False)
    return found
