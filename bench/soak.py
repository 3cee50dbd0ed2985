"""Soak: a minute of mixed traffic with faults injected (issue #10, item 6).

    python -m bench.soak                 # SQLite (WAL) in a temporary directory
    python -m bench.soak --postgres      # a throwaway PostgreSQL server it can restart
    BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench.soak   # no restart phase
    python -m bench.soak --years 1       # a year of history (make soak), not three

Generates the 1× history (bench.history), serves it with gunicorn like bench.load, and
drives SOAK_SECONDS (60) of mixed traffic with wrk and bench/soak.lua: the events list
and an event page, RSVP and cancel, the advisor's agenda, booking an advising slot and
cancelling it, the staff dashboard. Meanwhile:

(a) worker kills: a writer thread toggles RSVPs on its own events and records each write
    the server acknowledged (a redirect back to the event), and at a quarter, half and
    three quarters of the run one gunicorn worker is SIGKILLed (the master respawns
    it). Afterwards every acknowledged write must be in the database and nothing may be
    half-written: an event's `going_count` equals its "going" RSVPs, a booked
    appointment holds all its time cells and a cancelled one none.
(b) PostgreSQL restart (only on a server this script started): a further
    RESTART_SECONDS of the same traffic; the server is stopped for OUTAGE_SECONDS and
    started again. Every 5xx must be a 503, and a prober measures how long after the
    database is back the portal answers 200 again, by itself.

Prints the figures and one summary line; exits 1 if a promise was broken. See
bench/README.md.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select

from bench.history import (
    ADVISOR_EMAIL,
    FIRST_ADVISOR_ID,
    FIRST_MEMBER_ID,
    STAFF_EMAIL,
    STUDENT_EMAIL,
    YEARS,
    build_app,
    fill,
    load_targets,
)
from bench.load import USER_AGENT, Client, check, start_server, stop_server, wait_healthy
from bench.nudges import free_port
from crp_portal.advising import availability, services
from crp_portal.advising.models import CELL_MINUTES, Appointment, AppointmentCell, AppointmentStatus
from crp_portal.auth.models import User
from crp_portal.events.models import Event, Rsvp, RsvpStatus
from crp_portal.extensions import db
from crp_portal.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).with_name("soak.lua")
SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
RESTART_SECONDS, OUTAGE_AT, OUTAGE_SECONDS = 20, 5, 3
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WRITER_EVENTS, SLOTS_PER_CONNECTION = 20, 3
# Flask's log line for a 500, ours (crp_portal.errors) and gunicorn's for an app crash.
UNHANDLED = "Unhandled error on|Exception on /|Error handling request"


@dataclass
class Setup:
    page: int
    rsvp_events: list[int]
    writer_events: list[int]
    slots: list[list[list[str]]]  # per phase, per connection: slot keys to book
    first_appointment: int


@dataclass
class Writer:
    """Toggles RSVPs on its own events; remembers what the server acknowledged."""

    client: Client
    token: str
    events: list[int]
    going: dict[int, bool] = field(default_factory=dict)
    uncertain: set[int] = field(default_factory=set)
    acknowledged: int = 0
    server_errors: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for event in self.events:
                if self.stop.is_set():
                    return
                if event not in self.uncertain:
                    self.toggle(event)

    def toggle(self, event: int) -> None:
        going = not self.going.get(event, False)
        path = f"/events/{event}/rsvp" + ("" if going else "/cancel")
        try:
            status, location, _ = self.client.request("POST", path, {"csrf_token": self.token})
        except OSError:  # the worker died mid-request: done or not, we cannot know
            self.uncertain.add(event)
            return
        if status == 302 and location.endswith(f"/events/{event}"):
            self.going[event] = going
            self.acknowledged += 1
            return
        self.server_errors += status >= 500
        self.uncertain.add(event)


# --- the data ---------------------------------------------------------------------------


def prepare(app, years: float) -> Setup:
    """The history, plus weekday hours for the bench advisor and the slots to book."""
    with app.app_context():
        fill(1, years)
        targets = load_targets(2 + CONNECTIONS + WRITER_EVENTS)
        if len(targets) < 2 + CONNECTIONS + WRITER_EVENTS:
            raise SystemExit("not enough upcoming events to aim at")
        advisor = db.session.get(User, FIRST_ADVISOR_ID)
        for weekday in range(5):
            availability.add_window(advisor, weekday, clock(8), clock(18), "in_person", "Room 1")
        db.session.commit()
        soon = utcnow() + timedelta(days=2)  # far past the minimum notice for the whole run
        slots = [
            slot.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
            for slot in services.available_slots(FIRST_ADVISOR_ID, FIRST_MEMBER_ID, utcnow())
            if slot.starts_at > soon
        ][: 2 * CONNECTIONS * SLOTS_PER_CONNECTION]
        first_appointment = (db.session.scalar(select(func.max(Appointment.id))) or 0) + 1
        db.session.remove()
        db.engine.dispose()
    # Each phase books its own slots: the first may end holding some.
    phases = [slots[: len(slots) // 2], slots[len(slots) // 2 :]]
    per_connection = [[keys[n::CONNECTIONS] for n in range(CONNECTIONS)] for keys in phases]
    return Setup(
        page=targets[0],
        rsvp_events=targets[2 : 2 + CONNECTIONS],
        writer_events=targets[2 + CONNECTIONS :],
        slots=per_connection,
        first_appointment=first_appointment,
    )


def verify(app, setup: Setup, writer: Writer) -> tuple[int, int]:
    """(lost, half-written): acknowledged writes missing, rows out of step."""
    with app.app_context():
        rows = db.session.execute(
            select(Rsvp.event_id, Rsvp.status).where(
                Rsvp.event_id.in_(writer.going),
                Rsvp.user_id == FIRST_MEMBER_ID,
            )
        ).all()
        actual = {event: status == RsvpStatus.GOING for event, status in rows}
        lost = sum(
            1
            for event, going in writer.going.items()
            if event not in writer.uncertain and actual.get(event, False) != going
        )
        going = (
            select(Rsvp.event_id, func.count().label("going"))
            .where(Rsvp.status == RsvpStatus.GOING)
            .group_by(Rsvp.event_id)
            .subquery()
        )
        miscounted = db.session.scalar(
            select(func.count())
            .select_from(Event)
            .outerjoin(going, going.c.event_id == Event.id)
            .where(Event.going_count != func.coalesce(going.c.going, 0))
        )
        cells = (
            select(AppointmentCell.appointment_id, func.count().label("cells"))
            .group_by(AppointmentCell.appointment_id)
            .subquery()
        )
        appointments = db.session.execute(
            select(Appointment.status, Appointment.starts_at, Appointment.ends_at, cells.c.cells)
            .outerjoin(cells, cells.c.appointment_id == Appointment.id)
            .where(Appointment.id >= setup.first_appointment)
        ).all()
        wrong_cells = sum(
            1
            for status, starts, ends, held in appointments
            if (held or 0)
            != (
                (ends - starts) // timedelta(minutes=CELL_MINUTES)
                if status == AppointmentStatus.BOOKED
                else 0
            )
        )
        print(
            f"  check: {len(appointments)} appointments booked during the run, "
            f"{wrong_cells} with wrong time cells; {miscounted} events whose going_count "
            f"differs from their going RSVPs",
            flush=True,
        )
        db.session.remove()
        db.engine.dispose()
    return lost, miscounted + wrong_cells


# --- traffic ----------------------------------------------------------------------------


def wrk_command(
    port: int, setup: Setup, student, advisor, staff, seconds: int, phase: int
) -> list[str]:
    token = student.csrf_token(f"/events/{setup.page}")
    return [
        shutil.which("wrk") or "wrk",
        f"-t{CONNECTIONS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "20s",
        "-s",
        str(SCRIPT),
        f"http://127.0.0.1:{port}/",
        "--",
        USER_AGENT,
        student.cookie_header(),
        advisor.cookie_header(),
        staff.cookie_header(),
        quote(token, safe=""),
        str(setup.page),
        ",".join(map(str, setup.rsvp_events)),
        str(FIRST_ADVISOR_ID),
        "|".join(",".join(keys) for keys in setup.slots[phase]),
    ]


def figures_of(completed: subprocess.CompletedProcess) -> dict:
    line = next((x for x in completed.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(line[4:])


def workers_of(server: subprocess.Popen) -> list[int]:
    """The gunicorn master's worker processes (its children)."""
    found = subprocess.run(  # noqa: S603 - fixed command
        [shutil.which("pgrep") or "pgrep", "-P", str(server.pid)], capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()]


