"""Staff see what their job needs: each staff area (scope) opens its own pages only.

A student who shares everything with staff has a plan, a check-in note and a follow-up
note; a house holds a meeting. Staff holding one area each open every GET page of the
portal with those records' ids filled in: a marker may show only to the areas whose job
it is. The navigation each one gets leads only to pages that open.
"""

import html
import re

import pytest
from flask import url_for
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from crp_portal import create_app
from crp_portal.access import ADMIN, EVENTS, HOUSING, NUDGES, RECOVERY, REPORTS, SCOPES
from crp_portal.auth.models import Invitation, User
from crp_portal.auth.services import accept_invitation, invitation_token
from crp_portal.extensions import db
from crp_portal.navigation import navigation_for
from crp_portal.recovery import follow_ups, plan
from crp_portal.recovery.check_ins import Answers, save_check_in
from crp_portal.timeutil import local_today
from tests.factories import make_event, make_house, make_user

PLAN_LINE = "Skipping meals before exams"
CHECK_IN_NOTE = "Bad night on Friday"
FOLLOW_UP_NOTE = "Talked at the library; follow up Monday"
HOUSE_MEETING = "Maple House residents' meeting"
MARKERS = (PLAN_LINE, CHECK_IN_NOTE, FOLLOW_UP_NOTE, HOUSE_MEETING)

# Which markers each area's job needs; nothing else may reach it.
MAY_SEE = {
    RECOVERY: {PLAN_LINE, CHECK_IN_NOTE, FOLLOW_UP_NOTE},
    EVENTS: {HOUSE_MEETING},
    HOUSING: {HOUSE_MEETING},
    REPORTS: set(),
    NUDGES: set(),
    ADMIN: set(),
}


@pytest.fixture
def planted(ctx):
    student = make_user("student", name="Taylor Planted")
    profile = student.profile
    profile.share_plan_with_staff = True
    profile.share_check_ins_with_staff = True
    profile.share_network_with_staff = True
    plan.save_plan(student, {"warning_signs": PLAN_LINE})
    save_check_in(student, Answers(2, 5, 1, note=CHECK_IN_NOTE), local_today())
    staff = make_user("staff")
    follow_up = follow_ups.open_by_staff(student, staff, "")
    follow_ups.add_note(follow_up, staff, FOLLOW_UP_NOTE)
    house = make_house(name="Maple House")
    meeting = make_event(title=HOUSE_MEETING, public_title="House meeting", house_id=house.id)
    db.session.commit()
    return {
        "user_id": student.id,
        "student_id": student.id,
        "mentee_id": student.id,
        "follow_up_id": follow_up.id,
        "event_id": meeting.id,
        "house_id": house.id,
        "version": 1,
    }


def staff_holding(scope: str) -> User:
    if scope == ADMIN:
        return make_user("staff", scopes=[], is_admin=True)
    return make_user("staff", scopes=[scope])


def every_get_page(app, ids: dict) -> list[str]:
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            if set(rule.arguments) <= ids.keys():
                arguments = {name: ids[name] for name in rule.arguments}
                paths.append(url_for(rule.endpoint, **arguments))
    return paths


def markers_seen(app, client, ids: dict) -> tuple[dict[str, set[str]], set[str]]:
    """Which markers each page shows, and which pages opened."""
    seen, opened = {}, set()
    for path in every_get_page(app, ids):
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code == 200:
            opened.add(path)
        body = html.unescape(response.get_data(as_text=True))
        found = {marker for marker in MARKERS if marker in body}
        if found:
            seen[path] = found
    return seen, opened


MUST_OPEN = {
    RECOVERY: lambda ids: [f"/members/{ids['user_id']}", f"/follow-ups/{ids['follow_up_id']}"],
    EVENTS: lambda ids: [f"/events/{ids['event_id']}"],
    HOUSING: lambda ids: [f"/events/{ids['event_id']}"],
    REPORTS: lambda ids: ["/dashboard/"],
    NUDGES: lambda ids: ["/nudges/"],
    ADMIN: lambda ids: ["/admin/accounts"],
}


@pytest.mark.parametrize("scope", SCOPES)
def test_each_area_sees_only_the_markers_its_job_needs(app, login, planted, scope):
    seen, opened = markers_seen(app, login(staff_holding(scope)), planted)
    shown = set().union(*seen.values()) if seen else set()
    beyond = {
        path: found - MAY_SEE[scope] for path, found in seen.items() if found - MAY_SEE[scope]
    }
    assert beyond == {}, f"{scope} staff saw markers of other areas"
    assert shown == MAY_SEE[scope], "the crawl reached the pages this area needs"
    assert set(MUST_OPEN[scope](planted)) <= opened


