"""Staff pages for nudge campaigns: the list, the editor, going live, pause/resume and the
preview."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import NUDGES, scope_required
from crp_portal.errors import NotFound
from crp_portal.nudges import bp, campaigns, lifecycle, templating
from crp_portal.nudges.campaign_forms import CampaignForm, PreviewForm
from crp_portal.search import page_number
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import unit_of_work
from crp_portal.views import id_from_form


def _saving(form: CampaignForm):
    """Each broken campaign rule is shown under its own field; anything else (a name
    already taken) under the name."""

    def field(error) -> str:
        if isinstance(error, campaigns.InvalidCampaign):
            return form.field_for(error.field)
        return "name"

    return unit_of_work(form, field)


def _warn_of_overlaps(campaign) -> None:
    for overlap in lifecycle.overlapping(campaign, local_today()):
        flash(overlap.describe(), "warning")


def _editor(form: CampaignForm, campaign):
    today = local_today()
    return render_template(
        "nudges/campaign_form.html",
        form=form,
        campaign=campaign,
        trigger=campaigns.describe_trigger(campaign) if campaign else None,
        state=lifecycle.state_of(campaign, today) if campaign else None,
        overlaps=lifecycle.overlapping(campaign, today) if campaign else [],
        placeholders=templating.PLACEHOLDERS,
        filters=templating.FILTERS,
        budget=templating.BUDGET,
        stored_problems=(
            campaigns.template_problems(campaign) if campaign and not form.errors else []
        ),
    )


@bp.get("/nudges/", endpoint="campaigns")
@scope_required(NUDGES)
def campaign_list():
    today = local_today()
    page = campaigns.list_campaigns(page_number(request.args))
    counts = campaigns.outbox_counts([campaign.id for campaign in page.items])
    rows = [
        {
            "campaign": campaign,
            "trigger": campaigns.describe_trigger(campaign),
            "state": lifecycle.state_of(campaign, today),
            "counts": counts.get(campaign.id, {}),
        }
        for campaign in page.items
    ]
    return render_template("nudges/campaigns.html", rows=rows, page=page)


@bp.route("/nudges/campaigns/new", methods=["GET", "POST"])
@scope_required(NUDGES)
def new_campaign():
    form = CampaignForm(active_from=local_today())
    work = _saving(form)
    if form.validate_on_submit():
        with work:
            campaign = campaigns.create_campaign(form.details(), current_user)
        if work.saved:
            flash(
                f"{campaign.name} is saved as a draft: it sends nothing until you make it live. "
                "Preview it for a member and try a dry run first.",
                "success",
            )
            _warn_of_overlaps(campaign)
            return redirect(url_for("nudges.campaign", campaign_id=campaign.id))
    return _editor(form, None), work.status


@bp.route("/nudges/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@scope_required(NUDGES)
def campaign(campaign_id: int):
    campaign = campaigns.get_campaign(campaign_id)
    form = CampaignForm(obj=campaign)
    if request.method == "GET":
        form.fill_from(campaign)
    work = _saving(form)
    if form.validate_on_submit():
        with work:
            saved = campaigns.update_campaign(campaign, form.details())
        if work.saved:
            flash(f"{saved.name} is saved.", "success")
            _warn_of_overlaps(saved)
            return redirect(url_for("nudges.campaign", campaign_id=campaign_id))
    return _editor(form, campaign), work.status


@bp.post("/nudges/campaigns/<int:campaign_id>/go-live")
@scope_required(NUDGES)
def go_live(campaign_id: int):
    with unit_of_work():
        campaign = lifecycle.go_live(campaigns.get_campaign(campaign_id), current_user, utcnow())
    flash(
        f"{campaign.name} is live: the next planning run sends it to whoever it is due for.",
        "success",
    )
    _warn_of_overlaps(campaign)
    return redirect(url_for("nudges.campaign", campaign_id=campaign_id))


@bp.post("/nudges/campaigns/<int:campaign_id>/pause")
@scope_required(NUDGES)
def pause_campaign(campaign_id: int):
    with unit_of_work():
        campaign = lifecycle.pause_campaign(campaigns.get_campaign(campaign_id))
    flash(f"{campaign.name} is paused: it plans no new messages until you resume it.", "success")
    return redirect(url_for("nudges.campaign", campaign_id=campaign_id))


@bp.post("/nudges/campaigns/<int:campaign_id>/resume")
@scope_required(NUDGES)
def resume_campaign(campaign_id: int):
    with unit_of_work():
        campaign = lifecycle.resume_campaign(campaigns.get_campaign(campaign_id))
    flash(f"{campaign.name} is running again.", "success")
    return redirect(url_for("nudges.campaign", campaign_id=campaign_id))


@bp.get("/nudges/campaigns/<int:campaign_id>/preview")
@scope_required(NUDGES)
def preview(campaign_id: int):
    """The email one member would get. Only names and the week's events are used, no
    recovery data, so opening a preview is not a record view and is not audited."""
    campaign = campaigns.get_campaign(campaign_id)
    form = PreviewForm(request.args)
    form.validate()
    query = "" if form.q.errors else (form.q.data or "").strip()
    members = campaigns.preview_members(query)
    member = email = None
    if request.args.get("member"):
        try:
            member = campaigns.preview_member(id_from_form(request.args.get("member")))
        except NotFound as error:
            form.member.errors = [error.message]
    if member is not None:
        if member not in members:
            members.insert(0, member)
        email = campaigns.preview_email(campaign, member, local_today(), utcnow())
    form.member.choices = [("", "Choose a member")] + [
        (str(person.id), f"{person.name} ({person.email})") for person in members
    ]
    form.member.data = str(member.id) if member else ""
    return render_template(
        "nudges/preview.html",
        campaign=campaign,
        form=form,
        member=member,
        email=email,
        many=len(members) >= campaigns.PREVIEW_MEMBERS,
    )
