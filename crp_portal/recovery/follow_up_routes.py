"""Staff's follow-up queue: who should hear from the program, and what came of it."""

from typing import cast

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import RECOVERY, scope_required
from crp_portal.auth.models import User
from crp_portal.forms import filled
from crp_portal.recovery import bp, check_ins, follow_ups
from crp_portal.recovery.forms import (
    AssignForm,
    FollowUpNoteForm,
    OpenFollowUpForm,
    ResolveForm,
)
from crp_portal.search import page_number
from crp_portal.unit_of_work import audited_read, unit_of_work
from crp_portal.views import id_from_form


@bp.get("/follow-ups/")
@scope_required(RECOVERY)
def follow_up_queue():
    view = request.args.get("view", follow_ups.OPEN_VIEW)
    view = view if view in follow_ups.QUEUE_VIEWS else follow_ups.OPEN_VIEW
    return render_template(
        "recovery/follow_up_queue.html",
        view=view,
        views=follow_ups.QUEUE_VIEWS,
        counts=follow_ups.queue_counts(current_user),
        page=follow_ups.follow_up_queue(view, current_user, page_number(request.args)),
    )


def _detail(follow_up_id: int, note_form=None, resolve_form=None, assign_form=None):
    """The follow-up page; each render opens the student's record, so it is audited (the
    views that show it are `audited_read`).

    A form that failed validation is shown again with its errors and the person's input.
    """
    follow_up = follow_ups.follow_up_for_staff(follow_up_id, current_user)
    shared = follow_ups.shares_check_ins(follow_up)
    assign_form = assign_form or AssignForm(formdata=None)
    assign_form.assigned_seen.data = str(follow_up.assigned_to_id or "")
    recent = check_ins.recent_check_ins(follow_up.student_id) if shared else []
    return render_template(
        "recovery/follow_up.html",
        follow_up=follow_up,
        profile=follow_up.student.profile,
        shared=shared,
        recent=recent,
        recent_chart=check_ins.trend_chart(recent),
        note_form=note_form or FollowUpNoteForm(formdata=None),
        resolve_form=resolve_form or ResolveForm(formdata=None),
        assign_form=assign_form.offer(follow_ups.active_staff()),
    )


@bp.get("/follow-ups/<int:follow_up_id>")
@scope_required(RECOVERY)
@audited_read
def follow_up(follow_up_id: int):
    return _detail(follow_up_id)


def _back(follow_up_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("recovery.follow_up", follow_up_id=follow_up_id))


@bp.post("/follow-ups/<int:follow_up_id>/assign")
@scope_required(RECOVERY)
@audited_read  # a form sent back shows the follow-up again
def assign_follow_up(follow_up_id: int):
    follow_up = follow_ups.get_follow_up(follow_up_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _detail(follow_up_id, assign_form=form)
    raw = form.assignee_id.data
    assignee_id = current_user.id if request.form.get("to_me") else id_from_form(raw)
    seen: object = form.assigned_seen.data
    seen = follow_ups.NOT_SEEN if seen is None else (id_from_form(seen) or None)
    # A clash with what is saved (resolved, or claimed since the page was opened) is
    # answered 409 with the reason beside the field; a bad choice 422.
    with unit_of_work(form, "assignee_id") as work:
        assigned = follow_ups.assign(follow_up, assignee_id, seen)
    if not work.saved:
        return _detail(follow_up_id, assign_form=form), work.status
    who = (
        "you"
        if assigned.assigned_to_id == current_user.id
        else cast(User, assigned.assigned_to).name
    )
    return _back(follow_up_id, f"Assigned to {who}.")


@bp.post("/follow-ups/<int:follow_up_id>/notes")
@scope_required(RECOVERY)
@audited_read  # a form sent back shows the follow-up again
def add_follow_up_note(follow_up_id: int):
    follow_up = follow_ups.get_follow_up(follow_up_id)
    form = FollowUpNoteForm()
    if not form.validate_on_submit():
        return _detail(follow_up_id, note_form=form)
    with unit_of_work(form, "body") as work:
        follow_ups.add_note(follow_up, current_user, filled(form.body.data))
    if not work.saved:
        return _detail(follow_up_id, note_form=form), work.status
    return _back(follow_up_id, "Note added.")


@bp.post("/follow-ups/<int:follow_up_id>/resolve")
@scope_required(RECOVERY)
@audited_read  # a form sent back shows the follow-up again
def resolve_follow_up(follow_up_id: int):
    follow_up = follow_ups.get_follow_up(follow_up_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        return _detail(follow_up_id, resolve_form=form)
    with unit_of_work():
        follow_ups.resolve(follow_up, current_user, form.closing_note.data or "")
    return _back(follow_up_id, "Follow-up resolved.")


@bp.post("/follow-ups/<int:follow_up_id>/reopen")
@scope_required(RECOVERY)
def reopen_follow_up(follow_up_id: int):
    with unit_of_work():
        follow_ups.reopen(follow_ups.get_follow_up(follow_up_id))
    return _back(follow_up_id, "Follow-up reopened.")


@bp.post("/members/<int:user_id>/follow-ups")
@scope_required(RECOVERY)
def open_follow_up(user_id: int):
    student = follow_ups.student_for_follow_up(user_id)
    form = OpenFollowUpForm()
    if not form.validate_on_submit():
        return render_template("recovery/open_follow_up.html", student=student, form=form)
    with unit_of_work():
        follow_up = follow_ups.open_by_staff(student, current_user, form.note.data or "")
    return _back(follow_up.id, "Follow-up opened.")
