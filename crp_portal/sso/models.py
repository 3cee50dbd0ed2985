"""Campus sign-on identities: which account an identity provider's subject signs in as."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.auth.models import User


class Protocol(StrEnum):
    OIDC = "oidc"
    SAML = "saml"


class SsoIdentity(Model):
    """One identity provider's stable name for one person, linked to one account.

    `subject` is what the provider promises never to reuse (OIDC's `sub`, a SAML persistent
    NameID or pairwise id), scoped by `issuer`. An account has at most one identity per
    provider, and a provider's subject belongs to at most one account. The email the link
    was made by is not kept: after the first sign-in only the subject counts."""

    __tablename__ = "sso_identities"
    __table_args__ = (
        UniqueConstraint("protocol", "issuer", "subject", name="uq_sso_identities_subject"),
        UniqueConstraint("user_id", "protocol", "issuer", name="uq_sso_identities_account"),
        CheckConstraint(values_check("protocol", Protocol), name="protocol_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    protocol: Mapped[str] = mapped_column(String(8))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped["User"] = relationship()


class SamlAssertionSeen(Model):
    """A SAML assertion that has signed someone in, kept until it expires: an assertion
    signs in once, and a copy replayed from a browser's history or a proxy's log is
    refused by this primary key (even when both copies arrive at the same moment)."""

    __tablename__ = "saml_assertions_seen"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the assertion's ID
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
