"""Account rules: signing in and out, passwords, invitations, (de)activation.

Every change an admin makes to an account is written to the audit trail
(`crp_portal.audit`) in the same transaction as the change.

Account changes lock rows before they decide (`SELECT … FOR NO KEY UPDATE`;
on SQLite the first lock takes the database's write lock, `crp_portal.database`), always in one order: the active
admins' user rows first (by id), when the change could leave the portal without an
admin, then the account's own row. After the wait they check again, so two admins
deactivating one account at once write one audit row, the other gets a 409, and two
admins deactivating each other cannot leave no admin at all.
"""

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from limits import parse as parse_limit
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from crp_portal import audit, security
from crp_portal.access import ADMIN, GRANTED_SCOPES, ROLES, STAFF, STUDENT
from crp_portal.auth.models import AccountMailKind, AccountMailRequest, Invitation, User
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
from crp_portal.events.calendars import ensure_feed
from crp_portal.extensions import db, limiter
from crp_portal.links import portal_url
from crp_portal.mail import queue_mail
from crp_portal.members.models import MemberStatus
from crp_portal.members.services import ensure_profile
from crp_portal.outbox.worker import announce
from crp_portal.search import like_pattern, paginate
from crp_portal.timeutil import local_today, utcnow
from crp_portal.unit_of_work import lock

BREAK_GLASS_SIGN_IN = "signed in with a password (break-glass account)"


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


def remembered_id(user: User) -> str:
    """The id a "keep me signed in" cookie carries: the session id plus when it was issued,
    so the server, not only the browser, ends it after REMEMBER_COOKIE_DURATION."""
    return f"{user.get_id()}:{security.now()}"


@functools.cache
def _session_user_statement() -> Select:
    """Built once, on first use (the mappers must be complete): every signed-in request
    runs it. The profile comes along because every page's navigation and "Signed in as"
    read it."""
    return select(User).options(joinedload(User.profile)).where(User.id == bindparam("user_id"))


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id must carry the account's current session version, and a
    remembered id must be younger than REMEMBER_COOKIE_DURATION."""
    user_id, version, *issued = session_id.split(":")
    if not (user_id.isdigit() and version.isdigit()) or len(issued) > 1:
        return None
    if issued:
        lifetime = current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
        if not issued[0].isdigit() or security.now() - int(issued[0]) > lifetime:
            return None
    user = db.session.scalars(_session_user_statement(), {"user_id": int(user_id)}).first()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active account with this email and password, or None, in the same time either way.

    A stale hash (the Argon2 parameters changed) is replaced while the password is at hand.
    """
    user = find_user_by_email(email)
    if user is None or not user.active or not may_use_password(user):
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if user.password_hash is not None and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = utcnow()
    if is_break_glass(user):
        audit.record_action(user, user.id, BREAK_GLASS_SIGN_IN)
    db.session.flush()
    return user


def password_sign_in_on() -> bool:
    return bool(current_app.config["CRP_PASSWORD_SIGN_IN"])


def is_break_glass(user: User) -> bool:
    """An admin account named in `CRP_BREAK_GLASS_ADMINS`: the way in when campus sign-on
    is down, so each of its password sign-ins goes on the trail."""
    named = {normalize_email(email) for email in current_app.config["CRP_BREAK_GLASS_ADMINS"]}
    return user.is_admin_staff and user.email in named


def may_use_password(user: User) -> bool:
    """Everyone, unless the program turned passwords off for all but break-glass admins."""
    return password_sign_in_on() or is_break_glass(user)


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


ATTACK_NOTICE_LIMIT = parse_limit("1 per day")


def request_password_reset(email: str) -> None:
    """Ask for a reset link to this address; the worker sends it if an active account has
    the address. The request itself does the same work either way (see
    `AccountMailRequest`), so neither its answer nor its timing tells."""
    request_account_mail(email, AccountMailKind.RESET_LINK)


def request_account_mail(email: str, kind: AccountMailKind) -> None:
    db.session.add(AccountMailRequest(email=normalize_email(email)[:254], kind=kind))
    announce()


def first_attack_notice_today(email: str) -> bool:
    """True once a day per address (counted in the rate-limit store, shared by hosts)."""
    return limiter.limiter.hit(ATTACK_NOTICE_LIMIT, "attack-notice", email)


