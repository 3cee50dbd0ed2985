"""An admin unlinks a campus identity from an account (the account page lists them)."""

from flask import flash, redirect, url_for
from flask_login import current_user

from crp_portal.access import admin_required
from crp_portal.auth.services import get_user
from crp_portal.sso import accounts, bp
from crp_portal.unit_of_work import unit_of_work


@bp.post("/admin/accounts/<int:user_id>/campus-sign-in/<int:identity_id>/unlink")
@admin_required
def unlink(user_id: int, identity_id: int):
    user = get_user(user_id)
    with unit_of_work():
        accounts.unlink(user, identity_id, current_user)
    flash(
        f"{user.name}'s campus sign-in is unlinked and their sessions have ended. Their next "
        "campus sign-in links again by student id or verified address.",
        "success",
    )
    return redirect(url_for("auth.account", user_id=user.id))
