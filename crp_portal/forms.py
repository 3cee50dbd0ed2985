"""Form pieces shared across areas."""

from flask import current_app
from wtforms import PasswordField, SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError


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
