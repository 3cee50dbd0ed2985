"""Nudge benchmark: plan 50,000 members × 10 campaigns, then send 5,000 messages to a
local SMTP server. Prints figures and the ratio to each goal (below 1 is within it).

    make bench                     # SQLite in a temporary directory
    BENCH_DATABASE_URL=postgresql+psycopg://… make bench
    BENCH_MEMBERS=5000 make bench  # a quicker run
"""

import os
import socket
import tempfile
import time
from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

from bench.data import add_members, add_term_around
from crp_portal import create_app
from crp_portal.extensions import db
from crp_portal.nudges.models import Campaign
from crp_portal.outbox import sender, writer
from crp_portal.outbox.models import OutboxMessage, OutboxStatus
from crp_portal.timeutil import to_local, utcnow

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "50000"))
SEND = int(os.environ.get("BENCH_SEND", "5000"))
PLAN_GOAL_SECONDS = 120.0
SEND_GOAL_PER_SECOND = 100.0
BODY = (
    "Hi {{ first_name }},\n\nThis week at {{ program_name }}:\n{{ this_week }}\n\n{{ events_link }}"
)

CAMPAIGNS = [
    # name, trigger, period kind, anchor, offset, days, audience; the first four are due today
    ("Finals in three days", "period", "finals", "start", -3, None, "active_members"),
    ("Back from break", "period", "break", "end", 1, None, "active_members"),
    ("We miss you", "inactive", None, None, 0, 21, "active_members"),
    ("Finals week, residents", "period", "finals", "start", -3, None, "residents"),
    ("Midterms soon", "period", "midterms", "start", -3, None, "active_members"),
    ("Midterms over", "period", "midterms", "end", 1, None, "active_members"),
    ("Welcome week", "first_term_week", None, None, 0, None, "first_term_members"),
    ("Moving in", "move_in", None, None, 0, None, "residents"),
    ("Advising by week 4", "no_advising", None, None, 0, 4, "no_advising_this_term"),
    ("Mentor thanks", "period", "classes_start", "start", 7, None, "peer_mentors"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """An SMTP server that counts messages and keeps none."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.count += 1
        return "250 OK"


def build_app(database_url: str, smtp_port: int):
    return create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SERVER_NAME": "bench.example.edu",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_port,
            "CRP_QUIET_HOURS_START": 0,
            "CRP_QUIET_HOURS_END": 0,
        },
    )


def add_campaigns(today) -> None:
    for name, trigger, kind, anchor, offset, days, audience in CAMPAIGNS:
        db.session.add(
            Campaign(
                name=name,
                trigger=trigger,
                period_kind=kind,
                anchor=anchor,
                offset_days=offset,
                days=days,
                audience=audience,
                category="events",
                subject_template="{{ program_name }}: this week",
                body_template=BODY,
                active_from=today - timedelta(days=30),
                live_since=utcnow(),
            )
        )
    db.session.commit()


def bench_planning(today) -> None:
    from crp_portal.nudges.planning import plan

    started = time.perf_counter()
    report = plan(utcnow())
    db.session.commit()
    seconds = time.perf_counter() - started
    rows = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    pending = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )
    pairs = MEMBERS * len(CAMPAIGNS)
    print(f"planning: {MEMBERS:,} members x {len(CAMPAIGNS)} campaigns in {seconds:.1f} s")
    print(f"  {rows:,} outbox rows ({pending:,} pending, the rest suppressed or held out)")
    print(
        f"  {pairs / seconds:,.0f} member-campaigns/s; ratio to the {PLAN_GOAL_SECONDS:.0f} s goal: "
        f"{seconds / PLAN_GOAL_SECONDS:.2f}"
    )
    print(report)
    started = time.perf_counter()
    plan(utcnow())
    db.session.commit()
    again = time.perf_counter() - started
    after = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    print(f"  re-planning: {again:.1f} s, {after - rows} new rows")


def bench_sending(sink: Sink) -> None:
    db.session.execute(text("DELETE FROM outbox"))
    db.session.commit()
    for number in range(SEND):
        writer.new_message(f"member{number:06d}@bench.example.edu", "This week", "Hello\n" * 20)
        if number % 1000 == 999:
            db.session.flush()
    db.session.commit()
    started = time.perf_counter()
    report = sender.send_pending(utcnow(), batch_size=200)
    seconds = time.perf_counter() - started
    sent = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENT)
    )
    rate = sent / seconds
    print(
        f"sending: {sent:,} of {SEND:,} messages in {seconds:.1f} s ({rate:,.0f}/s); "
        f"the server received {sink.count:,}; ratio to the {SEND_GOAL_PER_SECOND:.0f}/s goal: "
        f"{SEND_GOAL_PER_SECOND / rate:.2f}"
    )
    print(f"  {report}")


def main() -> None:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory() as directory:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{directory}/bench.sqlite3"
        app = build_app(url, port)
        with app.app_context():
            db.drop_all()
            db.create_all()
            today = to_local(utcnow()).date()
            started = time.perf_counter()
            add_term_around(today)
            add_members(MEMBERS, today)
            add_campaigns(today)
            print(
                f"data: {MEMBERS:,} members in {time.perf_counter() - started:.1f} s "
                f"on {db.engine.dialect.name}"
            )
            bench_planning(today)
            bench_sending(sink)
            db.session.remove()
            db.drop_all()
    controller.stop()


if __name__ == "__main__":
    main()
