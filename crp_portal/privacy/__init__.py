"""A person's rights over their data: a copy of all of it (`export`), erasure on request
(`erasure`), the retention period for notes (`retention`), and who opened their records.

The program does not list every area's tables here. Each area says what it holds about a
person next to its tables (its `personal_data` module) and registers it from its
`init_app`, so a new column of personal data is handled where it is defined:

- `register_export_section(app, name, collect)`: `collect(user)` returns the JSON value
  of section `name` of the person's data download; sections follow in the order they
  were registered, each in a fixed number of queries.
- `register_eraser(app, what, erase)`: `erase(user, now)` deletes or blanks what the area
  holds about the person, before the account itself is erased, and returns how many
  `what` went (reported to the privacy officer). `what` is None for texts blanked in rows
  that stay for the program's counts: nothing is returned or reported.
- `register_retention(app, what, purge)`: `purge(cutoff, now)` removes texts written
  before `cutoff`, keeping their rows, and returns how many `what` went.

The blueprint; its views are imported by create_app (see _register_blueprints).
"""

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, current_app

bp = Blueprint("privacy", __name__)

EXPORT_KEY, ERASERS_KEY, RETENTION_KEY = "crp_export_sections", "crp_erasers", "crp_retention"
# The download's own sections, around the areas' ones.
DOWNLOAD_OWN_SECTIONS = frozenset({"generated_at", "record_views"})


def _add(app, key: str, name: str | None, contribution: Callable) -> None:
    entries = app.extensions.setdefault(key, [])
    if name is not None and any(existing == name for existing, _ in entries):
        raise ValueError(f"{name!r} is registered twice")
    entries.append((name, contribution))


def register_export_section(app, name: str, collect: Callable) -> None:
    """Section `name` of a person's data download is `collect(user)`."""
    if name in DOWNLOAD_OWN_SECTIONS:
        raise ValueError(f"{name!r} is a section the download writes itself")
    _add(app, EXPORT_KEY, name, collect)


def register_eraser(app, what: str | None, erase: Callable[..., int | None]) -> None:
    """On erasure, `erase(user, now)` removes what the area holds; it returns how many
    `what` went (None: blanked texts in rows that stay, not reported)."""
    _add(app, ERASERS_KEY, what, erase)


def register_retention(app, what: str, purge: Callable[[datetime, datetime], int]) -> None:
    """The retention job runs `purge(cutoff, now)`, which removes `what` written before
    `cutoff` and returns how many went."""
    _add(app, RETENTION_KEY, what, purge)


def contributions(key: str) -> list[tuple[str | None, Callable]]:
    """What the areas registered under `key`, in the order they registered it."""
    return current_app.extensions.get(key, [])
