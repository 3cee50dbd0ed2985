"""Fixtures: the app on SQLite and PostgreSQL, clients signed in as each role, a real
SMTP server on loopback, and headless Chromium with axe-core for browser journeys.

Under CI=true a missing PostgreSQL or Chromium fails the test; locally it skips.
"""

import contextlib
import contextvars
import email
import email.policy
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field

import flask
import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from crp_portal import create_app
from crp_portal.extensions import db
from crp_portal.links import ADAPTER_KEY
from tests.app_reuse import APPS
from tests.compile_once import TEMPLATE_CODE, remember_url_builders
from tests.pg import ThrowawayPostgres, free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
remember_url_builders()
# Debian's chromium-headless-shell is Chromium's own headless browser (the one Playwright
# runs for headless Chromium): the same Blink lays out, styles and scripts each page, but
# without the full browser's UI and compositor a page load takes under half the CPU, and
# on CI's two cores Chromium was most of the browser journeys' time. The full browser
# (README's `chromium` package) is used where the shell is not installed.
CHROMIUM_BINARIES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
CHROMIUM = next((path for path in CHROMIUM_BINARIES if os.path.exists(path)), "/usr/bin/chromium")
# How long a browser step may wait (a click, a navigation, an `expect`). A passing step
# takes milliseconds; the margin is for a machine busy with other work (CI under load,
# one pytest-xdist worker per core beside Chromium), where 5 s has run out.
BROWSER_TIMEOUT_MS = 30_000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing_service(reason: str):
    """Fail under CI, skip on a developer machine."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    else:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url():
    """A database of this test process's own on the suite's PostgreSQL server.

    CI names a server in TEST_DATABASE_URL; pytest-xdist's workers each get a database
    of their own on it. Without it, each process starts a throwaway server.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker is None:
            yield url
            return
        database = WorkerDatabase.create(url, worker)
        yield database.url
        database.drop()
        return
    try:
        server = ThrowawayPostgres.start()
    except Exception as error:  # noqa: BLE001 - any failure to start means "no PostgreSQL here"
        server = None
        reason = f"could not start PostgreSQL: {error}"
    else:
        reason = "PostgreSQL is not installed and TEST_DATABASE_URL is not set"
    if server is None:
        missing_service(reason)
    yield server.url
    server.stop()


@dataclass
class WorkerDatabase:
    """`<database>_<worker>` beside the database TEST_DATABASE_URL names, made afresh."""

    server_url: str
    name: str

    @property
    def url(self) -> str:
        return make_url(self.server_url).set(database=self.name).render_as_string(False)

    def _admin(self):
        url = make_url(self.server_url).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    @classmethod
    def create(cls, server_url: str, worker: str) -> "WorkerDatabase":
        database = cls(server_url, f"{make_url(server_url).database}_{worker}")
        with database._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{database.name}"')
        return database

    def drop(self) -> None:
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in a real server.

    Flask reuses an app context a test has pushed, which would share `g` (and so
    Flask-Login's cached user) and the database session between requests.
    """

    def open(self, *args, **kwargs):
        if flask.has_app_context():
            # End the test's own transaction first, as a separate process's would be:
            # its locks are released and what it reads next is fresh.
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def sqlite_path(tmp_path_factory):
    """The one SQLite file this process's tests use in turn (so an app can serve them all)."""
    return tmp_path_factory.mktemp("database") / "test.sqlite3"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, sqlite_path):
    """An empty database on each backend (no SQLite file yet; PostgreSQL's tables
    emptied). A test may drop or rebuild the schema; the next test gets it back."""
    if request.param == "sqlite":
        for leftover in sqlite_path.parent.glob(f"{sqlite_path.name}*"):
            leftover.unlink()
        yield f"sqlite:///{sqlite_path}"
        return
    url = request.getfixturevalue("postgres_url")
    emptied_before = SCHEMAS.emptied
    yield url
    if "app" not in request.fixturenames and SCHEMAS.emptied == emptied_before:
        SCHEMAS.forget(url)  # the test may have dropped tables or run migrations


@pytest.fixture
def app_config():
    """Override in a module for extra settings."""
    return {}


