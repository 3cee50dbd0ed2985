"""The staff follow-up queue: a request to reach out always reaches staff, the answers
only by consent; staff assign, note, resolve and reopen; every opening is audited."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crp_portal.audit.models import AuditEntry
from crp_portal.extensions import db
from crp_portal.recovery import follow_ups
from crp_portal.recovery.check_ins import Answers, save_check_in
from crp_portal.recovery.models import FollowUp, FollowUpNote
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_appointment, make_user

SECRET_NOTE = "I went to a party and drank again."


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def asked_for_outreach(student, mood=2, stress=5, sleep=1, note=SECRET_NOTE) -> FollowUp:
    """The student's check-in this week asked someone to reach out; returns its follow-up."""
    check_in = save_check_in(student, Answers(mood, stress, sleep, note, True), local_today())
    db.session.commit()
    return db.session.scalar(select(FollowUp).where(FollowUp.check_in_id == check_in.id))


def opened_by_staff(student, staff, note="") -> FollowUp:
    follow_up = follow_ups.open_by_staff(student, staff, note)
    db.session.commit()
    return follow_up


def reload(follow_up) -> FollowUp:
    db.session.expire_all()
    return db.session.get(FollowUp, follow_up.id)


def test_the_page_shows_check_in_answers_only_with_consent(ctx, login):
    student = make_user("student", name="Kai Nguyen")
    student.profile.phone = "555-0199"
    db.session.commit()
    follow_up = asked_for_outreach(student)
    staff = login(make_user("staff"))

    private = text(staff.get(f"/follow-ups/{follow_up.id}"))
    assert "Kai Nguyen" in private and "555-0199" in private and student.email in private
    assert "Asked for someone to reach out" in private
    assert f'href="/members/{student.id}"' in private
    assert "The student has not shared their check-in answers." in private
    assert SECRET_NOTE not in private and "of 5" not in private and "<svg" not in private

    student.profile.share_check_ins_with_staff = True
    db.session.commit()
    shared = text(staff.get(f"/follow-ups/{follow_up.id}"))
    assert "The student has not shared" not in shared
    assert SECRET_NOTE in shared
    assert "2 of 5" in shared and "5 of 5" in shared and "1 of 5" in shared
    assert "<svg" in shared


def test_the_queue_lists_names_and_reasons_but_never_answers(ctx, login):
    student = make_user("student", name="Kai Nguyen")
    student.profile.share_check_ins_with_staff = True
    db.session.commit()
    asked_for_outreach(student)
    staff_user = make_user("staff", name="Robin Staff")
    opened_by_staff(make_user("student", name="Ana Lopez"), staff_user, "Seemed withdrawn")
    page = text(login(staff_user).get("/follow-ups/"))
    assert "Kai Nguyen" in page and "Ana Lopez" in page
    assert "Asked for someone to reach out" in page and "Raised by staff" in page
    assert page.index("Ana Lopez") < page.index("Kai Nguyen"), "newest first"
    assert SECRET_NOTE not in page and "Seemed withdrawn" not in page


def test_the_queue_filters(ctx, login):
    me, colleague = make_user("staff"), make_user("staff")
    mine, theirs, nobodys, done = (
        opened_by_staff(make_user("student", name=f"Student {n}"), me) for n in "ABCD"
    )
    follow_ups.assign(mine, me.id)
    follow_ups.assign(theirs, colleague.id)
    follow_ups.resolve(done, me, "")
    db.session.commit()
    client = login(me)

    def names(view):
        page = text(client.get(f"/follow-ups/?view={view}"))
        return {
            name for name in ("Student A", "Student B", "Student C", "Student D") if name in page
        }

    assert names("open") == {"Student A", "Student B", "Student C"}
    assert names("mine") == {"Student A"}
    assert names("unassigned") == {"Student C"}
    assert names("resolved") == {"Student D"}
    assert names("nonsense") == names("open")
    assert "Student D" not in text(client.get("/follow-ups/"))


