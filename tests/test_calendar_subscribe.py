"""Subscribing to the private calendar feed in one tap (issue #18): a webcal:// link, Google
Calendar and Outlook links, a Copy button and a QR code, all carrying the feed address,
none naming the program; and a new address replaces every one of them.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import segno

from tests.factories import make_user

BASE = "https://www.example.edu/portal"
PROGRAM = "Hope Recovery Community"
PUBLIC = "Student Portal"
FEED = re.compile(re.escape(BASE) + r"/calendar/[\w-]+\.ics")
ROLES = ["student", "advisor"]


@pytest.fixture
def app_config():
    # Production-like: the feed is on https, under a path prefix, and the program has a name
    # that must not leak into what leaves the portal.
    return {"CRP_BASE_URL": BASE, "CRP_PROGRAM_NAME": PROGRAM}


@dataclass
class Link:
    href: str
    rel: str
    text: str = ""


class CalendarPage(HTMLParser):
    """What a person (and a screen reader) finds on "Your calendar"."""

    def __init__(self):
        super().__init__()
        self.links: list[Link] = []
        self.fields: dict[str, dict] = {}
        self.buttons: list[dict] = []
        self.live_regions: dict[str, dict] = {}
        self.scripts: list[dict] = []
        self.svgs: list[dict] = []
        self.text = ""
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value if value is not None else "" for name, value in attrs}
        if tag == "a":
            self.links.append(Link(attributes.get("href", ""), attributes.get("rel", "")))
        elif tag == "input":
            self.fields[attributes.get("id", "")] = attributes
        elif tag == "button":
            self.buttons.append({**attributes, "text": ""})
        elif tag == "script":
            self.scripts.append(attributes)
        elif tag == "svg":
            self.svgs.append({**attributes, "title": "", "paths": []})
        elif tag == "path" and self.svgs:
            self.svgs[-1]["paths"].append(attributes)
        if "aria-live" in attributes:
            self.live_regions[attributes.get("id", "")] = attributes
        self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data):
        self.text += data
        if "a" in self._open and self.links:
            self.links[-1].text += data
        if "button" in self._open and self.buttons:
            self.buttons[-1]["text"] += data
        if self._open and self._open[-1] == "title" and "svg" in self._open:
            self.svgs[-1]["title"] += data

    def link(self, text: str) -> Link:
        [found] = [link for link in self.links if " ".join(link.text.split()) == text]
        return found

    @property
    def feed_url(self) -> str:
        return self.fields["feed-url"]["value"]


def calendar_page(client, response=None) -> CalendarPage:
    response = response or client.get("/calendar/")
    assert response.status_code == 200
    page = CalendarPage()
    page.feed(response.get_data(as_text=True))
    page.close()
    assert FEED.fullmatch(page.feed_url), page.feed_url
    return page


def https_form(webcal: str) -> str:
    assert webcal.startswith("webcal://"), webcal
    return "https://" + webcal.removeprefix("webcal://")


def path_on_portal(url: str) -> str:
    return url.removeprefix(BASE)


def leaks_the_program(text: str) -> bool:
    lowered = unquote(text).lower()
    return "recovery" in lowered or re.search(r"\bcrp\b", lowered) is not None


def drawn_modules(svg: dict) -> set[tuple[int, int]]:
    """The dark modules (column, row) of segno's SVG: horizontal strokes, one module
    high, drawn at half-module heights by M/m moves and h lines."""
    [stroked] = [path for path in svg["paths"] if "stroke" in path]
    x = y = 0.0
    dark = set()
    for command, numbers in re.findall(r"([MmHh])([-\d.\s]+)", stroked["d"]):
        values = [float(n) for n in numbers.split()]
        if command in "Mm":
            dx, dy = values
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        else:
            end = values[0] if command == "H" else x + values[0]
            dark.update((int(column), int(y - 0.5)) for column in range(int(x), int(end)))
            x = end
    return dark


def segno_modules(qr) -> set[tuple[int, int]]:
    border = 4
    return {
        (column + border, row + border)
        for row, line in enumerate(qr.matrix)
        for column, module in enumerate(line)
        if module
    }


def qr_encodes(svg: dict, text: str) -> bool:
    """Whether the drawn symbol is a QR code of exactly `text`, at any error level and
    mask: what a phone's camera would read from it."""
    drawn = drawn_modules(svg)
    return any(
        drawn == segno_modules(segno.make_qr(text, error=level, mask=mask, boost_error=False))
        for level in "LMQH"
        for mask in range(8)
    )


