"""Staff import the registrar's .ics calendar: preview, save, and re-import changing nothing."""

import html
import io
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crp_portal.extensions import db
from crp_portal.terms import ics_import
from crp_portal.terms.models import CalendarPeriod
from tests.browser.axe import assert_accessible
from tests.browser.test_advising_journey import flash, heading, signs_in
from tests.factories import make_term, make_user

FEED = (Path(__file__).parent / "data" / "registrar.ics").read_bytes()
IMPORTED = 14  # events of the sample feed that a default rule matches and a term covers


def academic_year():
    return (
        make_term("Fall 2026", date(2026, 8, 21), date(2026, 12, 18)),
        make_term("Spring 2027", date(2027, 1, 19), date(2027, 5, 16)),
    )


def staff(login):
    return login(make_user("staff"))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def upload(client, data: bytes = FEED, filename: str = "registrar.ics", **fields):
    form = {"action": "preview", "rules": ics_import.DEFAULT_RULES, **fields}
    form["feed_file"] = (io.BytesIO(data), filename)
    return client.post("/terms/import", data=form, content_type="multipart/form-data")


def paste(client, feed: str, **fields):
    form = {"action": "preview", "rules": ics_import.DEFAULT_RULES, "feed_text": feed, **fields}
    return client.post("/terms/import", data=form)


class PageParser(HTMLParser):
    """The preview's table rows (cell texts) and the hidden inputs of its forms."""

    def __init__(self):
        super().__init__()
        self.rows, self.hidden, self._cell = [], {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        elif tag == "input" and attrs.get("type") == "hidden":
            self.hidden[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "td":
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(response) -> PageParser:
    parser = PageParser()
    parser.feed(response.get_data(as_text=True))
    return parser


def outcomes(response) -> dict[tuple[str, str], str]:
    """(event, term) → what the preview says saving does with it."""
    return {(row[0], row[3]): row[4] for row in parse(response).rows if row}


def counts(response) -> dict[str, int]:
    found = re.findall(
        r'stat-number">(\d+)</span> <span class="stat-label">([^<]+)<', response.get_data(True)
    )
    return {label: int(number) for number, label in found}


def save(client, preview):
    """Press "Save the import" on a preview page, sending its hidden fields back."""
    fields = {name: value for name, value in parse(preview).hidden.items() if name[:5] == "save-"}
    return client.post("/terms/import", data={**fields, "action": "save"}, follow_redirects=True)


def periods() -> list[tuple]:
    query = select(CalendarPeriod).order_by(CalendarPeriod.id)
    db.session.expire_all()
    return [
        (p.id, p.term_id, p.kind, p.name, p.starts_on, p.ends_on, p.source_uid)
        for p in db.session.scalars(query)
    ]


def period_named(name: str) -> CalendarPeriod:
    return db.session.scalar(select(CalendarPeriod).where(CalendarPeriod.name.startswith(name)))


def period_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CalendarPeriod))


def test_preview_says_what_happens_to_each_event_and_saves_nothing(ctx, login):
    academic_year()
    preview = upload(staff(login))
    assert preview.status_code == 200
    assert counts(preview) == {"new": IMPORTED, "updated": 0, "unchanged": 0, "not imported": 3}
    rows = {row[0]: row for row in parse(preview).rows if row}
    assert rows["Thanksgiving Recess"] == [
        "Thanksgiving Recess",
        "Wed 25 Nov 2026 to Sun 29 Nov 2026",
        "Break",
        "Fall 2026",
        "New",
    ]
    assert rows["Spring Break"][1:4] == [
        "Sat 13 Mar 2027 to Sun 21 Mar 2027",
        "Break",
        "Spring 2027",
    ]
    said = outcomes(preview)
    assert said["Homecoming", ""] == "Not imported: no keyword rule matches its title"
    assert said["Registrar Office Hours", ""].startswith("Not imported: it repeats")
    assert said["Summer Session Classes Begin", ""] == "Not imported: no term covers this date"
    assert said["Classes Begin", "Fall 2026"] == said["Classes Begin", "Spring 2027"] == "New"
    assert period_count() == 0


