"""SAML 2.0 sign-in (InCommon and Shibboleth IdPs, ADFS, Entra ID's SAML apps) with pysaml2.

The portal is a service provider for one identity provider, whose metadata comes from
`CRP_SAML_IDP_METADATA_URL` or `_FILE` and is read again hourly. `saml_sp` does the
protocol with pysaml2 and its checks; this module keeps what the portal adds around it:
the AuthnRequests this browser has outstanding (in the session: a Response must answer
one of them), each assertion used once (`SamlAssertionSeen`), the attributes read as an
`Asserted`, the NameID kept for single logout, and every failure turned into one of the
services' errors, so a person reads a page and the trail gets a row.
"""

import contextlib
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from flask import Flask, after_this_request, current_app, request, session, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from crp_portal.errors import Forbidden
from crp_portal.extensions import db
from crp_portal.links import portal_url
from crp_portal.sso.models import Protocol, SamlAssertionSeen
from crp_portal.sso.services import Asserted, SignInRefused, SignInUnavailable

if TYPE_CHECKING:
    from crp_portal.sso import saml_sp

OUTSTANDING = "saml_requests"  # the AuthnRequest IDs this browser sent, newest last
REQUESTS_COOKIE = "crp_saml_requests"  # the same, for an IdP on another site
REQUESTS_COOKIE_SECONDS = 15 * 60  # a sign-in at the IdP takes minutes, not hours
KEEP_OUTSTANDING = 5  # sign-ins started in other tabs and not finished
LOGOUT_OUTSTANDING = "saml_logout_request"
METADATA_KEY = "crp_saml_idp_metadata"
METADATA_MAX_AGE_SECONDS = 3600  # a new IdP key reaches the portal within the hour
METADATA_RETRY_SECONDS = 300  # after a failed refresh, the copy in hand serves this long
MAX_ID_LENGTH = 255  # the columns that keep assertion IDs and subjects

# The usual attributes by friendly name and by the OID InCommon IdPs send them under.
OIDS = {
    "eduPersonPrincipalName": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
    "eduPersonAffiliation": "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
    "eduPersonTargetedID": "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
    "mail": "urn:oid:0.9.2342.19200300.100.1.3",
    "displayName": "urn:oid:2.16.840.1.113730.3.1.241",
    "givenName": "urn:oid:2.5.4.42",
    "sn": "urn:oid:2.5.4.4",
    "employeeNumber": "urn:oid:2.16.840.1.113730.3.1.3",
}
FRIENDLY_NAMES = {oid: name for name, oid in OIDS.items()}
REQUESTED = (
    "mail",
    "displayName",
    "givenName",
    "sn",
    "eduPersonAffiliation",
    "eduPersonPrincipalName",
)
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRY_AGAIN = "Start again from the sign-in page. If it keeps happening, ask the program staff."


class SignOutRefused(Forbidden):
    title = "Campus sign-out did not work"


def init_app(app: Flask) -> None:
    """Refuse to start with settings SAML cannot work with. The IdP's metadata is read
    at the first sign-in, so the portal starts while the IdP is down."""
    if not _configured(app.config):
        return
    problems = _setting_problems(app.config)
    if problems:
        raise RuntimeError("SAML sign-in cannot start: " + "; ".join(problems))


def enabled() -> bool:
    return _configured(current_app.config)


def start() -> str:
    """The IdP address to send the browser to, with an AuthnRequest this browser keeps."""
    sp, provider, settings, idp = _provider()
    request_id, url = sp.authn_request(provider, settings, idp)
    kept = [*_outstanding(), request_id][-KEEP_OUTSTANDING:]
    session[OUTSTANDING] = kept
    after_this_request(lambda response: _keep_outstanding(response, kept))
    return url


def _outstanding() -> list[str]:
    """The AuthnRequests this browser sent and has not used: those its session keeps, and
    those in the cookie kept for an IdP on another site (see `_keep_outstanding`)."""
    ids = list(session.get(OUTSTANDING, []))
    signed = request.cookies.get(REQUESTS_COOKIE)
    if signed:
        with contextlib.suppress(BadData):  # tampered or too old: it answers nothing
            ids += _requests_serializer().loads(signed, max_age=REQUESTS_COOKIE_SECONDS)
    return list(dict.fromkeys(str(request_id) for request_id in ids))