def test_staff_with_every_area_see_every_marker(app, login, planted):
    seen, _ = markers_seen(app, login(make_user("staff")), planted)
    assert set().union(*seen.values()) == set(MARKERS)


def nav_links(body: str) -> list[str]:
    nav = body.split('<nav aria-label="Main"', 1)[-1].split("</nav>", 1)[0]
    return re.findall(r'href="(/[^"]*)"', nav)


@pytest.mark.parametrize("scope", SCOPES)
def test_navigation_shows_what_the_area_opens_and_every_link_opens(app, ctx, login, scope):
    user = staff_holding(scope)
    with app.test_request_context():
        labels = {link.label for link in navigation_for(user).links()}
    client = login(user)
    for path in nav_links(client.get("/").get_data(as_text=True)):
        if path != "/sign-out":
            assert client.get(path).status_code == 200, path
    expected = {
        RECOVERY: {"Members", "Applications", "Follow-ups", "Mentoring"},
        EVENTS: {"Upcoming events", "Support meetings"},
        HOUSING: {"Events", "Housing"},  # one event link: shown under its group's name
        REPORTS: {"Dashboard", "Outcomes", "Advising"},
        NUDGES: {"Campaigns", "Delivery log", "Terms"},
        ADMIN: {"Accounts", "Invitations", "Import roster", "Audit log"},
    }[scope]
    every_area_item = {
        "Members",
        "Applications",
        "Follow-ups",
        "Mentoring",
        "Events",
        "Upcoming events",
        "Support meetings",
        "Housing",
        "Dashboard",
        "Outcomes",
        "Advising",
        "Campaigns",
        "Delivery log",
        "Terms",
        "Accounts",
        "Invitations",
        "Import roster",
        "Audit log",
    }
    assert labels & every_area_item == expected


def test_the_reports_area_gets_figures_but_not_the_list_that_names_people(app, ctx, login):
    reports = login(make_user("staff", scopes=[REPORTS])).get("/dashboard/")
    assert reports.status_code == 200
    assert "Participation falling" not in reports.get_data(as_text=True)
    outreach = login(make_user("staff", scopes=[REPORTS, RECOVERY])).get("/dashboard/")
    assert "Participation falling" in outreach.get_data(as_text=True)


def test_a_staff_account_without_areas_opens_no_staff_page(app, ctx, login):
    client = login(make_user("staff", scopes=[]))
    home = client.get("/").get_data(as_text=True)
    assert "no staff areas yet" in home
    for path in ("/members/", "/follow-ups/", "/dashboard/", "/nudges/", "/housing/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "does not have access" in response.get_data(as_text=True)


def test_an_admin_grants_areas_on_the_account_page_and_they_work_at_once(app, ctx, login):
    admin = make_user("staff", is_admin=True)
    coordinator = make_user("staff", scopes=[HOUSING], name="Jordan Housing")
    coordinator_client = login(coordinator)
    assert coordinator_client.get("/events/new").status_code == 403
    admin_client = login(admin)
    page = admin_client.get(f"/admin/accounts/{coordinator.id}").get_data(as_text=True)
    assert "Staff areas" in page and "housing" in page
    saved = admin_client.post(
        f"/admin/accounts/{coordinator.id}",
        data={"name": "Jordan Housing", "role": "staff", "scopes": [HOUSING, EVENTS]},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, coordinator.id).scopes == {HOUSING, EVENTS}
    assert coordinator_client.get("/events/new").status_code == 200, "no new sign-in needed"
    audit = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Staff areas set to events, housing" in audit


def test_an_invitation_gives_the_new_staff_account_its_areas(app, ctx, login, smtp):
    admin = make_user("staff", is_admin=True)
    sent = login(admin).post(
        "/admin/invitations",
        data={"email": "new.events@example.edu", "role": "staff", "scopes": [EVENTS]},
    )
    assert sent.status_code == 302
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.email == "new.events@example.edu")
    )
    user = accept_invitation(invitation_token(invitation), "Sam New", "a long new passphrase here")
    db.session.commit()
    assert user.scopes == {EVENTS}


def test_upgrading_gives_existing_staff_every_area_but_admin(database_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="0012_event_tally_headcounts")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, name, role, is_admin, active, session_version,"
                    " created_at, updated_at) VALUES"
                    " ('lead@example.edu', 'Lead', 'staff', true, true, 1, :now, :now),"
                    " ('adv@example.edu', 'Adv', 'advisor', false, true, 1, :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
        upgrade()
        scopes = {user.email: user.scopes for user in db.session.scalars(select(User))}
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
    assert scopes == {"lead@example.edu": set(SCOPES), "adv@example.edu": set()}
