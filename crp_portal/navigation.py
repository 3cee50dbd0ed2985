"""The navigation each role sees: every page a role may use is reachable from here.

At most six top-level items per role, grouped by job. A group is a disclosure menu in
the page (`<details>`); a group that holds one link for this person is shown as that
plain link, under the group's name. Staff see a group only when they hold one of its
scopes, and in it only the links their scopes open. The Account group (Admin & account
for admins) also carries "Signed in as" and Sign out, which base.html adds.
"""

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

MAX_TOP_LEVEL = 6

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
class NavGroup:
    """A top-level item: a job's links, or one link when it is `NavGroup(label, (item,))`."""

    label: str
    items: tuple[NavItem, ...]
    account: bool = False  # the group that also says who is signed in, and signs out


@dataclass(frozen=True)
class NavLink:
    """One link as this page shows it."""

    label: str
    url: str
    current: bool


@dataclass(frozen=True)
class NavEntry:
    """One top-level item as this page shows it: a plain link (`url`) or a menu."""

    label: str
    links: tuple[NavLink, ...]
    current: bool
    account: bool = False

    @property
    def is_menu(self) -> bool:
        return self.account or len(self.links) > 1

    @property
    def url(self) -> str:
        return self.links[0].url


def _one(endpoint: str, label: str, *scopes: str) -> NavGroup:
    return NavGroup(label, (NavItem(endpoint, label, scopes),))


HOME = _one("home.index", "Home")
PROFILE = NavItem("members.own_profile", "My profile")
PASSWORD = NavItem("auth.change_password", "Password")
RECORD_VIEWS = NavItem("privacy.record_views", "Who opened my records")
MENTEES = NavItem("mentoring.my_mentees", "Mentees")

STUDENT_EVENTS = NavGroup(
    "Events",
    (
        NavItem("events.upcoming", "Upcoming events"),
        NavItem("events.mine", "My events"),
        NavItem("events.calendar_settings", "Calendar"),
    ),
)
STUDENT_SUPPORT = (
    NavItem("recovery.check_in", "Check-in"),
    NavItem("recovery.plan", "My plan"),
    NavItem("recovery.support_network", "Support network"),
    NavItem("support_meetings.directory", "Support meetings"),
)
STUDENT_ACCOUNT = NavGroup("Account", (PROFILE, PASSWORD, RECORD_VIEWS), account=True)
ADVISING = _one("advising.advisors", "Advising")
STUDENT_HOUSING = _one("housing.mine", "Housing")
# Until staff accept them, applicants apply instead of using advising or housing.
APPLICATION = _one("members.apply", "Your application")

ADVISOR_GROUPS = (
    HOME,
    _one("advising.agenda", "Agenda"),
    _one("advising.find_student", "Book for a student"),
    _one("advising.availability", "Availability"),
    _one("events.calendar_settings", "Calendar"),
    NavGroup("Account", (PASSWORD,), account=True),
)

STAFF_GROUPS = (
    NavGroup(
        "People",
        (
            NavItem("members.member_list", "Members", (RECOVERY,)),
            NavItem("members.applications", "Applications", (RECOVERY,)),
            NavItem("recovery.follow_up_queue", "Follow-ups", (RECOVERY,)),
            NavItem("mentoring.mentoring_overview", "Mentoring", (RECOVERY,)),
        ),
    ),
    NavGroup(
        "Events",
        (
            NavItem("events.upcoming", "Upcoming events", (EVENTS, HOUSING)),
            NavItem("support_meetings.directory", "Support meetings", (EVENTS,)),
        ),
    ),
    _one("housing.queue", "Housing", HOUSING),
    NavGroup(
        "Nudges",
        (
            NavItem("nudges.campaigns", "Campaigns", (NUDGES,)),
            NavItem("nudges.delivery_log", "Delivery log", (NUDGES,)),
            NavItem("terms.term_list", "Terms", (NUDGES,)),
        ),
    ),
    NavGroup(
        "Reports",
        (
            NavItem("dashboard.overview", "Dashboard", (REPORTS,)),
            NavItem("dashboard.outcomes_page", "Outcomes", (REPORTS,)),
            NavItem("advising.overview", "Advising", (REPORTS,)),
        ),
    ),
)
ADMIN_ITEMS = (
    NavItem("auth.accounts", "Accounts", (ADMIN,)),
    NavItem("auth.invitations", "Invitations", (ADMIN,)),
    NavItem("auth.import_roster", "Import roster", (ADMIN,)),
    NavItem("audit.audit_log", "Audit log", (ADMIN,)),
)
STAFF_ACCOUNT = NavGroup("Account", (PASSWORD,), account=True)
# Admins' own account links share the admin menu: seven items would not fit a thumb.
ADMIN_ACCOUNT = NavGroup("Admin & account", (*ADMIN_ITEMS, PASSWORD), account=True)