def _keep_outstanding(response, ids: list[str]):
    """The request IDs again, in a signed cookie sent only to the assertion consumer
    service. The session cookie is SameSite=Lax, so a browser leaves it out of the POST
    an IdP on another site (a Microsoft or Okta domain) sends back; this cookie is
    SameSite=None where the portal is served over HTTPS, so that POST carries it. It holds
    nothing but unguessable request IDs, which only the IdP's answer to this browser's
    own sign-in can match."""
    secure = current_app.config["CRP_BASE_URL"].startswith("https://")
    response.set_cookie(
        REQUESTS_COOKIE,
        _requests_serializer().dumps(ids),
        max_age=REQUESTS_COOKIE_SECONDS,
        path=url_for("sso.saml_acs"),
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )
    return response


def _forget_outstanding(response):
    response.delete_cookie(REQUESTS_COOKIE, path=url_for("sso.saml_acs"))
    return response


def _requests_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt="crp-saml-outstanding-requests"
    )


def finish(form, now: datetime) -> tuple[Asserted, dict]:
    """The identity the IdP's Response vouches for, every check passed and the assertion
    marked used, and what the session keeps to sign out of the IdP later."""
    encoded = form.get("SAMLResponse")
    if not encoded:
        raise _refused("the post holds no SAMLResponse")
    sp, provider, settings, idp = _provider()
    outstanding = dict.fromkeys(_outstanding(), "/")
    after_this_request(_forget_outstanding)  # answered or refused, the sign-in is over
    try:
        assertion = sp.read_response(provider, settings, idp, encoded, outstanding)
    except sp.Rejected as error:
        raise _refused(error.reason) from error
    _use_once(assertion.id, assertion.expires_at, now)
    signed_in_with = {
        "protocol": Protocol.SAML.value,
        "name_id": assertion.name_id,
        "session_index": assertion.session_index,
    }
    return _asserted(assertion), signed_in_with


def metadata_xml() -> str:
    return _sp().sp_metadata(_settings())


def logout_url(signed_in_with: dict) -> str | None:
    """SP-initiated single logout: the IdP address with a LogoutRequest naming the NameID
    and session it signed the person in with; None where that cannot be done."""
    try:
        sp, provider, settings, idp = _provider()
    except SignInUnavailable:
        return None
    found = sp.logout_request(
        provider,
        settings,
        idp,
        signed_in_with.get("name_id") or {},
        signed_in_with.get("session_index"),
    )
    if found is None:
        return None
    request_id, url = found
    session[LOGOUT_OUTSTANDING] = request_id
    return url


def logout_confirmed(query: str) -> bool:
    """Whether the query carries the IdP's answer to the logout this browser asked for."""
    request_id = session.pop(LOGOUT_OUTSTANDING, None)
    if request_id is None:
        return False
    try:
        sp, provider, _, idp = _provider()
    except SignInUnavailable:
        return False
    try:
        sp.read_logout_response(provider, idp, query, request_id)
    except sp.Rejected as error:
        current_app.logger.warning("SAML LogoutResponse not accepted: %s", error.reason)
        return False
    return True


def answer_logout_request(query: str, signed_in_with) -> tuple[bool, str]:
    """An IdP-initiated LogoutRequest: whether it names the person signed in here (whose
    session then ends), and the address carrying our LogoutResponse back."""
    sp, provider, settings, idp = _provider()
    try:
        request = sp.read_logout_request(provider, idp, query)
    except sp.Rejected as error:
        current_app.logger.warning("SAML LogoutRequest not accepted: %s", error.reason)
        raise SignOutRefused(
            "This sign-out request did not come from the campus sign-in service, so "
            "nothing was signed out."
        ) from error
    name_id = (signed_in_with or {}).get("name_id") or {}
    names_this_person = request.name_id is not None and request.name_id == name_id.get("text")
    return names_this_person, sp.logout_response(provider, settings, request)