@pytest.mark.parametrize("role", ROLES)
def test_webcal_link_subscribes_to_the_private_feed(ctx, login, role):
    client = login(make_user(role))

    page = calendar_page(client)

    subscribe = page.link("Subscribe on this device")
    assert https_form(subscribe.href) == page.feed_url
    feed = client.get(path_on_portal(page.feed_url))
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"


def test_google_and_outlook_links_carry_the_feed_and_only_the_public_name(ctx, login):
    client = login(make_user("student"))

    page = calendar_page(client)

    google = urlsplit(page.link("Add to Google Calendar").href)
    assert (google.scheme, google.netloc, google.path) == (
        "https",
        "calendar.google.com",
        "/calendar/r",
    )
    [webcal] = parse_qs(google.query, strict_parsing=True)["cid"]
    assert https_form(webcal) == page.feed_url

    outlook = urlsplit(page.link("Add to Outlook").href)
    assert (outlook.scheme, outlook.netloc, outlook.path) == (
        "https",
        "outlook.live.com",
        "/calendar/0/addfromweb",
    )
    assert parse_qs(outlook.query, strict_parsing=True) == {
        "url": [page.feed_url],
        "name": [PUBLIC],
    }
    for name in ("Subscribe on this device", "Add to Google Calendar", "Add to Outlook"):
        assert not leaks_the_program(page.link(name).href), name


def test_links_out_carry_no_referrer_and_the_page_says_the_address_is_private(ctx, login):
    client = login(make_user("student"))

    page = calendar_page(client)

    for name in ("Add to Google Calendar", "Add to Outlook"):
        assert set(page.link(name).rel.split()) >= {"noopener", "noreferrer"}, name
    text = " ".join(page.text.split())
    assert "This address is private." in text
    assert "The old one stops working at once, and so does every subscription made with it" in (
        text
    )


def test_copy_button_copies_the_address_with_a_script_from_static(client, ctx, login):
    page = calendar_page(login(make_user("student")))

    [copy] = [button for button in page.buttons if button["text"].strip() == "Copy"]
    # Without JavaScript the button stays hidden: the address is in its read-only field.
    assert "hidden" in copy
    assert "readonly" in page.fields["feed-url"]
    assert copy["data-copy-from"] == "feed-url"
    assert page.live_regions[copy["data-copy-status"]]["aria-live"] == "polite"
    [script] = [script for script in page.scripts if script["src"] == "/static/js/copy.js"]
    assert "defer" in script
    served = client.get(script["src"])
    assert served.status_code == 200
    assert served.mimetype in {"text/javascript", "application/javascript"}
    source = served.get_data(as_text=True)
    assert "navigator.clipboard" in source and '"Copied"' in source


def test_qr_code_is_the_feed_address_drawn_without_inline_style(ctx, login):
    page = calendar_page(login(make_user("student")))

    [qr] = page.svgs
    assert qr["role"] == "img"
    assert qr["title"] == "QR code of your private calendar address"
    assert "style" not in qr and all("style" not in path for path in qr["paths"])
    assert qr_encodes(qr, page.feed_url)
    assert not qr_encodes(qr, page.feed_url + "x")


def test_a_new_address_replaces_every_way_to_subscribe(app, ctx, login):
    client = login(make_user("student"))
    old = calendar_page(client)

    new = calendar_page(client, client.post("/calendar/regenerate", follow_redirects=True))

    assert new.feed_url != old.feed_url
    assert https_form(new.link("Subscribe on this device").href) == new.feed_url
    for name in ("Subscribe on this device", "Add to Google Calendar", "Add to Outlook"):
        assert old.feed_url.rsplit("/", 1)[1] not in new.link(name).href, name
        assert new.feed_url.rsplit("/", 1)[1] in new.link(name).href, name
    [old_qr], [new_qr] = old.svgs, new.svgs
    assert drawn_modules(new_qr) != drawn_modules(old_qr)
    assert qr_encodes(new_qr, new.feed_url)
    assert not qr_encodes(new_qr, old.feed_url)
    assert app.test_client().get(path_on_portal(old.feed_url)).status_code == 404
