"""Does a nudge work? The emailed and held-out groups compared, small cells suppressed."""

import html
from datetime import date, timedelta

from crp_portal.events.models import Attendance
from crp_portal.extensions import db
from crp_portal.nudges.report import campaign_report
from crp_portal.outbox.models import OutboxKind, OutboxMessage, OutboxStatus
from crp_portal.timeutil import utcnow
from tests.factories import make_appointment, make_event, make_user
from tests.test_nudge_planning import make_campaign

NOW = utcnow()
PLANNED = NOW - timedelta(days=20)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def nudged(campaign, status, *, created_at=PLANNED, occurrence="period:1"):
    """A member with an outbox row of `status` for `campaign`, planned at `created_at`."""
    member = make_user("student")
    db.session.add(
        OutboxMessage(kind=OutboxKind.NUDGE, campaign_id=campaign.id, user_id=member.id,
                      occurrence=occurrence, recipient=member.email, status=status,
                      created_at=created_at)
    )  # fmt: skip
    db.session.commit()
    return member


class Activity:
    """Attendance and bookings at chosen moments."""

    def __init__(self):
        self.event = make_event(make_user("staff"))
        self.advisor = make_user("advisor")
        self.bookings = 0

    def attend(self, member, at):
        db.session.add(
            Attendance(event_id=self.event.id, user_id=member.id, source="roster", recorded_at=at)
        )
        db.session.commit()

    def book(self, member, at):
        self.bookings += 1  # each at its own hour: an advisor has one booking at a time
        make_appointment(self.advisor, member, days_ahead=3 + self.bookings, created_at=at)


def test_the_report_compares_who_acted_within_14_days(ctx):
    campaign = make_campaign(holdout_percent=30)
    activity = Activity()
    emailed = [nudged(campaign, OutboxStatus.SENT) for _ in range(12)]
    held = [nudged(campaign, OutboxStatus.HELD_OUT) for _ in range(6)]
    for member in emailed[:6]:
        activity.attend(member, PLANNED + timedelta(days=2))
    for member in emailed[6:8]:
        activity.book(member, PLANNED + timedelta(days=13, hours=23))
    activity.attend(emailed[8], PLANNED + timedelta(days=14))  # too late
    activity.attend(emailed[9], PLANNED - timedelta(hours=1))  # before the email
    for member in held[:5]:
        activity.attend(member, PLANNED + timedelta(days=1))
    nudged(campaign, OutboxStatus.PENDING)
    nudged(campaign, OutboxStatus.SUPPRESSED)
    nudged(make_campaign(), OutboxStatus.SENT)  # another campaign's
    nudged(
        campaign, OutboxStatus.SENT, created_at=NOW - timedelta(days=3)
    )  # its 14 days are not over

    report = campaign_report(campaign, NOW)
    assert (report.emailed.people.value, report.emailed.acted.value) == (12, 8)
    assert (report.held_out.people.value, report.held_out.acted.value) == (6, 5)
    assert report.emailed.share_label == "67%" and report.held_out.share_label == "83%"
    assert report.difference_label == "-17 percentage points"
    assert report.emailed.still_open.value == 1 and str(report.emailed.still_open) == "<5"


def test_small_cells_show_as_fewer_than_five_and_hide_the_share(ctx, login):
    campaign = make_campaign(name="Finals week", holdout_percent=10)
    activity = Activity()
    emailed = [nudged(campaign, OutboxStatus.SENT) for _ in range(10)]
    held = [nudged(campaign, OutboxStatus.HELD_OUT) for _ in range(3)]
    for member in emailed[:4]:
        activity.attend(member, PLANNED + timedelta(days=1))
    activity.attend(held[0], PLANNED + timedelta(days=1))

    report = campaign_report(campaign)
    assert [str(report.emailed.people), str(report.emailed.acted)] == ["10", "<5"]
    assert [str(report.held_out.people), str(report.held_out.acted)] == ["<5", "<5"]
    assert report.emailed.share is None and report.held_out.share is None
    assert str(report.emailed.still_open) == "<5"  # none at all is a small cell too
    assert report.difference_label is None

    page = text(login(make_user("staff")).get(f"/nudges/campaigns/{campaign.id}/report"))
    assert "Does it work? Finals week" in page
    table = page.split("<caption>")[1].split("</table>")[0]
    assert "<5" in table and "—" in table and "%" not in table
    assert "not enough data yet to compare" in page
    assert "evidence on nudges like these is mixed" in page


def test_the_page_shows_shares_and_the_difference(ctx, login):
    campaign = make_campaign(name="Finals week", holdout_percent=50)
    activity = Activity()
    emailed = [nudged(campaign, OutboxStatus.SENT) for _ in range(10)]
    held = [nudged(campaign, OutboxStatus.HELD_OUT) for _ in range(10)]
    for member in emailed[:6]:
        activity.attend(member, PLANNED + timedelta(days=1))
    for member in held[:5]:
        activity.book(member, PLANNED + timedelta(days=1))
    page = text(login(make_user("staff")).get(f"/nudges/campaigns/{campaign.id}/report"))
    assert "60%" in page and "50%" in page
    assert "+10 percentage points" in page


def test_without_a_holdout_the_page_says_how_to_measure(ctx, login):
    campaign = make_campaign(holdout_percent=0, active_from=date(2027, 1, 1))
    nudged(campaign, OutboxStatus.SENT)
    page = text(login(make_user("staff")).get(f"/nudges/campaigns/{campaign.id}/report"))
    assert "keeps no holdout" in page


def test_only_staff_see_the_report(ctx, login):
    campaign = make_campaign()
    for role in ("student", "advisor"):
        response = login(make_user(role)).get(f"/nudges/campaigns/{campaign.id}/report")
        assert response.status_code == 403
    staff = login(make_user("staff"))
    assert staff.get("/nudges/campaigns/999/report").status_code == 404
