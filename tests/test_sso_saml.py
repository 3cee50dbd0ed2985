"""Campus sign-in with SAML 2.0, against an IdP whose Responses each test crafts and signs
with xmlsec1: who an assertion signs in as, every bad Response turned away with a page
and an audit row (never a session), the portal's metadata, and single logout both ways."""

import base64
import shutil
import time
import xml.etree.ElementTree as ET
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from crp_portal import create_app
from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import User
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.sso.models import SamlAssertionSeen, SsoIdentity
from crp_portal.sso.saml import METADATA_KEY
from tests.conftest import missing_service
from tests.factories import make_user
from tests.idp.crafted_saml import (
    KAI,
    RSA_SHA1,
    SHA1,
    CraftedIdp,
    MetadataServer,
    Sp,
    new_id,
)
from tests.idp.saml import PERSISTENT, TRANSIENT, pem_body, self_signed_certificate, sp_key_files

SP = Sp(
    "http://portal.test/sso/saml/metadata",
    "http://portal.test/sso/saml/acs",
    "http://portal.test/sso/saml/slo",
)
NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
}
EMPLOYEE_NUMBER = "urn:oid:2.16.840.1.113730.3.1.3"
REFUSED = b"The campus sign-in could not be completed."


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    if shutil.which("xmlsec1") is None:
        missing_service("xmlsec1 is not installed (apt-get install xmlsec1)")
    return CraftedIdp(tmp_path_factory.mktemp("saml-idp"))


@pytest.fixture(scope="module")
def sp_keys(tmp_path_factory):
    """The portal's signing key and certificate, as files."""
    return sp_key_files(tmp_path_factory.mktemp("saml-sp"))


@pytest.fixture
def app_config(idp, sp_keys):
    return {
        "CRP_SAML_IDP_METADATA_FILE": str(idp.write_metadata()),
        "CRP_SAML_SP_KEY_FILE": str(sp_keys[0]),
        "CRP_SAML_SP_CERT_FILE": str(sp_keys[1]),
        "CRP_SAML_STUDENT_ID_ATTRIBUTE": EMPLOYEE_NUMBER,
        "CRP_SSO_TIMEOUT_SECONDS": 1,
        "CRP_SSO_STUDENTS_MAY_APPLY": False,
    }


def redirect_message(location: str, key: str) -> ET.Element:
    """The SAML message an HTTP-Redirect address carries."""
    encoded = parse_qs(urlsplit(location).query)[key][0]
    return ET.fromstring(zlib.decompress(base64.b64decode(encoded), -15))  # noqa: S314


def start(client) -> str:
    """Press "Sign in with your campus account": the ID of the AuthnRequest sent."""
    response = client.get("/sign-in/saml")
    assert response.status_code == 302
    return redirect_message(response.location, "SAMLRequest").get("ID")


def post_back(client, encoded: str):
    """The IdP's page posts the Response to the portal (HTTP-POST binding)."""
    return client.post("/sso/saml/acs", data={"SAMLResponse": encoded, "RelayState": ""})


def sign_in_through(client, idp, **changes):
    request_id = start(client)
    in_response_to = changes.pop("in_response_to", request_id)
    return post_back(client, idp.response(SP, in_response_to, **changes))


def signed_in_as(client) -> bytes:
    return client.get("/").data


def refusals() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.detail == "sign-in")))


def assert_refused(client, response, reason: str, linked: bool = False) -> None:
    """A page saying so, no session, and one row on the trail naming the reason."""
    assert response.status_code == 403
    assert b"Sign in" in signed_in_as(client)
    if not linked:
        assert db.session.scalar(select(SsoIdentity)) is None
    assert refusals() == [f"campus sign-on refused (saml): {reason}"]


