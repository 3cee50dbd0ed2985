"""The campaign editor's form and the preview's member picker."""

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crp_portal.forms import (
    BoundedDateField,
    BoundedIntegerField,
    PortalForm,
    PortalSelectField,
    choices,
    filled,
    required_text,
    strip_filter,
)
from crp_portal.members.models import EMAIL_CATEGORY_LABELS
from crp_portal.nudges import campaigns, templating
from crp_portal.nudges.models import ANCHORS, AUDIENCE_LABELS, HOLDOUT_MAX, TRIGGER_LABELS
from crp_portal.terms.models import PERIOD_KINDS

BEFORE, AFTER = "before", "after"
BAD_DATE = "Enter a real date, for example 2026-12-09."
STARTER_BODY = """Hi {{ first_name }},

Here is what is on this week:

{{ this_week }}

See everything and RSVP: {{ events_link }}
"""


class TemplateCheck:
    """Every problem check_template finds, each shown under the field with its line."""

    def __call__(self, form, field):
        problems = templating.check_template(field.data or "")
        if problems:
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])


class CampaignForm(PortalForm):
    name = StringField(
        "Name",
        validators=required_text("Name the campaign, e.g. “Finals week”.", campaigns.NAME_MAX),
        filters=[strip_filter],
        description="For staff only; students never see it.",
    )
    trigger = PortalSelectField("Trigger", choices=choices(TRIGGER_LABELS.items()))
    period_kind = PortalSelectField(
        "Calendar period",
        choices=choices([("", "Not used"), *PERIOD_KINDS.items()]),
        validators=[Optional()],
        description="Only for “days before or after a calendar period”.",
    )
    anchor = PortalSelectField(
        "Counting from when the period",
        choices=choices(ANCHORS.items()),
        description="Only for “days before or after a calendar period”.",
    )
    offset_amount = BoundedIntegerField(
        "Number of days",
        minimum=0,
        maximum=campaigns.OFFSET_MAX,
        validators=[Optional()],
        default=0,
        description="0 or empty sends on the day itself. Only for calendar periods.",
    )
    offset_direction = PortalSelectField(
        "Before or after", choices=choices([(BEFORE, "before"), (AFTER, "after")])
    )
    days = BoundedIntegerField(
        "Days or week",
        minimum=1,
        maximum=max(campaigns.INACTIVE_DAYS[1], campaigns.ADVISING_WEEKS[1]),
        validators=[Optional()],
        description="For “no activity”: the number of days without activity (1–365). "
        "For “no advising”: the week of term to check by (1–20). Otherwise leave empty.",
    )
    audience = PortalSelectField("Who gets it", choices=choices(AUDIENCE_LABELS.items()))
    category = PortalSelectField(
        "Email category",
        choices=choices(EMAIL_CATEGORY_LABELS.items()),
        description="Students can opt out of a category in their profile or from any nudge.",
    )
    subject_template = StringField(
        "Subject",
        validators=[
            *required_text("Write the email's subject.", campaigns.SUBJECT_MAX),
            TemplateCheck(),
        ],
        render_kw={"class": "wide"},
    )
    body_template = TextAreaField(
        "Text",
        validators=[
            DataRequired(message="Write the email's text."),
            Length(max=campaigns.BODY_MAX, message=f"Use at most {campaigns.BODY_MAX} characters."),
            TemplateCheck(),
        ],
        default=STARTER_BODY,
        render_kw={"rows": 14},
        description="Plain text. The placeholders you may use are listed under the form. "
        "No recovery details: say what is on, not why.",
    )
    active_from = BoundedDateField(
        "First day it may send",
        validators=[InputRequired(message="Enter the first day it may send.")],
        invalid_value_message=BAD_DATE,
    )
    active_to = BoundedDateField(
        "Last day it may send (optional)",
        validators=[Optional()],
        invalid_value_message=BAD_DATE,
        description="Leave empty to keep it running.",
    )
    holdout_percent = BoundedIntegerField(
        "Holdout percent",
        minimum=0,
        maximum=HOLDOUT_MAX,
        validators=[InputRequired(message=f"Enter a whole number from 0 to {HOLDOUT_MAX}.")],
        default=0,
        description="A share of the audience, picked at random but always the same people, "
        "who do not get this nudge, so the report can compare them with those who did. "
        "0 sends to everyone.",
    )

    def fill_from(self, campaign) -> None:
        """On a fresh GET, show the signed offset as a number of days before or after."""
        self.offset_amount.data = abs(campaign.offset_days or 0)
        self.offset_direction.data = BEFORE if (campaign.offset_days or 0) < 0 else AFTER

    def details(self) -> campaigns.CampaignDetails:
        amount = self.offset_amount.data or 0
        return campaigns.CampaignDetails(
            name=self.name.data or "",
            trigger=self.trigger.data,
            period_kind=self.period_kind.data or None,
            anchor=self.anchor.data or None,
            offset_days=-amount if self.offset_direction.data == BEFORE else amount,
            days=self.days.data,
            audience=self.audience.data,
            category=self.category.data,
            subject_template=self.subject_template.data or "",
            body_template=self.body_template.data or "",
            active_from=filled(self.active_from.data),
            active_to=self.active_to.data,
            holdout_percent=self.holdout_percent.data or 0,
        )

    def field_for(self, problem_field: str) -> str:
        """The form field where a service problem about `problem_field` belongs."""
        return "offset_amount" if problem_field == "offset_days" else problem_field


class PreviewForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(
        "Find a member by name",
        validators=[Optional(), Length(max=100, message="Use at most 100 characters.")],
    )
    member = PortalSelectField("Member", validate_choice=False, validators=[Optional()])
