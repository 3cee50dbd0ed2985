"""Institutional outcomes from the registrar's CSV: upload, aggregate by engagement, export.

Staff upload what the registrar exports (student id, term, term GPA, credits earned,
enrolled next term); `registrar_csv` checks every row first and nothing is saved if any
row is bad. A row is kept only when its student id belongs to a member (any status but
applicant); the rest are counted for the person uploading and never stored. Uploading a
term again replaces its records, in the same transaction.

The figures are aggregates by the member's touches during that term (attendance at a
held event, a completed advising session, a weekly check-in: the dashboard's touches)
in the dashboard's tiers 0, 1–2 and 3+, plus all members together. See `outcomes_for`
for the suppression rules, which apply on screen as well as in the export: staff know
who attends, so a mean over three people would tell them those people's grades.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from crp_portal import audit, csv_export
from crp_portal.auth.models import User
from crp_portal.dashboard.engagement import TIERS, touches_between
from crp_portal.dashboard.outcome_models import RegistrarRecord
from crp_portal.dashboard.registrar_csv import (
    ENROLLED,
    GRADUATED,
    UploadError,
    read_registrar_csv,
)
from crp_portal.errors import Conflict
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.terms.models import Term
from crp_portal.timeutil import clamp_date, utcnow


class TermsHaveRecords(Conflict):
    """A term in the file already has records and the upload did not say to replace them."""


# --- Saving ----------------------------------------------------------------------------


@dataclass
class TermUpload:
    term: Term
    saved: int = 0
    replaced: int = 0


@dataclass
class UploadResult:
    terms: list[TermUpload] = field(default_factory=list)
    rows: int = 0
    unmatched: int = 0  # no member has this student id: counted, never stored
    applicants: int = 0  # the student has applied but is not a member: not stored

    @property
    def saved(self) -> int:
        return sum(term.saved for term in self.terms)


APPLICANT_ID = 0  # in `_members_by_student_id`: the id is an applicant's, not a member's


def _members_by_student_id() -> dict[str, int]:
    """User ids by student id, compared without case (APPLICANT_ID for applicants); an id
    two profiles share that way (the database allows "s1" and "S1") matches neither."""
    # student_id is never None here: the query skips profiles without one.
    rows = cast(
        Sequence[tuple[str, int, str]],
        db.session.execute(
            select(MemberProfile.student_id, MemberProfile.user_id, MemberProfile.status).where(
                MemberProfile.student_id.is_not(None)
            )
        ).all(),
    )
    counts = Counter(student_id.casefold() for student_id, _, _ in rows)
    return {
        student_id.casefold(): (user_id if status != MemberStatus.APPLICANT else APPLICANT_ID)
        for student_id, user_id, status in rows
        if counts[student_id.casefold()] == 1
    }


def upload_registrar_csv(staff: User, raw: bytes, replace: bool) -> UploadResult:
    """Check the file, then store one record per member and term, in one transaction.

    A term that already has records is replaced only when `replace` says so; otherwise a
    Conflict names it. Rows of students who are not members are counted, not stored.
    Each term uploaded is written to the audit trail.
    """
    terms = list(db.session.scalars(select(Term).order_by(Term.starts_on.desc(), Term.id)))
    rows = read_registrar_csv(raw, terms)
    members = _members_by_student_id()
    result = UploadResult(rows=len(rows))
    by_term: dict[int, TermUpload] = {}
    records = []
    now = utcnow()
    for row in rows:
        user_id = members.get(row.student_id.casefold())
        if user_id is None:
            result.unmatched += 1
            continue
        if user_id == APPLICANT_ID:
            result.applicants += 1
            continue
        upload = by_term.setdefault(row.term.id, TermUpload(row.term))
        upload.saved += 1
        records.append(
            {
                "user_id": user_id,
                "term_id": row.term.id,
                "term_gpa": row.term_gpa,
                "credits": row.credits,
                "enrolled_next_term": row.next_term == ENROLLED,
                "graduated": row.next_term == GRADUATED,
                "uploaded_at": now,
                "uploaded_by_id": staff.id,
            }
        )
    if not records:
        raise UploadError(
            [
                f"None of the {len(rows)} students in the file is a member of the program, "
                "so nothing was saved. Check that the student id column holds the "
                "institution's ids as they appear on members' profiles (with any leading zeros)."
            ]
        )
    existing = dict(
        db.session.execute(
            select(RegistrarRecord.term_id, func.count())
            .where(RegistrarRecord.term_id.in_(by_term))
            .group_by(RegistrarRecord.term_id)
        ).all()
    )
    if existing and not replace:
        names = " and ".join(by_term[term_id].term.name for term_id in existing)
        raise TermsHaveRecords(
            f"{names} already {'has' if len(existing) == 1 else 'have'} registrar records. "
            "Tick “Replace the records already uploaded” to replace them with this file."
        )
    for term_id, count in existing.items():
        by_term[term_id].replaced = count
    try:
        db.session.execute(
            delete(RegistrarRecord)
            .where(RegistrarRecord.term_id.in_(by_term))
            .execution_options(synchronize_session=False)
        )
        db.session.execute(insert(RegistrarRecord), records)
        for upload in by_term.values():
            audit.record_upload(staff, upload.term.name)
        db.session.flush()
    except IntegrityError as error:
        raise Conflict(
            "Someone uploaded records for these terms just now. Upload the file again."
        ) from error
    result.terms = sorted(by_term.values(), key=lambda upload: upload.term.starts_on)
    return result


def delete_records_of(user_id: int) -> int:
    """Remove a person's registrar records (on erasure): the registrar holds the same
    figures, so a kept row could be matched back to the person. Returns how many went."""
    statement = (
        delete(RegistrarRecord)
        .where(RegistrarRecord.user_id == user_id)
        .execution_options(synchronize_session="fetch")
    )
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


# --- Figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TermRecords:
    term: Term
    records: int
    uploaded_at: object  # the latest upload's time (aware datetime)


def terms_with_records() -> list[TermRecords]:
    """Terms that have registrar records, latest first, in one statement."""
    rows = db.session.execute(
        select(Term, func.count(RegistrarRecord.id), func.max(RegistrarRecord.uploaded_at))
        .join(RegistrarRecord, RegistrarRecord.term_id == Term.id)
        .group_by(Term.id)
        .order_by(Term.starts_on.desc(), Term.id)
    ).all()
    return [TermRecords(term, count, uploaded_at) for term, count, uploaded_at in rows]


def last_uploaded_by(term: Term) -> str:
    """The name of whoever uploaded the term's records (empty if their account is gone)."""
    name = db.session.scalar(
        select(User.name)
        .join(RegistrarRecord, RegistrarRecord.uploaded_by_id == User.id)
        .where(RegistrarRecord.term_id == term.id)
        .order_by(RegistrarRecord.uploaded_at.desc())
        .limit(1)
    )
    return name or ""


