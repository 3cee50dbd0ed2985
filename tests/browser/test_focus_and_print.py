"""What keyboard users and people who print see, in headless Chromium (issue #18).

Focus: on a few pages each role visits, Tab through every stop (links, buttons, fields,
the date field's own picker button) and measure, in the page, the focus ring's colours
and the background behind it; the ring must reach 3:1 (WCAG 1.4.11) against every
background it sits on. A ring may be two-tone (WCAG technique C40): it passes where
either tone reaches 3:1, so a dark outline with a light halo reads on white and on the
blue header alike.

Print: with print media emulated, the attendance page prints a sign-in sheet of the
roster (and no check-in code), the relapse-prevention plan prints its text, and the
dashboard report prints its figures; none of them prints the navigation or buttons.

The demo program is seeded, as in the journeys, and each test runs against SQLite and
PostgreSQL (the `app` fixture is parametrized).
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crp_portal import demo
from crp_portal.events import attendance
from crp_portal.events.models import Event, Rsvp
from crp_portal.extensions import db
from crp_portal.timeutil import local_today, utcnow
from tests.browser.test_journeys import main_nav, open_page, sign_in

pytestmark = pytest.mark.browser

WCAG_NON_TEXT = 3.0
MAX_STOPS = 120  # more than any page here has; a page that never lets go fails loudly

# Measures the focused element: its ring (outline, and box-shadow bands with a spread but
# no blur, which draw solid rings) and what lies behind the ring. "Behind" is taken two
# ways: the first opaque background up the element's ancestors, and what is painted just
# outside the ring on each side (elementsFromPoint), which also catches a positioned
# element, like the skip link, drawn over another box. Colours are composited to RGB.
MEASURE_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const parse = (text) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(text || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const flatten = (layers) => {  // layers top first; the canvas under them is white
    let rgb = [255, 255, 255];
    for (const c of [...layers].reverse()) rgb = rgb.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
    return rgb;
  };
  const behind = (elements) => {
    const layers = [];
    for (const e of elements) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return flatten(layers);
  };
  const ancestors = [];
  for (let e = el.parentElement; e; e = e.parentElement) ancestors.push(e);
  const style = getComputedStyle(el);
  const outlineOn = !['none', 'hidden'].includes(style.outlineStyle);
  const outlineWidth = outlineOn ? parseFloat(style.outlineWidth) : 0;
  const shadows = (style.boxShadow === 'none' ? [] : style.boxShadow.split(/,(?![^(]*\\))/))
    .map((s) => {
      const lengths = (s.replace(/rgba?\\([^)]*\\)/, '').match(/-?[\\d.]+px/g) || []).map(parseFloat);
      return {color: parse(s), inset: /inset/.test(s), blur: lengths[2] || 0, spread: lengths[3] || 0};
    })
    .filter((s) => s.color && !s.inset && s.blur === 0 && s.spread >= 2);
  const rect = el.getBoundingClientRect();
  const reach = Math.max(parseFloat(style.outlineOffset) || 0, 0) + outlineWidth + 1;
  const cx = rect.left + rect.width / 2, cy = rect.top + rect.height / 2;
  const sides = {above: [cx, rect.top - reach], below: [cx, rect.bottom + reach],
                 left: [rect.left - reach, cy], right: [rect.right + reach, cy]};
  const backgrounds = [{where: 'ancestors', rgb: behind(ancestors)}];
  for (const [where, [x, y]] of Object.entries(sides)) {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    const stack = document.elementsFromPoint(x, y).filter((e) => e !== el && !el.contains(e));
    backgrounds.push({where, rgb: behind(stack)});
  }
  const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
  const name = (el.getAttribute('aria-label') || label || el.innerText || el.value || '').trim();
  return {
    element: `${el.tagName.toLowerCase()}${el.type ? '[' + el.type + ']' : ''} "${name.slice(0, 40)}"` +
             (el.id ? ` #${el.id}` : ''),
    key: [el.tagName, el.id, el.getAttribute('name'), el.getAttribute('href'), name].join('|'),
    dateField: el.type === 'date',
    pickerButton: !el.matches(':focus'),  // focus is inside the field: its picker button
    outline: outlineOn ? parse(style.outlineColor) : null,
    outlineWidth,
    halos: shadows.map((s) => s.color),
    backgrounds,
  };
}"""


@pytest.fixture
def demo_program(app) -> None:
    """The demo program of the journeys, seeded into the test database."""
    with app.app_context():
        demo.seed(local_today())
        db.session.commit()
        db.session.remove()


