"""Check-in at the door (issue #21), the student's side: the code changes every minute (the
last one taken for a minute more), so a photo forwarded later fails; the QR code opens the
check-in page with the code filled in; a student who is not going checks in as a walk-in
where the event takes walk-ins, and is refused (409) where it does not."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import select

from crp_portal.events import attendance
from crp_portal.events.checkin_codes import (
    CODE_ALPHABET,
    CodeCheck,
    check_code,
    code_for,
    current_code,
    new_checkin_secret,
    window_of,
)
from crp_portal.events.models import Attendance
from crp_portal.events.rsvp import cancel_rsvp, rsvp
from crp_portal.extensions import db
from crp_portal.timeutil import to_local, utcnow
from tests.factories import PASSWORD, code_now, make_event, make_user
from tests.test_events_attendance import attendance_of, check_in, happening, text_of

# A fixed minute: 19:00:00 UTC, the start of a code's window.
SEVEN = datetime(2030, 3, 5, 19, 0, tzinfo=UTC)
EVENT = SimpleNamespace(id=7, checkin_secret="ab" * 32)
CHECKED_IN = "You're checked in. Welcome!"
WALKED_IN = "You're checked in as a walk-in. Welcome!"
EXPIRED = "That code has expired"
OTHER_EVENT = "That code is for another event happening now."
NO_MATCH = "That code does not match."
NO_WALK_INS = "it does not take walk-ins"


def at(seconds: int) -> datetime:
    return SEVEN + timedelta(seconds=seconds)


# The rule, at fixed times ---------------------------------------------------------------


def test_the_code_holds_for_its_minute_and_changes_with_the_next():
    code = current_code(EVENT, at(0))
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert current_code(EVENT, at(59)) == code
    assert current_code(EVENT, at(60)) != code
    assert current_code(EVENT, at(60)) == current_code(EVENT, at(119))


def test_the_last_code_is_taken_for_a_minute_after_it_changes_then_expires():
    shown_at_seven = current_code(EVENT, at(30))
    assert check_code(EVENT, shown_at_seven, at(30)) == CodeCheck.VALID
    assert check_code(EVENT, shown_at_seven, at(60)) == CodeCheck.VALID  # replaced now
    assert check_code(EVENT, shown_at_seven, at(119)) == CodeCheck.VALID  # grace: 60 s
    assert check_code(EVENT, shown_at_seven, at(120)) == CodeCheck.EXPIRED
    assert check_code(EVENT, shown_at_seven, at(3 * 3600)) == CodeCheck.EXPIRED  # a photo


def test_a_code_is_never_taken_before_its_minute():
    next_minute = code_for(EVENT.id, EVENT.checkin_secret, window_of(at(60)))
    assert check_code(EVENT, next_minute, at(59)) == CodeCheck.WRONG


def test_typing_ignores_case_and_spaces():
    code = current_code(EVENT, at(10))
    assert check_code(EVENT, f" {code[:3].lower()} {code[3:]} ", at(20)) == CodeCheck.VALID


def tampered(code: str) -> str:
    other = next(ch for ch in CODE_ALPHABET if ch != code[-1])
    return code[:-1] + other


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(lambda code: tampered(code), id="one character changed"),
        pytest.param(lambda code: code + "A", id="one character too many"),
        pytest.param(lambda code: code[:5], id="one character short"),
        pytest.param(lambda code: "0O1IL5", id="characters no code has"),
        pytest.param(lambda code: "", id="nothing"),
    ],
)
def test_a_tampered_code_is_wrong(given):
    assert check_code(EVENT, given(current_code(EVENT, at(5))), at(5)) == CodeCheck.WRONG


def test_another_events_code_is_not_this_events():
    other = SimpleNamespace(id=8, checkin_secret=new_checkin_secret())
    assert check_code(EVENT, current_code(other, at(5)), at(5)) == CodeCheck.WRONG
    same_secret_other_number = SimpleNamespace(id=8, checkin_secret=EVENT.checkin_secret)
    assert current_code(same_secret_other_number, at(5)) != current_code(EVENT, at(5))


def test_each_event_gets_its_own_secret(ctx):
    first, second = make_event(), make_event()
    assert len(first.checkin_secret) == 64
    assert first.checkin_secret != second.checkin_secret


def test_the_service_applies_the_rule_at_the_time_it_is_given(ctx):
    """The same code, checked by the service at fixed moments of the event."""
    student = make_user("student")
    event = make_event()
    rsvp(event.id, student, utcnow())
    event.starts_at, event.ends_at = SEVEN, SEVEN + timedelta(hours=1)
    db.session.commit()
    shown = current_code(event, at(10 * 60 + 45))  # shown 19:10:45

    with pytest.raises(attendance.WrongCode, match=EXPIRED):
        attendance.self_check_in(event, student, shown, at(12 * 60))  # 19:12:00
    db.session.rollback()
    recorded = attendance.self_check_in(event, student, shown, at(11 * 60 + 59))  # 19:11:59
    assert recorded.source == "self"


# Through the portal ---------------------------------------------------------------------


def going_to_an_event_now(**overrides):
    student = make_user("student")
    event = make_event(**overrides)
    rsvp(event.id, student, utcnow())
    db.session.commit()
    return student, happening(event)


def test_a_code_from_five_minutes_ago_has_expired(ctx, login):
    student, event = going_to_an_event_now()
    photo = code_for(event.id, event.checkin_secret, window_of(utcnow() - timedelta(minutes=5)))

    response = check_in(login(student), event, photo)

    assert response.status_code == 200
    assert EXPIRED in text_of(response)
    assert attendance_of(event) == {}


def test_another_events_code_is_named_as_such(ctx, login):
    student, event = going_to_an_event_now()
    elsewhere = happening(make_event())

    response = check_in(login(student), event, code_now(elsewhere))

    assert OTHER_EVENT in text_of(response)
    assert attendance_of(event) == {} and attendance_of(elsewhere) == {}


def test_a_tampered_code_does_not_match(ctx, login):
    student, event = going_to_an_event_now()

    response = check_in(login(student), event, tampered(code_now(event)))

    assert NO_MATCH in text_of(response)
    assert attendance_of(event) == {}


def test_the_qr_code_opens_the_check_in_page_with_the_code_filled_in(ctx, login):
    student, event = going_to_an_event_now(public_title="Thursday circle")
    client = login(student)
    code = code_now(event)

    page = client.get(f"/events/{event.id}/check-in?code={code}")

    assert page.status_code == 200
    html = text_of(page)
    assert f'value="{code}"' in html
    assert "<title>Check in: Thursday circle" in html  # the tab shows the neutral title
    tapped = client.post(f"/events/{event.id}/check-in", data={"code": code})
    assert tapped.status_code == 302
    assert CHECKED_IN in text_of(client.get(tapped.headers["Location"]))
    assert attendance_of(event) == {student.id: "self"}
    assert "You're checked in." in text_of(client.get(f"/events/{event.id}/check-in"))


def test_a_signed_out_student_signs_in_and_comes_back_to_the_check_in_page(ctx, client):
    student, event = going_to_an_event_now()
    code = code_now(event)
    path = f"/events/{event.id}/check-in?code={code}"

    asked = client.get(path)
    assert asked.status_code == 302
    assert asked.headers["Location"] == f"/sign-in?next={quote(path, safe='')}"
    signed_in = client.post(
        asked.headers["Location"], data={"email": student.email, "password": PASSWORD}
    )

    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == path
    assert f'value="{code}"' in text_of(client.get(path))


def test_the_check_in_page_is_404_for_an_event_the_student_may_not_see(ctx, login):
    applicant = make_user("student", status="applicant")
    event = happening(make_event())  # not open to applicants
    assert login(applicant).get(f"/events/{event.id}/check-in").status_code == 404


# Walk-ins by code -----------------------------------------------------------------------


def event_form(event) -> dict[str, str]:
    """The edit form's fields as the page fills them in."""
    start = to_local(event.starts_at)
    return {
        "kind": event.kind,
        "title": event.title,
        "public_title": event.public_title,
        "description": "",
        "day": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "end_time": to_local(event.ends_at).strftime("%H:%M"),
        "location": event.location or "",
        "house_id": "0",
        "scope": "this",
        "allow_walk_ins": "y",
    }


