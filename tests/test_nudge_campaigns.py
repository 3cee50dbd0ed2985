"""Staff write nudge campaigns: when they send, to whom, and what they say; and preview one."""

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from crp_portal.audit.models import AuditEntry
from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.nudges import campaigns, lifecycle
from crp_portal.nudges.campaigns import CampaignDetails, InvalidCampaign
from crp_portal.nudges.models import Campaign
from crp_portal.outbox.models import OutboxMessage
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_event, make_user

FORM = {
    "name": "Finals week",
    "trigger": "period",
    "period_kind": "finals",
    "anchor": "start",
    "offset_amount": "3",
    "offset_direction": "before",
    "days": "",
    "audience": "active_members",
    "category": "academic",
    "subject_template": "Finals are coming, {{ first_name }}",
    "body_template": "Hi {{ first_name }},\n\nThis week:\n{{ this_week }}\n\nMore: {{ events_link }}",
    "active_from": "2026-08-01",
    "active_to": "",
    "holdout_percent": "10",
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def details(**overrides) -> CampaignDetails:
    values = {
        "name": "Finals week",
        "trigger": "period",
        "period_kind": "finals",
        "anchor": "start",
        "offset_days": -3,
        "audience": "active_members",
        "category": "academic",
        "subject_template": "Finals are coming, {{ first_name }}",
        "body_template": "Hi {{ first_name }},\n{{ this_week }}",
        "active_from": date(2026, 8, 1),
    }
    values.update(overrides)
    return CampaignDetails(**values)


def make_campaign(live: bool = True, **overrides) -> Campaign:
    """A campaign saved as staff save one, and made live unless `live` is False."""
    campaign = campaigns.create_campaign(details(**overrides), None)
    if live:
        lifecycle.go_live(campaign, make_user("staff"), utcnow())
    db.session.commit()
    return campaign


def make_message(campaign, status, user=None, **fields):
    user = user or make_user("student")
    message = OutboxMessage(
        kind="nudge",
        campaign_id=campaign.id,
        user_id=user.id,
        occurrence=f"test:{user.id}",
        recipient=user.email,
        subject="Subject",
        body_text="Body",
        status=status,
        **fields,
    )
    db.session.add(message)
    db.session.commit()
    return message


def campaign_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


# The editor


def test_staff_create_a_campaign_and_see_it_listed_in_words(ctx, login):
    client = login(make_user("staff"))
    response = client.post("/nudges/campaigns/new", data=FORM)
    campaign = db.session.scalar(select(Campaign))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/nudges/campaigns/{campaign.id}")
    assert (campaign.trigger, campaign.period_kind, campaign.anchor) == (
        "period",
        "finals",
        "start",
    )
    assert campaign.offset_days == -3 and campaign.holdout_percent == 10
    listing = text(client.get("/nudges/"))
    assert "Finals week" in listing
    assert "3 days before Finals starts" in listing
    assert "Active members" in listing and "Exam, deadline and term reminders" in listing
    assert "10%" in listing and "Active" in listing


def test_the_editor_shows_the_saved_offset_as_days_before_and_saves_changes(ctx, login):
    campaign = make_campaign()
    client = login(make_user("staff"))
    page = text(client.get(f"/nudges/campaigns/{campaign.id}"))
    assert 'name="offset_amount" type="number" value="3"' in page
    assert '<option selected value="before">before</option>' in page
    changed = {**FORM, "name": "Finals week 2", "offset_amount": "1", "offset_direction": "after"}
    changed["anchor"] = "end"
    response = client.post(f"/nudges/campaigns/{campaign.id}", data=changed)
    assert response.status_code == 302
    assert "1 day after Finals ends" in text(client.get("/nudges/"))
    assert db.session.get(Campaign, campaign.id).name == "Finals week 2"


def test_the_editor_lists_the_placeholders_and_links_to_preview_dry_run_and_report(ctx, login):
    campaign = make_campaign()
    page = text(login(make_user("staff")).get(f"/nudges/campaigns/{campaign.id}"))
    assert "{{ first_name }}" in page and "the member's preferred name" in page.lower()
    assert "{{ this_week }}" in page
    assert f"/nudges/campaigns/{campaign.id}/preview" in page
    assert f"/nudges/campaigns/{campaign.id}/dry-run" in page
    assert f"/nudges/campaigns/{campaign.id}/report" in page


def test_template_problems_are_shown_under_their_field_with_the_line(ctx, login):
    client = login(make_user("staff"))
    body = "Hi {{ first_name }},\n\nSee you\n{{ frist_name }} and {{ events_link }}"
    response = client.post(
        "/nudges/campaigns/new",
        data={**FORM, "subject_template": "Finals {% if %}", "body_template": body},
    )
    page = text(response)
    assert response.status_code == 200
    assert "Line 4: unknown placeholder “frist_name”" in page
    assert "Line 1:" in page  # the subject's syntax error, with its line
    assert campaign_count() == 0


def test_a_template_cannot_reach_python_internals(ctx, login):
    client = login(make_user("staff"))
    response = client.post(
        "/nudges/campaigns/new",
        data={**FORM, "body_template": "{{ first_name.__class__.__mro__ }}"},
    )
    assert "A placeholder may be printed, not looked inside." in text(response)
    assert campaign_count() == 0


def test_a_duplicate_name_is_refused_in_place_whatever_its_case(ctx, login):
    make_campaign(name="Finals week")
    response = login(make_user("staff")).post(
        "/nudges/campaigns/new", data={**FORM, "name": "FINALS WEEK"}
    )
    assert "A campaign named “FINALS WEEK” already exists." in text(response)
    assert campaign_count() == 1


def test_renaming_to_its_own_name_is_fine(ctx, login):
    campaign = make_campaign(name="Finals week")
    response = login(make_user("staff")).post(f"/nudges/campaigns/{campaign.id}", data=FORM)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"period_kind": ""}, "Choose the kind of calendar period"),
        (
            {"trigger": "inactive", "days": ""},
            "Enter how many days without activity, from 1 to 365.",
        ),
        (
            {"trigger": "no_advising", "days": "25"},
            "Enter the week of term to check by, from 1 to 20.",
        ),
        ({"active_to": "2026-07-01"}, "The last day must be on or after the first day."),
    ],
)
def test_each_trigger_needs_its_settings(ctx, login, changes, message):
    response = login(make_user("staff")).post("/nudges/campaigns/new", data={**FORM, **changes})
    assert message in text(response)
    assert campaign_count() == 0