def send_requested_account_mail(batch_size: int = 100) -> int:
    """The outbox worker's part: turn requests by address into messages for the active
    accounts that have those addresses, and forget the requests. Locks the request rows
    (`SKIP LOCKED`, so two workers never take the same one); returns how many it handled."""
    handled = 0
    while True:
        statement = select(AccountMailRequest).order_by(AccountMailRequest.id).limit(batch_size)
        if db.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        requests = db.session.scalars(statement).all()
        for request in requests:
            user = find_user_by_email(request.email)
            if user is not None and user.active and may_use_password(user):
                _send_account_mail(user, request.kind)
            db.session.delete(request)
        db.session.commit()
        handled += len(requests)
        if len(requests) < batch_size:
            return handled


def _send_account_mail(user: User, kind: str) -> None:
    if kind == AccountMailKind.RESET_LINK:
        public_name = current_app.config["CRP_PUBLIC_NAME"]
        send_password_link(
            user, template="reset_password", subject=f"Reset your {public_name} password"
        )
    else:
        queue_mail(
            user.email,
            "Wrong passwords were typed for your account",
            "attack_notice",
            user=user,
            link=portal_url("auth.request_reset"),
        )


def send_password_link(user: User, template: str, subject: str) -> None:
    minutes = current_app.config["CRP_RESET_TOKEN_MAX_AGE"] // 60
    link = portal_url("auth.reset_password", token=reset_token_for(user))
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
    link = portal_url("auth.accept_invitation", token=invitation_token(invitation))
    queue_mail(
        invitation.email,
        f"You're invited to {current_app.config['CRP_PUBLIC_NAME']}",
        "invitation",
        invitation=invitation,
        link=link,
        days=days,
    )


