"""Staff's delivery log: every email in the outbox, retrying failures, resending on review."""

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from crp_portal.access import NUDGES, scope_required
from crp_portal.errors import DomainError
from crp_portal.forms import PortalForm, PortalSelectField, choices
from crp_portal.nudges import bp, delivery
from crp_portal.outbox.models import MAX_ATTEMPTS, OUTBOX_STATUS_LABELS, OutboxStatus
from crp_portal.search import page_number
from crp_portal.timeutil import utcnow
from crp_portal.unit_of_work import unit_of_work
from crp_portal.views import id_from_form


class LogFilterForm(PortalForm):
    class Meta:
        csrf = False

    status = PortalSelectField(
        "Status", choices=choices(delivery.STATUS_FILTERS.items()), validate_choice=False
    )
    kind = PortalSelectField(
        "Kind", choices=choices(delivery.KIND_FILTERS.items()), validate_choice=False
    )
    campaign = PortalSelectField("Campaign", validate_choice=False)


def _filters(values) -> delivery.LogFilter:
    return delivery.LogFilter.from_values(
        values.get("status"), values.get("kind"), id_from_form(values.get("campaign"))
    )


def _log_url(filters: delivery.LogFilter):
    args: dict[str, Any] = {"status": filters.status, "kind": filters.kind}
    if filters.campaign_id:
        args["campaign"] = filters.campaign_id
    return url_for("nudges.delivery_log", **args)


@bp.get("/nudges/outbox")
@scope_required(NUDGES)
def delivery_log():
    filters = _filters(request.args)
    form = LogFilterForm(
        formdata=None,
        status=filters.status,
        kind=filters.kind,
        campaign=str(filters.campaign_id or ""),
    )
    form.campaign.choices = [("", "All campaigns")] + [
        (str(campaign_id), name) for campaign_id, name in delivery.campaign_names()
    ]
    return render_template(
        "nudges/outbox.html",
        form=form,
        filters=filters,
        page=delivery.search_log(filters, page_number(request.args)),
        counts=delivery.status_counts(filters),
        status_labels=OUTBOX_STATUS_LABELS,
        max_attempts=MAX_ATTEMPTS,
    )


@bp.post("/nudges/outbox/retry")
@scope_required(NUDGES)
def retry_failed():
    filters = _filters(request.form)
    selected = [id_from_form(value) for value in request.form.getlist("ids")]
    with unit_of_work():
        count = delivery.retry_failed(filters, [i for i in selected if i], utcnow())
    if count:
        flash(
            f"{count} failed message{' is' if count == 1 else 's are'} queued to send again.",
            "success",
        )
    else:
        flash("No failed message matched, so nothing was queued.", "warning")
    return redirect(_log_url(filters))


@bp.route("/nudges/outbox/<int:message_id>/resend", methods=["GET", "POST"])
@scope_required(NUDGES)
def resend(message_id: int):
    """GET says what resending does and changes nothing; POST queues the message again."""
    if request.method == "GET":
        message = delivery.message_to_resend(message_id)
        return render_template("nudges/resend_confirm.html", message=message)
    try:
        with unit_of_work():
            message = delivery.resend(message_id, utcnow())
    except DomainError as error:  # rolled back; the log says why
        if error.status_code == 404:
            raise
        flash(error.message, "error")
    else:
        flash(f"The message to {message.recipient} is queued to send again.", "success")
    return redirect(url_for("nudges.delivery_log", status=OutboxStatus.NEEDS_REVIEW))
