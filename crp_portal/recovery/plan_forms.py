"""The relapse-prevention plan form: one text box per section, none required on its own."""

from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from crp_portal.forms import PortalForm
from crp_portal.recovery.models import PLAN_SECTION_MAX, PLAN_SECTIONS
from crp_portal.recovery.plan import clean_section

HELP = {
    "warning_signs": "Changes in your thoughts, mood or habits that tell you things are slipping.",
    "triggers": "People, places, feelings or times of day that make using more tempting.",
    "coping_strategies": "What you can do in the moment: things that have worked for you before.",
    "people_and_places": "Who to call and where to go: a sponsor, friends, a meeting, "
    "a safe place on campus.",
    "crisis_steps": "The steps to take if you are about to use or feel unsafe. The crisis "
    "lines are always shown with this section.",
}


def _section(name: str) -> TextAreaField:
    return TextAreaField(
        PLAN_SECTIONS[name],
        validators=[
            Optional(),
            Length(max=PLAN_SECTION_MAX, message=f"Use at most {PLAN_SECTION_MAX} characters."),
        ],
        filters=[clean_section],
        description=HELP[name],
        render_kw={"rows": 6},
    )


class PlanForm(PortalForm):
    warning_signs = _section("warning_signs")
    triggers = _section("triggers")
    coping_strategies = _section("coping_strategies")
    people_and_places = _section("people_and_places")
    crisis_steps = _section("crisis_steps")

    def sections(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in PLAN_SECTIONS}
