"""Event, RSVP, check-in and attendance forms."""

from functools import lru_cache
from urllib.parse import urlsplit

from flask import render_template
from markupsafe import Markup
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SearchField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from crp_portal.events.attendee_messages import MESSAGE_LENGTH as NOTICE_LENGTH
from crp_portal.events.models import KINDS
from crp_portal.events.queries import SEARCH_LENGTH
from crp_portal.events.services import THIS_AND_FOLLOWING, THIS_ONE
from crp_portal.forms import (
    BoundedDateField,
    BoundedDateTimeLocalField,
    BoundedIntegerField,
    PortalForm,
    PortalSelectField,
    choices,
    required_text,
    strip_filter,
)


def web_link(form, field):
    if field.data:
        parts = urlsplit(field.data)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError("Enter a full web address starting with https://")


class EventForm(PortalForm):
    kind = PortalSelectField("Kind of event", choices=choices(KINDS.items()))
    title = StringField(
        "Title", validators=required_text("Give the event a title.", 120), filters=[strip_filter]
    )
    public_title = StringField(
        "Neutral title for calendars and email subjects",
        validators=required_text("Give a neutral title, e.g. “Tuesday group”.", 80),
        filters=[strip_filter],
        description="Shown on students' calendars and in email subjects unless they choose "
        "real titles. Avoid words like “recovery” or “AA”.",
    )
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=5000, message="Use at most 5000 characters.")],
        description="Plain text or Markdown (links, lists, emphasis).",
    )
    day = BoundedDateField("Date", validators=[InputRequired(message="Enter the date.")])
    start_time = TimeField("Starts", validators=[InputRequired(message="Enter the start time.")])
    end_time = TimeField("Ends", validators=[InputRequired(message="Enter the end time.")])
    location = StringField(
        "Place",
        validators=[Optional(), Length(max=200, message="Use at most 200 characters.")],
        filters=[strip_filter],
    )
    online_link = StringField(
        "Online link",
        validators=[Optional(), Length(max=500, message="Use at most 500 characters."), web_link],
        filters=[strip_filter],
        description="Shown only to people who are going, and to staff.",
    )
    capacity = BoundedIntegerField(
        "Capacity",
        minimum=1,
        maximum=10_000,
        validators=[Optional()],
        description="Leave empty for no limit. Beyond it, people join a waitlist.",
    )
    rsvp_deadline = BoundedDateTimeLocalField(
        "RSVP deadline", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    show_attendee_names = BooleanField(
        "Show students the first names of attendees who agreed to be shown"
    )
    headcount_only = BooleanField("Headcount only: record a number, keep no names")
    house_id = PortalSelectField(
        "Recovery house (for house meetings)",
        coerce=int,
        validators=[Optional()],
        description="Only residents of this house, and staff who run events or housing, "
        "see a house meeting.",
    )
    open_to_applicants = BooleanField(
        "Open to applicants",
        description="Students still waiting for their application to be accepted see and "
        "RSVP only to events marked open to them.",
    )
    allow_walk_ins = BooleanField(
        "Allow walk-ins",
        default=True,
        description="Students who are not going (no RSVP, or on the waitlist) may still check "
        "in with the code at the event, and are recorded as walk-ins. Untick for events with "
        "a fixed list, such as trips with transport.",
    )


class NewEventForm(EventForm):
    repeats = PortalSelectField(
        "Repeats",
        choices=choices([("", "Does not repeat"), ("1", "Every week"), ("2", "Every other week")]),
        validators=[Optional()],
    )
    repeat_until = BoundedDateField("Last date of the series", validators=[Optional()])
    skip_closed_days = BooleanField(
        "Skip breaks and holidays",
        default=True,
        description="No meeting on a day inside a break, holiday or reading days of the "
        "academic calendar. “Check dates” lists the dates left out before you save.",
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.repeats.data and not self.repeat_until.data and not self.repeat_until.errors:
            self.repeat_until.errors = ["Choose the last date of the series."]
            return False
        return valid


class EditEventForm(EventForm):
    scope = RadioField(
        "Apply to",
        choices=choices(
            [(THIS_ONE, "This event only"), (THIS_AND_FOLLOWING, "This and following events")]
        ),
        default=THIS_ONE,
    )


class CancelEventForm(PortalForm):
    scope = RadioField(
        "Cancel",
        choices=choices(
            [(THIS_ONE, "This event only"), (THIS_AND_FOLLOWING, "This and following events")]
        ),
        default=THIS_ONE,
    )


class CheckInForm(PortalForm):
    code = StringField(
        "Check-in code",
        validators=[
            InputRequired(message="Enter the code shown at the event."),
            Length(max=12, message="The code has 6 characters."),
        ],
        filters=[strip_filter],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )


class NotifyAttendeesForm(PortalForm):
    message = TextAreaField(
        "Message",
        validators=required_text("Write the message to send.", NOTICE_LENGTH),
        filters=[strip_filter],
        description=f"Plain text, at most {NOTICE_LENGTH} characters. Each person gets their "
        "own email; the subject names the event by the title they see.",
    )
    include_waitlist = BooleanField("Send it to the waitlist too")
    send_key = HiddenField()


class HeadcountForm(PortalForm):
    headcount = BoundedIntegerField(
        "How many people came", minimum=0, maximum=10_000, validators=[InputRequired()]
    )


class EventFilterForm(PortalForm):
    class Meta:
        csrf = False

    kind = PortalSelectField(
        "Kind",
        choices=choices([("", "Any kind"), *KINDS.items()]),
        validators=[Optional()],
        validate_choice=False,
    )
    mode = PortalSelectField(
        "Where",
        choices=choices(
            [("", "Online or in person"), ("online", "Online"), ("in_person", "In person")]
        ),
        validators=[Optional()],
        validate_choice=False,
    )
    week = BooleanField("This week only")
    q = SearchField(
        "Search titles, descriptions and places",
        filters=[strip_filter],
        render_kw={"maxlength": SEARCH_LENGTH},
    )


@lru_cache(maxsize=256)
def filter_bar(
    kind: str, mode: str, week: bool, show_week: bool, kept: tuple, text: str = ""
) -> Markup:
    """The events filter bar showing these choices, `kept` ((name, value) pairs) carried
    along as hidden fields; the upcoming list (`show_week`) has the search field too.

    The bar is the same for everyone who chose the same filters, and rendering its fields
    through WTForms was a tenth of the events page, so each variant is rendered once per
    process (a few dozen exist; the bound keeps odd query strings from growing it)."""
    form = EventFilterForm(
        formdata=None, data={"kind": kind, "mode": mode, "week": week, "q": text}
    )
    html = render_template("events/_filters.html", form=form, show_week=show_week, kept=kept)
    return Markup(html)  # noqa: S704 - an autoescaping template's output  # nosec B704