def invite(
    email: str, role: str, is_admin: bool, invited_by: User, scopes: Iterable[str] = ()
) -> Invitation:
    """Invite an address to make an account; one pending invitation per address. A staff
    account starts with `scopes` (its admin rights are `is_admin`)."""
    email = normalize_email(email)
    if role not in ROLES:
        raise DomainError("Choose a role: student, advisor or staff.")
    if find_user_by_email(email) is not None:
        raise Conflict(f"{email} already has an account. Find it in the account list.")
    invitation = Invitation(
        email=email,
        role=role,
        is_admin=is_admin and role == STAFF,
        staff_scopes=" ".join(scope for scope in GRANTED_SCOPES if scope in scopes)
        if role == STAFF
        else "",
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
    audit.record_invitation(invited_by, invitation, audit.INVITED)
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
    audit.record_invitation(acting, invitation, audit.REINVITED)
    _send_invitation(invitation)
    return invitation


def revoke_invitation(invitation_id: int, acting: User) -> Invitation:
    invitation = pending_invitation(invitation_id)
    invitation.revoked_at = utcnow()
    db.session.flush()
    audit.record_invitation(acting, invitation, audit.UNINVITED)
    return invitation


INVITATIONS_PAGE_SIZE = 50


def list_pending_invitations(page: int = 1, per_page: int = INVITATIONS_PAGE_SIZE):
    """One page of the invitations neither accepted nor withdrawn, newest first."""
    statement = (
        select(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .order_by(Invitation.sent_at.desc(), Invitation.id.desc())
    )
    return paginate(statement, page, per_page)


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
    return _account_from(invitation, name, password)


def accept_invitation_by_sign_on(email: str, name: str) -> User | None:
    """The account a pending invitation to this address becomes when its invitee signs in
    through the campus provider (which vouched for the address) instead of following the
    emailed link; None without such an invitation. The invitation's row is locked, so of
    two sign-ins at once one makes the account and the other finds it."""
    max_age = timedelta(seconds=current_app.config["CRP_INVITATION_MAX_AGE"])
    invitation = db.session.scalar(
        select(Invitation)
        .where(
            Invitation.email == normalize_email(email),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.sent_at >= utcnow() - max_age,
        )
        .with_for_update()
    )
    if invitation is None or find_user_by_email(invitation.email) is not None:
        return None
    return _account_from(invitation, name, None)


def _account_from(invitation: Invitation, name: str, password: str | None) -> User:
    user = create_user(
        invitation.email,
        name,
        invitation.role,
        password=password,
        member_status=MemberStatus.APPLICANT,
    )
    user.is_admin = invitation.is_admin
    if invitation.role == STAFF:
        user.staff_scopes = invitation.staff_scopes
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
    member_status: str = MemberStatus.ACTIVE,
    scopes: Iterable[str] = (),
) -> User:
    """Create an account (students get a member profile); the email must be free. Staff
    get `scopes` (none unless given: an admin grants what the job needs)."""
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    if role == STAFF:
        user.scopes = frozenset(scopes)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:
        raise Conflict(f"{user.email} already has an account.") from error
    if role == STUDENT:
        ensure_profile(user, student_id=student_id, status=member_status, today=local_today())
    ensure_feed(user)
    return user


def _locked_admin_ids(acting: User) -> set[int]:
    """The active admins' ids, their user rows locked in id order until the transaction
    ends: every change that could take the last admin away takes these first.

    PostgreSQL re-checks the condition on rows it waited for, so an admin deactivated
    a moment ago is not counted. An acting admin who is not among them lost their rights
    while this request waited: nothing they asked is done.
    """
    admin_ids = set(
        db.session.scalars(
            select(User.id)
            .where(User.is_admin, User.active)
            .order_by(User.id)
            .with_for_update(key_share=True)
        )
    )
    if acting.id not in admin_ids:
        raise Conflict(
            "Your admin rights or your account changed a moment ago, so nothing was saved. "
            "Sign in again to see what you may do."
        )
    return admin_ids


def _lock_account(user: User) -> User:
    """The account's own row locked and re-read. `OF users`: the signed-in admin's own
    account was loaded with its member profile outer-joined, and PostgreSQL refuses to
    lock the nullable side of an outer join."""
    return lock(user, key_share=True, of=User)


def _guard_last_admin(user: User, admin_ids: set[int]) -> None:
    if user.is_admin and user.active and admin_ids <= {user.id}:
        raise Conflict("This is the only active admin account. Make another admin first.")


def deactivate(user: User, acting: User) -> None:
    """Stop an account signing in; its records stay.

    Locks the active admins' user rows, then the account's row, and checks after the
    wait that it is still active (one deactivated a moment ago is a Conflict) and that
    an admin remains.
    """
    if user.id == acting.id:
        raise Conflict("You cannot deactivate your own account.")
    admin_ids = _locked_admin_ids(acting)
    _lock_account(user)
    if not user.active:
        raise Conflict(f"{user.name}'s account is already deactivated.")
    _guard_last_admin(user, admin_ids)
    user.active = False
    user.deactivated_at = utcnow()
    end_all_sessions(user)
    audit.record_action(acting, user.id, audit.DEACTIVATED)


def reactivate(user: User, acting: User) -> None:
    """Let a deactivated account sign in again; an erased one stays erased.

    Locks the account's row and checks after the wait that it is still deactivated;
    one reactivated a moment ago is a Conflict.
    """
    _lock_account(user)
    if user.active:
        raise Conflict(f"{user.name}'s account is already active.")
    if user.erased_at is not None:
        raise Conflict("This person was erased on request; their account cannot come back.")
    user.active = True
    user.deactivated_at = None
    db.session.flush()
    audit.record_action(acting, user.id, audit.REACTIVATED)


def update_account(
    user: User,
    name: str,
    role: str,
    is_admin: bool,
    acting: User,
    scopes: Iterable[str] | None = None,
) -> User:
    """Rename an account or change its role, staff areas (`scopes`; None keeps them) or
    admin rights; a new role or admin status signs the person out everywhere. Each change
    is its own audit row.

    Locks the active admins' user rows when the result is not an admin, then the
    account's row, and compares with what it reads after the wait, so two edits at once
    are audited as the changes each made.
    """
    if role not in ROLES:
        raise DomainError("Choose a role: student, advisor or staff.")
    is_admin = is_admin and role == STAFF
    admin_ids = _locked_admin_ids(acting) if not is_admin else set()
    _lock_account(user)
    if user.is_admin and not is_admin:
        if user.id == acting.id:
            raise Conflict("You cannot remove your own admin rights.")
        _guard_last_admin(user, admin_ids)
    granted = user.scopes - {ADMIN} if scopes is None else frozenset(scopes) & set(GRANTED_SCOPES)
    if role != STAFF:
        granted = frozenset()
    changes = _account_changes(user, name.strip(), role, is_admin)
    signs_out = bool(set(changes) - {audit.RENAMED})  # scopes are read on every request
    if granted != user.scopes - {ADMIN}:
        changes.append(audit.SCOPES_CHANGED.format(scopes=", ".join(sorted(granted)) or "none"))
    user.name = name.strip()
    user.role = role
    user.scopes = granted | ({ADMIN} if is_admin else set())
    if role == STUDENT:
        ensure_profile(user, today=local_today())
    ensure_feed(user)
    if signs_out:
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
    if filters.role == ADMIN:
        statement = statement.where(User.is_admin)
    if filters.status == "active":
        statement = statement.where(User.active)
    elif filters.status == "deactivated":
        statement = statement.where(~User.active)
    return paginate(statement, page, per_page)
