"""Every ask-first page is valid HTML to the Nu Html Checker, including the two the demo
crawl (tests/test_html_validity.py) cannot reach by a link: a move's page opens from the
board's script-free form, and a resend's only while a message needs review."""

from datetime import time, timedelta

import pytest

from crp_portal.events.rsvp import rsvp
from crp_portal.extensions import db
from crp_portal.timeutil import local_today, utcnow
from tests.factories import (
    make_appointment,
    make_event,
    make_house,
    make_term,
    make_user,
    make_window,
)
from tests.readers import java_and_vnu
from tests.test_delivery_log import make_message
from tests.test_housing_offers import make_resident
from tests.test_html_validity import validation_errors


@pytest.fixture
def app_config():
    """Forms as production renders them: with their CSRF token fields."""
    return {"WTF_CSRF_ENABLED": True}


def test_the_ask_first_pages_are_valid_html(ctx, login, tmp_path):
    java, vnu = java_and_vnu()
    today = local_today()
    term = make_term("Fall 2026", today - timedelta(days=30), today + timedelta(days=30))
    house = make_house("Maple House", rooms=1, beds_per_room=2)
    resident = make_resident(make_user("student"), term, house.rooms[0].beds[0])
    advisor, student = make_user("advisor"), make_user("student")
    window = make_window(advisor, weekday=(today + timedelta(days=3)).weekday(), start=time(9))
    make_appointment(advisor, student, days_ahead=3, hour=10)
    event = make_event(capacity=1)
    rsvp(event.id, student, utcnow())
    db.session.commit()
    message = make_message("needs_review", user=student, attempts=1)
    staff = login(make_user("staff"))
    pages = {
        "move": (
            staff,
            f"/housing/assignments/{resident.id}/move?bed_id={house.rooms[0].beds[1].id}",
        ),
        "move-out": (staff, f"/housing/assignments/{resident.id}/move-out"),
        "resend": (staff, f"/nudges/outbox/{message.id}/resend"),
        "window": (login(advisor), f"/advising/availability/windows/{window.id}/delete"),
        "give-up": (login(student), f"/events/{event.id}/rsvp/cancel"),
    }
    for name, (client, path) in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        (tmp_path / f"{name}.html").write_text(response.get_data(True), encoding="utf-8")
    errors = validation_errors(java, vnu, tmp_path)
    assert not errors, "\n".join(f"{m.get('url', '?')}: {m['message']}" for m in errors)
