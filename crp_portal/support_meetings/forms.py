"""The directory's filter form and staff's meeting form."""

from wtforms import BooleanField, StringField, TextAreaField, TimeField, URLField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from crp_portal.forms import (
    BoundedIntegerField,
    PortalForm,
    PortalSelectField,
    choices,
    filled,
    required_text,
    strip_filter,
)
from crp_portal.support_meetings.models import (
    FELLOWSHIPS,
    LONGEST_MINUTES,
    SHORTEST_MINUTES,
    WEEKDAYS,
)
from crp_portal.support_meetings.services import (
    IN_PERSON,
    ONLINE,
    MeetingDetails,
    MeetingFilter,
    is_web_link,
)

DAY_CHOICES = [(str(number), name) for number, name in enumerate(WEEKDAYS)]
FELLOWSHIP_CHOICES = list(FELLOWSHIPS.items())
NO_PLACE = "Give a location, an online link, or both."


def web_link(form, field):
    if field.data and not is_web_link(field.data):
        raise ValidationError("Enter a web address that starts with https:// (or http://).")


class MeetingFilterForm(PortalForm):
    class Meta:
        csrf = False

    day = PortalSelectField("Day", choices=choices([("", "Any day"), *DAY_CHOICES]))
    fellowship = PortalSelectField(
        "Fellowship", choices=choices([("", "Any fellowship"), *FELLOWSHIP_CHOICES])
    )
    meets = PortalSelectField(
        "Meets",
        choices=choices(
            [("", "Online or in person"), (ONLINE, "Online"), (IN_PERSON, "In person")]
        ),
    )

    def meeting_filter(self) -> MeetingFilter:
        """The chosen filters; a value the lists do not offer (an edited URL) means any."""
        for field in (self.day, self.fellowship, self.meets):
            if field.data not in {choice.value for choice in field.choices}:  # type: ignore[union-attr]  # SelectChoice (WTForms 3.3); the 3.2 stubs know tuples
                field.data = ""
        day = self.day.data
        return MeetingFilter(
            weekday=int(day) if day else None,
            fellowship=self.fellowship.data,
            meets=self.meets.data,
        )


class MeetingForm(PortalForm):
    name = StringField(
        "Meeting name",
        validators=required_text("Name the meeting, e.g. Tuesday Night Big Book.", 120),
        filters=[strip_filter],
    )
    fellowship = PortalSelectField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "Fellowship",
        choices=choices(FELLOWSHIP_CHOICES),
        invalid_choice_message="Choose one of the listed fellowships.",
    )
    weekday = PortalSelectField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "Day",
        choices=choices(DAY_CHOICES),
        coerce=int,
        invalid_value_message="Choose a day of the week.",
        invalid_choice_message="Choose a day of the week.",
    )
    starts_at = TimeField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "Starts at",
        validators=[InputRequired(message="Enter the start time, e.g. 7:00 PM.")],
        format=["%H:%M", "%H:%M:%S", "%I:%M %p"],
        invalid_value_message="Enter the start time as hours and minutes, e.g. 7:00 PM.",
        description="Campus local time.",
    )
    duration_minutes = BoundedIntegerField(
        "Length in minutes (optional)",
        minimum=SHORTEST_MINUTES,
        maximum=LONGEST_MINUTES,
        validators=[Optional()],
    )
    location = StringField(
        "Location",
        validators=[Optional(), Length(max=200, message="Use at most 200 characters.")],
        filters=[strip_filter],
        description="A room and building, or a street address. Leave empty if online only.",
    )
    online_url = URLField(
        "Online link",
        validators=[
            Optional(),
            Length(max=500, message="Use at most 500 characters."),
            web_link,
        ],
        filters=[strip_filter],
        description="The web address to join, starting with https://. Leave empty if in person only.",
    )
    notes = TextAreaField(
        "Notes (optional)",
        validators=[Optional(), Length(max=2000, message="Use at most 2000 characters.")],
        filters=[strip_filter],
        description="For example: open to all, beginners welcome, wheelchair accessible.",
    )
    active = BooleanField("List this meeting in the directory", default=True)

    def validate(self, extra_validators=None) -> bool:
        """Each field's own checks, then: a student needs somewhere to go."""
        valid = super().validate(extra_validators)
        if not self.location.data and not self.online_url.data and not self.online_url.errors:
            self.location.errors.append(NO_PLACE)  # type: ignore[attr-defined]  # a list once validated; the stubs say Sequence
            return False
        return valid

    def details(self) -> MeetingDetails:
        return MeetingDetails(
            name=filled(self.name.data),
            fellowship=self.fellowship.data,
            weekday=self.weekday.data,
            starts_at=filled(self.starts_at.data),
            duration_minutes=self.duration_minutes.data,
            location=self.location.data or "",
            online_url=self.online_url.data or "",
            notes=self.notes.data or "",
            active=self.active.data,
        )