def test_staff_assign_note_resolve_and_reopen(ctx, login):
    follow_up = asked_for_outreach(make_user("student"))
    me = make_user("staff", name="Robin Staff")
    colleague = make_user("staff", name="Sam Colleague")
    client = login(me)
    url = f"/follow-ups/{follow_up.id}"

    page = text(client.post(f"{url}/assign", data={"to_me": "y"}, follow_redirects=True))
    assert "Assigned to you." in page
    assert reload(follow_up).assigned_to_id == me.id
    page = text(
        client.post(f"{url}/assign", data={"assignee_id": str(colleague.id)}, follow_redirects=True)
    )
    assert "Assigned to Sam Colleague." in page
    assert reload(follow_up).assigned_to_id == colleague.id

    page = text(
        client.post(f"{url}/notes", data={"body": "Left a voicemail."}, follow_redirects=True)
    )
    assert "Note added." in page and "Left a voicemail." in page and "Robin Staff" in page

    page = text(
        client.post(
            f"{url}/resolve", data={"closing_note": "We met for coffee."}, follow_redirects=True
        )
    )
    assert "Follow-up resolved." in page and "We met for coffee." in page
    resolved = reload(follow_up)
    assert (resolved.status, resolved.resolved_by_id) == ("resolved", me.id)
    assert resolved.resolved_at is not None
    assert [n.body for n in resolved.notes] == ["Left a voicemail.", "We met for coffee."]

    again = client.post(f"{url}/resolve", data={})
    assert again.status_code == 409
    assert "This follow-up is already resolved." in text(again)

    page = text(client.post(f"{url}/reopen", follow_redirects=True))
    assert "Follow-up reopened." in page
    assert reload(follow_up).status == "open" and reload(follow_up).resolved_at is None
    assert client.post(f"{url}/reopen").status_code == 409


def test_only_active_staff_can_be_assigned(ctx, login):
    follow_up = asked_for_outreach(make_user("student"))
    client = login(make_user("staff"))
    for assignee in (make_user("advisor"), make_user("staff", active=False)):
        response = client.post(
            f"/follow-ups/{follow_up.id}/assign", data={"assignee_id": str(assignee.id)}
        )
        assert response.status_code == 422
        assert "Choose a staff member from the list." in text(response)
    for junk in ("x" * 40, "9" * 18, "-3", ""):
        response = client.post(f"/follow-ups/{follow_up.id}/assign", data={"assignee_id": junk})
        assert "Choose a staff member from the list." in text(response), junk
    assert reload(follow_up).assigned_to_id is None


def test_an_over_long_note_is_explained_in_place_and_not_saved(ctx, login):
    follow_up = asked_for_outreach(make_user("student"))
    client = login(make_user("staff"))
    too_long = "Called twice. " + "x" * 2000
    response = client.post(f"/follow-ups/{follow_up.id}/notes", data={"body": too_long})
    assert response.status_code == 200
    assert "Use at most 2000 characters." in text(response)
    assert too_long in text(response)
    empty = client.post(f"/follow-ups/{follow_up.id}/notes", data={"body": "  "})
    assert "Write the note." in text(empty)
    closing = client.post(f"/follow-ups/{follow_up.id}/resolve", data={"closing_note": too_long})
    assert "Use at most 2000 characters." in text(closing)
    assert reload(follow_up).status == "open"
    assert db.session.scalar(select(func.count()).select_from(FollowUpNote)) == 0


def test_opening_a_follow_up_is_audited(ctx, login):
    student = make_user("student")
    follow_up = asked_for_outreach(student)
    staff = make_user("staff")
    login(staff).get(f"/follow-ups/{follow_up.id}")
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert (entry.actor_id, entry.subject_id, entry.action) == (staff.id, student.id, "follow-up")
    assert "A follow-up about you" in text(login(student).get("/me/record-views"))


STAFF_ROUTES = [
    ("get", "/follow-ups/"),
    ("get", "/follow-ups/{id}"),
    ("post", "/follow-ups/{id}/assign"),
    ("post", "/follow-ups/{id}/notes"),
    ("post", "/follow-ups/{id}/resolve"),
    ("post", "/follow-ups/{id}/reopen"),
    ("post", "/members/{student}/follow-ups"),
]


@pytest.mark.parametrize("role", ["student", "advisor"])
def test_students_and_advisors_are_refused_every_staff_route(ctx, login, role):
    student = make_user("student")
    follow_up = asked_for_outreach(student)
    client = login(student if role == "student" else make_user("advisor"))
    for method, path in STAFF_ROUTES:
        url = path.format(id=follow_up.id, student=student.id)
        response = getattr(client, method)(url, data={"body": "x", "to_me": "y"})
        assert response.status_code == 403, url
    assert reload(follow_up).notes == [] and reload(follow_up).assigned_to_id is None


