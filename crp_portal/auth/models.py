"""Accounts and invitations."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    literal,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crp_portal.access import ADMIN, GRANTED_SCOPES, ROLE_LABELS, ROLES, STAFF
from crp_portal.extensions import db
from crp_portal.timeutil import UTCDateTime, utcnow

ROLE_CHECK = "role IN (" + ", ".join(f"'{role}'" for role in ROLES) + ")"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(f"NOT is_admin OR role = '{STAFF}'", name="admin_is_staff"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    staff_scopes: Mapped[str] = mapped_column(String(120), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    profile = relationship(
        "MemberProfile", back_populates="user", uselist=False, foreign_keys="MemberProfile.user_id"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin_staff(self) -> bool:
        return self.role == STAFF and self.is_admin

    @property
    def scopes(self) -> frozenset[str]:
        """The staff jobs granted to this account (see crp_portal.access)."""
        if self.role != STAFF:
            return frozenset()
        granted = {scope for scope in (self.staff_scopes or "").split() if scope in GRANTED_SCOPES}
        return frozenset(granted | ({ADMIN} if self.is_admin else set()))

    @scopes.setter
    def scopes(self, scopes) -> None:
        self.staff_scopes = " ".join(scope for scope in GRANTED_SCOPES if scope in scopes)
        self.is_admin = ADMIN in scopes

    @property
    def role_label(self) -> str:
        label = ROLE_LABELS[self.role]
        return f"{label} (admin)" if self.is_admin_staff else label

    @property
    def display_name(self) -> str:
        preferred = self.profile.preferred_name if self.profile is not None else None
        return preferred or self.name

    def get_id(self) -> str:
        """Ties the login cookie to the session version: bumping it signs out everywhere."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


def holding_scope(scope: str):
    """A WHERE clause for staff accounts holding `scope` (see User.scopes)."""
    if scope == ADMIN:
        return (User.role == STAFF) & User.is_admin
    if scope not in GRANTED_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    padded = literal(" ") + User.staff_scopes + literal(" ")
    return (User.role == STAFF) & padded.contains(f" {scope} ", autoescape=True)


class Invitation(db.Model):
    """An admin's invitation; `token_nonce` changes on resend so older links stop working."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(f"NOT is_admin OR role = '{STAFF}'", name="admin_is_staff"),
        Index(
            "uq_invitations_pending_email",
            "email",
            unique=True,
            sqlite_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    staff_scopes: Mapped[str] = mapped_column(String(120), default="", server_default="")
    token_nonce: Mapped[str] = mapped_column(String(32))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    invited_by = relationship("User", foreign_keys=[invited_by_id])

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


RESET_LINK = "reset_link"
ATTACK_NOTICE = "attack_notice"
ACCOUNT_MAIL_KINDS = (RESET_LINK, ATTACK_NOTICE)


class AccountMailRequest(db.Model):
    """Mail asked for by address, before anyone knows whether an account has it.

    A reset request (or an attack notice) writes only this row, so the request takes the
    same time whether or not the address has an account; the outbox worker looks the
    address up and writes the real message, or nothing, and deletes the row within
    seconds. The address of a stranger is kept no longer than that."""

    __tablename__ = "account_mail_requests"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in ACCOUNT_MAIL_KINDS) + ")",
            name="kind_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
