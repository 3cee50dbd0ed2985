"""`flask nudges run` as cron runs it: on the demo program, with links built on
CRP_BASE_URL (no request, no SERVER_NAME), delivering to a real SMTP server once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crp_portal import demo
from crp_portal.extensions import db
from crp_portal.nudges.demo import CAMPAIGNS
from crp_portal.nudges.templating import check_template
from crp_portal.outbox.models import OutboxMessage, OutboxStatus
from crp_portal.terms.models import CalendarPeriod
from crp_portal.terms.services import current_term
from crp_portal.timeutil import local_today


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None, "CRP_BASE_URL": "https://crp.example.edu"}


@pytest.mark.parametrize("campaign", CAMPAIGNS, ids=[c["name"] for c in CAMPAIGNS])
def test_every_demo_campaign_has_valid_templates(campaign):
    assert check_template(campaign["subject_template"]) == []
    assert check_template(campaign["body_template"]) == []


def test_the_demo_finals_campaign_reaches_active_members_once(app, ctx, smtp):
    today = local_today()
    demo.seed(today)
    db.session.commit()
    finals = db.session.scalar(
        select(CalendarPeriod).where(
            CalendarPeriod.kind == "finals", CalendarPeriod.term == current_term(today)
        )
    )
    day = finals.starts_on - timedelta(days=3)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["nudges", "run", "--at", f"{day.isoformat()}T10:00"])
    assert first.exit_code == 0, first.output
    assert "Finals are coming:" in first.output
    finals_mail = [m for m in smtp.messages if m["Subject"].startswith("Finals are coming")]
    assert finals_mail, first.output
    body = smtp.text_of(finals_mail[0])
    assert "https://crp.example.edu/" in body and "/unsubscribe/" in body
    received = len(smtp.messages)
    second = runner.invoke(args=["nudges", "run", "--at", f"{day.isoformat()}T10:15"])
    assert second.exit_code == 0, second.output
    assert len(smtp.messages) == received
    sent = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENT)
    )
    assert sent == received
