"""Pieces of a page rendered once and reused: the rows of long lists.

A list page spends most of its template time on rows that look the same on every visit
and for every viewer (an event's title, time and places left; an appointment's time and
status). A row's HTML depends only on the values it is given, the script root its links
start with and the program's time zone its times are shown in, so it is kept under
exactly those. Nothing personal goes in a key that the row does not show itself.

While templates reload on change (the development server), rows are rendered afresh,
so an edited row template shows at once.
"""

from collections.abc import Hashable, Iterable
from functools import lru_cache

from flask import current_app, get_template_attribute, request
from markupsafe import Markup

from crp_portal.timeutil import program_zone


class KeptMacro:
    """`macro` from `template`, called with hashable arguments, its output kept in a
    bounded cache (the least recently used row goes first)."""

    def __init__(self, template: str, macro: str, maxsize: int = 4096):
        self.template, self.macro = template, macro
        self._kept = lru_cache(maxsize=maxsize)(self._render_in)

    def __call__(self, *args: Hashable) -> Markup:
        return self.each([args])[0]

    def each(self, calls: Iterable[tuple[Hashable, ...]]) -> list[Markup]:
        """The macro's output for each tuple of arguments: a whole list's rows, with the
        request looked at once rather than once a row."""
        if current_app.jinja_env.auto_reload:
            return [self._render(*args) for args in calls]
        root, zone, kept = request.script_root, program_zone().key, self._kept
        return [kept(root, zone, *args) for args in calls]

    def _render(self, *args: Hashable) -> Markup:
        return get_template_attribute(self.template, self.macro)(*args)

    def _render_in(self, _root: str, _zone: str, *args: Hashable) -> Markup:
        return self._render(*args)
