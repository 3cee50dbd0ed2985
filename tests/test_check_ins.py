"""The weekly check-in: one per student per week, private by default, and a way to ask
someone from the program to reach out without telling staff the answers."""

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from crp_portal.errors import DomainError
from crp_portal.extensions import db
from crp_portal.recovery.check_ins import (
    Answers,
    recent_check_ins,
    save_check_in,
    this_weeks_check_in,
)
from crp_portal.recovery.models import CheckIn, FollowUp
from crp_portal.timeutil import local_today, utcnow, week_start
from tests.factories import make_user
from tests.test_concurrency import run_together

ANSWERS = {"mood": "2", "stress": "4", "sleep": "3", "note": "Midterms are heavy."}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def make_check_in(student, weeks_ago: int = 0, **values) -> CheckIn:
    """A check-in written directly for the week `weeks_ago` weeks before this one."""
    fields = {"mood": 3, "stress": 3, "sleep": 3, "note": None}
    fields.update(values)
    check_in = CheckIn(
        student_id=student.id,
        week_start=week_start(local_today()) - timedelta(weeks=weeks_ago),
        **fields,
    )
    db.session.add(check_in)
    db.session.commit()
    return check_in


def test_a_student_checks_in_and_a_second_save_that_week_edits_it(ctx, login):
    student = make_user("student")
    client = login(student)
    first = client.post("/me/check-in", data=ANSWERS, follow_redirects=True)
    assert "Your check-in is saved." in text(first)
    assert "Midterms are heavy." in text(first)
    again = client.get("/me/check-in")
    assert "saving again updates it" in text(again)
    assert '<input checked id="mood-1" name="mood" type="radio" value="2">' in text(again)

    client.post("/me/check-in", data={**ANSWERS, "mood": "4", "note": "Better now."})
    [check_in] = db.session.scalars(select(CheckIn)).all()
    assert (check_in.mood, check_in.stress, check_in.sleep) == (4, 4, 3)
    assert check_in.note == "Better now."
    assert check_in.week_start == week_start(local_today())


def test_weeks_start_on_monday(ctx):
    student = make_user("student")
    monday, wednesday, sunday = date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 8)
    assert week_start(wednesday) == week_start(sunday) == monday
    save_check_in(student, Answers(1, 1, 1), monday)
    save_check_in(student, Answers(2, 2, 2), sunday)
    save_check_in(student, Answers(5, 5, 5), sunday + timedelta(days=1))
    db.session.commit()
    assert [(c.week_start, c.mood) for c in recent_check_ins(student.id, 12, sunday + timedelta(days=1))] == [
        (monday, 2),
        (monday + timedelta(weeks=1), 5),
    ]  # fmt: skip
    assert this_weeks_check_in(student.id, wednesday).mood == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mood": "9"}, "Choose a number from 1 to 5 for mood."),
        ({"stress": "0"}, "Choose a number from 1 to 5 for stress."),
        ({"sleep": "lots"}, "Choose a number from 1 to 5 for sleep."),
        ({"mood": ""}, "Choose a number from 1 to 5 for mood."),
        ({"note": "x" * 1001}, "Use at most 1000 characters."),
    ],
)
def test_bad_answers_are_explained_in_place_and_nothing_saved(ctx, login, changes, message):
    client = login(make_user("student"))
    response = client.post("/me/check-in", data={**ANSWERS, **changes})
    assert response.status_code == 200
    assert message in text(response)
    assert "Midterms are heavy." in text(response) or "note" in changes
    assert count(CheckIn) == 0


def test_the_service_refuses_out_of_range_answers_and_other_roles(ctx):
    student = make_user("student")
    with pytest.raises(DomainError, match="from 1 to 5 for mood"):
        save_check_in(student, Answers(9, 3, 3), local_today())
    with pytest.raises(DomainError, match="Only students"):
        save_check_in(make_user("staff"), Answers(3, 3, 3), local_today())


def test_the_student_sees_their_trend_as_a_chart_and_a_table(ctx, login):
    student = make_user("student")
    make_check_in(student, weeks_ago=14, mood=1, note="Long ago")
    make_check_in(student, weeks_ago=3, mood=2)
    make_check_in(student, weeks_ago=1, mood=4, note="Felt steadier")
    page = text(login(student).get("/me/check-in"))
    chart = page[page.index("Your last 12 weeks") : page.index("Past check-ins")]
    assert "<svg" in chart and 'role="img"' in chart and "aria-label=" in chart
    assert "<polyline" in chart
    recent_weeks = [week_start(local_today()) - timedelta(weeks=n) for n in (3, 1)]
    for week in recent_weeks:
        assert f"{week:%a} {week.day} {week:%b %Y}" in chart
    long_ago = week_start(local_today()) - timedelta(weeks=14)
    assert f"{long_ago:%a} {long_ago.day} {long_ago:%b %Y}" not in chart
    history = page[page.index("Past check-ins") :]
    assert "Long ago" in history and "Felt steadier" in history
    assert 'style="' not in page


