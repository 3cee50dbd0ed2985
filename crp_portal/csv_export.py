"""The one way the portal writes a CSV file, so no cell can run as a spreadsheet formula.

A spreadsheet takes a cell starting with =, +, - or @ as a formula (and one starting with
a tab or a carriage return, once it trims it): a house named `=HYPERLINK("http://…")`
would become a link in the spreadsheet of whoever opens the export ("CSV injection").
Every text cell starting so gets a leading single quote, as OWASP recommends, which a
spreadsheet shows as text. Numbers are written as numbers: -3 is a number, not a formula.
"""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> object:
    """The value as it is safe to write: a number or nothing as it is, anything else as
    text, quoted when a spreadsheet would run it."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Iterable, rows: Iterable[Iterable]) -> str:
    """The header and rows as CSV text, lines ending in CRLF as RFC 4180 has them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(value) for value in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()
