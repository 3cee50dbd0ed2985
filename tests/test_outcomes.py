"""Institutional outcomes (issue #9): staff upload the registrar's CSV and read term GPA,
retention and persistence by engagement tier, suppressed, with a de-identified export.

The world: a past term, Fall 2025, with ten members in three tiers of touches during
the term, plus people the registrar's file names but who are not members.
"""

import csv
import html
import io
from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.dashboard import outcomes, registrar_csv
from crp_portal.dashboard.outcome_models import RegistrarRecord
from crp_portal.dashboard.outcomes import HIDDEN, Group, outcome_rows
from crp_portal.dashboard.queries import TIERS
from crp_portal.dashboard.registrar_csv import TermMatcher, UploadError, read_registrar_csv
from crp_portal.events.models import Attendance
from crp_portal.extensions import db
from crp_portal.privacy.erasure import erase_person
from crp_portal.recovery.models import CheckIn
from crp_portal.terms.models import Term
from crp_portal.timeutil import local_today, utcnow
from tests.factories import make_appointment, make_event, make_term, make_user
from tests.snapshots import SNAPSHOTS

FALL = ("Fall 2025", date(2025, 8, 25), date(2025, 12, 19))
SPRING = ("Spring 2026", date(2026, 1, 12), date(2026, 5, 8))
HEADER = "student_id,term,term_gpa,credits,enrolled_next_term"

# (student id, touches in the term, term GPA, credits, enrolled next term)
MEMBERS = [
    ("A0001", 0, "2.0", "12", "yes"),
    ("A0002", 0, "3.0", "12", "yes"),
    ("A0003", 0, "3.0", "15", "no"),
    ("A0004", 0, "4.0", "15", "graduated"),
    ("B0001", 1, "3.5", "15", "yes"),
    ("B0002", 1, "2.5", "0", "yes"),
    ("B0003", 2, "", "0", "no"),
    ("B0004", 2, "3.0", "12", "yes"),
    ("C0001", 3, "3.8", "16", "yes"),
    ("C0002", 4, "3.6", "14", "no"),
]
STRANGERS = [("X9001", "3.1", "15", "yes"), ("X9002", "1.9", "6", "no")]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def registrar_rows(term_text: str = "Fall 2025") -> list[str]:
    members = [f"{sid},{term_text},{gpa},{credits},{nxt}" for sid, _, gpa, credits, nxt in MEMBERS]
    strangers = [f"{sid},{term_text},{gpa},{credits},{nxt}" for sid, gpa, credits, nxt in STRANGERS]
    return members + strangers


def upload(client, content: bytes, replace: bool = False, filename: str = "registrar.csv"):
    data = {"registrar_file": (io.BytesIO(content), filename)}
    if replace:
        data["replace"] = "y"
    return client.post("/dashboard/outcomes/upload", data=data, content_type="multipart/form-data")


def mondays(start: date, count: int) -> list[date]:
    first = start.toordinal() + (7 - start.weekday()) % 7
    return [date.fromordinal(first + 7 * week) for week in range(count)]


class World:
    """Staff, a staff member's event in Fall 2025, the ten MEMBERS (touches arranged as
    listed: attendance, a completed advising session, check-ins), an applicant whose id
    is in the file, and touches outside the term that must not count."""

    def __init__(self, ids: dict):
        """The world `build` made, found in the database by the ids it returned."""
        self.staff = db.session.get(User, ids["staff"])
        self.fall = db.session.get(Term, ids["fall"])
        self.spring = db.session.get(Term, ids["spring"])
        self.members = {sid: db.session.get(User, id_) for sid, id_ in ids["members"].items()}
        self.applicant = db.session.get(User, ids["applicant"])

    @staticmethod
    def build() -> dict:
        staff = make_user("staff", name="Dana Reyes")
        fall = make_term(*FALL)
        spring = make_term(*SPRING)
        members = {}
        for sid, touches, *_ in MEMBERS:
            person = make_user("student", name=f"Member {sid}", student_id=sid, password=None)
            members[sid] = person.id
            _touch(staff, person, touches)
        applicant = make_user("student", student_id="P0001", status="applicant")
        # Outside the term: A0001 checked in all spring, which must not lift them.
        for week in mondays(SPRING[1], 4):
            db.session.add(
                CheckIn(student_id=members["A0001"], week_start=week, mood=3, stress=3, sleep=3)
            )
        db.session.commit()
        return {
            "staff": staff.id,
            "fall": fall.id,
            "spring": spring.id,
            "members": members,
            "applicant": applicant.id,
        }


