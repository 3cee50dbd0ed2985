"""Students find an advisor and book; both sides view, move and cancel appointments."""

from datetime import UTC, datetime, timedelta

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import ADVISOR, REPORTS, STUDENT, role_required, scope_required
from crp_portal.advising import bp, calendar, lists, services, summaries
from crp_portal.advising.forms import BookForm, CancelForm, OutcomeForm
from crp_portal.errors import DomainError, Forbidden
from crp_portal.search import page_number
from crp_portal.timeutil import in_date_bounds, local_midnight, local_today, program_zone, utcnow
from crp_portal.unit_of_work import marking_read, unit_of_work


def slot_time(key: str | None) -> datetime | None:
    """A slot key like 20261201T1400Z back to an aware datetime; junk (a year outside the
    bounds too) gives None."""
    try:
        moment = datetime.strptime(key or "", "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment if in_date_bounds(moment) else None


def by_day(slots) -> dict:
    days: dict = {}
    for slot in slots:
        days.setdefault(slot.starts_at.astimezone(program_zone()).date(), []).append(slot)
    return days


@bp.get("/")
@role_required(STUDENT)
def advisors():
    return render_template(
        "advising/advisors.html",
        advisors=services.list_advisors(),
        upcoming=lists.upcoming_page(current_user, utcnow(), 1, size=5).appointments,
        closed=services.opens_later(current_user),
    )


@bp.get("/advisors/<int:advisor_id>")
@role_required(STUDENT)
def advisor_slots(advisor_id: int):
    advisor = services.get_advisor(advisor_id)
    closed = services.opens_later(current_user)
    if closed is not None:
        return render_template("advising/slots.html", advisor=advisor, closed=closed)
    if services.self_booking_paused(current_user):
        return render_template("advising/slots.html", advisor=advisor, paused=services.PAUSED)
    slots = services.available_slots(advisor.id, current_user.id, utcnow())
    return render_template("advising/slots.html", advisor=advisor, days=by_day(slots))


@bp.route("/advisors/<int:advisor_id>/book", methods=["GET", "POST"])
@role_required(STUDENT)
def book(advisor_id: int):
    advisor = services.get_advisor(advisor_id)
    starts_at = slot_time(request.args.get("start"))
    if starts_at is None:
        flash("Choose one of the listed times.", "error")
        return redirect(url_for("advising.advisor_slots", advisor_id=advisor.id))
    closed = services.opens_later(current_user)
    if closed is not None:
        if request.method == "POST":
            raise Forbidden(closed)
        return render_template("advising/book.html", advisor=advisor, closed=closed)
    form = BookForm()
    if form.validate_on_submit():
        with unit_of_work():
            appointment = services.book(
                advisor.id, current_user, starts_at, form.topic.data, form.note.data or "",
                current_user, utcnow(),
            )  # fmt: skip
        flash("Your appointment is booked. A confirmation is on its way.", "success")
        return redirect(url_for("advising.appointment", appointment_id=appointment.id))
    return render_template("advising/book.html", advisor=advisor, starts_at=starts_at, form=form)


@bp.get("/appointments")
@role_required(STUDENT)
def my_appointments():
    now = utcnow()
    return render_template(
        "advising/my_appointments.html",
        upcoming=lists.upcoming_page(current_user, now, page_number(request.args, "upcoming_page")),
        past=lists.past_page(current_user, now, page_number(request.args)),
        no_shows=services.no_show_count(current_user.id),
    )


@bp.get("/appointments/<int:appointment_id>")
@role_required(STUDENT, ADVISOR)
@marking_read
def appointment(appointment_id: int):
    found = services.appointment_for(current_user, appointment_id)
    summaries.mark_summary_seen(found, current_user, utcnow())
    outcome_form = OutcomeForm(obj=found) if current_user.id == found.advisor_id else None
    return _appointment_page(found, outcome_form)


def _appointment_page(found, outcome_form):
    cut_off = timedelta(hours=current_app.config["CRP_ADVISING_CANCEL_CUTOFF_HOURS"])
    return render_template(
        "advising/appointment.html",
        appointment=found,
        cancel_form=CancelForm(),
        outcome_form=outcome_form,
        now=utcnow(),
        cut_off=cut_off,
    )


@bp.get("/appointments/<int:appointment_id>.ics")
@role_required(STUDENT, ADVISOR)
def appointment_ics(appointment_id: int):
    found = services.appointment_for(current_user, appointment_id)
    return Response(
        calendar.appointment_ics(found, current_user),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="appointment-{found.id}.ics"'},
    )


@bp.post("/appointments/<int:appointment_id>/cancel")
@role_required(STUDENT, ADVISOR)
def cancel(appointment_id: int):
    found = services.appointment_for(current_user, appointment_id)
    form = CancelForm()
    reason = form.reason.data if form.validate_on_submit() else ""
    seen = request.form.get("sequence", type=int)
    with unit_of_work():
        services.cancel(found, current_user, reason or "", utcnow(), seen)
    flash("The appointment is cancelled; both of you have been emailed.", "success")
    return redirect(url_for("advising.appointment", appointment_id=found.id))


@bp.route("/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
@role_required(STUDENT, ADVISOR)
def reschedule(appointment_id: int):
    found = services.appointment_for(current_user, appointment_id)
    now = utcnow()
    if request.method == "POST":
        starts_at = slot_time(request.form.get("start"))
        if starts_at is None:
            raise DomainError("Choose one of the listed times.")
        seen = request.form.get("sequence", type=int)
        with unit_of_work():
            services.reschedule(found, current_user, starts_at, now, seen)
        flash("The appointment is moved; both of you have been emailed.", "success")
        return redirect(url_for("advising.appointment", appointment_id=found.id))
    if "start" in request.args:
        starts_at = slot_time(request.args.get("start"))
        if starts_at is None:
            raise DomainError("Choose one of the listed times.")
        move = services.propose_move(found, current_user, starts_at, now)
        return render_template("advising/reschedule_confirm.html", appointment=found, move=move)
    slots = [
        slot
        for slot in services.available_slots(found.advisor_id, found.student_id, now, found.id)
        if slot.starts_at != found.starts_at
    ]
    return render_template("advising/reschedule.html", appointment=found, days=by_day(slots))


@bp.post("/appointments/<int:appointment_id>/outcome")
@role_required(ADVISOR)
def record_outcome(appointment_id: int):
    found = services.appointment_for(current_user, appointment_id)
    form = OutcomeForm()
    work = unit_of_work(form, "status")
    if form.validate_on_submit():
        with work:
            services.record_outcome(
                found, current_user, form.status.data, form.private_notes.data or "",
                form.summary.data or "", form.action_items.data or "", utcnow(),
            )  # fmt: skip
        if work.saved:
            flash("Outcome saved.", "success")
            return redirect(url_for("advising.appointment", appointment_id=found.id))
    return _appointment_page(found, form), work.status


@bp.get("/overview")
@scope_required(REPORTS)
def overview():
    today = local_today()
    start = local_midnight(today - timedelta(days=30))
    end = local_midnight(today + timedelta(days=31))
    return render_template(
        "advising/overview.html", rows=services.counts_by_advisor(start, end), today=today
    )
