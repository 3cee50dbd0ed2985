"""Every page the demo's people reach fits a phone (issue #22), in headless Chromium.

The pages are those the HTML-validity crawl finds (tests/test_html_validity.py): each role
of the seeded demo opens its home page and navigation with the test client and follows
the portal links on them, one page of each kind; the signed-out pages and the check-in page a QR code opens are added.
The browser then opens each page, signed in as that role, and:

- at 320×640 and at 390×844, fails when the page scrolls sideways (WCAG 1.4.10 Reflow:
  `scrollWidth > innerWidth`), naming the widest elements, and when a link, button or
  field is smaller than 24×24 CSS px (WCAG 2.2 2.5.8), unless it is a link inside a
  sentence (inline, with other text beside it in its paragraph, list item or cell);
  a primary button (`.button` that is neither `.secondary` nor `.small`) must be 44 px
  tall;
- at 390×844, fails when the page's own heading (`main h1`) starts more than 120 px from
  the top, and runs axe-core in the light and the dark colour scheme (in the dark one only
  the rules the colours decide: contrast and links told apart from text).

Markup already checked at a viewport (on the other database, or by another role that sees
the same page) is not checked again (tests/browser/checked_pages.py). The header is
measured like the rest of the page (it must not scroll sideways).
"""

import pytest
from sqlalchemy import select

from crp_portal.auth.models import User
from crp_portal.events.models import Event
from crp_portal.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.checked_pages import CHECKED
from tests.browser.test_journeys import ANONYMOUS_PAGES, ROLES, sign_in
from tests.browser.test_phone_navigation import HEADING_MOST_PX, HEADING_TOP
from tests.conftest import sign_in_as
from tests.snapshots import demo_program
from tests.test_html_validity import crawl, navigation_of

pytestmark = pytest.mark.browser

PHONES = {"320×640": {"width": 320, "height": 640}, "390×844": {"width": 390, "height": 844}}
AXE_VIEWPORT = "390×844"
SMALLEST_TARGET = 24  # CSS px, WCAG 2.2 2.5.8
PRIMARY_HEIGHT = 44

# What does not fit, measured in the page: sideways scrolling (with the elements whose
# right edge passes the viewport, innermost first), and targets under 24×24 px.
MEASURE = """([smallest, primaryHeight]) => {
  const describe = (e) => {
    const text = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ');
    const classes = e.classList.length ? '.' + [...e.classList].join('.') : '';
    const name = e.getAttribute('name') ? `[name=${e.getAttribute('name')}]` : '';
    return `<${e.tagName.toLowerCase()}${classes}${name}> "${text.slice(0, 40)}"`;
  };
  const shown = (e) => {
    const style = getComputedStyle(e);
    const rect = e.getBoundingClientRect();
    return style.visibility !== 'hidden' && rect.width > 0 && rect.height > 0
      && !e.closest('.visually-hidden') && rect.right > 0 && rect.bottom > -scrollY;
  };
  const problems = [];
  const overflow = document.documentElement.scrollWidth - innerWidth;
  if (overflow > 0) {
    const wide = [...document.body.querySelectorAll('*')]
      .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5 && shown(e))
      .filter((e, _i, all) => !all.some((other) => other !== e && e.contains(other)))
      .slice(0, 4).map(describe);
    problems.push(`scrolls sideways by ${overflow}px: ${wide.join(', ')}`);
  }
  // A link inside a sentence: inline, in a block with more text than the link's own.
  const inSentence = (e) => {
    if (e.tagName !== 'A' || getComputedStyle(e).display !== 'inline') return false;
    const block = e.closest('p, li, dd, dt, td, th, figcaption, label, legend, span, div');
    if (!block) return false;
    const own = (e.textContent || '').trim().length;
    return (block.textContent || '').replace(/\\s+/g, ' ').trim().length > own + 1;
  };
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  for (const e of document.querySelectorAll(targets)) {
    if (!shown(e) || e.classList.contains('skip-link')) continue;
    const rect = e.getBoundingClientRect();
    const small = rect.width < smallest - 0.5 || rect.height < smallest - 0.5;
    if (small && !inSentence(e)) {
      problems.push(`target ${Math.round(rect.width)}×${Math.round(rect.height)}px: ${describe(e)}`);
    }
    const primary = e.matches('.button:not(.secondary):not(.small):not(.link-button)');
    if (primary && rect.height < primaryHeight - 0.5) {
      problems.push(`primary action ${Math.round(rect.height)}px tall: ${describe(e)}`);
    }
  }
  return problems;
}"""


def fit_problems(page) -> list[str]:
    """What does not fit this page at its viewport (markup already seen fitting at this
    viewport is not measured again)."""
    key = CHECKED.key(page, "reflow-and-targets")
    if CHECKED.get(key) is not None:
        return []
    problems = page.evaluate(MEASURE, [SMALLEST_TARGET, PRIMARY_HEIGHT])
    if not problems:
        CHECKED.remember(key, "passed")
    return problems


def pages_of(app, role: str | None) -> list[str]:
    """The role's crawled pages (None: signed out), as the HTML-validity test finds them."""
    if role is None:
        return [path for path, status, _ in ANONYMOUS_PAGES if status == 200]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == ROLES[role][0]))
        db.session.remove()
    client = app.test_client()
    sign_in_as(client, user)
    home = client.get("/").get_data(True)
    found = list(crawl(client, ["/", *navigation_of(home)], per_kind=1))
    if role == "student":  # the page a check-in QR code opens: reached from the code, not a link
        with app.app_context():
            event_id = db.session.scalar(
                select(Event.id).where(Event.house_id.is_(None), Event.headcount_only.is_(False))
            )
            db.session.remove()
        found.append(f"/events/{event_id}/check-in?code=ACDEFG")
    return found


def check_page(page, path: str) -> list[str]:
    problems = []
    response = page.goto(path)
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )
    for size, viewport in PHONES.items():
        page.set_viewport_size(viewport)
        problems += [f"{size} {problem}" for problem in fit_problems(page)]
        if size == AXE_VIEWPORT:
            top = page.evaluate(HEADING_TOP)
            # The kiosk is a projector screen with no header: its heading sits mid-screen.
            projector = path.endswith("/kiosk")
            if not projector and (top is None or top > HEADING_MOST_PX):
                problems.append(f"{size} the heading starts {top} px down (at most 120)")
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                try:
                    assert_accessible(page, scheme=None if scheme == "light" else scheme)
                except AssertionError as violations:
                    problems.append(f"{size} {violations}")
            page.emulate_media(color_scheme="light")
    return problems


@pytest.mark.parametrize("role", [None, *ROLES], ids=["signed out", *ROLES])
def test_every_page_fits_a_phone_and_reads_in_both_colour_schemes(app, browser, live_server, role):
    """One test a role, so the crawl's pages spread over the test workers."""
    with app.app_context():
        demo_program()
        db.session.remove()
    paths = pages_of(app, role)
    assert len(paths) >= (3 if role is None else 6), "is the demo seeded?"

    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    if role is not None:
        sign_in(page, ROLES[role][0])
        page.wait_for_url(lambda url: not url.endswith("/sign-in"))
    problems: list[str] = []
    for path in paths:
        problems += [f"{role or 'signed out'} {path} at {p}" for p in check_page(page, path)]
    context.close()

    assert not problems, f"{len(problems)} problems on phones:\n" + "\n".join(problems)
