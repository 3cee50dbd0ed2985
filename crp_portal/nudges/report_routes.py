"""Does it work? A campaign's emailed and held-out groups, side by side."""

from flask import render_template

from crp_portal.access import NUDGES, scope_required
from crp_portal.nudges import bp
from crp_portal.nudges.dry_run_routes import campaign_or_404
from crp_portal.nudges.report import campaign_report


@bp.get("/nudges/campaigns/<int:campaign_id>/report")
@scope_required(NUDGES)
def report(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    return render_template(
        "nudges/report.html", campaign=campaign, report=campaign_report(campaign)
    )
