"""The student's weekly check-in and their own trend."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from crp_portal.access import STUDENT, role_required
from crp_portal.members import services
from crp_portal.recovery import bp, check_ins
from crp_portal.recovery.forms import SCALE_WORDS, CheckInForm
from crp_portal.timeutil import local_today, week_start
from crp_portal.unit_of_work import unit_of_work


@bp.route("/me/check-in", methods=["GET", "POST"])
@role_required(STUDENT)
def check_in():
    profile = services.own_profile(current_user)
    today = local_today()
    current = check_ins.this_weeks_check_in(current_user.id, today)
    form = CheckInForm(obj=current)
    work = unit_of_work(form, "note")
    if form.validate_on_submit():
        answers = check_ins.Answers(**form.answers())
        with work:
            saved = check_ins.save_check_in(current_user, answers, today)
        if work.saved:
            flash(
                "Your check-in is saved."
                + (" Staff will reach out." if saved.wants_outreach else ""),
                "success",
            )
            return redirect(url_for("recovery.check_in"))
        current = check_ins.this_weeks_check_in(current_user.id, today)
    recent = check_ins.recent_check_ins(current_user.id, 12, today)
    return render_template(
        "recovery/check_in.html",
        form=form,
        current=current,
        week_start=week_start(today),
        profile=profile,
        scale_words=SCALE_WORDS,
        recent=recent,
        recent_chart=check_ins.trend_chart(recent),
        past=check_ins.past_check_ins(current_user.id),
    ), work.status
