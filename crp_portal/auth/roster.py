"""CSV roster import: every row is checked first, and nothing is saved if any row is bad.

Each cell the import reads is held to `text_rules` (one line, no hidden characters)."""

import csv
import io
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from crp_portal import text_rules
from crp_portal.access import ROLES, STUDENT
from crp_portal.auth.models import User
from crp_portal.auth.services import create_user, normalize_email, send_password_link
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile

COLUMNS = ("email", "name", "role", "student_id")
MAX_ROWS = 5000


@dataclass
class RosterRow:
    line: int
    email: str
    name: str
    role: str
    student_id: str


@dataclass
class RosterResult:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def add_problem(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    @property
    def errors(self) -> list[str]:
        """Problems in file order, each starting with its line when it has one."""
        ordered = sorted(self.problems, key=lambda problem: problem[0])
        return [f"Line {line}: {message}" if line else message for line, message in ordered]


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def parse_roster(raw: bytes) -> RosterResult:
    """Read and check a roster; `errors` names each bad line in words a person can act on."""
    result = RosterResult()
    text = _decode(raw)
    if text is None:
        result.add_problem(
            0, "The file is not UTF-8 text. Save it from your spreadsheet as CSV UTF-8."
        )
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            result.add_problem(0, "The file is empty.")
            return result
        columns = [name.strip().lower().replace(" ", "_") for name in header]
        missing = [name for name in COLUMNS if name not in columns]
        if missing:
            result.add_problem(
                1,
                "the header must name the columns email, name, role, student_id "
                f"(missing: {', '.join(missing)}).",
            )
            return result
        index = {name: columns.index(name) for name in COLUMNS}
        ended = reader.line_num
        for values in reader:
            line, ended = ended + 1, reader.line_num  # where the row starts
            if not any(value.strip() for value in values):
                continue
            if len(result.rows) >= MAX_ROWS:
                result.add_problem(0, f"The file has more than {MAX_ROWS} rows; split it.")
                return result
            _check_row(line, values, index, result)
    except csv.Error as error:
        result.add_problem(reader.line_num, f"the CSV cannot be read ({error}).")
        return result
    if not result.rows and not result.problems:
        result.add_problem(0, "The file has a header but no people.")
    _check_against_database(result)
    return result


def _cell(values: list[str], index: dict[str, int], name: str) -> str:
    position = index[name]
    return values[position].strip() if position < len(values) else ""


def _check_row(line: int, values: list[str], index: dict[str, int], result: RosterResult) -> None:
    hidden = [
        f"column “{name}” contains {found}"
        for name in COLUMNS
        if (found := text_rules.problem(_cell(values, index, name)))
    ]
    if hidden:  # nothing else about the row is worth saying, nor safe to look up
        result.add_problem(line, "; ".join(hidden) + ".")
        return
    email = normalize_email(_cell(values, index, "email"))
    name = _cell(values, index, "name")
    role = _cell(values, index, "role").lower()
    student_id = _cell(values, index, "student_id")
    problems = []
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        problems.append(f"“{email[:60]}” is not an email address" if email else "email is empty")
    if not name:
        problems.append("name is empty")
    elif len(name) > 120:
        problems.append("name is longer than 120 characters")
    if role not in ROLES:
        problems.append(f"role must be student, advisor or staff (not “{role[:20]}”)")
    if len(student_id) > 32:
        problems.append("student id is longer than 32 characters")
    if student_id and role != STUDENT:
        problems.append("only students have a student id")
    for earlier in result.rows:
        if earlier.email == email:
            problems.append(f"{email} already appears on line {earlier.line}")
        if student_id and earlier.student_id == student_id:
            problems.append(f"student id {student_id} already appears on line {earlier.line}")
    if problems:
        result.add_problem(line, "; ".join(problems) + ".")
    else:
        result.rows.append(RosterRow(line, email, name, role, student_id))


def _check_against_database(result: RosterResult) -> None:
    emails = {row.email for row in result.rows}
    ids = {row.student_id for row in result.rows if row.student_id}
    taken_emails = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    taken_ids = set(
        db.session.scalars(
            select(MemberProfile.student_id).where(MemberProfile.student_id.in_(ids))
        )
    )
    for row in result.rows:
        if row.email in taken_emails:
            result.add_problem(row.line, f"{row.email} already has an account.")
        if row.student_id in taken_ids:
            result.add_problem(
                row.line, f"student id {row.student_id} already belongs to a member."
            )


def import_roster(raw: bytes, send_welcome: bool) -> RosterResult:
    """Create every account in the file, or none: the caller commits only without errors."""
    result = parse_roster(raw)
    if result.problems:
        return result
    subject = f"Your {current_app.config['CRP_PUBLIC_NAME']} account is ready"
    for row in result.rows:
        user = create_user(row.email, row.name, row.role, student_id=row.student_id or None)
        if send_welcome:
            db.session.flush()
            send_password_link(user, template="welcome", subject=subject)
    db.session.flush()
    return result