def test_a_first_check_in_without_history_shows_an_empty_chart_message(ctx, login):
    page = text(login(make_user("student")).get("/me/check-in"))
    assert "No check-ins in these weeks." in page
    assert "Your answers are private unless you share check-ins with staff" in page


def test_a_note_removed_after_retention_says_so(ctx, login):
    student = make_user("student")
    make_check_in(student, weeks_ago=30, note=None, note_removed_at=utcnow())
    assert "Note removed after the retention period" in text(login(student).get("/me/check-in"))


def test_asking_for_outreach_opens_one_follow_up_and_emails_staff_nothing_private(ctx, login, smtp):
    make_user("staff", email="coordinator@example.edu")
    make_user("staff", email="supervisor@example.edu")
    make_user("staff", email="gone@example.edu", active=False)
    student = make_user("student", name="Kai Nguyen", email="kai@example.edu")
    client = login(student)
    note = "I slipped on Saturday and feel awful."
    saved = client.post(
        "/me/check-in", data={**ANSWERS, "note": note, "wants_outreach": "y"}, follow_redirects=True
    )
    assert "Staff will reach out." in text(saved)
    [follow_up] = db.session.scalars(select(FollowUp)).all()
    assert (follow_up.reason, follow_up.student_id) == ("reach_out", student.id)
    assert follow_up.check_in_id == db.session.scalar(select(CheckIn.id))

    assert sorted(m["To"] for m in smtp.messages) == [
        "coordinator@example.edu",
        "supervisor@example.edu",
    ]
    for message in smtp.messages:
        assert message["Subject"] == "A student asked for someone to reach out"
        body = smtp.text_of(message)
        assert f"http://portal.test/follow-ups/{follow_up.id}" in body
        whole = message.as_string()
        for private in ("Kai", "Nguyen", "kai@example.edu", "slipped", "Midterms", "Mood"):
            assert private not in whole
    assert smtp.to("kai@example.edu") == []

    client.post("/me/check-in", data={**ANSWERS, "wants_outreach": "y", "note": "Still here"})
    client.post("/me/check-in", data=ANSWERS)  # unticking leaves the follow-up for staff
    assert count(FollowUp) == 1
    assert len(smtp.messages) == 2
    assert db.session.get(FollowUp, follow_up.id).status == "open"


def test_asking_again_after_staff_resolved_it_reopens_the_follow_up(ctx, login, smtp):
    make_user("staff", email="coordinator@example.edu")
    student = make_user("student")
    client = login(student)
    client.post("/me/check-in", data={**ANSWERS, "wants_outreach": "y"})
    follow_up = db.session.scalar(select(FollowUp))
    follow_up.status = "resolved"
    db.session.commit()
    client.post("/me/check-in", data={**ANSWERS, "wants_outreach": "y"})
    assert db.session.get(FollowUp, follow_up.id).status == "resolved", "no new ask, no change"
    client.post("/me/check-in", data=ANSWERS)
    client.post("/me/check-in", data={**ANSWERS, "wants_outreach": "y"})
    db.session.expire_all()
    assert db.session.get(FollowUp, follow_up.id).status == "open"
    assert count(FollowUp) == 1
    assert len(smtp.to("coordinator@example.edu")) == 2


def test_staff_and_advisors_do_not_check_in(ctx, login):
    for role in ("staff", "advisor"):
        assert login(make_user(role)).get("/me/check-in").status_code == 403
    assert login(make_user("student")).get("/me/check-in").status_code == 200


def test_two_first_check_ins_at_once_end_with_one_row_and_no_error(ctx, login):
    student = make_user("student")
    make_user("staff")
    clients = [login(student), login(student)]

    def check_in(client, mood):
        return lambda: client.post(
            "/me/check-in", data={**ANSWERS, "mood": mood, "wants_outreach": "y"}
        )

    responses = run_together(check_in(clients[0], "1"), check_in(clients[1], "5"))
    assert [r.status_code for r in responses] == [302, 302]
    [saved] = db.session.scalars(select(CheckIn)).all()
    assert saved.mood in (1, 5)
    assert count(FollowUp) == 1
