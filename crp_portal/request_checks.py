"""Addresses the database can read, checked once for every route.

PostgreSQL refuses a NUL (U+0000) anywhere in text, even in a WHERE clause, and psycopg
cannot send a lone surrogate. A view that looks up something named in its address (the
token in `/calendar/<token>.ics`, a filter in the query string) would pass one to the
driver and fail with a 500 on PostgreSQL, where SQLite just finds nothing. So before any
view runs, a path carrying such a character is a 404 (no page has that address) and a
query string carrying one, in a name or a value, is a 400, on both databases, with the
portal's usual error page.

Werkzeug already replaces bytes that are not UTF-8 (so `%ED%A0%80` arrives as U+FFFD, not
a surrogate); the surrogates are refused here too so that no decoder change lets one
through. Form bodies and uploads are the forms' business (`crp_portal.forms`); headers
and cookies reach no query (the session and remember cookies are signed).
"""

import re

from flask import Flask, abort, request

from crp_portal.errors import render_error

UNREADABLE = re.compile("[\x00\ud800-\udfff]")
UNREADABLE_QUERY = (
    "This address has a hidden character in it that the portal cannot read. "
    "Check the link, or go back and use the portal's own links and forms."
)


def _unreadable(text: str) -> bool:
    return UNREADABLE.search(text) is not None


def refuse_unreadable_addresses():
    if _unreadable(request.path):
        abort(404)
    for name, values in request.args.lists():
        if _unreadable(name) or any(_unreadable(value) for value in values):
            return render_error(400, UNREADABLE_QUERY)
    return None


def init_app(app: Flask) -> None:
    """Registered before the extensions' own hooks, so it runs first."""
    app.before_request(refuse_unreadable_addresses)
