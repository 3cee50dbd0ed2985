"""Planning nudges: who is due when, written to the outbox once, with the cap, quiet hours,
opt-outs and holdout applied — and the dry run that shows it without writing."""

import html
import itertools
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crp_portal.advising.models import AppointmentStatus
from crp_portal.events.models import Attendance
from crp_portal.extensions import db
from crp_portal.housing.models import BedAssignment
from crp_portal.members.models import EmailOptOut
from crp_portal.nudges import planning
from crp_portal.nudges.models import Campaign, Trigger
from crp_portal.outbox import writer
from crp_portal.outbox.models import OutboxKind, OutboxMessage, OutboxStatus
from tests.factories import make_appointment, make_event, make_house, make_period, make_term
from tests.factories import make_user as _make_user

ZONE = ZoneInfo("America/New_York")
SPRING = (date(2027, 1, 11), date(2027, 5, 7))
FINALS = (date(2027, 5, 1), date(2027, 5, 7))
FINALS_MINUS_3 = date(2027, 4, 28)
_names = itertools.count(1)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A moment in the program's zone (New York in tests)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def make_member(name=None, *, joined_on=date(2026, 9, 1), active_since=None, **fields):
    """An active student; `active_since` backdates the account (their only activity)."""
    user = _make_user("student", name=name, **fields)
    user.profile.joined_on = joined_on
    if active_since is not None:
        user.created_at = active_since
    db.session.commit()
    return user


def make_campaign(**fields) -> Campaign:
    """By default "3 days before finals start", to active members, category academic."""
    values = {
        "name": f"Campaign {next(_names)}",
        "trigger": "period",
        "period_kind": "finals",
        "anchor": "start",
        "offset_days": -3,
        "audience": "active_members",
        "category": "academic",
        "subject_template": "Finals are coming, {{ first_name }}",
        "body_template": "Hi {{ first_name }},\n\nThis week:\n{{ this_week }}\n\n{{ events_link }}",
        "active_from": date(2027, 1, 1),
        "live_since": datetime(2026, 12, 1, tzinfo=UTC),
    }
    values.update(fields)
    campaign = Campaign(**values)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def spring(with_finals=True):
    term = make_term("Spring 2027", *SPRING)
    finals = make_period(term, "finals", *FINALS) if with_finals else None
    return term, finals


def rows(campaign=None) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(OutboxMessage.user_id, OutboxMessage.id)
    if campaign is not None:
        statement = statement.where(OutboxMessage.campaign_id == campaign.id)
    return list(db.session.scalars(statement))


def planned_for(campaign, now) -> dict[int, OutboxMessage]:
    planning.plan(now)
    db.session.commit()
    return {row.user_id: row for row in rows(campaign)}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- triggers -------------------------------------------------------------------------


def test_three_days_before_finals_plans_a_rendered_email_for_each_active_member(ctx):
    _term, finals = spring()
    ana = make_member("Ana Reyes")
    ana.profile.preferred_name = "Annie"
    ben = make_member("Ben Okafor")
    make_member("Cy Alum", status="alumni")
    campaign = make_campaign(name="Finals week")
    assert planned_for(campaign, at(FINALS_MINUS_3 - timedelta(days=1))) == {}

    report = planning.plan(at(FINALS_MINUS_3, 10))
    db.session.commit()
    assert str(report) == "Finals week: 2 planned, 0 suppressed, 0 held out"
    first, second = rows(campaign)
    assert (first.user_id, second.user_id) == (ana.id, ben.id)
    assert first.kind == OutboxKind.NUDGE and first.status == OutboxStatus.PENDING
    assert first.occurrence == f"period:{finals.id}"
    assert first.recipient == ana.email
    assert first.subject == "Finals are coming, Annie"
    assert first.body_text.startswith("Hi Annie,\n\nThis week:\n")
    assert "://portal.test/events/" in first.body_text
    assert first.body_html.startswith("<p>Hi Annie,</p>")
    assert "://portal.test/unsubscribe/" in first.unsubscribe_url
    assert first.due_at == at(FINALS_MINUS_3, 10)
    assert second.subject == "Finals are coming, Ben"


