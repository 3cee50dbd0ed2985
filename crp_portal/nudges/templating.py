"""Nudge subjects and bodies: staff write them with a few documented placeholders and
filters, `{% if %}` and one level of `{% for %}`; nothing else is accepted.

Three layers keep a template harmless. The rules (`template_rules`) refuse at save, with
its line, anything but those constructs, and bound what the template can write and loop
over every branch. The save-time check then fills it in with the largest data it can
ever meet: the longest names and a full week. And every render, at save, in preview or
in `flask nudges run`, has a hard budget (`template_budget`: 0.5 s, 100,000 characters,
10,000 loop turns); a template that slipped past the first two is stopped, not run on.

Mail carries no recovery details: the placeholders are a first name, the week's
program events (under their neutral titles unless the student chose real ones), how many
support meetings are on, and links into the portal. An outside meeting is never named:
its name says which fellowship the reader belongs to, so the email gives a count and a
link to the directory, which is read signed in.
"""

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from flask import current_app, has_app_context
from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SecurityError
from markupsafe import escape
from sqlalchemy import func, select

from crp_portal.auth.models import User
from crp_portal.events.calendars import title_for
from crp_portal.events.models import Event, EventStatus
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.members.models import MemberProfile
from crp_portal.nudges.template_budget import (
    LOOP_STEPS_MAX,
    OUTPUT_MAX,
    RENDER_SECONDS,
    NudgeEnvironment,
    TooCostly,
    fill_in,
)
from crp_portal.nudges.template_rules import Walk
from crp_portal.support_meetings.models import SupportMeeting
from crp_portal.timeutil import format_datetime, local_midnight

PLACEHOLDERS = {
    "first_name": "the member's preferred name, or their first name",
    "program_name": "the portal's public name (never the program's own name)",
    "this_week": (
        "the next seven days of program events, one per line, and how many support "
        "meetings are on, with a link to their directory (never their names)"
    ),
    "events_link": "a link to the program's events",
    "advising_link": "a link to book an advisor",
    "portal_link": "a link to the portal's home page",
}
FILTERS = {
    "capitalize": "first letter capital, the rest small",
    "lower": "all small letters",
    "title": "Each Word Capitalised",
    "trim": "without spaces at either end",
    "upper": "ALL CAPITALS",
}
BUDGET = {  # as the editor's help shows it
    "seconds": f"{RENDER_SECONDS:g}",
    "characters": f"{OUTPUT_MAX:,}",
    "loop_steps": f"{LOOP_STEPS_MAX:,}",
}
_environment = NudgeEnvironment(FILTERS)
WEEK_EVENTS_MAX = 12
MEETINGS_COUNT_MAX = 999_999  # more than any directory lists; the save check's sample
NOTHING_THIS_WEEK = "- Nothing is scheduled yet; see the portal for updates."
# Longer than any time format_datetime writes ("Wed 30 Sep 2026, 12:00 PM EDT").
LONGEST_WHEN = "Wednesday 30 September 2026, 12:00 PM GMT+05:30"
LONGEST_LINK = 200  # characters; CRP_BASE_URL plus the longest path is far shorter


