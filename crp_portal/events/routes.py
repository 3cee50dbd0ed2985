"""Events: finding them, RSVPs and check-in (students); running them (staff)."""

from typing import Any, cast

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from crp_portal.access import (
    ADVISOR,
    EVENTS,
    HOUSING,
    STUDENT,
    role_required,
    scope_required,
)
from crp_portal.events import (
    attendance,
    bp,
    calendars,
    my_events,
    queries,
    rsvp,
    series,
    services,
    subscribe,
    waitlist_news,
)
from crp_portal.events.forms import CheckInForm, EventFilterForm, filter_bar
from crp_portal.events.models import AttendanceSource
from crp_portal.extensions import limiter
from crp_portal.forms import filled
from crp_portal.fragments import KeptMacro
from crp_portal.search import page_number
from crp_portal.timeutil import EARLIEST_DATE, LATEST_DATE, local_today, utcnow
from crp_portal.unit_of_work import marking_read, unit_of_work

TOO_MANY_CODES = "Too many wrong codes. Wait a few minutes, or ask staff to mark you present."
KEPT_FILTERS = ("kind", "mode", "week", "q")  # EventFilterForm's fields
MONTH_ARGS = ("year", "month")


def _filters() -> queries.EventFilter:
    form = EventFilterForm(request.args)
    return queries.EventFilter(
        kind=form.kind.data or "",
        mode=form.mode.data or "",
        this_week=bool(form.week.data),
        text=(form.q.data or "")[: queries.SEARCH_LENGTH],
    )


def _filter_bar(filters: queries.EventFilter, show_week: bool) -> Markup:
    """The filter bar for these filters; the month view keeps its year and month."""
    kept = tuple((name, value) for name, value in request.args.items() if name in MONTH_ARGS)
    text = filters.text if show_week else ""  # the month view has no search
    return filter_bar(filters.kind, filters.mode, filters.this_week, show_week, kept, text)


@bp.get("/events/")
@scope_required(EVENTS, HOUSING, also=(STUDENT,))
def upcoming():
    filters = _filters()
    page = queries.upcoming_page(
        current_user, utcnow(), local_today(), filters, page_number(request.args)
    )
    return render_template(
        "events/upcoming.html",
        filter_bar=_filter_bar(filters, show_week=True),
        page=page,
        rows=_event_rows(page.events, queries.my_rsvps(current_user, page.events)),
        kept_filters=_kept_filters(),
    )


EVENT_ROW = KeptMacro("events/_event_row.html", "event_row")


def _event_rows(
    events: list[queries.ListedEvent], answers: dict[int, queries.MyAnswer]
) -> list[Markup]:
    return EVENT_ROW.each((event, answers.get(event.id)) for event in events)


def _kept_filters() -> dict[str, str]:
    """The filters as query arguments, for the page links to keep them."""
    return {name: value for name in KEPT_FILTERS if (value := request.args.get(name, ""))}


@bp.get("/events/month")
@scope_required(EVENTS, HOUSING, also=(STUDENT,))
def month():
    today = local_today()
    year = request.args.get("year", type=int) or today.year
    month_number = request.args.get("month", type=int) or today.month
    if not (EARLIEST_DATE.year <= year <= LATEST_DATE.year and 1 <= month_number <= 12):
        year, month_number = today.year, today.month
    filters = _filters()
    shown = queries.month(current_user, today, year, month_number, filters)
    return render_template(
        "events/month.html",
        month=shown,
        filter_bar=_filter_bar(filters, show_week=False),
        today=today,
    )


@bp.get("/events/mine")
@role_required(STUDENT)
def mine():
    mine = my_events.my_events(current_user, utcnow(), page_number(request.args))
    return render_template("events/mine.html", mine=mine)


@bp.get("/events/<int:event_id>")
@scope_required(EVENTS, HOUSING, also=(STUDENT,))
@marking_read
def detail(event_id: int):
    event = queries.visible_event(event_id, current_user, local_today())
    now = utcnow()
    entry = rsvp.rsvp_of(event.id, current_user.id)
    position = rsvp.waitlist_position(event, entry) if entry and entry.is_waitlisted else None
    waitlist_news.note_place_seen(entry, position)
    return render_template(
        "events/detail.html",
        event=event,
        entry=entry,
        position=position,
        waitlisted=queries.waitlist_count(event),
        first_names=queries.opted_in_first_names(event),
        check_in_form=CheckInForm(),
        now=now,
        check_in_open=attendance.check_in_window_open(event, now),
        checked_in=attendance.has_attended(event, current_user),
        page_title=calendars.title_for(event, current_user),
        skipped=series.skipped_from(event.series, local_today()),
    )


