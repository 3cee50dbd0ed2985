"""A large university's history, for dashboard and load benchmarks (issue #9).

    python -m bench.history --scale 1 /tmp/history.sqlite3
    BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench.history --scale 10

At scale 1: 5,000 members, three years of terms and calendar periods, 20,000 events,
about 1,000,000 RSVPs and 700,000 attendance rows, 100,000 advising appointments,
10,000 bed assignments and a year of weekly check-ins (~40% of members each week).
`--scale N` multiplies the history's density (events, RSVPs, attendance, appointments, check-ins);
members and housing stay the same. The database is emptied first. Rows go in with Core
bulk inserts (executemany of dicts, CHUNK rows at a time), as in `bench.data`.

Three accounts can sign in with BENCH_PASSWORD: bench-staff@…, bench-advisor@… and
member000000@bench.example.edu (a student).
"""

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, text

from crp_portal import create_app
from crp_portal.access import GRANTED_SCOPES
from crp_portal.advising.models import CELL_MINUTES, MODES, TOPICS, Appointment, AppointmentCell
from crp_portal.auth.models import User
from crp_portal.auth.passwords import hash_password
from crp_portal.dashboard import rollups
from crp_portal.dashboard.rollup_models import DayTally, EventTally, MemberWeek
from crp_portal.events.models import KINDS, Attendance, Event, Rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import Bed, BedAssignment, House, Room
from crp_portal.members.models import MemberProfile, StatusChange
from crp_portal.recovery.models import CheckIn
from crp_portal.terms.models import CalendarPeriod, Term
from crp_portal.timeutil import local_to_utc, program_zone, utcnow, week_start

CHUNK = 10_000
SEED = 9
BENCH_PASSWORD = "bench-password"  # noqa: S105 - published: synthetic data only
MEMBERS = 5_000
FIRST_MEMBER_ID = 1_000
STAFF_ID, FIRST_ADVISOR_ID = 1, 100
STAFF_EMAIL = "bench-staff@bench.example.edu"
ADVISOR_EMAIL = "bench-advisor@bench.example.edu"
STUDENT_EMAIL = "member000000@bench.example.edu"
EVENTS, APPOINTMENTS, ASSIGNMENTS, CHECK_IN_RATE = 20_000, 100_000, 10_000, 0.4
ADVISORS = 20
HOUSES, ROOMS_PER_HOUSE, BEDS_PER_ROOM = 40, 25, 2
YEARS = 3
UPCOMING_DAYS = 28  # events are planned this far ahead
SLOT_HOURS = (9, 10, 11, 12, 13, 14, 15, 16)  # 30-minute appointments on the hour


class Timer:
    """Rows and seconds per table, printed as each table is done."""

    def __init__(self):
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def insert(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        started = time.perf_counter()
        db.session.execute(insert(model), rows)
        self.add(model.__tablename__, len(rows), time.perf_counter() - started)

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds

    def report(self, table: str, started: float) -> None:
        """`started`: when generating this table began (Python work included)."""
        rows, total = self.rows.get(table, 0), time.perf_counter() - started
        rate = rows / total if total else 0.0
        print(
            f"  {table:<20} {rows:>10,} rows in {total:6.1f} s "
            f"({rate:,.0f} rows/s; {self.seconds.get(table, 0.0):.1f} s in the database)",
            flush=True,
        )


class Chunked:
    """Collects dicts for one table and inserts them CHUNK at a time."""

    def __init__(self, timer: Timer, model):
        self.timer, self.model, self.rows = timer, model, []

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        self.timer.insert(self.model, self.rows)
        self.rows = []


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(datetime(day.year, day.month, day.day, hour, minute))


def member_ids() -> range:
    return range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + MEMBERS)


# --- people -------------------------------------------------------------------------------


