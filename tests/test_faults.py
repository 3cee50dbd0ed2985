"""When the database goes away the portal says so with a clean 503, saves nothing by
halves, and comes back by itself when the database does (issue #10, item 6).

These tests stop and start a PostgreSQL server of their own (the suite's shared one must
stay up), so they need Debian's PostgreSQL binaries: skipped locally without them,
failed under CI=true.
"""

import html
import os
import subprocess
import threading
from contextlib import contextmanager

import psycopg
import pytest
from flask import Flask, redirect
from flask_login import current_user
from playwright.sync_api import expect
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from crp_portal import create_app
from crp_portal.errors import database_unreachable
from crp_portal.events.models import Event, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.outbox.models import OutboxMessage
from crp_portal.recovery import check_ins
from crp_portal.recovery.models import CheckIn
from crp_portal.timeutil import local_today
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import sign_in
from tests.conftest import IsolatedClient, missing_service
from tests.factories import PASSWORD, make_event, make_user
from tests.pg import ThrowawayPostgres

UNREACHABLE = "The portal can't reach its database right now; try again in a minute."
ANSWERS = {"mood": "3", "stress": "2", "sleep": "4", "note": ""}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


class Server:
    """Stops and starts a ThrowawayPostgres in place, with the options it started with."""

    def __init__(self, postgres: ThrowawayPostgres):
        self.postgres = postgres
        self.data = os.path.join(postgres.root, "data")

    def pg_ctl(self, *args: str) -> None:
        command = [*self.postgres.as_user, f"{self.postgres.bin_dir}/pg_ctl", "-D", self.data]
        subprocess.run([*command, *args], check=True, capture_output=True)  # noqa: S603

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        root, port = self.postgres.root, self.postgres.port
        options = f"-k {root}/sock -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-l", f"{root}/postgres.log", "-w", "-o", options, "start")

    def terminate_backends(self, pid: int | None = None) -> int:
        """End the app's server connections (one, or all but this one), as a crash or an
        administrator would; returns how many ended."""
        conninfo = self.postgres.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo, autocommit=True) as connection:
            if pid is not None:
                query = "SELECT count(*) FROM (SELECT pg_terminate_backend(%s)) AS ended"
                return connection.execute(query, (pid,)).fetchone()[0]
            return connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]


@pytest.fixture(scope="module")
def server():
    try:
        postgres = ThrowawayPostgres.start()
    except Exception as error:  # noqa: BLE001 - any failure to start means "no PostgreSQL here"
        missing_service(f"could not start PostgreSQL: {error}")
    if postgres is None:
        missing_service("PostgreSQL is not installed (the fault tests stop their own server)")
    yield Server(postgres)
    postgres.stop()


def add_fault_routes(application: Flask, server: Server) -> None:
    """Routes that exist only in these tests: two lose their database connection (between
    saving and committing; after reading, before the request ends), one sends a
    statement the database rejects."""

    def save_then_lose_connection():
        answers = check_ins.Answers(mood=3, stress=2, sleep=4)
        check_ins.save_check_in(current_user, answers, local_today())
        db.session.flush()
        server.terminate_backends(db.session.execute(text("SELECT pg_backend_pid()")).scalar())
        db.session.commit()
        return "saved"

    def read_then_lose_connection():
        assert current_user.is_authenticated  # loaded first, as every signed-in page does
        count = db.session.scalar(select(func.count()).select_from(CheckIn))
        server.terminate_backends(db.session.execute(text("SELECT pg_backend_pid()")).scalar())
        return f"{count} check-ins"  # the session still holds the dead connection

    def commit_then_lose_the_server():
        answers = check_ins.Answers(mood=3, stress=2, sleep=4)
        check_ins.save_check_in(current_user, answers, local_today())
        db.session.commit()  # acknowledged; the signed-in account's columns are now expired
        server.stop()
        return redirect("/me/check-in")

    def bad_statement():
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    application.add_url_rule("/test/save-then-lose-connection", view_func=save_then_lose_connection)
    application.add_url_rule("/test/read-then-lose-connection", view_func=read_then_lose_connection)
    application.add_url_rule(
        "/test/commit-then-lose-the-server", view_func=commit_then_lose_the_server
    )
    application.add_url_rule("/test/bad-statement", view_func=bad_statement)


@pytest.fixture
def app(server):
    """The app on this module's own PostgreSQL server (overrides conftest's `app`)."""
    application = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": server.postgres.url, "SERVER_NAME": "portal.test"}
    )
    application.test_client_class = IsolatedClient
    add_fault_routes(application, server)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def check_in_count() -> int:
    db.session.rollback()  # read what the server holds now, not this session's snapshot
    return db.session.scalar(select(func.count()).select_from(CheckIn))


