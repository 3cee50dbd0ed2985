"""A staff member's home is a to-do list by scope: open follow-ups by age, applications
waiting, bed offers expiring this week, events needing attendance and messages needing
review, each only for the scopes that open it, each gone once done."""

import html
from datetime import timedelta

import pytest

from crp_portal.access import EVENTS, HOUSING, NUDGES, RECOVERY
from crp_portal.events.models import Attendance
from crp_portal.extensions import db
from crp_portal.housing.offers import accept_offer
from crp_portal.members import intake
from crp_portal.nudges.delivery import resend
from crp_portal.outbox.models import OutboxKind, OutboxMessage, OutboxStatus
from crp_portal.recovery import follow_ups
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_application, make_event, make_house, make_offer, make_user

NOTHING = "Nothing needs you right now."


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def open_follow_up(name="Riley Quinn"):
    follow_up = follow_ups.open_by_staff(make_user("student", name=name), make_user("staff"))
    db.session.commit()
    return follow_up


def intake_application(name="Jordan Applicant"):
    if intake.current_agreement() is None:
        intake.publish_agreement(make_user("staff"), "Respect each other's privacy.")
    application = intake.apply(
        make_user("student", name=name, status="applicant"), "Community", "friend", "", 1, True
    )
    db.session.commit()
    return application


def ended_event(title="Spring picnic", days_ago=1, **overrides):
    """An event that ended `days_ago` days ago, nobody marked present."""
    event = make_event(title=title, **overrides)
    event.starts_at -= timedelta(days=7 + days_ago)
    event.ends_at -= timedelta(days=7 + days_ago)
    db.session.commit()
    return event


def needs_review_message():
    message = OutboxMessage(
        kind=OutboxKind.TRANSACTIONAL,
        recipient="someone@example.edu",
        subject="Your appointment",
        status=OutboxStatus.NEEDS_REVIEW,
    )
    db.session.add(message)
    db.session.commit()
    return message


def test_with_nothing_waiting_the_home_says_nothing_needs_them(ctx, login):
    page = home(login(make_user("staff")))
    assert NOTHING in page
    assert "<title>Home" in page


def test_an_open_follow_up_waits_with_its_age_until_resolved(ctx, login):
    staff = make_user("staff")
    follow_up = open_follow_up()
    follow_up.created_at = utcnow() - timedelta(days=9)
    db.session.commit()
    client = login(staff)
    page = home(client)
    assert "Reach out to Riley Quinn" in page and "open 9 days · Raised by staff" in page
    assert f'href="/follow-ups/{follow_up.id}"' in page

    follow_ups.resolve(follow_up, staff, "Talked; all good.", utcnow())
    db.session.commit()
    page = home(client)
    assert "Riley Quinn" not in page and NOTHING in page


def test_follow_ups_are_listed_oldest_first_with_a_link_to_the_rest(ctx, login):
    for days, name in [(2, "Bo Newer"), (20, "Al Oldest"), (9, "Cy Middle")]:
        follow_up = open_follow_up(name)
        follow_up.created_at = utcnow() - timedelta(days=days)
    for number in range(5):
        open_follow_up(f"Recent Person{number}")
    db.session.commit()
    page = home(login(make_user("staff")))
    assert page.index("Al Oldest") < page.index("Cy Middle") < page.index("Bo Newer")
    assert "All 8 open follow-ups</a> (3 more)" in page


def test_applications_waiting_are_counted_until_decided(ctx, login):
    staff = make_user("staff")
    application = intake_application()
    client = login(staff)
    page = home(client)
    assert "Decide on applications to join" in page and "1 application is waiting." in page
    assert "Jordan Applicant" not in page  # a count, no names
    assert 'href="/members/applications"' in page

    intake.decide(staff, application, "accepted", "")
    db.session.commit()
    assert "Decide on applications" not in home(client)


