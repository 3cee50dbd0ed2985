"""Recovery items belong to the student: every page, opened by everyone else, is searched
for them.

A student with a plan, a support network, a check-in note and a recovery date asks for
someone to reach out. Then an advisor who has an appointment with them, their peer
mentor, another student, and staff (before the student shares anything) each open every
GET page of the portal with that student's ids filled in. None may show a recovery item;
staff still receive the request for outreach.
"""

import html
from datetime import date

import pytest
from flask import url_for

from crp_portal.extensions import db
from crp_portal.recovery import follow_ups, plan
from crp_portal.recovery.check_ins import Answers, save_check_in
from crp_portal.recovery.models import FollowUp
from crp_portal.timeutil import format_date, local_today
from tests.factories import make_appointment, make_support_person, make_user

RECOVERY_DATE = date(2024, 2, 29)
SECRETS = ("Skipping meals before exams", "Sponsor Quentin Harlow", "Bad night on Friday")


def secrets_in(body: str) -> list[str]:
    found = [secret for secret in SECRETS if secret in body]
    if format_date(RECOVERY_DATE) in body or RECOVERY_DATE.isoformat() in body:
        found.append("recovery date")
    return found


@pytest.fixture
def student_with_recovery_items(ctx):
    student = make_user("student")
    student.profile.recovery_date = RECOVERY_DATE
    plan.save_plan(student, {"warning_signs": SECRETS[0], "crisis_steps": "Call my sponsor"})
    make_support_person(student, name=SECRETS[1])
    save_check_in(student, Answers(2, 5, 1, note=SECRETS[2], wants_outreach=True), local_today())
    db.session.commit()
    return student


def every_get_page(app, student, extra: dict) -> list[str]:
    values = {
        "user_id": student.id,
        "student_id": student.id,
        "mentee_id": student.id,
        "version": 1,
        **extra,
    }
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            if not set(rule.arguments) <= values.keys():
                continue
            paths.append(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))
    return paths


def visit_everything(app, client, student, extra=None, must_open=()) -> dict[str, list[str]]:
    """Leaks by path; `must_open` are pages that have to answer 200 (the crawl is real)."""
    leaks, opened = {}, set()
    for path in every_get_page(app, student, extra or {}):
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code == 200:
            opened.add(path)
        found = secrets_in(html.unescape(response.get_data(as_text=True)))
        if found:
            leaks[path] = found
    assert set(must_open) <= opened
    return leaks


def test_an_advisor_with_an_appointment_sees_no_recovery_item(
    app, login, student_with_recovery_items
):
    student = student_with_recovery_items
    advisor = make_user("advisor")
    appointment = make_appointment(advisor, student)
    extra = {"appointment_id": appointment.id}
    must_open = [f"/advising/students/{student.id}", f"/advising/appointments/{appointment.id}"]
    assert visit_everything(app, login(advisor), student, extra, must_open) == {}


def test_the_students_peer_mentor_sees_no_recovery_item(app, login, student_with_recovery_items):
    student = student_with_recovery_items
    mentor = make_user("student")
    mentor.profile.is_peer_mentor = True
    student.profile.mentor_id = mentor.id
    db.session.commit()
    must_open = [f"/mentoring/{student.id}"]
    assert visit_everything(app, login(mentor), student, must_open=must_open) == {}


def test_another_student_sees_no_recovery_item(app, login, student_with_recovery_items):
    student = student_with_recovery_items
    assert visit_everything(app, login(make_user("student")), student) == {}


def test_staff_see_nothing_unshared_but_do_get_the_request_for_outreach(
    app, login, student_with_recovery_items
):
    student = student_with_recovery_items
    follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.student_id == student.id))
    assert follow_up is not None and follow_up.reason == "reach_out"
    staff = login(make_user("staff"))
    queue = staff.get("/follow-ups/").get_data(as_text=True)
    assert student.name in queue
    must_open = [f"/members/{student.id}", f"/follow-ups/{follow_up.id}"]
    assert visit_everything(app, staff, student, {"follow_up_id": follow_up.id}, must_open) == {}


def test_staff_see_exactly_what_the_student_shares(app, login, student_with_recovery_items):
    student = student_with_recovery_items
    follow_up_id = follow_ups.follow_ups_of(student.id)[0].id
    student.profile.share_plan_with_staff = True
    student.profile.share_network_with_staff = True
    student.profile.share_check_ins_with_staff = True
    db.session.commit()
    leaks = visit_everything(
        app, login(make_user("staff")), student, {"follow_up_id": follow_up_id}
    )
    seen = {item for found in leaks.values() for item in found}
    assert seen == set(SECRETS), "shared items reach staff; the recovery date never does"
