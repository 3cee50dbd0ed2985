"""Scaled out, proven (issue #10, item 4): two gunicorn "hosts" on loopback share one
PostgreSQL and one Redis, as the README's deployment section describes.

- the sign-in throttle counts failures on both hosts together (Redis);
- a session made on one host works on the other (signed cookies, one SECRET_KEY);
- signing out on one host ends the session on both (the session version in PostgreSQL);
- two `flask nudges send` workers, one per host, deliver each message exactly once.

Runs on the suite's PostgreSQL server and a Redis server of its own (Debian's
`redis-server` on a free loopback port). Without them it skips locally and fails under
CI=true. The servers run the production configuration over plain http: the harness
keeps cookies by hand (bench.load.Client), so `Secure` cookies still travel.
"""

import asyncio
import contextlib
import html
import os
import secrets
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, select, text

from bench.load import Client, stop_server, wait_healthy
from crp_portal import create_app
from crp_portal.auth.models import AccountMailRequest
from crp_portal.extensions import db
from crp_portal.outbox import writer
from crp_portal.outbox.models import OutboxMessage, OutboxStatus
from tests.conftest import Inbox, SmtpReceiver
from tests.factories import make_user
from tests.pg import free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH_PASSWORD = "bench-password"  # noqa: S105 - what bench.load.Client signs in with
TOO_MANY = "Too many sign-in attempts"


def page_text(body: str) -> str:
    return html.unescape(body)


@dataclass
class Portal:
    """Two app hosts and what they share; `data` is an app for arranging rows."""

    data: object
    environment: dict
    ports: tuple[int, int]


def host_environment(database_url: str, redis_url: str) -> dict:
    """What every host gets: the same key, database, Redis and public address."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CRP_", "MAIL_", "RATELIMIT_", "GUNICORN_", "WEB_"))
    }
    environment.update(
        CRP_CONFIG="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        CRP_BASE_URL="https://crp.example.edu",
        # The test reaches each host by its loopback address, as a load balancer's
        # health check would by the host's own name.
        CRP_TRUSTED_HOSTS="127.0.0.1",
        RATELIMIT_STORAGE_URI=redis_url,
        MAIL_SERVER="",
        # Cheap hashes keep sign-in quick; production's cost is not what is tested here.
        CRP_ARGON2_TIME_COST="1",
        CRP_ARGON2_MEMORY_KIB="1024",
        CRP_ARGON2_PARALLELISM="1",
    )
    return environment


def start_host(environment: dict, port: int, log) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        *("-k", "sync", "--threads", "1", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"),
    ]
    return subprocess.Popen(  # noqa: S603 - fixed command
        command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )


@pytest.fixture(scope="module")
def portal(postgres_url, redis_server, tmp_path_factory):
    redis_server.client().flushall()
    redis_url = redis_server.url
    data = create_app("testing", {"SQLALCHEMY_DATABASE_URI": postgres_url})
    with data.app_context():
        db.create_all()
    environment = host_environment(postgres_url, redis_url)
    ports = (free_port(), free_port())
    log_path = tmp_path_factory.mktemp("hosts") / "gunicorn.log"
    with open(log_path, "w") as log:
        hosts = [start_host(environment, port, log) for port in ports]
        try:
            for port, host in zip(ports, hosts, strict=True):
                wait_healthy(port, host)
            yield Portal(data, environment, ports)
        except Exception:
            log.flush()
            print(log_path.read_text()[-4000:])
            raise
        finally:
            for host in hosts:
                stop_server(host)
    with data.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


def account(portal: Portal, name: str) -> str:
    """A student who signs in with bench.load's password; returns the email."""
    with portal.data.app_context():
        user = make_user("student", name=name, password=BENCH_PASSWORD)
        email = user.email
        db.session.remove()
    return email


def failed_sign_in(client: Client, email: str) -> tuple[int, str]:
    form = {"csrf_token": client.csrf_token("/sign-in"), "email": email, "password": "wrong" * 3}
    status, _, body = client.request("POST", "/sign-in", form)
    return status, page_text(body)


def test_the_sign_in_throttle_counts_failures_on_both_hosts_together(portal):
    email = account(portal, "Throttled Student")
    first, second = (Client(port) for port in portal.ports)
    for attempt in range(5):  # three on the first host, two on the second
        status, page = failed_sign_in((first, second)[attempt % 2], email)
        assert status == 200 and "do not match an active account" in page
    # The second host has seen only two failures itself; together they are five.
    status, page = failed_sign_in(second, email)
    assert status == 429 and TOO_MANY in page
    with pytest.raises(RuntimeError, match="status 429"):
        first.sign_in(email)  # even the right password waits out the limit


def test_a_session_made_on_one_host_works_on_the_other_until_signed_out_on_either(portal):
    email = account(portal, "Roaming Student")
    on_first = Client(portal.ports[0])
    on_first.sign_in(email)
    on_second = Client(portal.ports[1])
    on_second.cookies = dict(on_first.cookies)
    status, _, page = on_second.request("GET", "/events/")
    assert status == 200 and "Signed in as Roaming Student" in page
    elsewhere = Client(portal.ports[1])  # the same person on another device
    elsewhere.sign_in(email)

    token = on_first.csrf_token("/events/")
    status, location, _ = on_first.request("POST", "/sign-out", {"csrf_token": token})
    assert status == 302 and location.endswith("/sign-in")

    for client in (on_second, elsewhere):
        status, location, _ = client.request("GET", "/events/")
        assert status == 302 and "/sign-in" in location, "signed out everywhere"


class GatedReceiver(SmtpReceiver):
    """Holds the first message until a second SMTP connection arrives, so neither worker
    can finish the whole outbox before the other has started."""

    def __init__(self, inbox: Inbox):
        super().__init__(inbox)
        self.peers: set = set()
        self.both_connected = asyncio.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.peers.add(session.peer)
        if len(self.peers) >= 2:
            self.both_connected.set()
        # Past the timeout the message goes through; the test then fails on "both took part".
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.both_connected.wait(), timeout=30)
        return await super().handle_DATA(server, session, envelope)


def test_two_nudge_workers_on_two_hosts_deliver_each_message_once(portal):
    count = 40
    with portal.data.app_context():
        # Mail the earlier tests asked for (an attack notice) is not this test's to count.
        db.session.execute(delete(AccountMailRequest))
        for number in range(count):
            writer.add_message(f"member{number}@example.edu", f"Message {number:03d}", "Hello")
        db.session.commit()
    inbox = Inbox(port=free_port())
    controller = Controller(GatedReceiver(inbox), hostname="127.0.0.1", port=inbox.port)
    controller.start()
    environment = {**portal.environment, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(inbox.port)}
    flask = shutil.which("flask", path=str(ROOT / ".venv" / "bin"))
    command = [flask, "--app", "crp_portal", "nudges", "send", "--batch-size", "5"]
    try:
        workers = [
            subprocess.Popen(  # noqa: S603 - fixed command
                command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True
            )
            for _host in portal.ports
        ]
        outputs = [worker.communicate(timeout=60)[0] for worker in workers]
    finally:
        controller.stop()

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    sent = [int(output.split("Sent ")[1].split(",")[0]) for output in outputs]
    assert all(sent) and sum(sent) == count, f"both workers took part: {outputs}"
    subjects = Counter(message["Subject"] for message in inbox.messages)
    assert len(subjects) == count and set(subjects.values()) == {1}, "each message once"
    with portal.data.app_context():
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
        db.session.remove()
    assert statuses == [OutboxStatus.SENT] * count
