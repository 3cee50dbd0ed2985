"""Issue #17 for the remaining status changes: intake decisions, follow-ups, mentoring,
membership statuses, nudge campaigns and admin account changes, sent at the same moment.

Each race starts its requests on their own threads (each its own signed-in test client,
so its own database connection) behind a barrier, for a few rounds, on SQLite and
PostgreSQL. A change reads the row it changes under a lock and checks it again after the
wait, so the database ends as the same requests one after another would leave it: the
loser gets the 409 a person gets a second later, and each acknowledged change writes its
email or audit row once.
"""

import functools
import html
import re

import pytest
from sqlalchemy import func, select

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.members import intake
from crp_portal.members.models import IntakeApplication, MemberProfile, StatusChange
from crp_portal.nudges import campaigns, lifecycle
from crp_portal.nudges.models import Campaign
from crp_portal.recovery import follow_ups
from crp_portal.recovery.models import FollowUp, FollowUpNote
from crp_portal.timeutil import utcnow
from tests.factories import make_user
from tests.test_concurrency import run_together

ROUNDS = 3
DECIDED_MAIL = "An update on your application"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post(client, path: str, **form):
    """One request for `run_together`, to send when the barrier opens."""
    return functools.partial(client.post, path, data=form)


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


def hidden(page, name: str) -> str:
    """The value a page's hidden field sends back (the state the page showed)."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', text(page))
    assert found, f"the page has no hidden {name} field"
    return found.group(1)


def emails(smtp, subject_start: str) -> int:
    return sum(1 for m in smtp.messages if m["Subject"].startswith(subject_start))


def audit_count(subject_id: int, action: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.subject_id == subject_id, AuditEntry.action == action)
    )


# Intake decisions


def applied(agreement) -> IntakeApplication:
    student = make_user("student", status="applicant")
    version = agreement.version
    application = intake.apply(student, "Friends who don't drink.", "friend", "", version, True)
    db.session.commit()
    return application


def decision(kind: str) -> dict:
    return {"decision": kind, "note": "" if kind == "accepted" else "Let's talk first."}


@pytest.mark.parametrize("from_the_page", [True, False], ids=["page", "no-version"])
@pytest.mark.parametrize(
    "first, second",
    [("accepted", "accepted"), ("accepted", "declined"), ("conversation", "conversation")],
)
def test_two_staff_deciding_one_application_at_once_save_one_decision_and_one_email(
    ctx, login, smtp, first, second, from_the_page
):
    agreement = intake.publish_agreement(make_user("staff"), "Keep program spaces substance-free.")
    db.session.commit()
    clients = [login(make_user("staff")), login(make_user("staff"))]
    acknowledged = 0
    for _ in range(ROUNDS):
        application = applied(agreement)
        path = f"/members/applications/{application.id}"
        seen = [{"status_seen": hidden(c.get(path), "status_seen")} for c in clients]
        if not from_the_page:
            seen = [{}, {}]

        responses = run_together(
            post(clients[0], path, **decision(first), **seen[0]),
            post(clients[1], path, **decision(second), **seen[1]),
        )
        kinds = (first, second)
        won = [kind for kind, r in zip(kinds, responses, strict=True) if r.status_code == 302]
        acknowledged += len(won)
        db.session.expire_all()
        saved = db.session.get(IntakeApplication, application.id)
        if from_the_page or first != "conversation":
            assert statuses(responses) == [302, 409]
            refused = next(r for r in responses if r.status_code == 409)
            assert "This application is already" in text(
                refused
            ) or "Someone else decided this application a moment ago" in text(refused)
            assert saved.status == won[0]
        else:
            # Without the page's status, a second conversation request after the first is
            # what a person sending it a second later would get: it is saved too.
            assert statuses(responses) == [302, 302] and saved.status == "conversation"
        history = db.session.scalars(
            select(StatusChange.to_status)
            .where(StatusChange.user_id == application.student_id)
            .order_by(StatusChange.id)
        ).all()
        expected = {"accepted": ["active"], "declined": ["inactive"], "conversation": []}
        assert history == ["applicant", *expected[saved.status]]

    assert emails(smtp, DECIDED_MAIL) == acknowledged


def test_the_refusal_a_race_gives_is_the_one_a_second_later_gives(ctx, login, smtp):
    intake.publish_agreement(make_user("staff"), "Keep program spaces substance-free.")
    db.session.commit()
    application = applied(intake.current_agreement())
    path = f"/members/applications/{application.id}"
    early, late = login(make_user("staff")), login(make_user("staff"))
    stale = hidden(late.get(path), "status_seen")
    early.post(path, data={**decision("conversation"), "status_seen": stale})

    refused = late.post(path, data={**decision("accepted"), "status_seen": stale})

    assert refused.status_code == 409
    assert "Someone else decided this application a moment ago" in text(refused)
    assert "“Staff asked for a conversation”" in text(refused)
    db.session.expire_all()
    assert db.session.get(IntakeApplication, application.id).status == "conversation"
    assert emails(smtp, DECIDED_MAIL) == 1


# Follow-ups


def opened_follow_up() -> FollowUp:
    follow_up = follow_ups.open_by_staff(make_user("student"), make_user("staff"), "Worried")
    db.session.commit()
    return follow_up


def fresh_follow_up(follow_up_id: int) -> FollowUp:
    db.session.expire_all()
    return db.session.get(FollowUp, follow_up_id)


def test_two_staff_resolving_one_follow_up_at_once_resolve_it_once(ctx, login):
    people = [make_user("staff"), make_user("staff")]
    clients = [login(person) for person in people]
    for _ in range(ROUNDS):
        follow_up = opened_follow_up()
        path = f"/follow-ups/{follow_up.id}/resolve"

        responses = run_together(
            post(clients[0], path, closing_note="Called them: first."),
            post(clients[1], path, closing_note="Called them: second."),
        )
        assert statuses(responses) == [302, 409]
        refused = next(r for r in responses if r.status_code == 409)
        assert "This follow-up is already resolved." in text(refused)
        winner = people[[r.status_code for r in responses].index(302)]
        resolved = fresh_follow_up(follow_up.id)
        assert (resolved.status, resolved.resolved_by_id) == ("resolved", winner.id)
        closing = db.session.scalars(
            select(FollowUpNote.body).where(
                FollowUpNote.follow_up_id == follow_up.id, FollowUpNote.body.like("Called%")
            )
        ).all()
        assert len(closing) == 1, "one closing note: the winner's"


def test_two_staff_claiming_one_follow_up_at_once_give_it_to_one(ctx, login):
    people = [make_user("staff"), make_user("staff")]
    clients = [login(person) for person in people]
    for _ in range(ROUNDS):
        follow_up = opened_follow_up()
        page = f"/follow-ups/{follow_up.id}"
        seen = [hidden(client.get(page), "assigned_seen") for client in clients]
        assert seen == ["", ""]

        responses = run_together(
            *(
                post(client, f"{page}/assign", to_me="y", assigned_seen=value)
                for client, value in zip(clients, seen, strict=True)
            )
        )
        assert statuses(responses) == [302, 409]
        winner = people[[r.status_code for r in responses].index(302)]
        refused = next(r for r in responses if r.status_code == 409)
        assert f"{winner.name} took this follow-up since you opened it." in text(refused)
        assert fresh_follow_up(follow_up.id).assigned_to_id == winner.id


def test_two_staff_reopening_one_follow_up_at_once_reopen_it_once(ctx, login):
    clients = [login(make_user("staff")), login(make_user("staff"))]
    for _ in range(ROUNDS):
        follow_up = opened_follow_up()
        follow_ups.resolve(follow_up, make_user("staff"), "")
        db.session.commit()
        path = f"/follow-ups/{follow_up.id}/reopen"

        responses = run_together(*(post(client, path) for client in clients))
        assert statuses(responses) == [302, 409]
        assert "This follow-up is already open." in text(
            next(r for r in responses if r.status_code == 409)
        )
        assert fresh_follow_up(follow_up.id).status == "open"


# Mentoring and membership status


def test_assigning_a_mentor_while_they_stop_being_one_leaves_no_mentee_behind(ctx, login):
    editors = [login(make_user("staff")), login(make_user("staff"))]
    for _ in range(ROUNDS):
        mentor, mentee = make_user("student"), make_user("student")
        mentor.profile.is_peer_mentor = True
        db.session.commit()

        assign, unmark = run_together(
            post(editors[0], f"/members/{mentee.id}/mentoring", mentor_id=str(mentor.id)),
            post(editors[1], f"/members/{mentor.id}/mentoring", mentor_id="0"),
        )
        assert unmark.status_code == 302
        db.session.expire_all()
        mentor_profile = db.session.get(MemberProfile, mentor.id)
        mentee_profile = db.session.get(MemberProfile, mentee.id)
        assert mentor_profile.is_peer_mentor is False
        assert mentee_profile.mentor_id is None, "no mentee keeps a mentor who is not one"
        if assign.status_code != 302:
            refusal = text(assign)
            if "Choose one of the listed options." in refusal:  # the form's own check
                assert assign.status_code == 200
            else:  # the service's rule, judged after the other change committed
                assert assign.status_code == 422
                assert "active member marked as a peer mentor" in refusal
        assert audit_count(mentor.id, "peer mentor role removed") == 1


def test_two_staff_changing_one_status_at_once_keep_the_history_a_chain(ctx, login):
    clients = [login(make_user("staff")), login(make_user("staff"))]
    for _ in range(ROUNDS):
        student = make_user("student")
        path = f"/members/{student.id}"

        responses = run_together(
            post(clients[0], path, status="on_leave", student_id="", note="Semester off"),
            post(clients[1], path, status="alumni", student_id="", note="Graduated"),
        )
        assert statuses(responses) == [302, 302]
        db.session.expire_all()
        history = db.session.execute(
            select(StatusChange.from_status, StatusChange.to_status)
            .where(StatusChange.user_id == student.id)
            .order_by(StatusChange.id)
        ).all()
        assert len(history) == 3
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_status == before.to_status, "each change starts where one ended"
        assert db.session.get(MemberProfile, student.id).status == history[-1].to_status


def test_two_staff_setting_one_status_at_once_write_it_once(ctx, login):
    clients = [login(make_user("staff")), login(make_user("staff"))]
    student = make_user("student")

    responses = run_together(
        *(post(c, f"/members/{student.id}", status="on_leave", student_id="") for c in clients)
    )
    assert statuses(responses) == [302, 302]
    db.session.expire_all()
    moves = db.session.scalar(
        select(func.count())
        .select_from(StatusChange)
        .where(StatusChange.user_id == student.id, StatusChange.to_status == "on_leave")
    )
    assert moves == 1


# Nudge campaigns


def a_campaign(name: str) -> Campaign:
    from tests.test_nudge_campaigns import details

    campaign = campaigns.create_campaign(details(name=name), None)
    lifecycle.go_live(campaign, make_user("staff"), utcnow())
    db.session.commit()
    return campaign


def is_paused(campaign_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id).paused


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_two_staff_pausing_or_resuming_one_campaign_at_once_do_it_once(ctx, login, action):
    clients = [login(make_user("staff")), login(make_user("staff"))]
    for number in range(ROUNDS):
        campaign = a_campaign(f"Finals week {number}")
        if action == "resume":
            lifecycle.pause_campaign(campaign)
            db.session.commit()
        path = f"/nudges/campaigns/{campaign.id}/{action}"

        responses = run_together(*(post(client, path) for client in clients))
        assert statuses(responses) == [302, 409]
        already = "already paused" if action == "pause" else "already running"
        assert f"{campaign.name} is {already}." in text(
            next(r for r in responses if r.status_code == 409)
        )
        assert is_paused(campaign.id) is (action == "pause")


def test_two_staff_making_one_draft_live_at_once_make_it_live_once(ctx, login):
    first, second = make_user("staff"), make_user("staff")
    clients = [login(first), login(second)]
    for number in range(ROUNDS):
        campaign = campaigns.create_campaign(details_named(f"Finals week {number}"), None)
        db.session.commit()
        path = f"/nudges/campaigns/{campaign.id}/go-live"

        responses = run_together(*(post(client, path) for client in clients))
        assert statuses(responses) == [302, 409]
        assert f"{campaign.name} is already live." in text(
            next(r for r in responses if r.status_code == 409)
        )
        db.session.expire_all()
        made_live = db.session.get(Campaign, campaign.id)
        assert made_live.live_since is not None
        assert made_live.made_live_by_id in (first.id, second.id)


def details_named(name: str):
    from tests.test_nudge_campaigns import details

    return details(name=name)


def test_pausing_a_campaign_while_it_is_edited_keeps_both(ctx, login):
    from tests.test_nudge_campaigns import FORM

    editor, pauser = login(make_user("staff")), login(make_user("staff"))
    for number in range(ROUNDS):
        campaign = a_campaign(f"Finals week {number}")
        renamed = f"Finals fortnight {number}"

        edit, pause = run_together(
            post(editor, f"/nudges/campaigns/{campaign.id}", **{**FORM, "name": renamed}),
            post(pauser, f"/nudges/campaigns/{campaign.id}/pause"),
        )
        assert statuses([edit, pause]) == [302, 302]
        assert is_paused(campaign.id) is True
        assert db.session.get(Campaign, campaign.id).name == renamed


# Admin account changes


def test_two_admins_deactivating_one_account_at_once_deactivate_and_audit_it_once(ctx, login):
    admins = [make_user("staff", is_admin=True), make_user("staff", is_admin=True)]
    clients = [login(admin) for admin in admins]
    for _ in range(ROUNDS):
        person = make_user("advisor")
        path = f"/admin/accounts/{person.id}/deactivate"

        responses = run_together(*(post(client, path) for client in clients))
        assert statuses(responses) == [302, 409]
        refused = next(r for r in responses if r.status_code == 409)
        assert f"{person.name}'s account is already deactivated." in text(refused)
        assert audit_count(person.id, "account deactivated") == 1
        assert db.session.get(User, person.id).active is False


def test_two_admins_reactivating_one_account_at_once_audit_it_once(ctx, login):
    clients = [login(make_user("staff", is_admin=True)) for _ in range(2)]
    for _ in range(ROUNDS):
        person = make_user("advisor", active=False)
        path = f"/admin/accounts/{person.id}/reactivate"

        responses = run_together(*(post(client, path) for client in clients))
        assert statuses(responses) == [302, 409]
        assert f"{person.name}'s account is already active." in text(
            next(r for r in responses if r.status_code == 409)
        )
        assert audit_count(person.id, "account reactivated") == 1


def test_the_last_two_admins_deactivating_each_other_at_once_leave_one(ctx, login):
    for _ in range(ROUNDS):
        first, second = make_user("staff", is_admin=True), make_user("staff", is_admin=True)
        others = db.session.scalars(select(User).where(User.is_admin, User.active)).all()
        for admin in others:
            if admin.id not in (first.id, second.id):
                admin.active = False
        db.session.commit()

        responses = run_together(
            post(login(first), f"/admin/accounts/{second.id}/deactivate"),
            post(login(second), f"/admin/accounts/{first.id}/deactivate"),
        )
        db.session.expire_all()
        still = db.session.scalars(select(User.id).where(User.is_admin, User.active)).all()
        assert len(still) == 1, "one admin is left"
        won = [r for r in responses if r.headers.get("Location", "").startswith("/admin/")]
        assert len(won) == 1
        loser = next(r for r in responses if r is not won[0])
        # The loser either waited and was told (409), or arrived already signed out.
        assert loser.status_code == 409 or loser.headers["Location"].startswith("/sign-in")
        if loser.status_code == 409:
            assert "changed a moment ago, so nothing was saved" in text(loser)
        gone = first.id if still == [second.id] else second.id
        assert audit_count(gone, "account deactivated") == 1
        assert audit_count(still[0], "account deactivated") == 0
