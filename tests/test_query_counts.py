"""List pages issue a fixed number of SQL statements, however much data there is."""

import pytest

from tests.factories import make_period, make_term, make_user


def add_people_and_terms(count: int) -> None:
    for number in range(count):
        make_user("student", status="active" if number % 2 else "applicant")
        make_user("advisor")
        make_period(make_term())


@pytest.mark.parametrize(
    "path", ["/", "/members/", "/admin/accounts", "/terms/", "/admin/invitations"]
)
def test_staff_pages_cost_the_same_with_more_data(ctx, login, count_queries, path):
    client = login(make_user("staff", is_admin=True))
    add_people_and_terms(2)
    few = count_queries(client, path)
    add_people_and_terms(15)
    assert count_queries(client, path) == few


def test_student_home_costs_the_same_with_more_data(ctx, login, count_queries):
    client = login(make_user("student"))
    add_people_and_terms(2)
    few = count_queries(client, "/")
    add_people_and_terms(15)
    assert count_queries(client, "/") == few


def add_events_with_rsvps(count: int, students) -> list:
    from tests.factories import make_event

    events = []
    for number in range(count):
        event = make_event(title=f"Event {number}", capacity=3, show_attendee_names=True)
        for student in students:
            events.append(event)
            from crp_portal.events.rsvp import rsvp
            from crp_portal.timeutil import utcnow

            rsvp(event.id, student, utcnow())
    from crp_portal.extensions import db

    db.session.commit()
    return events


EVENT_PAGES = {
    "student": ["/", "/events/", "/events/month", "/events/mine", "/events/{event}", "/calendar/"],
    "staff": ["/", "/events/", "/events/month", "/events/{event}", "/events/{event}/attendance"],
}


@pytest.mark.parametrize(
    ("role", "path"), [(role, path) for role, paths in EVENT_PAGES.items() for path in paths]
)
def test_event_pages_cost_the_same_with_more_events_and_rsvps(
    app, ctx, login, count_queries, role, path
):
    viewer = make_user(role)
    client = login(viewer)
    students = [make_user("student") for _ in range(4)] + ([viewer] if role == "student" else [])
    with app.test_request_context():
        [first, *_] = add_events_with_rsvps(2, students)
    target = path.format(event=first.id)
    client.get(target)  # a first visit may create the person's calendar address
    few = count_queries(client, target)
    with app.test_request_context():
        add_events_with_rsvps(8, students + [make_user("student") for _ in range(4)])
    assert count_queries(client, target) == few, target
