"""Security issue #15, item 5: one set of text rules for every form and import, and one
CSV writer for every export.

Hidden characters (NUL, ESC, BEL, line breaks in one-line values, right-to-left
overrides, line separators) are refused beside a form field, and an imported file that
has any is refused whole, naming the line, with nothing saved. A cell of an exported CSV
that a spreadsheet would run as a formula starts with a quote; numbers stay numbers.
"""

import csv
import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

import crp_portal
from crp_portal import csv_export, text_rules
from crp_portal.auth.models import User
from crp_portal.dashboard.outcome_models import RegistrarRecord
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile
from crp_portal.recovery.models import SupportPerson
from crp_portal.terms import ics_import
from crp_portal.terms.models import CalendarPeriod
from crp_portal.timeutil import local_today
from tests.factories import make_house, make_term, make_user

HIDDEN = {
    "ESC": "\x1b[31m",
    "BEL": "\x07",
    "NUL": "\x00",
    "RLO": "\u202e",
    "LINE SEPARATOR": "\u2028",
    "DEL": "\x7f",
    "C1": "\x9b",
}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def post_file(client, path: str, field: str, content: bytes, filename: str, **fields):
    data = {**fields, field: (io.BytesIO(content), filename)}
    return client.post(path, data=data, content_type="multipart/form-data")


# --- The rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("Jamie\x00Rivera", "(NUL, U+0000)"),
        ("Jamie\x1b[2JRivera", "(ESC, U+001B)"),
        ("Jamie\x07", "(BEL, U+0007)"),
        ("\x85Jamie", "(U+0085)"),
        ("Jamie\u202eareviR", "(RIGHT-TO-LEFT OVERRIDE, U+202E)"),
        ("\u2066Jamie\u2069", "(LEFT-TO-RIGHT ISOLATE, U+2066)"),
        ("Jamie\u2029Rivera", "(PARAGRAPH SEPARATOR, U+2029)"),
        ("Jamie\r\nRivera", "a line break"),
    ],
)
def test_the_rules_name_the_hidden_character(value, named):
    assert named in text_rules.problem(value)


def test_tabs_accents_emoji_and_right_to_left_letters_are_text():
    for value in ("Jamie\tRivera", "Zoë O'Brien-Núñez", "🙂 Kim", "مرحبا", "שלום", ""):
        assert text_rules.problem(value) is None
    assert text_rules.problem("two\nlines\r\nor three", multiline=True) is None
    assert "control character" in text_rules.problem("two\nlines\x1b", multiline=True)


# --- Forms ----------------------------------------------------------------------------

PERSON = {"name": "Jordan Lee", "relationship_to_student": "Sponsor", "how_to_reach": "555-0123"}


