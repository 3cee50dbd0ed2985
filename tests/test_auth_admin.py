"""Admins list, search, edit, deactivate and reactivate accounts."""

from sqlalchemy import select

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.extensions import db
from tests.factories import make_user


def test_account_list_searches_by_name_or_email_and_filters(ctx, login):
    admin = make_user("staff", is_admin=True, name="Morgan Admin")
    make_user("student", name="Kai Nguyen", email="kai@example.edu")
    make_user("advisor", name="Priya Shah", email="pshah@example.edu")
    make_user("student", name="Gone Person", active=False)
    client = login(admin)

    by_name = client.get("/admin/accounts?q=nguy").data
    assert b"Kai Nguyen" in by_name and b"Priya Shah" not in by_name
    by_email = client.get("/admin/accounts?q=pshah@").data
    assert b"Priya Shah" in by_email and b"Kai Nguyen" not in by_email
    advisors = client.get("/admin/accounts?role=advisor").data
    assert b"Priya Shah" in advisors and b"Kai Nguyen" not in advisors
    admins = client.get("/admin/accounts?role=admin").data
    assert b"Morgan Admin" in admins and b"Priya Shah" not in admins
    deactivated = client.get("/admin/accounts?status=deactivated").data
    assert b"Gone Person" in deactivated and b"Kai Nguyen" not in deactivated


def test_search_treats_wildcards_literally_and_survives_junk(ctx, login):
    client = login(make_user("staff", is_admin=True))
    make_user("student", name="Kai Nguyen")
    assert b"Kai Nguyen" not in client.get("/admin/accounts?q=%25").data
    response = client.get("/admin/accounts", query_string={"q": "x" * 5000, "page": "9" * 400})
    assert response.status_code == 200
    assert b"No account matches" in response.data


def test_list_pages_through_many_accounts(ctx, login):
    client = login(make_user("staff", is_admin=True, name="Aaron Admin"))
    for number in range(30):
        make_user("student", name=f"Student {number:02d}")
    first = client.get("/admin/accounts").data
    assert b"Page 1 of 2" in first and b"Student 23" in first and b"Student 29" not in first
    second = client.get("/admin/accounts?page=2").data
    assert b"Student 29" in second


def test_opening_an_account_is_audited(ctx, login):
    admin = make_user("staff", is_admin=True)
    student = make_user("student")
    login(admin).get(f"/admin/accounts/{student.id}")
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.actor_id, entry.subject_id, entry.action) == (admin.id, student.id, "account")


def test_deactivate_stops_sign_in_and_ends_sessions_then_reactivate(ctx, login, app):
    admin = make_user("staff", is_admin=True)
    advisor = make_user("advisor", email="priya@example.edu")
    advisor_client = login(advisor)
    assert advisor_client.get("/account/password").status_code == 200

    response = login(admin).post(f"/admin/accounts/{advisor.id}/deactivate", follow_redirects=True)
    assert b"can no longer sign in" in response.data
    assert advisor_client.get("/account/password").status_code == 302
    fresh = app.test_client()
    attempt = fresh.post(
        "/sign-in", data={"email": "priya@example.edu", "password": "a long test passphrase"}
    )
    assert b"do not match an active account" in attempt.data

    login(admin).post(f"/admin/accounts/{advisor.id}/reactivate")
    again = fresh.post(
        "/sign-in", data={"email": "priya@example.edu", "password": "a long test passphrase"}
    )
    assert again.headers["Location"] == "/"


def test_admin_cannot_deactivate_themselves(ctx, login):
    admin = make_user("staff", is_admin=True)
    response = login(admin).post(f"/admin/accounts/{admin.id}/deactivate")
    assert response.status_code == 409
    assert b"You cannot deactivate your own account." in response.data


def test_the_last_admin_cannot_lose_admin_rights(ctx, login):
    admin = make_user("staff", is_admin=True)
    other_admin = make_user("staff", is_admin=True)
    client = login(admin)
    client.post(f"/admin/accounts/{other_admin.id}/deactivate")
    response = login(other_admin).post(
        f"/admin/accounts/{admin.id}", data={"name": "Still Admin", "role": "staff"}
    )
    # other_admin was signed out by the deactivation; their request is refused.
    assert response.status_code == 302
    own = client.post(f"/admin/accounts/{admin.id}", data={"name": "Me", "role": "staff"})
    assert b"You cannot remove your own admin rights." in own.data
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_admin


def test_editing_role_signs_the_person_out_and_changes_access(ctx, login):
    admin = make_user("staff", is_admin=True)
    student = make_user("student")
    student_client = login(student)
    response = login(admin).post(
        f"/admin/accounts/{student.id}",
        data={"name": "Now Staff", "role": "staff"},
        follow_redirects=True,
    )
    assert b"Saved Now Staff" in response.data
    assert student_client.get("/me/profile").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, student.id).role == "staff"


def test_unknown_account_number_is_a_404_page(ctx, login):
    response = login(make_user("staff", is_admin=True)).get("/admin/accounts/99999")
    assert response.status_code == 404
    assert b"There is no account with that number." in response.data


def test_over_long_name_is_refused_in_place(ctx, login):
    admin = make_user("staff", is_admin=True)
    student = make_user("student", name="Kai Nguyen")
    response = login(admin).post(
        f"/admin/accounts/{student.id}", data={"name": "n" * 300, "role": "student"}
    )
    assert b"Use at most 120 characters." in response.data
    db.session.expire_all()
    assert db.session.get(User, student.id).name == "Kai Nguyen"
