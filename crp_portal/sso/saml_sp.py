"""The pysaml2 side of SAML sign-in: a service provider made from the portal's settings
and the IdP's metadata, the messages it sends, and the checks on the ones it receives.

pysaml2 checks a Response's signatures (the assertion's is required; keys come from the
IdP's metadata, never from the message), its InResponseTo against the requests this
browser has outstanding, the assertion's time limits and audience, and the bearer
subject confirmation. Where pysaml2 lets something through quietly, this module refuses
it: a Response to another Destination (pysaml2 then skips the assertion rather than
raising), a Recipient that is not our ACS (pysaml2 checks it only when given `conv_info`),
an assertion naming no audience or no expiry, an assertion from another issuer, and
signatures made with SHA-1 or weaker. The HTTP-Redirect signatures on logout messages
are checked here too, over the query string exactly as it arrived.

Importing this module loads pysaml2's XML schemas, which takes most of a second: `saml`
imports it only when SAML is configured.
"""

import base64
import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.mdstore import locations
from saml2.metadata import entity_descriptor
from saml2.response import StatusError, UnsolicitedResponse, VerificationError
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.sigver import MissingKey, SigverError
from saml2.time_util import str_to_time
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import (
    DIGEST_SHA256,
    DIGEST_SHA384,
    DIGEST_SHA512,
    SIG_RSA_SHA256,
    SIG_RSA_SHA384,
    SIG_RSA_SHA512,
)

CLOCK_SKEW_SECONDS = 60  # allowed on NotBefore and NotOnOrAfter
STRONG_ALGORITHMS = frozenset(
    {SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512, DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512}
)
REDIRECT_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    SIG_RSA_SHA256: hashes.SHA256,
    SIG_RSA_SHA384: hashes.SHA384,
    SIG_RSA_SHA512: hashes.SHA512,
}
# What pysaml2's errors mean, most specific first (MissingKey is a SigverError).
REASONS: tuple[tuple[type[Exception], str], ...] = (
    (UnsolicitedResponse, "it answers no sign-in started in this browser"),
    (ResponseLifetimeExceed, "the assertion has expired"),
    (ToEarly, "the assertion is not valid yet"),
    (MissingKey, "no key for its issuer in the IdP metadata"),
    (SigverError, "a signature is missing or does not verify"),
    (StatusError, "the IdP answered with an error status"),
    (VerificationError, "its conditions or subject confirmation failed"),
)


@dataclass(frozen=True)
class SpSettings:
    """The portal as a service provider, from its configuration."""

    entity_id: str
    acs_url: str
    slo_url: str
    name: str
    xmlsec1: str
    cert_file: str | None = None
    key_file: str | None = None
    persistent_name_id: bool = True  # ask the IdP for a persistent NameID
    requested_attributes: tuple[str, ...] = ()

    @property
    def signs(self) -> bool:
        return bool(self.cert_file and self.key_file)


@dataclass(frozen=True)
class Assertion:
    """What a checked assertion says, as plain values. `name_id` holds the NameID's text
    and those of its format and qualifiers that were sent: a LogoutRequest repeats them."""

    id: str
    issuer: str
    name_id: dict[str, str]
    session_index: str | None
    expires_at: datetime
    attributes: dict[str, list[str]]  # by Name and by FriendlyName


@dataclass(frozen=True)
class LogoutRequest:
    name_id: str | None
    message: object  # pysaml2's LogoutRequest, for the answer
    relay_state: str


class Rejected(Exception):
    """A message failed a check; `reason` is a short phrase of ours, for the trail."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sp_metadata(settings: SpSettings) -> str:
    """The portal's metadata. pysaml2 would list every algorithm xmlsec1 knows, MD5
    among them; the portal lists none (it signs with RSA-SHA256 and refuses SHA-1)."""
    descriptor = entity_descriptor(_config(settings))
    descriptor.extensions = None
    return descriptor.to_string().decode()


def client(settings: SpSettings, idp_metadata: str) -> Saml2Client:
    return Saml2Client(config=_config(settings, idp_metadata))


def identity_providers(sp: Saml2Client) -> list[str]:
    return list(sp.metadata.identity_providers())


def authn_request(sp: Saml2Client, settings: SpSettings, idp: str) -> tuple[str, str]:
    """(the AuthnRequest's ID, the IdP address carrying it by HTTP-Redirect)."""
    request_id, info = sp.prepare_for_authenticate(
        entityid=idp, binding=BINDING_HTTP_REDIRECT, sign=settings.signs
    )
    return request_id, _location(info)


def read_response(
    sp: Saml2Client, settings: SpSettings, idp: str, encoded: str, outstanding: dict[str, str]
) -> Assertion:
    """The assertion a base64 Response (HTTP-POST) carries, every check passed."""
    try:
        authn = sp.parse_authn_request_response(
            encoded,
            BINDING_HTTP_POST,
            outstanding=outstanding,
            # Any conv_info makes pysaml2 check Recipient against our ACS addresses.
            conv_info={"recipient": settings.acs_url},
        )
    except Exception as error:  # noqa: BLE001 - pysaml2 raises bare Exceptions for some checks
        raise Rejected(_reason(error)) from error
    if authn is None:
        raise Rejected("the post holds no SAML Response")
    if authn.response.destination != settings.acs_url:
        raise Rejected("the Response is addressed to another destination")
    assertion = authn.assertion
    if assertion is None:
        raise Rejected("the Response failed pysaml2's checks")
    _check_issuer(assertion, idp)
    _check_audience(assertion, settings.entity_id)
    _check_algorithms([authn.response, assertion])
    return Assertion(
        id=assertion.id,
        issuer=idp,
        name_id=_name_id_fields(authn.name_id),
        session_index=_session_index(assertion),
        expires_at=_expiry(assertion),
        attributes=_attributes(assertion),
    )


def logout_request(
    sp: Saml2Client, settings: SpSettings, idp: str, name_id: dict[str, str], session_index
) -> tuple[str, str] | None:
    """(the LogoutRequest's ID, the IdP address carrying it by HTTP-Redirect), or None
    where the IdP's metadata offers no single logout."""
    services = sp.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    destination = next(locations(services), None)
    if destination is None or not name_id.get("text"):
        return None
    request_id, request = sp.create_logout_request(
        destination,
        idp,
        name_id=NameID(**name_id),
        session_indexes=[session_index] if session_index else None,
        sign=False,  # HTTP-Redirect signs the query string, below
    )
    info = sp.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, sign=settings.signs)
    return request_id, _location(info)


