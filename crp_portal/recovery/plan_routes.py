"""The student's relapse-prevention plan: read, edit (a new version each time), print."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from crp_portal.access import STUDENT, role_required
from crp_portal.recovery import bp, plan
from crp_portal.recovery.plan_forms import PlanForm
from crp_portal.unit_of_work import unit_of_work


@bp.get("/me/plan", endpoint="plan")
@role_required(STUDENT)
def plan_page():
    versions = plan.plan_versions(current_user.id)
    return render_template(
        "recovery/plan.html",
        plan=versions[0] if versions else None,
        earlier=versions[1:],
        profile=current_user.profile,
    )


@bp.route("/me/plan/edit", methods=["GET", "POST"])
@role_required(STUDENT)
def edit_plan():
    current = plan.current_plan(current_user.id)
    form = PlanForm(obj=current)
    work = unit_of_work(form, "warning_signs")
    if form.validate_on_submit():
        with work:
            saved = plan.save_plan(current_user, form.sections())
        if work.saved:
            if saved is None:
                flash("Nothing changed, so no new version was saved.", "info")
            else:
                flash(f"Your plan is saved as version {saved.version}.", "success")
            return redirect(url_for("recovery.plan"))
    return render_template("recovery/plan_edit.html", form=form, plan=current), work.status


@bp.get("/me/plan/versions/<int:version>")
@role_required(STUDENT)
def plan_version(version: int):
    shown = plan.plan_version(current_user, version)
    latest = plan.current_plan(current_user.id)
    return render_template("recovery/plan_version.html", plan=shown, latest=latest)