def test_bad_input_is_explained_never_a_server_error(ctx, login):
    client = login(make_user("staff"))
    junk = {
        **FORM,
        "name": "x" * 500,
        "subject_template": "s" * 300,
        "body_template": "b" * 6000,
        "offset_amount": "abc",
        "days": "9" * 40,
        "holdout_percent": "99",
        "active_from": "2026-13-45",
        "trigger": "bogus",
        "audience": "everyone",
    }
    response = client.post("/nudges/campaigns/new", data=junk)
    page = text(response)
    assert response.status_code == 200
    assert "Use at most 120 characters." in page
    assert "Use at most 200 characters." in page
    assert "Use at most 5000 characters." in page
    assert "Enter a whole number from 0 to 50." in page
    assert "Not a valid choice" in page
    assert campaign_count() == 0


def test_an_unknown_campaign_is_not_found(ctx, login):
    client = login(make_user("staff"))
    assert client.get("/nudges/campaigns/999").status_code == 404
    assert client.post("/nudges/campaigns/999/pause").status_code == 404
    assert client.get("/nudges/campaigns/999/preview").status_code == 404


def test_staff_pause_and_resume_a_campaign(ctx, login):
    campaign = make_campaign()
    client = login(make_user("staff"))
    paused = client.post(f"/nudges/campaigns/{campaign.id}/pause")
    assert paused.status_code == 302
    assert db.session.get(Campaign, campaign.id).paused is True
    assert "Paused" in text(client.get("/nudges/"))
    client.post(f"/nudges/campaigns/{campaign.id}/resume")
    assert db.session.get(Campaign, campaign.id).paused is False


