"""The demo's campaigns: the moments a program reaches out, with plain, detail-free text."""

from datetime import date, datetime, timedelta
from typing import Any

from crp_portal.extensions import db
from crp_portal.nudges.models import Anchor, Audience, Campaign, Trigger
from crp_portal.terms.models import PeriodKind

SIGN_OFF = "\n\nSee you soon,\nThe {{ program_name }} team\n{{ portal_link }}"
CAMPAIGNS: list[dict[str, Any]] = [
    {
        "name": "Finals are coming",
        "trigger": Trigger.PERIOD,
        "period_kind": PeriodKind.FINALS,
        "anchor": Anchor.START,
        "offset_days": -3,
        "audience": Audience.ACTIVE_MEMBERS,
        "category": "academic",
        "subject_template": "Finals are coming: here's what's on this week",
        "body_template": "Hi {{ first_name }},\n\nFinals start in three days. Here's what's on "
        "this week:\n{{ this_week }}\n\nNeed a study plan? Book an advisor: {{ advising_link }}"
        + SIGN_OFF,
    },
    {
        "name": "Midterms check-in",
        "trigger": Trigger.PERIOD,
        "period_kind": PeriodKind.MIDTERMS,
        "anchor": Anchor.START,
        "offset_days": -2,
        "audience": Audience.ACTIVE_MEMBERS,
        "category": "academic",
        "holdout_percent": 10,
        "subject_template": "Midterms are close: study hall and meetings this week",
        "body_template": "Hi {{ first_name }},\n\nMidterms start soon. This week:\n"
        "{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "Welcome week",
        "trigger": Trigger.FIRST_TERM_WEEK,
        "audience": Audience.FIRST_TERM_MEMBERS,
        "category": "events",
        "subject_template": "Welcome! Your first week with {{ program_name }}",
        "body_template": "Hi {{ first_name }},\n\nWelcome. Here's what's on this week — come "
        "to anything that looks good:\n{{ this_week }}\n\nAll events: {{ events_link }}" + SIGN_OFF,
    },
    {
        "name": "Welcome home",
        "trigger": Trigger.MOVE_IN,
        "audience": Audience.RESIDENTS,
        "category": "housing",
        "subject_template": "Welcome home",
        "body_template": "Hi {{ first_name }},\n\nToday is move-in day. Your house's first "
        "meeting and this week's events:\n{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "Back from break",
        "trigger": Trigger.PERIOD,
        "period_kind": PeriodKind.BREAK,
        "anchor": Anchor.END,
        "offset_days": 1,
        "audience": Audience.ACTIVE_MEMBERS,
        "category": "events",
        "subject_template": "Welcome back: this week at {{ program_name }}",
        "body_template": "Hi {{ first_name }},\n\nWelcome back from break. Here's this week:\n"
        "{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "We haven't seen you in a while",
        "trigger": Trigger.INACTIVE,
        "days": 21,
        "audience": Audience.ACTIVE_MEMBERS,
        "category": "wellbeing",
        "subject_template": "Thinking of you",
        "body_template": "Hi {{ first_name }},\n\nIt's been a few weeks. No pressure — here's "
        "what's on if you'd like to drop in:\n{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "Advising by week 4",
        "trigger": Trigger.NO_ADVISING,
        "days": 4,
        "audience": Audience.NO_ADVISING_THIS_TERM,
        "category": "academic",
        "subject_template": "A quick advising check-in this term?",
        "body_template": "Hi {{ first_name }},\n\nA 30-minute advising session early in the "
        "term helps. Pick a time: {{ advising_link }}" + SIGN_OFF,
    },
]


DRAFT = {
    "name": "Midterm study hall (draft)",
    "trigger": Trigger.PERIOD,
    "period_kind": PeriodKind.MIDTERMS,
    "anchor": Anchor.START,
    "offset_days": -2,
    "audience": Audience.FIRST_TERM_MEMBERS,
    "category": "academic",
    "subject_template": "Study hall before midterms",
    "body_template": "Hi {{ first_name }},\n\nMidterms start soon. Quiet study space and "
    "good company: {{ events_link }}" + SIGN_OFF,
}


def seed_campaigns(today: date, staff, now: datetime) -> int:
    """The campaigns a program runs, live since they were made, and one still a draft."""
    made = today - timedelta(days=120)
    for values in CAMPAIGNS:
        db.session.add(
            Campaign(
                active_from=made,
                created_by_id=staff.id,
                live_since=now,
                made_live_by_id=staff.id,
                **values,
            )
        )
    db.session.add(Campaign(active_from=today, created_by_id=staff.id, **DRAFT))
    db.session.flush()
    return len(CAMPAIGNS) + 1
