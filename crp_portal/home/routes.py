"""The front page for each role, and the health check."""

from flask import render_template
from flask_login import current_user

from crp_portal.access import ADVISOR, STAFF
from crp_portal.events.queries import EventFilter, next_for, upcoming
from crp_portal.extensions import db
from crp_portal.home import bp, services
from crp_portal.members import follow_ups, intake
from crp_portal.members.services import own_profile, status_counts
from crp_portal.timeutil import local_today, utcnow


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/welcome.html")
    today, now = local_today(), utcnow()
    outlook = services.term_outlook(today)
    if current_user.role == STAFF:
        this_week = upcoming(now, today, EventFilter(this_week=True))[:8]
        return render_template(
            "home/staff.html",
            outlook=outlook,
            counts=status_counts(),
            this_week=this_week,
            waiting_applications=intake.open_application_count(),
            open_follow_ups=follow_ups.open_follow_up_count(),
        )
    if current_user.role == ADVISOR:
        return render_template("home/advisor.html", outlook=outlook)
    profile = own_profile(current_user)
    db.session.commit()
    return render_template(
        "home/student.html",
        outlook=outlook,
        profile=profile,
        may_apply=intake.may_apply(current_user),
        next_events=next_for(current_user, now),
    )


@bp.get("/healthz")
def healthz():
    if services.database_reachable():
        return {"status": "ok", "database": "ok"}, 200
    return {"status": "error", "database": "error"}, 503
