"""The demo's campaigns: the moments a program reaches out, with plain, detail-free text."""

from datetime import date, timedelta

from crp_portal.extensions import db
from crp_portal.nudges.models import Campaign

SIGN_OFF = "\n\nSee you soon,\nThe {{ program_name }} team\n{{ portal_link }}"
CAMPAIGNS = [
    {
        "name": "Finals are coming",
        "trigger": "period",
        "period_kind": "finals",
        "anchor": "start",
        "offset_days": -3,
        "audience": "active_members",
        "category": "academic",
        "subject_template": "Finals are coming: here's what's on this week",
        "body_template": "Hi {{ first_name }},\n\nFinals start in three days. Here's what's on "
        "this week:\n{{ this_week }}\n\nNeed a study plan? Book an advisor: {{ advising_link }}"
        + SIGN_OFF,
    },
    {
        "name": "Midterms check-in",
        "trigger": "period",
        "period_kind": "midterms",
        "anchor": "start",
        "offset_days": -2,
        "audience": "active_members",
        "category": "academic",
        "holdout_percent": 10,
        "subject_template": "Midterms are close: study hall and meetings this week",
        "body_template": "Hi {{ first_name }},\n\nMidterms start soon. This week:\n"
        "{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "Welcome week",
        "trigger": "first_term_week",
        "audience": "first_term_members",
        "category": "events",
        "subject_template": "Welcome! Your first week with {{ program_name }}",
        "body_template": "Hi {{ first_name }},\n\nWelcome. Here's what's on this week — come "
        "to anything that looks good:\n{{ this_week }}\n\nAll events: {{ events_link }}" + SIGN_OFF,
    },
    {
        "name": "Welcome home",
        "trigger": "move_in",
        "audience": "residents",
        "category": "housing",
        "subject_template": "Welcome home",
        "body_template": "Hi {{ first_name }},\n\nToday is move-in day. Your house's first "
        "meeting and this week's events:\n{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "Back from break",
        "trigger": "period",
        "period_kind": "break",
        "anchor": "end",
        "offset_days": 1,
        "audience": "active_members",
        "category": "events",
        "subject_template": "Welcome back: this week at {{ program_name }}",
        "body_template": "Hi {{ first_name }},\n\nWelcome back from break. Here's this week:\n"
        "{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "We haven't seen you in a while",
        "trigger": "inactive",
        "days": 21,
        "audience": "active_members",
        "category": "wellbeing",
        "subject_template": "Thinking of you",
        "body_template": "Hi {{ first_name }},\n\nIt's been a few weeks. No pressure — here's "
        "what's on if you'd like to drop in:\n{{ this_week }}" + SIGN_OFF,
    },
    {
        "name": "Advising by week 4",
        "trigger": "no_advising",
        "days": 4,
        "audience": "no_advising_this_term",
        "category": "academic",
        "subject_template": "A quick advising check-in this term?",
        "body_template": "Hi {{ first_name }},\n\nA 30-minute advising session early in the "
        "term helps. Pick a time: {{ advising_link }}" + SIGN_OFF,
    },
]


def seed_campaigns(today: date, staff) -> int:
    for values in CAMPAIGNS:
        db.session.add(
            Campaign(active_from=today - timedelta(days=120), created_by_id=staff.id, **values)
        )
    db.session.flush()
    return len(CAMPAIGNS)
