"""A student's "Who has opened your records" page names, for each row, how the person who
opened their data stood to them at the time, and which part of it they opened."""

import html
import re

import pytest

from crp_portal.extensions import db
from crp_portal.mentoring import services as mentoring
from crp_portal.recovery import follow_ups
from tests.factories import (
    make_appointment,
    make_mentor_and_mentee,
    make_support_person,
    make_user,
)


def access_log(client) -> list[tuple[str, str]]:
    """The student's log as (who, what) cells, newest first."""
    page = html.unescape(client.get("/me/record-views").get_data(as_text=True))
    if "<tbody>" not in page:
        return []
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [" ".join(cell.split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        rows.append((cells[1], cells[2]))
    return rows


def test_a_peer_mentor_is_named_as_the_students_peer_mentor(ctx, login):
    mentor, mentee = make_mentor_and_mentee()
    login(mentor).get(f"/mentoring/{mentee.id}")

    assert access_log(login(mentee)) == [
        ("Morgan Mentor (your peer mentor)", "Your contact details")
    ]


def test_staff_opening_a_record_show_each_shared_part_they_saw(ctx, login):
    student = make_user("student")
    make_support_person(student)
    profile = student.profile
    profile.share_plan_with_staff = True
    profile.share_check_ins_with_staff = True
    profile.share_network_with_staff = True
    db.session.commit()
    login(make_user("staff", name="Casey Coordinator")).get(f"/members/{student.id}")

    assert sorted(access_log(login(student))) == [
        ("Casey Coordinator (program staff)", "Your check-in answers"),
        ("Casey Coordinator (program staff)", "Your member record"),
        ("Casey Coordinator (program staff)", "Your relapse-prevention plan"),
        ("Casey Coordinator (program staff)", "Your support network"),
    ]


def test_a_record_with_nothing_shared_shows_only_the_record(ctx, login):
    student = make_user("student")
    login(make_user("staff", name="Casey Coordinator")).get(f"/members/{student.id}")

    assert access_log(login(student)) == [
        ("Casey Coordinator (program staff)", "Your member record")
    ]


def test_staff_opening_a_follow_up_show_the_check_ins_it_shows(ctx, login):
    student = make_user("student")
    student.profile.share_check_ins_with_staff = True
    staff = make_user("staff", name="Casey Coordinator")
    follow_up = follow_ups.open_by_staff(student, staff)
    db.session.commit()
    login(staff).get(f"/follow-ups/{follow_up.id}")

    assert sorted(access_log(login(student))) == [
        ("Casey Coordinator (program staff)", "A follow-up about you"),
        ("Casey Coordinator (program staff)", "Your check-in answers"),
    ]


def test_an_administrator_opening_and_changing_the_account(ctx, login):
    student = make_user("student", name="Sam Student")
    client = login(make_user("staff", is_admin=True, name="Ada Admin"))
    client.get(f"/admin/accounts/{student.id}")
    client.post(f"/admin/accounts/{student.id}", data={"name": "Sam Rivera", "role": "student"})

    assert access_log(login(student)) == [
        ("Ada Admin (an administrator)", "Name changed"),
        ("Ada Admin (an administrator)", "Your account"),
    ]


def test_an_advisor_the_student_booked_with(ctx, login):
    advisor = make_user("advisor", name="Pat Advisor")
    student = make_user("student")
    make_appointment(advisor, student)
    login(advisor).get(f"/advising/students/{student.id}")

    assert access_log(login(student)) == [
        ("Pat Advisor (an advisor you booked with)", "Your advising record")
    ]


@pytest.mark.parametrize("later", ["mentor unassigned", "admin rights removed"])
def test_the_label_stays_what_the_viewer_was_at_the_time(ctx, login, later):
    mentor, mentee = make_mentor_and_mentee()
    admin = make_user("staff", is_admin=True, name="Ada Admin")
    make_user("staff", is_admin=True)  # so Ada is not the last admin
    login(mentor).get(f"/mentoring/{mentee.id}")
    login(admin).get(f"/admin/accounts/{mentee.id}")
    if later == "mentor unassigned":
        mentoring.assign_mentor(mentee.profile, None)
    else:
        admin.is_admin = False
    db.session.commit()

    assert access_log(login(mentee)) == [
        ("Ada Admin (an administrator)", "Your account"),
        ("Morgan Mentor (your peer mentor)", "Your contact details"),
    ]
