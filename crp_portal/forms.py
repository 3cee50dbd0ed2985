"""Form pieces shared across areas."""

from flask import current_app
from wtforms import IntegerField, PasswordField, SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, ValidationError


class PasswordLength:
    """At least CRP_PASSWORD_MIN_LENGTH characters, at most 256; no composition rules."""

    def __call__(self, form, field):
        minimum = current_app.config["CRP_PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < minimum:
            raise ValidationError(f"Use at least {minimum} characters. A short phrase works well.")
        if len(field.data) > 256:
            raise ValidationError("Use at most 256 characters.")


def new_password_field(label: str = "New password") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(message="Choose a password."), PasswordLength()],
        render_kw={"autocomplete": "new-password"},
    )


def confirm_password_field() -> PasswordField:
    return PasswordField(
        "Type the password again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The two passwords do not match."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value


def required_text(message: str, max_length: int):
    return [
        DataRequired(message=message),
        Length(max=max_length, message=f"Use at most {max_length} characters."),
    ]


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class BoundedIntegerField(IntegerField):
    """A whole number that always has both bounds, so no input can overflow a column.

    Junk, floats and numbers of hundreds of digits become a form error, never a 500.
    """

    def __init__(self, label=None, *, minimum: int, maximum: int, validators=(), **kwargs):
        message = f"Enter a whole number from {minimum} to {maximum}."
        self.bounds_message = message
        super().__init__(
            label, validators=[*validators, NumberRange(minimum, maximum, message)], **kwargs
        )
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        raw = str(valuelist[0]).strip()
        digits = raw.lstrip("+-")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
            self.data = None
            raise ValueError(self.bounds_message)
        self.data = int(raw)

    def validate(self, form, extra_validators=()):
        valid = super().validate(form, extra_validators)
        self.errors = list(dict.fromkeys(self.errors))
        return valid
