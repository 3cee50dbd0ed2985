"""The outbox: every email is a row; delivery sends each exactly once, through SMTP
failures, crashes and parallel senders, against a real SMTP server on loopback."""

import contextvars
import re
import smtplib
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from crp_portal.extensions import db
from crp_portal.outbox import sender, writer
from crp_portal.outbox.models import MAX_ATTEMPTS, OutboxMessage, OutboxStatus
from crp_portal.outbox.worker import work
from crp_portal.timeutil import utcnow
from tests.conftest import Inbox
from tests.factories import make_event, make_user
from tests.pg import free_port


def add(count: int, **options) -> list[int]:
    ids = [
        writer.add_message(f"person{number}@example.edu", f"Hello {number}", "Body", **options).id
        for number in range(count)
    ]
    db.session.commit()
    return ids


def statuses() -> dict[str, int]:
    """Counts by status; ends the test's transaction so senders can take SQLite's lock."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    db.session.commit()
    return dict(rows)


def test_a_request_writes_its_mail_to_the_outbox_and_talks_no_smtp(ctx, login, smtp, monkeypatch):
    connections = []
    monkeypatch.setattr(smtplib.SMTP, "connect", lambda *args: connections.append(args))
    admin = make_user("staff", is_admin=True)
    login(admin).post("/admin/invitations", data={"email": "new@example.edu", "role": "student"})
    row = db.session.scalar(select(OutboxMessage))
    assert (row.recipient, row.kind, row.status) == (
        "new@example.edu",
        "transactional",
        OutboxStatus.PENDING,
    )
    assert connections == [] and smtp.received == []


def test_the_worker_delivers_an_rsvp_confirmation_within_two_seconds(app, ctx, login, smtp):
    student = make_user("student")
    event = make_event()
    db.session.commit()
    stop = threading.Event()

    def run_worker():
        with app.app_context():
            work(stop)

    worker = threading.Thread(target=contextvars.Context().run, args=(run_worker,))
    worker.start()
    try:
        login(student).post(f"/events/{event.id}/rsvp")
        deadline = time.monotonic() + 2
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert [m["To"] for m in smtp.received] == [student.email]
    assert not worker.is_alive()


def test_a_rolled_back_change_leaves_no_row_and_sends_nothing(ctx, smtp):
    from crp_portal.mail import queue_mail

    student = make_user("student")
    queue_mail(student.email, "Never", "welcome", user=student, link="x")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert smtp.messages == []


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port}


def start_smtp(port: int) -> tuple[Inbox, Controller]:
    inbox = Inbox(port=port)
    controller = Controller(inbox.handler, hostname="127.0.0.1", port=port)
    controller.start()
    return inbox, controller


def test_with_the_server_down_rows_wait_and_each_goes_once_when_it_is_back(ctx, smtp_port):
    add(3)
    now = utcnow()
    report = sender.send_pending(now)
    assert report.sent == 0 and report.retried == 3 and report.error
    assert statuses() == {OutboxStatus.PENDING: 3}
    inbox, controller = start_smtp(smtp_port)
    try:
        assert sender.send_pending(now).sent == 0, "backing off: not due yet"
        later = now + timedelta(minutes=5)
        assert sender.send_pending(later).sent == 3
        assert sender.send_pending(later + timedelta(hours=1)).sent == 0
    finally:
        controller.stop()
    assert sorted(m["To"] for m in inbox.messages) == [
        "person0@example.edu",
        "person1@example.edu",
        "person2@example.edu",
    ]
    assert statuses() == {OutboxStatus.SENT: 3}


def test_after_five_failed_tries_a_row_is_failed_with_the_last_error(ctx):
    (message_id,) = add(1)
    now = utcnow()
    for attempt in range(MAX_ATTEMPTS):
        sender.send_pending(now + timedelta(hours=attempt))
    row = db.session.get(OutboxMessage, message_id)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert row.last_error


def test_a_sender_that_died_mid_send_leaves_the_row_for_review_not_a_second_copy(
    ctx, smtp_port, app
):
    (message_id,) = add(1)
    crashed_at = utcnow()
    sender.claim(crashed_at, 10)  # claimed; the process died before marking it sent
    inbox, controller = start_smtp(smtp_port)
    try:
        assert sender.send_pending(crashed_at + timedelta(minutes=1)).sent == 0
        timeout = app.config["CRP_OUTBOX_CLAIM_TIMEOUT_MINUTES"]
        report = sender.send_pending(crashed_at + timedelta(minutes=timeout + 1))
        assert report.sent == 0 and report.needs_review == 1
        db.session.expire_all()
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.NEEDS_REVIEW
        assert inbox.messages == []
        assert sender.retry([message_id], utcnow()) == 1
        db.session.commit()
        assert sender.send_pending(utcnow()).sent == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_nudges_carry_one_click_unsubscribe_headers_and_link(ctx, smtp_port):
    url = "https://portal.test/unsubscribe/" + "a-long-signed-token." * 6
    add(1, unsubscribe_url=url, body_html="<p>Body</p>")
    inbox, controller = start_smtp(smtp_port)
    try:
        sender.send_pending(utcnow())
    finally:
        controller.stop()
    (message,) = inbox.messages
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in Inbox.text_of(message)
    raw = message.raw.decode("ascii")  # what a strict RFC 2369 reader sees on the wire
    assert f"\r\nList-Unsubscribe: <{url}>\r\n" in raw
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    assert "List-Unsubscribe: =?" not in raw
    assert re.search(r"\r\nMessage-ID: <[^>]+@portal\.test>\r\n", raw)


def test_without_a_mail_server_messages_are_logged_and_marked_sent(ctx, app, caplog):
    app.config["MAIL_SERVER"] = ""
    add(1)
    assert sender.send_pending(utcnow()).sent == 1
    assert "Mail not sent (no MAIL_SERVER)" in caplog.text
    assert statuses() == {OutboxStatus.SENT: 1}


def test_the_send_command_reports_a_down_server_and_fails(ctx, app):
    add(2)
    result = app.test_cli_runner().invoke(args=["nudges", "send"])
    assert result.exit_code == 1
    assert "will retry 2" in result.output and "Last error" in result.output


def test_parallel_senders_deliver_every_message_exactly_once(ctx, app, smtp_port):
    add(60)
    inbox, controller = start_smtp(smtp_port)
    reports = []

    def one_sender():
        with app.app_context():
            reports.append(sender.send_pending(utcnow(), batch_size=5))
            db.session.remove()

    try:
        threads = [threading.Thread(target=one_sender) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        controller.stop()
    assert sum(report.sent for report in reports) == 60
    assert len(inbox.messages) == 60
    assert len({m["To"] for m in inbox.messages}) == 60
    assert statuses() == {OutboxStatus.SENT: 60}
    assert OutboxStatus.SENDING not in statuses()
