"""What recovery holds about a student, for the privacy duties (`crp_portal.privacy`).

- Data download: their support network, every version of their plan, their check-ins and
  the follow-ups about them, with staff's notes.
- Erasure: the network and the plan go; check-ins keep their scores and follow-ups stay
  (the program's counts), without their notes.
- Retention: check-in notes and follow-up notes older than the retention period lose
  their text; a check-in keeps its `updated_at`, so "last changed by the student" still
  means that.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crp_portal.privacy import register_eraser, register_export_section, register_retention
from crp_portal.privacy.erasure import delete_where, has_text, update_where
from crp_portal.privacy.export import pick, rows, same
from crp_portal.recovery.models import (
    PLAN_SECTIONS,
    CheckIn,
    FollowUp,
    FollowUpNote,
    RecoveryPlanVersion,
    SupportPerson,
)

SUPPORT_PERSON = {
    "name": "name",
    "relationship": "relationship_to_student",
    "how_to_reach": "how_to_reach",
    "expectations": "expectations",
    "emergency_contact": "emergency_contact",
    "added_at": "created_at",
}
PLAN = {**same("version", *PLAN_SECTIONS), "saved_at": "created_at"}
CHECK_IN = {
    **same("week_start", "mood", "stress", "sleep", "note", "note_removed_at", "wants_outreach"),
    "submitted_at": "created_at",
}
FOLLOW_UP_NOTE = {"written_at": "created_at", "text": "body", "removed_at": "removed_at"}
FOLLOW_UP = {
    "reason": "reason_label",
    "status": "status",
    "opened_at": "created_at",
    "resolved_at": "resolved_at",
    "notes": lambda follow_up: [pick(note, FOLLOW_UP_NOTE) for note in follow_up.notes],
}


def support_network(user) -> list[dict]:
    return rows(
        select(SupportPerson)
        .where(SupportPerson.student_id == user.id)
        .order_by(SupportPerson.created_at, SupportPerson.id),
        SUPPORT_PERSON,
    )


def plan_versions(user) -> list[dict]:
    return rows(
        select(RecoveryPlanVersion)
        .where(RecoveryPlanVersion.student_id == user.id)
        .order_by(RecoveryPlanVersion.version),
        PLAN,
    )


def check_ins(user) -> list[dict]:
    return rows(
        select(CheckIn).where(CheckIn.student_id == user.id).order_by(CheckIn.week_start),
        CHECK_IN,
    )


def follow_ups(user) -> list[dict]:
    return rows(
        select(FollowUp)
        .where(FollowUp.student_id == user.id)
        .options(selectinload(FollowUp.notes))
        .order_by(FollowUp.created_at, FollowUp.id),
        FOLLOW_UP,
    )


# Erasure


def erase_support_people(user, _now) -> int:
    return delete_where(SupportPerson, SupportPerson.student_id == user.id)


def erase_plan_versions(user, _now) -> int:
    return delete_where(RecoveryPlanVersion, RecoveryPlanVersion.student_id == user.id)


def erase_check_in_notes(user, now: datetime) -> int:
    return update_where(
        CheckIn,
        (CheckIn.student_id == user.id, has_text(CheckIn.note)),
        note=None,
        note_removed_at=now,
    )


def erase_follow_up_notes(user, now: datetime) -> int:
    return update_where(
        FollowUpNote,
        (
            FollowUpNote.follow_up_id.in_(
                select(FollowUp.id).where(FollowUp.student_id == user.id)
            ),
            has_text(FollowUpNote.body),
        ),
        body=None,
        removed_at=now,
    )


# Retention


def purge_check_in_notes(cutoff: datetime, now: datetime) -> int:
    return update_where(
        CheckIn,
        (CheckIn.created_at < cutoff, has_text(CheckIn.note)),
        note=None,
        note_removed_at=now,
        updated_at=CheckIn.updated_at,
    )


def purge_follow_up_notes(cutoff: datetime, now: datetime) -> int:
    return update_where(
        FollowUpNote,
        (FollowUpNote.created_at < cutoff, has_text(FollowUpNote.body)),
        body=None,
        removed_at=now,
    )


def init_app(app) -> None:
    register_export_section(app, "support_network", support_network)
    register_export_section(app, "recovery_plan_versions", plan_versions)
    register_export_section(app, "check_ins", check_ins)
    register_export_section(app, "follow_ups", follow_ups)
    register_eraser(app, "support people", erase_support_people)
    register_eraser(app, "plan versions", erase_plan_versions)
    register_eraser(app, "check-in notes", erase_check_in_notes)
    register_eraser(app, "follow-up notes", erase_follow_up_notes)
    register_retention(app, "check-in note(s)", purge_check_in_notes)
    register_retention(app, "follow-up note(s)", purge_follow_up_notes)
