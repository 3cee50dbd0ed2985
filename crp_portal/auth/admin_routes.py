"""Admin pages: accounts, invitations and the roster import."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal import audit
from crp_portal.access import admin_required
from crp_portal.auth import bp, roster, services
from crp_portal.auth.forms import AccountForm, AccountSearchForm, InviteForm, RosterImportForm
from crp_portal.forms import filled
from crp_portal.search import page_number
from crp_portal.unit_of_work import audited_read, unit_of_work


@bp.get("/admin/accounts")
@admin_required
def accounts():
    form = AccountSearchForm(request.args)
    filters = services.AccountFilter(
        query=(form.q.data or "")[:100], role=form.role.data or "", status=form.status.data or ""
    )
    page = services.search_accounts(filters, page_number(request.args))
    return render_template("admin/accounts.html", form=form, page=page, filters=filters)


@bp.route("/admin/accounts/<int:user_id>", methods=["GET", "POST"])
@admin_required
@audited_read
def account(user_id: int):
    user = services.get_user(user_id)
    form = AccountForm(obj=user)
    work = unit_of_work(form, "role")
    if form.validate_on_submit():
        with work:
            services.update_account(
                user,
                filled(form.name.data),
                form.role.data,
                form.is_admin.data,
                current_user,
                scopes=form.scopes.data,
            )
        if work.saved:
            flash(f"Saved {user.name}'s account.", "success")
            return redirect(url_for("auth.account", user_id=user.id))
    elif request.method == "GET":
        audit.record_view(current_user, user.id, audit.ACCOUNT)
    return render_template("admin/account.html", user=user, form=form), work.status


@bp.post("/admin/accounts/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    user = services.get_user(user_id)
    with unit_of_work():
        services.deactivate(user, current_user)
    flash(f"{user.name} can no longer sign in. Their records are kept.", "success")
    return redirect(url_for("auth.account", user_id=user.id))


@bp.post("/admin/accounts/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    user = services.get_user(user_id)
    with unit_of_work():
        services.reactivate(user, current_user)
    flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("auth.account", user_id=user.id))


@bp.route("/admin/invitations", methods=["GET", "POST"])
@admin_required
def invitations():
    form = InviteForm()
    work = unit_of_work(form, "email")
    if form.validate_on_submit():
        with work:
            invitation = services.invite(
                filled(form.email.data),
                form.role.data,
                form.is_admin.data,
                current_user,
                scopes=form.scopes.data or (),
            )
        if work.saved:
            flash(f"Invitation sent to {invitation.email}.", "success")
            return redirect(url_for("auth.invitations"))
    page = services.list_pending_invitations(page_number(request.args))
    return render_template(
        "admin/invitations.html", form=form, pending=page.items, page=page
    ), work.status


@bp.post("/admin/invitations/<int:invitation_id>/resend")
@admin_required
def resend_invitation(invitation_id: int):
    with unit_of_work():
        invitation = services.resend_invitation(invitation_id, current_user)
    flash(
        f"A new invitation link went to {invitation.email}; the old link no longer works.",
        "success",
    )
    return redirect(url_for("auth.invitations"))


@bp.post("/admin/invitations/<int:invitation_id>/revoke")
@admin_required
def revoke_invitation(invitation_id: int):
    with unit_of_work():
        invitation = services.revoke_invitation(invitation_id, current_user)
    flash(f"The invitation to {invitation.email} is withdrawn.", "success")
    return redirect(url_for("auth.invitations"))


@bp.route("/admin/import", methods=["GET", "POST"])
@admin_required
def import_roster():
    form = RosterImportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        with unit_of_work():  # a roster with problems writes nothing (`import_roster`)
            result = roster.import_roster(form.roster.data.read(), form.send_welcome.data)
            if not result.problems:
                services.record_roster_import(current_user, [row.email for row in result.rows])
        if not result.problems:
            flash(f"Imported {len(result.rows)} accounts.", "success")
            return redirect(url_for("auth.accounts"))
        errors = result.errors
    return render_template("admin/import.html", form=form, errors=errors)
