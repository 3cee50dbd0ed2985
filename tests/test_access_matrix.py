"""Every route, requested as every kind of visitor, against a table of who may use it.

A new route without a row here fails `test_every_route_has_a_row`.
"""

import itertools
from datetime import time, timedelta
from functools import cached_property

import pytest
from flask import url_for

from crp_portal import create_app
from crp_portal.access import ADMIN as ADMIN_SCOPE
from crp_portal.access import EVENTS, HOUSING, NUDGES, RECOVERY, REPORTS, SCOPES
from crp_portal.advising.models import OpenedDay
from crp_portal.auth.models import User
from crp_portal.auth.services import invite
from crp_portal.extensions import db
from crp_portal.members import intake
from crp_portal.outbox import writer
from crp_portal.recovery import follow_ups, plan
from crp_portal.sso.models import SsoIdentity
from crp_portal.timeutil import local_today
from tests.conftest import sign_in_as
from tests.factories import (
    make_application,
    make_appointment,
    make_campaign,
    make_condition_report,
    make_day_off,
    make_event,
    make_house,
    make_meeting,
    make_offer,
    make_period,
    make_support_person,
    make_term,
    make_user,
    make_window,
)
from tests.snapshots import SNAPSHOTS

ANONYMOUS, STUDENT, OTHER_STUDENT, ADVISOR, STAFF, ADMIN = (
    "anonymous",
    "student",
    "other student",
    "advisor",
    "staff",
    "admin",
)
# Staff holding one area each ("recovery staff" …); STAFF holds every area but admin,
# ADMIN every area and admin.
SCOPE_STAFF = {scope: f"{scope} staff" for scope in SCOPES}
VISITORS = (ANONYMOUS, STUDENT, OTHER_STUDENT, ADVISOR, STAFF, ADMIN, *SCOPE_STAFF.values())
EVERYONE = frozenset(VISITORS)
SIGNED_IN = EVERYONE - {ANONYMOUS}
STUDENTS = frozenset({STUDENT, OTHER_STUDENT})
ADVISOR_ONLY = frozenset({ADVISOR})


def holders(*scopes: str) -> frozenset[str]:
    """The visitors holding any of `scopes`."""
    everything = {ADMIN} | ({STAFF} if set(scopes) - {ADMIN_SCOPE} else set())
    return frozenset(everything | {SCOPE_STAFF[scope] for scope in scopes})


RECOVERY_STAFF = holders(RECOVERY)
EVENTS_STAFF = holders(EVENTS)
HOUSING_STAFF = holders(HOUSING)
REPORTS_STAFF = holders(REPORTS)
NUDGES_STAFF = holders(NUDGES)
ADMIN_ONLY = holders(ADMIN_SCOPE)
# The appointment in each world is between STUDENT and ADVISOR.
APPOINTMENT_PARTIES = frozenset({STUDENT, ADVISOR})

# Visitors whose role may use the route but who do not own the record: they get a 404,
# which tells them nothing about whether someone else's record exists.
NOT_OWNER = {
    "advising.appointment": {OTHER_STUDENT},
    "advising.appointment_ics": {OTHER_STUDENT},
    "advising.cancel": {OTHER_STUDENT},
    "advising.reschedule": {OTHER_STUDENT},
    "housing.application": {OTHER_STUDENT},
    "housing.withdraw": {OTHER_STUDENT},
    "housing.answer_offer": {OTHER_STUDENT},
    "housing.add_condition_notes": {OTHER_STUDENT},
    "recovery.edit_support_person": {OTHER_STUDENT},
    "recovery.remove_support_person": {OTHER_STUDENT},
    "recovery.plan_version": {OTHER_STUDENT},
}

