"""Member profile forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from crp_portal.forms import choices, required_text, strip_filter
from crp_portal.members.models import STATUS_LABELS

STATUS_CHOICES = list(STATUS_LABELS.items())


class OwnProfileForm(FlaskForm):
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
    show_first_name_to_peers = BooleanField(
        "Show my first name to other students on attendee lists of events that allow it"
    )
    show_real_titles = BooleanField(
        "Use events' real titles in my calendar and email subjects",
        description="Off by default: entries then read like “Tuesday group”, safe on a shared "
        "phone or family calendar.",
    )


class MembershipForm(FlaskForm):
    status = SelectField("Membership status", choices=choices(STATUS_CHOICES))
    student_id = StringField(
        "Student id",
        validators=[Optional(), Length(max=32, message="Use at most 32 characters.")],
        filters=[strip_filter],
    )


class MemberSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Name, email or student id", validators=[Optional(), Length(max=100)])
    status = SelectField(
        "Status",
        choices=choices([("", "Any status"), *STATUS_CHOICES]),
        validators=[Optional()],
        validate_choice=False,
    )


class SupportPersonForm(FlaskForm):
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


class NetworkSharingForm(FlaskForm):
    share_network_with_staff = BooleanField("Program staff may see my support network")
