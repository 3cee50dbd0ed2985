"""Member profile forms."""

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from crp_portal.forms import (
    BoundedIntegerField,
    PortalForm,
    PortalSelectField,
    choices,
    required_text,
    strip_filter,
    text_filter,
)
from crp_portal.members.intake import GOALS_MAX, NOTE_MAX
from crp_portal.members.models import (
    CALENDAR_REMINDER_LABELS,
    HEARD_FROM_LABELS,
    OPT_OUT_CATEGORY_LABELS,
    STATUS_LABELS,
    IntakeStatus,
)

STATUS_CHOICES = list(STATUS_LABELS.items())
NO_REMINDER = "off"
REMINDER_NOT_LISTED = "Choose a reminder from the list, or Off."


def reminder_minutes(value) -> int | None:
    """The select's "off" is no reminder (NULL); the others are minutes."""
    return None if value in (None, "", NO_REMINDER) else int(value)


class OwnProfileForm(PortalForm):
    preferred_name = StringField(
        "Preferred name",
        validators=[Optional(), Length(max=80, message="Use at most 80 characters.")],
        filters=[strip_filter],
        description="What the program calls you, if not your full name.",
    )
    pronouns = StringField(
        "Pronouns",
        validators=[Optional(), Length(max=40, message="Use at most 40 characters.")],
        filters=[strip_filter],
        description="For example she/her, he/him, they/them.",
    )
    major = StringField(
        "Major",
        validators=[Optional(), Length(max=120, message="Use at most 120 characters.")],
        filters=[strip_filter],
    )
    class_year = BoundedIntegerField(
        "Class year",
        minimum=1950,
        maximum=2100,
        validators=[Optional()],
        description="The year you expect to graduate, e.g. 2028.",
    )
    phone = StringField(
        "Phone",
        validators=[
            Optional(),
            Length(max=40, message="Use at most 40 characters."),
            Regexp(r"^[0-9+()\-. x]*$", message="Use digits, spaces and + ( ) - . only."),
        ],
        filters=[strip_filter],
        description="Staff, your advisor and your peer mentor can use it to reach you.",
    )
    recovery_date = DateField(
        "Recovery date (optional, private)",
        validators=[Optional()],
        description="Only you see it, unless you choose to tell someone.",
    )
    show_first_name_to_peers = BooleanField(
        "Show my first name to other students on attendee lists of events that allow it"
    )
    show_real_titles = BooleanField(
        "Use events' real titles in my calendar and email subjects",
        description="Off by default: entries then read like “Tuesday group”, safe on a shared "
        "phone or family calendar.",
    )
    calendar_reminder_minutes = PortalSelectField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "Remind me before each event or appointment",
        choices=choices(
            (NO_REMINDER if minutes is None else str(minutes), label)
            for minutes, label in CALENDAR_REMINDER_LABELS.items()
        ),
        coerce=reminder_minutes,
        description="Your calendar app shows the reminder, worded like the entry, for what "
        "you add from the portal: downloads, invitations and your private calendar address.",
        invalid_value_message=REMINDER_NOT_LISTED,
        invalid_choice_message=REMINDER_NOT_LISTED,
    )
    share_network_with_staff = BooleanField("Program staff may see my support network")
    share_plan_with_staff = BooleanField("Program staff may see my relapse-prevention plan")
    share_check_ins_with_staff = BooleanField(
        "Program staff may see my weekly check-in answers",
        description="Whatever you choose, staff are told when you ask for someone to reach out.",
    )
    email_categories = SelectMultipleField(
        "Email I want from the program",
        choices=choices(OPT_OUT_CATEGORY_LABELS.items()),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="Confirmations of your own bookings and RSVPs, notices when an event or "
        "appointment you have changes, and advising reminders always come.",
    )


