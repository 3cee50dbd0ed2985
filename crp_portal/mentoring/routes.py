"""Peer mentoring: staff set mentors and read the contact log; mentors log their contacts."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import RECOVERY, STUDENT, role_required, scope_required
from crp_portal.forms import choices, filled
from crp_portal.mentoring import bp
from crp_portal.mentoring import services as mentoring
from crp_portal.mentoring.forms import ContactFilterForm, ContactForm, MentoringForm
from crp_portal.search import page_number
from crp_portal.timeutil import format_date, local_today
from crp_portal.unit_of_work import audited_read, unit_of_work
from crp_portal.views import id_from_form

# Staff


def _mentor_choices(profile) -> list:
    """Eligible mentors; a current mentor who no longer qualifies stays listed, marked."""
    eligible = [(p.user_id, p.user.name) for p in mentoring.eligible_mentors(profile.user_id)]
    if profile.mentor_id and profile.mentor_id not in {user_id for user_id, _ in eligible}:
        name = profile.mentor.name if profile.mentor else "A former account"
        eligible.insert(0, (profile.mentor_id, f"{name} (no longer an active peer mentor)"))
    return choices([(0, "No mentor"), *eligible])


def _unassigned(count: int) -> str:
    if count == 0:
        return "they had no mentees."
    if count == 1:
        return "1 mentee now has no mentor."
    return f"{count} mentees now have no mentor."


@bp.route("/members/<int:user_id>/mentoring", methods=["GET", "POST"])
@scope_required(RECOVERY)
@audited_read
def member_mentoring(user_id: int):
    profile = mentoring.student_for_staff(user_id)
    form = MentoringForm(
        data={"is_peer_mentor": profile.is_peer_mentor, "mentor_id": profile.mentor_id or 0}
    )
    form.mentor_id.choices = _mentor_choices(profile)
    work = unit_of_work(form, "mentor_id")
    if form.validate_on_submit():
        name, was_mentor = profile.user.name, profile.is_peer_mentor
        with work:  # both settings or neither; a refusal goes beside the setting refused
            mentoring.assign_mentor(profile, form.mentor_id.data or None)
            work.field = "is_peer_mentor"
            unassigned = mentoring.set_peer_mentor(profile, form.is_peer_mentor.data, current_user)
        if work.saved:
            flash(f"Saved {name}'s mentoring.", "success")
            if was_mentor and not profile.is_peer_mentor:
                flash(f"{name} is no longer a peer mentor: {_unassigned(unassigned)}", "info")
            return redirect(url_for("mentoring.member_mentoring", user_id=user_id))
    elif request.method == "GET":
        mentoring.audit_staff_view(current_user, profile)
    is_mentor, mentor_page = profile.is_peer_mentor, page_number(request.args, "mentor_page")
    return render_template(
        "mentoring/member.html",
        profile=profile,
        form=form,
        as_mentee=mentoring.contacts_with(profile.user_id, page_number(request.args)),
        mentees=mentoring.mentees_of(profile.user_id) if is_mentor else [],
        # A former mentor's log stays in view: what they logged is still on the record.
        as_mentor=mentoring.contacts_by(profile.user_id, mentor_page),
    ), work.status


@bp.get("/members/mentoring")
@scope_required(RECOVERY)
def mentoring_overview():
    summaries = mentoring.mentor_summaries()
    form = ContactFilterForm(request.args)
    form.mentor.choices = choices(
        [("", "Any mentor"), *((str(s.profile.user_id), s.profile.user.name) for s in summaries)]
    )
    mentor_id = id_from_form(form.mentor.data)
    page = mentoring.recent_contacts(page_number(request.args), mentor_id=mentor_id or None)
    return render_template("mentoring/overview.html", summaries=summaries, form=form, page=page)


# The mentor's own pages


@bp.get("/mentoring/")
@role_required(STUDENT)
def my_mentees():
    mentoring.require_mentor(current_user)
    return render_template("mentoring/mentees.html", mentees=mentoring.mentees_of(current_user.id))


@bp.route("/mentoring/<int:mentee_id>", methods=["GET", "POST"])
@role_required(STUDENT)
@audited_read  # the mentor opening their mentee's contact details
def mentee(mentee_id: int):
    if request.method == "GET":
        profile = mentoring.open_mentee(current_user, mentee_id)
    else:
        profile = mentoring.mentee_for(current_user, mentee_id)
    form = ContactForm()
    work = unit_of_work(form, "contact_date")
    if form.validate_on_submit():
        with work:
            contact = mentoring.log_contact(
                current_user,
                profile.user_id,
                filled(form.contact_date.data),
                form.mode.data,
                filled(form.minutes.data),
                filled(form.topics.data),
                local_today(),
            )
        if work.saved:
            message = f"Logged your contact on {format_date(contact.contact_date)}."
            if mentoring.REFERRED_TO_STAFF in contact.topic_codes:
                message += " The program staff have your referral in their follow-up queue."
            flash(message, "success")
            return redirect(url_for("mentoring.mentee", mentee_id=profile.user_id))
    return render_template(
        "mentoring/mentee.html",
        profile=profile,
        form=form,
        log=mentoring.my_log_with(current_user, profile.user_id, page_number(request.args)),
    ), work.status