@pytest.fixture
def app(request, database_url, app_config, tmp_path_factory):
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": "portal.test",
        "CRP_BASE_URL": "http://portal.test",
        **app_config,
    }
    inbox = None
    if "smtp" in request.fixturenames:
        inbox = request.getfixturevalue("smtp")
        settings.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port)
    if database_url.startswith("sqlite:///"):
        SCHEMAS.copy_sqlite_template(database_url, tmp_path_factory)
    fresh = request.node.get_closest_marker("fresh_app") is not None
    key, application = APPS.borrow(settings, fresh)
    application.jinja_env.bytecode_cache = TEMPLATE_CODE
    if inbox is not None:
        inbox.outbox_app = application
    application.test_client_class = IsolatedClient
    with application.app_context():
        SCHEMAS.ensure(database_url)
    yield application
    with application.app_context():
        empty_database()
    APPS.give_back(key)


class Schemas:
    """The models' schema, built once per test process rather than once per test.

    SQLite: one file with the schema is made per process and copied for each test.
    PostgreSQL: the schema is built on first use and kept; after each test its rows are
    deleted (milliseconds, where TRUNCATE of every table takes a third of a second) and
    its sequences set back to their start, so ids start at 1 as on SQLite (only those the
    test used: restarting all of them took two thirds of the time; `setval` rather than
    `ALTER SEQUENCE … RESTART`, which gives the sequence a new file each time and took
    a third of the time that is left).
    """

    def __init__(self):
        self.sqlite_template: str | None = None
        self.ready: set[str] = set()
        self.emptied = 0

    def copy_sqlite_template(self, url: str, tmp_path_factory) -> None:
        if self.sqlite_template is None:
            template = tmp_path_factory.mktemp("schema") / "template.sqlite3"
            application = create_app(
                "testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{template}"}
            )
            with application.app_context():
                db.create_all()
                db.engine.dispose()
            self.sqlite_template = str(template)
        shutil.copyfile(self.sqlite_template, url.removeprefix("sqlite:///"))

    def ensure(self, url: str) -> None:
        """In an app context: the schema is in place (SQLite files come with it)."""
        if url.startswith("sqlite") or _key(url) in self.ready:
            return
        self.rebuild(url)

    def rebuild(self, url: str) -> None:
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        db.engine.dispose()  # no connection keeps what it prepared against the old tables
        self.ready.add(_key(url))

    def forget(self, url: str) -> None:
        """A test changed the schema itself: build it again before the next one."""
        self.ready.discard(_key(url))

    def empty(self, url: str) -> None:
        self.emptied += 1
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        statements = [f'DELETE FROM "{name}"' for name in tables]
        try:
            with db.engine.begin() as connection:
                sequences = connection.execute(
                    text(
                        "SELECT schemaname, sequencename, start_value FROM pg_sequences"
                        " WHERE last_value IS NOT NULL"
                    )
                ).all()
                statements += [
                    f'SELECT setval(\'"{s}"."{n}"\', {int(start)}, false)'
                    for s, n, start in sequences
                ]
                connection.exec_driver_sql("; ".join(statements))
        except SQLAlchemyError:
            self.rebuild(url)  # a test left the schema changed: start from the models


def _key(url: str) -> str:
    return make_url(url).render_as_string(hide_password=False)


SCHEMAS = Schemas()


def empty_database() -> None:
    """After a test (in its app context): PostgreSQL is shared by the process, so its rows
    are deleted and its connections kept for the next test (each new connection is a new
    server process that reads the catalog again for every table it touches: closing them
    after each test was half the server's CPU time); the SQLite file is replaced before
    the next test, so its connections are closed."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        SCHEMAS.empty(db.engine.url.render_as_string(hide_password=False))
        return
    db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for arranging data and calling services directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in_as(client, user) -> None:
    """Put the user's current session id in the client's session cookie."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def login(app):
    """`login(user)` returns a new test client signed in as that user."""

    def signed_in(user):
        new_client = app.test_client()
        sign_in_as(new_client, user)
        return new_client

    return signed_in


class SmtpReceiver:
    """aiosmtpd's handler: files each message in its inbox. (Not the inbox itself:
    aiosmtpd inspects its handler's attributes, which would read `Inbox.messages`.)"""

    def __init__(self, inbox: "Inbox"):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if message["Subject"] is not None:
            # A subject too long for one line is folded right after "Subject:"; mail
            # clients drop the fold's leading space, and so do we.
            message.replace_header("Subject", message["Subject"].strip())
        message.raw = envelope.original_content  # the bytes as they came over the wire
        self.inbox.received.append(message)
        return "250 Message accepted for delivery"