def read_logout_response(sp: Saml2Client, idp: str, query: str, request_id: str) -> None:
    """Raise Rejected unless the query carries the IdP's signed, successful answer to
    the LogoutRequest `request_id`."""
    raw = _redirect_parameters(query, "SAMLResponse")
    _check_redirect_signature(sp, idp, raw, "SAMLResponse")
    try:
        answer = sp.parse_logout_request_response(
            unquote_plus(raw["SAMLResponse"]), BINDING_HTTP_REDIRECT
        )
        confirmed = answer is not None and answer.verify()
    except Exception as error:  # noqa: BLE001 - as in read_response
        raise Rejected(_reason(error)) from error
    if not confirmed:
        raise Rejected("the LogoutResponse failed pysaml2's checks")
    if answer.in_response_to != request_id or answer.issuer() != idp:
        raise Rejected("the LogoutResponse answers no sign-out started in this browser")


def read_logout_request(sp: Saml2Client, idp: str, query: str) -> LogoutRequest:
    """The IdP's signed LogoutRequest (IdP-initiated single logout)."""
    raw = _redirect_parameters(query, "SAMLRequest")
    _check_redirect_signature(sp, idp, raw, "SAMLRequest")
    try:
        parsed = sp.parse_logout_request(unquote_plus(raw["SAMLRequest"]), BINDING_HTTP_REDIRECT)
    except Exception as error:  # noqa: BLE001 - as in read_response
        raise Rejected(_reason(error)) from error
    message = parsed.message if parsed is not None else None
    if message is None or message.issuer is None or message.issuer.text.strip() != idp:
        raise Rejected("the LogoutRequest is not from the IdP")
    name_id = message.name_id.text.strip() if message.name_id is not None else None
    return LogoutRequest(name_id, message, unquote_plus(raw.get("RelayState", "")))


def logout_response(sp: Saml2Client, settings: SpSettings, request: LogoutRequest) -> str:
    """The address that carries our successful LogoutResponse back to the IdP."""
    answer = sp.create_logout_response(request.message, [BINDING_HTTP_REDIRECT], sign=False)
    where = sp.response_args(request.message, [BINDING_HTTP_REDIRECT])
    info = sp.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(answer),
        where["destination"],
        request.relay_state,
        response=True,
        sign=settings.signs,
    )
    return _location(info)


def _config(settings: SpSettings, idp_metadata: str | None = None) -> SPConfig:
    persistent = NAMEID_FORMAT_PERSISTENT if settings.persistent_name_id else None
    service = {
        "endpoints": {
            "assertion_consumer_service": [(settings.acs_url, BINDING_HTTP_POST)],
            "single_logout_service": [(settings.slo_url, BINDING_HTTP_REDIRECT)],
        },
        "want_assertions_signed": True,
        # A Response's own signature is optional (an assertion signed inside it is
        # what counts), but one that is there is always checked.
        "want_response_signed": False,
        "allow_unsolicited": False,
        "authn_requests_signed": settings.signs,
        "logout_requests_signed": settings.signs,
        "logout_responses_signed": settings.signs,
        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
        "name_id_policy_format": persistent,
        "name_id_format_allow_create": bool(persistent),
        "optional_attributes": list(settings.requested_attributes),
        # Here, not beside entityid: pysaml2 reads them in the service's context.
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
    }
    config: dict = {
        "entityid": settings.entity_id,
        "name": settings.name,
        "xmlsec_binary": settings.xmlsec1,
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "allow_unknown_attributes": True,
        "metadata_key_usage": "signing",  # assertions are not encrypted to the portal
        "service": {"sp": service},
    }
    if settings.signs:
        config.update(key_file=settings.key_file, cert_file=settings.cert_file)
    if idp_metadata is not None:
        config["metadata"] = {"inline": [idp_metadata]}
    sp_config = SPConfig()
    sp_config.load(config)
    return sp_config


