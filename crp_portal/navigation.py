"""The navigation each role sees: every page a role may use is reachable from here."""

from dataclasses import dataclass

from flask import current_app, request, url_for

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
from crp_portal.members.services import is_applicant
from crp_portal.mentoring.services import is_mentor

# Staff pages without a nav item of their own mark their area's item as current.
AREA_HOMES = frozenset(
    {
        "members.member_list",
        "recovery.follow_up_queue",
        "mentoring.mentoring_overview",
        "mentoring.my_mentees",
        "terms.term_list",
        "nudges.campaigns",
        "dashboard.overview",
    }
)


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    scopes: tuple[str, ...] = ()  # for staff: shown to holders of any of these

    def is_current(self, endpoint: str | None, blueprint: str | None) -> bool:
        """This item's page, or, for a page without its own item, its area's list."""
        if endpoint == self.endpoint:
            return True
        return (
            endpoint not in NAV_ENDPOINTS
            and blueprint is not None
            and self.endpoint.split(".")[0] == blueprint
            and self.endpoint in AREA_HOMES
        )


@dataclass(frozen=True)
class NavLink:
    """One item as this page shows it."""

    label: str
    url: str
    current: bool


STUDENT_ITEMS = [
    NavItem("home.index", "Home"),
    NavItem("events.upcoming", "Events"),
    NavItem("events.mine", "My events"),
    NavItem("advising.advisors", "Advising"),
    NavItem("housing.mine", "Housing"),
    NavItem("support_meetings.directory", "Support meetings"),
    NavItem("events.calendar_settings", "Calendar"),
    NavItem("recovery.check_in", "Check-in"),
    NavItem("recovery.plan", "My plan"),
    NavItem("recovery.support_network", "Support network"),
    NavItem("members.own_profile", "My profile"),
]
MENTOR_ITEMS = [NavItem("mentoring.my_mentees", "Mentees")]
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
    NavItem("recovery.follow_up_queue", "Follow-ups", (RECOVERY,)),
    NavItem("mentoring.mentoring_overview", "Mentoring", (RECOVERY,)),
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
    NavItem("audit.audit_log", "Audit log", (ADMIN,)),
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


SIGNED_OUT_ITEMS = [NavItem("home.index", "Home"), NavItem("auth.sign_in", "Sign in")]


def navigation_for(user) -> "Navigation":
    return Navigation(user)


class Navigation:
    """The links `user` sees on this request's page, the current one marked.

    Worked out when a template first goes through them: every render offers them (mail
    and error pages too, with or without a request), few show them. Each address is built
    once per app and script root rather than on every page: they take no arguments."""

    def __init__(self, user):
        self.user = user
        self._links: list[NavLink] | None = None

    def __iter__(self):
        if self._links is None:
            self._links = self._build()
        return iter(self._links)

    def _build(self) -> list[NavLink]:
        endpoint, blueprint, root = request.endpoint, request.blueprint, request.script_root
        built = current_app.extensions.setdefault("crp_navigation_urls", {})
        links = []
        for item in _items_for(self.user):
            url = built.get((root, item.endpoint))
            if url is None:
                url = built[(root, item.endpoint)] = url_for(item.endpoint)
            links.append(NavLink(item.label, url, item.is_current(endpoint, blueprint)))
        return links


def _items_for(user) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return SIGNED_OUT_ITEMS
    items = {STUDENT: STUDENT_ITEMS, ADVISOR: ADVISOR_ITEMS, STAFF: STAFF_ITEMS + ADMIN_ITEMS}[
        user.role
    ]
    if is_mentor(user):
        items = items + MENTOR_ITEMS
    if is_applicant(user):
        kept = [item for item in items if item.endpoint not in APPLICANT_HIDDEN]
        items = kept[:1] + APPLICANT_ITEMS + kept[1:]
    return [item for item in items if not item.scopes or may(user, *item.scopes)] + ACCOUNT_ITEMS
