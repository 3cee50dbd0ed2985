"""Staff curate outside support meetings; students filter them."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import EVENTS, STUDENT, may, scope_required
from crp_portal.search import page_number
from crp_portal.support_meetings import bp, services
from crp_portal.support_meetings.forms import MeetingFilterForm, MeetingForm
from crp_portal.unit_of_work import unit_of_work


@bp.get("/support-meetings/")
@scope_required(EVENTS, also=(STUDENT,))
def directory():
    form = MeetingFilterForm(request.args)
    can_manage = may(current_user, EVENTS)
    page = services.meetings_page(form.meeting_filter(), can_manage, page_number(request.args))
    return render_template(
        "support_meetings/directory.html",
        form=form,
        page=page,
        meetings=page.items,
        can_manage=can_manage,
    )


@bp.route("/support-meetings/new", methods=["GET", "POST"])
@scope_required(EVENTS)
def new_meeting():
    form = MeetingForm()
    work = unit_of_work(form, "location")
    if form.validate_on_submit():
        with work:
            meeting = services.create_meeting(form.details())
        if work.saved:
            flash(f"{meeting.name} is added.", "success")
            return redirect(url_for("support_meetings.directory"))
    page = render_template("support_meetings/meeting_form.html", form=form, meeting=None)
    return page, work.status


@bp.route("/support-meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@scope_required(EVENTS)
def edit_meeting(meeting_id: int):
    meeting = services.get_meeting(meeting_id)
    form = MeetingForm(obj=meeting)
    work = unit_of_work(form, "location")
    if form.validate_on_submit():
        with work:
            saved = services.update_meeting(meeting, form.details())
        if work.saved:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("support_meetings.directory"))
    page = render_template("support_meetings/meeting_form.html", form=form, meeting=meeting)
    return page, work.status


@bp.post("/support-meetings/<int:meeting_id>/delete")
@scope_required(EVENTS)
def delete_meeting(meeting_id: int):
    meeting = services.get_meeting(meeting_id)
    name = meeting.name
    with unit_of_work():
        services.delete_meeting(meeting)
    flash(f"{name} is deleted from the directory.", "success")
    return redirect(url_for("support_meetings.directory"))