@bp.get("/events/<int:event_id>.ics")
@scope_required(EVENTS, HOUSING, also=(STUDENT,))
def ics(event_id: int):
    event = queries.visible_event(event_id, current_user, local_today())
    return _ics_response(calendars.event_ics(event, current_user), f"event-{event.id}.ics")


def _ics_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/events/<int:event_id>/rsvp")
@role_required(STUDENT)
def rsvp_going(event_id: int):
    with unit_of_work():
        entry = rsvp.rsvp(event_id, current_user, utcnow())
        going = entry.is_going  # read before the commit expires it (no second query)
    if going:
        flash("You're going. A confirmation with a calendar file is on its way.", "success")
    else:
        flash(
            "The event is full, so you're on the waitlist. We'll email you if a place opens.",
            "info",
        )
    return redirect(url_for("events.detail", event_id=event_id))


@bp.route("/events/<int:event_id>/rsvp/cancel", methods=["GET", "POST"])
@role_required(STUDENT)
def cancel_rsvp(event_id: int):
    """GET says what giving up the place does and changes nothing; POST gives it up."""
    if request.method == "GET":
        plan = rsvp.plan_cancel_rsvp(event_id, current_user, utcnow())
        return render_template(
            "events/give_up_confirm.html",
            plan=plan,
            page_title=calendars.title_for(plan.event, current_user),
        )
    with unit_of_work():
        rsvp.cancel_rsvp(event_id, current_user, utcnow())
    flash("You're no longer on the list for this event.", "success")
    return redirect(url_for("events.detail", event_id=event_id))


def _wrong_code(_response) -> bool:
    return g.get("wrong_check_in_code", False)


def _check_in_key() -> str:
    """Per person and event: guessing one event's code cannot lock out anyone else."""
    person = getattr(current_user, "id", None)  # the account, not its session version
    return f"check-in:{person}:{cast(dict[str, Any], request.view_args).get('event_id')}"


@bp.post("/events/<int:event_id>/check-in")
@role_required(STUDENT)
@limiter.limit(
    lambda: current_app.config["CRP_CHECK_IN_LIMIT"],
    key_func=_check_in_key,
    deduct_when=_wrong_code,
    error_message=TOO_MANY_CODES,
)
def check_in(event_id: int):
    event = services.get_event(event_id)
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                recorded = attendance.self_check_in(
                    event, current_user, filled(form.code.data), utcnow()
                )
                walked_in = recorded.source == AttendanceSource.WALK_IN
        except attendance.WrongCode as error:  # rolled back; counts toward the limit
            g.wrong_check_in_code = True
            flash(error.message, "error")
        else:
            flash(
                "You're checked in as a walk-in. Welcome!"
                if walked_in
                else "You're checked in. Welcome!",
                "success",
            )
    else:
        flash("Enter the code shown at the event.", "error")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.get("/calendar/")
@role_required(STUDENT, ADVISOR)
def calendar_settings():
    """The feed is made with the account; an older account without one is offered a
    button that makes it (`regenerate_feed`), so opening this page writes nothing."""
    feed = calendars.saved_feed(current_user)
    name = current_app.config["CRP_PUBLIC_NAME"]
    ways = subscribe.subscription(calendars.feed_url(feed), name) if feed else None
    return render_template("events/calendar.html", ways=ways)


@bp.post("/calendar/regenerate")
@role_required(STUDENT, ADVISOR)
def regenerate_feed():
    had_one = calendars.saved_feed(current_user) is not None
    with unit_of_work():
        calendars.regenerate_feed(current_user)
    if had_one:
        flash("Your calendar has a new address. The old one no longer works.", "success")
    else:
        flash("Your calendar has its private address.", "success")
    return redirect(url_for("events.calendar_settings"))


@bp.get("/calendar/<token>.ics")
@limiter.limit("60 per minute")
def calendar_feed(token: str):
    user = calendars.user_for_feed_token(token)
    return _ics_response(calendars.personal_feed_ics(user), "calendar.ics")