def run_with_kills(command: list[str], server: subprocess.Popen, kills: int) -> tuple[dict, int]:
    """wrk for the whole run; a worker SIGKILLed at each of `kills` even points in it."""
    load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    started, killed = time.monotonic(), 0
    for number in range(1, kills + 1):
        moment = started + SOAK_SECONDS * number / (kills + 1)
        time.sleep(max(0.0, moment - time.monotonic()))
        workers = workers_of(server)
        if workers:
            victim = random.choice(workers)  # noqa: S311 - not security
            os.kill(victim, signal.SIGKILL)
            killed += 1
            print(f"  {time.monotonic() - started:4.0f} s: SIGKILL worker {victim}", flush=True)
    stdout, stderr = load.communicate(timeout=SOAK_SECONDS + 60)
    return figures_of(subprocess.CompletedProcess(command, load.returncode, stdout, stderr)), killed


@dataclass
class Probe:
    """GETs a page that needs the database, every tenth of a second, noting each answer."""

    client: Client
    answers: list[tuple[float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.1):
            try:
                status = self.client.request("GET", "/events/")[0]
            except OSError:
                status = 0
            self.answers.append((time.monotonic(), status))


class RestartablePostgres:
    """A throwaway server (tests.pg) that can be stopped and started with its options."""

    def __init__(self):
        from tests.pg import ThrowawayPostgres

        self.server = ThrowawayPostgres.start()
        if self.server is None:
            raise SystemExit("--postgres needs Debian's PostgreSQL (apt-get install postgresql)")
        self.url = self.server.url

    def pg_ctl(self, *args: str) -> None:
        data = os.path.join(self.server.root, "data")
        command = [*self.server.as_user, f"{self.server.bin_dir}/pg_ctl", "-D", data, *args]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        root, port = self.server.root, self.server.port
        options = f"-k {root}/sock -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-l", f"{root}/postgres.log", "-w", "-o", options, "start")

    def remove(self) -> None:
        self.server.stop()


