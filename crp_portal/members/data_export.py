"""Everything the portal holds about a student, as plain JSON values: the subject's
right of access. An advisor's private notes are the advisor's working notes, not the
student's, and are left out.

Each section maps an output key to an attribute path (dotted through relationships)
or a function of the row. Dates and times come out as ISO-8601, times in UTC.
"""

from collections import defaultdict
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from crp_portal.advising.models import Appointment
from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.events.calendars import title_for
from crp_portal.events.models import Attendance, Rsvp
from crp_portal.extensions import db
from crp_portal.housing.models import Bed, BedAssignment, ConditionReport, HousingApplication, Room
from crp_portal.members.models import (
    EMAIL_CATEGORY_LABELS,
    EmailOptOut,
    IntakeApplication,
    MemberProfile,
    StatusChange,
    SupportPerson,
)
from crp_portal.members.recovery_models import (
    PLAN_SECTIONS,
    CheckIn,
    FollowUp,
    MentorContact,
    RecoveryPlanVersion,
)
from crp_portal.timeutil import utcnow


def _same(*names: str) -> dict[str, str]:
    return {name: name for name in names}


PROFILE = {
    **_same("preferred_name", "pronouns", "student_id"),
    "status": "status_label",
    **_same("status_changed_at", "joined_on", "major", "class_year", "phone", "recovery_date"),
    **_same("show_first_name_to_peers", "show_real_titles", "share_network_with_staff"),
    **_same("share_plan_with_staff", "share_check_ins_with_staff", "is_peer_mentor"),
    "calendar_reminder_minutes": "calendar_reminder_minutes",  # None: no reminder
    "mentor": "mentor.name",
    "advisor": "advisor.name",  # the advisor staff assigned
    **_same("created_at", "updated_at"),
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
SUPPORT_PERSON = {
    "name": "name",
    "relationship": "relationship_to_student",
    "how_to_reach": "how_to_reach",
    "expectations": "expectations",
    "emergency_contact": "emergency_contact",
    "added_at": "created_at",
}
PLAN = {**_same("version", *PLAN_SECTIONS), "saved_at": "created_at"}
CHECK_IN = {
    **_same("week_start", "mood", "stress", "sleep", "note", "note_removed_at", "wants_outreach"),
    "submitted_at": "created_at",
}
FOLLOW_UP_NOTE = {"written_at": "created_at", "text": "body", "removed_at": "removed_at"}
FOLLOW_UP = {
    "reason": "reason_label",
    "status": "status",
    "opened_at": "created_at",
    "resolved_at": "resolved_at",
    "notes": lambda follow_up: [_pick(note, FOLLOW_UP_NOTE) for note in follow_up.notes],
}
OPT_OUT = {
    "category": lambda opt_out: EMAIL_CATEGORY_LABELS.get(opt_out.category, opt_out.category),
    "since": "created_at",
}
APPOINTMENT = {  # not `private_notes`: those are the advisor's working notes
    "advisor": "advisor.name",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "topic": "topic_label",
    "mode": "mode_label",
    "place": "place",
    "status": "status_label",
    "your_note": "student_note",
    "summary": "summary",
    "action_items": "action_items",
    "cancel_reason": "cancel_reason",
    "cancelled_at": "cancelled_at",
    "booked_at": "created_at",
}
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
    **_same("reply_by", "move_in_on", "move_out_on", "offered_at", "answered_at"),
}
CONDITION_REPORT = {
    "kind": "kind_label",
    "items": "items",
    "staff_notes": "staff_notes",
    "your_notes": "student_notes",
    "recorded_at": "recorded_at",
}
CONTACT = {"date": "contact_date", "mode": "mode_label", "minutes": "minutes"}
CONTACT_TOPICS = {"topics": "topic_labels"}
RECORD_VIEW = {
    "who": lambda entry: entry.actor.name if entry.actor else "The program",
    "what": "action",
    "when": "created_at",
}


def _get(row, path: str):
    value = row
    for name in path.split("."):
        if value is None:
            return None
        value = getattr(value, name)
    return value.isoformat() if isinstance(value, date) else value


def _pick(row, fields: dict) -> dict:
    return {
        key: _get(row, how) if isinstance(how, str) else how(row) for key, how in fields.items()
    }


def _rows(statement, fields: dict) -> list[dict]:
    return [_pick(row, fields) for row in _all(statement)]


def _all(statement) -> list:
    return list(db.session.scalars(statement).unique())


