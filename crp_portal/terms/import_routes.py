"""Staff import the registrar's .ics calendar: choose the feed, check the preview, save."""

from flask import flash, redirect, render_template, request, url_for

from crp_portal.access import NUDGES, scope_required
from crp_portal.forms import filled
from crp_portal.terms import bp, ics_import
from crp_portal.terms.import_forms import ImportCalendarForm, SaveImportForm
from crp_portal.terms.models import PERIOD_KINDS
from crp_portal.unit_of_work import unit_of_work


@bp.route("/import", methods=["GET", "POST"])
@scope_required(NUDGES)
def import_calendar():
    """POST action=preview shows what saving would do; action=save does it."""
    if request.form.get("action") == "save":
        return _save_previewed()
    form = ImportCalendarForm()
    if form.validate_on_submit():
        try:
            text = _feed_text(form)
            events = ics_import.read_feed(text)
        except ics_import.FeedError as error:
            form.error_field().errors.append(error.message)
        else:
            plan = ics_import.plan_import(events, form.keyword_rules)
            return _preview(text, filled(form.rules.data), plan)
    return render_template("terms/import.html", form=form, kinds=PERIOD_KINDS)


def _feed_text(form: ImportCalendarForm) -> str:
    if form.feed_file.data:
        return ics_import.decode_feed(form.feed_file.data.read(ics_import.MAX_FEED_BYTES + 1))
    pasted = form.feed_text.data or ""
    if pasted.strip():
        return pasted
    return ics_import.feed_from_token(form.feed_token.data or "")


def _preview(text: str, rules: str, plan: ics_import.ImportPlan, outdated: bool = False):
    token = ics_import.feed_token(text)
    return render_template(
        "terms/import_preview.html",
        plan=plan,
        counts=plan.counts,
        outdated=outdated,
        save_form=SaveImportForm(formdata=None, feed=token, rules=rules, digest=plan.digest),
        rules_form=ImportCalendarForm(formdata=None, feed_token=token, rules=rules),
    )


def _save_previewed():
    """Read the previewed feed again and save it, unless the outcome differs from what
    the preview showed (the feed, rules, terms or periods changed): then show it anew."""
    form = SaveImportForm()
    try:
        if not form.validate_on_submit():
            raise ics_import.FeedError(ics_import.PREVIEW_UNREADABLE)
        text = ics_import.feed_from_token(filled(form.feed.data))
        plan = ics_import.plan_import(
            ics_import.read_feed(text), ics_import.parse_rules(filled(form.rules.data))
        )
    except (ics_import.FeedError, ics_import.RuleError):
        flash(ics_import.PREVIEW_UNREADABLE, "error")
        return redirect(url_for("terms.import_calendar"))
    if plan.digest != form.digest.data:
        return _preview(text, filled(form.rules.data), plan, outdated=True)
    with unit_of_work():
        counts = ics_import.save_import(plan)
    new = counts[ics_import.NEW]
    flash(
        f"Imported {new} {'period' if new == 1 else 'periods'} "
        f"({counts[ics_import.UPDATED]} updated, {counts[ics_import.UNCHANGED]} unchanged).",
        "success",
    )
    return redirect(url_for("terms.term_list"))
