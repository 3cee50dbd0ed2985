"""Dry run: who a campaign would email now (or on a chosen day) and why, who is left out
and why — computed by the planner's own rules, writing nothing."""

from datetime import datetime, timedelta

from flask import render_template, request
from wtforms.validators import Optional

from crp_portal.access import NUDGES, scope_required
from crp_portal.errors import NotFound
from crp_portal.extensions import db
from crp_portal.forms import BoundedDateField, PortalForm
from crp_portal.nudges import audiences, bp, campaigns, planning
from crp_portal.nudges.models import Campaign
from crp_portal.timeutil import AFTER_THE_CHANGE, local_to_utc, to_local, utcnow

SHOWN_PER_GROUP = 200
YEARS_AROUND = 5
GROUPS = {
    planning.WOULD_SEND: "Would receive it",
    planning.SUPPRESS: "Suppressed",
    planning.HOLD_OUT: "Held out (comparison group)",
    planning.ALREADY_PLANNED: "Already planned",
}
BAD_DATE = "Enter a date as YYYY-MM-DD, for example 2027-04-28."


class DayField(BoundedDateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(BAD_DATE) from error


class DryRunForm(PortalForm):
    class Meta:
        csrf = False

    on = DayField(
        "What if today were",
        validators=[Optional()],
        description="Leave empty for today. Times are the program's local time.",
    )


def campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("There is no campaign with that number.")
    return campaign


def _moment(form: DryRunForm) -> datetime:
    """Now, or the same time of day on the chosen date (within five years of today)."""
    now = utcnow()
    if not form.validate() or form.on.data is None:
        return now
    local_now = to_local(now)
    if abs((form.on.data - local_now.date()).days) > YEARS_AROUND * 365:
        form.on.errors = [f"Choose a date within {YEARS_AROUND} years of today."]
        return now
    chosen = datetime.combine(form.on.data, local_now.time().replace(tzinfo=None))
    return local_to_utc(chosen, skipped=AFTER_THE_CHANGE)  # a time the clocks skip: just after


@bp.get("/nudges/campaigns/<int:campaign_id>/dry-run")
@scope_required(NUDGES)
def dry_run(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    form = DryRunForm(request.args)
    moment = _moment(form)
    day = to_local(moment).date()
    due = planning.due_now(campaign, moment)
    groups = {outcome: [d for d in due if d.outcome == outcome] for outcome in GROUPS}
    for people in groups.values():
        people.sort(key=lambda d: (d.user.name.lower(), d.user.id))
    return render_template(
        "nudges/dry_run.html",
        campaign=campaign,
        form=form,
        moment=moment,
        day=day,
        running=planning.is_running(campaign, day),
        term_notice=audiences.unusable_term(day),
        template_problems=campaigns.template_problems(campaign),
        groups=groups,
        labels=GROUPS,
        shown=SHOWN_PER_GROUP,
        day_before=day - timedelta(days=1),
        day_after=day + timedelta(days=1),
    )
