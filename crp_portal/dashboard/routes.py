"""Staff dashboard: the figures on screen, a printable report, and CSV exports."""

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, cast

from flask import (
    Response,
    abort,
    current_app,
    get_template_attribute,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from crp_portal import audit, charts
from crp_portal.access import RECOVERY, REPORTS, may, scope_required
from crp_portal.dashboard import bp, exports, queries
from crp_portal.dashboard.engagement import Falling
from crp_portal.dashboard.forms import DashboardFilterForm
from crp_portal.extensions import db
from crp_portal.fragments import KeptMacro
from crp_portal.terms.models import Term
from crp_portal.timeutil import (
    EARLIEST_DATE,
    LATEST_DATE,
    MONTH_NAMES,
    clamp_date,
    in_date_bounds,
    local_today,
)
from crp_portal.unit_of_work import audited_read, refreshing_read

DEFAULT_DAYS = 91  # with no term at all: the last 13 weeks
TERMS = select(Term).order_by(Term.starts_on.desc(), Term.id)  # built once, run per request


@dataclass(frozen=True)
class Filter:
    form: DashboardFilterForm
    date_range: queries.DateRange | None
    term: Term | None  # the term the figures are for (housing), if any
    args: dict[str, str]  # the same filter as query arguments, for links
    notice: str = ""  # what the page says about the range, e.g. a term's dates clamped

    @property
    def valid(self) -> bool:
        return self.date_range is not None


def _term_at(terms: list[Term], day) -> Term | None:
    """The term under way on `day`, else the next to start (as `current_term`, in memory)."""
    running = [t for t in terms if t.starts_on <= day <= t.ends_on]
    if running:
        return min(running, key=lambda t: t.starts_on)
    later = [t for t in terms if t.starts_on > day]
    return min(later, key=lambda t: t.starts_on) if later else None


def _filter() -> Filter:
    terms = list(db.session.scalars(TERMS))
    form = DashboardFilterForm(request.args, terms=terms)
    if not form.validate():
        return Filter(form, None, None, {})
    if form.is_custom:
        chosen = form.custom_range()
        args = {"start": chosen.start.isoformat(), "end": chosen.end.isoformat()}
        return Filter(form, chosen, _term_at(terms, chosen.end), args)
    by_id = {str(term.id): term for term in terms}
    today = local_today()
    # The current term from the list already loaded: one statement fewer than asking again.
    term = by_id.get(form.term.data or "") or _term_at(terms, today)
    if term is None:
        return Filter(
            form, queries.DateRange(today - timedelta(days=DEFAULT_DAYS - 1), today), None, {}
        )
    form.term.data = str(term.id)
    span = _term_range(term)
    return Filter(form, span, term, {"term": str(term.id)}, _clamped_notice(term, span))


def _term_range(term: Term) -> queries.DateRange:
    """The term's dates, inside the years a program can use: a term stored before dates
    were bounded (say 0001 to 9999) is shown for the part a program can use, not a 500."""
    return queries.DateRange(clamp_date(term.starts_on), clamp_date(term.ends_on))


def _clamped_notice(term: Term, span: queries.DateRange) -> str:
    if in_date_bounds(term.starts_on, term.ends_on):
        return ""
    return (
        f"{term.name} is saved with dates outside {EARLIEST_DATE.year}–{LATEST_DATE.year} "
        f"({term.starts_on.isoformat()} to {term.ends_on.isoformat()}), so these figures "
        f"cover {span.start.isoformat()} to {span.end.isoformat()} only. Correct the "
        "term's dates under Terms."
    )


def _charts(figures: queries.Figures) -> dict[str, Markup]:
    """The overview's two charts, drawn as SVG (templates/_charts.html).

    Each is drawn once per set of values it shows, not on every visit: the figures are
    remembered until the data change, and drawing the charts again from them was a fifth
    of the dashboard's time. The labels and values are the cache's key."""
    weekly = figures.weekly
    return {
        "weekly": _weekly_chart(
            # the month's name as `|date` writes it (strftime's %b costs more per week)
            tuple(f"{week.start.day} {MONTH_NAMES[week.start.month - 1]}" for week in weekly),
            tuple(week.attendance for week in weekly),
            tuple(week.unique_attendees for week in weekly),
        ),
        "tiers": _tiers_chart(
            tuple((f"{row.tier} touches", row.members) for row in figures.engagement.tiers)
        ),
    }


@lru_cache(maxsize=32)
def _weekly_chart(labels: tuple, attendance: tuple, unique: tuple) -> Markup:
    chart = charts.line_chart(
        "Attendance and unique attendees by week",
        list(labels),
        [("Attendance", list(attendance)), ("Unique attendees", list(unique))],
    )
    return get_template_attribute("_charts.html", "line_chart")(chart)


@lru_cache(maxsize=32)
def _tiers_chart(items: tuple) -> Markup:
    chart = charts.bar_chart(
        "Active members by touches in the last 30 days", list(items), unit=" members"
    )
    return get_template_attribute("_charts.html", "bar_chart")(chart)


FALLING_ROW = KeptMacro("dashboard/_falling_row.html", "falling_row")
TABLE_BODY = KeptMacro("dashboard/_table_body.html", "table_body", maxsize=256)


def _falling_rows(falling: Falling | None) -> list[Markup]:
    """Each member's row: name, touches before, a link to their record and a button that
    opens a follow-up."""
    if not falling:
        return []
    return FALLING_ROW.each(
        (member.user_id, member.name, member.earlier_touches) for member in falling.members
    )


def _page(template: str, *, suppress: bool, with_falling: bool):
    chosen = _filter()
    fmt = exports.Formatter(current_app.config["CRP_MIN_CELL"], suppress=suppress)
    figures = (
        queries.figures(
            cast(queries.DateRange, chosen.date_range), chosen.term, with_falling=with_falling
        )
        if chosen.valid
        else None
    )
    return render_template(
        template,
        filter=chosen,
        form=chosen.form,
        figures=figures,
        charts=_charts(figures) if figures else None,
        fmt=fmt,
        table_body=TABLE_BODY,
        shown=exports.shown(figures, fmt) if figures else None,
        falling_rows=_falling_rows(figures.falling) if figures else [],
        export_links=_export_links(chosen.args),
    )


def _export_links(args: dict[str, str]) -> dict[str, str]:
    """Each table's CSV download, for the same filter."""
    links = {}
    for table in exports.TABLES:
        values: dict[str, Any] = {**args, "table": table}
        links[table] = url_for("dashboard.export", **values)
    return links


@bp.get("/")
@scope_required(REPORTS)
@refreshing_read
def overview():
    """Figures for the reports area; the list of members whose participation fell names
    people, so it is shown only to staff who also do recovery outreach."""
    with_falling = may(current_user, RECOVERY)
    return _page("dashboard/overview.html", suppress=False, with_falling=with_falling)


@bp.get("/print")
@scope_required(REPORTS)
@refreshing_read
def printable():
    """The report as it may leave the program: small counts suppressed, nobody named."""
    return _page("dashboard/print.html", suppress=True, with_falling=False)


@bp.get("/export/<table>.csv")
@scope_required(REPORTS)
@audited_read  # the export is on the audit trail before the file leaves
def export(table: str):
    if table not in exports.TABLES:
        abort(404)
    chosen = _filter()
    if not chosen.valid:
        messages = [error for errors in chosen.form.errors.values() for error in errors]
        return Response(
            " ".join(messages) + "\n", status=400, mimetype="text/plain", headers=_no_store()
        )
    span = cast(queries.DateRange, chosen.date_range)  # set: the filter is valid
    figures = queries.figures(span, chosen.term, with_falling=False)
    body = exports.to_csv(figures, table, current_app.config["CRP_MIN_CELL"])
    audit.record_export(current_user, table, span.start, span.end)
    filename = (
        f"crp-{table.replace('_', '-')}-{span.start.isoformat()}-to-{span.end.isoformat()}.csv"
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={**_no_store(), "Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _no_store() -> dict[str, str]:
    return {"Cache-Control": "no-store"}
