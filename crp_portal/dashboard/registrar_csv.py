"""Reading the registrar's CSV: every row checked, each problem named by line.

Nothing here writes: `read_registrar_csv` turns the bytes into checked rows or raises
UploadError listing what to fix, and `outcomes.upload_registrar_csv` saves the rows.
Columns are found by their header (several names a registrar's export may use are
accepted); the term column is matched to the portal's terms by `TermMatcher`.
"""

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from crp_portal import text_rules
from crp_portal.dashboard.outcome_models import CREDITS_MAX, GPA_MAX
from crp_portal.errors import DomainError
from crp_portal.terms.models import Term

MAX_FILE_BYTES = 2_000_000  # the request limit (MAX_CONTENT_LENGTH) is 2 MiB
MAX_ROWS = 50_000
MAX_PROBLEMS_SHOWN = 20
STUDENT_ID_LENGTH = 32  # MemberProfile.student_id

COLUMNS = {  # column → the header names a registrar's export may use for it
    "student_id": ("student_id", "studentid", "student_number", "id_number", "emplid"),
    "term": ("term", "term_name", "term_code", "semester"),
    "term_gpa": ("term_gpa", "gpa", "semester_gpa"),
    "credits": ("credits", "credits_earned", "earned_credits", "credit_hours_earned"),
    "enrolled_next_term": ("enrolled_next_term", "enrolled_next", "next_term_enrolled"),
}
COLUMN_LABELS = {
    "student_id": "student id",
    "term": "term",
    "term_gpa": "term GPA",
    "credits": "credits",
    "enrolled_next_term": "enrolled next term",
}
ENROLLED, NOT_ENROLLED, GRADUATED = "enrolled", "not enrolled", "graduated"
NEXT_TERM_WORDS = {
    **dict.fromkeys(("yes", "y", "true", "t", "1", "enrolled"), ENROLLED),
    **dict.fromkeys(("no", "n", "false", "f", "0", "not enrolled"), NOT_ENROLLED),
    **dict.fromkeys(("graduated", "graduate", "grad", "g"), GRADUATED),
}

NOT_UTF8 = (
    "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8 (comma delimited)”."
)
WORKBOOK = (
    "This is a spreadsheet workbook, not a CSV file. In your spreadsheet, save it as "
    "“CSV UTF-8 (comma delimited)” and upload that."
)
TOO_BIG = (
    "The file is larger than 2 MB. Ask the registrar for the program's members only, "
    "or upload one term at a time."
)
NOT_TEXT = (
    "The file holds binary data, not text. In your spreadsheet, save it as "
    "“CSV UTF-8 (comma delimited)”."
)
EMPTY = "The file is empty. Choose the registrar's CSV file."
NO_ROWS = "The file has a header but no students."


class UploadError(DomainError):
    """The file cannot be saved; `problems` lists each reason, by line where there is one."""

    def __init__(self, problems: list[str], total: int | None = None):
        total = total if total is not None else len(problems)
        super().__init__(problems[0] if total == 1 else f"The file has {total} problems.")
        self.problems = problems
        self.total = total


@dataclass(frozen=True)
class RegistrarRow:
    line: int
    student_id: str
    term: Term
    term_gpa: Decimal | None
    credits: Decimal
    next_term: str  # ENROLLED, NOT_ENROLLED or GRADUATED


# --- Reading the file ------------------------------------------------------------------


def _header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().casefold()).strip("_")


def _column_positions(header: list[str]) -> dict[str, int]:
    keys = [_header_key(name) for name in header]
    positions, problems = {}, []
    for column, aliases in COLUMNS.items():
        found = [index for index, key in enumerate(keys) if key in aliases]
        if len(found) > 1:
            names = ", ".join(header[index].strip()[:40] for index in found)
            problems.append(
                f"Line 1: the header names the {COLUMN_LABELS[column]} twice ({names})."
            )
        elif found:
            positions[column] = found[0]
    missing = [column for column in COLUMNS if column not in positions]
    if missing and len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        problems.append(
            "Line 1: the columns are separated by semicolons or tabs. "
            "Save the file as comma-separated CSV."
        )
    elif missing:
        problems.append(
            "Line 1: the header must name the columns "
            f"{', '.join(COLUMNS)} (missing: {', '.join(missing)})."
        )
    if problems:
        raise UploadError(problems)
    return positions