def test_the_list_counts_sent_and_pending_messages_per_campaign(ctx, login):
    finals = make_campaign(name="Finals week")
    quiet = make_campaign(name="Quiet spell", trigger="inactive", days=21, period_kind=None)
    for status in ("sent", "sent", "sent", "pending", "failed"):
        make_message(finals, status)
    make_message(quiet, "pending")
    page = text(login(make_user("staff")).get("/nudges/"))
    assert "No activity for 21 days" in page
    assert f"/nudges/outbox?campaign={finals.id}&amp;status=sent" in page.replace("&", "&amp;")
    assert '3<span class="visually-hidden"> sent by Finals week' in page
    assert '1<span class="visually-hidden"> pending for Finals week' in page
    assert '0<span class="visually-hidden"> sent by Quiet spell' in page
    assert '1<span class="visually-hidden"> pending for Quiet spell' in page


def test_the_list_costs_the_same_with_more_campaigns_and_messages(ctx, login, count_queries):
    client = login(make_user("staff"))

    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            campaign = make_campaign(name=f"Campaign {number}")
            make_message(campaign, "sent")
            make_message(campaign, "pending")

    add(2, 0)
    few = count_queries(client, "/nudges/")
    add(10, 2)
    assert count_queries(client, "/nudges/") == few


# Rules in the service, without a request


def test_the_service_clears_settings_the_trigger_does_not_use(ctx):
    campaign = campaigns.create_campaign(
        details(trigger="inactive", days=21, period_kind="finals", anchor="end", offset_days=5),
        None,
    )
    assert (campaign.period_kind, campaign.anchor, campaign.offset_days) == (None, None, 0)
    assert campaign.days == 21


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "   "}, "name"),
        ({"trigger": "someday"}, "trigger"),
        ({"anchor": None}, "anchor"),
        ({"offset_days": -91}, "offset_days"),
        ({"trigger": "inactive", "days": 0}, "days"),
        ({"trigger": "no_advising", "days": None}, "days"),
        ({"audience": "everyone"}, "audience"),
        ({"category": "marketing"}, "category"),
        ({"subject_template": ""}, "subject_template"),
        ({"body_template": "{{ password }}"}, "body_template"),
        ({"active_to": date(2026, 7, 31)}, "active_to"),
        ({"holdout_percent": 51}, "holdout_percent"),
    ],
)
def test_the_service_refuses_a_broken_rule_naming_the_field(ctx, overrides, field):
    with pytest.raises(InvalidCampaign) as raised:
        campaigns.create_campaign(details(**overrides), None)
    assert raised.value.field == field
    assert isinstance(raised.value, DomainError) and raised.value.message
    assert campaign_count() == 0


def test_the_service_lists_every_template_problem(ctx):
    with pytest.raises(InvalidCampaign) as raised:
        campaigns.create_campaign(details(body_template="{{ a }}\n{{ b }}"), None)
    assert [problem[:7] for problem in raised.value.problems] == ["Line 1:", "Line 2:"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({}, "3 days before Finals starts"),
        ({"offset_days": 0, "anchor": "end"}, "On the day Finals ends"),
        ({"offset_days": 1, "period_kind": "break", "anchor": "end"}, "1 day after Break ends"),
        ({"offset_days": -2, "period_kind": "classes_start"}, "2 days before classes start"),
        ({"trigger": "inactive", "days": 21}, "No activity for 21 days"),
        ({"trigger": "no_advising", "days": 4}, "No advising session by week 4 of term"),
        ({"trigger": "move_in"}, "On a resident's housing move-in date"),
        ({"trigger": "first_term_week"}, "In the first week of a member's first term"),
        ({"trigger": "back_from_break"}, "On the first day back from a break"),
    ],
)
def test_triggers_are_described_in_words(ctx, overrides, words):
    assert campaigns.describe_trigger(make_campaign(**overrides)) == words


