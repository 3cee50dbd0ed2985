"""Students apply for recovery housing and follow their application."""

from typing import cast

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import STUDENT, role_required
from crp_portal.errors import Forbidden
from crp_portal.events.queries import house_meetings
from crp_portal.forms import choices
from crp_portal.housing import bp, conditions, offers, services
from crp_portal.housing.forms import ApplicationForm, StudentConditionForm
from crp_portal.housing.models import BedAssignment
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import unit_of_work
from crp_portal.views import id_from_form


@bp.get("/")
@role_required(STUDENT)
def mine():
    return render_template(
        "housing/mine.html",
        applications=services.applications_of(current_user),
        agreement=services.current_agreement(),
        closed=services.opens_later(current_user),
    )


def _application_form() -> ApplicationForm:
    form = ApplicationForm()
    terms = services.open_terms(local_today())
    houses = [house for house in services.list_houses() if house.active]
    form.term_id.choices = choices((term.id, term.name) for term in terms)
    form.first_choice_id.choices = choices((house.id, house.name) for house in houses)
    form.second_choice_id.choices = choices(
        [(0, "No second choice"), *((house.id, house.name) for house in houses)]
    )
    return form


@bp.route("/apply", methods=["GET", "POST"])
@role_required(STUDENT)
def apply():
    closed = services.opens_later(current_user)
    if closed is not None:
        if request.method == "POST":
            raise Forbidden(closed)
        return render_template("housing/apply.html", closed=closed)
    form = _application_form()
    agreement = services.current_agreement()
    work = unit_of_work(form, "term_id")
    if form.validate_on_submit():
        details = services.ApplicationDetails(
            term_id=form.term_id.data,
            first_choice_id=form.first_choice_id.data or None,
            second_choice_id=form.second_choice_id.data or None,
            roommate_request=form.roommate_request.data or "",
            accessibility_needs=form.accessibility_needs.data or "",
            move_in_wish=form.move_in_wish.data,
            agreement_version=id_from_form(request.form.get("agreement_version")),
        )
        with work:
            application = services.apply(current_user, details, local_today(), utcnow())
        if work.saved:
            flash("Your application is in. We have emailed you a copy.", "success")
            return redirect(url_for("housing.application", application_id=application.id))
    return render_template("housing/apply.html", form=form, agreement=agreement), work.status


@bp.get("/applications/<int:application_id>")
@role_required(STUDENT)
def application(application_id: int):
    found = services.application_for(current_user, application_id)
    assignment = offers.assignment_of(current_user, found.term_id)
    resident = assignment is not None and assignment.is_accepted
    return render_template(
        "housing/application.html",
        application=found,
        assignment=assignment,
        today=local_today(),
        meetings=house_meetings(
            current_user, cast(BedAssignment, assignment).bed.room.house_id, utcnow()
        )
        if resident
        else [],
        reports=conditions.reports_for(assignment).values() if assignment else [],
        report_window_open=lambda report: conditions.student_window_open(report, utcnow()),
        note_form=StudentConditionForm(),
    )


@bp.post("/applications/<int:application_id>/withdraw")
@role_required(STUDENT)
def withdraw(application_id: int):
    with unit_of_work():
        services.withdraw(services.application_for(current_user, application_id))
    flash("Your application is withdrawn.", "success")
    return redirect(url_for("housing.mine"))
