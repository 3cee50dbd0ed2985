"""Housing forms."""

from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crp_portal.forms import (
    BoundedDateField,
    PortalForm,
    PortalSelectField,
    required_text,
    strip_filter,
)


class HouseForm(PortalForm):
    name = StringField(
        "Name", validators=required_text("Name the house.", 120), filters=[strip_filter]
    )
    address = StringField(
        "Address", validators=required_text("Give the address.", 300), filters=[strip_filter]
    )
    who_may_live = StringField(
        "Who may live here",
        validators=required_text("Say who may live here, e.g. “All genders”.", 80),
        filters=[strip_filter],
        default="All genders",
    )
    meeting_schedule = StringField(
        "House meeting schedule",
        validators=[Optional(), Length(max=300, message="Use at most 300 characters.")],
        filters=[strip_filter],
    )
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=3000, message="Use at most 3000 characters.")],
    )
    active = BooleanField("Taking residents", default=True)


class RoomForm(PortalForm):
    # Shown on the house's page beside the house form, whose `name` field keeps that id.
    name = StringField(
        "Room name",
        validators=required_text("Name the room, e.g. 2B.", 60),
        filters=[strip_filter],
        id="room-name",
    )


class BedForm(PortalForm):
    label = StringField(
        "Bed label",
        validators=required_text("Label the bed, e.g. Window.", 40),
        filters=[strip_filter],
    )
    accessible = BooleanField("Accessible")


class AgreementForm(PortalForm):
    body = TextAreaField(
        "Agreement text",
        validators=required_text("Write the agreement.", 20_000),
        description="Publishing creates a new version; earlier applications keep theirs.",
    )


class ApplicationForm(PortalForm):
    term_id = PortalSelectField("Term", coerce=int, validate_choice=True)
    first_choice_id = PortalSelectField("First choice of house", coerce=int)
    second_choice_id = PortalSelectField("Second choice (optional)", coerce=int)
    roommate_request = StringField(
        "Roommate request (optional)",
        validators=[Optional(), Length(max=200, message="Use at most 200 characters.")],
        filters=[strip_filter],
    )
    accessibility_needs = TextAreaField(
        "Accessibility needs (optional)",
        validators=[Optional(), Length(max=2000, message="Use at most 2000 characters.")],
    )
    move_in_wish = BoundedDateField("Preferred move-in date (optional)", validators=[Optional()])
    acknowledge = BooleanField(
        "I have read the house agreement and agree to follow it",
        validators=[DataRequired(message="Acknowledge the house agreement to apply.")],
    )


class DecisionForm(PortalForm):
    note = StringField(
        "Note or reason",
        validators=[Optional(), Length(max=300, message="Use at most 300 characters.")],
        filters=[strip_filter],
    )


class OfferForm(PortalForm):
    bed_id = PortalSelectField("Bed", coerce=int)
    reply_by = BoundedDateField(
        "Reply by", validators=[DataRequired(message="Enter the reply-by date.")]
    )
    move_in_on = BoundedDateField("Move-in date (optional)", validators=[Optional()])


class MoveForm(PortalForm):
    bed_id = PortalSelectField("Move to bed", coerce=int)


class ConditionForm(PortalForm):
    items = TextAreaField(
        "Items and their condition",
        validators=required_text("List the items and their condition.", 4000),
        description="One per line, e.g. “Mattress: good”, “Desk: scratch on top”.",
    )
    staff_notes = TextAreaField(
        "Staff notes (optional)",
        validators=[Optional(), Length(max=2000, message="Use at most 2000 characters.")],
    )


class StudentConditionForm(PortalForm):
    notes = TextAreaField(
        "What you noticed",
        validators=required_text("Write what you noticed.", 2000),
        description="You can add to a report for 48 hours after it is recorded.",
    )


class MoveOutForm(PortalForm):
    move_out_on = BoundedDateField(
        "Move-out date", validators=[DataRequired(message="Enter the date.")]
    )
