"""Advising forms."""

from wtforms import StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from crp_portal.advising.models import MODES, TOPICS, AppointmentStatus
from crp_portal.forms import (
    BoundedDateField,
    BoundedIntegerField,
    PortalForm,
    PortalSelectField,
    choices,
    required_text,
    strip_filter,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class BookForm(PortalForm):
    topic = PortalSelectField("What would you like to talk about?", choices=choices(TOPICS.items()))
    note = TextAreaField(
        "Anything the advisor should know first (optional)",
        validators=[Optional(), Length(max=1000, message="Use at most 1000 characters.")],
    )


class CancelForm(PortalForm):
    reason = StringField(
        "Reason (optional)",
        validators=[Optional(), Length(max=300, message="Use at most 300 characters.")],
        filters=[strip_filter],
    )


class OutcomeForm(PortalForm):
    status = PortalSelectField(
        "Outcome",
        choices=choices(
            [
                (AppointmentStatus.COMPLETED, "Completed"),
                (AppointmentStatus.NO_SHOW, "No-show"),
                (AppointmentStatus.BOOKED, "Not yet"),
            ]
        ),
    )
    summary = TextAreaField(
        "Summary for the student",
        validators=[Optional(), Length(max=4000, message="Use at most 4000 characters.")],
        description="The student reads this.",
    )
    action_items = TextAreaField(
        "Action items for the student",
        validators=[Optional(), Length(max=2000, message="Use at most 2000 characters.")],
        description="One per line. The student reads these.",
    )
    private_notes = TextAreaField(
        "Private notes",
        validators=[Optional(), Length(max=4000, message="Use at most 4000 characters.")],
        description="Only you see these; not the student, not staff.",
    )


class SettingsForm(PortalForm):
    slot_minutes = BoundedIntegerField("Session length (minutes)", minimum=10, maximum=240)
    buffer_minutes = BoundedIntegerField("Break between sessions (minutes)", minimum=0, maximum=120)
    min_notice_hours = BoundedIntegerField("Minimum notice (hours)", minimum=0, maximum=336)
    horizon_days = BoundedIntegerField("Bookable how far ahead (days)", minimum=1, maximum=180)
    max_per_day = BoundedIntegerField(
        "Most sessions in a day",
        minimum=1,
        maximum=50,
        validators=[Optional()],
        description="Leave empty for no cap.",
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in (self.slot_minutes, self.buffer_minutes):
            if field.data is not None and field.data % 5:
                field.errors = [*field.errors, "Use a multiple of 5 minutes."]
                valid = False
        return valid


class WindowForm(PortalForm):
    weekday = PortalSelectField(
        "Day", choices=choices((str(i), day) for i, day in enumerate(WEEKDAYS))
    )
    start_time = TimeField("From", validators=[InputRequired(message="Enter a start time.")])
    end_time = TimeField("Until", validators=[InputRequired(message="Enter an end time.")])
    mode = PortalSelectField("How", choices=choices(MODES.items()))
    place = StringField(
        "Room, video link or phone number",
        validators=required_text("Say where: a room, a video link or a phone number.", 300),
        filters=[strip_filter],
    )


class DayOffForm(PortalForm):
    day = BoundedDateField("Day off", validators=[InputRequired(message="Enter the date.")])
    note = StringField(
        "Note (optional)",
        validators=[Optional(), Length(max=120, message="Use at most 120 characters.")],
        filters=[strip_filter],
    )


class OpenDayForm(PortalForm):
    """Open one break or holiday day for booking (the day comes from the listed row)."""

    day = BoundedDateField("Day", validators=[InputRequired(message="Choose a day to open.")])