ACCESS = {
    "static": EVERYONE,
    "home.index": EVERYONE,
    "home.healthz": EVERYONE,
    "auth.sign_in": EVERYONE,
    "auth.request_reset": EVERYONE,
    # Campus sign-in (answers 404 where no provider is configured, as in this suite).
    "sso.oidc_start": EVERYONE,
    "sso.oidc_callback": EVERYONE,
    "sso.signed_out": EVERYONE,
    "sso.oidc_sign_out": EVERYONE,
    "sso.saml_metadata": EVERYONE,
    "sso.saml_start": EVERYONE,
    "sso.saml_acs": EVERYONE,
    "sso.saml_sign_out": EVERYONE,
    "sso.saml_slo": EVERYONE,
    "auth.reset_password": EVERYONE,
    "auth.accept_invitation": EVERYONE,
    "auth.sign_out": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "auth.accounts": ADMIN_ONLY,
    "auth.account": ADMIN_ONLY,
    "auth.deactivate": ADMIN_ONLY,
    "sso.unlink": ADMIN_ONLY,
    "auth.reactivate": ADMIN_ONLY,
    "auth.invitations": ADMIN_ONLY,
    "auth.resend_invitation": ADMIN_ONLY,
    "auth.revoke_invitation": ADMIN_ONLY,
    "auth.import_roster": ADMIN_ONLY,
    "members.own_profile": STUDENTS,
    "members.member_list": RECOVERY_STAFF,
    "members.member_record": RECOVERY_STAFF,
    "members.assign_advisor": RECOVERY_STAFF,
    "members.apply": STUDENTS,
    "members.withdraw_application": STUDENTS,
    "members.applications": RECOVERY_STAFF,
    "members.application": RECOVERY_STAFF,
    "members.program_agreement": RECOVERY_STAFF,
    "recovery.support_network": STUDENTS,
    "recovery.edit_support_person": {STUDENT},
    "recovery.remove_support_person": {STUDENT},
    "recovery.network_sharing": STUDENTS,
    "recovery.check_in": STUDENTS,
    "recovery.follow_up_queue": RECOVERY_STAFF,
    "recovery.follow_up": RECOVERY_STAFF,
    "recovery.assign_follow_up": RECOVERY_STAFF,
    "recovery.add_follow_up_note": RECOVERY_STAFF,
    "recovery.resolve_follow_up": RECOVERY_STAFF,
    "recovery.reopen_follow_up": RECOVERY_STAFF,
    "recovery.open_follow_up": RECOVERY_STAFF,
    "recovery.plan": STUDENTS,
    "recovery.edit_plan": STUDENTS,
    "recovery.plan_version": {STUDENT},
    "mentoring.member_mentoring": RECOVERY_STAFF,
    "mentoring.mentoring_overview": RECOVERY_STAFF,
    # STUDENT is a peer mentor and the world's subject is their mentee; OTHER_STUDENT is not.
    "mentoring.my_mentees": {STUDENT},
    "mentoring.mentee": {STUDENT},
    "privacy.record_views": STUDENTS,
    "privacy.my_data": STUDENTS,
    "audit.audit_log": ADMIN_ONLY,
    "terms.import_calendar": NUDGES_STAFF,
    "dashboard.overview": REPORTS_STAFF,
    "dashboard.printable": REPORTS_STAFF,
    "dashboard.export": REPORTS_STAFF,
    "dashboard.outcomes_page": REPORTS_STAFF,
    "dashboard.export_outcomes": REPORTS_STAFF,
    "dashboard.upload_outcomes": REPORTS_STAFF,
    "nudges.campaigns": NUDGES_STAFF,
    "nudges.new_campaign": NUDGES_STAFF,
    "nudges.campaign": NUDGES_STAFF,
    "nudges.go_live": NUDGES_STAFF,
    "nudges.pause_campaign": NUDGES_STAFF,
    "nudges.resume_campaign": NUDGES_STAFF,
    "nudges.preview": NUDGES_STAFF,
    "nudges.dry_run": NUDGES_STAFF,
    "nudges.report": NUDGES_STAFF,
    "nudges.delivery_log": NUDGES_STAFF,
    "nudges.retry_failed": NUDGES_STAFF,
    "nudges.resend": NUDGES_STAFF,
    "nudges.unsubscribe": EVERYONE,
    "events.upcoming": STUDENTS | EVENTS_STAFF | HOUSING_STAFF,
    "events.month": STUDENTS | EVENTS_STAFF | HOUSING_STAFF,
    "events.detail": STUDENTS | EVENTS_STAFF | HOUSING_STAFF,
    "events.ics": STUDENTS | EVENTS_STAFF | HOUSING_STAFF,
    "events.mine": STUDENTS,
    "events.rsvp_going": STUDENTS,
    "events.cancel_rsvp": STUDENTS,
    "events.check_in": STUDENTS,
    "events.check_in_page": STUDENTS,
    "events.calendar_settings": STUDENTS | {ADVISOR},
    "events.regenerate_feed": STUDENTS | {ADVISOR},
    "events.calendar_feed": EVERYONE,
    "events.new_event": EVENTS_STAFF,
    "events.duplicate": EVENTS_STAFF,
    "events.edit_event": EVENTS_STAFF,
    "events.cancel_event": EVENTS_STAFF,
    "events.take_attendance": EVENTS_STAFF,
    "events.add_walk_in": EVENTS_STAFF,
    "events.headcount": EVENTS_STAFF,
    "events.kiosk": EVENTS_STAFF,
    "events.sign_in_sheet": EVENTS_STAFF,
    "events.roster_csv": EVENTS_STAFF,
    "events.notify_attendees": EVENTS_STAFF,
    "events.reminder_settings": EVENTS_STAFF,
    "advising.advisors": STUDENTS,
    "advising.advisor_slots": STUDENTS,
    "advising.book": STUDENTS,
    "advising.my_appointments": STUDENTS,
    "advising.appointment": APPOINTMENT_PARTIES,
    "advising.appointment_ics": APPOINTMENT_PARTIES,
    "advising.cancel": APPOINTMENT_PARTIES,
    "advising.reschedule": APPOINTMENT_PARTIES,
    "advising.record_outcome": ADVISOR_ONLY,
    "advising.agenda": ADVISOR_ONLY,
    "advising.awaiting": ADVISOR_ONLY,
    "advising.availability": ADVISOR_ONLY,
    "advising.add_window": ADVISOR_ONLY,
    "advising.delete_window": ADVISOR_ONLY,
    "advising.add_day_off": ADVISOR_ONLY,
    "advising.delete_day_off": ADVISOR_ONLY,
    "advising.open_closed_day": ADVISOR_ONLY,
    "advising.close_opened_day": ADVISOR_ONLY,
    "advising.find_student": ADVISOR_ONLY,
    "advising.student": ADVISOR_ONLY,
    "advising.book_for": ADVISOR_ONLY,
    "advising.overview": REPORTS_STAFF,
    "housing.mine": STUDENTS,
    "housing.apply": STUDENTS,
    "housing.application": {STUDENT},
    "housing.withdraw": {STUDENT},
    "housing.houses": HOUSING_STAFF,
    "housing.new_house": HOUSING_STAFF,
    "housing.house": HOUSING_STAFF,
    "housing.add_room": HOUSING_STAFF,
    "housing.add_bed": HOUSING_STAFF,
    "housing.set_bed_active": HOUSING_STAFF,
    "housing.agreement": HOUSING_STAFF,
    "housing.queue": HOUSING_STAFF,
    "housing.review": HOUSING_STAFF,
    "housing.decide": HOUSING_STAFF,
    "housing.offer": HOUSING_STAFF,
    "housing.board": HOUSING_STAFF,
    "housing.move": HOUSING_STAFF,
    "housing.move_out": HOUSING_STAFF,
    "housing.answer_offer": {STUDENT},
    "housing.condition_report": HOUSING_STAFF,
    "housing.add_condition_notes": {STUDENT},
    "terms.term_list": NUDGES_STAFF,
    "terms.new_term": NUDGES_STAFF,
    "terms.term_detail": NUDGES_STAFF,
    "terms.edit_term": NUDGES_STAFF,
    "terms.delete_term": NUDGES_STAFF,
    "terms.add_period": NUDGES_STAFF,
    "terms.edit_period": NUDGES_STAFF,
    "terms.delete_period": NUDGES_STAFF,
    "support_meetings.directory": STUDENTS | EVENTS_STAFF,
    "support_meetings.new_meeting": EVENTS_STAFF,
    "support_meetings.edit_meeting": EVENTS_STAFF,
    "support_meetings.delete_meeting": EVENTS_STAFF,
}