SEASONS = {
    "fall": ("fall", "fa", "fl", "autumn", "au", "aut"),
    "spring": ("spring", "sp", "spr"),
    "summer": ("summer", "su", "sum", "sm"),
    "winter": ("winter", "wi", "win", "wn"),
}
_SEASON_OF = {alias: season for season, aliases in SEASONS.items() for alias in aliases}
_SEASON_PATTERN = "|".join(sorted(_SEASON_OF, key=len, reverse=True))
_SEASON_YEAR = re.compile(
    rf"(?:(?P<s1>{_SEASON_PATTERN})(?P<y1>\d{{4}}|\d{{2}})|(?P<y2>\d{{4}}|\d{{2}})(?P<s2>{_SEASON_PATTERN}))"
)


def _name_key(text: str) -> str:
    return " ".join(text.casefold().split())


def _season_year(text: str) -> tuple[str, int] | None:
    """("fall", 2026) from "Fall 2026", "2026 Fall", "FA2026", "2026FA", "fa26", "Fall
    Semester 2026"; None for anything else (numeric codes differ between institutions)."""
    compact = re.sub(r"semester|term|quarter|[\s_/.-]+", "", text.casefold())
    match = _SEASON_YEAR.fullmatch(compact)
    if not match:
        return None
    season = _SEASON_OF[match["s1"] or match["s2"]]
    year = match["y1"] or match["y2"]
    return season, int(year) + (2000 if len(year) == 2 else 0)


class TermMatcher:
    """The term a registrar's term column names: a term's name in any case and spacing,
    or the season and year of a term named like "Fall 2026" in a short form (FA2026,
    2026FA, FA26, 2026 Fall). A short form two terms could claim matches neither."""

    def __init__(self, terms: list[Term]):
        self.terms = terms
        self._by_name = {_name_key(term.name): term for term in terms}
        by_season: dict[tuple[str, int], list[Term]] = defaultdict(list)
        for term in terms:
            key = _season_year(term.name)
            if key:
                by_season[key].append(term)
        self._by_season = {key: found[0] for key, found in by_season.items() if len(found) == 1}

    def find(self, text: str) -> Term | None:
        term = self._by_name.get(_name_key(text))
        if term is None and (key := _season_year(text)):
            term = self._by_season.get(key)
        return term


_GPA = re.compile(r"\d{1,2}(?:\.\d{1,4})?|\.\d{1,4}")
_CREDITS = re.compile(r"\d{1,3}(?:\.\d{1,2})?|\.\d{1,2}")


def _number(text: str, pattern: re.Pattern, maximum: Decimal, places: str) -> Decimal | None:
    if not pattern.fullmatch(text):
        return None
    value = Decimal(text).quantize(Decimal(places), rounding=ROUND_HALF_UP)
    return value if value <= maximum else None


def _decimal_comma(text: str) -> str:
    return " (write it with a point, such as 3.25)" if re.fullmatch(r"\d+,\d+", text) else ""


class _Reading:
    """Problems found so far: the first MAX_PROBLEMS_SHOWN in words, and how many."""

    def __init__(self):
        self.problems: list[tuple[int, str]] = []
        self.total = 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append((line, message))

    def raise_if_any(self) -> None:
        if not self.total:
            return
        ordered = [f"Line {line}: {message}" for line, message in sorted(self.problems)]
        if self.total > len(ordered):
            ordered.append(f"… and {self.total - len(ordered)} more problems of the same kinds.")
        raise UploadError(ordered, self.total)


def _cell(values: list[str], position: int) -> str:
    return values[position].strip() if position < len(values) else ""


def _hidden_characters(values: list[str], positions: dict[str, int]) -> str | None:
    """Each cell the import reads is held to `text_rules`, before anything else is said
    about (or quoted from) the row."""
    found = [
        f"the {COLUMN_LABELS[column]} column contains {problem}"
        for column, position in positions.items()
        if (problem := text_rules.problem(_cell(values, position)))
    ]
    return "; ".join(found) + "." if found else None


