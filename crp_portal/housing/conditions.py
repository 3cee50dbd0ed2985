"""Condition reports at move-in and move-out, with the resident's 48-hour window to add to them."""

from datetime import datetime, timedelta

from sqlalchemy import select

from crp_portal.auth.models import User
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.housing.models import (
    CONDITION_KINDS,
    STUDENT_NOTE_WINDOW_HOURS,
    AssignmentStatus,
    BedAssignment,
    ConditionReport,
)
from crp_portal.unit_of_work import lock


def reports_for(assignment: BedAssignment) -> dict[str, ConditionReport]:
    rows = db.session.scalars(
        select(ConditionReport).where(ConditionReport.assignment_id == assignment.id)
    )
    return {row.kind: row for row in rows}


def record(
    assignment: BedAssignment, kind: str, items: str, staff_notes: str, staff: User, now: datetime
) -> ConditionReport:
    """Staff record (or correct) the room's condition for a residency.

    Locks the assignment's row (`FOR NO KEY UPDATE`) before looking for the report, so
    two staff saving at once edit one report instead of both adding it.
    """
    if kind not in CONDITION_KINDS:
        raise NotFound("There is no such kind of condition report.")
    lock(assignment, key_share=True)
    if assignment.status not in (AssignmentStatus.ACCEPTED, AssignmentStatus.ENDED):
        raise Conflict("Condition reports are for residents who accepted their bed.")
    if not items.strip():
        raise DomainError("List the items and their condition.")
    report = reports_for(assignment).get(kind) or ConditionReport(
        assignment_id=assignment.id, kind=kind
    )
    report.items = items.strip()
    report.staff_notes = staff_notes.strip()
    report.recorded_by_id = staff.id
    report.recorded_at = now
    db.session.add(report)
    db.session.flush()
    return report


def student_window_open(report: ConditionReport, now: datetime) -> bool:
    return now <= report.recorded_at + timedelta(hours=STUDENT_NOTE_WINDOW_HOURS)


def report_for(student: User, report_id: int) -> ConditionReport:
    """The resident's own report; anyone else's id looks like no report."""
    report = db.session.get(ConditionReport, report_id)
    if report is None or report.assignment.student_id != student.id:
        raise NotFound("There is no condition report with that number in your list.")
    return report


def add_student_notes(report_id: int, student: User, notes: str, now: datetime) -> ConditionReport:
    """The resident adds what they see, within 48 hours of the report."""
    report = report_for(student, report_id)
    if not student_window_open(report, now):
        raise Conflict(
            "The 48 hours to add to this report have passed. Tell housing staff directly."
        )
    if not notes.strip():
        raise DomainError("Write what you noticed.")
    report.student_notes = notes.strip()
    report.student_added_at = now
    db.session.flush()
    return report
