"""A SAML IdP whose messages the test writes: its metadata as a file, Responses built
here and signed with xmlsec1 (as an IdP signs them: enveloped, exclusive c14n), and
logout messages signed for the HTTP-Redirect binding.

The portal reads all of these through pysaml2 for real, so its checks of signature,
audience, destination, time and InResponseTo run on exactly what the test sent; nothing
in the library is replaced. For the real thing end to end, see `tests.idp.saml`.
"""

import base64
import subprocess
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote_plus
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.idp.saml import (
    ATTRIBUTE_OIDS,
    HTTP_REDIRECT,
    PERSISTENT,
    URI_NAME_FORMAT,
    pem_body,
    self_signed_certificate,
)

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"

KAI = {
    "eduPersonPrincipalName": ["kai@example.edu"],
    "mail": ["kai@example.edu"],
    "displayName": ["Kai Nguyen"],
    "givenName": ["Kai"],
    "sn": ["Nguyen"],
    "eduPersonAffiliation": ["Student", "member"],
}


def saml_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return f"_{uuid.uuid4().hex}"


@dataclass
class Sp:
    """The portal as the crafted IdP knows it."""

    entity_id: str
    acs_url: str
    slo_url: str


@dataclass
class CraftedIdp:
    workdir: Path
    entity_id: str = "https://idp.example.edu/idp/shibboleth"
    base: str = "https://idp.example.edu/idp/profile/SAML2/Redirect"
    keys: tuple[str, str] = field(default_factory=lambda: self_signed_certificate("Test IdP"))

    @property
    def sso_url(self) -> str:
        return f"{self.base}/SSO"

    @property
    def slo_url(self) -> str:
        return f"{self.base}/SLO"

    def metadata_xml(self) -> str:
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{pem_body(self.keys[1])}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="{HTTP_REDIRECT}" Location="{self.slo_url}"/>
    <md:NameIDFormat>{PERSISTENT}</md:NameIDFormat>
    <md:SingleSignOnService Binding="{HTTP_REDIRECT}" Location="{self.sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""

    def write_metadata(self) -> Path:
        path = self.workdir / "idp-metadata.xml"
        path.write_text(self.metadata_xml())
        return path

    # Sign-in.

    def response(self, sp: Sp, in_response_to: str | None, **changes) -> str:
        """A base64 Response as a well-behaved IdP would post it. `changes` set any of
        `response_fields`; `attributes` may be given by friendly name (sent as the OID,
        as InCommon IdPs do) or, with `name_format="basic"`, as they are."""
        fields = self.response_fields(sp, in_response_to)
        fields.update(changes)
        xml = _response_xml(self.entity_id, fields)
        keys = fields["keys"] or self.keys
        if fields["sign_assertion"]:
            xml = xmlsec1_sign(xml, "Assertion", keys, fields["algorithms"])
        if fields["sign_response"]:
            xml = xmlsec1_sign(xml, "Response", keys, fields["algorithms"])
        return base64.b64encode(xml.encode()).decode()

    def response_fields(self, sp: Sp, in_response_to: str | None) -> dict:
        now = datetime.now(UTC)
        return {
            "in_response_to": in_response_to,
            "response_id": new_id(),
            "assertion_id": new_id(),
            "issuer": self.entity_id,
            "destination": sp.acs_url,
            "recipient": sp.acs_url,
            "audience": sp.entity_id,
            "sp_entity_id": sp.entity_id,
            "name_id": "kai-persistent-0001",
            "name_id_format": PERSISTENT,
            "issued": now,
            "not_before": now - timedelta(seconds=30),
            "not_on_or_after": now + timedelta(minutes=5),
            "session_index": new_id(),
            "attributes": KAI,
            "name_format": "uri",
            "sign_assertion": True,
            "sign_response": True,
            "keys": None,  # (key PEM, cert PEM); None: the IdP's own
            "algorithms": (RSA_SHA256, SHA256),
        }

    # Single logout (HTTP-Redirect).

    def logout_request_query(self, sp: Sp, name_id: str, relay_state: str = "", keys=None) -> str:
        xml = f"""<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"
    ID="{new_id()}" Version="2.0" IssueInstant="{saml_time(datetime.now(UTC))}"
    Destination="{sp.slo_url}"><saml:Issuer>{self.entity_id}</saml:Issuer>
  <saml:NameID Format="{PERSISTENT}">{escape(name_id)}</saml:NameID>
</samlp:LogoutRequest>"""
        return self.redirect_query("SAMLRequest", xml, relay_state, keys=keys)

    def logout_response_query(self, sp: Sp, in_response_to: str, status: str = SUCCESS) -> str:
        xml = f"""<samlp:LogoutResponse xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"
    ID="{new_id()}" Version="2.0" IssueInstant="{saml_time(datetime.now(UTC))}"
    Destination="{sp.slo_url}" InResponseTo="{in_response_to}">
  <saml:Issuer>{self.entity_id}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>
</samlp:LogoutResponse>"""
        return self.redirect_query("SAMLResponse", xml)

    def redirect_query(
        self, key: str, xml: str, relay_state: str = "", sign: bool = True, keys=None
    ) -> str:
        """SAML Bindings 3.4.4: the message deflated and base64ed, then signed over
        `key=…&RelayState=…&SigAlg=…` as encoded."""
        deflater = zlib.compressobj(wbits=-15)
        message = base64.b64encode(deflater.compress(xml.encode()) + deflater.flush())
        parts = [f"{key}={quote_plus(message)}"]
        if relay_state:
            parts.append(f"RelayState={quote_plus(relay_state)}")
        if not sign:
            return "&".join(parts)
        parts.append(f"SigAlg={quote_plus(RSA_SHA256)}")
        private_key = serialization.load_pem_private_key((keys or self.keys)[0].encode(), None)
        signature = private_key.sign(  # type: ignore[union-attr]
            "&".join(parts).encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return "&".join([*parts, f"Signature={quote_plus(base64.b64encode(signature))}"])


def _response_xml(idp: str, f: dict) -> str:
    in_response_to = f' InResponseTo="{f["in_response_to"]}"' if f["in_response_to"] else ""
    destination = f' Destination="{f["destination"]}"' if f["destination"] else ""
    not_after = saml_time(f["not_on_or_after"])
    return f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    ID="{f["response_id"]}" Version="2.0" IssueInstant="{saml_time(f["issued"])}"{destination}{in_response_to}>
  <saml:Issuer>{f["issuer"]}</saml:Issuer>{_signature_template(f["response_id"], f, "sign_response")}
  <samlp:Status><samlp:StatusCode Value="{SUCCESS}"/></samlp:Status>
  <saml:Assertion ID="{f["assertion_id"]}" Version="2.0" IssueInstant="{saml_time(f["issued"])}">
    <saml:Issuer>{f["issuer"]}</saml:Issuer>{_signature_template(f["assertion_id"], f, "sign_assertion")}
    <saml:Subject>
      <saml:NameID Format="{f["name_id_format"]}" NameQualifier="{idp}" SPNameQualifier="{f["sp_entity_id"]}">{escape(f["name_id"])}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{not_after}" Recipient="{f["recipient"]}"{in_response_to}/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{saml_time(f["not_before"])}" NotOnOrAfter="{not_after}">
      <saml:AudienceRestriction><saml:Audience>{f["audience"]}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{saml_time(f["issued"])}" SessionIndex="{f["session_index"]}">
      <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>
    </saml:AuthnStatement>
    <saml:AttributeStatement>{_attributes_xml(f["attributes"], f["name_format"])}
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""


def _signature_template(element_id: str, f: dict, signed: str) -> str:
    """Where xmlsec1 puts the signature: after the Issuer, as the schema wants it."""
    if not f[signed]:
        return ""
    method, digest = f["algorithms"]
    return f"""
  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    <ds:SignatureMethod Algorithm="{method}"/>
    <ds:Reference URI="#{element_id}"><ds:Transforms>
      <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
      <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    </ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue/></ds:Reference>
  </ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"""


def _attributes_xml(attributes: dict[str, list[str]], name_format: str) -> str:
    parts = []
    for name, values in attributes.items():
        if name_format == "uri":
            head = f"Name={quoteattr(ATTRIBUTE_OIDS.get(name, name))} NameFormat={quoteattr(URI_NAME_FORMAT)} FriendlyName={quoteattr(name)}"
        else:
            head = f'Name={quoteattr(name)} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"'
        sent = "".join(
            f'<saml:AttributeValue xsi:type="xs:string">{escape(value)}</saml:AttributeValue>'
            for value in values
        )
        parts.append(f"\n      <saml:Attribute {head}>{sent}</saml:Attribute>")
    return "".join(parts)


def xmlsec1_sign(xml: str, element: str, keys: tuple[str, str], algorithms) -> str:
    """Fill in the signature template inside `element` (Assertion or Response)."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        (folder / "key.pem").write_text(keys[0])
        (folder / "cert.pem").write_text(keys[1])
        (folder / "in.xml").write_text(xml)
        subprocess.run(
            [
                "xmlsec1",
                "--sign",
                "--privkey-pem",
                f"{folder / 'key.pem'},{folder / 'cert.pem'}",
                "--id-attr:ID",
                f"{SAML}:Assertion",
                "--id-attr:ID",
                f"{SAMLP}:Response",
                "--node-xpath",
                f"//*[local-name()='{element}']/*[local-name()='Signature']",
                "--output",
                str(folder / "out.xml"),
                str(folder / "in.xml"),
            ],
            check=True,
            capture_output=True,
        )
        return (folder / "out.xml").read_text()


class MetadataServer:
    """Serves the IdP's metadata over HTTP on loopback, after `delay_seconds`."""

    def __init__(self, xml: str, delay_seconds: float = 0.0):
        self.xml, self.delay_seconds = xml, delay_seconds
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                time.sleep(server.delay_seconds)
                body = server.xml.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/metadata"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "MetadataServer":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()