def test_a_database_that_goes_away_answers_503_and_the_portal_recovers_by_itself(
    app, ctx, login, server
):
    student = make_user("student", name="Robin Vale")
    client = login(student)
    assert client.get("/events/").status_code == 200
    db.session.remove()

    server.stop()
    try:
        page = client.get("/events/?kind=meeting")
        assert page.status_code == 503
        assert page.headers["Retry-After"] == "60"
        assert page.headers["Cache-Control"] == "no-store"
        body = page_text(page)
        assert UNREACHABLE in body
        assert "You are still signed in" in body
        assert 'href="/events/?kind=meeting"' in body  # "Try again" reloads the same page
        assert "988" in body, "the crisis lines stay on the page"
        sent = client.post("/me/check-in", data=ANSWERS)
        assert sent.status_code == 503
        assert "it may not have been saved" in page_text(sent)
        assert app.test_client().get("/healthz").status_code == 503
    finally:
        server.start()

    back = client.get("/events/")
    assert back.status_code == 200
    assert "Signed in as Robin Vale" in page_text(back), "the session outlived the outage"
    assert check_in_count() == 0


def test_connections_the_server_dropped_are_replaced_without_an_error(ctx, login, server):
    client = login(make_user("student"))
    assert client.get("/events/").status_code == 200
    assert client.get("/me/check-in").status_code == 200
    db.session.remove()
    assert server.terminate_backends() >= 1, "the app held a pooled connection"
    assert client.get("/events/").status_code == 200
    saved = client.post("/me/check-in", data=ANSWERS, follow_redirects=True)
    assert "Your check-in is saved." in page_text(saved)
    assert check_in_count() == 1


def test_a_connection_lost_before_the_commit_is_a_503_that_saved_nothing(ctx, login):
    client = login(make_user("student"))
    response = client.get("/test/save-then-lose-connection")
    assert response.status_code == 503
    assert UNREACHABLE in page_text(response)
    assert check_in_count() == 0
    assert client.get("/me/check-in").status_code == 200, "the next request reconnects"


def test_a_connection_lost_after_the_page_was_read_still_delivers_the_page(ctx, login):
    client = login(make_user("student"))
    response = client.get("/test/read-then-lose-connection")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "0 check-ins"
    assert client.get("/me/check-in").status_code == 200, "the next request reconnects"


def test_a_server_lost_after_the_commit_keeps_the_answer_it_acknowledged(ctx, login, server):
    """Nothing after the view (the session stamp, the teardown) goes back to the database
    for the signed-in account, so a saved change is still answered as saved."""
    client = login(make_user("student"))
    try:
        response = client.get("/test/commit-then-lose-the-server")
    finally:
        server.start()
    assert response.status_code == 302
    assert check_in_count() == 1
    assert client.get("/me/check-in").status_code == 200, "the next request reconnects"


def test_a_statement_the_database_rejects_is_still_a_500(ctx, login):
    response = login(make_user("student")).get("/test/bad-statement")
    assert response.status_code == 500
    assert "Something went wrong" in page_text(response)
    assert "Retry-After" not in response.headers


# Issue #17, item 10: a lost connection in the middle of a write ---------------------------


@contextmanager
def connection_ended_before(server: Server, statement_start: str):
    """The first statement starting with `statement_start` finds its server connection
    ended just before it runs, as a crash or an administrator would end it."""
    ended = threading.Event()

    def end_it(_connection, cursor, statement, *_args) -> None:
        if statement.startswith(statement_start) and not ended.is_set():
            ended.set()
            server.terminate_backends(cursor.connection.info.backend_pid)

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", end_it)
    try:
        yield ended
    finally:
        sqlalchemy_event.remove(db.engine, "before_cursor_execute", end_it)


def rsvp_rows() -> list[tuple[int, int, str]]:
    db.session.rollback()
    return db.session.execute(select(Rsvp.event_id, Rsvp.user_id, Rsvp.status)).all()


def test_a_connection_lost_in_the_middle_of_an_rsvp_is_a_503_that_saved_nothing(ctx, login, server):
    event = make_event(capacity=5)
    client = login(make_user("student"))
    with connection_ended_before(server, "INSERT INTO rsvps") as ended:
        response = client.post(f"/events/{event.id}/rsvp")
    assert ended.is_set()
    assert response.status_code == 503
    assert UNREACHABLE in page_text(response)
    assert rsvp_rows() == []
    assert client.post(f"/events/{event.id}/rsvp").status_code == 302, "it works again"
    assert len(rsvp_rows()) == 1


def test_a_lost_connection_wrapped_as_pending_rollback_is_still_a_503(ctx, login, server):
    """A listener that touches the connection as the failed flush rolls back (the SQLite
    ones did, when registered for every database) turns the loss into PendingRollbackError;
    the page is still the 503, not a 500."""
    event = make_event(capacity=5)
    client = login(make_user("student"))

    def read_connection_info(connection) -> None:
        connection.info.get("anything")

    sqlalchemy_event.listen(db.engine, "rollback", read_connection_info)
    try:
        with connection_ended_before(server, "INSERT INTO rsvps"):
            response = client.post(f"/events/{event.id}/rsvp")
    finally:
        sqlalchemy_event.remove(db.engine, "rollback", read_connection_info)
    assert response.status_code == 503
    assert rsvp_rows() == []


