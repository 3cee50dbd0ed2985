"""Staff upload the registrar's CSV and read the program's academic outcomes by engagement.

Aggregates only, with small cells suppressed on screen as in the export (see
`outcomes.outcomes_for`); the forms live here because only these views use them.
"""

from dataclasses import dataclass

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField

from crp_portal.access import REPORTS, scope_required
from crp_portal.dashboard import bp, outcomes, registrar_csv
from crp_portal.dashboard.forms import TermFilterForm
from crp_portal.errors import render_error
from crp_portal.forms import PortalForm
from crp_portal.unit_of_work import audited_read, unit_of_work


class OutcomesUploadForm(PortalForm):
    registrar_file = FileField(
        "Registrar file (CSV)",
        validators=[
            FileRequired(message="Choose the registrar's CSV file."),
            FileAllowed(["csv", "txt"], message="Choose a CSV file: its name ends in .csv."),
        ],
        description="Up to 2 MB of UTF-8 text, with a header row naming the five columns below.",
    )
    replace = BooleanField("Replace the records already uploaded for the terms in this file")


class OutcomesFilterForm(TermFilterForm):
    """The term whose outcomes to show."""


@dataclass(frozen=True)
class Chosen:
    form: OutcomesFilterForm
    available: list[outcomes.TermRecords]
    records: outcomes.TermRecords | None  # the term shown; None when none or a bad choice

    @property
    def problem(self) -> str:
        if not self.available:
            return "No registrar records have been uploaded yet."
        return " ".join(error for errors in self.form.errors.values() for error in errors)


def _chosen() -> Chosen:
    """The term asked for, else the latest term with records."""
    available = outcomes.terms_with_records()
    form = OutcomesFilterForm(request.args, terms=[entry.term for entry in available])
    if not available or not form.validate():
        return Chosen(form, available, None)
    by_id = {str(entry.term.id): entry for entry in available}
    records = by_id.get(form.term.data or "") or available[0]
    form.term.data = str(records.term.id)
    return Chosen(form, available, records)


@bp.get("/outcomes")
@scope_required(REPORTS)
def outcomes_page():
    chosen = _chosen()
    term = chosen.records.term if chosen.records else None
    minimum = current_app.config["CRP_MIN_CELL"]
    return render_template(
        "dashboard/outcomes.html",
        chosen=chosen,
        form=chosen.form,
        figures=outcomes.outcomes_for(term, minimum) if term else None,
        uploaded_by=outcomes.last_uploaded_by(term) if term else "",
        minimum=minimum,
    )


@bp.get("/outcomes/export.csv")
@scope_required(REPORTS)
@audited_read  # the export is on the audit trail before the file leaves
def export_outcomes():
    """One row per engagement tier and one for all members; nobody named or numbered."""
    chosen = _chosen()
    if chosen.records is None:
        return Response(
            chosen.problem + "\n", status=400, mimetype="text/plain", headers=_no_store()
        )
    term = chosen.records.term
    body = outcomes.outcomes_csv(outcomes.outcomes_for(term, current_app.config["CRP_MIN_CELL"]))
    outcomes.record_export(current_user, term)
    filename = f"crp-outcomes-{term.starts_on.isoformat()}-to-{term.ends_on.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={**_no_store(), "Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/outcomes/upload", methods=["GET", "POST"])
@scope_required(REPORTS)
def upload_outcomes():
    form = OutcomesUploadForm()
    work = unit_of_work(form, _upload_field)
    if form.validate_on_submit():
        raw = form.registrar_file.data.read(registrar_csv.MAX_FILE_BYTES + 1)
        with work:
            result = outcomes.upload_registrar_csv(current_user, raw, form.replace.data)
        if work.saved:
            flash(outcomes.upload_summary(result), "success")
            return redirect(url_for("dashboard.outcomes_page", term=result.terms[-1].term.id))
    page = render_template(
        "dashboard/outcomes_upload.html", form=form, columns=registrar_csv.COLUMNS
    )
    return page, work.status


def _upload_field(error) -> str:
    """Records already there for a term are the replace box's business; any other refusal
    (each of the file's problems, by line) is the file's."""
    return "replace" if isinstance(error, outcomes.TermsHaveRecords) else "registrar_file"


def _too_large(error):
    """A request over MAX_CONTENT_LENGTH is refused before the view runs (the CSRF check
    reads the form): on the upload page, say so beside the file field."""
    if request.endpoint != "dashboard.upload_outcomes":
        return render_error(413)
    form = OutcomesUploadForm(formdata=None)
    form.registrar_file.errors = [registrar_csv.TOO_BIG]
    page = render_template(
        "dashboard/outcomes_upload.html", form=form, columns=registrar_csv.COLUMNS
    )
    return page, 413


bp.register_error_handler(413, _too_large)


def _no_store() -> dict[str, str]:
    return {"Cache-Control": "no-store"}
