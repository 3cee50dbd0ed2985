"""A student's own profile; staff's member list and member record."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import RECOVERY, STUDENT, role_required, scope_required
from crp_portal.audit.search import access_log
from crp_portal.extensions import db
from crp_portal.forms import choices
from crp_portal.members import bp, intake, record, services
from crp_portal.members.forms import AdvisorForm, MemberSearchForm, MembershipForm, OwnProfileForm
from crp_portal.members.models import EMAIL_CATEGORY_LABELS
from crp_portal.search import page_number
from crp_portal.timeutil import utcnow
from crp_portal.views import commit_or_form_error


@bp.route("/me/profile", methods=["GET", "POST"])
@role_required(STUDENT)
def own_profile():
    profile = services.own_profile(current_user)
    wanted = sorted(set(EMAIL_CATEGORY_LABELS) - services.email_opt_outs(current_user))
    form = OwnProfileForm(obj=profile, email_categories=wanted)
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            "recovery_date",
            lambda: services.update_own_profile(
                current_user,
                email_categories=form.email_categories.data or [],
                **{
                    name: form[name].data
                    for name in (
                        *services.PROFILE_FIELDS,
                        *services.DETAIL_FIELDS,
                        *services.CONSENT_FIELDS,
                    )
                },
            ),
        )
        if saved is not None:
            flash("Your profile is saved.", "success")
            return redirect(url_for("members.own_profile"))
    db.session.commit()
    return render_template(
        "members/own_profile.html",
        profile=profile,
        form=form,
        may_apply=intake.may_apply(current_user),
    )


@bp.get("/me/record-views")
@role_required(STUDENT)
def record_views():
    return render_template("members/record_views.html", entries=access_log(current_user.id))


@bp.get("/members/")
@scope_required(RECOVERY)
def member_list():
    form = MemberSearchForm(request.args)
    filters = services.MemberFilter(query=(form.q.data or "")[:100], status=form.status.data or "")
    page = services.search_members(filters, page_number(request.args))
    counts = services.status_counts()
    return render_template("members/list.html", form=form, page=page, counts=counts)


@bp.route("/members/<int:user_id>", methods=["GET", "POST"])
@scope_required(RECOVERY)
def member_record(user_id: int):
    member = record.record_for_staff(user_id, current_user, utcnow())
    profile = member.profile
    form = MembershipForm(obj=profile, note="")
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            "student_id",
            lambda: services.set_membership(
                profile,
                form.status.data,
                form.student_id.data or "",
                changed_by=current_user,
                note=form.note.data or "",
            ),
        )
        if saved is not None:
            flash(f"Saved {profile.user.name}'s membership.", "success")
            return redirect(url_for("members.member_record", user_id=user_id))
    page = render_template(
        "members/record.html",
        member=member,
        profile=profile,
        form=form,
        advisor_form=_advisor_form(profile, posted=False),
    )
    db.session.commit()  # the audit row; after rendering, so nothing is reloaded row by row
    return page


def _advisor_form(profile, posted: bool = True) -> AdvisorForm:
    """The advisor select. On the record page it reads no form data (`posted=False`): what
    is posted there is a membership save."""
    current = {"advisor_id": profile.advisor_id or 0}
    form = AdvisorForm(data=current) if posted else AdvisorForm(formdata=None, data=current)
    form.advisor_id.choices = choices([(0, "No advisor"), *services.advisor_choices(profile)])
    return form


@bp.post("/members/<int:user_id>/advisor")
@scope_required(RECOVERY)
def assign_advisor(user_id: int):
    profile = services.member_profile(user_id)
    form = _advisor_form(profile)
    if form.validate_on_submit():
        name = profile.user.name
        saved = commit_or_form_error(
            form,
            "advisor_id",
            lambda: services.assign_advisor(profile, form.advisor_id.data, current_user),
        )
        if saved is not None:
            flash(f"Saved {name}'s advisor.", "success")
            return redirect(url_for("members.member_record", user_id=user_id))
    member = record.record_for_staff(user_id, current_user, utcnow())
    membership = MembershipForm(formdata=None, obj=member.profile, note="")
    page = render_template(
        "members/record.html",
        member=member,
        profile=member.profile,
        form=membership,
        advisor_form=form,
    )
    db.session.commit()  # the audit row, as on the record page
    return page, 422
