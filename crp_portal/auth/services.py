"""Account rules: signing in and out, passwords, invitations, (de)activation.

Every change an admin makes to an account is written to the audit trail
(`crp_portal.members.audit`) in the same transaction as the change.
"""

import secrets
from dataclasses import dataclass

from flask import current_app, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from crp_portal.access import ROLES, STAFF, STUDENT
from crp_portal.auth.models import Invitation, User
from crp_portal.auth.passwords import hash_password, needs_rehash, verify_password
from crp_portal.auth.tokens import (
    INVITATION_SALT,
    RESET_SALT,
    LinkInvalid,
    password_fingerprint,
    sign,
    unsign,
)
from crp_portal.errors import Conflict, DomainError, NotFound
from crp_portal.extensions import db
from crp_portal.mail import queue_mail
from crp_portal.members import audit
from crp_portal.members.models import APPLICANT
from crp_portal.members.services import ensure_profile
from crp_portal.search import like_pattern
from crp_portal.timeutil import local_today, utcnow


class WrongPassword(DomainError):
    """The current password given to confirm a change is not right."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no account with that number.")
    return user


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id must carry the account's current session version."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id), options=[joinedload(User.profile)])
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account with this email and password, or None, in the same time either way.

    A stale hash (the Argon2 parameters changed) is replaced while the password is at hand.
    """
    user = find_user_by_email(email)
    if user is None or not user.active:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = utcnow()
    db.session.flush()
    return user


