"""The SAML test IdP is a real, correctly configured IdP: its metadata, and SP-initiated
sign-in and single logout driven over HTTP as a browser would, with the SP side played
by hand (the AuthnRequest and LogoutRequest built here; the ACS never contacted).
"""

import base64
import datetime
import shutil
import subprocess
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.conftest import missing_service
from tests.idp.saml import (
    ATTRIBUTE_OIDS,
    EMAIL,
    HTTP_POST,
    HTTP_REDIRECT,
    PERSISTENT,
    URI_NAME_FORMAT,
    SamlIdp,
    SamlUser,
    saml_idp_available,
    self_signed_certificate,
)

SP = "http://crp-portal.invalid"  # .invalid never resolves: nothing here connects to it
SP_ENTITY_ID = f"{SP}/sso/saml/metadata"
SP_ACS_URL = f"{SP}/sso/saml/acs"
SP_SLO_URL = f"{SP}/sso/saml/sls"
NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

ALICE = SamlUser(
    "alice",
    "correct horse battery",
    {
        "eduPersonPrincipalName": ["alice@example.edu"],
        "mail": ["alice.liddell@example.edu"],
        "displayName": ["Alice Liddell"],
        "givenName": ["Alice"],
        "sn": ["Liddell"],
        "eduPersonAffiliation": ["student", "member"],
        "employeeNumber": ["S1234567"],
    },
)
# Bob has every attribute ATTRIBUTE_OIDS names.
BOB = SamlUser(
    "bob",
    "another secret",
    {
        "eduPersonPrincipalName": ["bob@example.edu"],
        "eduPersonAffiliation": ["staff", "member"],
        "eduPersonScopedAffiliation": ["staff@example.edu", "member@example.edu"],
        "eduPersonUniqueId": ["8f2a1c@example.edu"],
        "mail": ["bob@example.edu"],
        "displayName": ["Bob Émile Ng"],
        "givenName": ["Bob"],
        "sn": ["Ng"],
        "uid": ["bob"],
        "employeeNumber": ["E7654321"],
    },
)