def run_with_restart(command: list[str], postgres: RestartablePostgres, probe: Probe) -> dict:
    load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    prober = threading.Thread(target=probe.run, daemon=True)
    prober.start()
    time.sleep(OUTAGE_AT)
    down = time.monotonic()
    postgres.stop()
    print("  PostgreSQL stopped", flush=True)
    time.sleep(OUTAGE_SECONDS)
    postgres.start()
    back = time.monotonic()
    print(f"  PostgreSQL started again after {back - down:.1f} s", flush=True)
    stdout, stderr = load.communicate(timeout=RESTART_SECONDS + 60)
    probe.stop.set()
    prober.join()
    figures = figures_of(subprocess.CompletedProcess(command, load.returncode, stdout, stderr))
    during = [status for moment, status in probe.answers if down <= moment <= back]
    after = [(moment, status) for moment, status in probe.answers if moment > back]
    first_ok = next((moment for moment, status in after if status == 200), None)
    figures["probe_during"] = sorted(set(during))
    figures["recovered_in"] = None if first_ok is None else first_ok - back
    figures["failed_after_recovery"] = sum(
        1
        for moment, status in after
        if first_ok is not None and moment > first_ok and status != 200
    )
    return figures


# --- the run ----------------------------------------------------------------------------


def report(name: str, figures: dict) -> None:
    seconds = figures["duration_us"] / 1e6
    print(
        f"  {name}: {figures['requests']:,} requests in {seconds:.0f} s "
        f"({figures['requests'] / seconds:,.0f}/s), p50 {figures['p50_us'] / 1000:.1f} ms, "
        f"p99 {figures['p99_us'] / 1000:.1f} ms, max {figures['max_us'] / 1000:.0f} ms; "
        f"5xx {figures['n5xx']} (503: {figures['n503']}, 500: {figures['n500']}); "
        f"other unexpected {figures['unexpected']}{figures['seen']}; "
        f"signed out {figures['signed_out']}; socket errors: connect {figures['connect']}, "
        f"read {figures['read']}, write {figures['write']}, timeout {figures['timeout']}",
        flush=True,
    )


