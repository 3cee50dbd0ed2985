"""Load benchmark: serve a 1× history with gunicorn and drive it with wrk (issues #9, #19).

    python -m bench.load                                   # SQLite (WAL) in a temp directory
    BENCH_DATABASE_URL=postgresql+psycopg://… python -m bench.load

A bare Flask route (bench/bare.py) is served by the same gunicorn command and driven the
same way, before and after the portal, as the yardstick. Each target gets a 2 s warm-up,
then 10 s of load from wrk (BENCH_CONNECTIONS connections, default 16, one wrk thread
each). Prints requests/s, p50, p99, errors and the ratio of each target's requests/s to
the bare route's, then one `bench:` summary line. See bench/README.md.
"""

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.history import (
    ADVISOR_EMAIL,
    BENCH_PASSWORD,
    STAFF_EMAIL,
    STUDENT_EMAIL,
    YEARS,
    build_app,
    fill,
    load_targets,
)
from bench.nudges import free_port
from crp_portal.dashboard import queries
from crp_portal.extensions import db
from crp_portal.terms.services import current_term
from crp_portal.timeutil import local_today

ROOT = Path(__file__).resolve().parent.parent
WARM_UP, DURATION = 2, 5
# Each target is measured ROUNDS times, each time right after the bare route, and its
# share is the median of those pairs: on a shared VM the machine's speed drifts by a fifth
# within minutes, which one bare run before and one after every page did not cancel out.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
DASHBOARD_SAMPLES = 7
TENTH_YEARS = 0.3  # a tenth of the three years, at the same weekly density
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
# One sync worker per core, as issue #19 measured its yardstick ("sync x2" on two cores):
# the database is a local file, so a worker never waits on a network and more workers
# than cores only take turns on them (wrk runs on the same cores). BENCH_WORKERS=5 serves
# as gunicorn.conf.py's production default (2 x cores + 1) does on two cores.
WORKERS = int(os.environ.get("BENCH_WORKERS") or os.cpu_count() or 1)
PORTAL, BARE = "wsgi:app", "bench.bare:app"
# An event page, a spare to RSVP to before the load, and one event per connection for the
# measured RSVPs and another for the warm-up's (see `run_wrk`).
EVENTS_NEEDED = 2 + 2 * CONNECTIONS
USER_AGENT = "crp-bench"  # the same for sign-in and wrk: the session is tied to it
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')

# wrk script: one connection per thread, so a thread's requests are strictly in order and
# the RSVP target can alternate "going" / "cancel" on the thread's own event.
LUA = r"""
local method, paths, cookie, body, expect = %(method)s, %(paths)s, %(cookie)s, %(body)s, %(expect)d
local threads, count = {}, 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  bad, going_next, seen = 0, true, ""
  path = paths[((id - 1) %% #paths) + 1]
  headers = {["Cookie"] = cookie, ["User-Agent"] = "%(agent)s"}
  if method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end

function request()
  if method == "POST" then
    local target = going_next and path or (path .. "/cancel")
    return wrk.format("POST", target, headers, body)
  end
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  if method == "POST" then  -- the next action follows the answers, not the requests sent
    if status == 302 then going_next = not going_next elseif status == 404 then going_next = true end
  end
  if status ~= expect then
    bad, seen = bad + 1, seen .. " " .. status
  elseif status == 302 and string.find(headers["Location"] or "", "sign%%-in") then
    bad, seen = bad + 1, seen .. " signed-out"
  end
end

function done(summary, latency, requests)
  local unexpected, statuses = 0, ""
  for _, thread in ipairs(threads) do
    unexpected = unexpected + thread:get("bad")
    statuses = statuses .. thread:get("seen")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"socket_errors": %%d, "unexpected": %%d, "statuses": "%%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, unexpected, string.sub(statuses, 1, 200)))
end
"""


@dataclass
class Result:
    name: str
    path: str
    rate: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    skipped: str = ""
    share: float = 0.0  # of the bare route's requests/s, the median over rounds


