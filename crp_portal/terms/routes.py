"""Staff pages for academic terms and their calendar periods."""

from flask import flash, redirect, render_template, url_for

from crp_portal.access import NUDGES, scope_required
from crp_portal.forms import filled
from crp_portal.terms import bp, services
from crp_portal.terms.forms import PeriodForm, TermForm
from crp_portal.timeutil import local_today
from crp_portal.unit_of_work import unit_of_work


@bp.get("/")
@scope_required(NUDGES)
def term_list():
    terms = services.list_terms()
    current = services.current_term(local_today())
    return render_template("terms/list.html", terms=terms, current=current)


@bp.route("/new", methods=["GET", "POST"])
@scope_required(NUDGES)
def new_term():
    form = TermForm()
    work = unit_of_work(form, "ends_on")
    if form.validate_on_submit():
        with work:
            term = services.create_term(
                filled(form.name.data), filled(form.starts_on.data), filled(form.ends_on.data)
            )
        if work.saved:
            flash(f"{term.name} is added. Now add its calendar periods.", "success")
            return redirect(url_for("terms.term_detail", term_id=term.id))
    return render_template("terms/term_form.html", form=form, term=None), work.status


@bp.get("/<int:term_id>")
@scope_required(NUDGES)
def term_detail(term_id: int):
    term = services.get_term(term_id)
    return render_template("terms/detail.html", term=term, form=PeriodForm())


@bp.route("/<int:term_id>/edit", methods=["GET", "POST"])
@scope_required(NUDGES)
def edit_term(term_id: int):
    term = services.get_term(term_id)
    form = TermForm(obj=term)
    work = unit_of_work(form, "ends_on")
    if form.validate_on_submit():
        with work:
            saved = services.update_term(
                term, filled(form.name.data), filled(form.starts_on.data), filled(form.ends_on.data)
            )
        if work.saved:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("terms.term_detail", term_id=term_id))
    return render_template("terms/term_form.html", form=form, term=term), work.status


@bp.post("/<int:term_id>/delete")
@scope_required(NUDGES)
def delete_term(term_id: int):
    term = services.get_term(term_id)
    name = term.name
    with unit_of_work():
        services.delete_term(term)
    flash(f"{name} and its calendar periods are deleted.", "success")
    return redirect(url_for("terms.term_list"))


@bp.post("/<int:term_id>/periods")
@scope_required(NUDGES)
def add_period(term_id: int):
    term = services.get_term(term_id)
    form = PeriodForm()
    work = unit_of_work(form, "ends_on")
    if form.validate_on_submit():
        with work:
            period = services.add_period(
                term,
                form.kind.data,
                form.name.data or "",
                filled(form.starts_on.data),
                filled(form.ends_on.data),
            )
        if work.saved:
            flash(f"{period.name} is added to {term.name}.", "success")
            return redirect(url_for("terms.term_detail", term_id=term_id))
        term = services.get_term(term_id)
    return render_template("terms/detail.html", term=term, form=form), work.status


@bp.route("/periods/<int:period_id>/edit", methods=["GET", "POST"])
@scope_required(NUDGES)
def edit_period(period_id: int):
    period = services.get_period(period_id)
    form = PeriodForm(obj=period)
    work = unit_of_work(form, "ends_on")
    if form.validate_on_submit():
        with work:
            saved = services.update_period(
                period,
                form.kind.data,
                form.name.data or "",
                filled(form.starts_on.data),
                filled(form.ends_on.data),
            )
        if work.saved:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("terms.term_detail", term_id=saved.term_id))
    return render_template("terms/period_form.html", form=form, period=period), work.status


@bp.post("/periods/<int:period_id>/delete")
@scope_required(NUDGES)
def delete_period(period_id: int):
    period = services.get_period(period_id)
    term_id, name = period.term_id, period.name
    with unit_of_work():
        services.delete_period(period)
    flash(f"{name} is deleted.", "success")
    return redirect(url_for("terms.term_detail", term_id=term_id))
