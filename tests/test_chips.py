"""Status chips (issue #22): every status a page shows as a chip has a tone chosen for it,
and the chip says the status in words."""

import pytest

from crp_portal.advising.models import AppointmentStatus
from crp_portal.chips import NEUTRAL, TONES, status_tone
from crp_portal.events.models import RsvpStatus
from crp_portal.housing.models import ApplicationStatus, AssignmentStatus
from crp_portal.members.models import IntakeStatus, MemberStatus
from crp_portal.nudges import lifecycle
from crp_portal.outbox.models import OutboxStatus

SHOWN_AS_CHIPS = [
    *RsvpStatus,
    *AppointmentStatus,
    *ApplicationStatus,
    *AssignmentStatus,
    *IntakeStatus,
    *MemberStatus,
    *OutboxStatus,
    lifecycle.DRAFT,
    lifecycle.NOT_STARTED,
    lifecycle.ACTIVE,
    lifecycle.PAUSED,
    lifecycle.ENDED,
]


@pytest.mark.parametrize("status", SHOWN_AS_CHIPS, ids=str)
def test_each_status_shown_as_a_chip_has_a_tone_of_its_own(status):
    assert str(status).lower() in TONES


def test_a_status_nobody_chose_a_tone_for_reads_as_neutral():
    assert status_tone("something new") == NEUTRAL
    assert status_tone(RsvpStatus.WAITLISTED) == "warn"
    assert status_tone(lifecycle.ACTIVE) == "ok"


def test_the_chip_says_the_status_in_words(app):
    with app.test_request_context():
        macro = app.jinja_env.get_template("_chips.html").module.status_chip

        class Offer:
            status = AssignmentStatus.OFFERED
            status_label = "Offered"

        html = str(macro(Offer()))
    assert html == '<span class="badge badge-warn">Offered</span>'