def _routes():
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method


ROUTES = list(_routes())


def test_every_route_has_a_row():
    endpoints = {endpoint for endpoint, _ in ROUTES}
    assert endpoints - ACCESS.keys() == set(), "add these endpoints to ACCESS"
    assert ACCESS.keys() - endpoints == set(), "these rows name no route"


def _actors():
    """One account per kind of visitor, committed together."""
    student = make_user("student", commit=False)
    student.profile.is_peer_mentor = True
    actors = {
        ANONYMOUS: None,
        STUDENT: student,
        OTHER_STUDENT: make_user("student", commit=False),
        ADVISOR: make_user("advisor", commit=False),
        STAFF: make_user("staff", commit=False),
        ADMIN: make_user("staff", is_admin=True, commit=False),
    }
    for scope, visitor in SCOPE_STAFF.items():
        granted = [scope] if scope != ADMIN_SCOPE else []
        actors[visitor] = make_user(
            "staff", scopes=granted, is_admin=scope == ADMIN_SCOPE, commit=False
        )
    db.session.commit()
    return actors


def _arranged_actors():
    """`_actors()` on the test's emptied database: made once per test process and
    database, then restored for each test (tests/snapshots.py)."""
    ids = SNAPSHOTS.arranged(
        f"access matrix actors {local_today().isoformat()}",
        lambda: {visitor: user.id if user else None for visitor, user in _actors().items()},
    )
    return {visitor: db.session.get(User, id_) if id_ else None for visitor, id_ in ids.items()}


