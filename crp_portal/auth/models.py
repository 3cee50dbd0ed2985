"""Accounts and invitations."""

import functools
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

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

from crp_portal.access import ADMIN, GRANTED_SCOPES, ROLE_LABELS, Role
from crp_portal.database import values_check
from crp_portal.extensions import Model
from crp_portal.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from crp_portal.members.models import MemberProfile

ROLE_CHECK = values_check("role", Role)


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(f"NOT is_admin OR role = '{Role.STAFF}'", name="admin_is_staff"),
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

    profile: Mapped["MemberProfile | None"] = relationship(
        back_populates="user", uselist=False, foreign_keys="MemberProfile.user_id"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_admin_staff(self) -> bool:
        return self.role == Role.STAFF and self.is_admin

    @property
    def scopes(self) -> frozenset[str]:
        """The staff jobs granted to this account (see crp_portal.access)."""
        return _granted_scopes(self.role, self.staff_scopes, self.is_admin)

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
        return (User.role == Role.STAFF) & User.is_admin
    if scope not in GRANTED_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    padded = literal(" ") + User.staff_scopes + literal(" ")
    return (User.role == Role.STAFF) & padded.contains(f" {scope} ", autoescape=True)


class Invitation(Model):
    """An admin's invitation; `token_nonce` changes on resend so older links stop working."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(f"NOT is_admin OR role = '{Role.STAFF}'", name="admin_is_staff"),
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

    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def role_with_article(self) -> str:
        """How the invitation names its role in a sentence: "an advisor", "a student"."""
        return f"{'an' if self.role == Role.ADVISOR else 'a'} {self.role}"


class AccountMailKind(StrEnum):
    RESET_LINK = "reset_link"
    ATTACK_NOTICE = "attack_notice"


class AccountMailRequest(Model):
    """Mail asked for by address, before anyone knows whether an account has it.

    A reset request (or an attack notice) writes only this row, so the request takes the
    same time whether or not the address has an account; the outbox worker looks the
    address up and writes the real message, or nothing, and deletes the row within
    seconds. The address of a stranger is kept no longer than that."""

    __tablename__ = "account_mail_requests"
    __table_args__ = (CheckConstraint(values_check("kind", AccountMailKind), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@functools.lru_cache(maxsize=256)
def _granted_scopes(role: str, staff_scopes: str | None, is_admin: bool) -> frozenset[str]:
    """Worked out once per combination: a page asks `access.may` a dozen times."""
    if role != Role.STAFF:
        return frozenset()
    granted = {scope for scope in (staff_scopes or "").split() if scope in GRANTED_SCOPES}
    return frozenset(granted | ({ADMIN} if is_admin else set()))
