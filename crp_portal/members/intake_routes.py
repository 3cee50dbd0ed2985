"""Joining the program: the student's application, staff's review, the agreement."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import RECOVERY, STUDENT, role_required, scope_required
from crp_portal.errors import Conflict
from crp_portal.members import bp, intake
from crp_portal.members.forms import (
    AgreementForm,
    ApplicationSearchForm,
    DecisionForm,
    IntakeForm,
)
from crp_portal.members.models import IntakeStatus
from crp_portal.search import page_number
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import audited_read, unit_of_work
from crp_portal.views import id_from_form

DECISION_FLASHES = {
    IntakeStatus.ACCEPTED: "{name} is now an active member.",
    IntakeStatus.CONVERSATION: "{name} has been asked for a conversation.",
}


def _beside(name: str):
    """Where a refusal goes: a clash with what is saved (applied, decided or changed
    meanwhile) is about the whole page, whose form may be gone, so it is said at the top;
    anything else beside the field `name`."""
    return lambda error: None if isinstance(error, Conflict) else name


@bp.route("/me/apply", methods=["GET", "POST"])
@role_required(STUDENT)
def apply():
    agreement = intake.current_agreement()
    form = IntakeForm(agreement_version=agreement.version if agreement else "")
    work = unit_of_work(form, _beside("acknowledge"))
    if form.validate_on_submit():
        with work:
            intake.apply(
                current_user,
                form.goals.data or "",
                form.heard_from.data,
                form.heard_from_detail.data or "",
                id_from_form(form.agreement_version.data),
                form.acknowledge.data,
            )
        if work.saved:
            flash("Thank you. Your application is with the program staff.", "success")
            return redirect(url_for("members.apply"))
        # Refused: ask for the acknowledgement again, of the agreement as it is now.
        agreement = intake.current_agreement()
        form.agreement_version.data = str(agreement.version) if agreement else ""
        form.acknowledge.data = False
    return render_template(
        "members/apply.html",
        form=form,
        agreement=agreement,
        applications=intake.applications_of(current_user),
        may_apply=intake.may_apply(current_user),
        profile=current_user.profile,
    ), work.status


@bp.post("/me/apply/withdraw")
@role_required(STUDENT)
def withdraw_application():
    with unit_of_work():
        intake.withdraw(current_user, utcnow())
    flash("Your application is withdrawn. You can apply again whenever you are ready.", "success")
    return redirect(url_for("members.apply"))


@bp.get("/members/applications")
@scope_required(RECOVERY)
def applications():
    form = ApplicationSearchForm(request.args)
    filters = intake.ApplicationFilter(status=form.status.data or "open")
    page = intake.search_applications(filters, page_number(request.args))
    return render_template("members/applications.html", form=form, page=page)


@bp.route("/members/applications/<int:intake_id>", methods=["GET", "POST"])
@scope_required(RECOVERY)
@audited_read
def application(intake_id: int):
    application = intake.application_for_staff(intake_id, current_user)
    form = DecisionForm()
    work = unit_of_work(form, _beside("note"))  # decided meanwhile: 409, the page as it is now
    if form.validate_on_submit():
        with work:
            intake.decide(
                current_user,
                application,
                form.decision.data,
                form.note.data or "",
                local_today(),
                status_seen=form.status_seen.data,
            )
        if work.saved:
            template = DECISION_FLASHES.get(form.decision.data, "{name}'s application is declined.")
            flash(template.format(name=application.student.name), "success")
            return redirect(url_for("members.applications"))
    form.status_seen.data = application.status
    page = render_template("members/application.html", application=application, form=form)
    return page, work.status


@bp.route("/members/agreement", methods=["GET", "POST"])
@scope_required(RECOVERY)
def program_agreement():
    current = intake.current_agreement()
    form = AgreementForm(body=current.body if current else "")
    work = unit_of_work(form, "body")
    if form.validate_on_submit():
        with work:
            agreement = intake.publish_agreement(current_user, form.body.data or "")
        if work.saved:
            flash(f"Published version {agreement.version} of the program agreement.", "success")
            return redirect(url_for("members.program_agreement"))
    return render_template("members/agreement.html", form=form, current=current), work.status
