"""The front page for each role, and the health check."""

from flask import render_template
from flask_login import current_user

from crp_portal.access import ADVISOR, EVENTS, HOUSING, RECOVERY, STAFF, may
from crp_portal.events.queries import EventFilter, upcoming
from crp_portal.home import bp, services, staff_todo, todo
from crp_portal.members import intake
from crp_portal.members.services import own_profile, status_counts
from crp_portal.timeutil import local_today, utcnow


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/welcome.html")
    today, now = local_today(), utcnow()
    outlook = services.term_outlook(today)
    if current_user.role == STAFF:
        return render_template(
            "home/staff.html",
            outlook=outlook,
            sections=staff_todo.staff_home(current_user, now, today),
            **_staff_figures(now, today),
        )
    if current_user.role == ADVISOR:
        return render_template(
            "home/advisor.html",
            outlook=outlook,
            today=today,
            home=todo.advisor_home(current_user, now, today),
        )
    profile = own_profile(current_user)
    return render_template(
        "home/student.html",
        outlook=outlook,
        profile=profile,
        may_apply=intake.may_apply(current_user),
        home=todo.student_home(current_user, now, today),
    )


def _staff_figures(now, today) -> dict:
    """What the home page shows a staff member: only what their scopes may open."""
    figures: dict[str, object] = {}
    if may(current_user, RECOVERY):
        figures["counts"] = status_counts()
    if may(current_user, EVENTS, HOUSING):
        this_week = EventFilter(this_week=True)
        figures["this_week"] = upcoming(current_user, now, today, this_week, limit=8)
    return figures


@bp.get("/healthz")
def healthz():
    if services.database_reachable():
        return {"status": "ok", "database": "ok"}, 200
    return {"status": "error", "database": "error"}, 503
