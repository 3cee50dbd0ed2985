"""Advisors: their agenda, availability, and booking for a student."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import ADVISOR, role_required
from crp_portal.advising import availability as hours
from crp_portal.advising import bp, closed_days, lists, services
from crp_portal.advising.forms import BookForm, DayOffForm, OpenDayForm, SettingsForm, WindowForm
from crp_portal.advising.routes import by_day, slot_time
from crp_portal.forms import filled
from crp_portal.search import page_number
from crp_portal.timeutil import format_date, local_today, utcnow
from crp_portal.unit_of_work import audited_read, unit_of_work
from crp_portal.views import id_from_form


@bp.get("/agenda")
@role_required(ADVISOR)
def agenda():
    today = local_today()
    return render_template(
        "advising/agenda.html", today=today, agenda=lists.agenda(current_user, today)
    )


@bp.get("/agenda/waiting")
@role_required(ADVISOR)
def awaiting():
    """Every appointment of the advisor's still waiting for an outcome, newest first: the
    agenda lists only the newest few."""
    page = lists.awaiting_page(current_user, local_today(), page_number(request.args))
    return render_template("advising/awaiting.html", page=page)


def _availability_page(settings_form=None, window_form=None, day_off_form=None):
    settings = hours.settings_for(current_user.id)
    return render_template(
        "advising/availability.html",
        settings_form=settings_form or SettingsForm(obj=settings),
        window_form=window_form or WindowForm(),
        day_off_form=day_off_form or DayOffForm(),
        windows=hours.windows_of(current_user.id),
        days_off=hours.days_off_of(current_user.id, local_today()),
        closed_days=closed_days.upcoming_closed_days(current_user.id, local_today()),
    )


@bp.route("/availability", methods=["GET", "POST"])
@role_required(ADVISOR)
def availability():
    form = SettingsForm()
    if form.validate_on_submit():
        with unit_of_work():
            hours.save_settings(
                current_user,
                slot_minutes=form.slot_minutes.data,
                buffer_minutes=form.buffer_minutes.data,
                min_notice_hours=form.min_notice_hours.data,
                horizon_days=form.horizon_days.data,
                max_per_day=form.max_per_day.data,
            )
        flash("Booking settings saved.", "success")
        return redirect(url_for("advising.availability"))
    return _availability_page(settings_form=form if request.method == "POST" else None)


@bp.post("/availability/windows")
@role_required(ADVISOR)
def add_window():
    form = WindowForm()
    work = unit_of_work(form, "end_time")
    if form.validate_on_submit():
        with work:
            hours.add_window(
                current_user, int(form.weekday.data), form.start_time.data, form.end_time.data,
                form.mode.data, filled(form.place.data),
            )  # fmt: skip
        if work.saved:
            flash("Availability added.", "success")
            return redirect(url_for("advising.availability"))
    return _availability_page(window_form=form), work.status


@bp.route("/availability/windows/<int:window_id>/delete", methods=["GET", "POST"])
@role_required(ADVISOR)
def delete_window(window_id: int):
    """GET says what removing the window does and changes nothing; POST removes it."""
    if request.method == "GET":
        removal = hours.plan_window_removal(current_user, window_id, utcnow())
        return render_template("advising/window_remove_confirm.html", removal=removal)
    with unit_of_work():
        hours.delete_window(current_user, window_id)
    flash("Availability removed. Booked appointments stay booked.", "success")
    return redirect(url_for("advising.availability"))


@bp.post("/availability/days-off")
@role_required(ADVISOR)
def add_day_off():
    form = DayOffForm()
    work = unit_of_work(form, "day")
    if form.validate_on_submit():
        with work:
            hours.add_day_off(current_user, filled(form.day.data), form.note.data or "")
        if work.saved:
            flash("Day off added. Booked appointments that day stay booked.", "success")
            return redirect(url_for("advising.availability"))
    return _availability_page(day_off_form=form), work.status


@bp.post("/availability/days-off/<int:day_off_id>/delete")
@role_required(ADVISOR)
def delete_day_off(day_off_id: int):
    with unit_of_work():
        hours.delete_day_off(current_user, day_off_id)
    flash("Day off removed.", "success")
    return redirect(url_for("advising.availability"))


@bp.post("/availability/closed-days/open")
@role_required(ADVISOR)
def open_closed_day():
    """Open one day of a break or holiday for booking."""
    form = OpenDayForm()
    if not form.validate_on_submit():
        flash("Choose one of the listed days to open.", "error")
        return redirect(url_for("advising.availability"))
    day = filled(form.day.data)
    with unit_of_work():
        closed_days.open_day(current_user, day, local_today())
    flash(f"{format_date(day)} is open: students can book your times that day.", "success")
    return redirect(url_for("advising.availability", _anchor="closed-days"))


@bp.post("/availability/opened-days/<int:opened_day_id>/close")
@role_required(ADVISOR)
def close_opened_day(opened_day_id: int):
    with unit_of_work():
        day = closed_days.close_day(current_user, opened_day_id)
    flash(
        f"{format_date(day)} is closed again. Booked appointments that day stay booked.",
        "success",
    )
    return redirect(url_for("advising.availability", _anchor="closed-days"))


@bp.get("/students")
@role_required(ADVISOR)
def find_student():
    query = request.args.get("q", "")[:100].strip()
    return render_template(
        "advising/find_student.html",
        query=query,
        matches=services.find_advisees(current_user, query),
        listed=services.ADVISEES_LISTED,
    )


@bp.get("/students/<int:student_id>")
@role_required(ADVISOR)
@audited_read
def student(student_id: int):
    member = services.student_for_advisor(student_id, current_user)
    now = utcnow()
    slots = services.available_slots(current_user.id, member.id, now)
    return render_template(
        "advising/student.html",
        member=member,
        days=by_day(slots),
        upcoming=lists.upcoming_with(
            current_user, member, now, page_number(request.args, "upcoming_page")
        ),
        past=lists.past_with(current_user, member, now, page_number(request.args)),
    )


@bp.route("/students/<int:student_id>/book", methods=["GET", "POST"])
@role_required(ADVISOR)
@audited_read
def book_for(student_id: int):
    member = services.student_for_advisor(id_from_form(str(student_id)), current_user)
    starts_at = slot_time(request.args.get("start"))
    if starts_at is None:
        flash("Choose one of the listed times.", "error")
        return redirect(url_for("advising.student", student_id=member.id))
    form = BookForm()
    if form.validate_on_submit():
        with unit_of_work():
            appointment = services.book(
                current_user.id, member, starts_at, form.topic.data, form.note.data or "",
                current_user, utcnow(),
            )  # fmt: skip
        flash(f"Booked with {member.name}; you both have a confirmation.", "success")
        return redirect(url_for("advising.appointment", appointment_id=appointment.id))
    return render_template(
        "advising/book.html", advisor=current_user, member=member, starts_at=starts_at, form=form
    )
