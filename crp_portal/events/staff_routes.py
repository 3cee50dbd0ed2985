"""Staff pages: create, edit, duplicate and cancel events; take attendance."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import EVENTS, scope_required
from crp_portal.events import attendance, bp, door, services
from crp_portal.events.forms import CancelEventForm, EditEventForm, HeadcountForm, NewEventForm
from crp_portal.forms import choices, filled
from crp_portal.housing.services import list_houses
from crp_portal.timeutil import format_date, utcnow
from crp_portal.unit_of_work import unit_of_work
from crp_portal.views import id_from_form


def _with_houses(form):
    """The house list for the house-meeting field; 0 means no house."""
    houses = [(house.id, house.name) for house in list_houses() if house.active]
    form.house_id.choices = choices([(0, "Not a house meeting"), *houses])
    return form


def _details(form) -> services.EventDetails:
    return services.EventDetails(
        **{
            name: form[name].data
            for name in services.detail_field_names()
            if name != "rsvp_deadline_local"
        },
        rsvp_deadline_local=form.rsvp_deadline.data,
    )


def _fill(form, event) -> None:
    details = services.details_of(event)
    for name in services.detail_field_names():
        if name != "rsvp_deadline_local":
            form[name].data = getattr(details, name)
    form.rsvp_deadline.data = details.rsvp_deadline_local


@bp.route("/events/new", methods=["GET", "POST"])
@scope_required(EVENTS)
def new_event():
    """action=check shows the dates saving would create and those a series skips (and
    why), saving nothing; any other submit saves."""
    form = _with_houses(NewEventForm())
    work = unit_of_work(form, "title")
    dates = None
    if form.validate_on_submit():
        repeat = {
            "repeat_weeks": int(form.repeats.data) if form.repeats.data else None,
            "repeat_until": form.repeat_until.data,
            "skip_closed_days": form.skip_closed_days.data,
        }
        if request.form.get("action") == "check":
            with work:
                dates = services.plan_event_dates(_details(form), **repeat)
        else:
            with work:
                created = services.create_event(_details(form), current_user, **repeat)
            if work.saved:
                count = len(created)
                flash(f"{'Event' if count == 1 else f'{count} events'} added.", "success")
                return redirect(url_for("events.detail", event_id=created[0].id))
    page = render_template("events/event_form.html", form=form, event=None, dates=dates)
    return page, work.status


@bp.get("/events/<int:event_id>/duplicate")
@scope_required(EVENTS)
def duplicate(event_id: int):
    """A new-event form filled from an existing event; nothing is saved until submitted."""
    form = _with_houses(NewEventForm(formdata=None))
    _fill(form, services.get_event(event_id))
    return render_template("events/event_form.html", form=form, event=None, duplicating=True)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@scope_required(EVENTS)
def edit_event(event_id: int):
    event = services.get_event(event_id)
    form = _with_houses(EditEventForm())
    if request.method == "GET":
        _fill(form, event)
    # A clash with what is saved (fewer places than people going, perhaps since the form
    # was opened) comes back 409 with the reason beside the title.
    work = unit_of_work(form, "title")
    if form.validate_on_submit():
        with work:
            edit = services.edit_event(event, _details(form), form.scope.data, utcnow())
        if work.saved:
            _flash_edit(edit)
            return redirect(url_for("events.detail", event_id=event_id))
    return render_template("events/event_form.html", form=form, event=event), work.status


def _flash_edit(edit: services.EventEdit) -> None:
    changed = len(edit.changed)
    flash(f"Saved {changed} event{'s' if changed > 1 else ''}.", "success")
    if edit.kept_off:
        days = "; ".join(f"{format_date(e.starts_at)} ({why})" for e, why in edit.kept_off)
        flash(
            f"The series skips breaks and holidays, so these were cancelled instead of "
            f"moved onto a closed day, and everyone going was told: {days}.",
            "info",
        )
    if edit.added:
        days = "; ".join(format_date(added.starts_at) for added in edit.added)
        flash(f"Added in weeks the series had skipped, now open: {days}.", "info")


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@scope_required(EVENTS)
def cancel_event(event_id: int):
    event = services.get_event(event_id)
    form = CancelEventForm()
    if form.validate_on_submit():
        with unit_of_work():
            cancelled = services.cancel_event(event, form.scope.data)
        flash(f"Cancelled {len(cancelled)} event(s); everyone on the list was emailed.", "success")
        return redirect(url_for("events.detail", event_id=event_id))
    return render_template("events/cancel.html", form=form, event=event)


def _ids_from_form(name: str) -> set[int]:
    return {id_from_form(value) for value in request.form.getlist(name)}


@bp.route("/events/<int:event_id>/attendance", methods=["GET", "POST"])
@scope_required(EVENTS)
def take_attendance(event_id: int):
    event = services.get_event(event_id)
    if request.method == "POST":
        with unit_of_work():
            saved = attendance.save_roster(
                event,
                _ids_from_form("present"),
                current_user,
                shown_ids=_ids_from_form("shown"),
                was_present_ids=_ids_from_form("was_present"),
                now=utcnow(),
            )
        message = f"Attendance saved: {saved.present} present."
        if saved.arrived_meanwhile:
            names = ", ".join(person.display_name for person in saved.arrived_meanwhile)
            message += f" Checked in since you opened this page: {names}."
        flash(message, "success")
        return redirect(url_for("events.take_attendance", event_id=event_id))
    query = request.args.get("q", "")[:100]
    now = utcnow()
    is_open = attendance.attendance_open(event, now)
    return render_template(
        "events/attendance.html",
        event=event,
        shown=None if event.headcount_only else door.shown_code(event, now),
        attendance_open=is_open,
        rows=[] if event.headcount_only else attendance.roster(event),
        matches=attendance.find_students(query) if query and is_open else [],
        query=query,
        headcount_form=HeadcountForm(obj=event),
        total=attendance.attendance_count(event),
    )


@bp.post("/events/<int:event_id>/attendance/walk-in")
@scope_required(EVENTS)
def add_walk_in(event_id: int):
    event = services.get_event(event_id)
    walk_in = id_from_form(request.form.get("user_id"))
    with unit_of_work():
        attendance.add_walk_in(event, walk_in, current_user, utcnow())
    flash("Walk-in added.", "success")
    return redirect(url_for("events.take_attendance", event_id=event_id))


@bp.post("/events/<int:event_id>/headcount")
@scope_required(EVENTS)
def headcount(event_id: int):
    event = services.get_event(event_id)
    form = HeadcountForm()
    if form.validate_on_submit():
        with unit_of_work():
            attendance.record_headcount(event, filled(form.headcount.data), utcnow())
        flash(f"Headcount saved: {form.headcount.data}.", "success")
    else:
        flash(form.headcount.errors[0] if form.headcount.errors else "Enter a number.", "error")
    return redirect(url_for("events.take_attendance", event_id=event_id))