def test_state_follows_pause_and_active_dates(ctx):
    campaign = make_campaign(active_from=date(2026, 8, 1), active_to=date(2026, 12, 31))
    assert lifecycle.state_of(campaign, date(2026, 7, 31)) == "Not started"
    assert lifecycle.state_of(campaign, date(2026, 9, 1)) == "Active"
    assert lifecycle.state_of(campaign, date(2027, 1, 1)) == "Ended"
    lifecycle.pause_campaign(campaign)
    assert lifecycle.state_of(campaign, date(2026, 9, 1)) == "Paused"


# Preview


def test_preview_renders_the_email_for_a_chosen_member_without_auditing(ctx, login):
    campaign = make_campaign(subject_template="Finals soon, {{ first_name }}")
    member = make_user("student", name="Alexandra Rivera")
    member.profile.preferred_name = "Alex"
    make_user("student", name="Aaron Applicant", status="applicant")
    make_event(day=local_today() + timedelta(days=2), title="Peer support group")
    db.session.commit()
    client = login(make_user("staff"))
    picker = text(client.get(f"/nudges/campaigns/{campaign.id}/preview"))
    assert "Alexandra Rivera" in picker and "Aaron Applicant" not in picker
    page = text(client.get(f"/nudges/campaigns/{campaign.id}/preview?member={member.id}"))
    assert "Finals soon, Alex" in page
    assert "Hi Alex," in page
    assert "Tuesday group" in page and "Peer support group" not in page  # the neutral title
    assert "Stop emails like this: (unsubscribe link — works only in the sent email)" in page
    assert "/unsubscribe/" not in page
    assert "List-Unsubscribe" in page
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_preview_finds_members_by_name(ctx, login):
    campaign = make_campaign()
    make_user("student", name="Jordan Park")
    make_user("student", name="Casey Lin")
    page = text(login(make_user("staff")).get(f"/nudges/campaigns/{campaign.id}/preview?q=jord"))
    assert "Jordan Park" in page and "Casey Lin" not in page


@pytest.mark.parametrize("member", ["applicant", "staff", "junk", "99999"])
def test_preview_is_only_for_active_members(ctx, login, member):
    campaign = make_campaign()
    people = {
        "applicant": make_user("student", status="applicant").id,
        "staff": make_user("staff").id,
    }
    response = login(make_user("staff")).get(
        f"/nudges/campaigns/{campaign.id}/preview?member={people.get(member, member)}"
    )
    assert response.status_code == 200
    assert "Choose an active member from the list." in text(response)
    assert "Stop emails like this" not in text(response)


# Who may use the pages


@pytest.mark.parametrize("role", ["student", "advisor"])
def test_students_and_advisors_may_not_use_campaign_pages(ctx, login, role):
    campaign = make_campaign()
    client = login(make_user(role))
    for path in ("/nudges/", "/nudges/campaigns/new", f"/nudges/campaigns/{campaign.id}",
                 f"/nudges/campaigns/{campaign.id}/preview"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    for path in ("/nudges/campaigns/new", f"/nudges/campaigns/{campaign.id}",
                 f"/nudges/campaigns/{campaign.id}/pause",
                 f"/nudges/campaigns/{campaign.id}/resume"):  # fmt: skip
        assert client.post(path, data=FORM).status_code == 403, path
    assert campaign_count() == 1 and db.session.get(Campaign, campaign.id).paused is False


def test_signed_out_visitors_are_sent_to_sign_in(ctx, client):
    response = client.get("/nudges/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