def print_unhandled(log_path: Path, most: int = 3) -> None:
    """The first tracebacks of requests that ended in a 500, from gunicorn's log."""
    text = log_path.read_text(errors="replace")
    starts = list(re.finditer(UNHANDLED, text))
    for number, start in enumerate(starts):
        if number == most:
            print(f"  ({len(starts)} unhandled errors in all; see the gunicorn log)")
            break
        end = text.find("\n127.0.0.1 - ", start.start())
        print("  " + text[start.start() : end if end > 0 else None][-3000:], flush=True)


def soak(url: str, postgres: RestartablePostgres | None, directory: str, arguments) -> bool:
    app = build_app(url)
    setup = prepare(app, arguments.years)
    kills = arguments.kills
    port = free_port()
    log_path = Path(directory) / "gunicorn.log"
    with open(log_path, "w") as log:
        server = start_server(url, port, log)
        try:
            wait_healthy(port, server)
            student, advisor, staff = Client(port), Client(port), Client(port)
            student.sign_in(STUDENT_EMAIL)
            advisor.sign_in(ADVISOR_EMAIL)
            staff.sign_in(STAFF_EMAIL)
            for client, path in ((student, "/events/"), (advisor, "/advising/agenda")):
                check(client, "GET", path, 200)
            check(staff, "GET", "/dashboard/", 200)
            writer_client = Client(port)
            writer_client.sign_in(STUDENT_EMAIL)
            writer = Writer(
                writer_client, writer_client.csrf_token("/events/"), setup.writer_events
            )
            command = wrk_command(port, setup, student, advisor, staff, SOAK_SECONDS, 0)
            print(f"mixed traffic for {SOAK_SECONDS} s, {CONNECTIONS} connections:", flush=True)
            writing = threading.Thread(target=writer.run, daemon=True)
            writing.start()
            load, killed = run_with_kills(command, server, kills)
            writer.stop.set()
            writing.join()
            report("load", load)
            restart = None
            if postgres is not None:
                print(f"PostgreSQL restart under {RESTART_SECONDS} s of traffic:", flush=True)
                command = wrk_command(port, setup, student, advisor, staff, RESTART_SECONDS, 1)
                restart = run_with_restart(command, postgres, Probe(student))
                report("restart", restart)
        except Exception:
            log.flush()
            print(log_path.read_text()[-4000:])
            raise
        finally:
            stop_server(server)
            log.flush()
            print_unhandled(log_path)
    lost, half_written = verify(app, setup, writer)
    print(
        f"  writer: {writer.acknowledged} acknowledged RSVP writes, "
        f"{len(writer.uncertain)} unanswered or refused (not counted), "
        f"{writer.server_errors} 5xx",
        flush=True,
    )
    server_errors = load["n5xx"] + writer.server_errors
    summary = (
        f"soak: requests={load['requests']} 5xx={server_errors} "
        f"p50={load['p50_us'] / 1000:.0f}ms p99={load['p99_us'] / 1000:.0f}ms "
        f"worker-kill kills={killed} acked={writer.acknowledged} lost={lost} "
        f"half-written={half_written}"
    )
    healthy = server_errors == 0 and lost == 0 and half_written == 0 and killed == kills
    if restart is None:
        summary += " pg-restart skipped (needs --postgres)"
    else:
        recovered = restart["recovered_in"]
        summary += (
            f" pg-restart 503s={restart['n503']} 500s={restart['n500']} "
            f"other-5xx={restart['n5xx'] - restart['n503']} "
            f"recovered_in={'never' if recovered is None else f'{recovered:.1f}s'}"
        )
        healthy = healthy and restart["n5xx"] == restart["n503"] and recovered is not None
        healthy = healthy and restart["failed_after_recovery"] == 0
    print(summary, flush=True)
    return healthy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL server, and restart it under load",
    )
    parser.add_argument("--kills", type=int, default=3, help="workers to SIGKILL (default 3)")
    parser.add_argument(
        "--years",
        type=float,
        default=YEARS,
        help=f"history to generate, in years ({YEARS:g}: the 1x history; 0.3: a tenth)",
    )
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench.soak needs wrk (apt-get install wrk)")
    started = time.perf_counter()
    postgres = RestartablePostgres() if arguments.postgres else None
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = (
                postgres.url
                if postgres
                else os.environ.get("BENCH_DATABASE_URL")
                or f"sqlite:///{directory}/history.sqlite3"
            )
            healthy = soak(url, postgres, directory, arguments)
    finally:
        if postgres is not None:
            postgres.remove()
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
    if not healthy:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
