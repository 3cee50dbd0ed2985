"""OpenID Connect sign-in (Entra ID, Okta, Google Workspace, Shibboleth's OP) with Authlib.

The portal is a confidential client using the authorization code flow with PKCE, `state`
and `nonce`, configured by discovery from the issuer's address. Authlib keeps `state`,
`nonce` and the PKCE verifier in the session and checks the ID token's signature against
the provider's keys and its `iss`, `aud`, `exp` and `nonce`; this module adds what it
leaves to the application: the discovered issuer must be the configured one, an answer
without an ID token is refused, a missing address or name is asked of `userinfo` (whose
`sub` must be the token's), and every failure becomes one of the services' errors, so a
person reads a page and the trail gets a row.
"""

from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import JoseError
from requests import RequestException

from crp_portal.links import portal_url
from crp_portal.sso.models import Protocol
from crp_portal.sso.services import Asserted, SignInRefused, SignInUnavailable

CLIENT_KEY = "crp_oidc_client"
LEEWAY_SECONDS = 60  # clock difference allowed on `exp`, `nbf` and `iat`
TRY_AGAIN = "Start again from the sign-in page. If it keeps happening, ask the program staff."


def init_app(app: Flask) -> None:
    """Register the provider when `CRP_OIDC_ISSUER` is set; discovery waits for the first
    sign-in, so the portal starts while the provider is down."""
    issuer = app.config.get("CRP_OIDC_ISSUER")
    if not issuer:
        return
    registry = OAuth(app)
    app.extensions[CLIENT_KEY] = registry.register(
        "campus",
        client_id=app.config["CRP_OIDC_CLIENT_ID"],
        client_secret=app.config["CRP_OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["CRP_OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": app.config["CRP_SSO_TIMEOUT_SECONDS"],
        },
    )


def enabled() -> bool:
    return CLIENT_KEY in current_app.extensions


def _client():
    return current_app.extensions[CLIENT_KEY]


def start():
    """The redirect to the provider's sign-in page."""
    client = _client()
    try:
        _check_issuer(client.load_server_metadata())
        return client.authorize_redirect(portal_url("sso.oidc_callback"))
    except RequestException as error:
        raise _unavailable() from error


def finish() -> Asserted:
    """The identity the provider's answer vouches for, every check passed."""
    client = _client()
    try:
        _check_issuer(client.load_server_metadata())
        token = client.authorize_access_token(leeway=LEEWAY_SECONDS)
        claims = token.get("userinfo")
        if claims is None:
            raise _refused("the answer had no ID token")
        if not claims.get("email") or not claims.get("name"):
            claims = _with_userinfo(client, token, claims)
    except MismatchingStateError as error:
        raise _refused("state missing, wrong or used before") from error
    except OAuthError as error:
        raise _refused(f"the provider answered {error.error or 'an error'}"[:80]) from error
    except JoseError as error:
        raise _refused(f"ID token rejected: {error.error} {error.description}"[:80]) from error
    except RequestException as error:
        raise _unavailable() from error
    return _asserted(claims)


def logout_url() -> str | None:
    """The provider's end-session address (RP-initiated logout), back to the sign-in page."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
    except RequestException:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return client.create_logout_url(
        post_logout_redirect_uri=portal_url("auth.sign_in"), client_id=client.client_id
    )["url"]


def _check_issuer(metadata: dict) -> None:
    """OpenID Connect Discovery: the document must name the issuer it was fetched for."""
    configured = current_app.config["CRP_OIDC_ISSUER"].rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != configured:
        raise _refused("the discovery document names another issuer")


def _with_userinfo(client, token: dict, claims: dict) -> dict:
    """The ID token's claims completed from `userinfo`, which must be about the same
    subject (OpenID Connect Core 5.3.2)."""
    if not client.load_server_metadata().get("userinfo_endpoint"):
        return claims
    extra = client.userinfo(token=token)
    if extra.get("sub") != claims.get("sub"):
        raise _refused("userinfo named another subject")
    return {**extra, **claims}


def _asserted(claims: dict) -> Asserted:
    config = current_app.config
    email = claims.get("email") if claims.get("email_verified") is True else None
    name = claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if part
    )
    student_claim = config.get("CRP_OIDC_STUDENT_ID_CLAIM")
    student_id = claims.get(student_claim) if student_claim else None
    return Asserted(
        protocol=Protocol.OIDC,
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=str(email) if email else None,
        name=str(name or ""),
        student_id=str(student_id) if student_id else None,
    )


def _refused(reason: str) -> SignInRefused:
    return SignInRefused(f"The campus sign-in could not be completed. {TRY_AGAIN}", reason)


def _unavailable() -> SignInUnavailable:
    return SignInUnavailable(
        "The campus sign-in service did not answer in time. Try again in a few minutes."
    )
