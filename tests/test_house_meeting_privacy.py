"""A house meeting tells where a recovery house is: only the house's current residents and
staff who run events or housing see it, RSVP to it, download it or check in to it."""

import html
import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from crp_portal.events.models import Attendance, Rsvp
from crp_portal.events.reminders import send_due_reminders
from crp_portal.events.rsvp import rsvp
from crp_portal.extensions import db
from crp_portal.housing.offers import accept_offer, end_residency
from crp_portal.nudges.templating import week_ahead
from crp_portal.outbox.models import OutboxMessage
from crp_portal.timeutil import local_today, to_local, utcnow
from tests.factories import (
    code_now,
    make_application,
    make_event,
    make_house,
    make_offer,
    make_term,
    make_user,
)

TITLE, PLACE = "Maple house meeting", "14 Maple Street, kitchen"
FEED_URL = re.compile(r'value="http://portal\.test(/calendar/[^"]+\.ics)"')


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


class Maple:
    """Maple House with a meeting a week from now, one resident living there since the
    term began, and an unrelated social everyone sees."""

    def __init__(self, move_in_on=None):
        today = local_today()
        self.term = make_term("This term", today - timedelta(days=10), today + timedelta(days=100))
        self.house = make_house("Maple House")
        self.staff = make_user("staff")
        self.meeting = make_event(
            self.staff, title=TITLE, public_title="House night", location=PLACE,
            house_id=self.house.id, capacity=10,
        )  # fmt: skip
        self.social = make_event(self.staff, title="Board game night", public_title="Games")
        self.resident = make_user("student", name="Rae Resident")
        application = make_application(self.resident, term=self.term, house=self.house)
        self.assignment = make_offer(application, staff=self.staff)
        self.assignment.move_in_on = move_in_on
        accept_offer(self.assignment, today)
        db.session.commit()

    def month_path(self) -> str:
        start = to_local(self.meeting.starts_at)
        return f"/events/month?year={start.year}&month={start.month}"


def rsvp_count(event) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Rsvp).where(Rsvp.event_id == event.id)
    )


def feed_of(app, client) -> bytes:
    page = client.get("/calendar/")
    path = FEED_URL.search(page.get_data(as_text=True)).group(1)
    return app.test_client().get(path).data


def test_other_students_never_see_a_house_meeting_or_where_it_is(ctx, login):
    maple = Maple()
    client = login(make_user("student"))
    for path in ("/events/", "/events/?kind=peer_support", maple.month_path()):
        page = text(client.get(path))
        assert "Board game night" in page, path
        assert TITLE not in page and PLACE not in page, path
    for path in (f"/events/{maple.meeting.id}", f"/events/{maple.meeting.id}.ics"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert TITLE not in text(response) and PLACE not in text(response)

    for scopes in (["events"], ["housing"]):  # staff who run events or housing do see it
        staff = login(make_user("staff", scopes=scopes))
        assert TITLE in text(staff.get("/events/")), scopes
        page = staff.get(f"/events/{maple.meeting.id}")
        assert page.status_code == 200 and PLACE in text(page), scopes


def test_other_students_cannot_rsvp_or_check_in_to_a_house_meeting(ctx, login):
    maple = Maple()
    client = login(make_user("student"))
    refused = client.post(f"/events/{maple.meeting.id}/rsvp")
    assert refused.status_code == 404
    assert rsvp_count(maple.meeting) == 0
    maple.meeting.starts_at = utcnow() + timedelta(minutes=5)
    maple.meeting.ends_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    check_in = client.post(
        f"/events/{maple.meeting.id}/check-in", data={"code": code_now(maple.meeting)}
    )
    assert check_in.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0


def test_residents_see_their_house_meeting_until_they_move_out(app, ctx, login):
    maple = Maple()
    client = login(maple.resident)
    assert TITLE in text(client.get("/events/"))
    assert TITLE in text(client.get(maple.month_path()))
    page = text(client.get(f"/events/{maple.meeting.id}"))
    assert TITLE in page and PLACE in page
    going = client.post(f"/events/{maple.meeting.id}/rsvp", follow_redirects=True)
    assert "You're going." in text(going)
    assert TITLE in text(client.get("/events/mine"))
    assert TITLE in text(client.get("/"))
    ics = client.get(f"/events/{maple.meeting.id}.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    [entry] = Calendar.from_ical(feed_of(app, client)).walk("VEVENT")
    assert str(entry["SUMMARY"]) == "House night"

    end_residency(maple.assignment, local_today() - timedelta(days=1))
    db.session.commit()

    for path in ("/events/", "/events/mine", "/", maple.month_path()):
        assert TITLE not in text(client.get(path)), path
    assert client.get(f"/events/{maple.meeting.id}").status_code == 404
    assert client.get(f"/events/{maple.meeting.id}.ics").status_code == 404
    assert b"House night" not in feed_of(app, client)


def test_a_bed_accepted_for_later_is_not_yet_a_home(ctx, login):
    maple = Maple(move_in_on=local_today() + timedelta(days=20))
    client = login(maple.resident)
    assert TITLE not in text(client.get("/events/"))
    assert client.get(f"/events/{maple.meeting.id}").status_code == 404
    page = text(client.get(f"/housing/applications/{maple.assignment.application_id}"))
    assert "Maple House" in page and TITLE not in page


def test_the_week_ahead_email_lists_no_house_meetings(ctx):
    maple = Maple()
    maple.meeting.starts_at = utcnow() + timedelta(days=2)
    maple.meeting.ends_at = maple.meeting.starts_at + timedelta(hours=1)
    maple.social.starts_at = utcnow() + timedelta(days=3)
    maple.social.ends_at = maple.social.starts_at + timedelta(hours=1)
    db.session.commit()
    lines = week_ahead(local_today(), utcnow()).lines_for(make_user("student"))
    assert "Games" in lines and "House night" not in lines


def test_a_resident_who_moved_out_is_not_reminded_of_the_house_meeting(ctx):
    maple = Maple()
    stays = make_user("student", name="Sol Stays")
    application = make_application(stays, term=maple.term, house=maple.house)
    accept_offer(make_offer(application, staff=maple.staff), local_today())
    db.session.commit()
    for person in (maple.resident, stays):
        rsvp(maple.meeting.id, person, utcnow())
    db.session.commit()
    end_residency(maple.assignment, local_today() - timedelta(days=1))
    db.session.commit()

    assert send_due_reminders(maple.meeting.starts_at - timedelta(hours=12)) == 1
    db.session.commit()
    reminded = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.subject.startswith("Reminder:"))
    ).all()
    assert reminded == [stays.email]
