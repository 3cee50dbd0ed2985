"""Peer mentoring forms: staff's mentor settings, the mentor's contact log, the log filter.

The contact form has no free text on purpose: a peer mentor records facts, not notes.
"""

from datetime import timedelta

from wtforms import BooleanField, SelectMultipleField
from wtforms.validators import DataRequired, InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from crp_portal.forms import (
    BoundedDateField,
    BoundedIntegerField,
    PortalForm,
    PortalSelectField,
    choices,
)
from crp_portal.mentoring.models import (
    CONTACT_MINUTES_MAX,
    CONTACT_MODE_LABELS,
    CONTACT_TOPIC_LABELS,
)
from crp_portal.mentoring.services import CONTACT_LOOKBACK_DAYS
from crp_portal.timeutil import local_today

BAD_DATE = "Enter a real date, for example 2026-03-14."
NOT_LISTED = "Choose one of the listed options."


class MentoringForm(PortalForm):
    is_peer_mentor = BooleanField(
        "Peer mentor",
        description="Peer mentors see their mentees' names and contact details, and log "
        "contacts. Turning this off unassigns their mentees.",
    )
    mentor_id = PortalSelectField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "Mentor",
        coerce=int,
        description="Who mentors this student. The list holds active members marked as peer "
        "mentors.",
        invalid_value_message=NOT_LISTED,
        invalid_choice_message=NOT_LISTED,
    )


class ContactForm(PortalForm):
    contact_date = BoundedDateField(
        "Date of the contact",
        validators=[InputRequired(message="Enter the date of the contact.")],
        default=local_today,
        invalid_value_message=BAD_DATE,
    )
    mode = PortalSelectField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "How you were in touch",
        choices=choices(CONTACT_MODE_LABELS.items()),
        invalid_choice_message=NOT_LISTED,
    )
    minutes = BoundedIntegerField(
        "Minutes",
        minimum=1,
        maximum=CONTACT_MINUTES_MAX,
        validators=[InputRequired(message="Enter how many minutes you spent.")],
        description="Roughly; round to the nearest five.",
    )
    topics = SelectMultipleField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "What you talked about",
        choices=choices(CONTACT_TOPIC_LABELS.items()),
        validators=[DataRequired(message="Choose at least one topic.")],
        invalid_choice_message="Choose topics from the list.",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def validate_contact_date(self, field):
        if field.data is None:  # junk input: the field already says so
            return
        today = local_today()
        if field.data > today:
            raise ValidationError("The contact date cannot be in the future.")
        if field.data < today - timedelta(days=CONTACT_LOOKBACK_DAYS):
            raise ValidationError("Log contacts from the past year only.")


class ContactFilterForm(PortalForm):
    class Meta:
        csrf = False

    mentor = PortalSelectField("Mentor", validate_choice=False)
