"""The student's and the advisor's home pages are to-do lists: each item appears when
there is something to do, says what, links to where, and goes once it is done."""

import html
import re
from datetime import timedelta

from crp_portal.advising import services as advising
from crp_portal.events.rsvp import cancel_rsvp, rsvp
from crp_portal.extensions import db
from crp_portal.home import todo
from crp_portal.housing.offers import decline_offer
from crp_portal.recovery.check_ins import Answers, save_check_in
from crp_portal.timeutil import local_midnight, local_today, utcnow
from tests.factories import (
    make_application,
    make_appointment,
    make_event,
    make_house,
    make_offer,
    make_user,
)

NOTHING = "Nothing needs you right now."
CHECK_IN = "Do this week's check-in"


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def home(client) -> str:
    return text(client.get("/"))


def checked_in(student) -> None:
    save_check_in(student, Answers(mood=4, stress=2, sleep=4), local_today())
    db.session.commit()


def test_a_new_students_home_asks_for_the_check_in_until_it_is_done(ctx, login):
    student = make_user("student")
    client = login(student)
    page = home(client)
    assert CHECK_IN in page and 'href="/me/check-in"' in page
    assert "You haven't said you're going to anything yet" in page
    assert "<title>Home" in page

    checked_in(student)
    page = home(client)
    assert CHECK_IN not in page
    assert NOTHING in page


def test_a_housing_offer_waits_with_its_reply_by_date_until_answered(ctx, login):
    student = make_user("student")
    checked_in(student)
    house = make_house("Maple House")
    offer = make_offer(make_application(student, house=house), reply_days=5)
    client = login(student)
    page = home(client)
    reply_by = (local_today() + timedelta(days=5)).strftime("%-d %b %Y")
    assert "Reply to your housing offer" in page
    assert "A bed at Maple House. Reply by" in page and reply_by in page
    assert 'href="/housing/"' in page

    decline_offer(offer)
    db.session.commit()
    page = home(client)
    assert "Reply to your housing offer" not in page and NOTHING in page


def full_event(**overrides):
    """An event with one place, taken."""
    event = make_event(capacity=1, **overrides)
    rsvp(event.id, make_user("student"), utcnow())
    db.session.commit()
    return event


def test_a_place_that_came_free_is_news_until_the_student_opens_the_event(ctx, login):
    event = full_event(title="Recovery ally dinner", public_title="Thursday dinner")
    [holder] = [entry.user for entry in _going(event)]
    student = make_user("student")
    checked_in(student)
    rsvp(event.id, student, utcnow())
    db.session.commit()
    client = login(student)
    assert "on the waitlist" in text(client.get(f"/events/{event.id}"))
    assert "came free" not in home(client)

    cancel_rsvp(event.id, holder, utcnow())
    db.session.commit()
    page = home(client)
    assert "A place came free: you're going to Recovery ally dinner" in page
    assert "<title>Home" in page  # the tab never names the event
    assert f'href="/events/{event.id}"' in page

    client.get(f"/events/{event.id}")
    page = home(client)
    assert "came free" not in page
    assert "Recovery ally dinner" in page  # now simply the next event, under Coming up


def _going(event):
    from sqlalchemy import select

    from crp_portal.events.models import Rsvp

    return db.session.scalars(
        select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.status == "going")
    ).all()


def test_moving_up_the_waitlist_is_news_once(ctx, login):
    event = full_event(title="Climbing night")
    ahead = make_user("student")
    rsvp(event.id, ahead, utcnow())
    student = make_user("student")
    checked_in(student)
    rsvp(event.id, student, utcnow())
    db.session.commit()
    client = login(student)
    assert "number 2" in text(client.get(f"/events/{event.id}"))

    cancel_rsvp(event.id, ahead, utcnow())
    db.session.commit()
    page = home(client)
    assert "You moved up the waitlist for Climbing night: now number 1, was 2" in page

    client.get(f"/events/{event.id}")
    assert "moved up" not in home(client)
    assert NOTHING in home(client)


def test_a_summary_waits_until_the_student_opens_it_and_again_when_changed(ctx, login):
    advisor = make_user("advisor", name="Dana Advisor")
    student = make_user("student")
    checked_in(student)
    appointment = make_appointment(advisor, student, days_ahead=-2)
    client = login(student)
    assert "advising summary" not in home(client)

    def outcome(summary):
        advising.record_outcome(
            appointment, advisor, "completed", "", summary, "Email the registrar", utcnow()
        )
        db.session.commit()

    outcome("We planned spring courses.")
    page = home(client)
    assert "Read your advising summary" in page and "From Dana Advisor" in page
    assert f'href="/advising/appointments/{appointment.id}"' in page

    assert "We planned spring courses." in text(
        client.get(f"/advising/appointments/{appointment.id}")
    )
    assert "advising summary" not in home(client)
    login(advisor).get(f"/advising/appointments/{appointment.id}")  # the advisor's look
    outcome("We planned spring courses.")  # saved again, unchanged: still read
    assert "advising summary" not in home(client)

    outcome("We planned spring and summer courses.")
    assert "Read your advising summary" in home(client)