_WORLD_NUMBERS = itertools.count()


def _intake_application(admin):
    if intake.current_agreement() is None:
        intake.publish_agreement(admin, "Respect each other's privacy.")
    applicant = make_user("student", status="applicant")
    return intake.apply(applicant, "Community", "friend", "", 1, True)


class _World:
    """New objects for each visitor, so one visitor's allowed POST cannot hide the next.

    Objects are made on first use, so a route's world holds only what its URL names.
    """

    CONSTANTS = {
        "decision": "waitlist",
        "answer": "accept",
        "kind": "move_in",
        "version": 1,
        "token": "not-a-real-token",
        "filename": "css/portal.css",
        "table": "status",
    }

    def __init__(self, admin, student, advisor):
        self.admin, self.student, self.advisor = admin, student, advisor
        # Each visitor's world books a different day and keeps a window at a different
        # weekday and half-day, so worlds of one test never collide.
        self.number = next(_WORLD_NUMBERS) % 14
        self.ahead = 10 + self.number

    def __getitem__(self, name: str):
        value = self.CONSTANTS[name] if name in self.CONSTANTS else getattr(self, name)
        db.session.commit()
        return value

    @cached_property
    def subject(self):
        return make_user("student")

    @cached_property
    def term(self):
        return make_term()

    @cached_property
    def house(self):
        return make_house(beds_per_room=1)

    @cached_property
    def offered(self):
        _ = self.house  # the offer needs a free bed
        return make_offer(make_application(self.student, term=make_term()), staff=self.admin)

    @property
    def user_id(self):
        return self.subject.id

    @property
    def student_id(self):
        # The advisor's advisee (staff assigned them), so the advisor's pages open.
        self.subject.profile.advisor_id = self.advisor.id
        return self.subject.id

    @cached_property
    def term_id(self):
        return self.term.id

    @cached_property
    def period_id(self):
        return make_period(self.term).id

    @cached_property
    def invitation_id(self):
        return invite(f"invitee{self.subject.id}@example.edu", "advisor", False, self.admin).id

    @cached_property
    def event_id(self):
        return make_event(self.admin).id

    @cached_property
    def advisor_id(self):
        return self.advisor.id

    @cached_property
    def appointment_id(self):
        return make_appointment(self.advisor, self.student, days_ahead=self.ahead).id

    @cached_property
    def window_id(self):
        start, end = (time(8), time(12)) if self.number < 7 else (time(13), time(17))
        return make_window(self.advisor, weekday=self.number % 7, start=start, end=end).id

    @cached_property
    def day_off_id(self):
        return make_day_off(self.advisor, local_today() + timedelta(days=self.ahead)).id

    @cached_property
    def opened_day_id(self):
        opened = OpenedDay(advisor_id=self.advisor.id, day=local_today() + timedelta(self.ahead))
        db.session.add(opened)
        db.session.flush()
        return opened.id

    @cached_property
    def house_id(self):
        return self.house.id

    @cached_property
    def room_id(self):
        return self.house.rooms[0].id

    @cached_property
    def bed_id(self):
        return self.house.rooms[0].beds[0].id

    @cached_property
    def application_id(self):
        return make_application(self.student, term=self.term).id

    @cached_property
    def assignment_id(self):
        return self.offered.id

    @cached_property
    def person_id(self):
        return make_support_person(self.student).id

    @cached_property
    def report_id(self):
        return make_condition_report(self.offered).id

    @cached_property
    def meeting_id(self):
        return make_meeting().id

    @cached_property
    def follow_up_id(self):
        return follow_ups.open_by_staff(self.subject, self.admin, "").id

    @cached_property
    def campaign_id(self):
        return make_campaign(f"Campaign {self.subject.id}").id

    @cached_property
    def message_id(self):
        return writer.add_message(self.subject.email, "Hi", "Body", status="needs_review").id

    @cached_property
    def intake_id(self):
        return _intake_application(self.admin).id

    @cached_property
    def identity_id(self):
        identity = SsoIdentity(
            user_id=self.subject.id,
            protocol="oidc",
            issuer="https://idp.test",
            subject=f"s{self.subject.id}",
        )
        db.session.add(identity)
        db.session.flush()
        return identity.id

    @cached_property
    def mentee_id(self):
        self.subject.profile.mentor_id = self.student.id
        return self.subject.id