def _touch(staff, person, touches: int) -> None:
    weeks = mondays(FALL[1], 6)
    if touches == 1 and person.profile.student_id == "B0001":
        event = make_event(staff, day=date(2025, 10, 7), start_time=time(19), end_time=time(20))
        db.session.add(Attendance(event_id=event.id, user_id=person.id, source="roster"))
        db.session.commit()
        return
    if touches == 2 and person.profile.student_id == "B0004":
        advisor = make_user("advisor")
        days = (date(2025, 10, 1) - local_today()).days
        make_appointment(advisor, person, days_ahead=days, status="completed")
        touches = 1
    for week in weeks[:touches]:
        db.session.add(CheckIn(student_id=person.id, week_start=week, mood=3, stress=3, sleep=3))
    db.session.commit()


def arranged_world() -> World:
    """In an app context, on the test's emptied database: the World, built once per test
    process and database and restored for each test after that (tests/snapshots.py)."""
    return World(SNAPSHOTS.arranged(f"outcomes world {local_today().isoformat()}", World.build))


@pytest.fixture
def world(ctx):
    return arranged_world()


def saved_records() -> int:
    return db.session.scalar(select(func.count()).select_from(RegistrarRecord))


def rows_by_tier(rows) -> dict[str, tuple]:
    return {
        row.tier: (
            row.members,
            row.with_gpa,
            row.mean_gpa,
            row.mean_credits,
            row.retention,
            row.persistence,
        )
        for row in rows
    }


# --- Uploading -------------------------------------------------------------------------


def test_upload_keeps_members_and_only_counts_everyone_else(world, login):
    client = login(world.staff)
    rows = [*registrar_rows(), "P0001,Fall 2025,3.3,12,yes"]

    response = upload(client, csv_file(*rows))

    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Fall 2025: 10 records saved." in page
    assert "2 rows were not stored: no member has their student id." in page
    assert "1 row was not stored: they are applicants, not members." in page
    stored = db.session.scalars(select(RegistrarRecord)).all()
    assert {record.user_id for record in stored} == {m.id for m in world.members.values()}
    assert {record.term_id for record in stored} == {world.fall.id}
    b3 = next(r for r in stored if r.user_id == world.members["B0003"].id)
    assert (b3.term_gpa, b3.credits, b3.enrolled_next_term, b3.graduated) == (None, 0, False, False)
    a4 = next(r for r in stored if r.user_id == world.members["A0004"].id)
    assert (a4.term_gpa, a4.enrolled_next_term, a4.graduated) == (4.0, False, True)
    assert all(record.uploaded_by_id == world.staff.id for record in stored)
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == world.staff.id))
    assert [(entry.subject_id, entry.action, entry.detail) for entry in audit] == [
        (None, "registrar records uploaded", "Fall 2025")
    ]


def test_the_upload_page_explains_the_columns_and_what_is_dropped(world, login):
    page = text(login(world.staff).get("/dashboard/outcomes/upload"))
    assert "<h1>Upload registrar records</h1>" in page
    assert "the portal never stores them" in page
    for column in ("student_id", "term", "term_gpa", "credits", "enrolled_next_term"):
        assert f"<code>{column}</code>" in page


def test_registrar_header_names_and_term_short_forms_are_read(world, login):
    header = "Emplid,Term Code,GPA,Credits Earned,Enrolled Next Term,Major"
    rows = [
        "A0001,fall 2025,2.0,12,Y,History",
        "A0002,FA2025,3.0,12,TRUE,History",
        "A0003,2025FA,3,15,n,Biology",
        "A0004,fa25,4.00,15,Graduated,Art",
        "B0001,  Fall   2025 ,3.5,15,1,Art",
        "B0002,Spring 2026,2.5,0,no,Art",
        "b0003,Spring Semester 2026,,0,0,Art",
    ]
    with_bom = b"\xef\xbb\xbf" + csv_file(*rows, header=header)  # as Excel saves "CSV UTF-8"
    response = upload(login(world.staff), with_bom)
    assert response.status_code == 302
    by_term = dict(
        db.session.execute(
            select(RegistrarRecord.term_id, func.count()).group_by(RegistrarRecord.term_id)
        ).all()
    )
    assert by_term == {world.fall.id: 5, world.spring.id: 2}  # b0003 matched B0003


