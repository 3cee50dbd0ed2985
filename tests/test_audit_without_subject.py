"""Exports and invitations are on the audit trail about no one, with a detail saying which
table and dates or which invitation and role (never an address); the admin's audit page
shows and searches them, and erasing a person leaves them in place."""

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import Invitation
from crp_portal.auth.services import accept_invitation, invitation_token
from crp_portal.extensions import db
from crp_portal.mentoring import services as mentoring
from tests.factories import make_term, make_user


def audit_table(client, **query) -> list[list[str]]:
    """The admin's audit table as the cells' visible text, newest first."""
    page = html.unescape(client.get("/admin/audit", query_string=query).get_data(as_text=True))
    if "<tbody>" not in page:
        return []
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def stored() -> list[tuple]:
    db.session.expire_all()
    rows = db.session.execute(
        select(
            AuditEntry.actor_id, AuditEntry.subject_id, AuditEntry.action, AuditEntry.detail
        ).order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


@pytest.fixture
def admin(ctx):
    return make_user("staff", is_admin=True, name="Ada Admin", email="ada@example.edu")


def test_invitations_are_about_no_one_and_keep_number_and_role(admin, login):
    client = login(admin)
    client.post("/admin/invitations", data={"email": "lee@example.edu", "role": "advisor"})
    invitation = db.session.scalar(select(Invitation))
    client.post(f"/admin/invitations/{invitation.id}/resend")
    client.post(f"/admin/invitations/{invitation.id}/revoke")

    detail = f"invitation #{invitation.id}, advisor"
    assert stored() == [
        (admin.id, None, "invitation sent", detail),
        (admin.id, None, "invitation resent", detail),
        (admin.id, None, "invitation withdrawn", detail),
    ]
    for row in audit_table(client):
        assert row[1].startswith("Ada Admin")
        assert row[2] == "No one"
        assert row[4] == detail


def test_a_dashboard_export_is_about_no_one_with_its_table_and_dates(admin, login):
    term = make_term("Fall 2026", date(2026, 8, 24), date(2026, 12, 18))
    login(admin).get(f"/dashboard/export/weekly.csv?term={term.id}")

    assert stored() == [
        (
            admin.id,
            None,
            "dashboard table exported as CSV",
            "weekly table, 2026-08-24 to 2026-12-18",
        )
    ]
    [row] = audit_table(login(admin))
    assert row[1].startswith("Ada Admin")
    assert row[2:] == [
        "No one",
        "Dashboard table exported as CSV",
        "weekly table, 2026-08-24 to 2026-12-18",
    ]


def test_the_search_finds_rows_about_no_one_by_actor_and_detail(admin, login):
    make_term("Fall 2026", date(2026, 8, 24), date(2026, 12, 18))
    student = make_user("student", name="Sam Student")
    client = login(admin)
    client.get("/dashboard/export/weekly.csv?start=2026-09-01&end=2026-09-30")
    client.post("/admin/invitations", data={"email": "lee@example.edu", "role": "student"})
    client.get(f"/admin/accounts/{student.id}")

    assert [row[3] for row in audit_table(client, what="weekly")] == [
        "Dashboard table exported as CSV"
    ]
    number = db.session.scalar(select(Invitation.id))
    assert len(audit_table(client, what=f"#{number}")) == 1
    assert len(audit_table(client, who="ada")) == 3
    assert [row[3] for row in audit_table(client, whose="ada")] == []
    assert [row[2] for row in audit_table(client, whose="sam")] == [
        f"Sam Student ({student.email})"
    ]


def test_views_show_how_the_viewer_stood_to_the_person(admin, login):
    mentor = make_user("student", name="Morgan Mentor")
    mentoring.set_peer_mentor(mentor.profile, True)
    mentee = make_user("student", name="Sam Mentee")
    mentoring.assign_mentor(mentee.profile, mentor.id)
    db.session.commit()
    login(mentor).get(f"/mentoring/{mentee.id}")
    login(make_user("staff", name="Casey Coordinator")).get(f"/members/{mentee.id}")

    shown = audit_table(login(admin))
    assert [(row[1].split(" (")[0], row[3], row[4]) for row in shown] == [
        ("Casey Coordinator", "Member record", "As program staff"),
        ("Morgan Mentor", "Mentee contact details", "As their peer mentor"),
    ]


def test_rows_written_about_their_actor_before_the_upgrade_read_as_about_no_one(admin, login):
    db.session.add_all(
        [
            AuditEntry(
                actor_id=admin.id,
                subject_id=admin.id,
                action="exported the weekly table as CSV, 2026-08-24 to 2026-12-18",
            ),
            AuditEntry(actor_id=admin.id, subject_id=admin.id, action="invitation #77 sent"),
            AuditEntry(actor_id=admin.id, subject_id=admin.id, action="name changed"),
        ]
    )
    db.session.commit()

    shown = {row[3]: row[2] for row in audit_table(login(admin))}
    assert shown == {
        "Exported the weekly table as CSV, 2026-08-24 to 2026-12-18": "No one",
        "Invitation #77 sent (the address has since been erased)": "No one",
        "Name changed": "Ada Admin (ada@example.edu)",
    }


def test_erasing_people_leaves_the_rows_about_no_one(admin, login, app):
    make_term("Fall 2026", date(2026, 8, 24), date(2026, 12, 18))
    other_admin = make_user("staff", is_admin=True, name="Bo Admin", email="bo@example.edu")
    client = login(other_admin)
    client.get("/dashboard/export/weekly.csv?start=2026-09-01&end=2026-09-30")
    client.post("/admin/invitations", data={"email": "lee@example.edu", "role": "student"})
    invitation = db.session.scalar(select(Invitation))
    number = invitation.id
    accept_invitation(invitation_token(invitation), "Lee Park", "a long test passphrase")
    db.session.commit()
    before = [row[2:] for row in stored()]

    runner = app.test_cli_runner()
    for email in ("bo@example.edu", "lee@example.edu"):
        result = runner.invoke(args=["members", "erase", email, "--yes"])
        assert result.exit_code == 0, result.output

    assert [row[2:] for row in stored()][:2] == before
    shown = audit_table(login(admin), what="")
    about_no_one = [row for row in shown if row[2] == "No one"]
    assert [(row[1], row[3], row[4]) for row in about_no_one] == [
        (
            f"Erased member (Staff, erased-{other_admin.id}@erased.invalid)",
            f"Invitation #{number} sent (the address has since been erased)",
            f"invitation #{number}, student",
        ),
        (
            f"Erased member (Staff, erased-{other_admin.id}@erased.invalid)",
            "Dashboard table exported as CSV",
            "weekly table, 2026-09-01 to 2026-09-30",
        ),
    ]
    page = html.unescape(login(admin).get("/admin/audit").get_data(as_text=True))
    assert "lee@example.edu" not in page and "Lee Park" not in page and "Bo Admin" not in page