def test_a_period_trigger_may_count_from_the_end_and_after_it(ctx):
    _term, finals = spring()
    member = make_member()
    campaign = make_campaign(anchor="end", offset_days=2, period_kind="finals")
    assert planned_for(campaign, at(FINALS[1] + timedelta(days=1))) == {}
    planned = planned_for(campaign, at(FINALS[1] + timedelta(days=2)))
    assert planned[member.id].occurrence == f"period:{finals.id}"


def test_first_week_of_a_first_term(ctx):
    term, _finals = spring()
    new = make_member(joined_on=SPRING[0] - timedelta(days=20))
    joined_in_term = make_member(joined_on=SPRING[0] + timedelta(days=2))
    make_member(joined_on=SPRING[0] - timedelta(days=31))  # their first term was the last one
    campaign = make_campaign(trigger=Trigger.FIRST_TERM_WEEK, period_kind=None, anchor=None)
    assert planned_for(campaign, at(SPRING[0] - timedelta(days=1))) == {}
    assert planned_for(campaign, at(SPRING[0] + timedelta(days=7))) == {}
    planned = planned_for(campaign, at(SPRING[0] + timedelta(days=6)))
    assert set(planned) == {new.id, joined_in_term.id}
    assert {row.occurrence for row in planned.values()} == {f"term:{term.id}"}


def _bed_assignment(student, term, status="accepted", move_in_on=None, move_out_on=None):
    house = make_house(beds_per_room=1)
    assignment = BedAssignment(
        term_id=term.id, bed_id=house.rooms[0].beds[0].id, student_id=student.id,
        status=status, reply_by=SPRING[0], move_in_on=move_in_on, move_out_on=move_out_on,
    )  # fmt: skip
    db.session.add(assignment)
    db.session.commit()
    return assignment


def test_move_in_day_of_an_accepted_bed(ctx):
    term, _finals = spring()
    moving = make_member()
    offered_only = make_member()
    day = date(2027, 1, 9)
    assignment = _bed_assignment(moving, term, move_in_on=day)
    _bed_assignment(offered_only, term, status="offered", move_in_on=day)
    campaign = make_campaign(
        trigger=Trigger.MOVE_IN,
        period_kind=None,
        anchor=None,
        category="housing",
        audience="residents",
    )
    assert planned_for(campaign, at(day - timedelta(days=1))) == {}
    planned = planned_for(campaign, at(day))
    assert set(planned) == {moving.id}
    assert planned[moving.id].occurrence == f"assignment:{assignment.id}"


def test_back_from_break_is_the_day_after_a_break_ends(ctx):
    term, _finals = spring()
    spring_break = make_period(term, "break", date(2027, 3, 13), date(2027, 3, 21))
    member = make_member()
    campaign = make_campaign(trigger=Trigger.BACK_FROM_BREAK, period_kind=None, anchor=None)
    assert planned_for(campaign, at(date(2027, 3, 21))) == {}
    planned = planned_for(campaign, at(date(2027, 3, 22)))
    assert planned[member.id].occurrence == f"period:{spring_break.id}"


def test_inactive_for_n_days_once_per_spell_of_inactivity(ctx):
    spring()
    today = date(2027, 2, 15)
    quiet = make_member(active_since=at(today - timedelta(days=14), 9))
    recent = make_member(active_since=at(today - timedelta(days=30)))
    recent.last_sign_in_at = at(today - timedelta(days=13), 23)
    attended = make_member(active_since=at(today - timedelta(days=30)))
    event = make_event(_make_user("staff"))
    db.session.add(
        Attendance(event_id=event.id, user_id=attended.id, source="roster",
                   recorded_at=at(today - timedelta(days=2)))
    )  # fmt: skip
    db.session.commit()
    campaign = make_campaign(trigger=Trigger.INACTIVE, days=14, period_kind=None, anchor=None,
                             category="wellbeing")  # fmt: skip
    planned = planned_for(campaign, at(today))
    assert set(planned) == {quiet.id}
    assert planned[quiet.id].occurrence == f"inactive:{today - timedelta(days=14)}"

    assert planned_for(campaign, at(today + timedelta(days=3))).keys() == {quiet.id, recent.id}
    assert len(rows(campaign)) == 2  # still inactive: the same spell, nothing new for quiet

    quiet.last_sign_in_at = at(today + timedelta(days=4))
    db.session.commit()
    again = today + timedelta(days=18)
    planning.plan(at(again))
    db.session.commit()
    assert [r.occurrence for r in rows(campaign) if r.user_id == quiet.id] == [
        f"inactive:{today - timedelta(days=14)}",
        f"inactive:{today + timedelta(days=4)}",
    ]