def error_beside(page: str, field_id: str) -> str:
    found = re.search(rf'<div class="field-error" id="{field_id}-error">(.*?)</div>', page, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize("hidden", ["\x1b[31m", "\u202e"], ids=["ESC", "RLO"])
def test_a_hidden_character_in_a_form_field_is_an_error_beside_it(ctx, login, hidden):
    client = login(make_user("student"))
    response = client.post("/me/network", data={**PERSON, "name": f"Jordan{hidden}Lee"})
    assert response.status_code == 200
    assert "This contains a hidden" in error_beside(text(response), "name")
    assert error_beside(text(response), "how_to_reach") == ""
    assert count(SupportPerson) == 0


def test_a_text_box_says_which_of_its_lines_has_the_character(ctx, login):
    client = login(make_user("student"))
    expectations = "Calls me on Sundays.\r\nDrives me to meetings\x07.\r\n"
    response = client.post("/me/network", data={**PERSON, "expectations": expectations})
    assert response.status_code == 200
    assert "Line 2 of this text contains a hidden control character" in error_beside(
        text(response), "expectations"
    )
    assert count(SupportPerson) == 0


def test_line_breaks_and_tabs_in_a_text_box_are_kept(ctx, login):
    client = login(make_user("student"))
    expectations = "Calls me on Sundays.\r\n\tDrives me to meetings."
    response = client.post("/me/network", data={**PERSON, "expectations": expectations})
    assert response.status_code == 302
    [person] = db.session.scalars(select(SupportPerson)).all()
    assert (
        person.expectations.replace("\r\n", "\n")
        == "Calls me on Sundays.\n\tDrives me to meetings."
    )


# --- The roster import ----------------------------------------------------------------

ROSTER_HEADER = "email,name,role,student_id\r\n"


def upload_roster(client, rows: str):
    return post_file(
        client, "/admin/import", "roster", (ROSTER_HEADER + rows).encode(), "roster.csv"
    )


@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
def test_a_roster_with_a_hidden_character_is_refused_whole_naming_the_line(
    ctx, login, smtp, hidden
):
    client = login(make_user("staff", is_admin=True))
    before = count(User)
    roster = (
        "jamie@example.edu,Jamie Rivera,student,S100\r\n"
        f"ada@example.edu,Ada{hidden} Okoye,student,S101\r\n"
        "lee@example.edu,Lee Park,staff,\r\n"
    )
    response = upload_roster(client, roster)
    assert response.status_code == 200  # the form again, with what to fix: never a 500
    page = text(response)
    assert "Nothing was imported" in page
    assert "Line 3: column “name” contains a hidden" in page
    assert "Line 2:" not in page and "Line 4:" not in page
    assert count(User) == before
    assert count(MemberProfile) == 0
    assert smtp.messages == []


def test_a_name_split_over_two_lines_is_refused_at_the_line_it_starts(ctx, login):
    client = login(make_user("staff", is_admin=True))
    before = count(User)
    roster = (
        'jamie@example.edu,"Jamie\r\nRivera",student,S100\r\nlee@example.edu,Lee Park,staff,\r\n'
    )
    page = text(upload_roster(client, roster))
    assert (
        "Line 2: column “name” contains a line break, which a one-line value cannot have." in page
    )
    assert count(User) == before


@pytest.mark.parametrize("column", ["email", "student_id"])
def test_a_nul_in_a_looked_up_column_is_a_message_not_a_database_error(ctx, login, column):
    """PostgreSQL refuses a NUL even in a query: the import must not send one."""
    client = login(make_user("staff", is_admin=True))
    before = count(User)
    cells = {"email": "kim@example.edu", "name": "Kim Lee", "role": "student", "student_id": "S5"}
    cells[column] = cells[column][:2] + "\x00" + cells[column][2:]
    response = upload_roster(client, ",".join(cells.values()) + "\r\n")
    assert response.status_code == 200
    assert f"Line 2: column “{column}” contains a hidden control character" in text(response)
    assert "(NUL, U+0000)" in text(response)
    assert count(User) == before


def test_every_bad_line_of_a_roster_is_listed(ctx, login):
    client = login(make_user("staff", is_admin=True))
    roster = (
        "ok@example.edu,Okay Person,student,\r\n"
        "esc@example.edu,Esc\x1b Person,student,\r\n"
        "rlo@example.edu,Rlo Person,student,S\u202e9\r\n"
    )
    page = text(upload_roster(client, roster))
    assert "Line 3: column “name” contains a hidden control character" in page
    assert "Line 4: column “student_id” contains a hidden character that shows text" in page
    assert count(User) == 1


# --- The registrar's outcomes CSV -----------------------------------------------------


def upload_registrar(client, *rows: str):
    content = "\r\n".join(["student_id,term,term_gpa,credits,enrolled_next_term", *rows])
    return post_file(
        client, "/dashboard/outcomes/upload", "registrar_file", content.encode(), "registrar.csv"
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "A\x1b0002,Fall 2025,3.0,12,yes",
            "Line 3: the student id column contains a hidden control character that cannot "
            "be saved (ESC, U+001B).",
        ),
        (
            "A0002,Fall\u202e 2025,3.0,12,yes",
            "Line 3: the term column contains a hidden character that shows text in a "
            "different order than it is saved (RIGHT-TO-LEFT OVERRIDE, U+202E).",
        ),
        ('A0002,"Fall\r\n2025",3.0,12,yes', "Line 3: the term column contains a line break"),
    ],
    ids=["ESC", "RLO", "line-break"],
)
def test_a_registrar_file_with_a_hidden_character_saves_nothing(ctx, login, row, message):
    make_term("Fall 2025", date(2025, 8, 25), date(2025, 12, 19))
    make_user("student", student_id="A0001")
    make_user("student", student_id="A0002")
    client = login(make_user("staff"))
    response = upload_registrar(client, "A0001,Fall 2025,3.5,15,yes", row)
    assert response.status_code == 422
    page = text(response)
    assert message in page and 'aria-invalid="true"' in page
    assert count(RegistrarRecord) == 0


