"""Forms for signing in, passwords, invitations and account administration."""

from collections.abc import Iterable

from flask import current_app
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from crp_portal.access import ADMIN, GRANTED_SCOPES, ROLE_LABELS, SCOPE_LABELS, STUDENT
from crp_portal.auth.passwords import password_problem
from crp_portal.forms import (
    PasswordLength,
    PortalForm,
    PortalSelectField,
    choices,
    confirm_password_field,
    required_text,
    strip_filter,
)

ROLE_CHOICES = list(ROLE_LABELS.items())


class HardToGuess:
    """Not a common password, a pattern, or the owner's name or email (NIST SP 800-63B).

    The words to avoid come from the form's `personal_words()`. A password that is
    already too short gets only the length message.
    """

    def __call__(self, form, field):
        password = field.data or ""
        if len(password) < current_app.config["CRP_PASSWORD_MIN_LENGTH"]:
            return
        problem = password_problem(password, form.personal_words())
        if problem:
            raise ValidationError(problem)


def new_password_field(label: str = "New password") -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(message="Choose a password."), PasswordLength(), HardToGuess()],
        render_kw={"autocomplete": "new-password"},
    )


class NewPasswordFormBase(PortalForm):
    """A form that sets a password for someone: `personal` names them (email, name)."""

    def __init__(self, *args, personal: Iterable[str | None] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self._personal = [word for word in personal if word]

    def personal_words(self) -> list[str]:
        return list(self._personal)


def email_field(label: str = "Email address", check_format: bool = False) -> EmailField:
    validators = required_text("Enter an email address.", 254)
    if check_format:
        validators.append(Email(message="Enter an email address like name@example.edu."))
    return EmailField(
        label, validators=validators, filters=[strip_filter], render_kw={"autocomplete": "email"}
    )


class SignInForm(PortalForm):
    email = email_field()
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(message="Enter your password."),
            Length(max=256, message="Use at most 256 characters."),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me signed in on this device")


class RequestResetForm(PortalForm):
    email = email_field()


class NewPasswordForm(NewPasswordFormBase):
    password = new_password_field()
    confirm = confirm_password_field()


class ChangePasswordForm(NewPasswordFormBase):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(message="Enter your current password."), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field()
    confirm = confirm_password_field()


class AcceptInvitationForm(NewPasswordFormBase):
    name = StringField(
        "Your full name",
        validators=required_text("Enter your name.", 120),
        filters=[strip_filter],
        render_kw={"autocomplete": "name"},
    )
    password = new_password_field("Choose a password")
    confirm = confirm_password_field()

    def personal_words(self) -> list[str]:
        return [*self._personal, self.name.data or ""]


def scopes_field() -> SelectMultipleField:
    return SelectMultipleField(
        "Staff areas (staff only)",
        choices=choices((scope, SCOPE_LABELS[scope]) for scope in GRANTED_SCOPES),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="Grant only what the job needs: each area opens its pages and nothing "
        "else. Ignored for students and advisors.",
    )


class InviteForm(PortalForm):
    email = email_field(check_format=True)
    role = PortalSelectField("Role", choices=choices(ROLE_CHOICES), default=STUDENT)
    scopes = scopes_field()
    is_admin = BooleanField(SCOPE_LABELS[ADMIN] + " (staff only)")


class AccountForm(PortalForm):
    name = StringField(
        "Full name", validators=required_text("Enter a name.", 120), filters=[strip_filter]
    )
    role = PortalSelectField("Role", choices=choices(ROLE_CHOICES))
    scopes = scopes_field()
    is_admin = BooleanField(SCOPE_LABELS[ADMIN] + " (staff only)")


class RosterImportForm(PortalForm):
    roster = FileField(
        "Roster file (CSV)",
        validators=[
            FileRequired(message="Choose a CSV file to import."),
            FileAllowed(["csv"], message="The roster must be a .csv file."),
        ],
    )
    send_welcome = BooleanField("Email each new person a link to set their password", default=True)


class AccountSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=100)])
    role = PortalSelectField(
        "Role",
        choices=choices([("", "Any role"), *ROLE_CHOICES, (ADMIN, "Admins")]),
        validators=[Optional()],
        validate_choice=False,
    )
    status = PortalSelectField(
        "Status",
        choices=choices([("", "Any status"), ("active", "Active"), ("deactivated", "Deactivated")]),
        validators=[Optional()],
        validate_choice=False,
    )
