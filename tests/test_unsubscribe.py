"""Anyone holding a nudge's unsubscribe link can stop that category of email, in one click."""

import html
import re

import pytest
from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.members.models import EmailOptOut
from crp_portal.members.services import email_opt_outs
from crp_portal.nudges.unsubscribe import unsubscribe_token, unsubscribe_url
from crp_portal.timeutil import utcnow
from tests.factories import make_user


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def link(user, category="events") -> str:
    return "/" + unsubscribe_url(user.id, category).split("/", 3)[3]


def opt_outs() -> list[tuple[int, str]]:
    return [(row.user_id, row.category) for row in db.session.scalars(select(EmailOptOut))]


def test_signed_out_person_is_asked_then_stopped_from_that_category(ctx, client):
    student = make_user("student")
    asked = client.get(link(student, "events"))
    assert asked.status_code == 200
    assert "Stop emails about this week's meetings and sober events?" in text(asked)
    assert "Stop these emails" in text(asked)
    assert opt_outs() == []  # opening the link changes nothing
    done = client.post(link(student, "events"))
    assert done.status_code == 200
    assert "You will no longer get emails about this week's meetings and sober events." in text(
        done
    )
    assert "/me/profile" in text(done)
    assert email_opt_outs(student) == {"events"}


def test_a_second_click_is_fine_and_keeps_one_row(ctx, client):
    student = make_user("student")
    assert client.post(link(student, "academic")).status_code == 200
    assert client.post(link(student, "academic")).status_code == 200
    assert opt_outs() == [(student.id, "academic")]
    again = client.get(link(student, "academic"))
    assert "You already do not get these emails." in text(again)


def test_other_categories_stay_on(ctx, client):
    student = make_user("student")
    client.post(link(student, "housing"))
    assert email_opt_outs(student) == {"housing"}


def test_the_link_acts_for_its_person_whoever_is_signed_in(ctx, login):
    owner, other = make_user("student"), make_user("student")
    login(other).post(link(owner, "wellbeing"))
    assert opt_outs() == [(owner.id, "wellbeing")]


def test_the_choice_shows_in_the_students_profile(ctx, client, login):
    student = make_user("student")
    client.post(link(student, "events"))
    profile = text(login(student).get("/me/profile"))
    ticked = re.search(r'<input[^>]*value="events"[^>]*>', profile).group(0)
    assert "checked" not in ticked
    assert "checked" in re.search(r'<input[^>]*value="academic"[^>]*>', profile).group(0)


def test_one_click_post_from_a_mail_client_works_without_a_csrf_token(app, ctx, client):
    """RFC 8058: the client POSTs `List-Unsubscribe=One-Click`, with no cookie or token."""
    app.config["WTF_CSRF_ENABLED"] = True
    student = make_user("student")
    refused = client.post("/sign-in", data={"email": student.email, "password": "x"})
    assert refused.status_code == 400  # CSRF is really on for ordinary forms
    response = client.post(
        link(student, "events"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert email_opt_outs(student) == {"events"}


def test_the_pages_button_carries_a_csrf_token_and_works(app, ctx, client):
    app.config["WTF_CSRF_ENABLED"] = True
    student = make_user("student")
    page = text(client.get(link(student, "academic")))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(link(student, "academic"), data={"csrf_token": token}).status_code == 200
    assert email_opt_outs(student) == {"academic"}


def altered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("kind", ["junk", "altered", "unknown category", "not a number"])
def test_a_bad_or_altered_link_is_explained_and_changes_nothing(ctx, client, method, kind):
    student = make_user("student")
    tokens = {
        "junk": "not-a-real-token",
        "altered": altered(unsubscribe_token(student.id, "events")),
        "unknown category": unsubscribe_token(student.id, "transactional"),
        "not a number": unsubscribe_token(str(student.id), "events"),
    }
    response = client.open(f"/unsubscribe/{tokens[kind]}", method=method)
    assert response.status_code == 400
    assert "This unsubscribe link is not valid" in text(response)
    assert opt_outs() == []


def test_a_link_for_an_erased_or_missing_account_does_no_harm(ctx, client):
    student = make_user("student")
    student.erased_at = utcnow()
    db.session.commit()
    for path in (link(student, "events"), f"/unsubscribe/{unsubscribe_token(99999, 'events')}"):
        assert client.get(path).status_code == 200
        assert client.post(path).status_code == 200
    assert opt_outs() == []