# --- The calendar (.ics) import -------------------------------------------------------

FEED = (Path(__file__).parent / "data" / "registrar.ics").read_text()
SUMMARY = "SUMMARY:Residence Halls Open (Move-in)"
SUMMARY_LINE = FEED.splitlines().index(SUMMARY) + 1


def import_calendar(client, feed: str):
    form = {"action": "preview", "rules": ics_import.DEFAULT_RULES}
    return post_file(client, "/terms/import", "feed_file", feed.encode(), "registrar.ics", **form)


@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
def test_a_calendar_with_a_hidden_character_is_refused_naming_the_line(ctx, login, hidden):
    make_term("Fall 2026", date(2026, 8, 21), date(2026, 12, 18))
    client = login(make_user("staff"))
    feed = FEED.replace(SUMMARY, f"SUMMARY:Residence Halls{hidden} Open (Move-in)")
    response = import_calendar(client, feed)
    assert response.status_code == 200
    page = text(response)
    assert "The calendar has hidden characters that cannot be saved" in page
    assert f"Line {SUMMARY_LINE} contains a hidden" in page
    assert "Preview the import" in page  # the form again, not a preview
    assert count(CalendarPeriod) == 0


def test_pasted_calendar_text_names_the_line_beside_the_box(ctx, login):
    client = login(make_user("staff"))
    feed = FEED.replace(SUMMARY, "SUMMARY:Residence Halls\x1b Open (Move-in)")
    form = {"action": "preview", "rules": ics_import.DEFAULT_RULES, "feed_text": feed}
    page = text(client.post("/terms/import", data=form))
    assert f"Line {SUMMARY_LINE} of this text contains a hidden control character" in error_beside(
        page, "feed_text"
    )
    assert count(CalendarPeriod) == 0


# --- Exports --------------------------------------------------------------------------


def test_a_house_named_like_a_formula_is_exported_as_text(ctx, login):
    today = local_today()
    make_term("Now term", today - timedelta(days=60), today + timedelta(days=60))
    make_house('=HYPERLINK("http://x")')
    make_house("-2+3+cmd|' /C calc'!A0")
    make_house("Elm House")
    client = login(make_user("staff"))
    span = f"start={(today - timedelta(days=55)).isoformat()}&end={today.isoformat()}"
    response = client.get(f"/dashboard/export/housing.csv?{span}")
    assert response.status_code == 200
    houses = [row[0] for row in csv.reader(io.StringIO(response.get_data(as_text=True)))][1:]
    assert sorted(houses) == sorted(
        ['\'=HYPERLINK("http://x")', "'-2+3+cmd|' /C calc'!A0", "Elm House"]
    )


def test_the_writer_quotes_formula_text_and_leaves_numbers_alone():
    body = csv_export.to_csv(
        ["Name", "Count", "Mean", "Change"],
        [
            ["=1+2", -3, -1.5, Decimal("-0.25")],
            ["+1", 0, 2.0, None],
            ["@SUM(A1)", "-3", "\tcell", "\rcell"],
            ["Plain - text", "3", "50%", "<5"],
        ],
    )
    assert body.split("\r\n") == [
        "Name,Count,Mean,Change",
        "'=1+2,-3,-1.5,-0.25",
        "'+1,0,2.0,",
        "'@SUM(A1),'-3,'\tcell,\"'\rcell\"",
        "Plain - text,3,50%,<5",
        "",
    ]


def test_every_csv_the_portal_writes_goes_through_the_one_writer():
    package = Path(crp_portal.__file__).parent
    writers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text())
    )
    assert writers == ["csv_export.py"]
