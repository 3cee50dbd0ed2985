"""Forms of the calendar import: choose the feed and the rules, then save the preview."""

from flask_wtf.file import FileAllowed, FileField
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from crp_portal.forms import PortalForm
from crp_portal.terms import ics_import

FEED_EXTENSIONS = ("ics", "ical", "icalendar", "ifb")


class ImportCalendarForm(PortalForm):
    """The feed comes from a file, pasted text, or (when previewing again with other
    rules) the hidden `feed_token` of the previous preview."""

    feed_file = FileField(
        "Calendar file (.ics)",
        validators=[
            FileAllowed(FEED_EXTENSIONS, message="Choose an iCalendar file: its name ends in .ics.")
        ],
        description="The registrar's published academic calendar, up to 1 MB.",
    )
    feed_text = TextAreaField(
        "Or paste the calendar's text",
        description="It starts with BEGIN:VCALENDAR.",
        render_kw={"rows": 6, "spellcheck": "false"},
    )
    feed_token = HiddenField()
    rules = TextAreaField(
        "Keyword rules",
        default=ics_import.DEFAULT_RULES,
        validators=[
            DataRequired(message="Write at least one rule, for example “finals: final exam”."),
            Length(
                max=ics_import.MAX_RULES_CHARS,
                message=f"Use at most {ics_import.MAX_RULES_CHARS} characters.",
            ),
        ],
        description=(
            "One rule a line: a kind of period, a colon, then words separated by commas. "
            "An event whose title contains one of the words gets that kind; the first "
            "matching line wins. Events no rule matches are not imported."
        ),
        render_kw={"rows": 9, "spellcheck": "false"},
    )

    keyword_rules: list[ics_import.KeywordRule] = []

    def validate_feed_file(self, field):
        if field.data and (self.feed_text.data or "").strip():
            raise ValidationError("Choose a file or paste the text, not both.")
        if not field.data and not (self.feed_text.data or "").strip() and not self.feed_token.data:
            raise ValidationError("Choose the registrar's .ics file or paste its text.")

    def validate_rules(self, field):
        try:
            self.keyword_rules = ics_import.parse_rules(field.data)
        except ics_import.RuleError as error:
            raise ValidationError(error.message) from error

    def error_field(self):
        """The field a problem with the feed is shown beside."""
        return self.feed_text if (self.feed_text.data or "").strip() else self.feed_file


class SaveImportForm(PortalForm):
    """The previewed feed, rules and outcome, sent back to be read and checked again."""

    feed = HiddenField(validators=[DataRequired()])
    rules = HiddenField(validators=[DataRequired(), Length(max=ics_import.MAX_RULES_CHARS)])
    digest = HiddenField(validators=[DataRequired(), Length(max=64)])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "save")  # its ids must not clash with the rules form's
        super().__init__(*args, **kwargs)
