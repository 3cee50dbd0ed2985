"""What issue #19 made cheap stays cheap, without changing what anyone sees: the health
check reads no session, and the events list walks the start-time index on SQLite even
though SQLite keeps no statistics to tell it that most events are for everyone."""

import pytest
from sqlalchemy import event

from crp_portal import security
from crp_portal.events import queries
from crp_portal.extensions import db
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_event, make_user


def test_the_health_check_answers_a_stale_session_without_reading_it(ctx, client):
    """A monitor that kept an old cookie gets the health, not a trip to the sign-in page,
    and no new cookie."""
    student = make_user("student")
    long_ago = security.now() - 7 * 24 * 3600
    with client.session_transaction() as session:
        session["_user_id"] = student.get_id()
        session[security.SIGNED_IN_AT] = long_ago
        session[security.LAST_SEEN_AT] = long_ago
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers
    assert client.get("/events/").status_code == 302, "everywhere else the session has ended"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL keeps statistics
def test_without_statistics_the_events_list_walks_the_start_time_index(app, ctx):
    student = make_user("student")
    make_event(title="Morning meeting")
    statements = []

    def keep(_connection, _cursor, statement, parameters, *_args):
        if statement.lstrip().startswith("SELECT events."):
            statements.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        with app.test_request_context():
            listed = queries.upcoming(student, utcnow(), local_today(), queries.EventFilter())
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert [e.title for e in listed] == ["Morning meeting"]
    [(statement, parameters)] = statements
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    steps = " | ".join(row[3] for row in plan)
    assert "ix_events_starts_at" in steps, steps
    assert "ix_events_house_id" not in steps, steps
