"""What housing holds about a student, for the privacy duties (`crp_portal.privacy`): their
applications and bed assignments (with condition reports) in their data download; on
erasure the rows stay, for the counts, with the texts they wrote or that describe them
blanked.
"""

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crp_portal.housing.models import Bed, BedAssignment, ConditionReport, HousingApplication, Room
from crp_portal.privacy import register_eraser, register_export_section
from crp_portal.privacy.erasure import update_where
from crp_portal.privacy.export import all_rows, pick, rows, same

HOUSING_APPLICATION = {
    "term": "term.name",
    "first_choice": "first_choice.name",
    "second_choice": "second_choice.name",
    "roommate_request": "roommate_request",
    "accessibility_needs": "accessibility_needs",
    "move_in_wish": "move_in_wish",
    "agreement_version": "agreement.version",
    "agreement_acknowledged_at": "agreement_acknowledged_at",
    "status": "status_label",
    "decision_note": "decision_note",
    "submitted_at": "submitted_at",
}
BED_ASSIGNMENT = {
    "term": "term.name",
    "house": "bed.room.house.name",
    "room": "bed.room.name",
    "bed": "bed.label",
    "status": "status_label",
    **same("reply_by", "move_in_on", "move_out_on", "offered_at", "answered_at"),
}
CONDITION_REPORT = {
    "kind": "kind_label",
    "items": "items",
    "staff_notes": "staff_notes",
    "your_notes": "student_notes",
    "recorded_at": "recorded_at",
}


def housing_applications(user) -> list[dict]:
    return rows(
        select(HousingApplication)
        .where(HousingApplication.student_id == user.id)
        .options(
            joinedload(HousingApplication.term),
            joinedload(HousingApplication.first_choice),
            joinedload(HousingApplication.second_choice),
            joinedload(HousingApplication.agreement),
        )
        .order_by(HousingApplication.submitted_at, HousingApplication.id),
        HOUSING_APPLICATION,
    )


def bed_assignments(user) -> list[dict]:
    """Each bed assignment with its condition reports: two statements whatever the numbers."""
    reports = defaultdict(list)
    for report in all_rows(
        select(ConditionReport)
        .join(ConditionReport.assignment)
        .where(BedAssignment.student_id == user.id)
        .order_by(ConditionReport.recorded_at, ConditionReport.id)
    ):
        reports[report.assignment_id].append(pick(report, CONDITION_REPORT))
    return rows(
        select(BedAssignment)
        .where(BedAssignment.student_id == user.id)
        .options(
            joinedload(BedAssignment.term),
            joinedload(BedAssignment.bed).joinedload(Bed.room).joinedload(Room.house),
        )
        .order_by(BedAssignment.offered_at, BedAssignment.id),
        {**BED_ASSIGNMENT, "condition_reports": lambda row: reports[row.id]},
    )


def blank_housing_texts(user, _now) -> None:
    """The student's wishes and needs on their applications, and their notes on condition
    reports."""
    update_where(
        HousingApplication,
        (HousingApplication.student_id == user.id,),
        roommate_request="",
        accessibility_needs="",
        decision_note=None,
    )
    update_where(
        ConditionReport,
        (
            ConditionReport.assignment_id.in_(
                select(BedAssignment.id).where(BedAssignment.student_id == user.id)
            ),
        ),
        student_notes="",
    )


def init_app(app) -> None:
    register_export_section(app, "housing_applications", housing_applications)
    register_export_section(app, "bed_assignments", bed_assignments)
    register_eraser(app, None, blank_housing_texts)