SIGNED_OUT_GROUPS = (HOME, _one("auth.sign_in", "Sign in"))

NAV_ENDPOINTS = frozenset(
    item.endpoint
    for groups in (
        (STUDENT_EVENTS, STUDENT_ACCOUNT, ADVISING, STUDENT_HOUSING, APPLICATION),
        (NavGroup("My support", (*STUDENT_SUPPORT, MENTEES)),),
        ADVISOR_GROUPS,
        STAFF_GROUPS,
        (ADMIN_ACCOUNT, HOME),
    )
    for group in groups
    for item in group.items
)


def navigation_for(user) -> "Navigation":
    return Navigation(user)


class Navigation:
    """The top-level items `user` sees on this request's page, the current one marked.

    Worked out when a template first goes through them: every render offers them (mail
    and error pages too, with or without a request), few show them. Each address is built
    once per app and script root rather than on every page: they take no arguments."""

    def __init__(self, user):
        self.user = user
        self._entries: list[NavEntry] | None = None

    def __iter__(self):
        if self._entries is None:
            self._entries = self._build()
        return iter(self._entries)

    def links(self) -> list[NavLink]:
        """Every link, in the order the menus show them."""
        return [link for entry in self for link in entry.links]

    def _build(self) -> list[NavEntry]:
        endpoint, blueprint, root = request.endpoint, request.blueprint, request.script_root
        built = current_app.extensions.setdefault("crp_navigation_urls", {})

        def link(item: NavItem) -> NavLink:
            url = built.get((root, item.endpoint))
            if url is None:
                url = built[(root, item.endpoint)] = url_for(item.endpoint)
            return NavLink(item.label, url, item.is_current(endpoint, blueprint))

        entries = []
        for group in groups_for(self.user):
            links = tuple(link(item) for item in group.items)
            if len(links) == 1 and not group.account:
                links = (NavLink(group.label, links[0].url, links[0].current),)
            current = any(one.current for one in links)
            entries.append(NavEntry(group.label, links, current, group.account))
        return entries


def groups_for(user) -> list[NavGroup]:
    """The top-level items `user` sees, each holding only the links `user` may open."""
    if not getattr(user, "is_authenticated", False):
        return list(SIGNED_OUT_GROUPS)
    if user.role == STUDENT:
        return _student_groups(user)
    if user.role == ADVISOR:
        return list(ADVISOR_GROUPS)
    assert user.role == STAFF, user.role
    groups = [kept for group in STAFF_GROUPS if (kept := _allowed(user, group)) is not None]
    groups.append(ADMIN_ACCOUNT if may(user, ADMIN) else STAFF_ACCOUNT)
    if len(groups) < MAX_TOP_LEVEL:  # else the brand link still leads home
        groups.insert(0, HOME)
    return groups


def _student_groups(user) -> list[NavGroup]:
    support = NavGroup("My support", STUDENT_SUPPORT + ((MENTEES,) if is_mentor(user) else ()))
    if is_applicant(user):
        return [HOME, APPLICATION, STUDENT_EVENTS, support, STUDENT_ACCOUNT]
    return [HOME, STUDENT_EVENTS, ADVISING, STUDENT_HOUSING, support, STUDENT_ACCOUNT]


def _allowed(user, group: NavGroup) -> NavGroup | None:
    items = tuple(item for item in group.items if not item.scopes or may(user, *item.scopes))
    return NavGroup(group.label, items, group.account) if items else None