class UnusableTemplate(TemplateError):
    """A stored template breaks the rules (it was saved before them, or bypassed them)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


def _column_length(column) -> int:
    return column.property.columns[0].type.length


def largest_context() -> dict[str, str]:
    """Every placeholder at the longest the real data can make it: the longest names and
    a week with as many events as `week_ahead` fetches, all titles long."""
    name = max(_column_length(User.name), _column_length(MemberProfile.preferred_name))
    title = max(_column_length(Event.title), _column_length(Event.public_title))
    program = current_app.config["CRP_PUBLIC_NAME"] if has_app_context() else ""
    events = [_event_line(LONGEST_WHEN, "T" * title)] * WEEK_EVENTS_MAX
    link = "https://portal.example.edu/".ljust(LONGEST_LINK, "x")
    return {
        "first_name": "N" * name,
        "program_name": program.ljust(name, "P"),
        "this_week": "\n".join([*events, _meetings_line(MEETINGS_COUNT_MAX, link)]),
        "events_link": link,
        "advising_link": link,
        "portal_link": link,
    }


def _rule_problems(source: str) -> tuple[list[str], nodes.Template | None]:
    """(problems, parsed tree): the rules, and the most the template could write or loop."""
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError as error:
        return [f"Line {error.lineno}: {error.message}"], None
    except RecursionError:
        return ["Line 1: this is nested too deeply to read."], None
    walk = Walk({name: len(value) for name, value in largest_context().items()}, FILTERS)
    cost = walk.template(tree)
    problems = [message for _, message in sorted(walk.problems, key=lambda p: p[0])]
    if problems:
        return problems, None
    characters, line = walk.heaviest_loop
    if cost.characters > OUTPUT_MAX:
        where = line if characters * 2 > cost.characters else 1
        problems.append(
            f"Line {where}: with a full week and the longest names this could come to "
            f"{cost.characters:,} characters; at most {OUTPUT_MAX:,} can be sent: too large to send."
        )
    if cost.steps > LOOP_STEPS_MAX:
        problems.append(
            f"Line {line}: with a full week its loops could turn {cost.steps:,} times; "
            f"at most {LOOP_STEPS_MAX:,} are allowed: too slow to send."
        )
    return problems, tree


def check_template(source: str) -> list[str]:
    """Problems a person can fix, each with its line; empty when the template is fine.

    Fine means: only the documented constructs, and filled in with the largest data it
    can meet it stays within the render budget.
    """
    problems, _ = _rule_problems(source)
    if problems:
        return problems
    try:
        render(source, largest_context())
    except TooCostly as error:
        return [f"With a full week and the longest names, {error}."]
    except SecurityError:
        return ["A placeholder may be printed, not looked inside."]
    except (TemplateError, TypeError, ValueError) as error:
        return [f"This cannot be filled in: {error}."]
    return []


@functools.lru_cache(maxsize=256)
def _compiled(source: str):
    problems, tree = _rule_problems(source)
    if problems:
        raise UnusableTemplate(problems)
    return _environment.counting(cast(nodes.Template, tree))  # parsed: no problems


def render(source: str, context: dict) -> str:
    """Filled in within the budget; raises UnusableTemplate or TooCostly (TemplateErrors).

    Compiled once per distinct source: planning renders one template thousands of times.
    """
    return fill_in(_compiled(source), context)


def as_html(body: str) -> str:
    """The plain-text body as simple HTML: paragraphs and line breaks, links kept as text."""
    paragraphs = [part for part in re.split(r"\n\s*\n", body.strip()) if part.strip()]
    return "\n".join(
        "<p>" + str(escape(part)).replace("\n", "<br>\n") + "</p>" for part in paragraphs
    )


def _event_line(when: str, title: str) -> str:
    return f"- {when}: {title}"


def _meetings_line(count: int, directory_link: str) -> str:
    return f"- {count:,} support meeting{'' if count == 1 else 's'} this week: {directory_link}"


@dataclass(frozen=True)
class WeekAhead:
    """What is on in the coming week, fetched once for a whole planning run."""

    events: list
    meeting_count: int
    directory_link: str

    def lines_for(self, user: User) -> str:
        lines = [
            _event_line(format_datetime(event.starts_at), title_for(event, user))
            for event in self.events
        ]
        if self.meeting_count:
            lines.append(_meetings_line(self.meeting_count, self.directory_link))
        return "\n".join(lines) or NOTHING_THIS_WEEK


def week_ahead(today: date, now: datetime) -> WeekAhead:
    """The next seven days: program events, and how many support meetings are on (each
    active directory entry meets weekly, so once in any seven days)."""
    until = local_midnight(today + timedelta(days=7))
    events = db.session.scalars(
        select(Event)
        .where(
            Event.starts_at >= now, Event.starts_at < until, Event.status == EventStatus.SCHEDULED
        )
        .where(Event.house_id.is_(None))  # house meetings are for residents, not every member
        .order_by(Event.starts_at, Event.id)
        .limit(WEEK_EVENTS_MAX)
    ).all()
    meeting_count = db.session.execute(
        select(func.count()).select_from(SupportMeeting).where(SupportMeeting.active)
    ).scalar_one()
    return WeekAhead(list(events), meeting_count, portal_url("support_meetings.directory"))


def links() -> dict[str, str]:
    """Absolute links for email, on `CRP_BASE_URL`; built once per run."""
    return {
        "events_link": portal_url("events.upcoming"),
        "advising_link": portal_url("advising.advisors"),
        "portal_link": portal_url("home.index"),
    }


def context_for(user: User, week: WeekAhead, portal_links: dict[str, str]) -> dict:
    preferred = user.profile.preferred_name if user.profile is not None else None
    return {
        "first_name": preferred or user.name.split()[0],
        "program_name": current_app.config["CRP_PUBLIC_NAME"],
        "this_week": week.lines_for(user),
        **portal_links,
    }


def render_nudge(
    campaign, user: User, week: WeekAhead, portal_links: dict[str, str]
) -> tuple[str, str]:
    """(subject, plain-text body) for one member, each within the render budget; raises a
    TemplateError (UnusableTemplate, TooCostly, …) when a template cannot be sent."""
    context = context_for(user, week, portal_links)
    subject = " ".join(render(campaign.subject_template, context).split())[:255]
    return subject, render(campaign.body_template, context).strip() + "\n"