@dataclass
class Inbox:
    """A real SMTP server's inbox. Reading `messages` first does what `flask outbox work`
    does in a running portal: deliver the outbox rows committed so far, through the
    portal's own sender, to this server. (No request delivers mail itself.)"""

    port: int
    received: list = field(default_factory=list)
    outbox_app: flask.Flask | None = None

    @property
    def messages(self) -> list:
        if self.outbox_app is not None:
            if flask.has_app_context():
                db.session.commit()  # as IsolatedClient does: a test's open transaction ends
            contextvars.Context().run(self._deliver_outbox)
        return self.received

    def _deliver_outbox(self) -> None:
        from crp_portal.outbox.worker import deliver_due

        with self.outbox_app.app_context():
            deliver_due()

    @property
    def handler(self) -> SmtpReceiver:
        return SmtpReceiver(self)

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    @staticmethod
    def text_of(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


class SwitchedReceiver:
    """The handler of this process's one SMTP server: it files into the current test's inbox."""

    def __init__(self):
        self.inbox: Inbox | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.inbox is None:  # a message sent after its test ended
            return "250 Message accepted for delivery"
        return await SmtpReceiver(self.inbox).handle_DATA(server, session, envelope)


@pytest.fixture(scope="session")
def smtp_server():
    receiver = SwitchedReceiver()
    controller = Controller(receiver, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, receiver
    controller.stop()


@pytest.fixture
def smtp(smtp_server):
    """A real SMTP server on loopback, with an inbox of this test's own."""
    controller, receiver = smtp_server
    receiver.inbox = Inbox(port=controller.port)
    yield receiver.inbox
    receiver.inbox = None


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    if not os.path.exists(CHROMIUM):
        missing_service(f"Chromium is not installed at {' or '.join(CHROMIUM_BINARIES)}")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
    )
    yield chromium
    chromium.close()
    playwright.stop()


class LiveServer:
    """The app served by Werkzeug on a loopback port, in a thread.

    The serving loop looks for `shutdown` every 20 ms rather than Werkzeug's default half
    second, which every browser test waited out at its end, idle."""

    POLL_SECONDS = 0.02

    def __init__(self, application, port: int | None = None):
        from werkzeug.serving import make_server

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, application, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(self.POLL_SECONDS,), daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def serving(app, port: int | None = None):
    """The app served on loopback (on `port` when an identity provider must know it
    first), with CSRF on and every emailed link leading to this server."""
    server = LiveServer(app, port)
    app.config.update(SERVER_NAME=None, WTF_CSRF_ENABLED=True, CRP_BASE_URL=server.url)
    app.extensions.pop(ADAPTER_KEY, None)
    with server:
        yield server


@contextlib.contextmanager
def opened_page(browser, server: LiveServer):
    context = browser.new_context(base_url=server.url, bypass_csp=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def live_server(app):
    with serving(app) as server:
        yield server


@pytest.fixture
def page(browser, live_server):
    with opened_page(browser, live_server) as browser_page:
        yield browser_page


@pytest.fixture
def count_queries(app):
    """`count_queries(client, path)`: how many SQL statements one GET of `path` issues."""
    from sqlalchemy import event

    def count(client, path: str) -> int:
        statements = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200, path
        return len(statements)

    return count


# --- Redis: a throwaway server for the shared rate-limit store --------------------

REDIS_SERVER = "/usr/bin/redis-server"


@dataclass
class RedisServer:
    """A throwaway redis-server on a free loopback port, nothing written to disk."""

    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port)

    @classmethod
    def start(cls) -> "RedisServer":
        binary = shutil.which("redis-server") or REDIS_SERVER
        if not os.path.exists(binary):
            missing_service(f"redis-server is not installed at {REDIS_SERVER}")
        port = free_port()
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(process, port)
        server.wait_until_ready()
        return server

    def wait_until_ready(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    missing_service("redis-server did not start")
            time.sleep(0.02)  # polling for the condition "Redis answers"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The shared Redis, emptied for each test."""
    redis_server.client().flushall()
    return redis_server.url
