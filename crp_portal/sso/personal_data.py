"""What campus sign-on holds about a person, for the privacy duties: their linked
identities in the data download, and gone on erasure (a provider's subject identifies
them as surely as their name)."""

from sqlalchemy import select

from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.privacy import register_eraser, register_export_section
from crp_portal.privacy.erasure import delete_where
from crp_portal.privacy.export import value_at
from crp_portal.sso.models import SsoIdentity


def identities(user: User) -> list[dict]:
    rows = db.session.scalars(
        select(SsoIdentity).where(SsoIdentity.user_id == user.id).order_by(SsoIdentity.id)
    )
    return [
        {
            "protocol": row.protocol,
            "issuer": row.issuer,
            "subject": row.subject,
            "linked_at": value_at(row, "linked_at"),
            "last_used_at": value_at(row, "last_used_at"),
        }
        for row in rows
    ]


def erase_identities(user: User, _now) -> int:
    return delete_where(SsoIdentity, SsoIdentity.user_id == user.id)


def init_app(app) -> None:
    register_export_section(app, "campus_sign_on", identities)
    register_eraser(app, "campus sign-on links", erase_identities)
