"""A peer mentor who logs a contact with "Referred to staff" ticked puts their mentee in
staff's follow-up queue: one follow-up per student while it is open, saying the student's
peer mentor referred them, and nothing else from the mentor."""

import functools
import html
import re

from sqlalchemy import func, select

from crp_portal.extensions import db
from crp_portal.recovery import follow_ups
from crp_portal.recovery.models import FollowUp, FollowUpNote
from crp_portal.timeutil import format_date, local_today
from tests.factories import make_mentor_and_mentee, make_user
from tests.test_concurrency import run_together

REFERRED = "Referred to staff by the student’s peer mentor"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def contact(*topics: str) -> dict:
    return {
        "contact_date": local_today().isoformat(),
        "mode": "phone",
        "minutes": "35",
        "topics": list(topics),
    }


def queue_rows(client) -> list[str]:
    """The open follow-ups as their rows' visible text."""
    page = text(client.get("/follow-ups/"))
    if "<tbody>" not in page:
        return []
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("</tr>")[:-1]]


def open_follow_ups(student) -> list[FollowUp]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(FollowUp).where(FollowUp.student_id == student.id, FollowUp.status == "open")
        )
    )


def test_a_referral_puts_the_mentee_in_the_staff_queue(ctx, login):
    mentor, mentee = make_mentor_and_mentee()
    response = login(mentor).post(
        f"/mentoring/{mentee.id}", data=contact("wellbeing", "referral"), follow_redirects=True
    )
    assert "The program staff have your referral in their follow-up queue." in text(response)

    staff = login(make_user("staff"))
    [row] = queue_rows(staff)
    assert row.startswith("Sam Mentee")
    [follow_up] = open_follow_ups(mentee)
    page = text(staff.get(f"/follow-ups/{follow_up.id}"))
    assert f"{REFERRED}, after a contact on {format_date(local_today())}." in page
    assert "Morgan Mentor" in page  # who referred, as the note's author


def test_the_follow_up_carries_only_the_referral(ctx, login):
    mentor, mentee = make_mentor_and_mentee()
    login(mentor).post(f"/mentoring/{mentee.id}", data=contact("wellbeing", "referral"))

    [follow_up] = open_follow_ups(mentee)
    [note] = follow_up.notes
    assert note.author_id == mentor.id and note.body.startswith(REFERRED)
    for logged in ("Wellbeing", "Phone", "35"):
        assert logged not in note.body


def test_a_contact_without_a_referral_opens_nothing(ctx, login):
    mentor, mentee = make_mentor_and_mentee()
    response = login(mentor).post(
        f"/mentoring/{mentee.id}", data=contact("wellbeing"), follow_redirects=True
    )
    assert "your referral" not in text(response)
    assert open_follow_ups(mentee) == []
    assert queue_rows(login(make_user("staff"))) == []


def test_an_open_follow_up_gets_the_referral_as_a_note_not_a_twin(ctx, login):
    mentor, mentee = make_mentor_and_mentee()
    staff = make_user("staff")
    already = follow_ups.open_by_staff(mentee, staff, "Missed two groups.")
    db.session.commit()
    client = login(mentor)
    client.post(f"/mentoring/{mentee.id}", data=contact("check_in", "referral"))
    client.post(f"/mentoring/{mentee.id}", data=contact("events", "referral"))

    assert [f.id for f in open_follow_ups(mentee)] == [already.id]
    page = text(login(staff).get(f"/follow-ups/{already.id}"))
    assert "Missed two groups." in page and page.count(REFERRED) == 2
    assert len(queue_rows(login(staff))) == 1


def test_a_referral_after_the_last_follow_up_was_resolved_opens_a_new_one(ctx, login):
    mentor, mentee = make_mentor_and_mentee()
    staff = make_user("staff")
    old = follow_ups.open_by_staff(mentee, staff)
    follow_ups.resolve(old, staff, "Talked it through.")
    db.session.commit()
    login(mentor).post(f"/mentoring/{mentee.id}", data=contact("referral"))

    [new] = open_follow_ups(mentee)
    assert new.id != old.id


def test_two_referrals_at_once_open_one_follow_up(ctx, login):
    for _ in range(3):
        mentor, mentee = make_mentor_and_mentee()
        sends = [
            functools.partial(
                login(mentor).post, f"/mentoring/{mentee.id}", data=contact("referral")
            )
            for _ in range(2)
        ]

        responses = run_together(*sends)

        assert [r.status_code for r in responses] == [302, 302]
        assert len(open_follow_ups(mentee)) == 1
        notes = db.session.scalar(
            select(func.count())
            .select_from(FollowUpNote)
            .join(FollowUp)
            .where(FollowUp.student_id == mentee.id)
        )
        assert notes == 2, "each referral is on the one follow-up"