def _location(info: dict) -> str:
    return dict(info["headers"])["Location"]


def _reason(error: Exception) -> str:
    for kind, reason in REASONS:
        if isinstance(error, kind):
            return reason
    if "AudienceRestriction" in str(error):
        return "the assertion is for another audience"
    return f"it failed a check ({type(error).__name__})"


def _check_issuer(assertion, idp: str) -> None:
    issuer = assertion.issuer.text.strip() if assertion.issuer is not None else ""
    if issuer != idp:
        raise Rejected("the assertion is from another issuer")


def _check_audience(assertion, entity_id: str) -> None:
    """pysaml2 takes an assertion without an AudienceRestriction as meant for anyone;
    the Web SSO profile requires one naming the service provider."""
    restrictions = assertion.conditions.audience_restriction if assertion.conditions else []
    audiences = {
        audience.text.strip()
        for restriction in restrictions
        for audience in restriction.audience
        if audience.text
    }
    if entity_id not in audiences:
        raise Rejected("the assertion is for another audience")


def _check_algorithms(signed_parts: list) -> None:
    for part in signed_parts:
        if part.signature is None:
            continue
        info = part.signature.signed_info
        used = {info.signature_method.algorithm}
        used |= {reference.digest_method.algorithm for reference in info.reference}
        if not used <= STRONG_ALGORITHMS:
            raise Rejected("signed with SHA-1 or another weak algorithm")


def _name_id_fields(name_id) -> dict[str, str]:
    if name_id is None or not (name_id.text or "").strip():
        return {}
    fields = {"text": name_id.text.strip()}
    for name in ("format", "name_qualifier", "sp_name_qualifier"):
        if value := getattr(name_id, name, None):
            fields[name] = value
    return fields


def _session_index(assertion) -> str | None:
    statements = assertion.authn_statement
    return statements[0].session_index if statements else None


def _expiry(assertion) -> datetime:
    """When the assertion can no longer be accepted: its latest NotOnOrAfter, plus the
    clock skew allowed. An assertion without one would be good forever."""
    limits = []
    if assertion.conditions is not None and assertion.conditions.not_on_or_after:
        limits.append(assertion.conditions.not_on_or_after)
    for confirmation in assertion.subject.subject_confirmation:
        data = confirmation.subject_confirmation_data
        if data is not None and data.not_on_or_after:
            limits.append(data.not_on_or_after)
    if not limits:
        raise Rejected("the assertion has no NotOnOrAfter")
    latest = max(calendar.timegm(str_to_time(limit)) for limit in limits)
    return datetime.fromtimestamp(latest, UTC) + timedelta(seconds=CLOCK_SKEW_SECONDS)


def _attributes(assertion) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [text for text in map(_text, attribute.attribute_value) if text]
            for name in {attribute.name, attribute.friendly_name} - {None, ""}:
                found.setdefault(name, []).extend(values)
    return found


def _text(value) -> str:
    """An attribute value's text; eduPersonTargetedID's is a NameID element inside it."""
    if value.text and value.text.strip():
        return value.text.strip()
    for element in value.extension_elements or []:
        if element.text and element.text.strip():
            return element.text.strip()
    return ""


def _redirect_parameters(query: str, message_key: str) -> dict[str, str]:
    """The query's parameters, still URL-encoded: the signature is over them as sent. A
    parameter given twice is refused, lest the signed and the read copies differ."""
    pairs = [part.split("=", 1) for part in query.split("&") if "=" in part]
    raw = dict(pairs)
    if len(raw) != len(pairs) or message_key not in raw:
        raise Rejected(f"the query does not hold one {message_key}")
    return raw


def _check_redirect_signature(sp: Saml2Client, idp: str, raw: dict[str, str], key: str) -> None:
    """SAML Bindings 3.4.4.1: the signature covers `key=…&RelayState=…&SigAlg=…` as
    they appear in the query, checked against the IdP's signing keys."""
    if "Signature" not in raw or "SigAlg" not in raw:
        raise Rejected("the message is not signed")
    digest = REDIRECT_HASHES.get(unquote_plus(raw["SigAlg"]))
    if digest is None:
        raise Rejected("signed with SHA-1 or another weak algorithm")
    signed = "&".join(
        f"{name}={raw[name]}" for name in (key, "RelayState", "SigAlg") if name in raw
    )
    signature = base64.b64decode(unquote_plus(raw["Signature"]))
    for _, cert in sp.metadata.certs(idp, "idpsso", "signing"):
        public_key = x509.load_der_x509_certificate(base64.b64decode(cert)).public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            continue
        try:
            public_key.verify(signature, signed.encode(), padding.PKCS1v15(), digest())
        except InvalidSignature:
            continue
        return
    raise Rejected("the message's signature does not verify")