def luminance(rgb) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def over(color, backdrop):
    """`color` (RGBA) painted on an opaque `backdrop`."""
    alpha = color[3]
    return [c * alpha + b * (1 - alpha) for c, b in zip(color[:3], backdrop, strict=True)]


def css(rgb) -> str:
    return "rgb({:.0f}, {:.0f}, {:.0f})".format(*rgb[:3])


def focus_stops(page) -> list[dict]:
    """Tab from the top of the page until focus leaves it; measure each stop."""
    page.locator("body").focus()
    stops: list[dict] = []
    for _ in range(MAX_STOPS):
        page.keyboard.press("Tab")
        stop = page.evaluate(MEASURE_FOCUS)
        if stop is None:
            return stops
        stops.append(stop)
    pytest.fail(f"{page.url}: still tabbing after {MAX_STOPS} stops")


def ring_problem(stop: dict) -> str | None:
    """Why this stop's ring would be hard to see (on its worst background), if it would."""
    if stop["outline"] is None or stop["outlineWidth"] < 2:
        return f"{stop['element']}: no focus outline ({stop['outlineWidth']}px)"
    worst = None
    for background in stop["backgrounds"]:
        behind = background["rgb"]
        tones = [over(stop["outline"], behind)] + [over(h, behind) for h in stop["halos"]]
        best = max(contrast(tone, behind) for tone in tones)
        if worst is None or best < worst[0]:
            worst = (best, tones, behind, background["where"])
    best, tones, behind, where = worst
    if best >= WCAG_NON_TEXT:
        return None
    ring = " + ".join(css(tone) for tone in tones)
    return f"{stop['element']}: ring {ring} on {css(behind)} ({where}) is {best:.2f}:1"


def arrange_open_event(app) -> int:
    """A demo event with RSVPs that has started, so its attendance page is fully working."""
    with app.app_context():
        event = db.session.scalars(
            select(Event)
            .where(Event.headcount_only.is_(False), Event.starts_at > utcnow())
            .where(Event.id.in_(select(Rsvp.event_id)))
            .order_by(Event.starts_at)
            .limit(1)
        ).one()
        event.starts_at = utcnow() - timedelta(minutes=5)
        event.ends_at = event.starts_at + timedelta(hours=1)
        db.session.commit()
        event_id = event.id
        db.session.remove()
    return event_id


@dataclass(frozen=True)
class Visit:
    email: str | None  # None: not signed in
    paths: tuple[str, ...]
    has_date_field: bool = False


ATTENDANCE = "{attendance}"
VISITS = {
    "anonymous": Visit(None, ("/sign-in", "/reset-password")),
    "student": Visit("student@example.edu", ("/", "/events/", "/me/plan", "/me/profile"), True),
    "advisor": Visit("advisor@example.edu", ("/", "/advising/agenda")),
    "events staff": Visit("events@example.edu", ("/events/new", ATTENDANCE), True),
    "reports staff": Visit("reports@example.edu", ("/dashboard/",), True),
}


@pytest.mark.parametrize("role", list(VISITS))
def test_the_focus_ring_stands_out_on_every_background(app, demo_program, page, role):
    visit = VISITS[role]
    paths = list(visit.paths)
    if ATTENDANCE in paths:
        paths[paths.index(ATTENDANCE)] = f"/events/{arrange_open_event(app)}/attendance"
    if visit.email:
        sign_in(page, visit.email)
        expect(main_nav(page).get_by_role("button", name="Sign out")).to_be_visible()

    problems, stops_seen, picker_stops = [], 0, 0
    for path in paths:
        open_page(page, path)
        stops = focus_stops(page)
        assert len(stops) >= 5, f"{path}: only {len(stops)} focus stops"
        stops_seen += len(stops)
        picker_stops += sum(1 for stop in stops if stop["dateField"] and stop["pickerButton"])
        for stop in stops:
            if problem := ring_problem(stop):
                problems.append(f"{path}: {problem}")

    assert not problems, f"{role}: {len(problems)} weak focus rings in {stops_seen} stops:\n" + (
        "\n".join(problems)
    )
    if visit.has_date_field:
        assert picker_stops, f"{role}: Tab never reached a date field's picker button"


def printing(page) -> None:
    page.emulate_media(media="print")