def test_the_redirect_carries_a_signed_request_for_a_persistent_name_id(client, ctx, idp, sp_keys):
    response = client.get("/sign-in/saml")
    target = urlsplit(response.location)
    assert f"{target.scheme}://{target.netloc}{target.path}" == idp.sso_url
    request = redirect_message(response.location, "SAMLRequest")
    assert request.get("AssertionConsumerServiceURL") == SP.acs_url
    assert request.get("Destination") == idp.sso_url
    assert request.findtext("saml:Issuer", namespaces=NS) == SP.entity_id
    assert request.find("samlp:NameIDPolicy", NS).get("Format") == PERSISTENT

    raw = dict(part.split("=", 1) for part in target.query.split("&"))
    assert unquote_plus(raw["SigAlg"]) == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    signed = "&".join(
        f"{key}={raw[key]}" for key in ("SAMLRequest", "RelayState", "SigAlg") if key in raw
    )
    public_key = x509.load_pem_x509_certificate(sp_keys[2].encode()).public_key()
    public_key.verify(  # raises if the signature is not the portal's
        base64.b64decode(unquote_plus(raw["Signature"])),
        signed.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_first_sign_in_links_by_mail_then_by_name_id_only(client, ctx, idp):
    kai = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    response = sign_in_through(client, idp)
    assert response.status_code == 302 and response.location == "/"
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)
    identity = db.session.scalar(select(SsoIdentity))
    assert (identity.user_id, identity.protocol, identity.issuer, identity.subject) == (
        kai.id,
        "saml",
        idp.entity_id,
        "kai-persistent-0001",
    )

    # The address is given to someone else; the NameID still signs Kai in, and the new
    # holder of the address is not signed in as Kai.
    client.post("/sign-out")
    make_user("student", email="new-holder@example.edu", name="Someone Else")
    sign_in_through(client, idp, attributes={**KAI, "mail": ["new-holder@example.edu"]})
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)


def test_the_student_id_attribute_links_a_roster_student(client, ctx, idp):
    make_user("student", email="registrar@example.edu", name="Ana Ruiz", student_id="S123")
    attributes = {**KAI, "mail": ["ana@campus.example.edu"], "employeeNumber": ["S123"]}
    sign_in_through(client, idp, name_id="ana-persistent", attributes=attributes)
    assert b"Welcome, Ana Ruiz" in signed_in_as(client)


def test_friendly_attribute_names_are_read_as_well_as_oids(client, ctx, idp):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    sign_in_through(client, idp, name_format="basic")
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)


def test_a_configured_subject_attribute_stands_in_for_the_name_id(client, ctx, idp, app):
    pairwise_id = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
    app.config["CRP_SAML_SUBJECT_ATTRIBUTE"] = pairwise_id
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    attributes = {**KAI, pairwise_id: ["4f1c0b@example.edu"]}
    sign_in_through(client, idp, name_id_format=TRANSIENT, attributes=attributes)
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)
    assert db.session.scalar(select(SsoIdentity.subject)) == "4f1c0b@example.edu"
    requested = ET.fromstring(client.get("/sso/saml/metadata").data)  # noqa: S314
    assert pairwise_id in {
        attribute.get("Name") for attribute in requested.iterfind(".//md:RequestedAttribute", NS)
    }

    client.post("/sign-out")
    response = sign_in_through(client, idp, name_id_format=TRANSIENT)
    assert_refused(client, response, "no subject attribute", linked=True)


def test_an_unknown_student_becomes_an_applicant_where_the_program_allows(client, ctx, idp, app):
    app.config["CRP_SSO_STUDENTS_MAY_APPLY"] = True
    attributes = {"mail": ["newcomer@example.edu"], "givenName": ["Rae"], "sn": ["Kim"]}
    attributes["eduPersonAffiliation"] = ["STUDENT"]
    response = sign_in_through(client, idp, name_id="rae-persistent", attributes=attributes)
    assert response.status_code == 302 and response.location == "/me/apply"
    user = db.session.scalar(select(User).where(User.email == "newcomer@example.edu"))
    assert (user.name, user.role, user.is_admin, user.password_hash) == (
        "Rae Kim",
        "student",
        False,
        None,
    )
    assert db.session.get(MemberProfile, user.id).status == MemberStatus.APPLICANT


def test_someone_the_program_has_not_added_is_turned_away(client, ctx, idp):
    response = sign_in_through(client, idp)
    assert b"The program has not added you yet" in response.data
    assert_refused(client, response, "not known to the program")


def ago(**delta) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


