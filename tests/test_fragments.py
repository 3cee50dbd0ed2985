"""List rows kept once rendered (crp_portal.fragments) still show what is true now, to
whoever looks, under whatever address the portal is served."""

import re

import pytest

from crp_portal.advising.models import AppointmentStatus
from crp_portal.extensions import db
from tests.factories import make_appointment, make_event, make_user


def row_of(page: str, title: str) -> str:
    """The events list's row for the event called `title`."""
    [row] = re.findall(rf'<li class="event-item">(?:(?!</li>).)*{title}.*?</li>', page, re.S)
    return row


@pytest.fixture
def listed(ctx):
    event = make_event(title="Pottery night", capacity=3)
    return event, make_user(name="Ada Student"), make_user(name="Bo Student")


def test_a_kept_row_shows_the_places_left_after_an_rsvp(listed, login):
    event, ada, bo = listed
    ada_client = login(ada)
    before = row_of(ada_client.get("/events/").get_data(as_text=True), "Pottery night")
    assert "3 of 3 places left" in before and "going" not in before

    assert login(bo).post(f"/events/{event.id}/rsvp").status_code == 302
    after = row_of(ada_client.get("/events/").get_data(as_text=True), "Pottery night")
    assert "2 of 3 places left" in after and "You're going" not in after, "Bo's badge is Bo's"
    bo_row = row_of(login(bo).get("/events/").get_data(as_text=True), "Pottery night")
    assert "2 of 3 places left" in bo_row and "You're going" in bo_row


def test_kept_rows_link_under_the_address_each_request_came_to(listed, login):
    event, ada, _ = listed
    client = login(ada)
    direct = client.get("/events/").get_data(as_text=True)
    proxied = client.get("/events/", base_url="http://portal.test/portal/").get_data(as_text=True)
    assert f'href="/events/{event.id}"' in row_of(direct, "Pottery night")
    assert f'href="/portal/events/{event.id}"' in row_of(proxied, "Pottery night")
    assert f'href="/events/{event.id}"' in row_of(
        client.get("/events/").get_data(as_text=True), "Pottery night"
    )


def test_a_kept_agenda_line_follows_the_appointment(ctx, login):
    advisor, student = make_user("advisor"), make_user(name="Cy Student")
    appointment = make_appointment(advisor, student, days_ahead=8)
    client = login(advisor)
    line = re.compile(rf'<li><a href="/advising/appointments/{appointment.id}">.*?</li>', re.S)

    [before] = line.findall(client.get("/advising/agenda").get_data(as_text=True))
    assert "Cy Student" in before and "Booked" in before

    student.name = "Cy Renamed"
    db.session.commit()
    [renamed] = line.findall(client.get("/advising/agenda").get_data(as_text=True))
    assert "Cy Renamed" in renamed and "Cy Student" not in renamed

    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()
    assert line.findall(client.get("/advising/agenda").get_data(as_text=True)) == []
