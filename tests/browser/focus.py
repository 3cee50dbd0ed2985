"""The focus ring, measured in the page: its colours and what lies behind it (issue #18).

A ring may be two-tone (WCAG technique C40): it passes where either tone reaches 3:1
(WCAG 1.4.11) against every background it sits on.
"""

import pytest

from tests.browser.checked_pages import CHECKED

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


def focus_stops(page, most: int | None = None) -> list[dict]:
    """Tab from the top of the page until focus leaves it, or for `most` stops; measure
    each stop. Without `most`, a page still tabbing after MAX_STOPS fails. Markup already
    walked in this run gives the stops it gave then (see checked_pages)."""
    key = CHECKED.key(page, f"focus {most}")
    if (known := CHECKED.get(key)) is not None:
        return known
    page.locator("body").focus()
    stops: list[dict] = []
    for _ in range(most or MAX_STOPS):
        page.keyboard.press("Tab")
        stop = page.evaluate(MEASURE_FOCUS)
        if stop is None:
            break
        stops.append(stop)
    else:
        if most is None:
            pytest.fail(f"{page.url}: still tabbing after {MAX_STOPS} stops")
    CHECKED.remember(key, stops)
    return stops


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
