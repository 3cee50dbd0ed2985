"""Screenshots of the main screens each demo role uses, on a desktop and on a phone.

`make screenshots` runs this: it builds the demo program (as `make run` seeds it, for
today) in a throwaway SQLite database, serves it on a loopback port, signs in as each
demo account in headless Chromium (Debian's, as the browser tests use) and writes
`docs/screenshots/<role>-<screen>-<desktop|phone>.png`, which README shows. Run it
again after a change to a page so the pictures stay current.
"""

import argparse
import os
import socket
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
BROWSERS = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# (role, demo account, [(screen, path)]): the pages each role opens first.
SCREENS = [
    ("student", "student@example.edu", [("home", "/"), ("events", "/events/")]),
    ("advisor", "advisor@example.edu", [("home", "/"), ("agenda", "/advising/agenda")]),
    ("staff", "staff@example.edu", [("home", "/"), ("housing-board", "/housing/board")]),
]


def demo_app(database: Path):
    """The portal on a fresh SQLite file, migrated and seeded with the demo program."""
    from flask_migrate import upgrade

    from crp_portal import create_app, demo
    from crp_portal.extensions import db
    from crp_portal.timeutil import local_today

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        upgrade(directory=str(HERE.parent.parent / "migrations"))
        demo.seed(local_today())
        db.session.commit()
        db.session.remove()
    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def take(out: Path, only: set[str] | None = None, browser=None) -> list[Path]:
    """Write every screenshot (or those whose `<role>-<screen>` is in `only`) to `out`,
    with `browser` (a Playwright Chromium) or a headless Chromium of its own."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        app = demo_app(Path(scratch, "demo.db"))
        port = free_port()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            if browser is not None:
                return _shoot(browser, f"http://127.0.0.1:{port}", out, only)
            executable = next(path for path in BROWSERS if os.path.exists(path))
            with sync_playwright() as playwright:
                own = playwright.chromium.launch(executable_path=executable, args=FLAGS)
                try:
                    return _shoot(own, f"http://127.0.0.1:{port}", out, only)
                finally:
                    own.close()
        finally:
            server.shutdown()
            thread.join(timeout=10)


def _shoot(browser, base_url: str, out: Path, only: set[str] | None) -> list[Path]:
    from crp_portal.demo import DEMO_PASSWORD

    written = []
    for role, email, screens in SCREENS:
        wanted = [(s, p) for s, p in screens if not only or f"{role}-{s}" in only]
        if not wanted:
            continue
        for size, viewport in VIEWPORTS.items():
            context = browser.new_context(base_url=base_url, viewport=viewport)
            try:
                page = context.new_page()
                page.goto("/sign-in")
                page.get_by_label("Email address", exact=True).fill(email)
                page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in", exact=True).click()
                page.wait_for_load_state()
                for screen, path in wanted:
                    page.goto(path)
                    target = out / f"{role}-{screen}-{size}.png"
                    page.screenshot(path=str(target))
                    written.append(target)
            finally:
                context.close()
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNG files")
    parser.add_argument("--only", nargs="*", help="role-screen names, e.g. student-home")
    args = parser.parse_args(argv)
    for path in take(args.out, set(args.only) if args.only else None):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
