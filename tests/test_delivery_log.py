"""Staff read the outbox: what was sent to whom, what failed and why; they send again."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.nudges.campaigns import CampaignDetails, create_campaign
from crp_portal.outbox import sender
from crp_portal.outbox.models import OutboxMessage
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_user

_created = iter(range(1, 100_000))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def make_campaign(name="Finals week"):
    campaign = create_campaign(
        CampaignDetails(
            name=name,
            trigger="inactive",
            days=21,
            audience="active_members",
            category="events",
            subject_template="We miss you, {{ first_name }}",
            body_template="{{ this_week }}",
            active_from=local_today(),
        ),
        None,
    )
    db.session.commit()
    return campaign


def make_message(status="pending", campaign=None, user=None, **fields) -> OutboxMessage:
    """An outbox row written directly; each one created a minute after the last."""
    number = next(_created)
    values = {
        "kind": "nudge" if campaign else "transactional",
        "campaign_id": campaign.id if campaign else None,
        "user_id": user.id if user else None,
        "occurrence": f"test:{number}" if campaign else None,
        "recipient": user.email if user else f"someone{number}@example.edu",
        "subject": f"Subject {number}",
        "body_text": f"Private body {number}",
        "status": status,
        "created_at": utcnow() - timedelta(days=1) + timedelta(minutes=number),
    }
    values.update(fields)
    message = OutboxMessage(**values)
    db.session.add(message)
    db.session.commit()
    return message


def status_of(message) -> str:
    return db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message.id))


def staff(login):
    return login(make_user("staff"))


def test_staff_see_every_message_newest_first_but_never_a_body(ctx, login):
    student = make_user("student", name="Robin Banks")
    campaign = make_campaign("Quiet spell")
    old = make_message("sent", subject="Your booking is confirmed", sent_at=utcnow())
    new = make_message(
        "failed", campaign, student, attempts=5, last_error="550 mailbox unavailable"
    )
    page = text(staff(login).get("/nudges/outbox"))
    assert page.index(new.subject) < page.index(old.subject)
    assert "Robin Banks" in page and student.email in page
    assert "Quiet spell" in page and "Transactional" in page
    assert "550 mailbox unavailable" in page and "Failed" in page
    assert "Private body" not in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=failed", ["failed one"], ["sent one", "suppressed one", "mail one"]),
        ("status=suppressed", ["suppressed one"], ["sent one", "failed one"]),
        ("kind=transactional", ["mail one"], ["sent one", "failed one"]),
        ("kind=nudge&status=sent", ["sent one"], ["mail one", "failed one"]),
        ("status=all", ["sent one", "failed one", "suppressed one", "mail one"], []),
    ],
)
def test_filters_by_status_and_kind(ctx, login, query, shown, hidden):
    campaign = make_campaign()
    make_message("sent", campaign, make_user("student"), subject="sent one")
    make_message("failed", campaign, make_user("student"), subject="failed one")
    make_message(
        "suppressed", campaign, make_user("student"), subject="suppressed one", reason="cap"
    )
    make_message("sent", subject="mail one")
    page = text(staff(login).get(f"/nudges/outbox?{query}"))
    for subject in shown:
        assert subject in page, subject
    for subject in hidden:
        assert subject not in page, subject


def test_filter_by_campaign(ctx, login):
    finals, quiet = make_campaign("Finals week"), make_campaign("Quiet spell")
    make_message("sent", finals, make_user("student"), subject="for finals")
    make_message("sent", quiet, make_user("student"), subject="for quiet")
    page = text(staff(login).get(f"/nudges/outbox?campaign={quiet.id}"))
    assert "for quiet" in page and "for finals" not in page


def test_junk_filters_show_everything_rather_than_fail(ctx, login):
    make_message("sent", subject="still here")
    response = staff(login).get("/nudges/outbox?status=bogus&kind=x&campaign=abc&page=zz")
    assert response.status_code == 200 and "still here" in text(response)


def test_the_log_is_paginated(ctx, login):
    for number in range(55):
        make_message("sent", subject=f"Message {number:02d}.")
    client = staff(login)
    first = text(client.get("/nudges/outbox"))
    assert "Page 1 of 2" in first and "Message 54." in first and "Message 04." not in first
    second = text(client.get("/nudges/outbox?page=2"))
    assert "Message 04." in second and "Message 54." not in second


def test_the_log_costs_the_same_with_more_messages(ctx, login, count_queries):
    client = staff(login)

    def add(count: int) -> None:
        campaign = make_campaign(f"Campaign {next(_created)}")
        for _ in range(count):
            make_message("failed", campaign, make_user("student"))
            make_message("needs_review")

    add(2)
    few = count_queries(client, "/nudges/outbox")
    add(12)
    assert count_queries(client, "/nudges/outbox") == few


def test_retry_failed_requeues_every_failed_row_the_filter_shows(ctx, login):
    campaign = make_campaign()
    failed = [
        make_message("failed", campaign, make_user("student"), attempts=5, last_error="boom")
        for _ in range(2)
    ]
    transactional = make_message("failed", attempts=5)
    review = make_message("needs_review", campaign, make_user("student"))
    client = staff(login)
    response = client.post("/nudges/outbox/retry", data={"kind": "nudge", "status": "failed"})
    assert response.status_code == 302
    assert "kind=nudge" in response.headers["Location"]
    assert [status_of(message) for message in failed] == ["pending", "pending"]
    assert status_of(transactional) == "failed"
    assert status_of(review) == "needs_review"  # resent only one by one, after a look
    row = db.session.get(OutboxMessage, failed[0].id)
    assert row.attempts == 0 and row.last_error == ""
    page = text(client.get(response.headers["Location"]))
    assert "2 failed messages are queued to send again." in page


def test_retry_only_the_chosen_failed_rows(ctx, login):
    chosen, other = make_message("failed"), make_message("failed")
    review = make_message("needs_review")
    staff(login).post(
        "/nudges/outbox/retry", data={"ids": [str(chosen.id), str(review.id), "junk"]}
    )
    assert (status_of(chosen), status_of(other), status_of(review)) == (
        "pending",
        "failed",
        "needs_review",
    )


def test_retry_with_nothing_failed_says_so(ctx, login):
    make_message("sent")
    client = staff(login)
    response = client.post("/nudges/outbox/retry", data={}, follow_redirects=True)
    assert "No failed message matched, so nothing was queued." in text(response)


def test_a_retried_message_is_delivered_on_the_next_send(ctx, login, smtp):
    student = make_user("student")
    message = make_message("failed", user=student, subject="Your booking is confirmed")
    staff(login).post("/nudges/outbox/retry", data={})
    report = sender.send_pending(utcnow())
    assert report.sent == 1
    assert [m["Subject"] for m in smtp.to(student.email)] == ["Your booking is confirmed"]
    assert status_of(message) == "sent"


def test_needs_review_is_explained_and_resent_on_request(ctx, login):
    message = make_message("needs_review", attempts=1, reason="The sender stopped")
    client = staff(login)
    page = text(client.get("/nudges/outbox?status=needs_review"))
    assert "The sender stopped after the mail server may have accepted" in page
    assert "Resend only if the person did not get it." in page
    assert f"/nudges/outbox/{message.id}/resend" in page
    response = client.post(f"/nudges/outbox/{message.id}/resend", follow_redirects=True)
    assert f"The message to {message.recipient} is queued to send again." in text(response)
    assert status_of(message) == "pending"


def test_only_a_message_that_needs_review_can_be_resent(ctx, login):
    sent = make_message("sent")
    client = staff(login)
    response = client.post(f"/nudges/outbox/{sent.id}/resend", follow_redirects=True)
    assert "not waiting for review, so it was not resent" in text(response)
    assert status_of(sent) == "sent"
    assert client.post("/nudges/outbox/99999/resend").status_code == 404


@pytest.mark.parametrize("role", ["student", "advisor"])
def test_students_and_advisors_may_not_see_or_change_the_log(ctx, login, role):
    failed, review = make_message("failed"), make_message("needs_review")
    client = login(make_user(role))
    assert client.get("/nudges/outbox").status_code == 403
    assert client.post("/nudges/outbox/retry", data={}).status_code == 403
    assert client.post(f"/nudges/outbox/{review.id}/resend").status_code == 403
    assert (status_of(failed), status_of(review)) == ("failed", "needs_review")


def test_signed_out_visitors_are_sent_to_sign_in(ctx, client):
    response = client.get("/nudges/outbox")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