def test_no_advising_by_week_four(ctx):
    term, _finals = spring()
    advisor = _make_user("advisor")
    without = make_member()
    cancelled = make_member()
    booked = make_member()
    completed_last_term = make_member()
    campaign = make_campaign(trigger=Trigger.NO_ADVISING, days=4, period_kind=None, anchor=None)
    week_four = SPRING[0] + timedelta(days=21)
    real_today = datetime.now(ZONE).date()
    in_term = (SPRING[0] + timedelta(days=10) - real_today).days
    make_appointment(advisor, cancelled, days_ahead=in_term, status=AppointmentStatus.CANCELLED)
    make_appointment(advisor, booked, days_ahead=in_term + 1)
    before_term = (SPRING[0] - timedelta(days=20) - real_today).days
    make_appointment(
        advisor, completed_last_term, days_ahead=before_term, status=AppointmentStatus.COMPLETED
    )
    assert planned_for(campaign, at(week_four - timedelta(days=1))) == {}
    planned = planned_for(campaign, at(week_four))
    assert set(planned) == {without.id, cancelled.id, completed_last_term.id}
    assert planned[without.id].occurrence == f"term:{term.id}"


# --- audiences ------------------------------------------------------------------------


def test_active_members_leaves_out_alumni_closed_and_erased_accounts(ctx):
    spring()
    member = make_member()
    make_member(status="alumni")
    make_member(status="on_leave")
    make_member(active=False)
    erased = make_member()
    erased.erased_at = datetime.now(UTC)
    _make_user("staff")
    _make_user("advisor")
    db.session.commit()
    campaign = make_campaign()
    assert set(planned_for(campaign, at(FINALS_MINUS_3))) == {member.id}


def test_audiences_are_their_members(ctx):
    term, _finals = spring()
    plain = make_member()
    mentor = make_member()
    mentor.profile.is_peer_mentor = True
    first_termer = make_member(joined_on=SPRING[0] - timedelta(days=10))
    resident = make_member()
    _bed_assignment(resident, term, move_in_on=date(2027, 1, 9))
    moved_out = make_member()
    _bed_assignment(moved_out, term, move_in_on=date(2027, 1, 9), move_out_on=date(2027, 3, 1))
    advised = make_member()
    real_today = datetime.now(ZONE).date()
    make_appointment(
        _make_user("advisor"), advised, days_ahead=(date(2027, 2, 1) - real_today).days
    )
    db.session.commit()
    everyone = {plain.id, mentor.id, first_termer.id, resident.id, moved_out.id, advised.id}
    expected = {
        "active_members": everyone,
        "peer_mentors": {mentor.id},
        "first_term_members": {first_termer.id},
        "residents": {resident.id},
        "no_advising_this_term": everyone - {advised.id},
    }
    for audience, members in expected.items():
        campaign = make_campaign(audience=audience, name=audience)
        due = planning.due_now(campaign, at(FINALS_MINUS_3))
        assert {d.user.id for d in due} == members, audience


# --- rules ----------------------------------------------------------------------------


def test_planning_again_adds_nothing(ctx):
    spring()
    make_member()
    make_member()
    campaign = make_campaign(name="Finals week")
    planning.plan(at(FINALS_MINUS_3, 9))
    db.session.commit()
    again = planning.plan(at(FINALS_MINUS_3, 9, 15))
    db.session.commit()
    assert str(again) == "Finals week: 0 planned, 0 suppressed, 0 held out, 2 already planned"
    assert len(rows(campaign)) == 2


def test_draft_paused_and_out_of_date_campaigns_plan_nothing(ctx):
    spring()
    make_member()
    make_campaign(live_since=None)
    make_campaign(paused=True)
    make_campaign(active_from=FINALS_MINUS_3 + timedelta(days=1))
    make_campaign(active_from=date(2027, 1, 1), active_to=FINALS_MINUS_3 - timedelta(days=1))
    report = planning.plan(at(FINALS_MINUS_3))
    assert str(report) == "No campaign is running today."
    assert rows() == []


