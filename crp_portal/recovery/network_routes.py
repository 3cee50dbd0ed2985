"""A student's support network, and whether staff may see it."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import STUDENT, role_required
from crp_portal.members import services
from crp_portal.recovery import bp, network
from crp_portal.recovery.forms import NetworkSharingForm, SupportPersonForm
from crp_portal.unit_of_work import unit_of_work

FIELDS = ("name", "relationship_to_student", "how_to_reach", "expectations", "emergency_contact")


def _values(form) -> dict:
    return {
        name: form[name].data or ("" if name != "emergency_contact" else False) for name in FIELDS
    }


@bp.route("/me/network", methods=["GET", "POST"])
@role_required(STUDENT)
def support_network():
    profile = services.own_profile(current_user)
    form = SupportPersonForm()
    if form.validate_on_submit():
        with unit_of_work():
            person = network.save_person(current_user, None, **_values(form))
        flash(f"{person.name} is in your support network.", "success")
        return redirect(url_for("recovery.support_network"))
    return render_template(
        "recovery/network.html",
        people=network.people_of(current_user),
        form=form,
        sharing_form=NetworkSharingForm(obj=profile),
    )


@bp.route("/me/network/<int:person_id>", methods=["GET", "POST"])
@role_required(STUDENT)
def edit_support_person(person_id: int):
    person = network.person_for(current_user, person_id)
    form = SupportPersonForm(obj=person)
    if form.validate_on_submit():
        with unit_of_work():
            network.save_person(current_user, person, **_values(form))
        flash(f"Saved {person.name}.", "success")
        return redirect(url_for("recovery.support_network"))
    return render_template("recovery/network_person.html", person=person, form=form)


@bp.post("/me/network/<int:person_id>/remove")
@role_required(STUDENT)
def remove_support_person(person_id: int):
    person = network.person_for(current_user, person_id)
    name = person.name
    with unit_of_work():
        network.remove_person(person)
    flash(f"{name} is no longer in your support network.", "success")
    return redirect(url_for("recovery.support_network"))


@bp.post("/me/network/sharing")
@role_required(STUDENT)
def network_sharing():
    shared = request.form.get("share_network_with_staff") == "y"
    with unit_of_work():
        profile = services.update_own_profile(current_user, share_network_with_staff=shared)
    flash(
        "Staff can now see your support network."
        if profile.share_network_with_staff
        else "Your support network is private to you.",
        "success",
    )
    return redirect(url_for("recovery.support_network"))
