"""Admin pages: accounts, invitations and the roster import."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crp_portal import audit
from crp_portal.access import admin_required
from crp_portal.auth import bp, roster, services
from crp_portal.auth.forms import AccountForm, AccountSearchForm, InviteForm, RosterImportForm
from crp_portal.extensions import db
from crp_portal.search import page_number
from crp_portal.views import commit_or_form_error


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
def account(user_id: int):
    user = services.get_user(user_id)
    form = AccountForm(obj=user)
    if form.validate_on_submit():
        saved = commit_or_form_error(
            form,
            "role",
            lambda: services.update_account(
                user,
                form.name.data,
                form.role.data,
                form.is_admin.data,
                current_user,
                scopes=form.scopes.data,
            ),
        )
        if saved is not None:
            flash(f"Saved {user.name}'s account.", "success")
            return redirect(url_for("auth.account", user_id=user.id))
    elif request.method == "GET":
        audit.record_view(current_user, user.id, audit.ACCOUNT)
        db.session.commit()
    return render_template("admin/account.html", user=user, form=form)


@bp.post("/admin/accounts/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    user = services.get_user(user_id)
    services.deactivate(user, current_user)
    db.session.commit()
    flash(f"{user.name} can no longer sign in. Their records are kept.", "success")
    return redirect(url_for("auth.account", user_id=user.id))


@bp.post("/admin/accounts/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    user = services.get_user(user_id)
    services.reactivate(user, current_user)
    db.session.commit()
    flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("auth.account", user_id=user.id))


@bp.route("/admin/invitations", methods=["GET", "POST"])
@admin_required
def invitations():
    form = InviteForm()
    if form.validate_on_submit():
        invitation = commit_or_form_error(
            form,
            "email",
            lambda: services.invite(
                form.email.data,
                form.role.data,
                form.is_admin.data,
                current_user,
                scopes=form.scopes.data,
            ),
        )
        if invitation is not None:
            flash(f"Invitation sent to {invitation.email}.", "success")
            return redirect(url_for("auth.invitations"))
    pending = services.list_pending_invitations()
    return render_template("admin/invitations.html", form=form, pending=pending)


@bp.post("/admin/invitations/<int:invitation_id>/resend")
@admin_required
def resend_invitation(invitation_id: int):
    invitation = services.resend_invitation(invitation_id, current_user)
    db.session.commit()
    flash(
        f"A new invitation link went to {invitation.email}; the old link no longer works.",
        "success",
    )
    return redirect(url_for("auth.invitations"))


@bp.post("/admin/invitations/<int:invitation_id>/revoke")
@admin_required
def revoke_invitation(invitation_id: int):
    invitation = services.revoke_invitation(invitation_id, current_user)
    db.session.commit()
    flash(f"The invitation to {invitation.email} is withdrawn.", "success")
    return redirect(url_for("auth.invitations"))


@bp.route("/admin/import", methods=["GET", "POST"])
@admin_required
def import_roster():
    form = RosterImportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        result = roster.import_roster(form.roster.data.read(), form.send_welcome.data)
        if result.problems:
            db.session.rollback()
            errors = result.errors
        else:
            services.record_roster_import(current_user, [row.email for row in result.rows])
            db.session.commit()
            flash(f"Imported {len(result.rows)} accounts.", "success")
            return redirect(url_for("auth.accounts"))
    return render_template("admin/import.html", form=form, errors=errors)