def test_a_short_form_two_terms_could_claim_matches_neither(ctx):
    fall, fall_evening = make_term("Fall 2025"), make_term("Fall Semester 2025")
    summer = make_term("Summer 2026 Session I")
    matcher = TermMatcher([fall, fall_evening, summer])
    assert matcher.find("FALL 2025") is fall
    assert matcher.find("fall semester 2025") is fall_evening
    assert matcher.find("FA2025") is None
    assert matcher.find("SU2026") is None  # no term is named just "Summer 2026"
    assert matcher.find("202510") is None


TOO_MANY_ROWS = registrar_csv.MAX_ROWS + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", registrar_csv.EMPTY),
        (csv_file(), registrar_csv.NO_ROWS),
        (
            csv_file("A0001,Fall 2025,2.0", header="id,term,gpa"),
            "Line 1: the header must name the columns student_id, term, term_gpa, credits, "
            "enrolled_next_term (missing: student_id, credits, enrolled_next_term).",
        ),
        (
            csv_file("A0001;Fall 2025;2.0;12;yes", header=HEADER.replace(",", ";")),
            "Line 1: the columns are separated by semicolons or tabs.",
        ),
        (
            csv_file("A0001,Fall 2025,2.0,12,yes,3.1", header=HEADER + ",gpa"),
            "Line 1: the header names the term GPA twice (term_gpa, gpa).",
        ),
        (
            csv_file("A0001,Fall 2025,4.5x,12,yes"),
            "Line 2: the term GPA “4.5x” is not a number from 0 to 5; "
            "leave it empty if the term has no GPA.",
        ),
        (csv_file("A0001,Fall 2025,5.5,12,yes"), "the term GPA “5.5” is not a number from 0 to 5"),
        (csv_file("A0001,Fall 2025,NaN,12,yes"), "the term GPA “NaN” is not a number"),
        (csv_file("A0001,Fall 2025,-1,12,yes"), "the term GPA “-1” is not a number"),
        (
            csv_file('A0001,Fall 2025,"3,25",12,yes'),
            "the term GPA “3,25” is not a number from 0 to 5 (write it with a point, such as 3.25)",
        ),
        (csv_file("A0001,Fall 2025,3.0,,yes"), "the credits are empty (write 0 when none"),
        (csv_file("A0001,Fall 2025,3.0,1e3,yes"), "the credits “1e3” are not a number from 0"),
        (csv_file("A0001,Fall 2025,3.0,99,yes"), "the credits “99” are not a number from 0 to 60"),
        (csv_file("A0001,Fall 2025,3.0,12,maybe"), "enrolled next term is “maybe”: write yes, no"),
        (csv_file("A0001,Fall 2025,3.0,12,"), "enrolled next term is empty: write yes, no"),
        (csv_file(",Fall 2025,3.0,12,yes"), "Line 2: the student id is empty."),
        (csv_file(f"{'9' * 33},Fall 2025,3.0,12,yes"), "the student id is longer than 32"),
        (csv_file("A0001,,3.0,12,yes"), "Line 2: the term is empty."),
        (
            csv_file("A0001,Fall 2030,3.0,12,yes", "A0002,Fall 2030,3.0,12,yes"),
            "Line 2: the term “Fall 2030” (and 1 more lines) is not a term in the portal. "
            "Use a term's name as the portal shows it (Spring 2026, Fall 2025), "
            "or add the term under Terms first.",
        ),
        (
            csv_file(
                "A0001,Fall 2025,3.0,12,yes",
                "B0001,Fall 2025,3.5,15,yes",
                "a0001,FA2025,3.0,12,yes",
            ),  # fmt: skip
            "Line 4: student id a0001 already appears for Fall 2025 on line 2.",
        ),
        (
            csv_file("X1,Fall 2025,3.0,12,yes", "X2,Fall 2025,3.0,12,yes"),
            "None of the 2 students in the file is a member of the program, so nothing was saved.",
        ),
        ("student_id,term\r\nA0001,Fall 2025 é\r\n".encode("latin-1"), registrar_csv.NOT_UTF8),
        (b"PK\x03\x04" + b"\x00" * 40, registrar_csv.WORKBOOK),
        (csv_file("A0001,Fall\x002025,3.0,12,yes"), registrar_csv.NOT_TEXT),
        (
            csv_file(f'A0001,"{"x" * 200_000}",3.0,12,yes'),
            "Line 2: the file cannot be read as CSV (field larger than field limit",
        ),
        (b'"' + csv_file("A0001,Fall 2025,3.0,12,yes"), "Line 1: the header must name"),
        (
            csv_file(*["A0001,Fall 2025,3.0,12,yes"] * TOO_MANY_ROWS),
            "The file has more than 50,000 students. Upload one term at a time.",
        ),
    ],
    ids=lambda value: value[:30] if isinstance(value, str) else None,
)
def test_a_bad_file_saves_nothing_and_says_why_in_place(world, login, content, message):
    response = upload(login(world.staff), content)
    assert response.status_code == 422
    page = text(response)
    assert "<h1>Upload registrar records</h1>" in page
    assert message in page
    assert 'aria-invalid="true"' in page
    assert saved_records() == 0