def test_which_pending_rollbacks_mean_the_database_is_unreachable():
    invalidated = PendingRollbackError("Can't reconnect until invalid transaction", code="8s2b")
    assert database_unreachable(invalidated)
    after_a_clash = PendingRollbackError("rolled back during flush", code="7s2a")
    assert not database_unreachable(after_a_clash)
    after_a_clash.__context__ = IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert not database_unreachable(after_a_clash)
    lost = psycopg.OperationalError("terminating connection due to administrator command")
    after_a_loss = PendingRollbackError("rolled back during flush", code="7s2a")
    after_a_loss.__context__ = lost
    assert database_unreachable(after_a_loss)


def test_restarting_postgresql_while_students_rsvp_answers_only_302s_and_503s(ctx, login, server):
    """Students keep saying "I'm going" while the server restarts, one of them in the
    middle of writing an RSVP. Each is told "saved" (302) or "try again" (503), never a
    500; what was acknowledged is kept, with one confirmation; a 503 tried again after
    the restart ends in one RSVP, not two."""
    paths = [f"/events/{make_event(capacity=3).id}/rsvp" for _ in range(24)]
    people = [make_user("student") for _ in range(4)]
    clients = [login(person) for person in people]
    db.session.commit()
    answers: list[list[tuple[int, int]]] = [[] for _ in clients]
    progress = threading.Semaphore(0)
    armed, mid_write, stopped, restarted = (threading.Event() for _ in range(4))

    def hold_a_write_until_the_server_stops(_connection, _cursor, statement, *_args) -> None:
        if armed.is_set() and statement.startswith("INSERT INTO rsvps"):
            armed.clear()
            mid_write.set()
            stopped.wait(timeout=60)

    crashed: list[BaseException] = []

    def keep_going(index: int) -> None:
        try:
            rsvp_through_the_restart(index)
        except BaseException as error:  # a request that blew up instead of answering
            crashed.append(error)
            raise

    def rsvp_through_the_restart(index: int) -> None:
        after_restart = 0
        for path in paths:
            while True:
                status = clients[index].post(path).status_code
                answers[index].append((int(path.split("/")[2]), status))
                progress.release()
                if status != 503:
                    break
                restarted.wait(timeout=60)  # the person tries again once it is back
            after_restart += restarted.is_set()
            if after_restart >= 2:
                return

    threads = [threading.Thread(target=keep_going, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    sqlalchemy_event.listen(db.engine, "before_cursor_execute", hold_a_write_until_the_server_stops)
    try:
        for _ in range(2 * len(clients)):
            assert progress.acquire(timeout=30), "the students got going"
        armed.set()
        assert mid_write.wait(timeout=30), "an RSVP is being written"
        server.stop()
        stopped.set()
        server.start()
    finally:
        stopped.set()
        restarted.set()
        for thread in threads:
            thread.join(timeout=60)
        sqlalchemy_event.remove(
            db.engine, "before_cursor_execute", hold_a_write_until_the_server_stops
        )

    assert not crashed
    statuses = [status for answered in answers for _, status in answered]
    assert set(statuses) <= {302, 503}, statuses
    assert 503 in statuses, "some RSVP met the restart"
    kept = {(event_id, user_id) for event_id, user_id, _ in rsvp_rows()}
    for person, answered in zip(people, answers, strict=True):
        acknowledged = {event_id for event_id, status in answered if status == 302}
        assert {(event_id, person.id) for event_id in acknowledged} <= kept
        assert {event_id for event_id, user_id in kept if user_id == person.id} == acknowledged
        mail = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.recipient == person.email)
        )
        assert mail == len(acknowledged), "one confirmation per RSVP"
    for event in db.session.scalars(select(Event)):
        going = db.session.scalar(
            select(func.count())
            .select_from(Rsvp)
            .where(Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.GOING)
        )
        assert event.going_count == going <= event.capacity


def test_on_sqlite_a_missing_table_is_a_500_and_a_missing_file_a_503(tmp_path):
    broken = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db.sqlite3"})
    with broken.app_context():
        db.create_all()
        student = make_user("student")
        user_id = student.get_id()
        db.session.execute(text("DROP TABLE rsvps"))
        db.session.commit()
    client = broken.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
    assert client.get("/events/mine").status_code == 500

    missing = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3"}
    )
    client = missing.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
    response = client.get("/events/")
    assert response.status_code == 503
    assert UNREACHABLE in page_text(response)


@pytest.mark.browser
def test_the_503_page_is_accessible_and_try_again_brings_the_page_back(ctx, page, server):
    make_user("student", email="robin@example.edu", name="Robin Vale")
    sign_in(page, "robin@example.edu", PASSWORD)
    expect(page.get_by_text("Signed in as Robin Vale")).to_have_count(1)
    server.stop()
    try:
        response = page.goto("/events/")
        assert response is not None and response.status == 503
        expect(page.get_by_role("heading", level=1)).to_have_text("Temporarily unavailable")
        expect(page.get_by_text(UNREACHABLE)).to_be_visible()
        assert_accessible(page)
    finally:
        server.start()
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
    expect(page.get_by_text("Signed in as Robin Vale")).to_have_count(1)
