"""Member profile forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from crp_portal.forms import choices, strip_filter
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
