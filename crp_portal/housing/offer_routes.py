"""Offers and the assignment board (staff); accepting or declining an offer (students)."""

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import HOUSING, STUDENT, role_required, scope_required
from crp_portal.errors import DomainError
from crp_portal.forms import choices, filled
from crp_portal.housing import bp, conditions, confirmations, offers, preferences, services
from crp_portal.housing.forms import (
    ConditionForm,
    MoveForm,
    MoveOutForm,
    OfferForm,
    StudentConditionForm,
)
from crp_portal.housing.models import CONDITION_KINDS
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import audited_read, unit_of_work
from crp_portal.views import id_from_form


def _bed_choices(beds):
    return choices(
        (bed.id, f"{bed.room.house.name}, room {bed.room.name}, bed {bed.label}"
         f"{' (accessible)' if bed.accessible else ''}")
        for bed in beds
    )  # fmt: skip


def offer_form_for(application) -> OfferForm:
    """The offer form, starting on a free bed in the student's first choice of house
    (`preferences.preferred_bed`) until staff choose another."""
    form = OfferForm()
    free = offers.free_beds(application.term_id)
    form.bed_id.choices = _bed_choices(free)
    preferred = preferences.preferred_bed(application, free)
    if not form.is_submitted() and preferred is not None:
        form.bed_id.data = preferred.id
    if form.reply_by.data is None:
        form.reply_by.data = local_today() + timedelta(days=7)
    return form


@bp.post("/queue/<int:application_id>/offer")
@scope_required(HOUSING)
@audited_read  # a form sent back shows the application again
def offer(application_id: int):
    application = services.application_for_staff(application_id, current_user, for_update=True)
    form = offer_form_for(application)
    free = form.bed_id.choices
    # Any bed in use passes the form: one another staff member offered a moment ago gets
    # the service's "just offered to someone else", not the form's "Not a valid choice".
    form.bed_id.choices = _bed_choices(offers.beds_in_use())
    if form.validate_on_submit():
        with unit_of_work():
            offers.offer_bed(
                application, form.bed_id.data, filled(form.reply_by.data), form.move_in_on.data,
                current_user, local_today(),
            )  # fmt: skip
        flash(f"Bed offered to {application.student.name}; they have been emailed.", "success")
        return redirect(url_for("housing.board", term=application.term_id))
    form.bed_id.choices = free
    return render_template(
        "housing/review.html",
        application=application,
        form=None,
        offer_form=form,
    )


@bp.get("/board")
@scope_required(HOUSING)
def board():
    terms = services.open_terms(local_today())
    chosen = id_from_form(request.args.get("term"))
    term = next((t for t in terms if t.id == chosen), terms[0] if terms else None)
    rows, live = offers.board(term.id) if term else ([], {})
    return render_template(
        "housing/board.html",
        terms=terms,
        term=term,
        rows=rows,
        live=live,
        move_form=MoveForm(),
        move_out_form=MoveOutForm(),
        free_choices=_bed_choices(offers.free_beds(term.id)) if term else [],
    )


@bp.route("/assignments/<int:assignment_id>/move", methods=["GET", "POST"])
@scope_required(HOUSING)
def move(assignment_id: int):
    """GET says what the move to `bed_id` will do and changes nothing; POST moves."""
    assignment = offers.get_assignment(assignment_id)
    bed_id = id_from_form(request.values.get("bed_id"))
    if request.method == "GET":
        plan = confirmations.plan_move(assignment, bed_id)
        return render_template(
            "housing/move_confirm.html", plan=plan, bed_name=confirmations.bed_name
        )
    with unit_of_work():
        offers.move_resident(assignment, bed_id)
    flash(f"{assignment.student.name} is moved.", "success")
    return redirect(url_for("housing.board", term=assignment.term_id))


def _move_out_page(assignment, form: MoveOutForm, status: int = 200):
    page = render_template(
        "housing/move_out_confirm.html",
        assignment=assignment,
        form=form,
        bed_name=confirmations.bed_name,
    )
    return page, status


@bp.route("/assignments/<int:assignment_id>/move-out", methods=["GET", "POST"])
@scope_required(HOUSING)
def move_out(assignment_id: int):
    """GET asks for the date and says what ending the residency does; POST ends it."""
    assignment = offers.get_assignment(assignment_id)
    form = MoveOutForm()
    if request.method == "GET":
        return _move_out_page(confirmations.check_can_end(assignment), form)
    if not form.validate_on_submit():
        return _move_out_page(confirmations.check_can_end(assignment), form, 400)
    with unit_of_work():
        offers.end_residency(assignment, filled(form.move_out_on.data))
    flash(f"{assignment.student.name}'s residency ends on the date given.", "success")
    return redirect(url_for("housing.board", term=assignment.term_id))


@bp.post("/offers/<int:assignment_id>/<any(accept, decline):answer>")
@role_required(STUDENT)
def answer_offer(assignment_id: int, answer: str):
    assignment = offers.offer_for(current_user, assignment_id)
    with unit_of_work():
        if answer == "accept":
            offers.accept_offer(assignment, local_today())
            message = "You accepted the bed. Welcome home! A confirmation is on its way."
        else:
            offers.decline_offer(assignment)
            message = "You declined the offer."
    flash(message, "success")
    return redirect(url_for("housing.mine"))


@bp.route(
    "/assignments/<int:assignment_id>/condition/<any(move_in, move_out):kind>",
    methods=["GET", "POST"],
)
@scope_required(HOUSING)
def condition_report(assignment_id: int, kind: str):
    assignment = offers.get_assignment(assignment_id)
    existing = conditions.reports_for(assignment).get(kind)
    form = ConditionForm(obj=existing)
    work = unit_of_work(form, "items")
    if form.validate_on_submit():
        with work:
            saved = conditions.record(
                assignment, kind, filled(form.items.data), form.staff_notes.data or "", current_user,
                utcnow(),
            )  # fmt: skip
        if work.saved:
            flash(
                f"{saved.kind_label} report saved. The resident can add to it for 48 hours.",
                "success",
            )
            return redirect(url_for("housing.board", term=assignment.term_id))
    return render_template(
        "housing/condition.html",
        assignment=assignment,
        kind=kind,
        kind_label=CONDITION_KINDS[kind],
        form=form,
        report=existing,
    ), work.status


@bp.post("/condition-reports/<int:report_id>/notes")
@role_required(STUDENT)
def add_condition_notes(report_id: int):
    conditions.report_for(current_user, report_id)
    form = StudentConditionForm()
    if not form.validate_on_submit():
        raise DomainError(form.notes.errors[0] if form.notes.errors else "Write what you noticed.")
    with unit_of_work():
        report = conditions.add_student_notes(
            report_id, current_user, filled(form.notes.data), utcnow()
        )
    flash("Your notes are added to the report.", "success")
    return redirect(
        url_for("housing.application", application_id=report.assignment.application_id)
        if report.assignment.application_id
        else url_for("housing.mine")
    )
