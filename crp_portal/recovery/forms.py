"""Forms for the support network, the weekly check-in and the staff follow-up queue
(the plan's form is `plan_forms`)."""

from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from crp_portal.forms import PortalForm, PortalSelectField, choices, required_text, strip_filter
from crp_portal.recovery.models import (
    CHECK_IN_NOTE_MAX,
    FOLLOW_UP_NOTE_MAX,
    SCALE_MAX,
    SCALE_MIN,
)

SCALE_VALUES = [str(value) for value in range(SCALE_MIN, SCALE_MAX + 1)]
SCALE_WORDS = {
    "mood": ("Very low", "Very good"),
    "stress": ("Very calm", "Very stressed"),
    "sleep": ("Very poorly", "Very well"),
}


def scale_choices(name: str):
    low, high = SCALE_WORDS[name]
    labels = {SCALE_VALUES[0]: f"{SCALE_MIN} – {low}", SCALE_VALUES[-1]: f"{SCALE_MAX} – {high}"}
    return choices([(value, labels.get(value, value)) for value in SCALE_VALUES])


class OnTheScale:
    """A clear message for a missing or out-of-range answer (not WTForms' "Not a valid choice")."""

    def __init__(self, what: str):
        self.message = f"Choose a number from {SCALE_MIN} to {SCALE_MAX} for {what}."

    def __call__(self, form, field):
        if field.data not in SCALE_VALUES:
            field.errors[:] = []
            raise ValidationError(self.message)


def scale_field(label: str, name: str) -> RadioField:
    return RadioField(
        label, choices=scale_choices(name), validators=[OnTheScale(name)], validate_choice=False
    )


def note_field(label: str, maximum: int, description: str = "") -> TextAreaField:
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=maximum, message=f"Use at most {maximum} characters.")],
        description=description,
    )


class CheckInForm(PortalForm):
    mood = scale_field("How has your mood been this week?", "mood")
    stress = scale_field("How stressed have you felt?", "stress")
    sleep = scale_field("How have you slept?", "sleep")
    note = note_field(
        "Anything else on your mind? (optional)",
        CHECK_IN_NOTE_MAX,
        f"Only you see this, unless you share check-ins with staff. "
        f"At most {CHECK_IN_NOTE_MAX} characters.",
    )
    wants_outreach = BooleanField("I'd like someone from the program to reach out")

    def answers(self) -> dict:
        return {
            "mood": int(self.mood.data),
            "stress": int(self.stress.data),
            "sleep": int(self.sleep.data),
            "note": self.note.data or "",
            "wants_outreach": bool(self.wants_outreach.data),
        }


class FollowUpNoteForm(PortalForm):
    body = TextAreaField("Note", validators=required_text("Write the note.", FOLLOW_UP_NOTE_MAX))


class ResolveForm(PortalForm):
    closing_note = note_field("How it ended (optional)", FOLLOW_UP_NOTE_MAX)


class AssignForm(PortalForm):
    assignee_id = PortalSelectField("Assign to", choices=[], validate_choice=False)
    # Whom the page showed it assigned to ("" for nobody): a claim made since is a 409.
    assigned_seen = HiddenField()

    def offer(self, staff) -> "AssignForm":
        self.assignee_id.choices = choices(
            [("", "Choose a staff member"), *((str(person.id), person.name) for person in staff)]
        )
        return self


class OpenFollowUpForm(PortalForm):
    note = note_field("What prompted this? (optional)", FOLLOW_UP_NOTE_MAX)


class SupportPersonForm(PortalForm):
    name = StringField(
        "Name", validators=required_text("Enter their name.", 120), filters=[strip_filter]
    )
    relationship_to_student = StringField(
        "Who they are to you",
        validators=required_text("Say who they are, e.g. sponsor, sister, friend.", 80),
        filters=[strip_filter],
    )
    how_to_reach = StringField(
        "How to reach them",
        validators=required_text("Give a phone number, email or other way to reach them.", 200),
        filters=[strip_filter],
    )
    expectations = TextAreaField(
        "What you count on them for (optional)",
        validators=[Optional(), Length(max=1000, message="Use at most 1000 characters.")],
    )
    emergency_contact = BooleanField("Emergency contact")


class NetworkSharingForm(PortalForm):
    share_network_with_staff = BooleanField("Program staff may see my support network")