def export_data(user: User) -> dict:
    """All the portal holds about this person, in a fixed number of queries (one per table).

    Other people appear only by the name of staff, advisors and mentors who dealt
    with them (and of their own mentees, for a peer mentor). An advisor's private
    notes stay out: they are the advisor's working notes, not the student's record.
    """
    uid = user.id
    profile = db.session.scalar(
        select(MemberProfile)
        .where(MemberProfile.user_id == uid)
        .options(joinedload(MemberProfile.mentor), joinedload(MemberProfile.advisor))
    )
    follow_ups = (
        select(FollowUp)
        .where(FollowUp.student_id == uid)
        .options(selectinload(FollowUp.notes))
        .order_by(FollowUp.created_at, FollowUp.id)
    )
    event_title = {"event": lambda entry: title_for(entry.event, user)}
    return {
        "generated_at": utcnow().isoformat(),
        "account": {
            "name": user.name,
            "email": user.email,
            "role": user.role_label,
            "created_at": _get(user, "created_at"),
            "last_sign_in_at": _get(user, "last_sign_in_at"),
        },
        "profile": _pick(profile, PROFILE) if profile is not None else None,
        "status_history": _rows(
            select(StatusChange)
            .where(StatusChange.user_id == uid)
            .options(joinedload(StatusChange.changed_by))
            .order_by(StatusChange.changed_at, StatusChange.id),
            STATUS_CHANGE,
        ),
        "intake_applications": _rows(
            select(IntakeApplication)
            .where(IntakeApplication.student_id == uid)
            .options(
                joinedload(IntakeApplication.agreement), joinedload(IntakeApplication.decided_by)
            )
            .order_by(IntakeApplication.created_at, IntakeApplication.id),
            INTAKE,
        ),
        "support_network": _rows(
            select(SupportPerson)
            .where(SupportPerson.student_id == uid)
            .order_by(SupportPerson.created_at, SupportPerson.id),
            SUPPORT_PERSON,
        ),
        "recovery_plan_versions": _rows(
            select(RecoveryPlanVersion)
            .where(RecoveryPlanVersion.student_id == uid)
            .order_by(RecoveryPlanVersion.version),
            PLAN,
        ),
        "check_ins": _rows(
            select(CheckIn).where(CheckIn.student_id == uid).order_by(CheckIn.week_start),
            CHECK_IN,
        ),
        "follow_ups": _rows(follow_ups, FOLLOW_UP),
        "email_opt_outs": _rows(
            select(EmailOptOut).where(EmailOptOut.user_id == uid).order_by(EmailOptOut.category),
            OPT_OUT,
        ),
        "rsvps": _rows(
            select(Rsvp)
            .where(Rsvp.user_id == uid)
            .options(joinedload(Rsvp.event))
            .order_by(Rsvp.created_at, Rsvp.id),
            {
                **event_title,
                "starts_at": "event.starts_at",
                "status": "status",
                "answered_at": "created_at",
                "changed_at": "updated_at",
            },
        ),
        "attendance": _rows(
            select(Attendance)
            .where(Attendance.user_id == uid)
            .options(joinedload(Attendance.event))
            .order_by(Attendance.recorded_at, Attendance.id),
            {
                **event_title,
                "starts_at": "event.starts_at",
                "recorded_as": "source",
                "recorded_at": "recorded_at",
            },
        ),
        "advising_appointments": _rows(
            select(Appointment)
            .where(Appointment.student_id == uid)
            .options(joinedload(Appointment.advisor))
            .order_by(Appointment.starts_at, Appointment.id),
            APPOINTMENT,
        ),
        **_housing(uid),
        **_mentoring(uid),
        "record_views": _rows(
            select(AuditEntry)
            .where(AuditEntry.subject_id == uid)
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.created_at, AuditEntry.id),
            RECORD_VIEW,
        ),
    }


def _housing(uid: int) -> dict:
    reports = defaultdict(list)
    for report in _all(
        select(ConditionReport)
        .join(ConditionReport.assignment)
        .where(BedAssignment.student_id == uid)
        .order_by(ConditionReport.recorded_at, ConditionReport.id)
    ):
        reports[report.assignment_id].append(_pick(report, CONDITION_REPORT))
    return {
        "housing_applications": _rows(
            select(HousingApplication)
            .where(HousingApplication.student_id == uid)
            .options(
                joinedload(HousingApplication.term),
                joinedload(HousingApplication.first_choice),
                joinedload(HousingApplication.second_choice),
                joinedload(HousingApplication.agreement),
            )
            .order_by(HousingApplication.submitted_at, HousingApplication.id),
            HOUSING_APPLICATION,
        ),
        "bed_assignments": _rows(
            select(BedAssignment)
            .where(BedAssignment.student_id == uid)
            .options(
                joinedload(BedAssignment.term),
                joinedload(BedAssignment.bed).joinedload(Bed.room).joinedload(Room.house),
            )
            .order_by(BedAssignment.offered_at, BedAssignment.id),
            {**BED_ASSIGNMENT, "condition_reports": lambda row: reports[row.id]},
        ),
    }


def _mentoring(uid: int) -> dict:
    """Contacts a mentor logged with this person, and, for a peer mentor, those they logged."""
    contacts = _all(
        select(MentorContact)
        .where(or_(MentorContact.mentee_id == uid, MentorContact.mentor_id == uid))
        .options(joinedload(MentorContact.mentor), joinedload(MentorContact.mentee))
        .order_by(MentorContact.contact_date, MentorContact.id)
    )
    return {
        "mentoring_received": [
            _pick(entry, {"mentor": "mentor.name", **CONTACT, **CONTACT_TOPICS})
            for entry in contacts
            if entry.mentee_id == uid
        ],
        "mentoring_given": [
            _pick(entry, {"mentee": "mentee.name", **CONTACT, **CONTACT_TOPICS})
            for entry in contacts
            if entry.mentor_id == uid
        ],
    }