class Client:
    """One person's HTTP session: cookies kept by hand (production marks them Secure,
    which a browser would not send over plain http; wrk sends whatever it is given)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        connection.close()
        return response.status, response.getheader("Location") or "", text

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def csrf_token(self, path: str) -> str:
        status, _, page = self.request("GET", path)
        match = CSRF.search(page)
        if status != 200 or match is None:
            raise RuntimeError(f"no CSRF token on {path} (status {status})")
        return match.group(1) or match.group(2)

    def sign_in(self, email: str) -> None:
        token = self.csrf_token("/sign-in")
        form = {"csrf_token": token, "email": email, "password": BENCH_PASSWORD}
        status, location, _ = self.request("POST", "/sign-in", form)
        if status != 302 or "sign-in" in location:
            raise RuntimeError(f"signing in as {email} failed (status {status})")


def start_server(url: str, port: int, log, application: str = PORTAL) -> subprocess.Popen:
    """gunicorn serving `application` (the portal, or bench.bare's yardstick): one command,
    so the two differ only in the app."""
    workers = WORKERS
    environment = {
        **os.environ,
        "CRP_CONFIG": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": url,
        "CRP_BASE_URL": f"http://127.0.0.1:{port}",
        "MAIL_SERVER": "",  # confirmation email goes to the log
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-k",
        "sync",
        "--threads",
        "1",  # sync workers, whatever GUNICORN_THREADS says
        "--max-requests",
        "0",  # gunicorn.conf.py recycles workers every ~2,000 requests: seconds here
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        application,
    ]
    print(f"gunicorn: {application}, {workers} sync workers on port {port}", flush=True)
    return subprocess.Popen(  # noqa: S603 - fixed command
        command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
    )


def wait_healthy(port: int, server: subprocess.Popen, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited; see its log above")
        try:
            if Client(port).request("GET", path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {path} within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM lets gunicorn finish requests in flight and stop its workers."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a valid Lua string


def run_wrk(
    port: int, directory: str, method: str, paths, cookie, body, expect, warm_up_paths=None
):
    """Warm up on `warm_up_paths` (default: `paths`), then measure on `paths`.

    wrk stops on a timer, not after its last answers: when the warm-up ends, each connection
    may still have a request in flight, which the server runs after wrk has gone. A write
    that waits for SQLite's lock (which queues no one in order) can land seconds later, in
    the middle of the measured run. An alternating target therefore warms up on other
    events: a late "cancel" from the warm-up used to fall between a connection's "going"
    and its own "cancel", which then answered 404 (about one RSVP in a thousand)."""
    script = Path(directory) / "target.lua"
    figures = None
    for seconds, phase_paths in ((WARM_UP, warm_up_paths or paths), (DURATION, paths)):
        script.write_text(
            LUA
            % {
                "method": lua_string(method),
                "paths": "{" + ", ".join(lua_string(path) for path in phase_paths) + "}",
                "cookie": lua_string(cookie),
                "body": lua_string(body),
                "expect": expect,
                "agent": USER_AGENT,
            }
        )
        completed = subprocess.run(  # noqa: S603 - fixed command
            [
                shutil.which("wrk") or "wrk",
                f"-t{CONNECTIONS}",
                f"-c{CONNECTIONS}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}{phase_paths[0]}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(x for x in completed.stdout.splitlines() if x.startswith("WRK "))
        figures = json.loads(line[4:])
    return figures


def measure(
    port, directory, name, method, paths, client, body="", expect=200, warm_up_paths=None
) -> Result:
    cookie = client.cookie_header()
    figures = run_wrk(port, directory, method, paths, cookie, body, expect, warm_up_paths)
    seconds = figures["duration_us"] / 1e6
    result = Result(
        name=name,
        path=paths[0] if method == "GET" else f"POST {paths[0]} (+/cancel)",
        rate=figures["requests"] / seconds,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["socket_errors"] + figures["unexpected"],
    )
    print(f"  {result.path}: {result.rate:,.0f} requests/s", flush=True)
    if result.errors:
        print(
            f"    errors: {figures['socket_errors']} socket (connect/read/write/timeout), "
            f"unexpected answers:{figures['statuses'] or ' none'}",
            flush=True,
        )
    return result


def check(client: Client, method: str, path: str, expect: int, form=None) -> int:
    """One request before the load, so a signed-out redirect cannot pass for speed."""
    status, location, _ = client.request(method, path, form)
    if status == expect and "sign-in" not in location:
        return status
    if status == 404:
        return status
    raise RuntimeError(f"{method} {path} answered {status} {location}, expected {expect}")


class Yardstick:
    """bench.bare's one route, served by the same gunicorn command as the portal and kept
    running beside it (idle while a page is driven), measured just before each page."""

    def __init__(self, directory: str, log):
        self.directory, self.port = directory, free_port()
        self.server = start_server("", self.port, log, BARE)
        self.runs: list[Result] = []

    def __enter__(self) -> "Yardstick":
        wait_healthy(self.port, self.server, "/")
        return self

    def __exit__(self, *_exception) -> None:
        stop_server(self.server)

    def measure(self) -> Result:
        run = measure(self.port, self.directory, "bare", "GET", ["/"], Client(self.port))
        self.runs.append(run)
        return run

    def summary(self) -> Result:
        return Result(
            name="bare",
            path=f"bare Flask GET / (median of {len(self.runs)})",
            rate=statistics.median(run.rate for run in self.runs),
            p50_ms=statistics.median(run.p50_ms for run in self.runs),
            p99_ms=max(run.p99_ms for run in self.runs),
            errors=sum(run.errors for run in self.runs),
            share=1.0,
        )


def paired(yardstick: Yardstick, *target) -> Result:
    """`measure(*target)` ROUNDS times, each right after the bare route: the median rate
    and share, the worst p99, every error."""
    runs, shares = [], []
    for _ in range(ROUNDS):
        bare = yardstick.measure()
        run = measure(*target)
        runs.append(run)
        shares.append(run.rate / (bare.rate or 1.0))
    first = runs[0]
    return Result(
        name=first.name,
        path=first.path,
        rate=statistics.median(run.rate for run in runs),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=max(run.p99_ms for run in runs),
        errors=sum(run.errors for run in runs),
        share=statistics.median(shares),
    )


def drive(port: int, directory: str, events: list[int], yardstick: Yardstick) -> list[Result]:
    """Each target in turn, paired with the yardstick. A connection's RSVP target is its own
    event, which it says "going" to first in every round: whatever a request abandoned at
    the end of a round did, "going" is right to send next."""
    student, advisor, staff = Client(port), Client(port), Client(port)
    student.sign_in(STUDENT_EMAIL)
    advisor.sign_in(ADVISOR_EMAIL)
    staff.sign_in(STAFF_EMAIL)
    page, spare = events[0], events[1]
    rsvp_events, warm_up_events = events[2 : 2 + CONNECTIONS], events[2 + CONNECTIONS :]
    token = student.csrf_token(f"/events/{page}")
    form = {"csrf_token": token}
    check(student, "POST", f"/events/{spare}/rsvp", 302, form)
    check(student, "POST", f"/events/{spare}/rsvp/cancel", 302, form)
    results = [paired(yardstick, port, directory, "healthz", "GET", ["/healthz"], student)]
    check(student, "GET", "/events/", 200)
    results.append(paired(yardstick, port, directory, "events", "GET", ["/events/"], student))
    check(student, "GET", f"/events/{page}", 200)
    results.append(paired(yardstick, port, directory, "event", "GET", [f"/events/{page}"], student))
    paths = [f"/events/{event}/rsvp" for event in rsvp_events]
    warm_up = [f"/events/{event}/rsvp" for event in warm_up_events]
    body = urlencode(form)
    results.append(
        paired(yardstick, port, directory, "rsvp", "POST", paths, student, body, 302, warm_up)
    )
    check(advisor, "GET", "/advising/agenda", 200)
    results.append(
        paired(yardstick, port, directory, "agenda", "GET", ["/advising/agenda"], advisor)
    )
    if check(staff, "GET", "/dashboard/", 200) == 404:
        results.append(Result("dashboard", "/dashboard/", skipped="skipped: not built yet"))
    else:
        results.append(
            paired(yardstick, port, directory, "dashboard", "GET", ["/dashboard/"], staff)
        )
    return results


def report(bare: Result, results: list[Result]) -> None:
    """Each target's requests/s and its share of the bare route's (the median over its
    rounds, each against the bare run just before it), then the pages' share of /healthz's,
    as before issue #19."""
    print()
    print(f"{'path':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'÷bare':>6}")
    for result in [bare, *results]:
        if result.skipped:
            print(f"{result.path:<42} {result.skipped}")
            continue
        print(
            f"{result.path:<42} {result.rate:>8,.0f} {result.p50_ms:>8.1f} "
            f"{result.p99_ms:>8.1f} {result.errors:>7} {result.share:>6.3f}"
        )
    measured = [r for r in results if not r.skipped]
    healthz = results[0].share or 1.0
    print(
        "ratio to /healthz: "
        + " ".join(f"{r.name}={r.share / healthz:.2f}" for r in measured if r.name != "healthz")
    )
    ratio = {r.name: ("n/a" if r.skipped else f"{r.share:.3f}") for r in results}
    errors = sum(r.errors for r in results)
    worst = max((r.p99_ms for r in measured), default=0.0)
    print(
        "bench: "
        + " ".join(f"{name}/bare={value}" for name, value in ratio.items())
        + f" p99-max={worst:.0f}ms errors={errors}"
    )


def dashboard_cost(url: str) -> float:
    """Median seconds to compute the dashboard's figures for the current term from the
    rollups, with nothing remembered: what the page costs right after any write."""
    app = build_app(url)
    with app.test_request_context("/dashboard/", method="GET"):
        term = current_term(local_today())
        date_range = queries.DateRange(term.starts_on, term.ends_on)
        samples = []
        for _ in range(DASHBOARD_SAMPLES):
            app.extensions.pop("crp_dashboard_figures", None)
            started = time.perf_counter()
            queries.figures(date_range, term)
            samples.append(time.perf_counter() - started)
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return statistics.median(samples)


def report_history_growth(small: float, large: float) -> None:
    print(
        f"dashboard figures, current term, nothing remembered (median of {DASHBOARD_SAMPLES}): "
        f"{small * 1000:.1f} ms with the last {TENTH_YEARS} years of history, "
        f"{large * 1000:.1f} ms with all {YEARS} years (ten times as much)"
    )
    print(f"bench: dashboard 10x-history/1x={large / small:.2f}")


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench.load needs wrk (apt-get install wrk)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{directory}/history.sqlite3"
        app = build_app(url)
        with app.app_context():
            fill(1)
            events = load_targets(EVENTS_NEEDED)
            db.session.remove()
            db.engine.dispose()
        full_history = dashboard_cost(url)
        if len(events) < EVENTS_NEEDED:
            raise SystemExit("not enough upcoming events to aim at")
        port = free_port()
        log_path = Path(directory) / "gunicorn.log"
        with open(log_path, "w") as log:
            try:
                with Yardstick(directory, log) as yardstick:
                    server = start_server(url, port, log)
                    try:
                        wait_healthy(port, server)
                        results = drive(port, directory, events, yardstick)
                    finally:
                        stop_server(server)
                bare = yardstick.summary()
            except Exception:
                log.flush()
                print(log_path.read_text()[-4000:])
                raise
        report(bare, results)
        with app.app_context():
            fill(1, years=TENTH_YEARS)
            db.session.remove()
            db.engine.dispose()
        report_history_growth(dashboard_cost(url), full_history)
    print(f"(whole run {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
