"""Each area contributes what it holds about a person to the data download, erasure and
retention (`crp_portal.privacy`); a new area's part is handled without touching privacy."""

import pytest
from sqlalchemy import func, select

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.privacy import register_eraser, register_export_section, register_retention
from crp_portal.privacy.erasure import erase_person
from crp_portal.privacy.retention import purge_expired
from crp_portal.timeutil import utcnow
from tests.factories import make_user

DOWNLOAD_SECTIONS = [
    "generated_at",
    "account",
    "campus_sign_on",
    "profile",
    "status_history",
    "intake_applications",
    "email_opt_outs",
    "support_network",
    "recovery_plan_versions",
    "check_ins",
    "follow_ups",
    "rsvps",
    "attendance",
    "advising_appointments",
    "housing_applications",
    "bed_assignments",
    "mentoring_received",
    "mentoring_given",
    "record_views",
]


def test_the_download_has_every_areas_sections(ctx, login):
    response = login(make_user("student")).get("/me/data.json")
    assert list(response.get_json()) == DOWNLOAD_SECTIONS


def test_a_new_areas_section_is_downloaded_before_who_opened_the_record(app, ctx, login):
    register_export_section(app, "lockers", lambda user: [{"locker": f"L-{user.id}"}])
    student = make_user("student")
    data = login(student).get("/me/data.json").get_json()
    assert data["lockers"] == [{"locker": f"L-{student.id}"}]
    assert list(data)[-2:] == ["lockers", "record_views"]


def test_a_new_areas_eraser_runs_before_the_account_loses_its_address(app, ctx):
    seen = []
    register_eraser(app, "lockers", lambda user, now: seen.append(user.email) or 2)
    register_eraser(app, None, lambda user, now: seen.append("blanked"))
    make_user("student", email="locker.user@example.edu")
    result = erase_person("locker.user@example.edu", utcnow())
    assert seen == ["locker.user@example.edu", "blanked"]
    assert result.removed["lockers"] == 2
    assert None not in result.removed


def test_a_new_areas_retention_rule_runs_with_the_cutoff(app, ctx):
    cutoffs = []
    register_retention(app, "locker notes", lambda cutoff, now: cutoffs.append(cutoff) or 3)
    now = utcnow()
    result = purge_expired(now, 1)
    assert result.removed["locker notes"] == 3
    assert cutoffs and cutoffs[0] < now


def test_a_name_registered_twice_or_the_downloads_own_is_refused(app):
    with pytest.raises(ValueError, match="registered twice"):
        register_export_section(app, "profile", lambda user: None)
    with pytest.raises(ValueError, match="registered twice"):
        register_eraser(app, "support people", lambda user, now: 0)
    with pytest.raises(ValueError, match="writes itself"):
        register_export_section(app, "record_views", lambda user: None)


def test_erasers_that_only_blank_may_be_many(app, ctx):
    register_eraser(app, None, lambda user, now: None)
    register_eraser(app, None, lambda user, now: None)
    make_user("student", email="two.blankers@example.edu")
    erase_person("two.blankers@example.edu", utcnow())
    db.session.commit()
    erased = select(func.count()).select_from(User).where(User.erased_at.is_not(None))
    assert db.session.scalar(erased) == 1
