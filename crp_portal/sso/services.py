"""Who a campus sign-on identity is, in the portal.

The first time an identity provider vouches for someone, the identity is linked to an
existing account by student id (from the roster) or by an email address the provider says
is verified, or makes the account a pending invitation to that address was waiting for
(with the role and staff areas the invitation gave). From then on only the provider's stable subject counts:
addresses change and get reassigned to other people, subjects do not. An identity that
matches no account becomes an applicant's account where the program lets students apply
by signing in, and is otherwise turned away with a page saying whom to ask.

Roles and staff areas never come from the provider: a new account is a student applicant,
and a linked account keeps what the program gave it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crp_portal import audit
from crp_portal.access import STUDENT
from crp_portal.auth.models import User
from crp_portal.auth.services import (
    accept_invitation_by_sign_on,
    create_user,
    find_user_by_email,
)
from crp_portal.errors import Conflict, DomainError, Forbidden
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.sso.models import Protocol, SsoIdentity

LINKED = "campus sign-on linked ({protocol})"
APPLIED = "account created by campus sign-on ({protocol})"
INVITED = "invitation accepted by campus sign-on ({protocol})"
REFUSED = "campus sign-on refused ({protocol}): {reason}"

STUDENT_AFFILIATIONS = frozenset({"student", "member"})


@dataclass(frozen=True)
class Asserted:
    """What an identity provider vouched for, after its signature and claims were checked.

    `email` is set only where the provider says the address is verified."""

    protocol: Protocol
    issuer: str
    subject: str
    email: str | None = None
    name: str = ""
    student_id: str | None = None
    affiliations: frozenset[str] = field(default_factory=frozenset)


class SignInRefused(Forbidden):
    """A sign-in that must not go on: `reason` goes to the audit trail (never a name or an
    address, nor anything the provider sent), `message` to the person."""

    title = "Campus sign-in did not work"

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class SignInUnavailable(DomainError):
    """The identity provider did not answer, or not in time."""

    status_code = 503
    title = "Campus sign-in is not answering"


class NotAdded(Forbidden):
    """The provider knows this person and the program does not."""

    title = "The program has not added you yet"


NOT_ACTIVE = "This account is not active. Ask the program staff if you think it should be."
OTHER_IDENTITY = (
    "Your portal account is already linked to a different campus identity. Ask the program "
    "staff to check which campus account belongs to you."
)


def sign_in(asserted: Asserted, now: datetime, students_may_apply: bool) -> User:
    """The account this identity signs in as, linking or creating it the first time.

    Raises SignInRefused (an inactive account, an account linked to someone else's
    identity) or NotAdded (nobody the program knows, and no applying by signing in)."""
    identity = _identity(asserted)
    if identity is not None:
        user = identity.user
        _check_active(user, asserted)
        identity.last_used_at = now
    else:
        user = _first_sign_in(asserted, now, students_may_apply)
    user.last_sign_in_at = now
    db.session.flush()
    return user


def record_refusal(protocol: str, reason: str, user_id: int | None = None) -> None:
    """A refused campus sign-in, on the trail: who tried is often unknown, and the reason
    is a short phrase of ours, never what the provider sent."""
    audit.record_security_event(user_id, REFUSED.format(protocol=protocol, reason=reason))


def _identity(asserted: Asserted) -> SsoIdentity | None:
    return db.session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.protocol == asserted.protocol,
            SsoIdentity.issuer == asserted.issuer,
            SsoIdentity.subject == asserted.subject,
        )
    )


def _check_active(user: User, asserted: Asserted) -> None:
    if not user.active:
        raise SignInRefused(NOT_ACTIVE, f"account {user.id} is not active")


def _first_sign_in(asserted: Asserted, now: datetime, students_may_apply: bool) -> User:
    """Link the identity to the account it names, or make one. Two first sign-ins of one
    person at once (two tabs, a double click) end on the same account: the second one's
    insert waits for the first's and fails on a unique key, and it signs in through the
    link the first made (`_made_meanwhile`)."""
    user, action = _known_account(asserted), LINKED
    if user is None and asserted.email:
        name = asserted.name or "New member"
        user, action = accept_invitation_by_sign_on(asserted.email, name), INVITED
        if user is None:  # no invitation, or one another sign-in just accepted
            user, action = _known_account(asserted), LINKED
    if user is None:
        if not (students_may_apply and _may_apply(asserted)):
            raise NotAdded(
                "You signed in with your campus account, but the program has not added you "
                f"to this portal. To join, or if you think you are already a member, contact "
                f"{current_app.config['CRP_SSO_CONTACT']}."
            )
        try:
            user, action = _new_applicant(asserted), APPLIED
        except Conflict:
            return _made_meanwhile(asserted)
    else:
        _check_active(user, asserted)
    if not _link(user, asserted, now):
        return _made_meanwhile(asserted, user)
    audit.record_action(None, user.id, action.format(protocol=asserted.protocol))
    return user


def _known_account(asserted: Asserted) -> User | None:
    """By student id first (the registrar's number does not change), then by the verified
    address."""
    if asserted.student_id:
        user = db.session.scalar(
            select(User)
            .join(MemberProfile, MemberProfile.user_id == User.id)
            .where(MemberProfile.student_id == asserted.student_id)
        )
        if user is not None:
            return user
    if asserted.email:
        return find_user_by_email(asserted.email)
    return None


def _may_apply(asserted: Asserted) -> bool:
    """Someone the provider says is a student (or says nothing about), with an address
    the program can write to."""
    if asserted.email is None:
        return False
    return not asserted.affiliations or bool(asserted.affiliations & STUDENT_AFFILIATIONS)


def _new_applicant(asserted: Asserted) -> User:
    name = asserted.name.strip() or "New student"
    return create_user(
        asserted.email or "",
        name[:120],
        STUDENT,
        student_id=asserted.student_id,
        member_status=MemberStatus.APPLICANT,
    )


def _link(user: User, asserted: Asserted, now: datetime) -> bool:
    """Link the identity to `user`; False where a unique key refused it (the subject
    linked meanwhile by another request, or the account linked to another identity from
    this provider)."""
    identity = SsoIdentity(
        user_id=user.id,
        protocol=asserted.protocol,
        issuer=asserted.issuer,
        subject=asserted.subject,
        linked_at=now,
        last_used_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(identity)
    except IntegrityError:
        return False
    return True


def _made_meanwhile(asserted: Asserted, user: User | None = None) -> User:
    """The account a concurrent first sign-in of this identity linked (committed while
    this one waited on the unique key it then broke); otherwise `user` is linked to a
    different identity from this provider."""
    identity = _identity(asserted)
    if identity is not None:
        return identity.user
    reason = f"account {user.id} has another identity" if user else "a sign-in raced this one"
    raise SignInRefused(OTHER_IDENTITY, reason)
