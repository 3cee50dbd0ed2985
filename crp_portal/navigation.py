"""The navigation each role sees: every page a role may use is reachable from here."""

from dataclasses import dataclass

from flask import request, url_for

from crp_portal.access import (
    ADMIN,
    ADVISOR,
    EVENTS,
    HOUSING,
    NUDGES,
    RECOVERY,
    REPORTS,
    STAFF,
    STUDENT,
    may,
)
from crp_portal.members.mentoring import is_mentor
from crp_portal.members.services import is_applicant

# Staff pages without a nav item of their own mark their area's item as current.
AREA_HOMES = frozenset(
    {"members.member_list", "terms.term_list", "nudges.campaigns", "dashboard.overview"}
)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    scopes: tuple[str, ...] = ()  # for staff: shown to holders of any of these

    @property
    def url(self) -> str:
        return url_for(self.endpoint)

    @property
    def current(self) -> bool:
        """This item's page, or, for a page without its own item, its area's list."""
        if request.endpoint == self.endpoint:
            return True
        return (
            request.endpoint not in NAV_ENDPOINTS
            and request.blueprint is not None
            and self.endpoint.split(".")[0] == request.blueprint
            and self.endpoint in AREA_HOMES
        )


STUDENT_ITEMS = [
    NavItem("home.index", "Home"),
    NavItem("events.upcoming", "Events"),
    NavItem("events.mine", "My events"),
    NavItem("advising.advisors", "Advising"),
    NavItem("housing.mine", "Housing"),
    NavItem("support_meetings.directory", "Support meetings"),
    NavItem("events.calendar_settings", "Calendar"),
    NavItem("members.check_in", "Check-in"),
    NavItem("members.plan", "My plan"),
    NavItem("members.support_network", "Support network"),
    NavItem("members.own_profile", "My profile"),
]
MENTOR_ITEMS = [NavItem("members.my_mentees", "Mentees")]
# Until staff accept them, applicants apply instead of using advising or housing.
APPLICANT_HIDDEN = frozenset({"advising.advisors", "housing.mine"})
APPLICANT_ITEMS = [NavItem("members.apply", "Your application")]
ADVISOR_ITEMS = [
    NavItem("home.index", "Home"),
    NavItem("advising.agenda", "Agenda"),
    NavItem("advising.find_student", "Book for a student"),
    NavItem("advising.availability", "Availability"),
    NavItem("events.calendar_settings", "Calendar"),
]
STAFF_ITEMS = [
    NavItem("home.index", "Home"),
    NavItem("dashboard.overview", "Dashboard", (REPORTS,)),
    NavItem("events.upcoming", "Events", (EVENTS, HOUSING)),
    NavItem("members.member_list", "Members", (RECOVERY,)),
    NavItem("members.applications", "Applications", (RECOVERY,)),
    NavItem("members.follow_up_queue", "Follow-ups", (RECOVERY,)),
    NavItem("members.mentoring_overview", "Mentoring", (RECOVERY,)),
    NavItem("advising.overview", "Advising", (REPORTS,)),
    NavItem("housing.queue", "Housing", (HOUSING,)),
    NavItem("nudges.campaigns", "Nudges", (NUDGES,)),
    NavItem("support_meetings.directory", "Support meetings", (EVENTS,)),
    NavItem("terms.term_list", "Terms", (NUDGES,)),
]
ADMIN_ITEMS = [
    NavItem("auth.accounts", "Accounts", (ADMIN,)),
    NavItem("auth.invitations", "Invitations", (ADMIN,)),
    NavItem("auth.import_roster", "Import roster", (ADMIN,)),
    NavItem("members.audit_log", "Audit log", (ADMIN,)),
]
ACCOUNT_ITEMS = [NavItem("auth.change_password", "Password")]
NAV_ENDPOINTS = frozenset(
    item.endpoint
    for items in (
        STUDENT_ITEMS,
        MENTOR_ITEMS,
        APPLICANT_ITEMS,
        ADVISOR_ITEMS,
        STAFF_ITEMS,
        ADMIN_ITEMS,
    )
    for item in items
)


def navigation_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return [NavItem("home.index", "Home"), NavItem("auth.sign_in", "Sign in")]
    items = {STUDENT: STUDENT_ITEMS, ADVISOR: ADVISOR_ITEMS, STAFF: STAFF_ITEMS + ADMIN_ITEMS}[
        user.role
    ]
    if is_mentor(user):
        items = items + MENTOR_ITEMS
    if is_applicant(user):
        kept = [item for item in items if item.endpoint not in APPLICANT_HIDDEN]
        items = kept[:1] + APPLICANT_ITEMS + kept[1:]
    return [item for item in items if not item.scopes or may(user, *item.scopes)] + ACCOUNT_ITEMS