def _fresh_world(admin, student, advisor) -> _World:
    world = _World(admin, student, advisor)
    plan.save_plan(student, {"warning_signs": f"Sign {world.ahead}"})  # the student's plan v1+
    db.session.commit()
    return world


def _url(app, endpoint, world) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        return url_for(endpoint, **{name: world[name] for name in rule.arguments})


@pytest.mark.parametrize(("endpoint", "method"), ROUTES, ids=[f"{m} {e}" for e, m in ROUTES])
def test_route_answers_each_visitor_as_the_table_says(app, ctx, endpoint, method):
    """A POST that is let through changes its world (a bed offered, a window removed), so
    each visitor of a POST route gets a fresh one; a GET changes nothing a visitor's
    access depends on, so every visitor of a GET route opens the same page."""
    actors = _arranged_actors()
    reads = method == "GET"
    shared = _fresh_world(actors[ADMIN], actors[STUDENT], actors[ADVISOR]) if reads else None
    shared_url = _url(app, endpoint, shared) if shared is not None else None
    for visitor in VISITORS:
        if shared is None:
            world = _fresh_world(actors[ADMIN], actors[STUDENT], actors[ADVISOR])
            url = _url(app, endpoint, world)
        else:
            url = shared_url
        client = app.test_client()
        user = actors[visitor]
        if user is not None:
            db.session.refresh(user)
            sign_in_as(client, user)
        response = client.open(url, method=method, data={})
        where = f"{method} {endpoint} as {visitor}"
        assert response.status_code < 500, where
        location = response.headers.get("Location", "")
        if visitor in NOT_OWNER.get(endpoint, ()):
            assert response.status_code == 404, where
        elif visitor in ACCESS[endpoint]:
            assert response.status_code != 403, where
            assert not location.startswith("/sign-in?next="), where
        elif visitor == ANONYMOUS:
            assert response.status_code == 302 and location.startswith("/sign-in?next="), where
        else:
            assert response.status_code == 403, where
            assert b"does not have access" in response.data, where
