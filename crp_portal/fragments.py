"""Pieces of a page rendered once and reused: the rows of long lists.

A list page spends most of its template time on rows that look the same on every visit
and for every viewer (an event's title, time and places left; an appointment's time and
status). A row's HTML depends only on the values it is given, the script root its links
start with and the program's time zone its times are shown in, so it is kept under
exactly those. Nothing personal goes in a key that the row does not show itself.

While templates reload on change (the development server), rows are rendered afresh,
so an edited row template shows at once.
"""

from collections.abc import Callable, Hashable
from functools import lru_cache

from flask import current_app, get_template_attribute, request
from markupsafe import Markup

from crp_portal.timeutil import program_zone


def kept_rows(template: str, macro: str, maxsize: int = 4096) -> Callable[..., Markup]:
    """`macro` from `template`, called with hashable arguments, its output kept in a
    bounded cache (the least recently used row goes first)."""

    def render(*args: Hashable) -> Markup:
        return get_template_attribute(template, macro)(*args)

    @lru_cache(maxsize=maxsize)
    def kept(root: str, zone: str, *args: Hashable) -> Markup:
        return render(*args)

    def row(*args: Hashable) -> Markup:
        if current_app.jinja_env.auto_reload:
            return render(*args)
        return kept(request.script_root, program_zone().key, *args)

    row.cache_clear = kept.cache_clear  # type: ignore[attr-defined]
    return row