def test_a_template_that_cannot_be_filled_in_stops_only_its_campaign(ctx):
    spring()
    member = make_member()
    broken = make_campaign(name="Broken", body_template="{{ first_name + 1 }}")
    fine = make_campaign(name="Fine")
    report = planning.plan(at(FINALS_MINUS_3))
    db.session.commit()
    assert str(report).splitlines()[0].startswith("Broken: not planned — its template could not")
    assert rows(broken) == []
    assert [row.user_id for row in rows(fine)] == [member.id]


def test_an_opted_out_member_is_recorded_as_suppressed(ctx):
    spring()
    member = make_member()
    db.session.add(EmailOptOut(user_id=member.id, category="academic"))
    db.session.commit()
    campaign = make_campaign(name="Finals week")
    report = planning.plan(at(FINALS_MINUS_3))
    db.session.commit()
    assert str(report) == "Finals week: 0 planned, 1 suppressed, 0 held out"
    [row] = rows(campaign)
    assert (row.status, row.reason, row.subject) == (
        OutboxStatus.SUPPRESSED,
        "opted out of “Exam, deadline and term reminders”",
        "",
    )


def test_the_frequency_cap_counts_across_campaigns_and_recent_sends(ctx, app_config):
    spring()
    fresh = make_member()
    busy = make_member()
    earlier = make_campaign(name="Earlier", offset_days=-10)
    db.session.add(
        OutboxMessage(kind=OutboxKind.NUDGE, campaign_id=earlier.id, user_id=busy.id, occurrence="x",
                      recipient=busy.email, status=OutboxStatus.SENT,
                      created_at=at(FINALS_MINUS_3) - timedelta(days=6, hours=23))
    )  # fmt: skip
    db.session.commit()
    first, second, third = (make_campaign(name=name) for name in ("First", "Second", "Third"))
    report = planning.plan(at(FINALS_MINUS_3))
    db.session.commit()
    assert str(report).splitlines() == [
        "First: 2 planned, 0 suppressed, 0 held out",
        "Second: 1 planned, 1 suppressed, 0 held out",
        "Third: 0 planned, 2 suppressed, 0 held out",
    ]
    assert rows(second)[1].user_id == busy.id
    assert rows(second)[1].reason == "frequency cap: 2 nudges in 7 days"
    assert [row.status for row in rows(third)] == [OutboxStatus.SUPPRESSED, OutboxStatus.SUPPRESSED]
    assert fresh.id in {row.user_id for row in rows(second) if row.status == OutboxStatus.PENDING}


def test_the_cap_forgets_nudges_older_than_its_window(ctx):
    spring()
    member = make_member()
    old = make_campaign(name="Old", offset_days=-30)
    for occurrence in ("a", "b"):
        db.session.add(
            OutboxMessage(kind=OutboxKind.NUDGE, campaign_id=old.id, user_id=member.id, occurrence=occurrence,
                          recipient=member.email, status=OutboxStatus.SENT,
                          created_at=at(FINALS_MINUS_3) - timedelta(days=7, minutes=1))
        )  # fmt: skip
    db.session.commit()
    campaign = make_campaign()
    assert planned_for(campaign, at(FINALS_MINUS_3))[member.id].status == OutboxStatus.PENDING


@pytest.mark.parametrize(
    ("hour", "due"),
    [
        (22, at(FINALS_MINUS_3 + timedelta(days=1), 8)),
        (2, at(FINALS_MINUS_3, 8)),
        (8, at(FINALS_MINUS_3, 8)),
        (20, at(FINALS_MINUS_3, 20)),
    ],
)
def test_quiet_hours_move_due_at_to_their_end(ctx, hour, due):
    spring()
    member = make_member()
    campaign = make_campaign()
    row = planned_for(campaign, at(FINALS_MINUS_3, hour))[member.id]
    assert row.due_at == due
    assert row.created_at == at(FINALS_MINUS_3, hour)


