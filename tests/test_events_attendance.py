"""Who came: students check in with the code shown at the event; staff tick the roster,
add walk-ins, or count heads at meetings that keep no names, once the event has started."""

import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from crp_portal.events.models import Attendance
from crp_portal.events.rsvp import rsvp
from crp_portal.events.services import cancel_event
from crp_portal.extensions import db
from crp_portal.timeutil import utcnow
from tests.factories import code_now, make_event, make_user

CHECKED_IN = "You're checked in. Welcome!"
NO_MATCH = "That code does not match"
WINDOW = "Check-in is open from 15 minutes before the event starts until it ends."
THROTTLED = "Too many wrong codes"
NOT_ON_ROSTER = "Someone marked present is not on this event's roster."
NO_STUDENT = "There is no student with that number."
WHOLE_NUMBER = "Enter a whole number from 0 to 10000."
NOT_YET = "Attendance opens when the event starts"


def text_of(response) -> str:
    """The page as a person reads it: entities such as &#39; turned back into characters."""
    return html.unescape(response.get_data(as_text=True))


def happening(event, starts_in=timedelta(minutes=10), lasts=timedelta(hours=1)):
    """Move the event so it starts `starts_in` from now (negative: it has begun)."""
    event.starts_at = utcnow() + starts_in
    event.ends_at = event.starts_at + lasts
    db.session.commit()
    return event


def started(event):
    """Move the event (RSVPs taken) so it began five minutes ago: attendance is open."""
    return happening(event, starts_in=timedelta(minutes=-5))


def going(event, *students) -> None:
    for student in students:
        rsvp(event.id, student, utcnow())
    db.session.commit()


def check_in(client, event, code: str):
    return client.post(f"/events/{event.id}/check-in", data={"code": code}, follow_redirects=True)


def attendance_of(event) -> dict[int, str]:
    """Who is recorded as present, and how: {user id: "self" | "roster" | "walk_in"}."""
    rows = db.session.scalars(select(Attendance).where(Attendance.event_id == event.id))
    return {row.user_id: row.source for row in rows}


def roster_page(client, event, query: str | None = None):
    response = client.get(
        f"/events/{event.id}/attendance", query_string={"q": query} if query else None
    )
    assert response.status_code == 200
    return response


def roster_form(page: str) -> dict[str, list[str]]:
    """What the roster form sends besides the ticks: whom it showed, and whom as present."""
    return {
        name: re.findall(rf'<input type="hidden" name="{name}" value="(\d+)">', page)
        for name in ("shown", "was_present")
    }


def save_roster(client, event, present):
    """Open the roster, tick exactly `present`, and save, as staff do in the browser."""
    form = roster_form(text_of(roster_page(client, event)))
    return client.post(
        f"/events/{event.id}/attendance",
        data={**form, "present": [str(value) for value in present]},
        follow_redirects=True,
    )


def ticked(page: str, user) -> bool:
    """Whether the roster shows the person's "Present" box ticked."""
    box = re.search(rf'id="present-{user.id}"( checked)?>', page)
    assert box, f"{user.name} is not on the roster"
    return bool(box.group(1))


# Self check-in -------------------------------------------------------------------------


def test_student_checks_in_with_the_code_shown_at_the_event(ctx, login):
    student = make_user("student")
    event = make_event()
    going(event, student)
    happening(event)
    code = code_now(event)

    response = check_in(login(student), event, f"  {code.lower()} ")

    assert response.status_code == 200
    assert CHECKED_IN in text_of(response)
    assert attendance_of(event) == {student.id: "self"}


@pytest.mark.parametrize(
    ("starts_in", "lasts"),
    [(timedelta(minutes=14), timedelta(hours=1)), (timedelta(minutes=-50), timedelta(hours=1))],
    ids=["14 minutes before the start", "near the end"],
)
def test_check_in_is_open_from_15_minutes_before_until_the_end(ctx, login, starts_in, lasts):
    student = make_user("student")
    event = make_event()
    going(event, student)
    happening(event, starts_in, lasts)
    response = check_in(login(student), event, code_now(event))
    assert CHECKED_IN in text_of(response)
    assert attendance_of(event) == {student.id: "self"}


def test_checking_in_twice_keeps_one_attendance(ctx, login):
    student = make_user("student")
    event = make_event()
    going(event, student)
    happening(event)
    client = login(student)

    check_in(client, event, code_now(event))
    again = check_in(client, event, code_now(event))

    assert CHECKED_IN in text_of(again)
    assert attendance_of(event) == {student.id: "self"}