def test_coming_up_shows_the_next_event_and_appointment(ctx, login):
    student = make_user("student")
    advisor = make_user("advisor", name="Dana Advisor")
    soon = make_event(title="Board games", day=local_today() + timedelta(days=3))
    later = make_event(title="Picnic", day=local_today() + timedelta(days=9))
    for event in (soon, later):
        rsvp(event.id, student, utcnow())
    db.session.commit()
    appointment = make_appointment(advisor, student, days_ahead=4)
    make_appointment(advisor, student, days_ahead=6, status="cancelled")
    page = home(login(student))
    assert "Board games" in page and "Picnic" not in page
    assert "Advising with Dana Advisor" in page
    assert f'href="/advising/appointments/{appointment.id}"' in page


# The advisor's home -------------------------------------------------------------------

APPOINTMENT = re.compile(r'href="/advising/appointments/(\d+)(?:#[\w-]+)?"')


def sections(page: str) -> dict[str, list[int]]:
    """Each h2 of the advisor's home (today's without its date) and the appointments it
    links to."""
    parts = re.split(r'<h2 id="[\w-]+">([^<]+)</h2>', page.split("</h1>", 1)[1])[1:]
    return {
        heading.split(",")[0]: [int(found) for found in APPOINTMENT.findall(body)]
        for heading, body in zip(parts[::2], parts[1::2], strict=True)
    }


def test_the_advisors_home_lists_each_appointment_once(ctx, login):
    advisor, student = make_user("advisor"), make_user("student", name="Sam Student")
    early = make_appointment(advisor, student, days_ahead=0, hour=0).id
    late = make_appointment(advisor, student, days_ahead=0, hour=23).id
    make_appointment(advisor, student, days_ahead=0, hour=12, status="cancelled")
    yesterday = make_appointment(advisor, student, days_ahead=-1, hour=10)
    make_appointment(advisor, student, days_ahead=-2, status="completed")
    make_appointment(advisor, student, days_ahead=3)
    client = login(advisor)

    listed = sections(home(client))
    assert listed["Today"] == [early, late]
    assert listed["Outcomes to record"] == [yesterday.id]
    everything = [found for ids in listed.values() for found in ids]
    assert len(everything) == len(set(everything)), "no appointment is listed twice"

    advising.record_outcome(yesterday, advisor, "no_show", "", "", "", utcnow())
    db.session.commit()
    page = home(client)
    assert sections(page)["Outcomes to record"] == []
    assert "Nothing needs you: every appointment before today has an outcome." in page


def test_todays_appointment_says_to_record_its_outcome_once_started(ctx):
    advisor, student = make_user("advisor"), make_user("student")
    make_appointment(advisor, student, days_ahead=0, hour=10)
    nine = local_midnight(local_today()) + timedelta(hours=9)
    [before] = todo.advisor_home(advisor, nine, local_today()).today
    [after] = todo.advisor_home(advisor, nine + timedelta(hours=2), local_today()).today
    assert (before.action, after.action) == ("Open", "Record the outcome")


def test_more_outcomes_than_listed_link_to_the_whole_list(ctx, login):
    advisor, student = make_user("advisor"), make_user("student")
    for day in range(1, todo.OUTCOMES_LISTED + 3):
        make_appointment(advisor, student, days_ahead=-day)
    page = home(login(advisor))
    assert len(sections(page)["Outcomes to record"]) == todo.OUTCOMES_LISTED
    assert '<a href="/advising/agenda/waiting">2 more waiting for an outcome</a>' in page


def test_a_seat_the_student_took_themselves_is_no_news(ctx, login):
    event = full_event(title="Pottery evening")
    [holder] = [entry.user for entry in _going(event)]
    student = make_user("student")
    checked_in(student)
    rsvp(event.id, student, utcnow())
    db.session.commit()
    client = login(student)
    client.get(f"/events/{event.id}")  # shown: number 1 on the waitlist
    cancel_rsvp(event.id, student, utcnow())
    cancel_rsvp(event.id, holder, utcnow())
    rsvp(event.id, student, utcnow())  # a seat was free: they took it themselves
    db.session.commit()
    page = home(client)
    assert "came free" not in page and NOTHING in page


def test_a_summary_changed_while_the_page_was_read_stays_waiting(ctx):
    from sqlalchemy import update

    from crp_portal.advising.models import Appointment
    from crp_portal.advising.summaries import mark_summary_seen, waiting_summaries

    advisor, student = make_user("advisor"), make_user("student")
    appointment = make_appointment(
        advisor, student, days_ahead=-1, status="completed", summary="First version"
    )
    # The advisor saves a new text after the student's page read the first one.
    db.session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id)
        .values(summary="Second version", summary_seen_at=None)
        .execution_options(synchronize_session=False)
    )
    assert appointment.summary == "First version"  # what the page read
    assert not mark_summary_seen(appointment, student, utcnow())
    assert [w.appointment_id for w in waiting_summaries(student, utcnow())] == [appointment.id]

    db.session.expire(appointment)
    assert mark_summary_seen(appointment, student, utcnow())
    assert not mark_summary_seen(appointment, student, utcnow())  # once only
    assert waiting_summaries(student, utcnow()) == []