def test_every_problem_is_listed_by_line_up_to_a_limit(world, login):
    rows = [f"A0001,Fall 2025,{n}x,12,yes" for n in range(30)]
    page = text(upload(login(world.staff), csv_file(*rows)))
    assert "Line 2: the term GPA “0x”" in page
    assert "Line 21: the term GPA “19x”" in page
    assert "Line 22:" not in page
    assert "… and 10 more problems of the same kinds." in page


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        (
            "registrar.xlsx",
            csv_file(*registrar_rows()),
            "Choose a CSV file: its name ends in .csv.",
        ),
        (None, b"", "Choose the registrar's CSV file."),
    ],
)
def test_the_file_field_is_checked(world, login, filename, content, message):
    client = login(world.staff)
    if filename is None:
        response = client.post("/dashboard/outcomes/upload", data={})
    else:
        response = upload(client, content, filename=filename)
    assert response.status_code == 200
    assert message in text(response)
    assert saved_records() == 0


def test_a_file_over_2_mb_is_refused_in_place(world, login):
    client = login(world.staff)
    padding = "," * 40
    rows = [f"A0001,Fall 2025,3.0,12,yes{padding}"] * 50_000  # about 2.3 MB
    response = upload(client, csv_file(*rows, header=HEADER + padding))
    assert response.status_code == 413
    page = text(response)
    assert "<h1>Upload registrar records</h1>" in page
    assert registrar_csv.TOO_BIG in page
    assert saved_records() == 0


def test_a_file_just_over_the_file_limit_but_under_the_request_limit(ctx):
    with pytest.raises(UploadError) as raised:
        read_registrar_csv(b"x" * (registrar_csv.MAX_FILE_BYTES + 1), [])
    assert raised.value.problems == [registrar_csv.TOO_BIG]


def test_uploading_a_term_again_replaces_its_records_only_when_asked(world, login):
    client = login(world.staff)
    assert upload(client, csv_file(*registrar_rows())).status_code == 302
    changed = [row.replace("2.0,12,yes", "3.9,18,yes") for row in registrar_rows()[:3]]

    refused = upload(client, csv_file(*changed))
    assert refused.status_code == 409
    assert "Fall 2025 already has registrar records. Tick “Replace the records already " in text(
        refused
    )
    assert saved_records() == 10

    replaced = upload(client, csv_file(*changed), replace=True)
    assert replaced.status_code == 302
    assert "Fall 2025: 3 records saved, replacing 10." in text(
        client.get(replaced.headers["Location"])
    )
    stored = db.session.scalars(select(RegistrarRecord)).all()
    assert len(stored) == 3
    assert sorted(record.term_gpa for record in stored) == [3.0, 3.0, 3.9]


def test_other_terms_keep_their_records_when_one_is_replaced(world, login):
    client = login(world.staff)
    upload(client, csv_file(*registrar_rows("Spring 2026")))
    upload(client, csv_file(*registrar_rows()))
    upload(client, csv_file(*registrar_rows()[:2]), replace=True)
    counts = dict(
        db.session.execute(
            select(RegistrarRecord.term_id, func.count()).group_by(RegistrarRecord.term_id)
        ).all()
    )
    assert counts == {world.spring.id: 10, world.fall.id: 2}


def test_records_go_with_their_member_and_their_term(world):
    upload_directly(world)
    db.session.execute(delete(User).where(User.id == world.members["A0001"].id))
    db.session.commit()
    assert saved_records() == 9
    db.session.execute(delete(Term).where(Term.id == world.fall.id))
    db.session.commit()
    assert saved_records() == 0


