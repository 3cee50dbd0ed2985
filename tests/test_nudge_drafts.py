"""A new campaign is a draft until staff make it live, and saving one that can reach
the same members as a running campaign for the same moment warns and names it."""

import html
from datetime import date

import pytest

from crp_portal.errors import Conflict
from crp_portal.extensions import db
from crp_portal.nudges import lifecycle
from crp_portal.nudges.models import Campaign
from crp_portal.timeutil import utcnow
from tests.factories import make_user
from tests.test_nudge_campaigns import FORM, make_campaign


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def saved(name: str) -> Campaign:
    db.session.expire_all()
    return db.session.query(Campaign).filter_by(name=name).one()


def test_a_new_campaign_is_a_draft_that_sends_nothing_until_made_live(ctx, login):
    staff = make_user("staff")
    client = login(staff)
    created = client.post("/nudges/campaigns/new", data=FORM, follow_redirects=True)
    assert "saved as a draft: it sends nothing until you make it live" in text(created)
    campaign = saved("Finals week")
    assert campaign.is_draft
    assert "Draft" in text(client.get("/nudges/"))
    page = text(client.get(f"/nudges/campaigns/{campaign.id}"))
    assert "This campaign is a draft" in page and "Make it live" in page
    dry_run = text(client.get(f"/nudges/campaigns/{campaign.id}/dry-run"))
    assert "This campaign is a draft, so planning would send none of this" in dry_run

    made_live = client.post(f"/nudges/campaigns/{campaign.id}/go-live", follow_redirects=True)
    assert "Finals week is live" in text(made_live)
    campaign = saved("Finals week")
    assert campaign.live_since is not None and campaign.made_live_by_id == staff.id
    assert "Pause campaign" in text(client.get(f"/nudges/campaigns/{campaign.id}"))


def test_a_live_campaign_cannot_be_made_live_again(ctx, login):
    campaign = make_campaign()
    response = login(make_user("staff")).post(f"/nudges/campaigns/{campaign.id}/go-live")
    assert response.status_code == 409
    assert "Finals week is already live." in text(response)


def test_a_draft_cannot_be_paused(ctx, login):
    campaign = make_campaign(live=False)
    response = login(make_user("staff")).post(f"/nudges/campaigns/{campaign.id}/pause")
    assert response.status_code == 409
    assert "is a draft: it sends nothing until it is made live" in text(response)
    assert saved("Finals week").paused is False


def test_a_draft_whose_stored_template_cannot_be_sent_does_not_go_live(ctx):
    campaign = make_campaign(live=False)
    campaign.body_template = "{{ first_name.__class__ }}"
    db.session.commit()
    with pytest.raises(Conflict, match="cannot go live until its template is fixed"):
        lifecycle.go_live(campaign, make_user("staff"), utcnow())


def test_state_of_a_draft(ctx):
    campaign = make_campaign(live=False, active_from=date(2026, 8, 1))
    assert lifecycle.state_of(campaign, date(2026, 9, 1)) == "Draft"


# Overlaps


def test_saving_a_campaign_like_a_running_one_warns_and_names_it(ctx, login):
    make_campaign(name="Finals are coming")
    make_user("student")
    client = login(make_user("staff"))
    response = client.post(
        "/nudges/campaigns/new", data={**FORM, "audience": "peer_mentors"}, follow_redirects=True
    )
    page = text(response)
    assert "“Finals are coming” is running with the same trigger" in page
    draft = saved("Finals week")
    editor = text(client.get(f"/nudges/campaigns/{draft.id}"))
    assert "Another running campaign can reach the same members" in editor
    assert "Finals are coming" in editor


def test_members_in_both_audiences_are_counted(ctx):
    running = make_campaign(name="Finals are coming")
    mentor = make_user("student", name="Mo Mentor")
    mentor.profile.is_peer_mentor = True
    make_user("student", name="Ana Member")
    db.session.commit()
    draft = make_campaign(live=False, audience="peer_mentors")
    (overlap,) = lifecycle.overlapping(draft, date(2026, 9, 1))
    assert overlap.campaign == running and overlap.shared_members == 1
    assert "1 member is in both audiences today" in overlap.describe()


@pytest.mark.parametrize(
    "other",
    [
        {"paused": True},
        {"live": False},
        {"period_kind": "midterms"},
        {"trigger": "back_from_break", "period_kind": None, "anchor": None, "offset_days": 0},
        {"active_from": date(2026, 1, 1), "active_to": date(2026, 3, 1)},
    ],
    ids=["paused", "draft", "other-period", "other-trigger", "ended-before-it-starts"],
)
def test_no_warning_without_a_running_campaign_for_the_same_moment(ctx, other):
    other = dict(other)
    paused = other.pop("paused", False)
    existing = make_campaign(name="Other campaign", **other)
    if paused:
        lifecycle.pause_campaign(existing)
        db.session.commit()
    draft = make_campaign(live=False)
    assert lifecycle.overlapping(draft, date(2026, 2, 1)) == []


def test_making_a_draft_live_warns_of_an_overlap_too(ctx, login):
    make_campaign(name="Finals are coming")
    draft = make_campaign(live=False)
    response = login(make_user("staff")).post(
        f"/nudges/campaigns/{draft.id}/go-live", follow_redirects=True
    )
    page = text(response)
    assert "Finals week is live" in page
    assert "“Finals are coming” is running with the same trigger" in page