def end_all_sessions(user: User) -> None:
    """Sign the user out everywhere: old cookies and remember-me tokens stop working."""
    user.session_version += 1
    db.session.flush()


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    end_all_sessions(user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword("Your current password is not right.")
    set_password(user, new_password)


def reset_token_for(user: User) -> str:
    fingerprint = password_fingerprint(user.password_hash, user.session_version)
    return sign({"u": user.id, "f": fingerprint}, RESET_SALT)


def request_password_reset(email: str) -> None:
    """Email a reset link if an active account has this address; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    send_password_link(user, template="reset_password", subject="Reset your CRP Portal password")


def send_password_link(user: User, template: str, subject: str) -> None:
    minutes = current_app.config["CRP_RESET_TOKEN_MAX_AGE"] // 60
    link = url_for("auth.reset_password", token=reset_token_for(user), _external=True)
    queue_mail(user.email, subject, template, user=user, link=link, minutes=minutes)


def user_for_reset_token(token: str) -> User:
    expired = "This reset link has expired or has already been used. Ask for a new one."
    payload = unsign(
        token, RESET_SALT, current_app.config["CRP_RESET_TOKEN_MAX_AGE"], expired, expired
    )
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not user.active:
        raise LinkInvalid(expired)
    if payload.get("f") != password_fingerprint(user.password_hash, user.session_version):
        raise LinkInvalid(expired)
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    set_password(user, new_password)
    return user


def invitation_token(invitation: Invitation) -> str:
    return sign({"i": invitation.id, "n": invitation.token_nonce}, INVITATION_SALT)


def _send_invitation(invitation: Invitation) -> None:
    days = current_app.config["CRP_INVITATION_MAX_AGE"] // 86400
    link = url_for("auth.accept_invitation", token=invitation_token(invitation), _external=True)
    queue_mail(
        invitation.email,
        f"You're invited to {current_app.config['CRP_PROGRAM_NAME']}",
        "invitation",
        invitation=invitation,
        link=link,
        days=days,
    )


def invite(email: str, role: str, is_admin: bool, invited_by: User) -> Invitation:
    """Invite an address to make an account; one pending invitation per address."""
    email = normalize_email(email)
    if role not in ROLES:
        raise DomainError("Choose a role: student, advisor or staff.")
    if find_user_by_email(email) is not None:
        raise Conflict(f"{email} already has an account. Find it in the account list.")
    invitation = Invitation(
        email=email,
        role=role,
        is_admin=is_admin and role == STAFF,
        token_nonce=secrets.token_hex(8),
        invited_by_id=invited_by.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except IntegrityError as error:
        raise Conflict(
            f"{email} already has a pending invitation. Resend it from the list below."
        ) from error
    db.session.flush()
    audit.record_action(invited_by, None, audit.INVITED.format(id=invitation.id))
    _send_invitation(invitation)
    return invitation


def pending_invitation(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not invitation.is_pending:
        raise NotFound("That invitation was already accepted or withdrawn.")
    return invitation


def resend_invitation(invitation_id: int, acting: User) -> Invitation:
    """Send a fresh link; the previous one stops working."""
    invitation = pending_invitation(invitation_id)
    invitation.token_nonce = secrets.token_hex(8)
    invitation.sent_at = utcnow()
    db.session.flush()
    audit.record_action(acting, None, audit.REINVITED.format(id=invitation.id))
    _send_invitation(invitation)
    return invitation


def revoke_invitation(invitation_id: int, acting: User) -> Invitation:
    invitation = pending_invitation(invitation_id)
    invitation.revoked_at = utcnow()
    db.session.flush()
    audit.record_action(acting, None, audit.UNINVITED.format(id=invitation.id))
    return invitation


def list_pending_invitations() -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
            .order_by(Invitation.sent_at.desc())
        )
    )


def invitation_for_token(token: str) -> Invitation:
    message = (
        "This invitation link has expired or has already been used. Ask the program for a new one."
    )
    payload = unsign(
        token, INVITATION_SALT, current_app.config["CRP_INVITATION_MAX_AGE"], message, message
    )
    invitation_id = payload.get("i")
    invitation = (
        db.session.get(Invitation, invitation_id) if isinstance(invitation_id, int) else None
    )
    if (
        invitation is None
        or not invitation.is_pending
        or payload.get("n") != invitation.token_nonce
    ):
        raise LinkInvalid(message)
    return invitation


def accept_invitation(token: str, name: str, password: str) -> User:
    """Turn a pending invitation into an account with the invitee's name and password.

    An invited student starts as an applicant: joining the program goes through the
    intake application (a roster import brings in existing members as active).
    """
    invitation = invitation_for_token(token)
    if find_user_by_email(invitation.email) is not None:
        raise LinkInvalid(
            "This invitation can no longer be used. Sign in, or ask the program for a new one."
        )
    user = create_user(
        invitation.email, name, invitation.role, password=password, member_status=APPLICANT
    )
    user.is_admin = invitation.is_admin
    invitation.accepted_at = utcnow()
    invitation.user_id = user.id
    db.session.flush()
    return user


def create_user(
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    student_id: str | None = None,
    member_status: str = "active",
) -> User:
    """Create an account (students get a member profile); the email must be free."""
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:
        raise Conflict(f"{user.email} already has an account.") from error
    if role == STUDENT:
        ensure_profile(user, student_id=student_id, status=member_status, today=local_today())
    return user


def _active_admin_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.is_admin, User.active)
    )


def _guard_last_admin(user: User) -> None:
    if user.is_admin and user.active and _active_admin_count() <= 1:
        raise Conflict("This is the only active admin account. Make another admin first.")


def deactivate(user: User, acting: User) -> None:
    """Stop an account signing in; its records stay."""
    if user.id == acting.id:
        raise Conflict("You cannot deactivate your own account.")
    if not user.active:
        return
    _guard_last_admin(user)
    user.active = False
    user.deactivated_at = utcnow()
    end_all_sessions(user)
    audit.record_action(acting, user.id, audit.DEACTIVATED)


def reactivate(user: User, acting: User) -> None:
    """Let a deactivated account sign in again; an erased one stays erased."""
    if user.active:
        return
    if user.erased_at is not None:
        raise Conflict("This person was erased on request; their account cannot come back.")
    user.active = True
    user.deactivated_at = None
    db.session.flush()
    audit.record_action(acting, user.id, audit.REACTIVATED)


def update_account(user: User, name: str, role: str, is_admin: bool, acting: User) -> User:
    """Rename an account or change its role or admin rights; a new role or admin status
    signs the person out everywhere. Each change is its own audit row."""
    if role not in ROLES:
        raise DomainError("Choose a role: student, advisor or staff.")
    is_admin = is_admin and role == STAFF
    if user.is_admin and not is_admin:
        if user.id == acting.id:
            raise Conflict("You cannot remove your own admin rights.")
        _guard_last_admin(user)
    changes = _account_changes(user, name.strip(), role, is_admin)
    user.name = name.strip()
    user.role = role
    user.is_admin = is_admin
    if role == STUDENT:
        ensure_profile(user, today=local_today())
    if set(changes) - {audit.RENAMED}:
        end_all_sessions(user)
    db.session.flush()
    for change in changes:
        audit.record_action(acting, user.id, change)
    return user


def _account_changes(user: User, name: str, role: str, is_admin: bool) -> list[str]:
    changes = []
    if user.name != name:
        changes.append(audit.RENAMED)
    if user.role != role:
        changes.append(audit.ROLE_CHANGED.format(old=user.role, new=role))
    if user.is_admin != is_admin:
        changes.append(audit.ADMIN_GIVEN if is_admin else audit.ADMIN_REMOVED)
    return changes


def record_roster_import(acting: User, emails: list[str]) -> int:
    """One audit row per account a roster import created (call before committing it)."""
    normalized = [normalize_email(email) for email in emails]
    created = db.session.scalars(select(User.id).where(User.email.in_(normalized)))
    return audit.record_actions(acting, created, audit.IMPORTED)


@dataclass(frozen=True)
class AccountFilter:
    query: str = ""
    role: str = ""
    status: str = ""


def search_accounts(filters: AccountFilter, page: int, per_page: int = 25):
    statement = select(User).order_by(User.name, User.id)
    if filters.query:
        pattern = like_pattern(filters.query)
        statement = statement.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    if filters.role in ROLES:
        statement = statement.where(User.role == filters.role)
    if filters.role == "admin":
        statement = statement.where(User.is_admin)
    if filters.status == "active":
        statement = statement.where(User.active)
    elif filters.status == "deactivated":
        statement = statement.where(~User.active)
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)