def test_erasing_a_member_removes_their_registrar_records(world):
    upload_directly(world)
    result = erase_person(world.members["B0001"].email, utcnow())
    db.session.commit()
    assert result.removed["registrar records"] == 1
    assert saved_records() == 9


def upload_directly(world) -> None:
    outcomes.upload_registrar_csv(world.staff, csv_file(*registrar_rows()), replace=False)
    db.session.commit()


# --- Figures ---------------------------------------------------------------------------


def test_figures_by_touches_during_the_term(world):
    upload_directly(world)
    rows = rows_by_tier(outcomes.outcomes_for(world.fall, minimum=1).rows)
    assert rows == {
        "0": ("4", "4", "3.00", "13.5", "75%", "75%"),
        "1–2": ("4", "3", "3.00", "6.8", "75%", "50%"),
        "3+": ("2", "2", "3.70", "15.0", "50%", "50%"),
        "All members": ("10", "9", "3.16", "11.1", "70%", "60%"),
    }


def test_small_groups_are_hidden_and_cannot_be_worked_out(world):
    """Minimum 3: 3+ has two members, so it is hidden, and so is the smallest other tier
    (else all members minus the rest would give it); rates need 3 on each side."""
    upload_directly(world)
    rows = rows_by_tier(outcomes.outcomes_for(world.fall, minimum=3).rows)
    assert rows == {
        "0": (HIDDEN,) * 6,
        "1–2": ("4", "3", "3.00", "6.8", HIDDEN, HIDDEN),
        "3+": ("<3",) + (HIDDEN,) * 5,
        "All members": ("10", "9", "3.16", "11.1", "70%", "60%"),
    }


def test_a_figure_of_all_members_is_hidden_when_subtraction_would_reveal_it():
    """Two GPAs in tier 0 are hidden; the all-members mean would give them away."""
    groups = [
        Group(members=6, with_gpa=2, gpa_sum=7.0, credits_sum=72, retained=3, persisted=3),
        Group(members=6, with_gpa=6, gpa_sum=18.0, credits_sum=72, retained=3, persisted=3),
        Group(members=6, with_gpa=6, gpa_sum=21.0, credits_sum=72, retained=3, persisted=3),
    ]
    rows = rows_by_tier(outcome_rows(groups, minimum=3))
    assert rows["0"] == ("6", "<3", HIDDEN, "12.0", "50%", "50%")
    assert rows["All members"] == ("18", HIDDEN, HIDDEN, "12.0", "50%", "50%")


def _passes(group: Group, figure: str, minimum: int) -> bool:
    if figure in ("with_gpa", "mean_gpa"):
        return group.with_gpa >= minimum
    if figure in ("retention", "persistence"):
        part = group.retained if figure == "retention" else group.persisted
        return min(part, group.members - part) >= minimum
    return group.members >= minimum


FIGURES = ("members", "with_gpa", "mean_gpa", "mean_credits", "retention", "persistence")


@st.composite
def tier_groups(draw):
    members = draw(st.integers(0, 25))
    with_gpa = draw(st.integers(0, members))
    retained = draw(st.integers(0, members))
    persisted = draw(st.integers(0, retained))
    return Group(members, with_gpa, 3.0 * with_gpa, 12.0 * members, retained, persisted)


@settings(max_examples=300, deadline=None)
@given(groups=st.lists(tier_groups(), min_size=3, max_size=3), minimum=st.integers(1, 10))
def test_no_shown_or_subtracted_figure_rests_on_too_few_people(groups, minimum):
    """Whatever the counts: each figure shown stands on `minimum` people (a rate on each
    side), and so does all members' figure minus the tiers' shown ones."""
    rows = outcome_rows(groups, minimum)
    total = sum(groups, Group())
    for figure in FIGURES:
        shown = [getattr(row, figure) not in (HIDDEN, f"<{minimum}") for row in rows[:3]]
        for group, visible in zip(groups, shown, strict=True):
            assert not visible or _passes(group, figure, minimum)
        if getattr(rows[3], figure) not in (HIDDEN, f"<{minimum}"):
            assert _passes(total, figure, minimum)
            rest = sum((g for g, ok in zip(groups, shown, strict=True) if not ok), Group())
            assert rest.members == 0 or _passes(rest, figure, minimum)


