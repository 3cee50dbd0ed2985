"""CSV roster import: all rows or none, every bad row reported by line."""

import io

from sqlalchemy import func, select

from crp_portal.auth.models import User
from crp_portal.extensions import db
from tests.factories import make_user

GOOD = (
    "email,name,role,student_id\n"
    "jamie@example.edu,Jamie Rivera,student,S100\n"
    "Ada.Okoye@example.edu,Ada Okoye,advisor,\n"
    "lee@example.edu,Lee Park,STAFF,\n"
)


def upload(client, content, send_welcome=True, filename="roster.csv"):
    raw = content.encode() if isinstance(content, str) else content
    data = {"roster": (io.BytesIO(raw), filename)}
    if send_welcome:
        data["send_welcome"] = "y"
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


def account_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_good_roster_creates_accounts_and_profiles_and_emails_each(ctx, login, smtp):
    client = login(make_user("staff", is_admin=True))
    response = upload(client, GOOD)
    assert response.headers["Location"] == "/admin/accounts"
    assert b"Imported 3 accounts." in client.get("/admin/accounts").data
    jamie = db.session.scalar(select(User).where(User.email == "jamie@example.edu"))
    assert jamie.role == "student" and jamie.profile.student_id == "S100"
    ada = db.session.scalar(select(User).where(User.email == "ada.okoye@example.edu"))
    assert ada.role == "advisor" and ada.profile is None
    assert {m["To"] for m in smtp.messages} == {
        "jamie@example.edu",
        "ada.okoye@example.edu",
        "lee@example.edu",
    }
    assert "is ready for you" in smtp.text_of(smtp.messages[0])


def test_welcome_link_lets_the_person_choose_a_password(ctx, login, client, smtp):
    upload(login(make_user("staff", is_admin=True)), GOOD)
    body = smtp.text_of(smtp.to("jamie@example.edu")[0])
    path = body.split("http://portal.test", 1)[1].split()[0]
    client.post(path, data={"password": "jamie's passphrase", "confirm": "jamie's passphrase"})
    signed_in = client.post(
        "/sign-in", data={"email": "jamie@example.edu", "password": "jamie's passphrase"}
    )
    assert signed_in.headers["Location"] == "/"


def test_without_welcome_no_mail_is_sent(ctx, login, smtp):
    upload(login(make_user("staff", is_admin=True)), GOOD, send_welcome=False)
    assert account_count() == 4
    assert smtp.messages == []


def test_bad_rows_are_listed_by_line_and_nothing_is_imported(ctx, login, smtp):
    make_user("student", email="taken@example.edu", student_id="S777")
    client = login(make_user("staff", is_admin=True))
    before = account_count()
    roster = (
        "email,name,role,student_id\n"
        "ok@example.edu,Okay Person,student,S1\n"
        "not-an-email,Bad Email,student,\n"
        "x@example.edu,,wizard,\n"
        "ok@example.edu,Twice Listed,student,S2\n"
        "taken@example.edu,Already Here,student,\n"
        "new@example.edu,Id Clash,student,S777\n"
        "adv@example.edu,Advisor With Id,advisor,S9\n"
    )
    response = upload(client, roster)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Nothing was imported" in text
    assert "Line 3: “not-an-email” is not an email address." in text
    assert "Line 4: name is empty; role must be student, advisor or staff (not “wizard”)." in text
    assert "Line 5: ok@example.edu already appears on line 2." in text
    assert "Line 6: taken@example.edu already has an account." in text
    assert "Line 7: student id S777 already belongs to a member." in text
    assert "Line 8: only students have a student id." in text
    assert text.index("Line 3") < text.index("Line 8")
    assert account_count() == before
    assert smtp.messages == []


def test_missing_columns_are_named(ctx, login):
    response = upload(login(make_user("staff", is_admin=True)), "email,name\na@example.edu,A\n")
    assert b"missing: role, student_id" in response.data


def test_not_utf8_empty_and_header_only_files_are_explained(ctx, login):
    client = login(make_user("staff", is_admin=True))
    assert (
        b"not UTF-8 text"
        in upload(client, b"email,name,role,student_id\n" + b"\xff\xfe\x00bad").data
    )
    assert b"The file is empty." in upload(client, b"").data
    assert b"header but no people" in upload(client, "email,name,role,student_id\n").data


def test_spreadsheet_exports_with_bom_and_blank_lines_import(ctx, login):
    client = login(make_user("staff", is_admin=True))
    roster = "\ufeffEmail,Name,Role,Student ID\r\n\r\nkim@example.edu,Kim Lee,student,S5\r\n"
    assert upload(client, roster, send_welcome=False).status_code == 302
    kim = db.session.scalar(select(User).where(User.email == "kim@example.edu"))
    assert kim.profile.student_id == "S5"


def test_non_csv_file_is_refused(ctx, login):
    response = upload(login(make_user("staff", is_admin=True)), GOOD, filename="roster.xlsx")
    assert b"The roster must be a .csv file." in response.data


def test_a_failure_midway_leaves_no_accounts_and_sends_no_mail(app, ctx, login, smtp, monkeypatch):
    from crp_portal.auth import roster

    app.config["PROPAGATE_EXCEPTIONS"] = False
    sent = []

    def fail_on_second(user, **kwargs):
        sent.append(user.email)
        if len(sent) == 2:
            raise RuntimeError("mail template broke")
        return original(user, **kwargs)

    original = roster.send_password_link
    monkeypatch.setattr(roster, "send_password_link", fail_on_second)
    client = login(make_user("staff", is_admin=True))
    before = account_count()
    response = upload(client, GOOD)
    assert response.status_code == 500
    assert account_count() == before
    assert smtp.messages == []
