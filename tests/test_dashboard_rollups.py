"""The dashboard's rollups follow every write exactly: refreshing what writes marked gives
the same rows as rebuilding from the source tables, on both databases."""

import threading
from datetime import date, time, timedelta

from sqlalchemy import delete, func, insert, select, update

from crp_portal.advising.models import Appointment, AppointmentStatus
from crp_portal.dashboard import rollups
from crp_portal.dashboard.rollup_models import DayTally, EventTally, MemberWeek, RollupMark
from crp_portal.events.attendance import save_roster
from crp_portal.events.models import Attendance, Event, EventStatus, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.members.services import change_status
from crp_portal.recovery.models import CheckIn
from crp_portal.timeutil import local_midnight, local_today, week_start
from tests.factories import make_appointment, make_event, make_term, make_user


def rollup_rows() -> dict[str, list]:
    return {
        "events": sorted(tuple(row) for row in db.session.execute(select(EventTally.__table__))),
        "days": sorted(tuple(row) for row in db.session.execute(select(DayTally.__table__))),
        "weeks": sorted(tuple(row) for row in db.session.execute(select(MemberWeek.__table__))),
    }


def refreshed_rows() -> dict[str, list]:
    rollups.refresh()
    db.session.commit()
    return rollup_rows()


def rebuilt_rows() -> dict[str, list]:
    rollups.mark_everything()
    rollups.refresh()
    db.session.commit()
    return rollup_rows()


def evening(day: date, staff, kind="peer_support"):
    return make_event(staff, day=day, kind=kind, start_time=time(19), end_time=time(20, 30))


def rsvp(event, person, number, status=RsvpStatus.GOING):
    db.session.add(Rsvp(event_id=event.id, user_id=person.id, status=status, queue_number=number))
    db.session.commit()


def test_refreshing_after_every_kind_of_write_equals_a_rebuild(ctx):
    today = local_today()
    staff, advisor = make_user("staff"), make_user("advisor")
    ada, ben, cy = (make_user("student", name=n) for n in ("Ada", "Ben", "Cy"))
    first = evening(today - timedelta(days=9), staff)
    second = evening(today - timedelta(days=2), staff, kind="sober_social")
    rsvp(first, ada, 1)
    rsvp(first, ben, 2)
    rsvp(second, cy, 1)
    save_roster(first, {ada.id, ben.id}, staff)
    db.session.commit()
    assert refreshed_rows() == rebuilt_rows()
    assert db.session.get(EventTally, first.id).attended == 2

    save_roster(first, {ada.id}, staff)  # a bulk DELETE of Ben's attendance
    db.session.get(Rsvp, 2).status = RsvpStatus.CANCELLED
    first.starts_at = local_midnight(today - timedelta(days=16)) + timedelta(hours=19)
    first.ends_at = first.starts_at + timedelta(hours=1)
    second.status = EventStatus.CANCELLED
    db.session.commit()
    assert refreshed_rows() == rebuilt_rows()
    assert db.session.get(EventTally, first.id).attended == 1

    completed = make_appointment(advisor, ada, days_ahead=-3, status=AppointmentStatus.COMPLETED)
    missed = make_appointment(
        advisor, ben, days_ahead=-4, hour=11, status=AppointmentStatus.NO_SHOW
    )
    db.session.add(CheckIn(student_id=cy.id, week_start=today - timedelta(days=today.weekday()),
                           mood=3, stress=3, sleep=3))  # fmt: skip
    db.session.commit()
    assert refreshed_rows() == rebuilt_rows()

    completed.starts_at -= timedelta(days=7)
    completed.ends_at -= timedelta(days=7)
    missed.status = AppointmentStatus.COMPLETED
    db.session.execute(delete(Attendance).where(Attendance.user_id == ada.id))
    rollups.mark_attendance(first.id, [ada.id])
    db.session.commit()
    weeks = refreshed_rows()["weeks"]
    assert weeks == rebuilt_rows()["weeks"]
    assert {row[1] for row in weeks} == {ada.id, ben.id, cy.id}


def test_a_write_that_rolls_back_leaves_no_mark(ctx):
    staff, ada = make_user("staff"), make_user("student")
    event = evening(local_today(), staff)
    rollups.refresh()
    db.session.commit()
    db.session.add(Attendance(event_id=event.id, user_id=ada.id, source="roster"))
    db.session.flush()
    assert rollups.pending()
    db.session.rollback()
    assert not rollups.pending()


