"""SQLite: reads run beside the writer; a request takes the write lock where PostgreSQL
would lock a row (its first locking read or write), and writes queue on it.

These rules are SQLite's alone (PostgreSQL has row locks and MVCC), so the module runs
on a SQLite file only.
"""

import fcntl
import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from crp_portal import database
from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.extensions import db
from tests.factories import make_event, make_user


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def other_connection(app):
    """A second connection to the same file that gives up at once on a held lock."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    yield connection
    connection.close()


def _can_take_write_lock(connection) -> bool:
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    connection.execute("ROLLBACK")
    return True


def test_the_file_database_uses_write_ahead_logging(ctx):
    assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"


def test_every_commit_is_synced_to_disk_whatever_sqlites_build_defaults_to(tmp_path):
    """synchronous=FULL (2): in WAL mode NORMAL (1), which some builds default to, loses
    answered changes in a power cut. A connection that starts at NORMAL is set to FULL."""
    connection = sqlite3.connect(tmp_path / "build-default.sqlite3")
    connection.execute("PRAGMA synchronous=NORMAL")
    database._sqlite_connection_setup(connection, None)
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2
    connection.close()


def test_a_page_that_only_reads_leaves_the_write_lock_free(app, other_connection):
    with app.test_request_context("/events/", method="GET"):
        db.session.scalar(select(func.count()).select_from(User))
        assert _can_take_write_lock(other_connection)
        db.session.rollback()


def _locked_users():
    return db.session.scalars(select(User).with_for_update()).all()


def test_a_form_post_reads_beside_the_writer_until_it_locks_a_row(app, other_connection):
    """Loading the signed-in user and the page's checks leave the lock free; the
    service's `SELECT … FOR UPDATE` takes it, and holds it to the end of the request."""
    with app.test_request_context("/events/1/rsvp", method="POST"):
        db.session.scalar(select(func.count()).select_from(User))
        assert _can_take_write_lock(other_connection)
        _locked_users()
        assert not _can_take_write_lock(other_connection)
        db.session.scalar(select(func.count()).select_from(User))
        assert not _can_take_write_lock(other_connection)
        db.session.rollback()
        assert _can_take_write_lock(other_connection)


def test_a_locked_read_sees_what_was_committed_after_the_first_read(app, other_connection):
    """A request read an older snapshot; the locking read must see the row as it now
    stands (as a PostgreSQL transaction reads a row it has just locked), or a check
    under the lock would decide on stale data."""
    with app.app_context():
        student_id = make_user("student", name="Before").id
    with app.test_request_context("/members/1", method="POST"):
        assert db.session.get(User, student_id).name == "Before"
        other_connection.execute("UPDATE users SET name = 'After' WHERE id = ?", (student_id,))
        locked = db.session.scalars(
            select(User)
            .where(User.id == student_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        assert locked.name == "After"
        db.session.rollback()


def test_a_reading_page_that_writes_after_another_commit_still_saves(app, other_connection):
    """The audit entry of a record view is written after reads of an older snapshot; the
    write must wait for the lock and land, not fail as a stale snapshot."""
    with app.app_context():
        staff, student = make_user("staff"), make_user("student")
        db.session.commit()
        staff_id, student_id = staff.id, student.id
    with app.test_request_context("/members/1", method="GET"):
        db.session.scalar(select(func.count()).select_from(User))
        other_connection.execute("UPDATE users SET name = 'Renamed' WHERE id = ?", (student_id,))
        db.session.add(AuditEntry(actor_id=staff_id, subject_id=student_id, action="viewed"))
        db.session.commit()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1
        assert db.session.get(User, student_id).name == "Renamed"


def test_pages_answer_while_a_long_write_holds_the_lock(ctx, login, other_connection):
    client = login(make_user("student"))
    db.session.commit()
    other_connection.execute("BEGIN IMMEDIATE")
    answers = []
    reader = threading.Thread(target=lambda: answers.append(client.get("/events/")))
    reader.start()
    reader.join(timeout=10)
    finished_while_locked = not reader.is_alive()
    other_connection.execute("ROLLBACK")
    reader.join()
    assert finished_while_locked
    assert answers[0].status_code == 200


def _writer_turn_taken(app) -> bool:
    """Whether another writer could start now (its turn, not SQLite's lock)."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    queue = database.WriterQueue(path)
    try:
        fcntl.flock(queue._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        queue.close()
    return False


def test_a_writer_holds_its_turn_until_it_commits_and_no_longer(app):
    with app.test_request_context("/events/1/rsvp", method="POST"):
        db.session.scalar(select(func.count()).select_from(User))
        assert not _writer_turn_taken(app)
        _locked_users()
        assert _writer_turn_taken(app)
        make_user("student")  # commits
        assert not _writer_turn_taken(app)
        _locked_users()
        assert _writer_turn_taken(app)
        db.session.rollback()
        assert not _writer_turn_taken(app)


def test_a_second_writer_waits_its_turn_and_then_saves(app):
    """Two form posts at once: the second waits for the first to commit, then both land."""
    first_in, first_may_commit = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with app.test_request_context("/events/1/rsvp", method="POST"):
                _locked_users()
                first_in.set()
                first_may_commit.wait(10)
                make_user("student", name="First")  # commits
        except Exception as error:  # reported below, where the test can fail on it
            errors.append(error)

    writer = threading.Thread(target=first)
    writer.start()
    assert first_in.wait(10)
    waiter_done = threading.Event()

    def second():
        with app.test_request_context("/events/2/rsvp", method="POST"):
            make_user("student", name="Second")
            db.session.commit()
        waiter_done.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    assert not waiter_done.wait(0.3), "the second writer went ahead of the first"
    first_may_commit.set()
    writer.join(10)
    waiter.join(10)
    assert errors == [] and waiter_done.is_set()
    with app.app_context():
        names = set(db.session.scalars(select(User.name)))
    assert {"First", "Second"} <= names


def test_a_writer_that_never_finishes_makes_the_next_one_busy_not_hung(app, ctx, login):
    """A writer stuck in its turn: the next form post is told the portal is busy, and
    once the stuck one ends, posts work again."""
    student = make_user("student")
    client = login(student)
    rsvp_url = f"/events/{make_event(title='Open meeting').id}/rsvp"
    db.session.commit()  # the test's own reads end their turn too
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    stuck = database.WriterQueue(path)
    stuck.wait_turn()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.2)
            refused = client.post(rsvp_url)
    finally:
        stuck.done()
        stuck.close()
    assert refused.status_code == 503
    assert client.post(rsvp_url).status_code == 302
