"""A student's own profile; staff's member list and member record."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import STAFF, STUDENT, role_required
from crp_portal.extensions import db
from crp_portal.members import bp, network, services
from crp_portal.members.forms import MemberSearchForm, MembershipForm, OwnProfileForm
from crp_portal.search import page_number
from crp_portal.timeutil import local_today
from crp_portal.views import commit_or_form_error


@bp.route("/me/profile", methods=["GET", "POST"])
@role_required(STUDENT)
def own_profile():
    profile = services.own_profile(current_user)
    form = OwnProfileForm(obj=profile)
    if form.validate_on_submit():
        services.update_own_profile(
            current_user,
            form.preferred_name.data or "",
            form.pronouns.data or "",
            show_first_name_to_peers=form.show_first_name_to_peers.data,
            show_real_titles=form.show_real_titles.data,
        )
        db.session.commit()
        flash("Your profile is saved.", "success")
        return redirect(url_for("members.own_profile"))
    db.session.commit()
    return render_template("members/own_profile.html", profile=profile, form=form)


@bp.get("/me/record-views")
@role_required(STUDENT)
def record_views():
    return render_template(
        "members/record_views.html", entries=services.views_of_my_record(current_user)
    )


@bp.get("/members/")
@role_required(STAFF)
def member_list():
    form = MemberSearchForm(request.args)
    filters = services.MemberFilter(query=(form.q.data or "")[:100], status=form.status.data or "")
    page = services.search_members(filters, page_number(request.args))
    counts = services.status_counts()
    return render_template("members/list.html", form=form, page=page, counts=counts)


@bp.route("/members/<int:user_id>", methods=["GET", "POST"])
@role_required(STAFF)
def member_record(user_id: int):
    profile = services.member_for_staff(user_id, current_user)
    form = MembershipForm(obj=profile)
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            "student_id",
            lambda: services.set_status(
                profile, form.status.data, form.student_id.data or "", local_today()
            ),
        )
        if saved is not None:
            flash(f"Saved {profile.user.name}'s membership.", "success")
            return redirect(url_for("members.member_record", user_id=user_id))
    db.session.commit()
    return render_template(
        "members/record.html",
        profile=profile,
        form=form,
        network=network.network_for_staff(profile),
    )