STRANGER = self_signed_certificate("Not the IdP")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param(
            {
                "issued": timedelta(minutes=-20),
                "not_before": timedelta(minutes=-20),
                "not_on_or_after": timedelta(minutes=-10),
            },
            "the assertion has expired",
            id="expired",
        ),
        pytest.param(
            {"not_before": timedelta(minutes=10), "not_on_or_after": timedelta(minutes=20)},
            "the assertion is not valid yet",
            id="not-yet-valid",
        ),
        pytest.param(
            {"audience": "https://other-sp.example.edu/shibboleth"},
            "the assertion is for another audience",
            id="wrong-audience",
        ),
        pytest.param(
            {"destination": "https://other-sp.example.edu/acs"},
            "the Response is addressed to another destination",
            id="wrong-destination",
        ),
        pytest.param(
            {"recipient": "https://other-sp.example.edu/acs"},
            "its conditions or subject confirmation failed",
            id="wrong-recipient",
        ),
        pytest.param(
            {"sign_assertion": False},
            "a signature is missing or does not verify",
            id="unsigned-assertion-in-a-signed-response",
        ),
        pytest.param(
            {"sign_assertion": False, "sign_response": False},
            "a signature is missing or does not verify",
            id="nothing-signed",
        ),
        pytest.param(
            {"keys": STRANGER},
            "a signature is missing or does not verify",
            id="signed-by-another-key",
        ),
        pytest.param(
            {"issuer": "https://other-idp.example.edu/idp"},
            "no key for its issuer in the IdP metadata",
            id="another-issuer",
        ),
        pytest.param(
            {"algorithms": (RSA_SHA1, SHA1)},
            "signed with SHA-1 or another weak algorithm",
            id="sha1",
        ),
        pytest.param(
            {"in_response_to": None},
            "it answers no sign-in started in this browser",
            id="unsolicited",
        ),
        pytest.param(
            {"in_response_to": "_a-request-this-browser-never-sent"},
            "it answers no sign-in started in this browser",
            id="unknown-request",
        ),
        pytest.param({"name_id_format": TRANSIENT}, "no persistent NameID", id="transient-name-id"),
    ],
)
def test_bad_responses_are_refused(client, ctx, idp, changes, reason):
    """Times are given as offsets from when the test runs, not from when it was collected:
    a slow run once made "ten minutes from now" the past before the test got to it."""
    make_user("student", email="kai@example.edu")
    now = datetime.now(UTC)
    at_run_time = {k: now + v if isinstance(v, timedelta) else v for k, v in changes.items()}
    response = sign_in_through(client, idp, **at_run_time)
    assert b"Campus sign-in did not work" in response.data
    assert_refused(client, response, reason)


def test_a_tampered_assertion_is_refused(client, ctx, idp):
    make_user("student", email="kai@example.edu")
    make_user("student", email="mallory@example.edu")
    signed = base64.b64decode(idp.response(SP, start(client))).decode()
    tampered = signed.replace("kai@example.edu", "mallory@example.edu")
    assert tampered != signed
    response = post_back(client, base64.b64encode(tampered.encode()).decode())
    assert REFUSED in response.data
    assert_refused(client, response, "a signature is missing or does not verify")


def test_the_same_response_twice_is_refused(client, ctx, idp):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    posted = idp.response(SP, start(client))
    assert post_back(client, posted).status_code == 302
    client.post("/sign-out")
    start(client)  # a sign-in is under way in this browser, but not the one answered
    replayed = post_back(client, posted)
    assert REFUSED in replayed.data
    assert b"Sign in" in signed_in_as(client)
    assert refusals() == [
        "campus sign-on refused (saml): it answers no sign-in started in this browser"
    ]


def test_an_assertion_used_before_is_refused_in_a_new_response(client, ctx, idp):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    assertion_id = new_id()
    assert sign_in_through(client, idp, assertion_id=assertion_id).status_code == 302
    assert db.session.get(SamlAssertionSeen, assertion_id) is not None
    client.post("/sign-out")
    replayed = sign_in_through(client, idp, assertion_id=assertion_id)
    assert REFUSED in replayed.data
    assert_refused(client, replayed, "the assertion was used before", linked=True)


