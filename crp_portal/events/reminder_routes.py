"""Staff's reminder settings: per kind of event, reminders on or off and how long before."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import BooleanField

from crp_portal.access import EVENTS, scope_required
from crp_portal.events import bp, reminders
from crp_portal.events.models import KINDS, REMINDER_LEAD_HOURS
from crp_portal.forms import PortalForm, PortalSelectField, choices
from crp_portal.unit_of_work import unit_of_work


class ReminderSettingsForm(PortalForm):
    """Two fields per kind of event: `enabled_<kind>` and `hours_<kind>`."""


for _kind in KINDS:
    setattr(ReminderSettingsForm, f"enabled_{_kind}", BooleanField("Send reminders"))
    setattr(
        ReminderSettingsForm,
        f"hours_{_kind}",
        PortalSelectField(
            "How long before",
            choices=choices((str(hours), label) for hours, label in REMINDER_LEAD_HOURS.items()),
            coerce=int,
        ),
    )


def _form(rules: list[reminders.ReminderRule]) -> ReminderSettingsForm:
    values: dict[str, bool | int] = {}
    for rule in rules:
        values[f"enabled_{rule.kind}"] = rule.enabled
        values[f"hours_{rule.kind}"] = rule.lead_hours
    return ReminderSettingsForm(data=values)


@bp.route("/events/reminders", methods=["GET", "POST"])
@scope_required(EVENTS)
def reminder_settings():
    rules = reminders.reminder_rules()
    form = _form(rules)
    work = unit_of_work(form)
    if form.validate_on_submit():
        wanted = [
            reminders.ReminderRule(kind, form[f"enabled_{kind}"].data, form[f"hours_{kind}"].data)
            for kind in KINDS
        ]
        with work:
            reminders.save_reminder_rules(wanted, current_user)
        if work.saved:
            flash("Reminder settings saved.", "success")
            return redirect(url_for("events.reminder_settings"))
    rows = [(rule, form[f"enabled_{rule.kind}"], form[f"hours_{rule.kind}"]) for rule in rules]
    return render_template("events/reminder_settings.html", form=form, rows=rows), work.status
