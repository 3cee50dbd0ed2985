"""Term and calendar-period forms."""

from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional

from crp_portal.forms import (
    BoundedDateField,
    PortalForm,
    PortalSelectField,
    choices,
    required_text,
    strip_filter,
)
from crp_portal.terms.models import PERIOD_KINDS


class TermForm(PortalForm):
    name = StringField(
        "Name",
        validators=required_text("Name the term, e.g. Fall 2026.", 80),
        filters=[strip_filter],
    )
    starts_on = BoundedDateField(
        "First day", validators=[InputRequired(message="Enter the first day.")]
    )
    ends_on = BoundedDateField(
        "Last day", validators=[InputRequired(message="Enter the last day.")]
    )


class PeriodForm(PortalForm):
    kind = PortalSelectField("Kind", choices=choices(PERIOD_KINDS.items()))
    name = StringField(
        "Name (optional)",
        validators=[Optional(), Length(max=120, message="Use at most 120 characters.")],
        filters=[strip_filter],
        description="Left empty, the kind is used, e.g. “Finals”.",
    )
    starts_on = BoundedDateField(
        "Starts", validators=[InputRequired(message="Enter the start date.")]
    )
    ends_on = BoundedDateField("Ends", validators=[InputRequired(message="Enter the end date.")])
