"""What the account area holds about a person, for the privacy duties (`crp_portal.privacy`):
the account in their data download; on erasure, invitations to their address or account
go (the account itself is erased last, by `crp_portal.privacy.erasure`)."""

from sqlalchemy import or_

from crp_portal.auth.models import Invitation, User
from crp_portal.privacy import register_eraser, register_export_section
from crp_portal.privacy.erasure import delete_where
from crp_portal.privacy.export import value_at


def account(user: User) -> dict:
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role_label,
        "created_at": value_at(user, "created_at"),
        "last_sign_in_at": value_at(user, "last_sign_in_at"),
    }


def erase_invitations(user: User, _now) -> int:
    return delete_where(
        Invitation, or_(Invitation.email == user.email, Invitation.user_id == user.id)
    )


def init_app(app) -> None:
    register_export_section(app, "account", account)
    register_eraser(app, "invitations", erase_invitations)
