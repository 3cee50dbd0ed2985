"""A student's own profile; staff's member list and member record."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import RECOVERY, STUDENT, role_required, scope_required
from crp_portal.forms import choices
from crp_portal.members import bp, intake, record, services
from crp_portal.members.forms import AdvisorForm, MemberSearchForm, MembershipForm, OwnProfileForm
from crp_portal.members.models import OPT_OUT_CATEGORY_LABELS
from crp_portal.search import page_number
from crp_portal.timeutil import utcnow
from crp_portal.unit_of_work import audited_read, unit_of_work


@bp.route("/me/profile", methods=["GET", "POST"])
@role_required(STUDENT)
def own_profile():
    profile = services.own_profile(current_user)
    wanted = sorted(set(OPT_OUT_CATEGORY_LABELS) - services.email_opt_outs(current_user))
    form = OwnProfileForm(obj=profile, email_categories=wanted)
    work = unit_of_work(form, "recovery_date")
    if form.validate_on_submit():
        fields = (*services.PROFILE_FIELDS, *services.DETAIL_FIELDS, *services.CONSENT_FIELDS)
        with work:
            services.update_own_profile(
                current_user,
                email_categories=form.email_categories.data or [],
                **{name: form[name].data for name in fields},
            )
        if work.saved:
            flash("Your profile is saved.", "success")
            return redirect(url_for("members.own_profile"))
    return render_template(
        "members/own_profile.html",
        profile=profile,
        form=form,
        may_apply=intake.may_apply(current_user),
    ), work.status


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
@audited_read
def member_record(user_id: int):
    member = record.record_for_staff(user_id, current_user, utcnow())
    profile = member.profile
    form = MembershipForm(obj=profile, note="")
    work = unit_of_work(form, "student_id")
    if form.validate_on_submit():
        with work:
            services.set_membership(
                profile,
                form.status.data,
                form.student_id.data or "",
                changed_by=current_user,
                note=form.note.data or "",
            )
        if work.saved:
            flash(f"Saved {profile.user.name}'s membership.", "success")
            return redirect(url_for("members.member_record", user_id=user_id))
    page = render_template(
        "members/record.html",
        member=member,
        profile=profile,
        form=form,
        advisor_form=_advisor_form(profile, posted=False),
    )
    return page, work.status


def _advisor_form(profile, posted: bool = True) -> AdvisorForm:
    """The advisor select. On the record page it reads no form data (`posted=False`): what
    is posted there is a membership save."""
    current = {"advisor_id": profile.advisor_id or 0}
    form = AdvisorForm(data=current) if posted else AdvisorForm(formdata=None, data=current)
    form.advisor_id.choices = choices([(0, "No advisor"), *services.advisor_choices(profile)])
    return form


@bp.post("/members/<int:user_id>/advisor")
@scope_required(RECOVERY)
@audited_read  # a refused choice shows the record again
def assign_advisor(user_id: int):
    profile = services.member_profile(user_id)
    form = _advisor_form(profile)
    work = unit_of_work(form, "advisor_id")
    if form.validate_on_submit():
        name = profile.user.name
        with work:
            services.assign_advisor(profile, form.advisor_id.data, current_user)
        if work.saved:
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
    return page, work.status if work.error else 422