def test_saving_creates_the_periods_from_the_feed(ctx, login):
    fall, spring = academic_year()
    client = staff(login)
    saved = save(client, upload(client))
    assert "Imported 14 periods (0 updated, 0 unchanged)." in text(saved)
    assert period_count() == IMPORTED
    thanksgiving = period_named("Thanksgiving Recess")
    assert (thanksgiving.kind, thanksgiving.term_id) == ("break", fall.id)
    # An all-day event's DTEND is the day after its last day.
    assert (thanksgiving.starts_on, thanksgiving.ends_on) == (
        date(2026, 11, 25),
        date(2026, 11, 29),
    )
    assert thanksgiving.source_uid == "fa26-thanksgiving@registrar.example.edu"
    finals = period_named("Final Examinations, Fall Semester")
    assert finals.kind == "finals" and len(finals.name) == 120
    assert (finals.starts_on, finals.ends_on) == (date(2026, 12, 12), date(2026, 12, 18))
    commencement = period_named("Winter Commencement")  # a timed event
    assert (commencement.kind, commencement.starts_on) == ("graduation", date(2026, 12, 18))
    # 03:00 UTC on 19 December is 10 PM on the 18th in the program's zone.
    move_out = period_named("Move-out Deadline")
    assert (move_out.kind, move_out.starts_on, move_out.term_id) == (
        "move_out",
        date(2026, 12, 18),
        fall.id,
    )
    spring_break = period_named("Spring Break")  # no UID in the feed
    assert spring_break.source_uid.startswith("derived:") and spring_break.term_id == spring.id
    assert period_named("Homecoming") is None
    assert "Thanksgiving Recess" in text(client.get(f"/terms/{fall.id}"))


def test_importing_the_same_feed_again_changes_nothing(ctx, login):
    academic_year()
    client = staff(login)
    save(client, upload(client))
    before = periods()
    again = paste(client, FEED.decode())  # the same feed, pasted this time
    assert counts(again) == {"new": 0, "updated": 0, "unchanged": IMPORTED, "not imported": 3}
    assert outcomes(again)["Thanksgiving Recess", "Fall 2026"] == "Unchanged"
    assert "saving changes nothing" in text(again)
    saved = save(client, again)
    assert "Imported 0 periods (0 updated, 14 unchanged)." in text(saved)
    assert periods() == before


def test_a_moved_date_updates_its_period(ctx, login):
    academic_year()
    client = staff(login)
    save(client, upload(client))
    thanksgiving = period_named("Thanksgiving Recess")
    moved = FEED.replace(b"DTSTART;VALUE=DATE:20261125", b"DTSTART;VALUE=DATE:20261126")
    preview = upload(client, moved)
    assert counts(preview)["updated"] == 1 and counts(preview)["unchanged"] == IMPORTED - 1
    assert outcomes(preview)["Thanksgiving Recess", "Fall 2026"] == (
        "Updated dates changed (was Wed 25 Nov 2026 to Sun 29 Nov 2026)"
    )
    saved = save(client, preview)
    assert "Imported 0 periods (1 updated, 13 unchanged)." in text(saved)
    db.session.expire_all()
    updated = period_named("Thanksgiving Recess")
    assert updated.id == thanksgiving.id and updated.starts_on == date(2026, 11, 26)
    assert period_count() == IMPORTED


def test_rules_are_tried_in_order_and_can_import_anything(ctx):
    academic_year()
    events = ics_import.read_feed(FEED.decode())
    rules = ics_import.parse_rules(
        "# staff notes are ignored\nOther: homecoming\nbreak: exam\n\nfinals: final exam"
    )
    plan = {line.event.title: line for line in ics_import.plan_import(events, rules).lines}
    assert plan["Homecoming"].kind == "other" and plan["Homecoming"].outcome == "new"
    assert plan["Midterm Examinations"].kind == "break"  # the first matching rule wins
    assert plan["Thanksgiving Recess"].reason == ics_import.NO_RULE


def test_changed_rules_are_previewed_again_without_uploading_again(ctx, login):
    academic_year()
    client = staff(login)
    first = upload(client)
    token = parse(first).hidden["feed_token"]
    again = client.post(
        "/terms/import",
        data={
            "action": "preview",
            "feed_token": token,
            "rules": "other: homecoming\n" + ics_import.DEFAULT_RULES,
        },
    )
    assert outcomes(again)["Homecoming", "Fall 2026"] == "New"
    assert counts(again)["new"] == IMPORTED + 1
    save(client, again)
    assert period_named("Homecoming").kind == "other"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("finals final exam", "Line 1: write the rule as “kind: keyword, keyword”"),
        ("finals: final exam\nparty: homecoming", "Line 2: “party” is not a kind of period."),
        ("# comment\nfinals: , ,", "Line 2: list at least one keyword after “finals:”."),
        ("", "Write at least one rule"),
        ("finals: " + "x" * 5000, "Use at most 4000 characters."),
    ],
)
def test_bad_rule_lines_are_named(ctx, login, rules, message):
    academic_year()
    response = upload(staff(login), rules=rules)
    assert response.status_code == 200
    assert message in text(response)
    assert period_count() == 0


