"""Linked identities as an admin sees them on an account, and unlinking one that was
linked to the wrong person (or that should sign in no more)."""

from sqlalchemy import select

from crp_portal import audit
from crp_portal.auth.models import User
from crp_portal.auth.services import end_all_sessions
from crp_portal.errors import NotFound
from crp_portal.extensions import db
from crp_portal.sso.models import SsoIdentity
from crp_portal.unit_of_work import lock

UNLINKED = "campus sign-on unlinked ({protocol})"
PROTOCOL_LABELS = {"oidc": "OpenID Connect", "saml": "SAML"}


def identities_of(user: User) -> list[SsoIdentity]:
    return list(
        db.session.scalars(
            select(SsoIdentity).where(SsoIdentity.user_id == user.id).order_by(SsoIdentity.id)
        )
    )


def unlink(user: User, identity_id: int, acting: User) -> SsoIdentity:
    """Remove the link and end the account's sessions: whoever signed in through it is
    signed out. The next sign-in through that provider links afresh, by student id or
    verified address, as a first sign-in does."""
    lock(user)
    identity = db.session.scalar(
        select(SsoIdentity).where(SsoIdentity.id == identity_id, SsoIdentity.user_id == user.id)
    )
    if identity is None:
        raise NotFound("That campus sign-in link is already gone.")
    db.session.delete(identity)
    end_all_sessions(user)
    audit.record_action(acting, user.id, UNLINKED.format(protocol=identity.protocol))
    db.session.flush()
    return identity