class MembershipForm(PortalForm):
    status = PortalSelectField("Membership status", choices=choices(STATUS_CHOICES))
    note = StringField(
        "Note for the status history (optional)",
        validators=[Optional(), Length(max=500, message="Use at most 500 characters.")],
        filters=[strip_filter],
    )
    student_id = StringField(
        "Student id",
        validators=[Optional(), Length(max=32, message="Use at most 32 characters.")],
        filters=[strip_filter],
    )


ADVISOR_NOT_LISTED = "Choose an advisor from the list, or no advisor."


class AdvisorForm(PortalForm):
    """Choices are set by the view: "No advisor" (0) and the active advisors."""

    advisor_id = PortalSelectField(  # type: ignore[call-arg]  # WTForms 3.3 option; types-WTForms covers 3.2
        "Advisor",
        coerce=int,
        description="The advisor can find this student and book appointments for them, and "
        "sees their name, email, pronouns and student id, never recovery data. Advisors the "
        "student has booked with can find them too.",
        invalid_value_message=ADVISOR_NOT_LISTED,
        invalid_choice_message=ADVISOR_NOT_LISTED,
    )


class MemberSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField("Name, email or student id", validators=[Optional(), Length(max=100)])
    status = PortalSelectField(
        "Status",
        choices=choices([("", "Any status"), *STATUS_CHOICES]),
        validators=[Optional()],
        validate_choice=False,
    )


class IntakeForm(PortalForm):
    goals = TextAreaField(
        "What do you hope to get from the program?",
        validators=required_text(
            "Tell us a little about what you hope to get from the program.", GOALS_MAX
        ),
        description="A few sentences is plenty. Staff who review applications read this.",
    )
    heard_from = PortalSelectField(
        "How did you hear about the program?",
        choices=choices([("", "Choose one"), *HEARD_FROM_LABELS.items()]),
        validators=[DataRequired(message="Choose how you heard about the program.")],
    )
    heard_from_detail = StringField(
        "Anything to add about that? (optional)",
        validators=[Optional(), Length(max=200, message="Use at most 200 characters.")],
        filters=[strip_filter],
    )
    agreement_version = HiddenField(filters=[text_filter])
    acknowledge = BooleanField(
        "I have read the program agreement and agree to it",
        validators=[
            DataRequired(message="Read the program agreement and tick the box to acknowledge it.")
        ],
    )


DECISION_LABELS = {
    IntakeStatus.ACCEPTED: "Accept: they become an active member today",
    IntakeStatus.CONVERSATION: "Ask for a conversation first",
    IntakeStatus.DECLINED: "Decline",
}


class DecisionForm(PortalForm):
    decision = RadioField(
        "Decision",
        choices=choices(DECISION_LABELS.items()),
        validators=[DataRequired(message="Choose accept, ask for a conversation, or decline.")],
    )
    note = TextAreaField(
        "Note to the student",
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=f"Use at most {NOTE_MAX} characters."),
        ],
        description="Needed to ask for a conversation or to decline: the student reads it.",
    )
    # The status the page showed: a decision someone made since is refused (409), not
    # silently followed by this one. Left out (None), the decision only needs it open.
    status_seen = HiddenField()


class AgreementForm(PortalForm):
    body = TextAreaField(
        "Program agreement",
        validators=required_text("Write the agreement before publishing it.", 20000),
        description="Markdown: blank lines between paragraphs, - for lists. Publishing makes a "
        "new version; earlier applications keep the version their student agreed to.",
    )


class ApplicationSearchForm(PortalForm):
    class Meta:
        csrf = False

    status = PortalSelectField(
        "Show",
        choices=choices(
            [
                ("open", "Waiting for a decision"),
                (IntakeStatus.ACCEPTED, "Accepted"),
                (IntakeStatus.DECLINED, "Declined"),
                (IntakeStatus.WITHDRAWN, "Withdrawn"),
                ("all", "All applications"),
            ]
        ),
        validators=[Optional()],
        validate_choice=False,
    )
