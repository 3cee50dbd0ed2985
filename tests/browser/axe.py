"""Run axe-core in a Playwright page and fail on serious or critical violations."""

from importlib.util import find_spec
from pathlib import Path

from tests.browser.checked_pages import CHECKED

AXE_JS = Path(find_spec("axe_playwright_python").origin).parent / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)


# In the dark colour scheme only colours change, so only the rules colours decide are run.
COLOUR_RULES = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}


def assert_accessible(page, scheme: str | None = None) -> None:
    """Scan the page and fail on blocking violations (markup this run has already seen
    pass is not scanned again; see checked_pages). `scheme="dark"`: the page is shown in
    the dark colour scheme (`page.emulate_media(color_scheme="dark")`); its colour rules
    are checked."""
    key = CHECKED.key(page, f"axe {scheme}" if scheme else "axe")
    if CHECKED.get(key) is not None:
        return
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
        # Later documents in this browser context get axe as they load, without a round trip.
        page.context.add_init_script(path=str(AXE_JS))
    # Only violations are read, so skip collecting the passing and inapplicable nodes.
    options = {"resultTypes": ["violations"], **(COLOUR_RULES if scheme == "dark" else {})}
    results = page.evaluate("async (options) => await axe.run(document, options)", options)
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe found accessibility violations on {page.url} ({scheme or 'light'}):\n"
        + describe(blocking)
    )
    CHECKED.remember(key, "passed")
