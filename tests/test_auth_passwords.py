"""Password reset by email (through a real SMTP server) and password change."""

import re

from crp_portal.extensions import db
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "a brand new passphrase"
SAME_ANSWER = b"If an account uses that address, we have emailed it a link"


def link_path(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    url = re.search(r"https?://\S+", body).group(0)
    return url.split("portal.test", 1)[1]


def request_reset(client, email):
    return client.post("/reset-password", data={"email": email}, follow_redirects=True)


def set_new_password(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def test_reset_email_arrives_and_its_link_sets_a_new_password(client, ctx, smtp):
    make_user("student", email="kai@example.edu")
    response = request_reset(client, "kai@example.edu")
    assert SAME_ANSWER in response.data

    [message] = smtp.to("kai@example.edu")
    assert message["Subject"] == "Reset your Student Portal password"
    assert "60 minutes" in smtp.text_of(message)
    path = link_path(message)
    assert client.get(path).status_code == 200

    done = set_new_password(client, path)
    assert done.headers["Location"] == "/sign-in"
    signed_in = client.post("/sign-in", data={"email": "kai@example.edu", "password": NEW_PASSWORD})
    assert signed_in.headers["Location"] == "/"


def test_reset_link_works_only_once(client, ctx, smtp):
    make_user("student", email="kai@example.edu")
    request_reset(client, "kai@example.edu")
    path = link_path(smtp.to("kai@example.edu")[0])
    set_new_password(client, path)

    reused = client.get(path)
    assert reused.status_code == 400
    assert b"expired or has already been used" in reused.data
    again = set_new_password(client, path, "yet another passphrase")
    assert again.status_code == 400
    assert (
        client.post(
            "/sign-in", data={"email": "kai@example.edu", "password": NEW_PASSWORD}
        ).headers["Location"]
        == "/"
    )


def test_expired_reset_link_is_refused(app, client, ctx, smtp):
    make_user("student", email="kai@example.edu")
    request_reset(client, "kai@example.edu")
    path = link_path(smtp.to("kai@example.edu")[0])
    app.config["CRP_RESET_TOKEN_MAX_AGE"] = -1
    response = client.get(path)
    assert response.status_code == 400
    assert b"expired" in response.data


def test_tampered_reset_link_is_refused(client, ctx):
    response = client.get("/reset-password/not-a-real-token")
    assert response.status_code == 400
    assert b"This link no longer works" in response.data


def test_unknown_or_deactivated_email_gets_same_answer_and_no_mail(client, ctx, smtp):
    make_user("student", email="gone@example.edu", active=False)
    assert SAME_ANSWER in request_reset(client, "nobody@example.edu").data
    assert SAME_ANSWER in request_reset(client, "gone@example.edu").data
    assert smtp.messages == []


def test_reset_signs_out_other_sessions(app, ctx, smtp, login):
    user = make_user("student", email="kai@example.edu")
    elsewhere = login(user)
    assert elsewhere.get("/me/profile").status_code == 200
    client = app.test_client()
    request_reset(client, "kai@example.edu")
    set_new_password(client, link_path(smtp.to("kai@example.edu")[0]))
    assert elsewhere.get("/me/profile").status_code == 302


def test_short_or_mismatched_new_password_is_explained(client, ctx, smtp):
    make_user("student", email="kai@example.edu")
    request_reset(client, "kai@example.edu")
    path = link_path(smtp.to("kai@example.edu")[0])
    short = set_new_password(client, path, "too short")
    assert b"Use at least 12 characters" in short.data
    mismatch = set_new_password(client, path, NEW_PASSWORD, "something different")
    assert b"The two passwords do not match." in mismatch.data
    assert client.get(path).status_code == 200  # link still usable: nothing was changed


def test_change_password_needs_the_current_one(ctx, login):
    user = make_user("advisor", email="priya@example.edu")
    client = login(user)
    wrong = client.post(
        "/account/password",
        data={"current_password": "wrong", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert b"Your current password is not right." in wrong.data
    db.session.refresh(user)
    assert user.session_version == 1


def test_change_password_keeps_this_session_and_ends_the_others(app, ctx, login):
    user = make_user("advisor", email="priya@example.edu")
    this_device, other_device = login(user), login(user)
    response = this_device.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert b"Your password is changed" in response.data
    assert this_device.get("/account/password").status_code == 200
    assert other_device.get("/account/password").status_code == 302


def test_mail_is_not_sent_when_the_change_rolls_back(app, ctx, smtp):
    from crp_portal.auth.services import find_user_by_email, request_password_reset

    make_user("student", email="kai@example.edu")
    with app.test_request_context():
        request_password_reset("kai@example.edu")
        db.session.rollback()
        db.session.commit()
    assert smtp.messages == []
    with app.test_request_context():
        request_password_reset("kai@example.edu")
        db.session.commit()
    assert len(smtp.to("kai@example.edu")) == 1
    assert find_user_by_email("KAI@example.edu") is not None


def test_without_smtp_server_the_reset_link_is_printed_to_the_log(app, client, ctx, caplog):
    make_user("student", email="kai@example.edu")
    request_reset(client, "kai@example.edu")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert "Outbox worker stopped. Sent 1" in result.output
    logged = [r.getMessage() for r in caplog.records if "Mail not sent" in r.getMessage()]
    assert len(logged) == 1
    assert "kai@example.edu" in logged[0] and "/reset-password/" in logged[0]