TOO_BIG = FEED.replace(b"END:VCALENDAR", b"X-PADDING:" + b"x" * 1_000_000 + b"\r\nEND:VCALENDAR")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "registrar.ics", ics_import.EMPTY),
        (b"Hello, this is not a calendar.", "registrar.ics", ics_import.NOT_ICS),
        (b"email,name\r\nx@example.edu,X\r\n", "roster.csv", "its name ends in .ics"),
        (b"%PDF-1.7\n\xff\xfe\xfd binary", "registrar.ics", ics_import.NOT_TEXT),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "empty.ics", ics_import.NO_EVENTS),
        (FEED[: len(FEED) // 2], "cut-short.ics", ics_import.DAMAGED),
        (b"BEGIN:VCALENDAR\r\nno colon here\r\nEND:VCALENDAR\r\n", "x.ics", ics_import.DAMAGED),
        (TOO_BIG, "registrar.ics", ics_import.TOO_BIG),
    ],
    ids=["empty", "not-ics", "csv", "binary", "no-events", "cut-short", "garbage", "too-big"],
)
def test_a_bad_file_is_explained_in_place(ctx, login, data, filename, message):
    academic_year()
    response = upload(staff(login), data, filename)
    assert response.status_code == 200
    page = text(response)
    assert message in page and 'aria-invalid="true"' in page
    assert "Preview the import" in page
    assert period_count() == 0


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Finals", ics_import.DAMAGED),
        ("<html><body>Calendar</body></html>", ics_import.NOT_ICS),
        (TOO_BIG.decode(), ics_import.TOO_BIG),
    ],
    ids=["cut-short", "web-page", "too-big"],
)
def test_bad_pasted_text_is_explained_in_place(ctx, login, feed, message):
    response = paste(staff(login), feed)
    assert response.status_code == 200
    assert message in text(response)
    assert period_count() == 0


def test_a_feed_is_either_uploaded_or_pasted(ctx, login):
    client = staff(login)
    neither = client.post("/terms/import", data={"action": "preview", "rules": "finals: exam"})
    assert "Choose the registrar's .ics file or paste its text." in text(neither)
    both = upload(client, feed_text=FEED.decode())
    assert "Choose a file or paste the text, not both." in text(both)
    assert period_count() == 0


def test_events_that_cannot_be_imported_are_listed_with_the_reason(ctx):
    academic_year()
    feed = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Finals without a date\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Finals\r\nDTSTART:2026-12\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Finals\r\nDTSTART;VALUE=DATE:20261214\r\n"
        "STATUS:CANCELLED\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:d\r\nSUMMARY:Finals\r\nDTSTART;VALUE=DATE:20261214\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:d\r\nSUMMARY:Finals again\r\nDTSTART;VALUE=DATE:20261215\r\n"
        "END:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:e\r\nSUMMARY:Finals\r\nRECURRENCE-ID;VALUE=DATE:20261216\r\n"
        "DTSTART;VALUE=DATE:20261217\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:f\r\nSUMMARY:Finals forever\r\nDTSTART;VALUE=DATE:20261214\r\n"
        "DTEND;VALUE=DATE:20301214\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    rules = ics_import.parse_rules(ics_import.DEFAULT_RULES)
    plan = ics_import.plan_import(ics_import.read_feed(feed), rules)
    assert [(line.event.title, line.outcome, line.reason) for line in plan.lines] == [
        ("Finals", "skipped", ics_import.CANCELLED),
        ("Finals", "new", ""),
        ("Finals forever", "skipped", ics_import.TOO_LONG),
        ("Finals again", "skipped", ics_import.DUPLICATE),
        ("Finals", "skipped", ics_import.ONE_OCCURRENCE),
        ("Finals", "skipped", ics_import.BAD_DATES),
        ("Finals without a date", "skipped", ics_import.NO_START),
    ]


