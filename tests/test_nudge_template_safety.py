"""Nudge templates may use only the documented placeholders, filters, if and one level of
for; each is checked at save against the largest data it can meet, and every render
has a hard budget, so a template can neither reach Jinja's globals nor stall the job."""

import html
import logging
import re
import time
from datetime import date, timedelta
from datetime import time as clock

import pytest
from sqlalchemy import func, select

from crp_portal.extensions import db
from crp_portal.nudges import templating
from crp_portal.nudges.models import Campaign
from crp_portal.nudges.template_budget import Budget, NudgeEnvironment, TooCostly, fill_in
from crp_portal.outbox.models import OutboxMessage
from crp_portal.timeutil import local_today, utcnow
from tests.factories import (
    make_campaign,
    make_event,
    make_meeting,
    make_period,
    make_term,
    make_user,
)
from tests.test_nudge_campaigns import FORM as CAMPAIGN_FORM

FORM = {
    **CAMPAIGN_FORM,
    "body_template": "Hi {{ first_name }},\n\nThis week:\n{{ this_week }}\n",
    "holdout_percent": "0",
}
NESTED_LOOPS = (
    "{% for a in this_week %}{% for b in this_week %}{% for c in this_week %}"
    "x{% endfor %}{% endfor %}{% endfor %}"
)
FINALS_MINUS_3 = date(2027, 4, 28)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(page: str, field: str) -> str:
    """The error text shown beside one field of the form."""
    found = re.search(rf'<div class="field-error" id="{field}-error">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""


def campaign_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


def save(client, **fields):
    return client.post("/nudges/campaigns/new", data={**FORM, **fields})


def stored_campaign(name: str, body: str) -> Campaign:
    return make_campaign(name, body_template=body, active_from=date(2027, 1, 1))


def active_member(name: str = "Riley Stone"):
    member = make_user("student", name=name)
    member.profile.joined_on = date(2026, 9, 1)
    db.session.commit()
    return member


# Saving: as the staff editor sees it


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{{ range(100000) }}", "range"),
        ("{{ dict(a=1) }}", "dict"),
        ("{{ lipsum(100) }}", "lipsum"),
        ("{{ cycler('a', 'b').next() }}", "cycler"),
        ("{{ joiner(', ')() }}", "joiner"),
        ("{{ namespace(count=1) }}", "namespace"),
        ("{{ self }}", "self"),
        ("{% for c in first_name %}{{ loop.index }}{% endfor %}", "loop.index"),
    ],
)
def test_each_jinja_global_is_refused_beside_the_field_with_its_line(ctx, login, template, named):
    client = login(make_user("staff"))
    response = save(client, body_template=f"Hi {{{{ first_name }}}},\n\n{template}\n")
    error = field_error(text(response), "body_template")
    assert response.status_code == 200
    assert "Line 3:" in error and f"“{named}" in error
    assert campaign_count() == 0


def test_a_global_in_the_subject_is_refused_beside_the_subject(ctx, login):
    response = save(login(make_user("staff")), subject_template="{{ range(10)|join(', ') }}")
    error = field_error(text(response), "subject_template")
    assert "Line 1:" in error and "range" in error
    assert campaign_count() == 0


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ first_name|reverse }}", "unknown filter “reverse”. Use one of: capitalize, lower"),
        ("{{ first_name|truncate(3) }}", "unknown filter “truncate”"),
        ("{{ first_name|upper(1) }}", "the filter “upper” takes nothing in brackets"),
        ("{{ first_name is defined }}", "“first_name is defined” cannot be used"),
        ("{{ first_name.upper() }}", "A placeholder may be printed, not looked inside."),
        ("{{ first_name[0] }}", "A placeholder may be printed, not looked inside."),
        ("{{ first_name ~ first_name }}", "it does not calculate"),
        ("{{ 'x' * 9 }}", "it does not calculate"),
        ("{% set greeting = 'Hi' %}", "“{% set %}” cannot be used"),
        ("{% macro m() %}{% endmacro %}", "“{% macro %}” cannot be used"),
    ],
)
def test_unknown_filters_tests_and_other_constructs_are_refused(ctx, login, template, problem):
    response = save(login(make_user("staff")), body_template=f"Hi,\n{template}")
    error = field_error(text(response), "body_template")
    assert "Line 2:" in error and problem in error
    assert campaign_count() == 0


def test_the_documented_constructs_still_save_and_fill_in(ctx, login):
    body = (
        "{% if first_name %}Hi {{ first_name|title }},{% else %}Hi,{% endif %}\n"
        "{{ this_week }}\n"
        "{% for letter in first_name %}{{ letter|upper }}{% endfor %} at {{ program_name }}"
    )
    response = save(login(make_user("staff")), body_template=body)
    assert response.status_code == 302, field_error(text(response), "body_template")
    member = make_user("student", name="sam rivera")
    campaign = db.session.scalar(select(Campaign))
    page = text(
        login(make_user("staff")).get(f"/nudges/campaigns/{campaign.id}/preview?member={member.id}")
    )
    assert "Hi Sam," in page and "SAM at " in page


def test_a_nested_loop_is_refused_at_save_at_once(ctx, login):
    client = login(make_user("staff"))
    started = time.monotonic()
    response = save(client, body_template=f"Hi,\n{NESTED_LOOPS}")
    assert time.monotonic() - started < 5
    error = field_error(text(response), "body_template")
    assert "Line 2: a loop inside another loop cannot be used: too slow to send." in error
    assert campaign_count() == 0


