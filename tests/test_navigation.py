"""The navigation fits a thumb: at most six top-level items for every role and every mix
of staff scopes, grouped by job, each group shown only to those who may open its pages,
and nothing the old flat list offered left out. The page marks where you are."""

from itertools import combinations
from types import SimpleNamespace

import pytest

from crp_portal.access import (
    ADMIN,
    ADVISOR,
    EVENTS,
    HOUSING,
    NUDGES,
    RECOVERY,
    REPORTS,
    SCOPES,
    STAFF,
    STUDENT,
)
from crp_portal.members.models import MemberStatus
from crp_portal.navigation import MAX_TOP_LEVEL, groups_for
from tests.factories import make_user

# Every staff page the flat navigation offered before #22, and who saw it.
OLD_STAFF = {
    "home.index": (),
    "dashboard.overview": (REPORTS,),
    "events.upcoming": (EVENTS, HOUSING),
    "members.member_list": (RECOVERY,),
    "members.applications": (RECOVERY,),
    "recovery.follow_up_queue": (RECOVERY,),
    "mentoring.mentoring_overview": (RECOVERY,),
    "advising.overview": (REPORTS,),
    "housing.queue": (HOUSING,),
    "nudges.campaigns": (NUDGES,),
    "support_meetings.directory": (EVENTS,),
    "terms.term_list": (NUDGES,),
    "auth.accounts": (ADMIN,),
    "auth.invitations": (ADMIN,),
    "auth.import_roster": (ADMIN,),
    "audit.audit_log": (ADMIN,),
    "auth.change_password": (),
}
OLD_STUDENT = {
    "home.index",
    "events.upcoming",
    "events.mine",
    "advising.advisors",
    "housing.mine",
    "support_meetings.directory",
    "events.calendar_settings",
    "recovery.check_in",
    "recovery.plan",
    "recovery.support_network",
    "members.own_profile",
    "auth.change_password",
}
JOB_GROUPS = {  # each staff group and the scopes that show it
    "People": {RECOVERY},
    "Events": {EVENTS, HOUSING},
    "Housing": {HOUSING},
    "Nudges": {NUDGES},
    "Reports": {REPORTS},
}


def person(role: str, scopes=(), status=MemberStatus.ACTIVE, mentor=False):
    profile = SimpleNamespace(status=status, is_peer_mentor=mentor)
    return SimpleNamespace(
        is_authenticated=True,
        active=True,
        role=role,
        scopes=frozenset(scopes),
        profile=profile if role == STUDENT else None,
    )


def labels(user) -> list[str]:
    return [group.label for group in groups_for(user)]


def endpoints(user) -> set[str]:
    return {item.endpoint for group in groups_for(user) for item in group.items}


EVERY_SCOPE_MIX = [
    set(mix) for size in range(len(SCOPES) + 1) for mix in combinations(SCOPES, size)
]


@pytest.mark.parametrize("scopes", EVERY_SCOPE_MIX, ids=lambda mix: "+".join(sorted(mix)) or "none")
def test_staff_see_at_most_six_items_grouped_by_the_jobs_they_hold(scopes):
    staff = person(STAFF, scopes)
    shown = labels(staff)

    assert len(shown) <= MAX_TOP_LEVEL, shown
    jobs = [label for label, needs in JOB_GROUPS.items() if needs & scopes]
    account = "Admin & account" if ADMIN in scopes else "Account"
    home = ["Home"] if len(jobs) + 1 < MAX_TOP_LEVEL else []
    assert shown == [*home, *jobs, account]
    for group in groups_for(staff):
        for item in group.items:
            assert not item.scopes or set(item.scopes) & scopes, (group.label, item.endpoint)
    old = {endpoint for endpoint, needs in OLD_STAFF.items() if not needs or set(needs) & scopes}
    if not home:
        old.discard("home.index")  # the brand link leads home
    assert old <= endpoints(staff), "every page the old navigation offered is still linked"


def test_the_groups_hold_the_jobs_pages():
    groups = {group.label: group for group in groups_for(person(STAFF, SCOPES))}
    link_labels = {label: [item.label for item in group.items] for label, group in groups.items()}

    assert link_labels == {
        "People": ["Members", "Applications", "Follow-ups", "Mentoring"],
        "Events": ["Upcoming events", "Support meetings"],
        "Housing": ["Housing"],
        "Nudges": ["Campaigns", "Delivery log", "Terms"],
        "Reports": ["Dashboard", "Outcomes", "Advising"],
        "Admin & account": ["Accounts", "Invitations", "Import roster", "Audit log", "Password"],
    }
    assert groups["Admin & account"].account
    # Housing staff get the event list alone: one link, no menu.
    housing = groups_for(person(STAFF, {HOUSING}))
    assert [(group.label, len(group.items)) for group in housing] == [
        ("Home", 1),
        ("Events", 1),
        ("Housing", 1),
        ("Account", 1),
    ]


def test_a_student_sees_six_items_with_support_and_account_grouped():
    student = person(STUDENT)
    groups = {group.label: [item.label for item in group.items] for group in groups_for(student)}

    assert list(groups) == ["Home", "Events", "Advising", "Housing", "My support", "Account"]
    assert groups["Events"] == ["Upcoming events", "My events", "Calendar"]
    assert groups["My support"] == ["Check-in", "My plan", "Support network", "Support meetings"]
    assert groups["Account"] == ["My profile", "Password", "Who opened my records"]
    assert endpoints(student) >= OLD_STUDENT
    assert "privacy.record_views" in endpoints(student)


def test_a_peer_mentor_finds_mentees_under_my_support():
    mentor = person(STUDENT, mentor=True)
    support = next(group for group in groups_for(mentor) if group.label == "My support")

    assert len(groups_for(mentor)) == 6
    assert [item.label for item in support.items][-1] == "Mentees"


def test_an_applicant_applies_instead_of_advising_and_housing():
    applicant = person(STUDENT, status=MemberStatus.APPLICANT)

    assert labels(applicant) == ["Home", "Your application", "Events", "My support", "Account"]
    assert OLD_STUDENT - {"advising.advisors", "housing.mine"} <= endpoints(applicant)


def test_an_advisor_sees_the_day_the_students_and_the_hours():
    advisor = person(ADVISOR)

    assert labels(advisor) == [
        "Home",
        "Agenda",
        "Book for a student",
        "Availability",
        "Calendar",
        "Account",
    ]


def test_signed_out_visitors_see_home_and_sign_in():
    assert labels(SimpleNamespace(is_authenticated=False)) == ["Home", "Sign in"]


def menu_of(html: str) -> str:
    return html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]


def test_the_page_marks_its_group_and_its_link(app, ctx, login):
    client = login(make_user("student"))

    nav = menu_of(client.get("/events/mine").get_data(as_text=True))

    assert '<summary aria-current="true">Events</summary>' in nav
    assert '<a href="/events/mine" aria-current="page">My events</a>' in nav
    assert nav.count("aria-current") == 2
    assert 'class="link-button">Sign out</button>' in nav
    assert "Signed in as" in nav


def test_a_plain_link_is_marked_on_its_own_page(app, ctx, login):
    client = login(make_user("staff", scopes=[HOUSING]))

    nav = menu_of(client.get("/events/").get_data(as_text=True))

    assert '<a href="/events/" aria-current="page">Events</a>' in nav
    assert nav.count("<details") == 1, "one group, Account; the event list is a plain link"
