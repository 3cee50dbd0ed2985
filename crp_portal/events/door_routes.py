"""Check-in at the door: the page a QR code opens (students), the kiosk screen, the sign-in
sheet, the roster CSV and "Notify attendees" (staff with the events area)."""

import secrets

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import EVENTS, STUDENT, role_required, scope_required
from crp_portal.events import attendance, attendee_messages, bp, door, queries, services
from crp_portal.events.calendars import title_for
from crp_portal.events.forms import CheckInForm, NotifyAttendeesForm
from crp_portal.events.rsvp import rsvp_of
from crp_portal.forms import filled
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import audited_read, unit_of_work


@bp.get("/events/<int:event_id>/check-in")
@role_required(STUDENT)
def check_in_page(event_id: int):
    """What the QR code at the event opens: the code filled in, one tap to check in. Shown
    to anyone who may see the event; the code is checked only when the form is sent
    (where wrong codes count toward the limit), never here."""
    event = queries.visible_event(event_id, current_user, local_today())
    now = utcnow()
    form = CheckInForm(formdata=None, data={"code": request.args.get("code", "")[:12]})
    return render_template(
        "events/check_in.html",
        event=event,
        form=form,
        check_in_open=attendance.check_in_window_open(event, now),
        checked_in=attendance.has_attended(event, current_user),
        going=(entry := rsvp_of(event.id, current_user.id)) is not None and entry.is_going,
        page_title=title_for(event, current_user),
    )


@bp.get("/events/<int:event_id>/kiosk")
@scope_required(EVENTS)
def kiosk(event_id: int):
    """A full screen for a projector or a tablet at the door: the code and its QR code, the
    neutral title and the time, nothing else. It reloads itself just after the code
    changes, by a `Refresh` header: no script, so the CSP stays as strict as elsewhere.
    (A header rather than `<meta http-equiv="refresh">`, which axe flags under WCAG 2.2.1:
    here the timing is the point, an essential exception, on a screen nobody operates.)"""
    event = services.get_event(event_id)
    now = utcnow()
    closed = event.is_cancelled or event.headcount_only or event.ends_at < now
    shown = None if closed else door.shown_code(event, now)
    page = render_template(
        "events/kiosk.html",
        event=event,
        shown=shown,
        check_in_open=attendance.check_in_window_open(event, now),
    )
    return page, {"Refresh": str(shown.refresh_after)} if shown else {}


@bp.get("/events/<int:event_id>/sign-in-sheet")
@scope_required(EVENTS)
@audited_read  # the sheet is on the audit trail before it is printed
def sign_in_sheet(event_id: int):
    event = services.get_event(event_id)
    people = door.sign_in_sheet(event, current_user)
    return render_template("events/sign_in_sheet.html", event=event, people=people)


@bp.get("/events/<int:event_id>/roster.csv")
@scope_required(EVENTS)
@audited_read  # the export is on the audit trail before the file leaves
def roster_csv(event_id: int):
    event = services.get_event(event_id)
    body = door.roster_csv(event, current_user)
    filename = f"event-{event.id}-roster-{event.starts_at:%Y-%m-%d}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@bp.route("/events/<int:event_id>/notify", methods=["GET", "POST"])
@scope_required(EVENTS)
def notify_attendees(event_id: int):
    event = services.get_event(event_id)
    form = NotifyAttendeesForm()
    work = unit_of_work(form, "message")
    if form.validate_on_submit():
        with work:
            sent = attendee_messages.notify_attendees(
                event,
                filled(form.message.data),
                form.include_waitlist.data,
                form.send_key.data or secrets.token_hex(16),
                current_user,
                utcnow(),
            )
        if work.saved:
            people = f"{sent.recipients} {'person' if sent.recipients == 1 else 'people'}"
            if sent.again:
                flash(f"This message was already sent, to {people}. Nobody got it twice.", "info")
            else:
                flash(f"Sent to {people}.", "success")
            return redirect(url_for("events.notify_attendees", event_id=event_id))
    if not form.send_key.data:
        form.send_key.data = secrets.token_hex(16)  # one send per form, however often sent
    going, waitlisted = attendee_messages.audience_size(event)
    return render_template(
        "events/notify.html",
        event=event,
        form=form,
        going=going,
        waitlisted=waitlisted,
        sent=attendee_messages.sent_notices(event),
        now=utcnow(),
    ), work.status