# --- Pages and the export --------------------------------------------------------------


def test_the_page_shows_suppressed_figures_and_explains_them(world, login):
    upload_directly(world)
    client = login(world.staff)
    page = text(client.get("/dashboard/outcomes"))
    assert "<h1>Academic outcomes</h1>" in page
    assert "Fall 2025, Mon 25 Aug 2025 to Fri 19 Dec 2025: 10 member records, uploaded" in page
    assert "by Dana Reyes." in page
    assert "Outcomes in Fall 2025 by touches during the term" in page
    # Every tier is under 5 people; all members show, rates held back (3 and 4 not retained).
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    cells = [cell.split(">")[-1] for cell in body.split("</td>")[:-1]]
    assert cells == [
        *("<5", "—", "—", "—", "—", "—") * 3,
        "10", "9", "3.16", "11.1", "—", "—",
    ]  # fmt: skip
    assert "3.70" not in page and "3.00" not in page  # no tier's mean GPA
    assert "Retention" in page and "graduated at the end of this one" in page
    assert "Member A0001" not in page and "A0001" not in page


def test_the_export_is_the_suppressed_table_and_is_audited(world, login):
    upload_directly(world)
    client = login(world.staff)
    response = client.get(f"/dashboard/outcomes/export.csv?term={world.fall.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="crp-outcomes-2025-08-25-to-2025-12-19.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == outcomes.CSV_HEADER
    assert rows[1:] == [
        ["Fall 2025", "0", "<5", "—", "—", "—", "—", "—"],
        ["Fall 2025", "1–2", "<5", "—", "—", "—", "—", "—"],
        ["Fall 2025", "3+", "<5", "—", "—", "—", "—", "—"],
        ["Fall 2025", "All members", "10", "9", "3.16", "11.1", "—", "—"],
    ]
    for sid, *_ in MEMBERS:
        assert sid not in body
    assert "Member A" not in body and "Member B" not in body
    exports = db.session.execute(
        select(AuditEntry.subject_id, AuditEntry.detail).where(
            AuditEntry.actor_id == world.staff.id,
            AuditEntry.action == "registrar outcomes exported as CSV",
        )
    ).all()
    assert [tuple(row) for row in exports] == [(None, "Fall 2025, 2025-08-25 to 2025-12-19")]


@pytest.mark.parametrize("app_config", [{"CRP_MIN_CELL": 3}])
def test_the_minimum_cell_follows_the_configuration(app_config, world, login):
    upload_directly(world)
    body = login(world.staff).get("/dashboard/outcomes/export.csv").get_data(as_text=True)
    assert "Fall 2025,1–2,4,3,3.00,6.8,—,—" in body
    assert "Fall 2025,3+,<3,—,—,—,—,—" in body


def test_a_term_can_be_chosen_among_terms_with_records(world, login):
    client = login(world.staff)
    upload(client, csv_file(*registrar_rows()))
    upload(client, csv_file(*registrar_rows("Spring 2026")[:4]))
    latest = text(client.get("/dashboard/outcomes"))
    assert "Spring 2026, Mon 12 Jan 2026 to Fri 8 May 2026: 4 member records" in latest
    chosen = text(client.get(f"/dashboard/outcomes?term={world.fall.id}"))
    assert "Fall 2025, Mon 25 Aug 2025 to Fri 19 Dec 2025: 10 member records" in chosen
    assert f'<option selected value="{world.fall.id}">Fall 2025</option>' in chosen


@pytest.mark.parametrize("term", ["99999", "abc", "1" * 40])
def test_a_bad_term_gives_a_message_in_place(world, login, term):
    client = login(world.staff)
    upload(client, csv_file(*registrar_rows()))
    page = client.get(f"/dashboard/outcomes?term={term}")
    assert page.status_code == 200
    assert "Choose a term from the list." in text(page)
    export = client.get(f"/dashboard/outcomes/export.csv?term={term}")
    assert export.status_code == 400
    assert "Choose a term from the list." in export.get_data(as_text=True)


def test_before_any_upload_the_page_says_so(world, login):
    client = login(world.staff)
    page = text(client.get("/dashboard/outcomes"))
    assert "No registrar records have been uploaded yet." in page
    assert 'href="/dashboard/outcomes/upload"' in page
    export = client.get("/dashboard/outcomes/export.csv")
    assert export.status_code == 400
    assert "No registrar records have been uploaded yet." in export.get_data(as_text=True)


def test_the_dashboard_links_to_the_outcomes(world, login):
    assert 'href="/dashboard/outcomes"' in text(login(world.staff).get("/dashboard/"))


@pytest.mark.parametrize("role", ["student", "advisor"])
@pytest.mark.parametrize(
    "path", ["/dashboard/outcomes", "/dashboard/outcomes/export.csv", "/dashboard/outcomes/upload"]
)
def test_only_staff_may_use_the_outcomes(ctx, login, role, path):
    client = login(make_user(role))
    assert client.get(path).status_code == 403
    assert client.post("/dashboard/outcomes/upload", data={}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(ctx, client):
    response = client.get("/dashboard/outcomes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_the_outcomes_page_costs_the_same_with_more_data(world, login, count_queries):
    upload_directly(world)
    client = login(world.staff)
    few = count_queries(client, "/dashboard/outcomes")
    more = []
    for number in range(30):
        person = make_user("student", student_id=f"M{number:04d}", password=None)
        for week in mondays(FALL[1], number % 5):
            db.session.add(
                CheckIn(student_id=person.id, week_start=week, mood=3, stress=3, sleep=3)
            )
        more.append(f"M{number:04d},Fall 2025,3.{number % 10},12,yes")
    db.session.commit()
    outcomes.upload_registrar_csv(world.staff, csv_file(*registrar_rows(), *more), replace=True)
    db.session.commit()
    assert count_queries(client, "/dashboard/outcomes") == few
    assert count_queries(client, f"/dashboard/outcomes?term={world.fall.id}") == few


def test_a_term_name_cannot_become_a_spreadsheet_formula(world, login):
    upload_directly(world)
    world.fall.name = "=HYPERLINK(1)"
    db.session.commit()
    body = login(world.staff).get("/dashboard/outcomes/export.csv").get_data(as_text=True)
    assert body.splitlines()[1].startswith("'=HYPERLINK(1),0,")


def test_tiers_are_the_dashboards(ctx):
    assert [row.tier for row in outcome_rows([Group()] * 3, 5)] == [*TIERS, "All members"]


# --- In the browser, with axe ------------------------------------------------------------


@pytest.mark.browser
def test_staff_upload_a_file_and_read_the_outcomes_in_the_browser(app, page):
    from playwright.sync_api import expect

    from tests.browser.axe import assert_accessible
    from tests.browser.test_advising_journey import heading, signs_in
    from tests.browser.test_journeys import follow_nav

    with app.app_context():
        staff_email = arranged_world().staff.email
        db.session.remove()
    signs_in(page, staff_email, "Dana Reyes")

    follow_nav(page, "Dashboard")
    page.get_by_role("link", name="Academic outcomes").click()
    expect(heading(page)).to_have_text("Academic outcomes")
    expect(page.get_by_text("No registrar records have been uploaded yet.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Upload registrar records").click()
    expect(heading(page)).to_have_text("Upload registrar records")
    assert_accessible(page)

    chooser = page.get_by_label("Registrar file (CSV)")
    bad = csv_file("A0001,Fall 2025,4.5x,12,yes")
    chooser.set_input_files({"name": "registrar.csv", "mimeType": "text/csv", "buffer": bad})
    page.get_by_role("button", name="Upload").click()
    expect(heading(page)).to_have_text("Upload registrar records")
    expect(page.locator(".field-error")).to_contain_text("Line 2: the term GPA “4.5x”")
    assert_accessible(page)

    good = csv_file(*registrar_rows())
    page.get_by_label("Registrar file (CSV)").set_input_files(
        {"name": "registrar.csv", "mimeType": "text/csv", "buffer": good}
    )
    page.get_by_role("button", name="Upload").click()
    expect(heading(page)).to_have_text("Academic outcomes")
    expect(page.get_by_role("status")).to_contain_text("Fall 2025: 10 records saved.")
    table = page.get_by_role("table", name="Outcomes in Fall 2025 by touches during the term")
    expect(table.locator("tbody tr").last.locator("td")).to_have_text(
        ["10", "9", "3.16", "11.1", "—", "—"]
    )
    assert_accessible(page)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download this table as CSV").click()
    with open(downloading.value.path(), encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[-1] == ["Fall 2025", "All members", "10", "9", "3.16", "11.1", "—", "—"]
