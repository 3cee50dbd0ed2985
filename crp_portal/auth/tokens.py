"""Signed, expiring links for password reset and invitations."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from crp_portal.errors import DomainError

RESET_SALT = "crp-password-reset"
INVITATION_SALT = "crp-invitation"


class LinkInvalid(DomainError):
    """A link that expired, was already used or was tampered with."""

    status_code = 400
    title = "This link no longer works"


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign(payload: dict, salt: str) -> str:
    return _serializer(salt).dumps(payload)


def unsign(token: str, salt: str, max_age: int, expired_message: str, bad_message: str) -> dict:
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise LinkInvalid(expired_message) from error
    except BadSignature as error:
        raise LinkInvalid(bad_message) from error
    if not isinstance(payload, dict):
        raise LinkInvalid(bad_message)
    return payload


def password_fingerprint(password_hash: str | None, session_version: int) -> str:
    """Changes whenever the password does, which makes a reset link single-use."""
    material = f"{password_hash or ''}|{session_version}".encode()
    return hashlib.sha256(material).hexdigest()[:20]