@pytest.mark.parametrize(
    ("dates", "first", "last"),
    [
        ("DTSTART;VALUE=DATE:20261214\r\nDTEND;VALUE=DATE:20261215", date(2026, 12, 14), None),
        ("DTSTART;VALUE=DATE:20261214", date(2026, 12, 14), None),
        ("DTSTART;VALUE=DATE:20261214\r\nDTEND;VALUE=DATE:20261210", date(2026, 12, 14), None),
        ("DTSTART;VALUE=DATE:20261214\r\nDURATION:P3D", date(2026, 12, 14), date(2026, 12, 16)),
        (
            "DTSTART;TZID=America/New_York:20261214T220000\r\n"
            "DTEND;TZID=America/New_York:20261215T000000",
            date(2026, 12, 14),
            None,
        ),
        (
            "DTSTART:20261214T090000\r\nDTEND:20261216T170000",
            date(2026, 12, 14),
            date(2026, 12, 16),
        ),
        ("DTSTART:20261215T020000Z", date(2026, 12, 14), None),
    ],
    ids=["all-day", "no-end", "end-first", "duration", "ends-midnight", "floating", "utc"],
)
def test_event_dates_are_the_days_it_touches_in_the_program_zone(ctx, dates, first, last):
    feed = f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Finals\r\n{dates}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    (event,) = ics_import.read_feed(feed)
    assert (event.starts_on, event.ends_on) == (first, last or first)


def test_an_event_without_uid_keeps_the_same_stand_in(ctx):
    feed = FEED.decode()
    first = {event.title: event.uid for event in ics_import.read_feed(feed)}
    second = {event.title: event.uid for event in ics_import.read_feed(feed)}
    assert first["Spring Break"] == second["Spring Break"]


def test_a_preview_overtaken_by_another_save_is_shown_again_not_saved(ctx, login):
    academic_year()
    client = staff(login)
    preview = upload(client)
    other = ics_import.plan_import(
        ics_import.read_feed(FEED.decode()), ics_import.parse_rules(ics_import.DEFAULT_RULES)
    )
    ics_import.save_import(other)  # someone else imported the calendar meanwhile
    db.session.commit()
    before = periods()
    response = save(client, preview)
    page = text(response)
    assert "Nothing was saved: the result differs from the preview you saw" in page
    assert counts(response)["unchanged"] == IMPORTED
    assert periods() == before


def test_a_tampered_preview_is_refused_without_an_error(ctx, login):
    academic_year()
    client = staff(login)
    preview = upload(client)
    fields = {name: value for name, value in parse(preview).hidden.items() if name[:5] == "save-"}
    garbled = client.post(
        "/terms/import",
        data={**fields, "save-feed": "%%% not base64 %%%", "action": "save"},
        follow_redirects=True,
    )
    assert garbled.status_code == 200
    assert "could not be read back" in text(garbled)
    forged = client.post(
        "/terms/import", data={**fields, "save-digest": "0" * 64, "action": "save"}
    )
    assert "Nothing was saved" in text(forged)
    assert period_count() == 0


def test_the_term_list_links_to_the_import(ctx, login):
    page = text(staff(login).get("/terms/"))
    assert 'href="/terms/import"' in page and "Import the registrar's calendar" in page


@pytest.mark.parametrize("role", ["student", "advisor"])
def test_only_staff_may_import(ctx, login, client, role):
    academic_year()
    other = login(make_user(role))
    assert other.get("/terms/import").status_code == 403
    assert upload(other).status_code == 403
    assert paste(other, FEED.decode(), action="save").status_code == 403
    anonymous = client.get("/terms/import")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    assert period_count() == 0


@pytest.mark.browser
def test_staff_import_the_calendar_in_the_browser(app, page):
    with app.app_context():
        academic_year()
        make_user("staff", email="calendar.staff@example.edu", name="Casey Calendar")
        db.session.remove()
    signs_in(page, "calendar.staff@example.edu", "Casey Calendar")
    page.goto("/terms/")
    page.get_by_role("link", name="Import the registrar's calendar").click()
    expect(heading(page)).to_have_text("Import the registrar's calendar")
    assert_accessible(page)

    page.get_by_label("Calendar file (.ics)").set_input_files(
        files=[{"name": "registrar.ics", "mimeType": "text/calendar", "buffer": FEED}]
    )
    page.get_by_role("button", name="Preview the import").click()
    expect(heading(page)).to_have_text("Check the calendar import")
    table = page.get_by_role("table", name="Each event in the calendar and what saving does")
    homecoming = table.locator("tbody tr").filter(has_text="Homecoming")
    expect(homecoming).to_contain_text("Not imported: no keyword rule matches its title")
    assert_accessible(page)

    page.get_by_role("button", name="Save the import").click()
    expect(heading(page)).to_have_text("Academic terms")
    expect(flash(page)).to_contain_text("Imported 14 periods (0 updated, 0 unchanged).")
    with app.app_context():
        assert period_count() == IMPORTED
        db.session.remove()
