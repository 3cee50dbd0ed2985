"""Staff's follow-up queue: who should hear from the program, and what came of it."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import RECOVERY, scope_required
from crp_portal.errors import Conflict, DomainError
from crp_portal.extensions import db
from crp_portal.members import bp, check_ins, follow_ups
from crp_portal.members.care_forms import (
    AssignForm,
    FollowUpNoteForm,
    OpenFollowUpForm,
    ResolveForm,
)
from crp_portal.search import page_number
from crp_portal.views import commit_or_form_error, id_from_form


@bp.get("/follow-ups/")
@scope_required(RECOVERY)
def follow_up_queue():
    view = request.args.get("view", follow_ups.OPEN_VIEW)
    view = view if view in follow_ups.QUEUE_VIEWS else follow_ups.OPEN_VIEW
    return render_template(
        "follow_ups/queue.html",
        view=view,
        views=follow_ups.QUEUE_VIEWS,
        counts=follow_ups.queue_counts(current_user),
        page=follow_ups.follow_up_queue(view, current_user, page_number(request.args)),
    )


def _detail(follow_up_id: int, note_form=None, resolve_form=None, assign_form=None):
    """The follow-up page; each render opens the student's record, so it is audited.

    A form that failed validation is shown again with its errors and the person's input.
    """
    follow_up = follow_ups.follow_up_for_staff(follow_up_id, current_user)
    shared = follow_ups.shares_check_ins(follow_up)
    assign_form = assign_form or AssignForm(formdata=None)
    assign_form.assigned_seen.data = str(follow_up.assigned_to_id or "")
    recent = check_ins.recent_check_ins(follow_up.student_id) if shared else []
    page = render_template(
        "follow_ups/detail.html",
        follow_up=follow_up,
        profile=follow_up.student.profile,
        shared=shared,
        recent=recent,
        recent_chart=check_ins.trend_chart(recent),
        note_form=note_form or FollowUpNoteForm(formdata=None),
        resolve_form=resolve_form or ResolveForm(formdata=None),
        assign_form=assign_form.offer(follow_ups.active_staff()),
    )
    db.session.commit()  # after rendering, so the page reads what was loaded, not reloads
    return page


@bp.get("/follow-ups/<int:follow_up_id>")
@scope_required(RECOVERY)
def follow_up(follow_up_id: int):
    return _detail(follow_up_id)


def _back(follow_up_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("members.follow_up", follow_up_id=follow_up_id))


@bp.post("/follow-ups/<int:follow_up_id>/assign")
@scope_required(RECOVERY)
def assign_follow_up(follow_up_id: int):
    follow_up = follow_ups.get_follow_up(follow_up_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _detail(follow_up_id, assign_form=form)
    raw = form.assignee_id.data
    assignee_id = current_user.id if request.form.get("to_me") else id_from_form(raw)
    seen = form.assigned_seen.data
    seen = follow_ups.NOT_SEEN if seen is None else (id_from_form(seen) or None)
    try:
        assigned = follow_ups.assign(follow_up, assignee_id, seen)
    except DomainError as error:
        # A clash with what is saved (resolved, or claimed since the page was opened) is
        # answered 409 with the reason beside the field; a bad choice is a plain re-show.
        db.session.rollback()
        form.assignee_id.errors.append(error.message)
        return _detail(follow_up_id, assign_form=form), 409 if isinstance(error, Conflict) else 200
    db.session.commit()
    who = "you" if assigned.assigned_to_id == current_user.id else assigned.assigned_to.name
    return _back(follow_up_id, f"Assigned to {who}.")


@bp.post("/follow-ups/<int:follow_up_id>/notes")
@scope_required(RECOVERY)
def add_follow_up_note(follow_up_id: int):
    follow_up = follow_ups.get_follow_up(follow_up_id)
    form = FollowUpNoteForm()
    if not form.validate_on_submit():
        return _detail(follow_up_id, note_form=form)
    added = commit_or_form_error(
        form, "body", lambda: follow_ups.add_note(follow_up, current_user, form.body.data)
    )
    if added is None:
        return _detail(follow_up_id, note_form=form)
    return _back(follow_up_id, "Note added.")


@bp.post("/follow-ups/<int:follow_up_id>/resolve")
@scope_required(RECOVERY)
def resolve_follow_up(follow_up_id: int):
    follow_up = follow_ups.get_follow_up(follow_up_id)
    form = ResolveForm()
    if not form.validate_on_submit():
        return _detail(follow_up_id, resolve_form=form)
    follow_ups.resolve(follow_up, current_user, form.closing_note.data or "")
    db.session.commit()
    return _back(follow_up_id, "Follow-up resolved.")


@bp.post("/follow-ups/<int:follow_up_id>/reopen")
@scope_required(RECOVERY)
def reopen_follow_up(follow_up_id: int):
    follow_ups.reopen(follow_ups.get_follow_up(follow_up_id))
    db.session.commit()
    return _back(follow_up_id, "Follow-up reopened.")


@bp.post("/members/<int:user_id>/follow-ups")
@scope_required(RECOVERY)
def open_follow_up(user_id: int):
    student = follow_ups.student_for_follow_up(user_id)
    form = OpenFollowUpForm()
    if not form.validate_on_submit():
        return render_template("follow_ups/open.html", student=student, form=form)
    follow_up = follow_ups.open_by_staff(student, current_user, form.note.data or "")
    db.session.commit()
    return _back(follow_up.id, "Follow-up opened.")