def _read_row(line, values, positions, matcher, reading, unknown_terms) -> RegistrarRow | None:
    if hidden := _hidden_characters(values, positions):
        reading.add(line, hidden)
        return None
    student_id = _cell(values, positions["student_id"])
    term_text = _cell(values, positions["term"])
    gpa_text = _cell(values, positions["term_gpa"])
    credits_text = _cell(values, positions["credits"])
    next_text = _cell(values, positions["enrolled_next_term"])
    problems = []
    if not student_id:
        problems.append("the student id is empty")
    elif len(student_id) > STUDENT_ID_LENGTH:
        problems.append(f"the student id is longer than {STUDENT_ID_LENGTH} characters")
    term = matcher.find(term_text) if term_text else None
    if not term_text:
        problems.append("the term is empty")
    elif term is None:
        unknown_terms[term_text[:40]].append(line)
    gpa = _number(gpa_text, _GPA, GPA_MAX, "0.001") if gpa_text else None
    if gpa_text and gpa is None:
        problems.append(
            f"the term GPA “{gpa_text[:20]}” is not a number from 0 to {GPA_MAX}"
            f"{_decimal_comma(gpa_text)}; leave it empty if the term has no GPA"
        )
    credits = _number(credits_text, _CREDITS, CREDITS_MAX, "0.01") if credits_text else None
    if not credits_text:
        problems.append("the credits are empty (write 0 when none were earned)")
    elif credits is None:
        problems.append(
            f"the credits “{credits_text[:20]}” are not a number from 0 to {CREDITS_MAX}"
            f"{_decimal_comma(credits_text)}"
        )
    next_term = NEXT_TERM_WORDS.get(" ".join(next_text.casefold().split()))
    if next_term is None:
        shown = f"“{next_text[:20]}”" if next_text else "empty"
        problems.append(
            f"enrolled next term is {shown}: write yes, no, or graduated "
            "(for a student who graduated at the end of the term)"
        )
    if problems:
        reading.add(line, "; ".join(problems) + ".")
        return None
    if term is None or credits is None or next_term is None:  # the last two: never, no problems
        return None
    return RegistrarRow(line, student_id, term, gpa, credits, next_term)


def read_registrar_csv(raw: bytes, terms: list[Term]) -> list[RegistrarRow]:
    """Every row of the file, checked; UploadError lists what to fix, by line.

    Refused: more than MAX_FILE_BYTES or MAX_ROWS, not UTF-8, not CSV, a header without
    the five columns, a bad value or one `text_rules` refuses, a term the portal does not
    have, and the same student twice for one term (which of the two would be right?).
    Blank lines are skipped.
    """
    if len(raw) > MAX_FILE_BYTES:
        raise UploadError([TOO_BIG])
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError([WORKBOOK])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadError([NOT_UTF8]) from error
    if "\x00" in text:
        raise UploadError([NOT_TEXT])
    reader = csv.reader(io.StringIO(text, newline=""))
    matcher = TermMatcher(terms)
    reading = _Reading()
    unknown_terms: dict[str, list[int]] = defaultdict(list)
    rows: list[RegistrarRow] = []
    first_line: dict[tuple[str, int], int] = {}
    try:
        header = next((values for values in reader if any(v.strip() for v in values)), None)
        if header is None:
            raise UploadError([EMPTY])
        positions = _column_positions(header)
        count, ended = 0, reader.line_num
        for values in reader:
            line, ended = ended + 1, reader.line_num  # where the row starts
            if not any(value.strip() for value in values):
                continue
            count += 1
            if count > MAX_ROWS:
                raise UploadError(
                    [f"The file has more than {MAX_ROWS:,} students. Upload one term at a time."]
                )
            row = _read_row(line, values, positions, matcher, reading, unknown_terms)
            if row is None:
                continue
            key = (row.student_id.casefold(), row.term.id)
            if key in first_line:
                reading.add(
                    row.line,
                    f"student id {row.student_id} already appears for {row.term.name} "
                    f"on line {first_line[key]}.",
                )
                continue
            first_line[key] = row.line
            rows.append(row)
    except csv.Error as error:
        raise UploadError(
            [f"Line {reader.line_num}: the file cannot be read as CSV ({error})."]
        ) from error
    for term_text, lines in unknown_terms.items():
        reading.add(lines[0], _unknown_term(term_text, lines, matcher.terms))
    reading.raise_if_any()
    if not rows:
        raise UploadError([NO_ROWS])
    return rows


def _unknown_term(term_text: str, lines: list[int], terms: list[Term]) -> str:
    others = f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else ""
    names = ", ".join(term.name for term in terms[:6]) or "none yet"
    return (
        f"the term “{term_text}”{others} is not a term in the portal. Use a term's name "
        f"as the portal shows it ({names}), or add the term under Terms first."
    )