def test_the_holdout_is_a_stable_recorded_draw(ctx):
    spring()
    members = [make_member() for _ in range(30)]
    campaign = make_campaign(name="Finals week", holdout_percent=50)
    dry = {d.user.id: d.outcome for d in planning.due_now(campaign, at(FINALS_MINUS_3))}
    planned = planned_for(campaign, at(FINALS_MINUS_3))
    held = {user_id for user_id, row in planned.items() if row.status == OutboxStatus.HELD_OUT}
    expected = {m.id for m in members if planning.in_holdout(campaign, m.id)}
    assert held == expected and 0 < len(held) < 30
    assert {user_id for user_id, outcome in dry.items() if outcome == "held out"} == held
    assert all(planned[user_id].reason == "holdout" for user_id in held)
    assert all(planned[user_id].subject == "" for user_id in held)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_planners_at_once_write_each_key_once(app, ctx, monkeypatch):
    """PostgreSQL only: on SQLite the first planner's write lock makes the second wait."""
    spring()
    members = [make_member() for _ in range(40)]
    campaign = make_campaign()
    db.session.commit()
    both_found_everyone_due = threading.Barrier(2)
    insert = writer.insert_new

    def insert_together(new_rows):
        both_found_everyone_due.wait(timeout=30)  # neither has written yet: a real race
        return insert(new_rows)

    monkeypatch.setattr(writer, "insert_new", insert_together)
    reports = []

    def planner():
        with app.app_context():
            reports.append(planning.plan(at(FINALS_MINUS_3)))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=planner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert sorted(report.planned for report in reports) == [0, len(members)]
    assert sorted(report.already_planned for report in reports) == [0, len(members)]
    counted = db.session.execute(
        select(OutboxMessage.user_id, func.count()).group_by(OutboxMessage.user_id)
    ).all()
    assert sorted(counted) == sorted((m.id, 1) for m in members)
    assert {row.campaign_id for row in rows()} == {campaign.id}


# --- dry run --------------------------------------------------------------------------


def test_the_dry_run_shows_who_would_get_it_and_why_not(ctx, login):
    spring()
    ana = make_member("Ana Reyes")
    opted = make_member("Opal Out")
    db.session.add(EmailOptOut(user_id=opted.id, category="academic"))
    db.session.commit()
    campaign = make_campaign(name="Finals week")
    staff = login(_make_user("staff"))
    page = text(staff.get(f"/nudges/campaigns/{campaign.id}/dry-run?on={FINALS_MINUS_3}"))
    assert "Finals week" in page
    assert "Ana Reyes" in page and ana.email in page
    assert "Finals starts in 3 days" in page
    assert "Opal Out" in page and "opted out of “Exam, deadline and term reminders”" in page
    assert rows() == []
    planning.plan(at(FINALS_MINUS_3))
    db.session.commit()
    again = text(staff.get(f"/nudges/campaigns/{campaign.id}/dry-run?on={FINALS_MINUS_3}"))
    assert "Already planned (2)" in again and "a message for this was already planned" in again


def test_the_dry_run_on_another_day_and_bad_dates(ctx, login):
    spring()
    make_member("Ana Reyes")
    campaign = make_campaign(name="Finals week")
    staff = login(_make_user("staff"))
    nobody = text(staff.get(f"/nudges/campaigns/{campaign.id}/dry-run?on=2027-04-20"))
    assert "Nobody is due" in nobody and "Ana Reyes" not in nobody
    bad = staff.get(f"/nudges/campaigns/{campaign.id}/dry-run?on=2027-02-30")
    assert bad.status_code == 200
    assert "Enter a date as YYYY-MM-DD" in text(bad)
    assert staff.get("/nudges/campaigns/999/dry-run").status_code == 404
    campaign.paused = True
    db.session.commit()
    paused = text(staff.get(f"/nudges/campaigns/{campaign.id}/dry-run?on={FINALS_MINUS_3}"))
    assert "This campaign is paused" in paused and "Ana Reyes" in paused


def test_only_staff_may_dry_run(ctx, login):
    campaign = make_campaign()
    for role in ("student", "advisor"):
        response = login(_make_user(role)).get(f"/nudges/campaigns/{campaign.id}/dry-run")
        assert response.status_code == 403