def test_unknown_ids_are_not_found(ctx, login):
    staff = make_user("staff")
    client = login(staff)
    for method, path in STAFF_ROUTES[1:-1]:
        response = getattr(client, method)(path.format(id=999999), data={"body": "x"})
        assert response.status_code == 404, path
        assert "There is no follow-up with that number." in text(response)
    for not_a_student in (999999, 10**20, staff.id, make_user("advisor").id):
        response = client.post(f"/members/{not_a_student}/follow-ups", data={})
        assert response.status_code == 404
    assert client.get("/follow-ups/99999999999999999999999").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_staff_open_a_follow_up_by_hand(ctx, login):
    student = make_user("student", name="Ana Lopez")
    client = login(make_user("staff"))
    response = client.post(f"/members/{student.id}/follow-ups", data={"note": "Missed two groups."})
    [follow_up] = db.session.scalars(select(FollowUp)).all()
    assert response.headers["Location"] == f"/follow-ups/{follow_up.id}"
    page = text(client.get(response.headers["Location"]))
    assert (
        "Follow-up opened." in page and "Raised by staff" in page and "Missed two groups." in page
    )

    too_long = client.post(f"/members/{student.id}/follow-ups", data={"note": "y" * 2001})
    assert too_long.status_code == 200
    assert "Use at most 2000 characters." in text(too_long) and "Ana Lopez" in text(too_long)
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) == 1


def test_notes_removed_after_retention_say_so(ctx, login):
    staff = make_user("staff")
    follow_up = opened_by_staff(make_user("student"), staff, "Talked about housing.")
    [note] = follow_up.notes
    note.body, note.removed_at = None, utcnow()
    db.session.commit()
    page = text(login(staff).get(f"/follow-ups/{follow_up.id}"))
    assert "Note removed after the retention period" in page
    assert "Talked about housing." not in page


def test_reaching_the_advising_no_show_limit_opens_one_follow_up(app, ctx, login):
    app.config["CRP_ADVISING_NO_SHOW_LIMIT"] = 2
    advisor = make_user("advisor")
    student = make_user("student", name="Kai Nguyen")
    make_appointment(advisor, student, days_ahead=-14, status="no_show")
    missed = make_appointment(advisor, student, days_ahead=-1)
    login(advisor).post(f"/advising/appointments/{missed.id}/outcome", data={"status": "no_show"})
    [follow_up] = db.session.scalars(select(FollowUp)).all()
    assert (follow_up.student_id, follow_up.reason, follow_up.status) == (
        student.id,
        "missed_advising",
        "open",
    )
    assert follow_ups.open_for_missed_advising(student) is None, "one open at a time"
    follow_ups.resolve(follow_up, make_user("staff"), "")
    assert follow_ups.open_for_missed_advising(student) is not None, "a new one once resolved"
    db.session.commit()
    page = text(login(make_user("staff")).get("/follow-ups/"))
    assert "Kai Nguyen" in page and "Missed advising appointments" in page


def test_follow_ups_of_a_student_and_the_open_count(ctx):
    student, other = make_user("student"), make_user("student")
    staff = make_user("staff")
    first = opened_by_staff(student, staff, "First")
    second = asked_for_outreach(student)
    opened_by_staff(other, staff)
    follow_ups.resolve(first, staff, "Done")
    db.session.commit()
    assert [f.id for f in follow_ups.follow_ups_of(student.id)] == [second.id, first.id]
    assert [n.body for n in follow_ups.follow_ups_of(student.id)[1].notes] == ["First", "Done"]
    assert follow_ups.open_follow_up_count() == 2


def add_follow_ups(count: int, staff) -> None:
    for number in range(count):
        follow_up = opened_by_staff(make_user("student"), staff, f"Note {number}")
        if number % 2:
            follow_ups.assign(follow_up, staff.id)
        db.session.commit()


@pytest.mark.parametrize("path", ["/follow-ups/", "/follow-ups/?view=mine"])
def test_the_queue_costs_the_same_with_more_follow_ups(ctx, login, count_queries, path):
    staff = make_user("staff")
    client = login(staff)
    add_follow_ups(2, staff)
    few = count_queries(client, path)
    add_follow_ups(12, make_user("staff"))
    add_follow_ups(3, staff)
    assert count_queries(client, path) == few


def test_the_follow_up_page_costs_the_same_with_more_notes(ctx, login, count_queries):
    student = make_user("student")
    student.profile.share_check_ins_with_staff = True
    db.session.commit()
    follow_up = asked_for_outreach(student)
    staff = make_user("staff")
    client = login(staff)
    follow_ups.add_note(follow_up, staff, "First call")
    follow_ups.assign(follow_up, staff.id)
    db.session.commit()
    client.get(f"/follow-ups/{follow_up.id}")  # the first visit also writes the audit row
    few = count_queries(client, f"/follow-ups/{follow_up.id}")
    for number in range(6):
        follow_ups.add_note(follow_up, make_user("staff"), f"Note {number}")
    save_check_in(student, Answers(4, 2, 4), local_today() - timedelta(weeks=2))
    db.session.commit()
    assert count_queries(client, f"/follow-ups/{follow_up.id}") == few