def parse_xml(text: str | bytes) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (our own IdP's output, in a test)


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    reason = saml_idp_available()
    if reason:
        missing_service(reason)
    workdir = tmp_path_factory.mktemp("saml-idp")
    with SamlIdp(workdir, SP_ENTITY_ID, SP_ACS_URL, SP_SLO_URL, None, [ALICE, BOB]) as server:
        yield server


# The SP's side, by hand.


class Forms(HTMLParser):
    """Every <form> on a page: its action, method and named fields' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            self.forms.append({"action": attributes.get("action"), "method": method, "fields": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


def forms_on(response: requests.Response) -> list[dict]:
    parser = Forms()
    parser.feed(response.text)
    for form in parser.forms:
        form["action"] = urllib.parse.urljoin(response.url, form["action"] or "")
    return parser.forms


def redirect_binding(url: str, parameter: str, xml: str) -> str:
    """`xml` sent unsigned by the HTTP-Redirect binding: deflated, base64, in the query."""
    compressor = zlib.compressobj(wbits=-15)
    deflated = compressor.compress(xml.encode()) + compressor.flush()
    query = urllib.parse.urlencode(
        {parameter: base64.b64encode(deflated).decode(), "RelayState": "/after"}
    )
    return f"{url}?{query}"


def redirect_message(location: str, parameter: str) -> ET.Element:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    return parse_xml(zlib.decompress(base64.b64decode(query[parameter][0]), wbits=-15))


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def authn_request(idp: SamlIdp, request_id: str) -> str:
    return redirect_binding(
        idp.sso_url,
        "SAMLRequest",
        f'<samlp:AuthnRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}"'
        f' ID="{request_id}" Version="2.0" IssueInstant="{now()}"'
        f' Destination="{idp.sso_url}" AssertionConsumerServiceURL="{SP_ACS_URL}"'
        f' ProtocolBinding="{HTTP_POST}">'
        f"<saml:Issuer>{SP_ENTITY_ID}</saml:Issuer>"
        f'<samlp:NameIDPolicy Format="{PERSISTENT}" AllowCreate="true"/>'
        "</samlp:AuthnRequest>",
    )


def logout_request(idp: SamlIdp, request_id: str, name_id: ET.Element, session: str) -> str:
    return redirect_binding(
        idp.slo_url,
        "SAMLRequest",
        f'<samlp:LogoutRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}"'
        f' ID="{request_id}" Version="2.0" IssueInstant="{now()}" Destination="{idp.slo_url}">'
        f"<saml:Issuer>{SP_ENTITY_ID}</saml:Issuer>"
        f"{ET.tostring(name_id, encoding='unicode')}"
        f"<samlp:SessionIndex>{session}</samlp:SessionIndex>"
        "</samlp:LogoutRequest>",
    )


def within_idp(browser: requests.Session, idp: SamlIdp, url: str) -> requests.Response:
    """GET url, following redirects while they stay on the IdP; a redirect elsewhere is
    returned unfollowed."""
    response = browser.get(url, allow_redirects=False, timeout=30)
    while response.is_redirect:
        location = urllib.parse.urljoin(response.url, response.headers["Location"])
        if not location.startswith(idp.base_url):
            return response
        response = browser.get(location, allow_redirects=False, timeout=30)
    return response


def start_login(browser: requests.Session, idp: SamlIdp) -> tuple[str, requests.Response]:
    request_id = f"_{uuid.uuid4().hex}"
    return request_id, within_idp(browser, idp, authn_request(idp, request_id))


def submit_password(
    browser: requests.Session, page: requests.Response, username: str, password: str
) -> requests.Response:
    (form,) = [form for form in forms_on(page) if "password" in form["fields"]]
    fields = {**form["fields"], "username": username, "password": password}
    return browser.post(form["action"], data=fields, timeout=30)


def saml_response(page: requests.Response) -> tuple[dict, ET.Element]:
    """The auto-submitted form that carries the Response to the ACS, and the Response."""
    (form,) = [form for form in forms_on(page) if "SAMLResponse" in form["fields"]]
    return form, parse_xml(base64.b64decode(form["fields"]["SAMLResponse"]))


def sign_in(
    browser: requests.Session, idp: SamlIdp, user: SamlUser
) -> tuple[str, dict, ET.Element]:
    request_id, login_page = start_login(browser, idp)
    form, response = saml_response(
        submit_password(browser, login_page, user.username, user.password)
    )
    return request_id, form, response


def released_attributes(assertion: ET.Element) -> dict[str, list[str]]:
    released = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", NS):
        assert attribute.get("NameFormat") == URI_NAME_FORMAT
        values = attribute.iterfind("saml:AttributeValue", NS)
        released[attribute.get("Name")] = [value.text for value in values]
    return released


def xmlsec1_verify(cert_pem: str, xml: bytes, element: str, tmp_path: Path) -> bool:
    """Whether xmlsec1 finds the signature inside `element` (Response or Assertion) valid
    under the key of `cert_pem` (not the certificate the signature carries)."""
    document, cert = tmp_path / "response.xml", tmp_path / "signer.crt"
    document.write_bytes(xml)
    cert.write_text(cert_pem)
    result = subprocess.run(
        [
            "xmlsec1",
            "--verify",
            "--pubkey-cert-pem",
            str(cert),
            "--id-attr:ID",
            f"{NS['samlp']}:Response",
            "--id-attr:ID",
            f"{NS['saml']}:Assertion",
            "--node-xpath",
            f"//*[local-name()='{element}']/*[local-name()='Signature']",
            str(document),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


def assert_redirect_signed_by(idp: SamlIdp, location: str, parameter: str) -> None:
    """Check an HTTP-Redirect binding signature: over the query string as sent, less
    the Signature parameter."""
    raw = dict(part.split("=", 1) for part in urllib.parse.urlsplit(location).query.split("&"))
    assert urllib.parse.unquote(raw["SigAlg"]) == RSA_SHA256
    signed = "&".join(f"{k}={raw[k]}" for k in (parameter, "RelayState", "SigAlg") if k in raw)
    signature = base64.b64decode(urllib.parse.unquote(raw["Signature"]))
    key = x509.load_pem_x509_certificate(idp.cert_pem.encode()).public_key()
    key.verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())


# The tests.


def test_metadata_describes_a_signing_idp_with_sso_and_slo(idp):
    metadata = parse_xml(idp.metadata_xml())
    assert metadata.get("entityID") == idp.entity_id
    descriptor = metadata.find("md:IDPSSODescriptor", NS)
    assert descriptor is not None
    sso = {
        e.get("Binding"): e.get("Location")
        for e in descriptor.iterfind("md:SingleSignOnService", NS)
    }
    slo = {
        e.get("Binding"): e.get("Location")
        for e in descriptor.iterfind("md:SingleLogoutService", NS)
    }
    assert sso[HTTP_REDIRECT] == idp.sso_url
    assert slo[HTTP_REDIRECT] == idp.slo_url
    assert [e.text for e in descriptor.iterfind("md:NameIDFormat", NS)] == [PERSISTENT]
    signing = descriptor.find("md:KeyDescriptor[@use='signing']//ds:X509Certificate", NS)
    assert signing is not None
    published = x509.load_der_x509_certificate(base64.b64decode(signing.text or ""))
    assert published == x509.load_pem_x509_certificate(idp.cert_pem.encode())


def test_sign_in_posts_a_signed_assertion_to_the_acs(idp):
    browser = requests.Session()
    request_id, login_page = start_login(browser, idp)
    assert login_page.url.startswith(idp.base_url + "module.php/core/loginuserpass.php")
    page = submit_password(browser, login_page, ALICE.username, ALICE.password)
    form, response = saml_response(page)

    assert form["action"] == SP_ACS_URL and form["method"] == "post"
    assert form["fields"]["RelayState"] == "/after"
    assert response.get("Destination") == SP_ACS_URL
    assert response.get("InResponseTo") == request_id
    assert response.find("samlp:Status/samlp:StatusCode", NS).get("Value") == SUCCESS
    assertion = response.find("saml:Assertion", NS)
    assert assertion.findtext("saml:Issuer", namespaces=NS) == idp.entity_id
    audiences = assertion.findall("saml:Conditions/saml:AudienceRestriction/saml:Audience", NS)
    assert [audience.text for audience in audiences] == [SP_ENTITY_ID]
    confirmation = assertion.find("saml:Subject/saml:SubjectConfirmation", NS)
    assert confirmation.get("Method") == "urn:oasis:names:tc:SAML:2.0:cm:bearer"
    data = confirmation.find("saml:SubjectConfirmationData", NS)
    assert data.get("Recipient") == SP_ACS_URL and data.get("InResponseTo") == request_id
    assert assertion.find("ds:Signature", NS) is not None
    assert response.find("ds:Signature", NS) is not None

    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    assert name_id.get("Format") == PERSISTENT
    assert name_id.text == ALICE.name_id
    assert name_id.get("SPNameQualifier") == SP_ENTITY_ID
    assert name_id.get("NameQualifier") == idp.entity_id

    assert released_attributes(assertion) == {
        ATTRIBUTE_OIDS[name]: values for name, values in ALICE.attributes.items()
    }


def test_the_signatures_verify_with_xmlsec1_and_only_with_the_idp_key(idp, tmp_path):
    if shutil.which("xmlsec1") is None:
        missing_service("xmlsec1 not installed (apt-get install xmlsec1)")
    _, form, _ = sign_in(requests.Session(), idp, ALICE)
    signed = base64.b64decode(form["fields"]["SAMLResponse"])
    assert xmlsec1_verify(idp.cert_pem, signed, "Assertion", tmp_path)
    assert xmlsec1_verify(idp.cert_pem, signed, "Response", tmp_path)

    _, stranger = self_signed_certificate("Not the IdP")
    assert not xmlsec1_verify(stranger, signed, "Assertion", tmp_path)
    in_assertion = signed.replace(b"alice@example.edu", b"mallory@example.edu")
    assert in_assertion != signed
    assert not xmlsec1_verify(idp.cert_pem, in_assertion, "Assertion", tmp_path)
    # The Response's Destination is outside the Assertion: only the Response's signature breaks.
    outside = signed.replace(f'Destination="{SP_ACS_URL}"'.encode(), b'Destination="http://x/"')
    assert outside != signed
    assert xmlsec1_verify(idp.cert_pem, outside, "Assertion", tmp_path)
    assert not xmlsec1_verify(idp.cert_pem, outside, "Response", tmp_path)


def test_the_persistent_name_id_is_the_same_at_every_sign_in(idp):
    name_ids = []
    for _ in range(2):
        _, _, response = sign_in(requests.Session(), idp, BOB)
        name_ids.append(response.findtext("saml:Assertion/saml:Subject/saml:NameID", namespaces=NS))
    assert name_ids == [BOB.name_id, BOB.name_id]
    assert BOB.name_id != ALICE.name_id


def test_every_attribute_in_attribute_oids_is_released_under_that_oid(idp):
    assert set(BOB.attributes) == set(ATTRIBUTE_OIDS)
    _, _, response = sign_in(requests.Session(), idp, BOB)
    assert released_attributes(response.find("saml:Assertion", NS)) == {
        ATTRIBUTE_OIDS[name]: values for name, values in BOB.attributes.items()
    }


def test_the_idp_session_signs_in_again_without_a_password(idp):
    browser = requests.Session()
    sign_in(browser, idp, ALICE)
    request_id, page = start_login(browser, idp)
    _, response = saml_response(page)
    assert response.get("InResponseTo") == request_id
    assert (
        response.findtext("saml:Assertion/saml:Subject/saml:NameID", namespaces=NS) == ALICE.name_id
    )


def test_a_wrong_password_is_refused(idp):
    browser = requests.Session()
    _, login_page = start_login(browser, idp)
    page = submit_password(browser, login_page, ALICE.username, "wrong password")
    assert "SAMLResponse" not in page.text
    assert [form for form in forms_on(page) if "password" in form["fields"]]
    assert "Incorrect username or password" in page.text


def test_single_logout_answers_the_sp_and_ends_the_idp_session(idp):
    browser = requests.Session()
    _, _, response = sign_in(browser, idp, ALICE)
    assertion = response.find("saml:Assertion", NS)
    name_id = assertion.find("saml:Subject/saml:NameID", NS)
    session = assertion.find("saml:AuthnStatement", NS).get("SessionIndex")
    request_id = f"_{uuid.uuid4().hex}"

    redirect = within_idp(browser, idp, logout_request(idp, request_id, name_id, session))
    location = redirect.headers["Location"]
    assert location.startswith(SP_SLO_URL + "?")
    assert_redirect_signed_by(idp, location, "SAMLResponse")
    logout_response = redirect_message(location, "SAMLResponse")
    assert logout_response.tag == f"{{{NS['samlp']}}}LogoutResponse"
    assert logout_response.get("InResponseTo") == request_id
    assert logout_response.get("Destination") == SP_SLO_URL
    assert logout_response.find("samlp:Status/samlp:StatusCode", NS).get("Value") == SUCCESS

    _, page = start_login(browser, idp)
    assert [form for form in forms_on(page) if "password" in form["fields"]]


def test_idp_initiated_logout_sends_the_sp_a_signed_logout_request(idp):
    browser = requests.Session()
    sign_in(browser, idp, BOB)
    redirect = within_idp(browser, idp, idp.logout_url(f"{SP}/signed-out"))
    location = redirect.headers["Location"]
    assert location.startswith(SP_SLO_URL + "?")
    assert_redirect_signed_by(idp, location, "SAMLRequest")
    request = redirect_message(location, "SAMLRequest")
    assert request.tag == f"{{{NS['samlp']}}}LogoutRequest"
    assert request.findtext("saml:NameID", namespaces=NS) == BOB.name_id


def test_unsigned_responses_and_email_name_ids_when_asked(tmp_path):
    if reason := saml_idp_available():
        missing_service(reason)
    options = {"sign_assertions": False, "sign_responses": False, "name_id_format": EMAIL}
    with SamlIdp(tmp_path, SP_ENTITY_ID, SP_ACS_URL, None, None, [ALICE], **options) as idp:
        _, _, response = sign_in(requests.Session(), idp, ALICE)
    assert response.find(".//ds:Signature", NS) is None
    name_id = response.find("saml:Assertion/saml:Subject/saml:NameID", NS)
    assert (name_id.get("Format"), name_id.text) == (EMAIL, "alice.liddell@example.edu")


def test_unsigned_requests_are_refused_when_signatures_are_required(tmp_path):
    if reason := saml_idp_available():
        missing_service(reason)
    _, sp_cert = self_signed_certificate("CRP Portal SP")
    with SamlIdp(
        tmp_path, SP_ENTITY_ID, SP_ACS_URL, None, sp_cert, [ALICE], require_signed_requests=True
    ) as idp:
        _, page = start_login(requests.Session(), idp)
    assert "no signature found on message" in page.text
    assert not forms_on(page)