def student_not_going(event, how: str):
    student = make_user("student")
    if how in ("waitlisted", "cancelled"):
        rsvp(event.id, make_user("student"), utcnow())  # takes the one place
        rsvp(event.id, student, utcnow())
        if how == "cancelled":
            cancel_rsvp(event.id, student, utcnow())
    db.session.commit()
    return student


NOT_GOING = ["no RSVP", "waitlisted", "cancelled"]


@pytest.mark.parametrize("how", NOT_GOING)
def test_a_student_not_going_checks_in_as_a_walk_in_where_walk_ins_are_allowed(ctx, login, how):
    event = make_event(capacity=1)
    student = student_not_going(event, how)
    happening(event)
    client = login(student)
    scanned = text_of(client.get(f"/events/{event.id}/check-in?code={code_now(event)}"))
    assert "you'll be checked in as a walk-in" in scanned

    response = check_in(client, event, code_now(event))

    assert WALKED_IN in text_of(response)
    assert attendance_of(event) == {student.id: "walk_in"}
    [row] = db.session.scalars(select(Attendance).where(Attendance.user_id == student.id))
    assert row.recorded_by_id is None  # by the student's own code, not by staff


@pytest.mark.parametrize("how", NOT_GOING)
def test_a_student_not_going_is_refused_where_the_event_takes_no_walk_ins(ctx, login, how):
    event = make_event(capacity=1, allow_walk_ins=False)
    student = student_not_going(event, how)
    happening(event)
    client = login(student)
    scanned = text_of(client.get(f"/events/{event.id}/check-in?code={code_now(event)}"))
    assert NO_WALK_INS in scanned and "Check in</button>" not in scanned  # told before a tap

    response = check_in(client, event, code_now(event))  # sent anyway: the rule holds

    assert response.status_code == 409
    assert NO_WALK_INS in text_of(response)
    assert attendance_of(event) == {}


def test_a_student_going_checks_in_where_the_event_takes_no_walk_ins(ctx, login):
    student, event = going_to_an_event_now(allow_walk_ins=False)
    assert CHECKED_IN in text_of(check_in(login(student), event, code_now(event)))
    assert attendance_of(event) == {student.id: "self"}


def test_staff_set_walk_ins_on_the_event_form(ctx, login):
    staff = make_user("staff")
    event = make_event(created_by=staff)
    client = login(staff)
    box = re.compile(r'<input [^>]*\bchecked id="allow_walk_ins"')
    assert box.search(text_of(client.get("/events/new")))  # on by default
    assert box.search(text_of(client.get(f"/events/{event.id}/edit")))
    form = {**event_form(event), "allow_walk_ins": ""}
    del form["allow_walk_ins"]  # unticked: the box sends nothing
    saved = client.post(f"/events/{event.id}/edit", data=form)
    assert saved.status_code == 302
    db.session.refresh(event)
    assert event.allow_walk_ins is False
    assert not box.search(text_of(client.get(f"/events/{event.id}/edit")))