def test_expired_assertions_are_forgotten_at_the_next_sign_in(client, ctx, idp):
    db.session.add(SamlAssertionSeen(id="_old", seen_at=ago(days=1), expires_at=ago(hours=23)))
    db.session.commit()
    make_user("student", email="kai@example.edu")
    sign_in_through(client, idp)
    assert db.session.get(SamlAssertionSeen, "_old") is None
    assert db.session.scalar(select(SamlAssertionSeen.id)) is not None


def test_an_idp_whose_metadata_address_is_down_gets_a_clear_page(client, ctx, app):
    app.config.update(
        CRP_SAML_IDP_METADATA_FILE="", CRP_SAML_IDP_METADATA_URL="http://127.0.0.1:9/idp"
    )
    app.extensions.pop(METADATA_KEY, None)
    response = client.get("/sign-in/saml")
    assert response.status_code == 503
    assert b"did not answer in time" in response.data
    assert b"Sign in" in signed_in_as(client)


def test_a_slow_metadata_address_times_out_rather_than_hanging(client, ctx, app, idp):
    with MetadataServer(idp.metadata_xml(), delay_seconds=3) as slow:  # the app allows 1
        app.config.update(CRP_SAML_IDP_METADATA_FILE="", CRP_SAML_IDP_METADATA_URL=slow.url)
        app.extensions.pop(METADATA_KEY, None)
        began = time.monotonic()
        response = client.get("/sign-in/saml")
        assert time.monotonic() - began < 2.5
    assert response.status_code == 503
    assert b"did not answer in time" in response.data


def test_metadata_from_an_address_signs_people_in(client, ctx, app, idp):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    with MetadataServer(idp.metadata_xml()) as server:
        app.config.update(CRP_SAML_IDP_METADATA_FILE="", CRP_SAML_IDP_METADATA_URL=server.url)
        app.extensions.pop(METADATA_KEY, None)
        sign_in_through(client, idp)
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)


def test_the_sp_metadata_names_the_acs_slo_entity_and_signing_certificate(client, sp_keys):
    response = client.get("/sso/saml/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    metadata = ET.fromstring(response.data)  # noqa: S314 - our own output
    assert metadata.get("entityID") == SP.entity_id
    descriptor = metadata.find("md:SPSSODescriptor", NS)
    assert descriptor.get("WantAssertionsSigned") == "true"
    assert descriptor.get("AuthnRequestsSigned") == "true"
    acs = descriptor.find("md:AssertionConsumerService", NS)
    assert (acs.get("Binding"), acs.get("Location")) == (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        SP.acs_url,
    )
    slo = descriptor.find("md:SingleLogoutService", NS)
    assert (slo.get("Binding"), slo.get("Location")) == (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        SP.slo_url,
    )
    assert descriptor.findtext("md:NameIDFormat", namespaces=NS) == PERSISTENT
    certificate = descriptor.findtext(
        "md:KeyDescriptor[@use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS
    )
    assert certificate.strip() == pem_body(sp_keys[2])
    requested = {
        attribute.get("Name")
        for attribute in descriptor.iterfind(
            "md:AttributeConsumingService/md:RequestedAttribute", NS
        )
    }
    assert {"urn:oid:0.9.2342.19200300.100.1.3", EMPLOYEE_NUMBER} <= requested
    assert metadata.find("md:Extensions", NS) is None  # no list of algorithms, MD5 among them


def test_without_a_key_the_metadata_names_none_and_requests_go_unsigned(client, app):
    app.config.update(CRP_SAML_SP_KEY_FILE="", CRP_SAML_SP_CERT_FILE="")
    metadata = ET.fromstring(client.get("/sso/saml/metadata").data)  # noqa: S314
    assert metadata.find(".//md:KeyDescriptor", NS) is None
    assert "Signature=" not in client.get("/sign-in/saml").location


def test_the_sign_in_page_offers_campus_sign_in(client, ctx):
    page = client.get("/sign-in").data
    assert b'href="/sign-in/saml">Sign in with your campus account</a>' in page


def test_sign_out_offers_single_logout_at_the_idp(client, ctx, idp):
    make_user("student", email="kai@example.edu")
    session_index = new_id()
    sign_in_through(client, idp, session_index=session_index)
    assert client.post("/sign-out").location == "/signed-out"
    page = client.get("/signed-out").data
    assert b'href="/sign-out/saml"' in page and b"Sign out of your campus account too" in page

    leave = client.get("/sign-out/saml")
    assert leave.location.startswith(idp.slo_url + "?")
    assert "Signature=" in leave.location
    request = redirect_message(leave.location, "SAMLRequest")
    name_id = request.find("saml:NameID", NS)
    assert (name_id.text, name_id.get("Format"), name_id.get("NameQualifier")) == (
        "kai-persistent-0001",
        PERSISTENT,
        idp.entity_id,
    )
    assert request.findtext("samlp:SessionIndex", namespaces=NS) == session_index

    answered = client.get(f"/sso/saml/slo?{idp.logout_response_query(SP, request.get('ID'))}")
    assert answered.location == "/sign-in"
    assert b"You are signed out of your campus account too." in client.get("/sign-in").data


def test_a_logout_response_to_another_request_is_not_taken_as_confirmation(client, ctx, idp):
    make_user("student", email="kai@example.edu")
    sign_in_through(client, idp)
    client.post("/sign-out")
    client.get("/sign-out/saml")
    client.get(f"/sso/saml/slo?{idp.logout_response_query(SP, '_another-request')}")
    assert b"did not confirm the sign-out" in client.get("/sign-in").data


def test_logout_at_the_idp_ends_the_portal_session_and_is_answered(client, ctx, idp):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    sign_in_through(client, idp)
    query = idp.logout_request_query(SP, "kai-persistent-0001", relay_state="idp-state")
    response = client.get(f"/sso/saml/slo?{query}")
    assert response.location.startswith(idp.slo_url + "?")
    assert parse_qs(urlsplit(response.location).query)["RelayState"] == ["idp-state"]
    answer = redirect_message(response.location, "SAMLResponse")
    assert answer.find("samlp:Status/samlp:StatusCode", NS).get("Value").endswith(":Success")
    assert answer.get("Destination") == idp.slo_url
    assert b"Sign in" in signed_in_as(client)


def test_a_logout_request_not_signed_by_the_idp_signs_no_one_out(client, ctx, idp):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    sign_in_through(client, idp)
    forged = idp.logout_request_query(SP, "kai-persistent-0001").split("&SigAlg=")[0]
    assert client.get(f"/sso/saml/slo?{forged}").status_code == 403
    by_stranger = idp.logout_request_query(SP, "kai-persistent-0001", keys=STRANGER)
    assert client.get(f"/sso/saml/slo?{by_stranger}").status_code == 403
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)


