"""Staff run the houses, the agreement and the application queue."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal.access import HOUSING, scope_required
from crp_portal.forms import filled
from crp_portal.housing import bp, services
from crp_portal.housing.forms import AgreementForm, BedForm, DecisionForm, HouseForm, RoomForm
from crp_portal.housing.models import APPLICATION_STATUSES
from crp_portal.housing.offer_routes import offer_form_for
from crp_portal.search import page_number
from crp_portal.timeutil import local_today
from crp_portal.unit_of_work import audited_read, unit_of_work
from crp_portal.views import id_from_form

HOUSE_FIELDS = ("name", "address", "who_may_live", "meeting_schedule", "description", "active")


@bp.get("/houses")
@scope_required(HOUSING)
def houses():
    found = services.list_houses()
    return render_template("housing/houses.html", houses=found, counts=services.bed_counts(found))


@bp.route("/houses/new", methods=["GET", "POST"])
@scope_required(HOUSING)
def new_house():
    form = HouseForm()
    work = unit_of_work(form, "name")
    if form.validate_on_submit():
        with work:
            house = services.save_house(None, **{f: form[f].data for f in HOUSE_FIELDS})
        if work.saved:
            flash(f"{house.name} is added. Now add its rooms and beds.", "success")
            return redirect(url_for("housing.house", house_id=house.id))
    return render_template("housing/house_form.html", form=form, house=None), work.status


def _house_page(house, house_form=None, room_form=None, bed_form=None):
    return render_template(
        "housing/house.html",
        house=house,
        house_form=house_form or HouseForm(obj=house),
        room_form=room_form or RoomForm(),
        bed_form=bed_form or BedForm(),
    )


@bp.route("/houses/<int:house_id>", methods=["GET", "POST"])
@scope_required(HOUSING)
def house(house_id: int):
    found = services.get_house(house_id)
    form = HouseForm()
    work = unit_of_work(form, "name")
    if request.method == "POST" and form.validate_on_submit():
        with work:
            saved = services.save_house(found, **{f: form[f].data for f in HOUSE_FIELDS})
        if work.saved:
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("housing.house", house_id=house_id))
        found = services.get_house(house_id)
    page = _house_page(found, house_form=form if request.method == "POST" else None)
    return page, work.status


@bp.post("/houses/<int:house_id>/rooms")
@scope_required(HOUSING)
def add_room(house_id: int):
    found = services.get_house(house_id)
    form = RoomForm()
    work = unit_of_work(form, "name")
    if form.validate_on_submit():
        with work:
            room = services.add_room(found, filled(form.name.data))
        if work.saved:
            flash(f"Room {room.name} is added.", "success")
            return redirect(url_for("housing.house", house_id=house_id))
    return _house_page(services.get_house(house_id), room_form=form), work.status


@bp.post("/rooms/<int:room_id>/beds")
@scope_required(HOUSING)
def add_bed(room_id: int):
    room = services.get_room(room_id)
    form = BedForm(prefix=f"room{room_id}")
    if form.validate_on_submit():
        with unit_of_work(form, "label") as work:
            bed = services.add_bed(room, filled(form.label.data), form.accessible.data)
        if work.saved:
            flash(f"Bed {bed.label} is added to room {room.name}.", "success")
            return redirect(url_for("housing.house", house_id=room.house_id))
    flash(form.label.errors[0] if form.label.errors else "Give the bed a label.", "error")
    return redirect(url_for("housing.house", house_id=room.house_id))


@bp.post("/beds/<int:bed_id>/active")
@scope_required(HOUSING)
def set_bed_active(bed_id: int):
    with unit_of_work():
        bed = services.set_bed_active(bed_id, request.form.get("active") == "1", local_today())
    flash(f"Bed {bed.label} is {'back in use' if bed.active else 'out of use'}.", "success")
    return redirect(url_for("housing.house", house_id=bed.room.house_id))


@bp.route("/agreement", methods=["GET", "POST"])
@scope_required(HOUSING)
def agreement():
    current = services.current_agreement()
    form = AgreementForm(body=current.body if current else "")
    work = unit_of_work(form, "body")
    if form.validate_on_submit():
        with work:
            published = services.publish_agreement(filled(form.body.data), current_user)
        if work.saved:
            flash(f"Version {published.version} of the house agreement is published.", "success")
            return redirect(url_for("housing.agreement"))
    return render_template("housing/agreement.html", form=form, current=current), work.status


@bp.get("/queue")
@scope_required(HOUSING)
def queue():
    terms = services.open_terms(local_today())
    chosen = id_from_form(request.args.get("term"))
    term = next((t for t in terms if t.id == chosen), terms[0] if terms else None)
    status = request.args.get("status", "")
    status = status if status in APPLICATION_STATUSES else ""
    return render_template(
        "housing/queue.html",
        terms=terms,
        term=term,
        status=status,
        statuses=APPLICATION_STATUSES,
        page=services.queue(term.id, status, page_number(request.args)) if term else None,
        counts=services.status_counts(term.id) if term else {},
    )


@bp.get("/queue/<int:application_id>")
@scope_required(HOUSING)
@audited_read
def review(application_id: int):
    found = services.application_for_staff(application_id, current_user)
    return render_template(
        "housing/review.html",
        application=found,
        form=DecisionForm(),
        offer_form=offer_form_for(found),
    )


@bp.post("/queue/<int:application_id>/<any(waitlist, decline):decision>")
@scope_required(HOUSING)
def decide(application_id: int, decision: str):
    found = services.application_for_staff(application_id, current_user, for_update=True)
    form = DecisionForm()
    note = (form.note.data or "") if form.validate_on_submit() else ""
    with unit_of_work():
        if decision == "waitlist":
            services.waitlist(found, note)
        else:
            services.decline(found, note)
    flash(f"{found.student.name}: {found.status_label.lower()}. They have been emailed.", "success")
    return redirect(url_for("housing.queue", term=found.term_id))
