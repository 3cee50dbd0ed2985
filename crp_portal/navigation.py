"""The navigation each role sees: every page a role may use is reachable from here."""

from dataclasses import dataclass

from flask import request, url_for

from crp_portal.access import ADVISOR, STAFF, STUDENT
from crp_portal.members.mentoring import is_mentor

# Staff pages without a nav item of their own mark their area's item as current.
AREA_HOMES = frozenset(
    {"members.member_list", "terms.term_list", "nudges.campaigns", "dashboard.overview"}
)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str

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
ADVISOR_ITEMS = [
    NavItem("home.index", "Home"),
    NavItem("advising.agenda", "Agenda"),
    NavItem("advising.find_student", "Book for a student"),
    NavItem("advising.availability", "Availability"),
    NavItem("events.calendar_settings", "Calendar"),
]
STAFF_ITEMS = [
    NavItem("home.index", "Home"),
    NavItem("dashboard.overview", "Dashboard"),
    NavItem("events.upcoming", "Events"),
    NavItem("members.member_list", "Members"),
    NavItem("members.applications", "Applications"),
    NavItem("members.follow_up_queue", "Follow-ups"),
    NavItem("members.mentoring_overview", "Mentoring"),
    NavItem("advising.overview", "Advising"),
    NavItem("housing.queue", "Housing"),
    NavItem("nudges.campaigns", "Nudges"),
    NavItem("support_meetings.directory", "Support meetings"),
    NavItem("terms.term_list", "Terms"),
]
ADMIN_ITEMS = [
    NavItem("auth.accounts", "Accounts"),
    NavItem("auth.invitations", "Invitations"),
    NavItem("auth.import_roster", "Import roster"),
    NavItem("members.audit_log", "Audit log"),
]
ACCOUNT_ITEMS = [NavItem("auth.change_password", "Password")]
NAV_ENDPOINTS = frozenset(
    item.endpoint
    for items in (STUDENT_ITEMS, MENTOR_ITEMS, ADVISOR_ITEMS, STAFF_ITEMS, ADMIN_ITEMS)
    for item in items
)


def navigation_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return [NavItem("home.index", "Home"), NavItem("auth.sign_in", "Sign in")]
    items = {STUDENT: STUDENT_ITEMS, ADVISOR: ADVISOR_ITEMS, STAFF: STAFF_ITEMS}[user.role]
    if is_mentor(user):
        items = items + MENTOR_ITEMS
    if user.is_admin_staff:
        items = items + ADMIN_ITEMS
    return items + ACCOUNT_ITEMS