def _configured(config) -> bool:
    return bool(config.get("CRP_SAML_IDP_METADATA_URL") or config.get("CRP_SAML_IDP_METADATA_FILE"))


def _setting_problems(config) -> list[str]:
    problems = []
    url, metadata_file = config["CRP_SAML_IDP_METADATA_URL"], config["CRP_SAML_IDP_METADATA_FILE"]
    cert, key = config["CRP_SAML_SP_CERT_FILE"], config["CRP_SAML_SP_KEY_FILE"]
    if url and metadata_file:
        problems.append("set CRP_SAML_IDP_METADATA_URL or CRP_SAML_IDP_METADATA_FILE, not both")
    if url and config["ENV_NAME"] == "production" and urlsplit(url).scheme != "https":
        problems.append("CRP_SAML_IDP_METADATA_URL must be https: it carries the IdP's key")
    if bool(cert) != bool(key):
        problems.append("set both CRP_SAML_SP_CERT_FILE and CRP_SAML_SP_KEY_FILE, or neither")
    for name in ("CRP_SAML_IDP_METADATA_FILE", "CRP_SAML_SP_CERT_FILE", "CRP_SAML_SP_KEY_FILE"):
        if config[name] and not Path(config[name]).is_file():
            problems.append(f"{name} names no file: {config[name]}")
    if shutil.which("xmlsec1") is None:
        problems.append("xmlsec1, which checks SAML signatures, is not installed")
    return problems


def _sp():
    """The pysaml2 side, imported on first use: loading pysaml2's XML schemas takes most
    of a second, which a portal without SAML should not pay at every start."""
    from crp_portal.sso import saml_sp

    return saml_sp


def _settings() -> "saml_sp.SpSettings":
    config = current_app.config
    also_requested = (config["CRP_SAML_STUDENT_ID_ATTRIBUTE"], config["CRP_SAML_SUBJECT_ATTRIBUTE"])
    return _sp().SpSettings(
        entity_id=config["CRP_SAML_SP_ENTITY_ID"] or portal_url("sso.saml_metadata"),
        acs_url=portal_url("sso.saml_acs"),
        slo_url=portal_url("sso.saml_slo"),
        name=config["CRP_PUBLIC_NAME"],
        xmlsec1=shutil.which("xmlsec1") or "xmlsec1",
        cert_file=config["CRP_SAML_SP_CERT_FILE"] or None,
        key_file=config["CRP_SAML_SP_KEY_FILE"] or None,
        persistent_name_id=not config["CRP_SAML_SUBJECT_ATTRIBUTE"],
        requested_attributes=tuple(
            OIDS.get(name, name) for name in (*REQUESTED, *also_requested) if name
        ),
    )


def _provider():
    """(saml_sp, a pysaml2 client for this request, the settings, the IdP's entity ID)."""
    sp = _sp()
    settings = _settings()
    metadata = _idp_metadata()
    try:
        provider = sp.client(settings, metadata)
        idps = sp.identity_providers(provider)
    except Exception:  # noqa: BLE001 - pysaml2 has no one error for metadata it cannot read
        current_app.logger.exception("The SAML IdP's metadata could not be read")
        raise _not_working() from None
    if len(idps) != 1:
        current_app.logger.error("The SAML metadata names %d identity providers, not 1", len(idps))
        raise _not_working()
    return sp, provider, settings, idps[0]


def _idp_metadata() -> str:
    """The IdP's metadata, read at most hourly; when reading it again fails, the copy in
    hand serves a few minutes more before the next try."""
    config = current_app.config
    source = config["CRP_SAML_IDP_METADATA_URL"] or config["CRP_SAML_IDP_METADATA_FILE"]
    kept = current_app.extensions.get(METADATA_KEY)
    now = time.monotonic()
    if kept is not None and kept[0] == source and now < kept[2]:
        return kept[1]
    try:
        text = _read_metadata(config)
    except (requests.RequestException, OSError) as error:
        if kept is None or kept[0] != source:
            current_app.logger.warning("The SAML IdP's metadata did not come: %s", error)
            raise _unavailable() from error
        current_app.logger.warning("The SAML IdP's metadata did not refresh: %s", error)
        text, now = kept[1], now - METADATA_MAX_AGE_SECONDS + METADATA_RETRY_SECONDS
    current_app.extensions[METADATA_KEY] = (source, text, now + METADATA_MAX_AGE_SECONDS)
    return text


