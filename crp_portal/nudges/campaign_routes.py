"""Staff pages for nudge campaigns: the list, the editor, pause/resume and the preview."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import NUDGES, scope_required
from crp_portal.errors import Conflict, NotFound
from crp_portal.extensions import db
from crp_portal.nudges import bp, campaigns, templating
from crp_portal.nudges.campaign_forms import CampaignForm, PreviewForm
from crp_portal.timeutil import local_today, utcnow
from crp_portal.views import id_from_form


def _commit_or_form_errors(form: CampaignForm, action):
    """Run the service and commit; each broken rule is shown under its own field."""
    try:
        result = action()
    except campaigns.InvalidCampaign as error:
        db.session.rollback()
        form[form.field_for(error.field)].errors.extend(error.problems)
        return None
    except Conflict as error:
        db.session.rollback()
        form.name.errors.append(error.message)
        return None
    db.session.commit()
    return result


def _editor(form: CampaignForm, campaign):
    return render_template(
        "nudges/campaign_form.html",
        form=form,
        campaign=campaign,
        trigger=campaigns.describe_trigger(campaign) if campaign else None,
        state=campaigns.state_of(campaign, local_today()) if campaign else None,
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
    counts = campaigns.outbox_counts()
    rows = [
        {
            "campaign": campaign,
            "trigger": campaigns.describe_trigger(campaign),
            "state": campaigns.state_of(campaign, today),
            "counts": counts.get(campaign.id, {}),
        }
        for campaign in campaigns.list_campaigns()
    ]
    return render_template("nudges/campaigns.html", rows=rows)


@bp.route("/nudges/campaigns/new", methods=["GET", "POST"])
@scope_required(NUDGES)
def new_campaign():
    form = CampaignForm(active_from=local_today())
    if form.validate_on_submit():
        campaign = _commit_or_form_errors(
            form, lambda: campaigns.create_campaign(form.details(), current_user)
        )
        if campaign is not None:
            flash(f"{campaign.name} is saved. Preview it for a member before it sends.", "success")
            return redirect(url_for("nudges.campaign", campaign_id=campaign.id))
    return _editor(form, None)


@bp.route("/nudges/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@scope_required(NUDGES)
def campaign(campaign_id: int):
    campaign = campaigns.get_campaign(campaign_id)
    form = CampaignForm(obj=campaign)
    if request.method == "GET":
        form.fill_from(campaign)
    if form.validate_on_submit():
        saved = _commit_or_form_errors(
            form, lambda: campaigns.update_campaign(campaign, form.details())
        )
        if saved is not None:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("nudges.campaign", campaign_id=campaign_id))
    return _editor(form, campaign)


@bp.post("/nudges/campaigns/<int:campaign_id>/pause")
@scope_required(NUDGES)
def pause_campaign(campaign_id: int):
    campaign = campaigns.pause_campaign(campaigns.get_campaign(campaign_id))
    db.session.commit()
    flash(f"{campaign.name} is paused: it plans no new messages until you resume it.", "success")
    return redirect(url_for("nudges.campaign", campaign_id=campaign_id))


@bp.post("/nudges/campaigns/<int:campaign_id>/resume")
@scope_required(NUDGES)
def resume_campaign(campaign_id: int):
    campaign = campaigns.resume_campaign(campaigns.get_campaign(campaign_id))
    db.session.commit()
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
