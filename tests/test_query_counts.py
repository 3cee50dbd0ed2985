"""List pages issue a fixed number of SQL statements, however much data there is."""

import pytest

from tests.factories import make_house, make_period, make_term, make_user


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


def give_a_member_history(student, staff, count: int, weeks_back: int = 0) -> None:
    """Status changes, follow-ups, shared check-ins and applications, `count` of each."""
    from datetime import timedelta

    from crp_portal.extensions import db
    from crp_portal.members.models import IntakeApplication, ProgramAgreement
    from crp_portal.members.services import change_status
    from crp_portal.recovery import follow_ups
    from crp_portal.recovery.models import CheckIn
    from crp_portal.timeutil import local_today

    agreement = db.session.query(ProgramAgreement).first() or ProgramAgreement(
        version=1, body="Agreement"
    )
    db.session.add(agreement)
    db.session.flush()
    for number in range(count):
        change_status(student.profile, "on_leave" if number % 2 == 0 else "active", staff)
        follow_ups.open_by_staff(student, staff, f"Worry {number}")
        week = local_today() - timedelta(weeks=weeks_back + number)
        db.session.add(
            CheckIn(student_id=student.id, week_start=week, mood=3, stress=3, sleep=3, note="n")
        )
        db.session.add(
            IntakeApplication(
                student_id=student.id,
                goals="g",
                heard_from="friend",
                agreement_id=agreement.id,
                status="withdrawn",
            )
        )
    db.session.commit()


def test_the_member_record_costs_the_same_with_more_history(ctx, login, count_queries):
    staff = make_user("staff")
    student = make_user("student")
    student.profile.share_check_ins_with_staff = True
    student.profile.share_plan_with_staff = True
    student.profile.share_network_with_staff = True
    client = login(staff)
    give_a_member_history(student, staff, 2)
    client.get(f"/members/{student.id}")  # the first visit also writes the audit row
    few = count_queries(client, f"/members/{student.id}")
    give_a_member_history(student, staff, 8, weeks_back=2)
    assert count_queries(client, f"/members/{student.id}") == few


def test_the_application_queue_costs_the_same_with_more_applicants(ctx, login, count_queries):
    from crp_portal.members import intake

    staff = make_user("staff")
    client = login(staff)
    intake.publish_agreement(staff, "Agreement")

    def applicants(count):
        for _ in range(count):
            intake.apply(make_user("student", status="applicant"), "Goals", "friend", "", 1, True)

    applicants(2)
    few = count_queries(client, "/members/applications")
    applicants(10)
    assert count_queries(client, "/members/applications") == few


def give_a_student_things_to_do(student, advisor, count: int, first: int = 0) -> None:
    """`count` of each item of a student's home: waitlist news, summaries, offers."""
    from sqlalchemy import update

    from crp_portal.events.models import Rsvp
    from crp_portal.events.rsvp import rsvp
    from crp_portal.extensions import db
    from crp_portal.timeutil import utcnow
    from tests.factories import make_application, make_appointment, make_event, make_offer

    house = make_house(beds_per_room=1)
    for number in range(first, first + count):
        event = make_event(title=f"Full event {number}", capacity=1)
        rsvp(event.id, make_user("student"), utcnow())
        rsvp(event.id, student, utcnow())
        db.session.execute(
            update(Rsvp)
            .where(Rsvp.event_id == event.id, Rsvp.user_id == student.id)
            .values(seen_waitlist_place=5)
        )
        make_appointment(
            advisor, student, days_ahead=-1 - number, status="completed", summary="Plans"
        )
        make_offer(make_application(student, make_term(), house=house), reply_days=3 + number)
    db.session.commit()


def test_the_students_home_costs_the_same_with_more_to_do(ctx, login, count_queries):
    student, advisor = make_user("student"), make_user("advisor")
    client = login(student)
    give_a_student_things_to_do(student, advisor, 1)
    few = count_queries(client, "/")
    assert "You moved up the waitlist" in client.get("/").get_data(as_text=True)
    give_a_student_things_to_do(student, advisor, 6, first=1)
    assert count_queries(client, "/") == few


def test_the_advisors_home_costs_the_same_with_more_appointments(ctx, login, count_queries):
    from tests.factories import make_appointment

    advisor = make_user("advisor")
    client = login(advisor)

    def appointments(count, first=0):
        student = make_user("student")
        for number in range(first, first + count):
            make_appointment(advisor, student, days_ahead=0, hour=number)
            make_appointment(advisor, student, days_ahead=-1 - number)

    appointments(1)
    few = count_queries(client, "/")
    appointments(8, first=1)
    assert count_queries(client, "/") == few


def give_staff_things_to_do(count: int) -> None:
    from datetime import timedelta

    from crp_portal.extensions import db
    from crp_portal.members import intake
    from crp_portal.outbox.models import OutboxMessage
    from crp_portal.recovery import follow_ups
    from tests.factories import make_application, make_event, make_offer

    staff = make_user("staff")
    if intake.current_agreement() is None:
        intake.publish_agreement(staff, "Agreement")
    house = make_house(beds_per_room=count)
    term = make_term()
    for number in range(count):
        student = make_user("student")
        follow_ups.open_by_staff(student, staff)
        intake.apply(make_user("student", status="applicant"), "Goals", "friend", "", 1, True)
        make_offer(make_application(student, term, house=house), reply_days=2)
        event = make_event(title=f"Past event {number}")
        event.starts_at -= timedelta(days=8)
        event.ends_at -= timedelta(days=8)
        db.session.add(
            OutboxMessage(kind="transactional", recipient="a@example.edu", status="needs_review")
        )
    db.session.commit()


def test_the_staff_home_costs_the_same_with_more_to_do(ctx, login, count_queries):
    client = login(make_user("staff", is_admin=True))
    give_staff_things_to_do(1)
    few = count_queries(client, "/")
    give_staff_things_to_do(8)
    assert count_queries(client, "/") == few