def test_double_tapped_check_in_keeps_one_attendance_and_no_error(ctx, login):
    """Phones on campus Wi-Fi send the form twice; both taps must end "checked in"."""
    students = [make_user("student") for _ in range(4)]
    event = make_event()
    going(event, *students)
    happening(event)
    path, code = f"/events/{event.id}/check-in", code_now(event)
    taps = [login(student) for student in students for _ in range(2)]
    db.session.commit()
    barrier = threading.Barrier(len(taps))
    answers = [None] * len(taps)

    def tap(index):
        barrier.wait()
        answers[index] = taps[index].post(path, data={"code": code}).status_code

    threads = [threading.Thread(target=tap, args=(index,)) for index in range(len(taps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [302] * len(taps)
    assert attendance_of(event) == {student.id: "self" for student in students}


def test_wrong_code_is_explained_and_records_nothing(ctx, login):
    student = make_user("student")
    event = happening(make_event())
    wrong = "QQQQQQ" if code_now(event) != "QQQQQQ" else "WWWWWW"

    response = check_in(login(student), event, wrong)

    assert response.status_code == 200
    assert NO_MATCH in text_of(response)
    assert CHECKED_IN not in text_of(response)
    assert attendance_of(event) == {}


@pytest.mark.parametrize(
    ("starts_in", "lasts"),
    [(timedelta(minutes=20), timedelta(hours=1)), (timedelta(hours=-2), timedelta(hours=1))],
    ids=["20 minutes before the start", "after the end"],
)
def test_check_in_outside_the_window_is_explained(ctx, login, starts_in, lasts):
    student = make_user("student")
    event = happening(make_event(), starts_in, lasts)

    response = check_in(login(student), event, code_now(event))

    assert WINDOW in text_of(response)
    assert CHECKED_IN not in text_of(response)
    assert attendance_of(event) == {}


def test_cancelled_event_takes_no_check_in(ctx, login):
    student = make_user("student")
    event = happening(make_event())
    cancel_event(event)
    db.session.commit()

    response = check_in(login(student), event, code_now(event))

    assert response.status_code == 409
    assert "This event is cancelled." in text_of(response)
    assert attendance_of(event) == {}


def test_headcount_only_meeting_takes_no_check_in(ctx, login):
    student = make_user("student")
    event = happening(make_event(headcount_only=True))

    response = check_in(login(student), event, code_now(event))

    assert response.status_code == 409
    assert "This meeting keeps no names" in text_of(response)
    assert attendance_of(event) == {}


def test_sixth_wrong_code_in_ten_minutes_is_refused_for_that_person_and_event(ctx, login):
    student, classmate = make_user("student"), make_user("student")
    event, other_event = make_event(), make_event()
    going(event, student, classmate)
    going(other_event, student)
    happening(event), happening(other_event)
    wrong = "QQQQQQ" if code_now(event) != "QQQQQQ" else "WWWWWW"
    client = login(student)

    for _ in range(5):
        assert NO_MATCH in text_of(check_in(client, event, wrong))
    sixth = check_in(client, event, wrong)
    assert sixth.status_code == 429
    assert THROTTLED in text_of(sixth)
    right_code_now = check_in(client, event, code_now(event))
    assert right_code_now.status_code == 429
    assert attendance_of(event) == {}

    assert CHECKED_IN in text_of(check_in(login(classmate), event, code_now(event)))
    assert CHECKED_IN in text_of(check_in(client, other_event, code_now(other_event)))
    assert attendance_of(event) == {classmate.id: "self"}
    assert attendance_of(other_event) == {student.id: "self"}


def test_right_codes_are_never_throttled(ctx, login):
    student = make_user("student")
    event = make_event()
    going(event, student)
    happening(event)
    client = login(student)
    for _ in range(7):
        assert CHECKED_IN in text_of(check_in(client, event, code_now(event)))
    assert attendance_of(event) == {student.id: "self"}


@pytest.mark.parametrize("role", ["staff", "advisor"])
def test_staff_and_advisors_cannot_use_the_student_check_in(ctx, login, role):
    event = happening(make_event())
    response = check_in(login(make_user(role)), event, code_now(event))
    assert response.status_code == 403
    assert attendance_of(event) == {}


# Staff roster --------------------------------------------------------------------------


def test_staff_mark_exactly_the_ticked_people_present(ctx, login):
    staff = make_user("staff")
    event = make_event(created_by=staff)
    ana, ben, cam = make_user("student"), make_user("student"), make_user("student")
    going(event, ana, ben, cam)
    started(event)
    client = login(staff)

    first = save_roster(client, event, [ana.id, ben.id])
    assert "Attendance saved: 2 present." in text_of(first)
    assert [ticked(text_of(first), person) for person in (ana, ben, cam)] == [True, True, False]

    second = save_roster(client, event, [ben.id, cam.id])
    page = text_of(second)
    assert "Attendance saved: 2 present." in page
    assert "2 present so far" in page
    assert [ticked(page, person) for person in (ana, ben, cam)] == [False, True, True]
    assert attendance_of(event) == {ben.id: "roster", cam.id: "roster"}

    nobody = save_roster(client, event, [])
    assert "Attendance saved: 0 present." in text_of(nobody)
    assert attendance_of(event) == {}


def test_ticking_keeps_a_self_check_in_as_it_was(ctx, login):
    staff, student = make_user("staff"), make_user("student")
    event = happening(make_event(created_by=staff))
    going(event, student)
    check_in(login(student), event, code_now(event))
    started(event)

    save_roster(login(staff), event, [student.id])

    assert attendance_of(event) == {student.id: "self"}


@pytest.mark.parametrize(
    "who",
    ["a student not on the list", "no such account", "a 400-digit number"],
)
def test_someone_not_on_the_roster_changes_nothing_and_is_explained(ctx, login, who):
    staff = make_user("staff")
    event = make_event(created_by=staff)
    ana, ben = make_user("student"), make_user("student")
    stranger = make_user("student")
    going(event, ana, ben)
    started(event)
    client = login(staff)
    save_roster(client, event, [ana.id])
    outsider = {
        "a student not on the list": str(stranger.id),
        "no such account": "99999",
        "a 400-digit number": "9" * 400,
    }[who]

    refused = save_roster(client, event, [ben.id, outsider])

    assert refused.status_code == 400
    assert NOT_ON_ROSTER in text_of(refused)
    assert attendance_of(event) == {ana.id: "roster"}
    page = text_of(roster_page(client, event))
    assert ticked(page, ana) and not ticked(page, ben)


def test_junk_in_the_roster_form_is_not_a_server_error(ctx, login):
    staff = make_user("staff")
    event = make_event(created_by=staff)
    ana = make_user("student")
    going(event, ana)
    started(event)

    response = save_roster(login(staff), event, [ana.id, "\u00b2"])

    assert response.status_code in (200, 400)
    assert "Something went wrong" not in text_of(response)


def test_walk_in_found_by_name_is_added_as_present(ctx, login):
    staff = make_user("staff", name="Pat Lee")
    event = started(make_event(created_by=staff))
    robin = make_user("student", name="Robin Walker", email="robin@example.edu")
    make_user("student", name="Sam Ortiz")
    make_user("student", name="Robin Gone", active=False)
    make_user("advisor", name="Robin Advisor")
    client = login(staff)

    found = text_of(roster_page(client, event, "robin"))
    assert "Robin Walker (robin@example.edu)" in found
    assert "Sam Ortiz" not in found
    assert "Robin Gone" not in found
    assert "Robin Advisor" not in found

    added = client.post(
        f"/events/{event.id}/attendance/walk-in",
        data={"user_id": str(robin.id)},
        follow_redirects=True,
    )
    page = text_of(added)
    assert "Walk-in added." in page
    row = re.search(rf'id="present-{robin.id}".*?</tr>', page, re.DOTALL).group(0)
    assert "Robin Walker" in row and "Walk-in" in row
    assert ticked(page, robin)
    assert "1 present so far" in page
    assert attendance_of(event) == {robin.id: "walk_in"}


def test_search_with_no_match_says_so(ctx, login):
    staff = make_user("staff")
    event = started(make_event(created_by=staff))
    page = text_of(roster_page(login(staff), event, "zzz"))
    assert "No student matches “zzz”." in page


@pytest.mark.parametrize(
    "user_id",
    ["", "abc", "-3", "99999", "9" * 400, "\u00b2", "advisor"],
    ids=["empty", "letters", "negative", "no such account", "400 digits", "superscript", "advisor"],
)
def test_junk_walk_in_is_not_found_and_adds_nobody(ctx, login, user_id):
    staff = make_user("staff")
    event = started(make_event(created_by=staff))
    if user_id == "advisor":
        user_id = str(make_user("advisor").id)

    response = login(staff).post(
        f"/events/{event.id}/attendance/walk-in", data={"user_id": user_id}
    )

    assert response.status_code == 404
    assert NO_STUDENT in text_of(response)
    assert attendance_of(event) == {}


def test_staff_record_a_headcount(ctx, login):
    staff = make_user("staff")
    event = started(make_event(created_by=staff, headcount_only=True))

    saved = login(staff).post(
        f"/events/{event.id}/headcount", data={"headcount": "12"}, follow_redirects=True
    )

    page = text_of(saved)
    assert "Headcount saved: 12." in page
    assert "12 present so far" in page
    assert event.headcount == 12


@pytest.mark.parametrize("typed", ["9" * 400, "-4", "twelve", "3.5"])
def test_impossible_headcount_is_explained_and_the_old_one_kept(ctx, login, typed):
    staff = make_user("staff")
    event = started(make_event(created_by=staff, headcount_only=True))
    client = login(staff)
    client.post(f"/events/{event.id}/headcount", data={"headcount": "12"}, follow_redirects=True)

    refused = client.post(
        f"/events/{event.id}/headcount", data={"headcount": typed}, follow_redirects=True
    )

    page = text_of(refused)
    assert refused.status_code == 200
    assert WHOLE_NUMBER in page
    assert "Headcount saved" not in page
    assert "12 present so far" in page
    assert event.headcount == 12


def test_named_event_takes_no_headcount(ctx, login):
    staff = make_user("staff")
    event = make_event(created_by=staff)
    response = login(staff).post(f"/events/{event.id}/headcount", data={"headcount": "12"})
    assert response.status_code == 409
    assert "use the roster" in text_of(response)
    assert event.headcount is None


def test_headcount_only_meeting_never_shows_or_keeps_names(ctx, login):
    staff = make_user("staff", name="Pat Lee")
    event = make_event(created_by=staff, headcount_only=True)
    robin = make_user("student", name="Robin Walker", email="robin@example.edu")
    going(event, robin)
    client = login(staff)

    for query in (None, "robin"):
        page = text_of(roster_page(client, event, query))
        assert "headcount only" in page
        assert "Robin Walker" not in page
        assert "robin@example.edu" not in page
        assert "Self check-in code" not in page

    ticked_anyway = client.post(f"/events/{event.id}/attendance", data={"present": [robin.id]})
    assert "Robin Walker" not in text_of(ticked_anyway)
    walk_in = client.post(f"/events/{event.id}/attendance/walk-in", data={"user_id": str(robin.id)})
    assert walk_in.status_code == 409
    assert "headcount only" in text_of(walk_in)
    assert attendance_of(event) == {}


# When attendance opens ------------------------------------------------------------------


def test_attendance_opens_when_the_event_starts_though_check_in_opens_earlier(ctx, login):
    staff, ana, ben = make_user("staff"), make_user("student"), make_user("student")
    event = make_event(created_by=staff)
    going(event, ana, ben)
    happening(event, starts_in=timedelta(minutes=10))
    client = login(staff)

    page = text_of(roster_page(client, event, "student"))
    assert NOT_YET in page
    assert "Save attendance" not in page
    assert "Walk-ins can be added once the event has started." in page
    assert CHECKED_IN in text_of(check_in(login(ana), event, code_now(event)))

    too_early = [
        client.post(
            f"/events/{event.id}/attendance",
            data={**roster_form(page), "present": [str(ana.id), str(ben.id)]},
        ),
        client.post(f"/events/{event.id}/attendance/walk-in", data={"user_id": str(ben.id)}),
    ]
    for response in too_early:
        assert response.status_code == 409
        assert NOT_YET in text_of(response)
    assert attendance_of(event) == {ana.id: "self"}

    started(event)
    saved = save_roster(client, event, [ana.id, ben.id])
    assert "Attendance saved: 2 present." in text_of(saved)
    assert attendance_of(event) == {ana.id: "self", ben.id: "roster"}


def test_a_headcount_waits_for_the_start_too(ctx, login):
    staff = make_user("staff")
    event = happening(make_event(created_by=staff, headcount_only=True))
    client = login(staff)
    assert "Save headcount" not in text_of(roster_page(client, event))

    refused = client.post(f"/events/{event.id}/headcount", data={"headcount": "12"})

    assert refused.status_code == 409
    assert NOT_YET in text_of(refused)
    assert event.headcount is None