def test_a_bed_offer_expiring_this_week_waits_until_answered(ctx, login):
    house = make_house("Maple House")
    soon = make_offer(
        make_application(make_user("student", name="Kai Soon"), house=house), reply_days=3
    )
    make_offer(make_application(make_user("student", name="Lee Later"), house=house), reply_days=9)
    client = login(make_user("staff"))
    page = home(client)
    assert "Offer to Kai Soon expires" in page and "Maple House, room 1" in page
    assert "Lee Later" not in page  # replies after this week
    assert 'href="/housing/board"' in page

    accept_offer(soon, local_today())
    db.session.commit()
    assert "Kai Soon" not in home(client)


def test_an_ended_event_needs_attendance_until_someone_is_marked_present(ctx, login):
    event = ended_event()
    ended_event(title="Long ago", days_ago=30)
    cancelled = ended_event(title="Called off")
    cancelled.status = "cancelled"
    make_event(title="Still to come")
    db.session.commit()
    client = login(make_user("staff"))
    page = home(client)
    assert "Record attendance: Spring picnic" in page
    assert f'href="/events/{event.id}/attendance"' in page
    assert "Record attendance: Long ago" not in page
    assert "Record attendance: Called off" not in page
    assert "Record attendance: Still to come" not in page

    db.session.add(Attendance(event_id=event.id, user_id=make_user("student").id, source="roster"))
    db.session.commit()
    assert "Record attendance" not in home(client)


def test_a_headcount_meeting_needs_its_headcount(ctx, login):
    event = ended_event(title="Closed meeting", headcount_only=True)
    client = login(make_user("staff"))
    assert "Record attendance: Closed meeting" in home(client)
    event.headcount = 0  # nobody came: recorded all the same
    db.session.commit()
    assert "Record attendance" not in home(client)


def test_outbox_messages_needing_review_wait_until_resent(ctx, login):
    message = needs_review_message()
    client = login(make_user("staff"))
    page = home(client)
    assert "Check messages that need review" in page and "1 message may or may not" in page
    assert "Your appointment" not in page  # subjects can be personal
    assert 'href="/nudges/outbox?status=needs_review"' in page

    resend(message.id, utcnow())
    db.session.commit()
    assert NOTHING in home(client)


def everything_waiting():
    open_follow_up("Riley Quinn")
    intake_application("Jordan Applicant")
    make_offer(
        make_application(make_user("student", name="Kai Soon"), house=make_house()), reply_days=2
    )
    ended_event(title="Spring picnic")
    needs_review_message()


SECTIONS = {
    RECOVERY: ["Reach out to Riley Quinn", "Decide on applications to join"],
    HOUSING: ["Offer to Kai Soon expires"],
    EVENTS: ["Record attendance: Spring picnic"],
    NUDGES: ["Check messages that need review"],
}


@pytest.mark.parametrize("scope", list(SECTIONS))
def test_each_scope_sees_its_own_items_only(ctx, login, scope):
    everything_waiting()
    page = home(login(make_user("staff", scopes=[scope])))
    for section_scope, items in SECTIONS.items():
        for item in items:
            assert (item in page) == (section_scope == scope), item


def test_without_the_recovery_scope_no_follow_up_or_recovery_name_is_shown(ctx, login):
    everything_waiting()
    page = home(login(make_user("staff", scopes=[EVENTS, HOUSING, NUDGES])))
    for secret in ("Riley Quinn", "Jordan Applicant", "follow-up", "Follow-up", "applications"):
        assert secret not in page.split("</h1>", 1)[1].split('class="site-footer"')[0], secret


def test_staff_without_scopes_are_told_so_and_see_nothing_waiting(ctx, login):
    everything_waiting()
    page = home(login(make_user("staff", scopes=[])))
    assert "no staff areas yet" in page and NOTHING in page
    assert "Riley Quinn" not in page and "Spring picnic" not in page


def test_more_events_needing_attendance_than_listed_are_counted(ctx, login):
    for number in range(7):
        ended_event(title=f"Social {number}", days_ago=1 + number)
    page = home(login(make_user("staff", scopes=[EVENTS])))
    assert page.count("Record attendance: Social") == 5
    assert "Record attendance: Social 0" in page  # the newest first
    assert "…and 2 more, older." in page
