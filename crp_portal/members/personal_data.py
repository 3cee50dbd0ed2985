"""What membership holds about a person, for the privacy duties (`crp_portal.privacy`):
their profile, status history, applications to join and email choices in their data
download. On erasure their email opt-outs go, and every text that could identify them is
blanked; membership status, join date, the history's statuses and the applications'
outcomes stay, for the program's counts. Their mentees lose their mentor.
"""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crp_portal.extensions import db
from crp_portal.members.models import (
    OPT_OUT_CATEGORY_LABELS,
    EmailOptOut,
    IntakeApplication,
    MemberProfile,
    StatusChange,
)
from crp_portal.privacy import register_eraser, register_export_section
from crp_portal.privacy.erasure import delete_where, update_where
from crp_portal.privacy.export import pick, rows, same

PROFILE = {
    **same("preferred_name", "pronouns", "student_id"),
    "status": "status_label",
    **same("status_changed_at", "joined_on", "major", "class_year", "phone", "recovery_date"),
    **same("show_first_name_to_peers", "show_real_titles", "share_network_with_staff"),
    **same("share_plan_with_staff", "share_check_ins_with_staff", "is_peer_mentor"),
    "calendar_reminder_minutes": "calendar_reminder_minutes",  # None: no reminder
    "mentor": "mentor.name",
    "advisor": "advisor.name",  # the advisor staff assigned
    **same("created_at", "updated_at"),
}
STATUS_CHANGE = {
    "from": "from_label",
    "to": "to_label",
    "note": "note",
    "changed_by": "changed_by.name",
    "changed_at": "changed_at",
}
INTAKE = {
    "goals": "goals",
    "heard_from": "heard_from_label",
    "heard_from_detail": "heard_from_detail",
    "agreement_version": "agreement.version",
    "agreed_at": "agreed_at",
    "status": "status_label",
    "staff_note": "staff_note",
    "decided_by": "decided_by.name",
    "decided_at": "decided_at",
    "submitted_at": "created_at",
}
OPT_OUT = {
    "category": lambda opt_out: OPT_OUT_CATEGORY_LABELS.get(opt_out.category, opt_out.category),
    "since": "created_at",
}


def profile(user) -> dict | None:
    found = db.session.scalar(
        select(MemberProfile)
        .where(MemberProfile.user_id == user.id)
        .options(joinedload(MemberProfile.mentor), joinedload(MemberProfile.advisor))
    )
    return pick(found, PROFILE) if found is not None else None


def status_history(user) -> list[dict]:
    return rows(
        select(StatusChange)
        .where(StatusChange.user_id == user.id)
        .options(joinedload(StatusChange.changed_by))
        .order_by(StatusChange.changed_at, StatusChange.id),
        STATUS_CHANGE,
    )


def intake_applications(user) -> list[dict]:
    return rows(
        select(IntakeApplication)
        .where(IntakeApplication.student_id == user.id)
        .options(joinedload(IntakeApplication.agreement), joinedload(IntakeApplication.decided_by))
        .order_by(IntakeApplication.created_at, IntakeApplication.id),
        INTAKE,
    )


def email_opt_outs(user) -> list[dict]:
    return rows(
        select(EmailOptOut).where(EmailOptOut.user_id == user.id).order_by(EmailOptOut.category),
        OPT_OUT,
    )


def erase_email_opt_outs(user, _now) -> int:
    return delete_where(EmailOptOut, EmailOptOut.user_id == user.id)


def blank_membership(user, _now) -> None:
    """Notes in the status history and applications, the profile's details and consents,
    and the person as anyone's peer mentor."""
    update_where(StatusChange, (StatusChange.user_id == user.id,), note="")
    update_where(
        IntakeApplication,
        (IntakeApplication.student_id == user.id,),
        goals="",
        heard_from_detail="",
        staff_note="",
    )
    update_where(MemberProfile, (MemberProfile.mentor_id == user.id,), mentor_id=None)
    update_where(
        MemberProfile,
        (MemberProfile.user_id == user.id,),
        preferred_name=None,
        pronouns=None,
        student_id=None,
        major=None,
        class_year=None,
        phone=None,
        recovery_date=None,
        show_first_name_to_peers=False,
        show_real_titles=False,
        share_network_with_staff=False,
        share_plan_with_staff=False,
        share_check_ins_with_staff=False,
        is_peer_mentor=False,
        mentor_id=None,
    )


def init_app(app) -> None:
    register_export_section(app, "profile", profile)
    register_export_section(app, "status_history", status_history)
    register_export_section(app, "intake_applications", intake_applications)
    register_export_section(app, "email_opt_outs", email_opt_outs)
    register_eraser(app, "email opt-outs", erase_email_opt_outs)
    register_eraser(app, None, blank_membership)
