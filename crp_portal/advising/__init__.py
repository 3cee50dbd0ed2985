"""The blueprint; its views are imported by create_app (see _register_blueprints)."""

from flask import Blueprint

from crp_portal.fragments import KeptMacro

bp = Blueprint("advising", __name__, url_prefix="/advising")
APPOINTMENT_LINE = KeptMacro("advising/_line.html", "appointment_line")


def init_app(app) -> None:
    """What advising adds to other areas: appointments in each person's calendar feed, in
    their data download, and blanked on erasure; and the appointment lines every list of
    appointments (advising/_list.html) shows, each rendered once (crp_portal.fragments)."""
    from crp_portal.advising import personal_data
    from crp_portal.advising.calendar import feed_entries
    from crp_portal.events.calendars import register_feed_source

    register_feed_source(app, feed_entries)
    personal_data.init_app(app)
    app.jinja_env.globals["appointment_lines"] = appointment_lines


def appointment_lines(appointments) -> list:
    """Each listed appointment's line (lists.Listed), as advising/_list.html shows it."""
    return APPOINTMENT_LINE.each((appointment,) for appointment in appointments)
