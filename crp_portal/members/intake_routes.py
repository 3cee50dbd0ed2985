"""Joining the program: the student's application, staff's review, the agreement."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import RECOVERY, STUDENT, role_required, scope_required
from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.members import bp, intake
from crp_portal.members.forms import (
    AgreementForm,
    ApplicationSearchForm,
    DecisionForm,
    IntakeForm,
)
from crp_portal.members.models import ACCEPTED, CONVERSATION
from crp_portal.search import page_number
from crp_portal.timeutil import local_today, utcnow
from crp_portal.views import id_from_form

DECISION_FLASHES = {
    ACCEPTED: "{name} is now an active member.",
    CONVERSATION: "{name} has been asked for a conversation.",
}


@bp.route("/me/apply", methods=["GET", "POST"])
@role_required(STUDENT)
def apply():
    agreement = intake.current_agreement()
    form = IntakeForm(agreement_version=agreement.version if agreement else "")
    if form.validate_on_submit():
        try:
            intake.apply(
                current_user,
                form.goals.data or "",
                form.heard_from.data,
                form.heard_from_detail.data or "",
                id_from_form(form.agreement_version.data),
                form.acknowledge.data,
            )
        except DomainError as error:
            db.session.rollback()
            agreement = intake.current_agreement()
            form.agreement_version.data = agreement.version if agreement else ""
            form.acknowledge.data = False
            if error.status_code == 409:
                flash(error.message, "error")
            else:
                form.acknowledge.errors.append(error.message)
        else:
            db.session.commit()
            flash("Thank you. Your application is with the program staff.", "success")
            return redirect(url_for("members.apply"))
    applications = intake.applications_of(current_user)
    may_apply = intake.may_apply(current_user)
    db.session.commit()
    return render_template(
        "members/apply.html",
        form=form,
        agreement=agreement,
        applications=applications,
        may_apply=may_apply,
        profile=current_user.profile,
    )


@bp.post("/me/apply/withdraw")
@role_required(STUDENT)
def withdraw_application():
    intake.withdraw(current_user, utcnow())
    db.session.commit()
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
def application(intake_id: int):
    application = intake.application_for_staff(intake_id, current_user)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            intake.decide(
                current_user,
                application,
                form.decision.data,
                form.note.data or "",
                local_today(),
                status_seen=form.status_seen.data,
            )
        except DomainError as error:
            db.session.rollback()
            if error.status_code == 409:
                raise
            form.note.errors.append(error.message)
        else:
            db.session.commit()
            template = DECISION_FLASHES.get(form.decision.data, "{name}'s application is declined.")
            flash(template.format(name=application.student.name), "success")
            return redirect(url_for("members.applications"))
    form.status_seen.data = application.status
    db.session.commit()
    return render_template("members/application.html", application=application, form=form)


@bp.route("/members/agreement", methods=["GET", "POST"])
@scope_required(RECOVERY)
def program_agreement():
    current = intake.current_agreement()
    form = AgreementForm(body=current.body if current else "")
    if form.validate_on_submit():
        try:
            agreement = intake.publish_agreement(current_user, form.body.data or "")
        except DomainError as error:
            db.session.rollback()
            form.body.errors.append(error.message)
        else:
            db.session.commit()
            flash(f"Published version {agreement.version} of the program agreement.", "success")
            return redirect(url_for("members.program_agreement"))
    return render_template("members/agreement.html", form=form, current=current)