def test_a_loop_is_measured_against_a_full_week_not_a_short_sample(ctx, login):
    """Fifty characters a letter is little for a one-line week and far too much for a
    week of twelve events, all with long titles."""
    sentence = "Come along to everything this week! See you there. "
    body = "{% for letter in this_week %}" + sentence + "{% endfor %}"
    response = save(login(make_user("staff")), body_template=body)
    error = field_error(text(response), "body_template")
    assert "Line 1: with a full week and the longest names" in error
    assert "too large to send" in error
    assert campaign_count() == 0


def test_the_save_check_uses_a_week_at_least_as_long_as_any_real_one(ctx):
    """Fourteen events with the longest titles (more than the week fetches) and fourteen
    meetings (counted, never named) still come to no more than the sample the check uses."""
    today, now = local_today(), utcnow()
    member = make_user("student", name="N" * 120)
    member.profile.show_real_titles = True
    staff = make_user("staff")
    for number in range(14):
        make_event(
            created_by=staff,
            title=f"{number:02d}" + "T" * 118,
            day=today + timedelta(days=1 + number % 6),
            start_time=clock(12, 0),
            end_time=clock(13, 0),
        )
        make_meeting(f"{number:02d}" + "M" * 118, weekday=number % 7, starts_at=clock(12, 0))
    week = templating.week_ahead(today, now)
    real = templating.context_for(member, week, templating.links())
    largest = templating.largest_context()
    assert len(week.events) == templating.WEEK_EVENTS_MAX
    for name in templating.PLACEHOLDERS:
        assert len(real[name]) <= len(largest[name]), name


# The budget, on its own: what stops a template that got past the rules


def runaway(source: str):
    environment = NudgeEnvironment(templating.FILTERS)
    return environment.counting(environment.parse(source))


def test_the_budget_stops_nested_loops_by_counting_their_turns():
    started = time.monotonic()
    with pytest.raises(TooCostly, match="its loops ran more than 10,000 times: too slow to send"):
        fill_in(runaway(NESTED_LOOPS), templating.largest_context())
    assert time.monotonic() - started < 1


def test_the_budget_stops_a_silent_loop_by_the_clock():
    """Loops that write nothing still stop: each turn checks the clock, in the render."""
    silent = NESTED_LOOPS.replace("x", "")
    started = time.monotonic()
    with pytest.raises(TooCostly, match="took more than 0.2 s: too slow to send"):
        fill_in(
            runaway(silent), templating.largest_context(), Budget(seconds=0.2, steps_max=10**12)
        )
    assert time.monotonic() - started < 2


def test_the_budget_stops_a_render_that_writes_too_much():
    big = "{% for letter in this_week %}{{ this_week }}{% endfor %}"
    with pytest.raises(TooCostly, match="more than 100,000 characters: too large to send"):
        fill_in(runaway(big), templating.largest_context())


def test_nothing_global_is_left_in_the_environment():
    environment = NudgeEnvironment(templating.FILTERS)
    assert environment.globals == {} and environment.tests == {}
    assert set(templating.FILTERS) < set(environment.filters)
    assert all(" " in name for name in set(environment.filters) - set(templating.FILTERS))


# A template that slipped into the database: the job, the preview, the dry run


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (NESTED_LOOPS, "a loop inside another loop cannot be used: too slow to send"),
        ("{{ lipsum(1000, html=False) }}", "“lipsum(…)” cannot be used"),
        ("{% for c in this_week %}{{ this_week }}{% endfor %}", "too large to send"),
    ],
    ids=["nested loops", "a global", "too large"],
)
def test_the_job_skips_a_stored_unsafe_template_and_sends_the_others(
    app, ctx, smtp, caplog, body, reason
):
    term = make_term("Spring 2027", date(2027, 1, 11), date(2027, 5, 7))
    make_period(term, "finals", date(2027, 5, 1), date(2027, 5, 7))
    member = active_member()
    broken = stored_campaign("Broken", body)
    stored_campaign("Fine", "Hi {{ first_name }},\n{{ this_week }}\n")
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    result = app.test_cli_runner().invoke(
        args=["nudges", "run", "--at", f"{FINALS_MINUS_3.isoformat()}T12:00"]
    )
    assert time.monotonic() - started < 30
    assert result.exit_code == 0, result.output
    assert "Broken: not planned — its template could not be filled in" in result.output
    assert reason in result.output
    assert f"Campaign {broken.id} not planned" in caplog.text and reason in caplog.text
    assert "Fine: 1 planned" in result.output
    assert [m["To"] for m in smtp.messages] == [member.email]
    assert smtp.text_of(smtp.messages[0]).startswith("Hi Riley,")
    broken_rows = select(func.count()).where(OutboxMessage.campaign_id == broken.id)
    assert db.session.scalar(broken_rows) == 0


def test_the_preview_of_a_stored_unsafe_template_says_why_instead_of_failing(ctx, login):
    campaign = stored_campaign("Broken", f"Hi,\n{NESTED_LOOPS}")
    member = active_member()
    client = login(make_user("staff"))
    response = client.get(f"/nudges/campaigns/{campaign.id}/preview?member={member.id}")
    page = text(response)
    assert response.status_code == 200
    assert (
        "This template cannot be sent: Line 2: a loop inside another loop cannot be used: "
        "too slow to send." in page
    )


def test_the_dry_run_and_the_editor_warn_that_planning_skips_it(ctx, login):
    campaign = stored_campaign("Broken", "{{ range(10) }}")
    client = login(make_user("staff"))
    dry_run = client.get(f"/nudges/campaigns/{campaign.id}/dry-run")
    assert dry_run.status_code == 200
    assert "cannot be sent, so planning skips it" in text(dry_run)
    assert "Text: Line 1: “range(…)” cannot be used" in text(dry_run)
    editor = text(client.get(f"/nudges/campaigns/{campaign.id}"))
    assert "planning skips this campaign until you fix it" in editor