def add_people(timer: Timer, today: date, now: datetime, advisors: int) -> dict[int, str]:
    """Staff, advisors and members; returns each member's status."""
    rng = random.Random(SEED)
    password = hash_password(BENCH_PASSWORD)
    start = today - timedelta(days=365 * YEARS)
    base = {"active": True, "session_version": 1, "created_at": now, "updated_at": now}
    people = [
        {
            **base,
            "id": STAFF_ID,
            "email": STAFF_EMAIL,
            "name": "Bench Staff",
            "role": "staff",
            "is_admin": True,
            # Every staff job, so the dashboard (reports scope) is one of its pages.
            "staff_scopes": " ".join(GRANTED_SCOPES),
            "password_hash": password,
        }
    ]
    people += [
        {
            **base,
            "id": STAFF_ID + n,
            "email": f"staff{n}@bench.example.edu",
            "name": f"Staff {n}",
            "role": "staff",
            "is_admin": False,
            "password_hash": None,
        }
        for n in range(1, 5)
    ]
    people += [
        {
            **base,
            "id": FIRST_ADVISOR_ID + n,
            "email": ADVISOR_EMAIL if n == 0 else f"advisor{n:03d}@bench.example.edu",
            "name": f"Advisor {n:03d}",
            "role": "advisor",
            "is_admin": False,
            "password_hash": password if n == 0 else None,
        }
        for n in range(advisors)
    ]
    timer.insert(User, people)
    users, profiles, changes = Chunked(timer, User), Chunked(timer, MemberProfile), []
    statuses: dict[int, str] = {}
    for number, user_id in enumerate(member_ids()):
        roll = rng.random()
        status = (
            "active"
            if number == 0 or roll < 0.80
            else "on_leave"
            if roll < 0.85
            else "alumni"
            if roll < 0.93
            else "inactive"
            if roll < 0.98
            else "applicant"
        )
        statuses[user_id] = status
        joined = None if status == "applicant" else start + timedelta(days=rng.randrange(365 * 3))
        if number == 0:
            joined = start
        users.add(
            {
                **base,
                "id": user_id,
                "email": f"member{number:06d}@bench.example.edu",
                "name": f"Member {number:06d}",
                "role": "student",
                "is_admin": False,
                "password_hash": password if number == 0 else None,
            }
        )
        changed = datetime.combine(joined or today, datetime.min.time(), tzinfo=UTC)
        if status not in ("active", "applicant"):
            changed += timedelta(days=rng.randrange(max((today - joined).days, 1)))
        profiles.add(
            {
                "user_id": user_id,
                "status": status,
                "status_changed_at": changed,
                "joined_on": joined,
                "class_year": 2024 + number % 7,
                "share_network_with_staff": rng.random() < 0.3,
                "share_plan_with_staff": rng.random() < 0.3,
                "share_check_ins_with_staff": rng.random() < 0.4,
                "is_peer_mentor": status == "active" and rng.random() < 0.04,
                "show_first_name_to_peers": False,
                "show_real_titles": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        if joined is not None:
            entered = datetime.combine(joined, datetime.min.time(), tzinfo=UTC)
            changes.append((user_id, None, "applicant", entered - timedelta(days=14)))
            changes.append((user_id, "applicant", "active", entered))
        if status not in ("active", "applicant"):
            changes.append((user_id, "active", status, changed))
    users.flush()
    profiles.flush()
    timer.insert(
        StatusChange,
        [
            {
                "user_id": user_id,
                "from_status": before,
                "to_status": after,
                "changed_by_id": STAFF_ID,
                "note": "",
                "changed_at": at,
            }
            for user_id, before, after, at in changes
        ],
    )
    return statuses


# --- terms --------------------------------------------------------------------------------


def add_terms(timer: Timer, today: date) -> list[dict]:
    """Spring, summer and fall terms from three years ago to the next one; 7 periods each."""
    start = today - timedelta(days=365 * YEARS)
    terms, periods = [], []
    for year in range(start.year - 1, today.year + 2):
        for season, (month, day), (end_month, end_day) in (
            ("Spring", (1, 12), (5, 10)),
            ("Summer", (5, 19), (8, 15)),
            ("Fall", (8, 25), (12, 15)),
        ):
            begins, ends = date(year, month, day), date(year, end_month, end_day)
            if ends < start or begins > today + timedelta(days=120):
                continue
            term_id = len(terms) + 1
            terms.append(
                {"id": term_id, "name": f"{season} {year}", "starts_on": begins, "ends_on": ends}
            )
            mid = begins + timedelta(weeks=7)
            pause = begins + timedelta(weeks=13 if season == "Fall" else 9)
            for kind, name, first, last in (
                ("move_in", "Move-in", begins - timedelta(days=3), begins - timedelta(days=1)),
                ("classes_start", "Classes start", begins, begins),
                ("add_drop", "Add/drop", begins, begins + timedelta(days=13)),
                ("midterms", "Midterms", mid, mid + timedelta(days=4)),
                ("break", "Break", pause, pause + timedelta(days=6)),
                ("finals", "Finals", ends - timedelta(days=6), ends),
                ("move_out", "Move-out", ends + timedelta(days=1), ends + timedelta(days=2)),
            ):
                periods.append(
                    {
                        "term_id": term_id,
                        "kind": kind,
                        "name": f"{name}, {season} {year}",
                        "starts_on": first,
                        "ends_on": last,
                        "source_uid": None,
                    }
                )
    timer.insert(Term, terms)
    timer.insert(CalendarPeriod, periods)
    return terms


# --- events, RSVPs, attendance --------------------------------------------------------------


def event_times(count: int, today: date, years: float = YEARS) -> list[tuple[datetime, datetime]]:
    """`count` events evenly over the last `years` years and the next four weeks."""
    rng = random.Random(SEED + 1)
    first = today - timedelta(days=round(365 * years))
    span = (today + timedelta(days=UPCOMING_DAYS) - first).days
    times = []
    for number in range(count):
        day = first + timedelta(days=number * span // count)
        starts = local(day, rng.choice((12, 15, 17, 18, 19)), rng.choice((0, 30)))
        times.append((starts, starts + timedelta(minutes=90)))
    return times


def rsvp_plan(event_id: int, past: bool, capacity: int | None) -> list[tuple[int, str]]:
    """The same (user, status) list, in queue order, every time it is asked for."""
    rng = random.Random(event_id * 1_000_003 + SEED)
    users = rng.sample(member_ids(), rng.randint(10, 90))
    plan, going = [], 0
    for user_id in users:
        if past and rng.random() < 0.1:
            plan.append((user_id, "cancelled"))
        elif capacity is None or going < capacity:
            plan.append((user_id, "going"))
            going += 1
        else:
            plan.append((user_id, "waitlisted"))
    return plan


def event_shape(event_id: int, starts: datetime, now: datetime) -> tuple[int | None, bool]:
    """(capacity, cancelled) for an event, from its id."""
    capacity = 60 if event_id % 5 == 0 else None
    cancelled = starts < now and event_id % 50 == 7
    return capacity, cancelled


def add_events(timer: Timer, times, now: datetime) -> None:
    events = Chunked(timer, Event)
    kinds = list(KINDS)
    for event_id, (starts, ends) in enumerate(times, start=1):
        capacity, cancelled = event_shape(event_id, starts, now)
        plan = rsvp_plan(event_id, starts < now, capacity)
        events.add(
            {
                "id": event_id,
                "series_id": None,
                "kind": kinds[event_id % len(kinds)],
                "title": f"{KINDS[kinds[event_id % len(kinds)]]} #{event_id}",
                "public_title": "Community gathering",
                "description": "",
                "starts_at": starts,
                "ends_at": ends,
                "location": "Student Center 204",
                "online_link": None,
                "capacity": capacity,
                "house_id": None,
                "rsvp_deadline": None,
                "status": "cancelled" if cancelled else "scheduled",
                "cancelled_at": starts - timedelta(days=1) if cancelled else None,
                "show_attendee_names": False,
                "headcount_only": False,
                "headcount": None,
                "checkin_secret": f"{event_id:064x}",
                "allow_walk_ins": True,
                "going_count": sum(1 for _, status in plan if status == "going"),
                "sequence": 0,
                "created_by_id": STAFF_ID,
                "created_at": starts - timedelta(days=21),
                "updated_at": starts - timedelta(days=21),
            }
        )
    events.flush()


def add_rsvps(timer: Timer, times, now: datetime) -> None:
    rsvps = Chunked(timer, Rsvp)
    for event_id, (starts, _ends) in enumerate(times, start=1):
        capacity, _cancelled = event_shape(event_id, starts, now)
        queued = starts - timedelta(days=7)
        for number, (user_id, status) in enumerate(
            rsvp_plan(event_id, starts < now, capacity), start=1
        ):
            moment = queued + timedelta(minutes=number)
            rsvps.add(
                {
                    "event_id": event_id,
                    "user_id": user_id,
                    "status": status,
                    "queue_number": number,
                    "queued_at": moment,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
    rsvps.flush()


def add_attendance(timer: Timer, times, now: datetime) -> None:
    """Most (78%) of those who were going came (from the roster or a self check-in), plus a
    walk-in or two who had not RSVPed."""
    rows = Chunked(timer, Attendance)
    for event_id, (starts, ends) in enumerate(times, start=1):
        capacity, cancelled = event_shape(event_id, starts, now)
        if cancelled or ends >= now:
            continue
        rng = random.Random(event_id * 7 + SEED)
        plan = rsvp_plan(event_id, True, capacity)
        listed = {user_id for user_id, _ in plan}
        came = [(u, rng.choice(("roster", "self"))) for u, s in plan if s == "going"]
        came = [pair for pair in came if rng.random() < 0.78]
        for _ in range(rng.choice((0, 1, 1, 2))):
            walk_in = FIRST_MEMBER_ID + rng.randrange(MEMBERS)
            if walk_in not in listed:
                listed.add(walk_in)
                came.append((walk_in, "walk_in"))
        for user_id, source in came:
            rows.add(
                {
                    "event_id": event_id,
                    "user_id": user_id,
                    "source": source,
                    "recorded_by_id": None if source == "self" else STAFF_ID,
                    "recorded_at": starts + timedelta(minutes=15),
                }
            )
    rows.flush()


# --- advising -----------------------------------------------------------------------------


def appointment_row(number, advisor, student, starts, status, topic, mode) -> dict:
    cancelled = status == "cancelled"
    return {
        "id": number,
        "advisor_id": advisor,
        "student_id": student,
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=30),
        "topic": topic,
        "student_note": "",
        "mode": mode,
        "place": "Advising Center 110" if mode == "in_person" else "Link in the confirmation",
        "status": status,
        "booked_by_id": student,
        "cancelled_by_id": student if cancelled else None,
        "cancel_reason": "Schedule conflict" if cancelled else None,
        "cancelled_at": starts - timedelta(days=1) if cancelled else None,
        "private_notes": "",
        "summary": "Talked through next term's courses." if status == "completed" else "",
        "action_items": "",
        "reminder_sent_at": starts - timedelta(days=1),
        "sequence": 0,
        "created_at": starts - timedelta(days=5),
        "updated_at": starts,
    }


def add_appointments(
    timer: Timer, count: int, advisors: int, today: date, now: datetime, years: float = YEARS
):
    """Past appointments (completed, no-show or cancelled: no cells needed) on weekdays
    before this week, one advisor per slot; then this week and next for the bench advisor,
    booked ones holding their five-minute cells as the booking service would."""
    rng = random.Random(SEED + 2)
    monday = week_start(today)
    first = monday - timedelta(days=round(365 * years))
    days = [
        first + timedelta(days=n)
        for n in range((monday - first).days)
        if (first + timedelta(days=n)).weekday() < 5
    ]
    per_day = advisors * len(SLOT_HOURS)
    slots = sorted(rng.sample(range(len(days) * per_day), min(count, len(days) * per_day)))
    topics, modes = list(TOPICS), list(MODES)
    rows = Chunked(timer, Appointment)
    number = 0
    for slot in slots:
        day, rest = divmod(slot, per_day)
        advisor, hour = divmod(rest, len(SLOT_HOURS))
        roll = rng.random()
        status = "completed" if roll < 0.75 else "no_show" if roll < 0.85 else "cancelled"
        number += 1
        rows.add(
            appointment_row(
                number,
                FIRST_ADVISOR_ID + advisor,
                FIRST_MEMBER_ID + rng.randrange(MEMBERS),
                local(days[day], SLOT_HOURS[hour]),
                status,
                rng.choice(topics),
                rng.choice(modes),
            )
        )
    cells = []
    for offset in range(14):
        day = monday + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for hour in SLOT_HOURS:
            starts = local(day, hour)
            number += 1
            student = FIRST_MEMBER_ID + 1 + number % (MEMBERS - 1)
            status = "completed" if starts < now - timedelta(days=1) else "booked"
            rows.add(
                appointment_row(
                    number,
                    FIRST_ADVISOR_ID,
                    student,
                    starts,
                    status,
                    rng.choice(topics),
                    rng.choice(modes),
                )
            )
            if status == "booked":
                cells += [
                    {
                        "appointment_id": number,
                        "advisor_id": FIRST_ADVISOR_ID,
                        "student_id": student,
                        "cell_start": starts + timedelta(minutes=minutes),
                    }
                    for minutes in range(0, 30, CELL_MINUTES)
                ]
    rows.flush()
    timer.insert(AppointmentCell, cells)


# --- housing ------------------------------------------------------------------------------


def add_housing(timer: Timer, terms: list[dict], today: date, now: datetime) -> None:
    """40 houses × 25 rooms × 2 beds; ASSIGNMENTS spread over fall and spring terms, each
    bed and each student at most once per term (the partial unique indexes)."""
    rng = random.Random(SEED + 3)
    houses, rooms, beds = [], [], []
    for house in range(1, HOUSES + 1):
        houses.append(
            {
                "id": house,
                "name": f"Bench House {house:02d}",
                "address": f"{house} College Ave",
                "description": "",
                "meeting_schedule": "Sundays 7 pm",
                "who_may_live": "All genders",
                "active": True,
            }
        )
        for room in range(ROOMS_PER_HOUSE):
            room_id = (house - 1) * ROOMS_PER_HOUSE + room + 1
            rooms.append({"id": room_id, "house_id": house, "name": f"Room {room + 1}"})
            for bed in range(BEDS_PER_ROOM):
                beds.append(
                    {
                        "id": (room_id - 1) * BEDS_PER_ROOM + bed + 1,
                        "room_id": room_id,
                        "label": "AB"[bed],
                        "accessible": room == 0,
                        "active": True,
                    }
                )
    timer.insert(House, houses)
    timer.insert(Room, rooms)
    timer.insert(Bed, beds)
    housed = [t for t in terms if not t["name"].startswith("Summer") and t["starts_on"] <= today]
    per_term = min(ASSIGNMENTS // max(len(housed), 1), len(beds))
    rows = Chunked(timer, BedAssignment)
    for term in housed:
        over = term["ends_on"] < today
        students = rng.sample(member_ids(), per_term)
        for bed, student in zip(
            rng.sample(range(1, len(beds) + 1), per_term), students, strict=True
        ):
            roll = rng.random()
            status = "accepted" if roll < 0.92 else "declined" if roll < 0.97 else "ended"
            offered = datetime.combine(term["starts_on"], datetime.min.time(), tzinfo=UTC)
            rows.add(
                {
                    "term_id": term["id"],
                    "bed_id": bed,
                    "student_id": student,
                    "application_id": None,
                    "status": status,
                    "reply_by": term["starts_on"] - timedelta(days=14),
                    "move_in_on": term["starts_on"] - timedelta(days=2)
                    if status != "declined"
                    else None,
                    "move_out_on": term["ends_on"] + timedelta(days=1)
                    if over and status != "declined"
                    else None,
                    "offered_by_id": STAFF_ID,
                    "offered_at": offered - timedelta(days=30),
                    "answered_at": offered - timedelta(days=25),
                }
            )
    rows.flush()


# --- check-ins ----------------------------------------------------------------------------


def add_check_ins(timer: Timer, weeks: int, statuses: dict[int, str], today: date) -> None:
    """Weekly check-ins for the last `weeks` weeks from about 40% of members each week."""
    rng = random.Random(SEED + 4)
    monday = week_start(today)
    members = [user_id for user_id, status in statuses.items() if status != "applicant"]
    rows = Chunked(timer, CheckIn)
    for back in range(weeks, 0, -1):
        week = monday - timedelta(weeks=back)
        made = datetime.combine(week + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
        for user_id in members:
            if rng.random() >= CHECK_IN_RATE:
                continue
            rows.add(
                {
                    "student_id": user_id,
                    "week_start": week,
                    "mood": rng.randint(1, 5),
                    "stress": rng.randint(1, 5),
                    "sleep": rng.randint(1, 5),
                    "note": "A steady week." if rng.random() < 0.1 else None,
                    "note_removed_at": None,
                    "wants_outreach": rng.random() < 0.02,
                    "created_at": made,
                    "updated_at": made,
                }
            )
    rows.flush()


# --- the whole history ----------------------------------------------------------------------


def fix_sequences() -> None:
    """PostgreSQL: explicit ids do not move the id sequences; move them past the data."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("users", "terms", "events", "appointments", "houses", "rooms", "beds"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - fixed names
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def wal_mode() -> None:
    """SQLite: write-ahead logging, set once (it stays with the file). Outside any
    transaction, which the app's engine would otherwise open with BEGIN IMMEDIATE."""
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA journal_mode=WAL")
    finally:
        raw.close()


def fill(scale: float = 1, years: float = YEARS) -> None:
    """Empty the app's database and write the history into it (inside an app context),
    then build the dashboard's rollups from it, as `flask dashboard refresh --rebuild`.

    `scale` multiplies how much happens per week; `years` is how far back events and
    appointments go, at the same weekly density (0.3: a tenth of the history)."""
    started_all = time.perf_counter()
    db.drop_all()
    db.create_all()
    if db.engine.dialect.name == "sqlite":
        wal_mode()
    now = utcnow()
    today = now.astimezone(program_zone()).date()
    advisors = max(1, round(ADVISORS * scale))
    timer = Timer()
    share = years / YEARS
    print(f"history at scale {scale} over {years} years on {db.engine.dialect.name}:", flush=True)

    def step(tables, work):
        started = time.perf_counter()
        result = work()
        db.session.commit()
        for table in tables:
            timer.report(table, started)
        return result

    statuses = step(
        ("users", "member_profiles", "member_status_changes"),
        lambda: add_people(timer, today, now, advisors),
    )
    terms = step(("terms", "calendar_periods"), lambda: add_terms(timer, today))
    event_share = (365 * years + UPCOMING_DAYS) / (365 * YEARS + UPCOMING_DAYS)
    times = event_times(round(EVENTS * scale * event_share), today, years)
    step(("events",), lambda: add_events(timer, times, now))
    step(("rsvps",), lambda: add_rsvps(timer, times, now))
    step(("attendances",), lambda: add_attendance(timer, times, now))
    step(
        ("appointments", "appointment_cells"),
        lambda: add_appointments(
            timer, round(APPOINTMENTS * scale * share), advisors, today, now, years
        ),
    )
    step(
        ("houses", "rooms", "beds", "bed_assignments"),
        lambda: add_housing(timer, terms, today, now),
    )
    step(
        ("check_ins",),
        lambda: add_check_ins(timer, max(1, round(52 * scale * min(1, years))), statuses, today),
    )
    fix_sequences()
    db.session.commit()
    total = sum(timer.rows.values())
    print(f"history: {total:,} rows in {time.perf_counter() - started_all:.1f} s", flush=True)
    started = time.perf_counter()
    rollups.mark_everything()
    rollups.refresh()
    db.session.commit()
    sizes = ", ".join(
        f"{db.session.scalar(select(func.count()).select_from(model)):,} {name}"
        for name, model in (
            ("event tallies", EventTally),
            ("day rows", DayTally),
            ("member-weeks", MemberWeek),
        )
    )
    print(f"dashboard rollups: {sizes} in {time.perf_counter() - started:.1f} s", flush=True)


def load_targets(count: int = 10) -> list[int]:
    """Upcoming events without a capacity, soonest first but at least a day away."""
    soon = utcnow() + timedelta(days=1)
    return list(
        db.session.scalars(
            select(Event.id)
            .where(Event.starts_at > soon, Event.capacity.is_(None), Event.status == "scheduled")
            .order_by(Event.starts_at)
            .limit(count)
        )
    )


def build_app(database_url: str):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})


def database_url(argument: str | None) -> str:
    if argument:
        return argument if "://" in argument else f"sqlite:///{os.path.abspath(argument)}"
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("Give a SQLite file path or set BENCH_DATABASE_URL.")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", help="SQLite file path or database URL")
    parser.add_argument("--scale", type=float, default=1, help="activity multiplier (1 or 10)")
    parser.add_argument("--years", type=float, default=YEARS, help="how far back (3)")
    arguments = parser.parse_args()
    app = build_app(database_url(arguments.database))
    with app.app_context():
        fill(arguments.scale, arguments.years)
        counts = {
            "rsvps": db.session.scalar(select(func.count()).select_from(Rsvp)),
            "attendances": db.session.scalar(select(func.count()).select_from(Attendance)),
        }
        print("  check: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))


if __name__ == "__main__":
    main()
