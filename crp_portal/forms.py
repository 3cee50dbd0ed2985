"""Form pieces shared across areas."""

from typing import TypeVar

from flask import current_app, request
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import (
    DateField,
    DateTimeLocalField,
    FileField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import Choice, SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; types-WTForms covers 3.2
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, ValidationError
from wtforms.widgets import Select

from crp_portal import text_rules
from crp_portal.timeutil import DATE_BOUNDS_MESSAGE, EARLIEST_DATE, LATEST_DATE, in_date_bounds

T = TypeVar("T")

NUL = "\x00"
NUL_MESSAGE = text_rules.field_message(NUL)


class PortalForm(FlaskForm):
    """The base of every portal form: whatever a request carries, a field gets text (a file
    field, a file) and junk becomes a message beside the field, never a 500.

    - A JSON body fills in nothing: the portal's forms are HTML forms.
    - A file sent under a text field's name is dropped, and so is text under a file field's.
    - A one-line text field loses line breaks, as a browser's own input box drops them
      (they would break an email subject made from it).
    - NUL characters, which no one types and PostgreSQL cannot store, are taken out of the
      data (so a filter or search built from it just works) and `validate` says so.
    - Every text field is held to `text_rules` (one-line rules, or several lines for a text
      area or a hidden field): `validate` puts what is wrong beside the field.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            from_request = formdata is not None and not hasattr(formdata, "getlist")
            if from_request and request.is_json:
                return None
            return _as_a_browser_sends(form, super().wrap_formdata(form, formdata))

        def render_field(self, field, render_kw):
            # Every form on a page has its own token field: with an id it would repeat.
            if field.type == "CSRFTokenField":
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        fields = {field.name: field for field in self}
        for name, message in sorted(getattr(self, "_text_problems", {}).items()):
            if name in fields:
                fields[name].errors = [*fields[name].errors, message]
                valid = False
        self._errors = None  # WTForms caches form.errors; it must include these
        return valid


def _as_a_browser_sends(form, formdata):
    """The form data with files only in file fields, no line breaks in one-line fields and
    no NULs; the request's own dict when nothing changes. What `text_rules` refuses in a
    text field (and a NUL in any field) is noted in `form._text_problems`, by field name."""
    if formdata is None:
        return None
    files = {field.name for field in form if isinstance(field, FileField)}
    text = {field.name for field in form if isinstance(field, StringField)}
    several_lines = {field.name for field in form if isinstance(field, TextAreaField | HiddenField)}
    one_line = text - several_lines
    problems: dict[str, str] = {}

    def cleaned(name, value):
        if isinstance(value, FileStorage) or name in files:
            return value if isinstance(value, FileStorage) and name in files else None
        if name in one_line:
            value = value.replace("\r", "").replace("\n", "")
        if name in text:
            found = text_rules.field_message(value, multiline=name in several_lines)
        else:
            found = NUL_MESSAGE if NUL in value else None
        if found:
            problems.setdefault(name, found)
        return value.replace(NUL, "")

    items = list(formdata.items(multi=True))
    kept = [(name, cleaned(name, value)) for name, value in items]
    form._text_problems = problems
    if kept == items:
        return formdata
    return MultiDict([(name, value) for name, value in kept if value is not None])


class PasswordLength:
    """At least CRP_PASSWORD_MIN_LENGTH characters, at most 256; no composition rules."""

    def __call__(self, form, field):
        minimum = current_app.config["CRP_PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < minimum:
            raise ValidationError(f"Use at least {minimum} characters. A short phrase works well.")
        if len(field.data) > 256:
            raise ValidationError("Use at most 256 characters.")


def confirm_password_field() -> PasswordField:
    return PasswordField(
        "Type the password again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The two passwords do not match."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def filled(value: T | None) -> T:
    """A required field's data after `validate_on_submit()`: its DataRequired or
    InputRequired validator has refused a missing value, so None here is a bug."""
    if value is None:
        raise ValueError("a required field has no data: validate the form first")
    return value


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value


def text_filter(value) -> str:
    """Always text: a view may fill a hidden field with a number, a request may leave it out."""
    return "" if value is None else str(value)


def required_text(message: str, max_length: int):
    return [
        DataRequired(message=message),
        Length(max=max_length, message=f"Use at most {max_length} characters."),
    ]


PLAIN_OPTION = Markup('<option %svalue="%s">%s</option>')


class PlainOptionsSelect(Select):
    """WTForms' select widget, writing a plain option (no attributes of its own) directly.

    WTForms builds every option's attributes with `html_params` (a sort and a Markup
    format per attribute); on the pages with a filter bar that was a seventh of the
    page's time. The markup is the same as WTForms': `<option selected value="…">`."""

    @classmethod
    def render_option(cls, choice: Choice, **kwargs) -> Markup:  # type: ignore[override]  # WTForms 3.3's signature; types-WTForms covers 3.2
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        label = choice.label or choice.value
        return PLAIN_OPTION % ("selected " if choice.selected else "", value, label)


class PortalSelectField(SelectField):
    widget = PlainOptionsSelect()


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


class InDateBounds:
    """A date (or date and time) in the years a program can use (`timeutil`); an empty or
    unreadable value is left to the field's other validators."""

    def __init__(self, message: str = DATE_BOUNDS_MESSAGE):
        self.message = message

    def __call__(self, form, field):
        if field.data is not None and not in_date_bounds(field.data):
            raise ValidationError(self.message)


def _bounded(kwargs: dict, earliest: str, latest: str) -> dict:
    """The field's arguments with the bounds as the browser's own min and max."""
    render_kw = {"min": earliest, "max": latest, **(kwargs.pop("render_kw", None) or {})}
    return {**kwargs, "render_kw": render_kw}


class BoundedDateField(DateField):
    """A date between 2000 and 2100, whatever is typed: "Enter a date between 2000 and 2100."
    Every date a person types goes through one of these (or the date-and-time one)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs = _bounded(kwargs, EARLIEST_DATE.isoformat(), LATEST_DATE.isoformat())
        super().__init__(label, [*(validators or ()), InDateBounds()], **kwargs)


class BoundedDateTimeLocalField(DateTimeLocalField):
    """A local date and time whose day is between 2000 and 2100."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs = _bounded(
            kwargs, f"{EARLIEST_DATE.isoformat()}T00:00", f"{LATEST_DATE.isoformat()}T23:59"
        )
        super().__init__(label, [*(validators or ()), InDateBounds()], **kwargs)