@dataclass(frozen=True)
class Group:
    """Raw sums for a group of members; shown only through `outcome_rows`."""

    members: int = 0
    with_gpa: int = 0
    gpa_sum: float = 0.0
    credits_sum: float = 0.0
    retained: int = 0
    persisted: int = 0

    def __add__(self, other: "Group") -> "Group":
        return Group(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple:
        return (
            self.members,
            self.with_gpa,
            self.gpa_sum,
            self.credits_sum,
            self.retained,
            self.persisted,
        )


FIGURES = ("members", "with_gpa", "mean_gpa", "mean_credits", "retention", "persistence")
HIDDEN = "—"


def _passes(group: Group, figure: str, minimum: int) -> bool:
    """Whether a figure about `group` may be shown: at least `minimum` people behind it,
    and for a rate at least `minimum` on each side (18 of 20 would describe the 2)."""
    if figure in ("with_gpa", "mean_gpa"):
        return group.with_gpa >= minimum
    if figure in ("retention", "persistence"):
        part = group.retained if figure == "retention" else group.persisted
        return part >= minimum and group.members - part >= minimum
    return group.members >= minimum


def _mean(total: float, count: int, places: str) -> str:
    return str(Decimal(str(total / count)).quantize(Decimal(places), ROUND_HALF_UP))


def _text(group: Group, figure: str, shown: bool, minimum: int, row_hidden: bool = False) -> str:
    """A figure as shown: "<5" for a count too small to show (in a row still shown), "—"
    for anything else held back."""
    if figure == "members" or (figure == "with_gpa" and not row_hidden):
        count = getattr(group, figure)
        if shown:
            return str(count)
        return f"<{minimum}" if count < minimum else HIDDEN
    if not shown:
        return HIDDEN
    if figure == "mean_gpa":
        return _mean(group.gpa_sum, group.with_gpa, "0.01")
    if figure == "mean_credits":
        return _mean(group.credits_sum, group.members, "0.1")
    part = group.retained if figure == "retention" else group.persisted
    return f"{round(100 * part / group.members)}%"


@dataclass(frozen=True)
class OutcomeRow:
    tier: str  # "0", "1–2", "3+" or ALL
    members: str
    with_gpa: str
    mean_gpa: str
    mean_credits: str
    retention: str
    persistence: str


ALL = "All members"


@dataclass(frozen=True)
class Outcomes:
    term: Term
    minimum: int
    rows: list[OutcomeRow]


def _groups(term: Term) -> list[Group]:
    touches = touches_between(clamp_date(term.starts_on), clamp_date(term.ends_on))
    per_member = (
        select(touches.c.user_id, func.count().label("n")).group_by(touches.c.user_id).subquery()
    )
    n = func.coalesce(per_member.c.n, 0)
    tier = case((n == 0, 0), (n <= 2, 1), else_=2).label("tier")
    retained = or_(RegistrarRecord.enrolled_next_term, RegistrarRecord.graduated)
    rows = db.session.execute(
        select(
            tier,
            func.count(),
            func.count(RegistrarRecord.term_gpa),
            func.coalesce(func.sum(RegistrarRecord.term_gpa), 0),
            func.coalesce(func.sum(RegistrarRecord.credits), 0),
            func.sum(case((retained, 1), else_=0)),
            func.sum(case((and_(retained, RegistrarRecord.credits > 0), 1), else_=0)),
        )
        .select_from(RegistrarRecord)
        .outerjoin(per_member, per_member.c.user_id == RegistrarRecord.user_id)
        .where(RegistrarRecord.term_id == term.id)
        .group_by(tier)
    ).all()
    found = {
        int(index): Group(int(a), int(b), float(c), float(d), int(e or 0), int(f or 0))
        for index, a, b, c, d, e, f in rows
    }
    return [found.get(index, Group()) for index in range(len(TIERS))]


def outcomes_for(term: Term, minimum: int) -> Outcomes:
    """The term's outcomes by tier and for all members, as text, in one statement.

    - Retention: enrolled the next term, or graduated at the end of this one.
    - Persistence: retained and earned more than 0 credits in this term.
    - Mean term GPA over members with a GPA; mean credits over all with a record.
    """
    return Outcomes(term, minimum, outcome_rows(_groups(term), minimum))


def outcome_rows(groups: list[Group], minimum: int) -> list[OutcomeRow]:
    """One row per tier, then all members, with suppression (`minimum` is CRP_MIN_CELL).

    A tier of fewer than `minimum` members shows "<5" and no figures. When the hidden
    tiers together hold fewer than `minimum` members, the smallest shown tier is hidden
    too, so "all members" minus the shown tiers never describes fewer than `minimum`
    people. Each figure needs `minimum` people behind it (a rate: on each side), and a
    figure of all members shows only when the same figure for the tiers it is hidden
    from would pass too: subtraction cannot recover it.
    """
    total = sum(groups, Group())
    hidden = {index for index, group in enumerate(groups) if group.members < minimum}
    while 0 < sum(groups[i].members for i in hidden) < minimum and len(hidden) < len(groups):
        shown = [i for i in range(len(groups)) if i not in hidden]
        hidden.add(min(shown, key=lambda i: (groups[i].members, i)))
    rows = []
    cells: dict[str, list[bool]] = {figure: [] for figure in FIGURES}
    for index, group in enumerate(groups):
        for figure in FIGURES:
            cells[figure].append(index not in hidden and _passes(group, figure, minimum))
        texts = (_text(group, f, cells[f][index], minimum, index in hidden) for f in FIGURES)
        rows.append(OutcomeRow(TIERS[index], *texts))
    total_cells = []
    for figure in FIGURES:
        rest = sum((g for g, ok in zip(groups, cells[figure], strict=True) if not ok), Group())
        rest_ok = rest.members == 0 or _passes(rest, figure, minimum)
        total_shown = rest_ok and _passes(total, figure, minimum)
        total_cells.append(_text(total, figure, total_shown, minimum))
    rows.append(OutcomeRow(ALL, *total_cells))
    return rows


CSV_HEADER = [
    "Term",
    "Touches during the term",
    "Members with a record",
    "Members with a term GPA",
    "Mean term GPA",
    "Mean credits earned",
    "Retention (enrolled next term or graduated)",
    "Persistence (retained and earned credits)",
]


def outcomes_csv(outcomes: Outcomes) -> str:
    """The table as it may leave the program: one row per tier and all members, the same
    suppressed cells as on screen, no one named or numbered."""
    term = outcomes.term.name
    rows = ([term, row.tier, *(getattr(row, f) for f in FIGURES)] for row in outcomes.rows)
    return csv_export.to_csv(CSV_HEADER, rows)


def record_export(staff: User, term: Term) -> None:
    """An export of a term's outcomes leaves the program: write it to the audit trail."""
    audit.record_outcomes_export(staff, term.name, term.starts_on, term.ends_on)


def _rows(count: int) -> str:
    return f"{count} row was" if count == 1 else f"{count} rows were"


def upload_summary(result: UploadResult) -> str:
    """What the upload did, in a sentence or three, for the flash message."""
    parts = [
        f"{upload.term.name}: {upload.saved} record{'' if upload.saved == 1 else 's'} saved"
        + (f", replacing {upload.replaced}" if upload.replaced else "")
        for upload in result.terms
    ]
    text = "; ".join(parts) + "."
    if result.unmatched:
        text += f" {_rows(result.unmatched)} not stored: no member has their student id."
    if result.applicants:
        text += f" {_rows(result.applicants)} not stored: they are applicants, not members."
    return text
