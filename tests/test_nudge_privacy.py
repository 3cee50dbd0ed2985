"""Nudges leak nothing: the email names no outside meeting, and no page staff open about a
nudge carries a link that would unsubscribe the student."""

import html
import re
from datetime import date, time

import pytest
from sqlalchemy import func, select, update

from crp_portal.extensions import db
from crp_portal.members.models import EmailOptOut
from crp_portal.outbox.models import OutboxMessage, OutboxStatus
from tests.factories import make_campaign, make_meeting, make_period, make_term, make_user

BASE = "https://crp.example.edu"
FINALS_MINUS_3 = date(2027, 4, 28)
MEETINGS = ("Clean Slate NA", "Hump Day Young People's AA")
RECOVERY_WORDS = ("recovery", "relapse", "sober", "addiction", "craving", "substance", "anonymous")
EVERY_PLACEHOLDER = (
    "Hi {{ first_name }} ({{ program_name }}),\n\nThis week:\n{{ this_week }}\n\n"
    "{{ events_link }} {{ advising_link }} {{ portal_link }}\n"
    "{% for letter in this_week %}{{ letter }}{% endfor %}\n"
)
LINK = re.compile(r"""(?:href|action)="([^"]*)"|(https?://[^\s"'<>]+)""")


@pytest.fixture
def app_config():
    """Links are built on CRP_BASE_URL, never on the host a request came in on."""
    return {"SERVER_NAME": None, "CRP_BASE_URL": BASE}


@pytest.fixture
def week(ctx):
    """Finals on 1 May 2027, two outside meetings in the directory, one active member."""
    term = make_term("Spring 2027", date(2027, 1, 11), date(2027, 5, 7))
    make_period(term, "finals", date(2027, 5, 1), date(2027, 5, 7))
    make_meeting(MEETINGS[0], fellowship="na", weekday=3, starts_at=time(19, 0))
    make_meeting(MEETINGS[1], fellowship="aa", weekday=2, starts_at=time(12, 0))
    return make_user("student", name="Riley Moss")


def run_nudges(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["nudges", "run", "--at", f"{FINALS_MINUS_3.isoformat()}T12:00"]
    )
    assert result.exit_code == 0, result.output


def page_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def links_in(page: str) -> set[str]:
    """Every address in a page: its hrefs and form actions, and any URL written as text."""
    found = {attribute or text for attribute, text in LINK.findall(page)}
    return {link.removeprefix(BASE) for link in found if link.startswith(("/", BASE))}


def opt_outs(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(EmailOptOut).where(EmailOptOut.user_id == user.id)
    )


def test_the_email_counts_the_weeks_meetings_and_names_none(app, week, smtp):
    make_campaign(body_template=EVERY_PLACEHOLDER.replace(" ({{ program_name }})", ""))
    run_nudges(app)
    [message] = smtp.messages
    raw = message.raw
    for name in MEETINGS:
        assert name.encode() not in raw
    assert f"- 2 support meetings this week: {BASE}/support-meetings/".encode() in raw
    body = smtp.text_of(message)
    html_body = message.get_body(preferencelist=("html",)).get_content()
    assert "2 support meetings this week" in body and "Clean Slate" not in html_body
    words = (message["Subject"] + body + html_body).lower()
    assert [word for word in RECOVERY_WORDS if word in words] == []
    assert re.search(r"\b(AA|NA)\b", body + html_body) is None


def test_no_placeholder_a_campaign_can_use_expands_to_a_meeting_name(app, week, login):
    staff = login(make_user("staff"))
    saved = staff.post(
        "/nudges/campaigns/new",
        data={
            "name": "Every placeholder",
            "trigger": "period",
            "period_kind": "finals",
            "anchor": "start",
            "offset_amount": "3",
            "offset_direction": "before",
            "audience": "active_members",
            "category": "academic",
            "subject_template": "{{ this_week }}",
            "body_template": EVERY_PLACEHOLDER,
            "active_from": "2027-01-01",
            "holdout_percent": "0",
        },
    )
    assert saved.status_code == 302, page_of(saved)
    campaign_id = saved.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    preview = page_of(staff.get(f"/nudges/campaigns/{campaign_id}/preview?member={week.id}"))
    for name in MEETINGS:
        assert name not in preview
    assert "Hi Riley" in preview
    assert f"2 support meetings this week: {BASE}/support-meetings/" in preview


def test_no_staff_view_of_a_nudge_unsubscribes_the_student_but_the_email_does(
    app, week, smtp, login
):
    campaign = make_campaign(body_template="Hi {{ first_name }},\n{{ this_week }}\n")
    staff = login(make_user("staff"))
    preview = page_of(staff.get(f"/nudges/campaigns/{campaign.id}/preview?member={week.id}"))
    assert "Hi Riley" in preview
    dry_run = page_of(staff.get(f"/nudges/campaigns/{campaign.id}/dry-run?on={FINALS_MINUS_3}"))
    assert "Riley Moss" in dry_run
    run_nudges(app)
    [email] = smtp.messages
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.NEEDS_REVIEW))
    db.session.commit()
    review = page_of(staff.get("/nudges/outbox?status=needs_review"))
    assert week.email in review

    passer_by = app.test_client()
    for page in (preview, dry_run, review):
        for link in links_in(page):
            passer_by.get(link)
            passer_by.post(link, data="List-Unsubscribe=One-Click")
    assert opt_outs(week) == 0
    assert "Stop emails like this: (unsubscribe link — works only in the sent email)" in preview
    assert not [page for page in (preview, dry_run, review) if "/unsubscribe/" in page]

    emailed = email["List-Unsubscribe"].strip("<>")
    assert emailed.startswith(f"{BASE}/unsubscribe/")
    assert f"Stop emails like this: {emailed}" in smtp.text_of(email)
    one_click = passer_by.post(emailed.removeprefix(BASE), data="List-Unsubscribe=One-Click")
    assert one_click.status_code == 200
    assert opt_outs(week) == 1
