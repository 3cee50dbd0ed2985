"""The relapse-prevention plan is the student's own: versioned, printable, seen by no one else."""

import html
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from crp_portal.errors import Conflict
from crp_portal.extensions import db
from crp_portal.recovery import plan
from crp_portal.recovery.models import PLAN_SECTION_MAX, RecoveryPlanVersion
from tests.factories import make_user

PLAN = {
    "warning_signs": "Skipping meetings\nSleeping badly",
    "triggers": "Friday nights downtown",
    "coping_strategies": "Go for a run",
    "people_and_places": "Call Sam; the campus recovery lounge",
    "crisis_steps": "Call my sponsor, then the crisis line",
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def versions_of(student) -> list[int]:
    return list(
        db.session.scalars(
            select(RecoveryPlanVersion.version)
            .where(RecoveryPlanVersion.student_id == student.id)
            .order_by(RecoveryPlanVersion.version)
        )
    )


def make_plan(student, **changes):
    saved = plan.save_plan(student, {**PLAN, **changes})
    db.session.commit()
    return saved


def test_a_student_with_no_plan_is_invited_to_write_one(ctx, app, login):
    page = text(login(make_user("student")).get("/me/plan"))
    assert "You have not written a plan yet." in page
    assert "Write my plan" in page
    assert app.config["CRP_CAMPUS_CRISIS_LINE"] in page
    assert "Advisors and peer mentors never see it." in page


def test_saving_makes_versions_and_an_unchanged_save_makes_none(ctx, app, login):
    student = make_user("student")
    client = login(student)
    first = client.post("/me/plan/edit", data=PLAN, follow_redirects=True)
    assert "Your plan is saved as version 1." in text(first)
    unchanged = client.post("/me/plan/edit", data=PLAN, follow_redirects=True)
    assert "Nothing changed, so no new version was saved." in text(unchanged)
    assert versions_of(student) == [1]

    changed = client.post(
        "/me/plan/edit", data={**PLAN, "triggers": "Exam weeks"}, follow_redirects=True
    )
    page = text(changed)
    assert "Your plan is saved as version 2." in page
    assert "Version 2, saved" in page and "Exam weeks" in page
    assert "Friday nights downtown" not in page
    assert "Version 1</a>" in page  # listed under earlier versions
    assert "Private to you unless you share your plan with staff in your profile." in page
    assert app.config["CRP_CAMPUS_CRISIS_LINE"] in page
    assert versions_of(student) == [1, 2]

    earlier = text(client.get("/me/plan/versions/1"))
    assert "Friday nights downtown" in earlier and "Exam weeks" not in earlier
    assert "An earlier version: your current plan is" in earlier


def test_the_edit_form_starts_from_the_current_version(ctx, login):
    student = make_user("student")
    make_plan(student, coping_strategies="Breathe, then text Sam")
    page = text(login(student).get("/me/plan/edit"))
    assert "Breathe, then text Sam</textarea>" in page
    assert "You are changing version 1." in page


def test_line_endings_from_the_browser_do_not_count_as_a_change(ctx, login):
    student = make_user("student")
    make_plan(student)
    client = login(student)
    browser_form = {name: value.replace("\n", "\r\n") + "  " for name, value in PLAN.items()}
    response = client.post("/me/plan/edit", data=browser_form, follow_redirects=True)
    assert "Nothing changed" in text(response)
    assert versions_of(student) == [1]


def test_the_printable_page_shows_one_version_without_the_portal_menus(ctx, app, login):
    student = make_user("student", name="Riley Park")
    make_plan(student)
    response = login(student).get("/me/plan/versions/1")
    assert response.status_code == 200
    page = text(response)
    assert "Riley Park. Version 1, saved" in page
    assert "Skipping meetings\nSleeping badly" in page  # kept as written, shown pre-line
    assert 'class="pre-line"' in page
    assert app.config["CRP_CAMPUS_CRISIS_LINE"] in page
    assert 'class="no-print"' in page


def test_plan_text_is_shown_as_text_not_markup(ctx, login):
    student = make_user("student")
    make_plan(student, triggers="<script>alert(1)</script> **bold**")
    page = login(student).get("/me/plan").get_data(as_text=True)
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert "**bold**" in page


def test_an_unknown_version_is_not_found(ctx, login):
    student = make_user("student")
    make_plan(student)
    assert login(student).get("/me/plan/versions/2").status_code == 404


def test_another_students_plan_is_unreachable(ctx, login):
    owner = make_user("student")
    make_plan(owner, triggers="Owner's secret trigger")
    other = login(make_user("student"))
    assert other.get("/me/plan/versions/1").status_code == 404
    assert "Owner's secret trigger" not in text(other.get("/me/plan"))
    assert "Owner's secret trigger" not in text(other.get("/me/plan/edit"))


@pytest.mark.parametrize("role", ["advisor", "staff"])
def test_advisors_and_staff_cannot_use_the_plan_pages(ctx, login, role):
    owner = make_user("student")
    make_plan(owner)
    client = login(make_user(role, is_admin=role == "staff"))
    for path in ("/me/plan", "/me/plan/edit", "/me/plan/versions/1"):
        assert client.get(path).status_code == 403, path
    assert client.post("/me/plan/edit", data=PLAN).status_code == 403


def test_an_over_long_section_is_explained_and_nothing_saved(ctx, login):
    student = make_user("student")
    response = login(student).post(
        "/me/plan/edit", data={**PLAN, "triggers": "x" * (PLAN_SECTION_MAX + 1)}
    )
    assert response.status_code == 200
    assert f"Use at most {PLAN_SECTION_MAX} characters." in text(response)
    assert versions_of(student) == []


def test_an_empty_plan_is_refused_with_a_reason(ctx, login):
    student = make_user("student")
    response = login(student).post("/me/plan/edit", data=dict.fromkeys(PLAN, "  "))
    assert "Write something in at least one section" in text(response)
    assert versions_of(student) == []


def test_a_save_racing_another_save_asks_to_reload(ctx, login, monkeypatch):
    student = make_user("student")
    make_plan(student)
    make_plan(student, triggers="Saved in the other window")
    # This save read version 1 as the latest just before the other window saved version 2.
    stale = SimpleNamespace(version=1, **PLAN)
    monkeypatch.setattr(plan, "current_plan", lambda student_id: stale)
    response = login(student).post("/me/plan/edit", data={**PLAN, "triggers": "This window"})
    assert response.status_code == 409
    assert "Reload the page" in text(response)
    assert versions_of(student) == [1, 2]


def test_the_service_refuses_a_duplicate_version_as_a_conflict(ctx, monkeypatch):
    student = make_user("student")
    make_plan(student)
    make_plan(student, triggers="Newer")
    stale = SimpleNamespace(version=1, **PLAN)
    monkeypatch.setattr(plan, "current_plan", lambda student_id: stale)
    with pytest.raises(Conflict):
        plan.save_plan(student, {**PLAN, "triggers": "Stale"})


def test_current_plan_and_versions_for_other_areas(ctx):
    student = make_user("student")
    assert plan.current_plan(student.id) is None and plan.plan_versions(student.id) == []
    make_plan(student)
    make_plan(student, triggers="Second")
    assert plan.current_plan(student.id).triggers == "Second"
    assert [v.version for v in plan.plan_versions(student.id)] == [2, 1]