def test_two_refreshes_at_once_lose_no_mark(ctx, app):
    """Writers keep marking while two refreshers run; at the end the rollups equal a
    rebuild (on PostgreSQL the refreshers really overlap)."""
    staff = make_user("staff")
    people = [make_user("student") for _ in range(6)]
    events = [evening(local_today() - timedelta(days=n), staff) for n in range(3)]
    event_ids, person_ids = [e.id for e in events], [p.id for p in people]
    db.session.commit()
    barrier = threading.Barrier(3)
    errors = []

    def refresher():
        with app.app_context():
            barrier.wait()
            try:
                for _ in range(5):
                    rollups.refresh()
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    def writer():
        with app.app_context():
            barrier.wait()
            for person_id in person_ids:
                for event_id in event_ids:
                    db.session.add(
                        Attendance(event_id=event_id, user_id=person_id, source="roster")
                    )
                    db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=f) for f in (refresher, refresher, writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert refreshed_rows() == rebuilt_rows()
    assert sum(row[5] for row in rollup_rows()["events"]) == 18


def test_the_dashboard_shows_a_change_made_after_it_was_last_seen(ctx, login):
    today = local_today()
    make_term(starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=30))
    staff = make_user("staff")
    ada = make_user("student", name="Ada", status="active")
    client = login(staff)
    assert "(1 active members)" in client.get("/dashboard/").get_data(as_text=True)
    change_status(ada.profile, "on_leave", staff)
    db.session.commit()
    assert "(0 active members)" in client.get("/dashboard/").get_data(as_text=True)


def test_flask_dashboard_refresh_rebuilds_on_request(ctx, app):
    staff, ada = make_user("staff"), make_user("student")
    event = evening(local_today() - timedelta(days=1), staff)
    db.session.add(Attendance(event_id=event.id, user_id=ada.id, source="roster"))
    db.session.commit()
    db.session.execute(delete(EventTally))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["dashboard", "refresh", "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt every rollup" in result.output
    assert db.session.get(EventTally, event.id).attended == 1
    assert db.session.scalar(select(func.count()).select_from(RollupMark)) == 0


def test_insert_update_and_delete_statements_are_marked_without_telling_the_dashboard(ctx):
    """Statements run with db.session.execute change rows no flush sees; the session
    watches them (`marking`), so the feature that runs one need not know the dashboard."""
    today = local_today()
    staff, advisor = make_user("staff"), make_user("advisor")
    ada, ben = make_user("student", name="Ada"), make_user("student", name="Ben")
    first = evening(today - timedelta(days=9), staff)
    second = evening(today - timedelta(days=2), staff, kind="sober_social")
    appointment = make_appointment(advisor, ada, days_ahead=-3)
    db.session.add(CheckIn(student_id=ben.id, week_start=week_start(today), mood=3, stress=3,
                           sleep=3))  # fmt: skip
    db.session.commit()
    assert refreshed_rows() == rebuilt_rows()

    db.session.execute(
        insert(Attendance),
        [{"event_id": first.id, "user_id": p.id, "source": "roster"} for p in (ada, ben)],
    )
    db.session.execute(
        insert(Rsvp).values(
            event_id=second.id, user_id=ada.id, status=RsvpStatus.GOING, queue_number=1
        )
    )
    db.session.commit()
    assert refreshed_rows() == rebuilt_rows()
    assert db.session.get(EventTally, first.id).attended == 2

    moved = appointment.starts_at - timedelta(days=7)
    db.session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id)
        .values(
            status=AppointmentStatus.COMPLETED,
            starts_at=moved,
            ends_at=moved + timedelta(minutes=30),
        )
    )
    db.session.execute(
        update(CheckIn)
        .where(CheckIn.student_id == ben.id)
        .values(week_start=week_start(today) - timedelta(weeks=2))
    )
    db.session.execute(update(Event), [{"id": second.id, "status": EventStatus.CANCELLED}])
    db.session.execute(delete(Attendance).where(Attendance.user_id == ben.id))
    db.session.commit()
    assert refreshed_rows() == rebuilt_rows()
    assert db.session.get(EventTally, first.id).attended == 1
    assert not db.session.get(EventTally, second.id).held

    db.session.execute(
        update(Appointment).where(Appointment.student_id == ada.id).values(private_notes="")
    )
    assert not rollups.pending()  # nothing the rollups count changed
