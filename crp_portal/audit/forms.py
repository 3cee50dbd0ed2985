"""The admin's search of the audit trail."""

from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from crp_portal.forms import BoundedDateField, PortalForm

BAD_DATE = "Enter a real date, for example 2026-03-14."


def _text(label: str) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=100, message="Use at most 100 characters.")],
    )


class AuditSearchForm(PortalForm):
    class Meta:
        csrf = False

    who = _text("Who (name or email)")
    whose = _text("About whom (name or email)")
    what = _text("What was opened or done")
    date_from = BoundedDateField("From", validators=[Optional()], invalid_value_message=BAD_DATE)
    date_to = BoundedDateField("To", validators=[Optional()], invalid_value_message=BAD_DATE)

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The “to” date is before the “from” date.")
