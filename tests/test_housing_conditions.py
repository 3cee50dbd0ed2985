"""Condition reports at move-in and move-out; the resident adds to them within 48 hours."""

import html
from datetime import timedelta

from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.housing.models import ConditionReport
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_application, make_house, make_offer, make_term, make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def resident_with_bed(login):
    today = local_today()
    term = make_term("This term", today - timedelta(days=10), today + timedelta(days=100))
    house = make_house("Maple House")
    staff = make_user("staff")
    student = make_user("student")
    application = make_application(student, term=term, house=house)
    offer = make_offer(application, staff=staff)
    login(student).post(f"/housing/offers/{offer.id}/accept")
    return staff, student, application, offer


def test_staff_record_a_move_in_report_the_resident_reads_and_adds_to(ctx, login):
    staff, student, application, offer = resident_with_bed(login)
    response = login(staff).post(
        f"/housing/assignments/{offer.id}/condition/move_in",
        data={"items": "Mattress: good\nDesk: scratch on top", "staff_notes": "Keys: 2"},
        follow_redirects=True,
    )
    assert "Move-in report saved" in text(response)
    client = login(student)
    page = text(client.get(f"/housing/applications/{application.id}"))
    assert "Move-in condition report" in page and "Desk: scratch on top" in page
    added = client.post(
        f"/housing/condition-reports/{db.session.scalar(select(ConditionReport.id))}/notes",
        data={"notes": "Window latch is loose"},
        follow_redirects=True,
    )
    assert "Your notes are added" in text(added) and "Window latch is loose" in text(added)
    staff_view = text(login(staff).get(f"/housing/assignments/{offer.id}/condition/move_in"))
    assert "Added by the resident" in staff_view and "Window latch is loose" in staff_view


def test_after_48_hours_the_resident_can_no_longer_add(ctx, login):
    staff, student, application, offer = resident_with_bed(login)
    login(staff).post(
        f"/housing/assignments/{offer.id}/condition/move_in", data={"items": "Mattress: good"}
    )
    report = db.session.scalar(select(ConditionReport))
    report.recorded_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    client = login(student)
    assert "Add what you noticed" not in text(client.get(f"/housing/applications/{application.id}"))
    late = client.post(f"/housing/condition-reports/{report.id}/notes", data={"notes": "Late"})
    assert late.status_code == 409 and "48 hours" in text(late)
    db.session.refresh(report)
    assert report.student_notes == ""


def test_a_report_needs_items_and_an_accepted_residency(ctx, login):
    staff, student, application, offer = resident_with_bed(login)
    empty = login(staff).post(
        f"/housing/assignments/{offer.id}/condition/move_in", data={"items": ""}
    )
    assert "List the items and their condition." in text(empty)
    other = make_user("student")
    pending = make_offer(make_application(other, term=application.term), staff=staff)
    refused = login(staff).post(
        f"/housing/assignments/{pending.id}/condition/move_in", data={"items": "Bed: fine"}
    )
    assert "for residents who accepted their bed" in text(refused)
    assert db.session.scalars(select(ConditionReport)).all() == []


def test_another_students_report_is_not_found(ctx, login):
    staff, student, application, offer = resident_with_bed(login)
    login(staff).post(
        f"/housing/assignments/{offer.id}/condition/move_in", data={"items": "Mattress: good"}
    )
    report_id = db.session.scalar(select(ConditionReport.id))
    response = login(make_user("student")).post(
        f"/housing/condition-reports/{report_id}/notes", data={"notes": "Not mine"}
    )
    assert response.status_code == 404
    assert "no condition report with that number in your list" in text(response)
