"""Every admin action (account changes, invitations, roster imports, erasure) and every
CSV export is on the audit trail, and admins read it in words on /admin/audit."""

import html
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import Invitation, User
from crp_portal.auth.services import accept_invitation, invitation_token
from crp_portal.extensions import db
from crp_portal.sso.models import SsoIdentity
from tests.factories import make_term, make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def audit_rows(client, **query) -> list[list[str]]:
    """The admin's audit table as the cells' visible text, newest first."""
    page = text(client.get("/admin/audit", query_string=query))
    assert "<tbody>" in page, "the audit page shows no table"
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def entries() -> list[tuple[int | None, int | None, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(AuditEntry.actor_id, AuditEntry.subject_id, AuditEntry.action).order_by(
            AuditEntry.id
        )
    )
    return [tuple(row) for row in rows]


@pytest.fixture
def admin(ctx):
    return make_user("staff", is_admin=True, name="Ada Admin", email="ada@example.edu")


def test_role_admin_rights_and_name_changes_are_each_audited(admin, login):
    person = make_user("student", name="Sam Rivera")
    client = login(admin)
    client.post(f"/admin/accounts/{person.id}", data={"name": "Sam Rivera", "role": "staff"})
    client.post(
        f"/admin/accounts/{person.id}",
        data={"name": "Samuel Rivera", "role": "staff", "is_admin": "y"},
    )
    client.post(f"/admin/accounts/{person.id}", data={"name": "Samuel Rivera", "role": "advisor"})

    assert entries() == [
        (admin.id, person.id, "role changed from student to staff"),
        (admin.id, person.id, "name changed"),
        (admin.id, person.id, "admin rights given"),
        (admin.id, person.id, "role changed from staff to advisor"),
        (admin.id, person.id, "admin rights removed"),
    ]
    shown = audit_rows(client, whose="samuel")
    assert [row[3] for row in shown] == [
        "Admin rights removed",
        "Role changed from staff to advisor",
        "Admin rights given",
        "Name changed",
        "Role changed from student to staff",
    ]
    assert all(row[1].startswith("Ada Admin") for row in shown)
    assert {row[2] for row in shown} == {f"Samuel Rivera ({person.email})"}


def test_saving_an_account_unchanged_writes_no_action(admin, login):
    person = make_user("advisor", name="Priya Shah")
    login(admin).post(
        f"/admin/accounts/{person.id}", data={"name": "Priya Shah", "role": "advisor"}
    )
    assert entries() == []


def test_a_refused_change_leaves_no_row(admin, login):
    response = login(admin).post(
        f"/admin/accounts/{admin.id}", data={"name": "Ada", "role": "staff"}
    )
    assert "You cannot remove your own admin rights." in text(response)
    assert entries() == []


def test_deactivation_and_reactivation_are_audited_once_each(admin, login):
    person = make_user("advisor", name="Priya Shah")
    client = login(admin)
    client.post(f"/admin/accounts/{person.id}/deactivate")
    client.post(f"/admin/accounts/{person.id}/deactivate")  # already off: nothing happens
    client.post(f"/admin/accounts/{person.id}/reactivate")
    client.post(f"/admin/accounts/{person.id}/reactivate")

    assert entries() == [
        (admin.id, person.id, "account deactivated"),
        (admin.id, person.id, "account reactivated"),
    ]
    what = [row[3] for row in audit_rows(client, whose="priya")]
    assert what == ["Account reactivated", "Account deactivated"]


def test_invitations_are_audited_without_the_address_in_the_row(admin, login):
    client = login(admin)
    client.post(
        "/admin/invitations", data={"email": "lee@example.edu", "role": "staff", "is_admin": "y"}
    )
    invitation = db.session.scalar(select(Invitation))
    client.post(f"/admin/invitations/{invitation.id}/resend")
    client.post(f"/admin/invitations/{invitation.id}/revoke")

    assert entries() == [
        (admin.id, None, "invitation sent"),
        (admin.id, None, "invitation resent"),
        (admin.id, None, "invitation withdrawn"),
    ]
    shown = audit_rows(client, what="invitation")
    assert [row[3] for row in shown] == [
        "Withdrew the invitation to lee@example.edu",
        "Sent lee@example.edu a new invitation link",
        "Invited lee@example.edu as staff with admin rights",
    ]
    assert {row[2] for row in shown} == {"No one"}
    assert {row[4] for row in shown} == {f"invitation #{invitation.id}, staff with admin rights"}


def test_a_roster_import_audits_each_account_it_creates(admin, login):
    roster = (
        "email,name,role,student_id\n"
        "jamie@example.edu,Jamie Rivera,student,S100\n"
        "Kai@Example.edu,Kai Nguyen,advisor,\n"
    )
    client = login(admin)
    response = client.post(
        "/admin/import",
        data={"roster": (io.BytesIO(roster.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    created = {
        user.email: user.id for user in db.session.scalars(select(User).where(User.id != admin.id))
    }
    assert sorted(entries()) == sorted(
        (admin.id, uid, "account created by roster import") for uid in created.values()
    )
    shown = audit_rows(client, what="roster")
    assert sorted(row[2] for row in shown) == [
        "Jamie Rivera (jamie@example.edu)",
        "Kai Nguyen (kai@example.edu)",
    ]
    assert {row[3] for row in shown} == {"Account created by roster import"}


def test_a_refused_roster_import_writes_nothing(admin, login):
    roster = "email,name,role,student_id\nnot-an-address,Jamie Rivera,student,\n"
    login(admin).post(
        "/admin/import",
        data={"roster": (io.BytesIO(roster.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )
    assert entries() == []


def test_erasure_is_audited_and_leaves_no_name_or_address_behind(admin, login, app):
    person = make_user("student", name="Jamie Rivera", email="jamie@example.edu")
    client = login(admin)
    client.post(f"/admin/accounts/{person.id}/deactivate", follow_redirects=True)
    result = app.test_cli_runner().invoke(args=["members", "erase", "jamie@example.edu", "--yes"])
    assert result.exit_code == 0, result.output

    assert entries() == [
        (admin.id, person.id, "account deactivated"),
        (admin.id, person.id, "account"),  # the account page the admin was sent back to
        (None, person.id, "erased on request"),
    ]
    page = text(client.get("/admin/audit"))
    assert "Jamie" not in page and "jamie@" not in page
    newest = audit_rows(client)[0]
    assert newest[1] == "The command line (flask members erase)"
    assert newest[2].startswith("Erased member")
    assert newest[3] == "Erased on request"


def test_an_erased_invitees_address_is_gone_from_the_trail(admin, login, app):
    client = login(admin)
    client.post("/admin/invitations", data={"email": "lee@example.edu", "role": "student"})
    invitation = db.session.scalar(select(Invitation))
    number = invitation.id
    accept_invitation(invitation_token(invitation), "Lee Park", "a long test passphrase")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["members", "erase", "lee@example.edu", "--yes"])
    assert result.exit_code == 0, result.output

    shown = audit_rows(client, what="invitation")
    assert [row[3] for row in shown] == [
        f"Invitation #{number} sent (the address has since been erased)"
    ]
    page = text(client.get("/admin/audit"))
    assert "lee@example.edu" not in page and "Lee Park" not in page


def test_an_erased_account_cannot_be_reactivated(admin, login, app):
    make_user("student", email="jamie@example.edu")
    app.test_cli_runner().invoke(args=["members", "erase", "jamie@example.edu", "--yes"])
    erased = db.session.scalar(select(User).where(User.erased_at.is_not(None)))
    response = login(admin).post(f"/admin/accounts/{erased.id}/reactivate")
    assert response.status_code == 409
    assert "cannot come back" in text(response)
    db.session.expire_all()
    assert not db.session.get(User, erased.id).active


def test_each_csv_export_is_audited_before_the_file_leaves(admin, login):
    term = make_term("Fall 2026", date(2026, 8, 24), date(2026, 12, 18))
    staff = make_user("staff", name="Casey Coordinator")
    client = login(staff)
    response = client.get(f"/dashboard/export/weekly.csv?term={term.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    client.get("/dashboard/export/events_by_kind.csv?start=2026-09-01&end=2026-09-30")

    assert entries() == [
        (staff.id, None, "dashboard table exported as CSV"),
        (staff.id, None, "dashboard table exported as CSV"),
    ]
    shown = audit_rows(login(admin), what="exported")
    assert shown[0][1].startswith("Casey Coordinator")
    assert shown[0][2] == "No one"
    assert shown[0][3] == "Dashboard table exported as CSV"
    assert shown[0][4] == "events by kind table, 2026-09-01 to 2026-09-30"
    assert shown[1][4] == "weekly table, 2026-08-24 to 2026-12-18"


def test_a_refused_export_is_not_audited(admin, login):
    client = login(make_user("staff"))
    assert (
        client.get("/dashboard/export/weekly.csv?start=2026-09-30&end=2026-09-01").status_code
        == 400
    )
    assert client.get("/dashboard/export/nonsense.csv").status_code == 404
    assert entries() == []


def test_unlinking_a_campus_identity_is_audited_in_words(admin, login):
    person = make_user("student", name="Sam Rivera")
    identity = SsoIdentity(
        user_id=person.id, protocol="oidc", issuer="https://login.example.edu", subject="x1"
    )
    db.session.add(identity)
    db.session.commit()
    client = login(admin)
    client.post(f"/admin/accounts/{person.id}/campus-sign-in/{identity.id}/unlink")
    assert entries()[-1] == (admin.id, person.id, "campus sign-on unlinked (oidc)")
    assert "Campus sign-on unlinked (oidc)" in audit_rows(client)[0]


def test_every_admin_action_route_is_covered_here(app):
    """A new admin POST route must be audited and added to this file's tests."""
    covered = {
        "auth.account",
        "auth.deactivate",
        "auth.reactivate",
        "auth.invitations",
        "auth.resend_invitation",
        "auth.revoke_invitation",
        "auth.import_roster",
        "sso.unlink",
    }
    admin_posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin/") and "POST" in (rule.methods or ())
    }
    assert admin_posts == covered
