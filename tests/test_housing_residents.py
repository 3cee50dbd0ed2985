"""Residents see their house's meetings; staff link events to a house."""

from datetime import timedelta

from sqlalchemy import select

from crp_portal.events.models import Event
from crp_portal.extensions import db
from crp_portal.housing.models import BedAssignment
from crp_portal.timeutil import local_today
from tests.factories import (
    make_application,
    make_event,
    make_house,
    make_offer,
    make_term,
    make_user,
)


def test_staff_mark_an_event_as_a_house_meeting_and_residents_see_it(ctx, login):
    today = local_today()
    term = make_term("This term", today - timedelta(days=10), today + timedelta(days=100))
    house = make_house("Maple House")
    staff = make_user("staff")
    new_event_page = login(staff).get("/events/new").get_data(as_text=True)
    assert "Maple House" in new_event_page
    meeting = make_event(staff, title="Maple house meeting", house_id=house.id)
    make_event(staff, title="Unrelated social")

    resident = make_user("student")
    application = make_application(resident, term=term, house=house)
    offer = make_offer(application, staff=staff)
    client = login(resident)
    client.post(f"/housing/offers/{offer.id}/accept")
    page = client.get(f"/housing/applications/{application.id}").get_data(as_text=True)
    assert "Coming up at the house" in page and "Maple house meeting" in page
    assert "Unrelated social" not in page
    assert db.session.get(Event, meeting.id).house_id == house.id
    assert db.session.scalar(select(BedAssignment.status)) == "accepted"


def test_an_applicant_who_is_not_yet_a_resident_sees_no_house_meetings(ctx, login):
    today = local_today()
    term = make_term("This term", today - timedelta(days=10), today + timedelta(days=100))
    house = make_house("Maple House")
    make_event(title="Maple house meeting", house_id=house.id)
    applicant = make_user("student")
    application = make_application(applicant, term=term, house=house)
    page = login(applicant).get(f"/housing/applications/{application.id}").get_data(as_text=True)
    assert "Maple house meeting" not in page
