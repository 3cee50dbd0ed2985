"""What mentoring holds about a student, for the privacy duties (`crp_portal.privacy`): the
contacts a peer mentor logged with them and, for a peer mentor, those they logged, in
their data download. Contacts hold facts only and stay on erasure, for the counts (who
mentors whom lives on the member profile, which members erases)."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crp_portal.mentoring.models import MentorContact
from crp_portal.privacy import register_export_section
from crp_portal.privacy.export import rows

CONTACT = {"date": "contact_date", "mode": "mode_label", "minutes": "minutes"}
CONTACT_TOPICS = {"topics": "topic_labels"}


def mentoring_received(user) -> list[dict]:
    return rows(
        select(MentorContact)
        .where(MentorContact.mentee_id == user.id)
        .options(joinedload(MentorContact.mentor))
        .order_by(MentorContact.contact_date, MentorContact.id),
        {"mentor": "mentor.name", **CONTACT, **CONTACT_TOPICS},
    )


def mentoring_given(user) -> list[dict]:
    return rows(
        select(MentorContact)
        .where(MentorContact.mentor_id == user.id)
        .options(joinedload(MentorContact.mentee))
        .order_by(MentorContact.contact_date, MentorContact.id),
        {"mentee": "mentee.name", **CONTACT, **CONTACT_TOPICS},
    )


def init_app(app) -> None:
    register_export_section(app, "mentoring_received", mentoring_received)
    register_export_section(app, "mentoring_given", mentoring_given)