def test_the_portal_starts_without_saml_or_xmlsec1(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"})
    with pytest.raises(RuntimeError, match="xmlsec1"):
        create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/b.db",
                "CRP_SAML_IDP_METADATA_URL": "https://idp.example.edu/metadata",
            },
        )


def test_an_idp_on_another_site_posts_back_without_the_session_cookie(client, ctx, idp, app):
    """The session cookie is SameSite=Lax, so a browser leaves it out of a POST from an IdP
    on another site; the request IDs' own cookie (SameSite=None over HTTPS) goes with it."""
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    request_id = start(client)
    kept = client.get_cookie("crp_saml_requests", domain="portal.test", path="/sso/saml/acs")
    assert kept is not None and kept.http_only
    client.delete_cookie("session", domain="portal.test")
    response = post_back(client, idp.response(SP, request_id))
    assert response.status_code == 302
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)
    assert (
        client.get_cookie("crp_saml_requests", domain="portal.test", path="/sso/saml/acs") is None
    )


def test_the_request_cookie_is_samesite_none_and_secure_over_https(client, ctx, idp, app):
    app.config["CRP_BASE_URL"] = "https://portal.test"
    try:
        response = client.get("/sign-in/saml", base_url="https://portal.test")
    finally:
        app.config["CRP_BASE_URL"] = "http://portal.test"
    cookie = next(
        header
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith("crp_saml_requests=")
    )
    assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie


def test_a_forged_request_cookie_answers_nothing(client, ctx, idp):
    make_user("student", email="kai@example.edu")
    client.set_cookie(
        "crp_saml_requests", '["_forged"]', domain="portal.test", path="/sso/saml/acs"
    )
    response = post_back(client, idp.response(SP, "_forged"))
    assert_refused(client, response, "it answers no sign-in started in this browser")
