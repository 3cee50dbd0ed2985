"""Staff curate outside support meetings; students filter them."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import EVENTS, STUDENT, may, scope_required
from crp_portal.extensions import db
from crp_portal.support_meetings import bp, services
from crp_portal.support_meetings.forms import MeetingFilterForm, MeetingForm
from crp_portal.views import commit_or_form_error


@bp.get("/support-meetings/")
@scope_required(EVENTS, also=(STUDENT,))
def directory():
    form = MeetingFilterForm(request.args)
    can_manage = may(current_user, EVENTS)
    meetings = services.list_meetings(form.meeting_filter(), include_inactive=can_manage)
    return render_template(
        "support_meetings/directory.html", form=form, meetings=meetings, can_manage=can_manage
    )


@bp.route("/support-meetings/new", methods=["GET", "POST"])
@scope_required(EVENTS)
def new_meeting():
    form = MeetingForm()
    if form.validate_on_submit():
        meeting = commit_or_form_error(
            form, "location", lambda: services.create_meeting(form.details())
        )
        if meeting is not None:
            flash(f"{meeting.name} is added.", "success")
            return redirect(url_for("support_meetings.directory"))
    return render_template("support_meetings/meeting_form.html", form=form, meeting=None)


@bp.route("/support-meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@scope_required(EVENTS)
def edit_meeting(meeting_id: int):
    meeting = services.get_meeting(meeting_id)
    form = MeetingForm(obj=meeting)
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form, "location", lambda: services.update_meeting(meeting, form.details())
        )
        if saved is not None:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("support_meetings.directory"))
    return render_template("support_meetings/meeting_form.html", form=form, meeting=meeting)


@bp.post("/support-meetings/<int:meeting_id>/delete")
@scope_required(EVENTS)
def delete_meeting(meeting_id: int):
    meeting = services.get_meeting(meeting_id)
    name = meeting.name
    services.delete_meeting(meeting)
    db.session.commit()
    flash(f"{name} is deleted from the directory.", "success")
    return redirect(url_for("support_meetings.directory"))
