"""Nudge subjects and bodies: staff write them with a few documented placeholders; they
are rendered in Jinja's sandbox, so a template can neither reach Python internals nor
name anything but those placeholders.

Mail carries no recovery details: the placeholders are a first name, the week's
program events and support meetings (events under their neutral titles unless the
student chose real ones), and links into the portal.
"""

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import escape
from sqlalchemy import select

from crp_portal.events.calendars import title_for
from crp_portal.events.models import Event
from crp_portal.extensions import db
from crp_portal.support_meetings.models import SupportMeeting
from crp_portal.timeutil import format_datetime, local_midnight

PLACEHOLDERS = {
    "first_name": "the member's preferred name, or their first name",
    "program_name": "the program's name",
    "this_week": "the next seven days of program events and support meetings, one per line",
    "events_link": "a link to the program's events",
    "advising_link": "a link to book an advisor",
    "portal_link": "a link to the portal's home page",
}
SAMPLE_CONTEXT = {
    "first_name": "Sam",
    "program_name": "Collegiate Recovery Program",
    "this_week": "- Tue 7:00 PM: Tuesday group",
    "events_link": "https://portal.example.edu/events/",
    "advising_link": "https://portal.example.edu/advising/",
    "portal_link": "https://portal.example.edu/",
}
_environment = ImmutableSandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
)
_FORBIDDEN_TAGS = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends, nodes.Macro)


def check_template(source: str) -> list[str]:
    """Problems a person can fix, each with its line; empty when the template is fine."""
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError as error:
        return [f"Line {error.lineno}: {error.message}"]
    problems = []
    for node in tree.find_all(_FORBIDDEN_TAGS):
        problems.append(f"Line {node.lineno}: only placeholders, if and for may be used.")
    for name in sorted(meta.find_undeclared_variables(tree) - PLACEHOLDERS.keys()):
        line = _line_of(source, name)
        known = ", ".join("{{ " + placeholder + " }}" for placeholder in PLACEHOLDERS)
        problems.append(f"Line {line}: unknown placeholder “{name}”. Use one of: {known}.")
    if not problems:
        try:
            render(source, SAMPLE_CONTEXT)
        except SecurityError:
            problems.append("A placeholder may be printed, not looked inside.")
        except (TemplateError, TypeError, ValueError) as error:
            problems.append(f"This cannot be filled in: {error}.")
    return problems


def _line_of(source: str, name: str) -> int:
    match = re.search(rf"\b{re.escape(name)}\b", source)
    return source.count("\n", 0, match.start()) + 1 if match else 1


@functools.lru_cache(maxsize=256)
def _compiled(source: str):
    return _environment.from_string(source)


def render(source: str, context: dict) -> str:
    """Compiled once per distinct source: planning renders one template thousands of times."""
    return _compiled(source).render(context)


def as_html(body: str) -> str:
    """The plain-text body as simple HTML: paragraphs and line breaks, links kept as text."""
    paragraphs = [part for part in re.split(r"\n\s*\n", body.strip()) if part.strip()]
    return "\n".join(
        "<p>" + str(escape(part)).replace("\n", "<br>\n") + "</p>" for part in paragraphs
    )


@dataclass(frozen=True)
class WeekAhead:
    """What is on in the coming week, fetched once for a whole planning run."""

    events: list
    meetings: list

    def lines_for(self, user) -> str:
        lines = [
            f"- {format_datetime(event.starts_at)}: {title_for(event, user)}"
            for event in self.events
        ]
        lines += [
            f"- {meeting.weekday_name} {meeting.starts_label}: {meeting.name}"
            for meeting in self.meetings
        ]
        return "\n".join(lines) or "- Nothing is scheduled yet; see the portal for updates."


def week_ahead(today: date, now: datetime) -> WeekAhead:
    until = local_midnight(today + timedelta(days=7))
    events = db.session.scalars(
        select(Event)
        .where(Event.starts_at >= now, Event.starts_at < until, Event.status == "scheduled")
        .order_by(Event.starts_at, Event.id)
        .limit(12)
    ).all()
    weekdays = {(today + timedelta(days=offset)).weekday() for offset in range(7)}
    meetings = db.session.scalars(
        select(SupportMeeting)
        .where(SupportMeeting.active, SupportMeeting.weekday.in_(weekdays))
        .order_by(SupportMeeting.weekday, SupportMeeting.starts_at)
        .limit(12)
    ).all()
    return WeekAhead(list(events), list(meetings))


def links() -> dict[str, str]:
    """Absolute links for email; built once per run (needs SERVER_NAME outside a request)."""
    return {
        "events_link": url_for("events.upcoming", _external=True),
        "advising_link": url_for("advising.advisors", _external=True),
        "portal_link": url_for("home.index", _external=True),
    }


def context_for(user, week: WeekAhead, portal_links: dict[str, str]) -> dict:
    preferred = user.profile.preferred_name if user.profile is not None else None
    return {
        "first_name": preferred or user.name.split()[0],
        "program_name": current_app.config["CRP_PROGRAM_NAME"],
        "this_week": week.lines_for(user),
        **portal_links,
    }


def render_nudge(campaign, user, week: WeekAhead, portal_links: dict[str, str]) -> tuple[str, str]:
    """(subject, plain-text body) for one member."""
    context = context_for(user, week, portal_links)
    subject = " ".join(render(campaign.subject_template, context).split())[:255]
    return subject, render(campaign.body_template, context).strip() + "\n"