def _read_metadata(config) -> str:
    if config["CRP_SAML_IDP_METADATA_FILE"]:
        return Path(config["CRP_SAML_IDP_METADATA_FILE"]).read_text(encoding="utf-8")
    timeout = config["CRP_SSO_TIMEOUT_SECONDS"]
    response = requests.get(config["CRP_SAML_IDP_METADATA_URL"], timeout=timeout)
    response.raise_for_status()
    return response.text


def _use_once(assertion_id: str, expires_at: datetime, now: datetime) -> None:
    """Mark the assertion used; a second use, even at the same moment in another worker,
    meets the primary key. Rows are dropped once their assertion could pass no more."""
    if len(assertion_id) > MAX_ID_LENGTH:
        raise _refused("the assertion ID is too long")
    db.session.execute(delete(SamlAssertionSeen).where(SamlAssertionSeen.expires_at < now))
    try:
        with db.session.begin_nested():
            db.session.add(SamlAssertionSeen(id=assertion_id, seen_at=now, expires_at=expires_at))
    except IntegrityError as error:
        raise _refused("the assertion was used before") from error


def _asserted(assertion: "saml_sp.Assertion") -> Asserted:
    config = current_app.config
    attributes = assertion.attributes
    given_and_family = (_first(attributes, "givenName"), _first(attributes, "sn"))
    name = _first(attributes, "displayName") or " ".join(part for part in given_and_family if part)
    student_attribute = config["CRP_SAML_STUDENT_ID_ATTRIBUTE"]
    affiliations = _values(attributes, "eduPersonAffiliation")
    return Asserted(
        protocol=Protocol.SAML,
        issuer=assertion.issuer,
        subject=_subject(assertion, config["CRP_SAML_SUBJECT_ATTRIBUTE"]),
        email=_first(attributes, "mail"),  # a campus IdP's mail is its own, so verified
        name=name,
        student_id=_first(attributes, student_attribute) if student_attribute else None,
        affiliations=frozenset(value.lower() for value in affiliations),
    )


def _subject(assertion: "saml_sp.Assertion", attribute: str) -> str:
    """Who the person is to the IdP, for good: the persistent NameID, or the attribute
    configured instead (a pairwise id, eduPersonTargetedID)."""
    if attribute:
        subject = _first(assertion.attributes, attribute)
        missing = "no subject attribute"
    else:
        persistent = assertion.name_id.get("format") == PERSISTENT
        subject = assertion.name_id.get("text") if persistent else None
        missing = "no persistent NameID"
    if not subject:
        raise SignInRefused(
            "The campus sign-in service did not say who you are in a way the portal can "
            "remember. Ask the program staff to check the portal's campus sign-in settings.",
            missing,
        )
    if len(subject) > MAX_ID_LENGTH:
        raise _refused("the subject is too long")
    return subject


def _values(attributes: dict[str, list[str]], name: str) -> list[str]:
    """An attribute by the name asked for, its OID, or its friendly name: whichever the
    IdP used."""
    for alias in (name, OIDS.get(name), FRIENDLY_NAMES.get(name)):
        if alias and alias in attributes:
            return attributes[alias]
    return []


def _first(attributes: dict[str, list[str]], name: str) -> str | None:
    values = _values(attributes, name)
    return values[0] if values else None


def _refused(reason: str) -> SignInRefused:
    return SignInRefused(f"The campus sign-in could not be completed. {TRY_AGAIN}", reason)


def _unavailable() -> SignInUnavailable:
    return SignInUnavailable(
        "The campus sign-in service did not answer in time. Try again in a few minutes."
    )


def _not_working() -> SignInUnavailable:
    return SignInUnavailable(
        "Campus sign-in is not working right now. Try again later; if it keeps happening, "
        "tell the program staff."
    )