def test_the_attendance_page_prints_a_sign_in_sheet_without_the_check_in_code(
    app, demo_program, page
):
    event_id = arrange_open_event(app)
    with app.app_context():
        event = db.session.get(Event, event_id)
        code, title = event.checkin_code, event.title
        people = [person for person, _status, _present in attendance.roster(event)]
        names = [person.display_name for person in people]
        legal_names = [person.name for person in people if person.name != person.display_name]
        db.session.remove()
    assert len(names) >= 3 and legal_names  # the demo has someone with a preferred name
    sign_in(page, "events@example.edu")
    open_page(page, f"/events/{event_id}/attendance")
    expect(page.get_by_text(code, exact=True)).to_be_visible()
    sheet = page.get_by_role("table", name=re.compile(r"^Sign-in sheet"))
    expect(sheet).to_be_hidden()  # on screen, the roster with its tick boxes stands in
    page.evaluate("() => { window.print = () => { document.body.dataset.printed = 'yes'; }; }")
    page.get_by_role("button", name="Print sign-in sheet").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")

    printing(page)

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Attendance: {title}")
    expect(sheet).to_be_visible()
    expect(sheet.get_by_role("columnheader")).to_have_text(["Name", "RSVP", "Signature"])
    for name in names:
        row = sheet.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
        expect(row).to_be_visible()
        expect(row.get_by_role("cell").last).to_have_text("")  # the space to sign
    for legal_name in legal_names:  # the sheet goes round the room: the name people go by
        expect(sheet).not_to_contain_text(legal_name)
    expect(page.get_by_text(code, exact=True)).to_be_hidden()
    expect(page.get_by_role("heading", name="Self check-in code")).to_be_hidden()
    expect(main_nav(page)).to_be_hidden()
    expect(page.get_by_role("contentinfo")).to_be_hidden()
    # Controls are left off the paper (hidden elements have no role to find).
    expect(page.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("searchbox")).to_have_count(0)
    expect(page.get_by_role("link")).to_have_count(0)


def test_the_plan_prints_its_text_without_navigation_or_buttons(demo_program, page):
    sign_in(page, "student@example.edu")
    open_page(page, "/me/plan")
    expect(page.get_by_role("link", name="Edit my plan")).to_be_visible()

    printing(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("My relapse-prevention plan")
    expect(page.get_by_text("Skipping meals and sleep. Avoiding my roommates.")).to_be_visible()
    expect(page.get_by_text("Call Sam. Tuesday meeting. Run before class.")).to_be_visible()
    expect(page.get_by_text("Call Sam, then the campus crisis line.")).to_be_visible()
    expect(page.get_by_text("If you are in crisis now")).to_be_visible()
    expect(page.get_by_role("link", name="Edit my plan")).to_be_hidden()
    expect(page.get_by_role("link", name="Printable version")).to_be_hidden()
    expect(page.get_by_role("heading", name="Earlier versions")).to_be_hidden()
    expect(main_nav(page)).to_be_hidden()
    expect(page.get_by_text("Signed in as")).to_be_hidden()
    expect(page.get_by_role("button")).to_have_count(0)


def test_the_dashboard_prints_its_figures_without_navigation_or_controls(demo_program, page):
    sign_in(page, "reports@example.edu")
    members_table = page.get_by_role("table", name=re.compile(r"^Members by current status"))
    open_page(page, "/dashboard/print")

    printing(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Participation report")
    expect(members_table).to_be_visible()
    expect(
        members_table.get_by_role("row", name=re.compile(r"^Active (\d+|<\d+)$"))
    ).to_be_visible()
    expect(page.get_by_role("term").filter(has_text="Events held")).to_be_visible()
    expect(main_nav(page)).to_be_hidden()
    expect(page.get_by_text("Signed in as")).to_be_hidden()
    expect(page.get_by_role("contentinfo")).to_be_hidden()
    expect(page.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("link")).to_have_count(0)

    # Printed straight from the dashboard (Ctrl+P): the figures, not the filter form.
    open_page(page, "/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(members_table).to_be_visible()
    expect(page.get_by_label("From", exact=True)).to_be_hidden()
    expect(page.get_by_role("button")).to_have_count(0)
    expect(main_nav(page)).to_be_hidden()


def test_the_list_that_names_members_stays_on_screen_when_the_dashboard_prints(demo_program, page):
    sign_in(page, "staff@example.edu")
    open_page(page, "/dashboard/")
    falling = page.get_by_role("heading", name="Participation falling")
    expect(falling).to_be_visible()

    printing(page)

    expect(falling).to_be_hidden()
    expect(
        page.get_by_role("table", name=re.compile(r"^Members by current status"))
    ).to_be_visible()
