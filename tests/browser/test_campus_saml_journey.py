"""Campus sign-in in Chromium, through a real SAML 2.0 IdP (SimpleSAMLphp, signing its
assertions and responses and requiring signed requests) on loopback: a roster student
signs in by student number, signing out ends both sessions, and signing out at the IdP
ends the portal's."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.sso.models import SsoIdentity
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import sign_out
from tests.conftest import missing_service, opened_page, serving
from tests.factories import make_user
from tests.idp.saml import (
    ATTRIBUTE_OIDS,
    SamlIdp,
    SamlUser,
    saml_idp_available,
    sp_key_files,
)
from tests.pg import free_port

pytestmark = pytest.mark.browser

ROSTER_STUDENT = SamlUser(
    "jrivera",
    "campus-password-1",
    {
        "eduPersonPrincipalName": ["jrivera@example.edu"],
        "mail": ["jordan.rivera@example.edu"],  # not the address on the roster
        "displayName": ["Jordan Rivera"],
        "givenName": ["Jordan"],
        "sn": ["Rivera"],
        "eduPersonAffiliation": ["student", "member"],
        "employeeNumber": ["S2468013"],
    },
)


@pytest.fixture(scope="module")
def portal_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def sp_keys(tmp_path_factory):
    return sp_key_files(tmp_path_factory.mktemp("saml-sp"))


@pytest.fixture(scope="module")
def idp(tmp_path_factory, portal_port, sp_keys):
    reason = saml_idp_available()
    if reason is not None:
        missing_service(reason)
    portal = f"http://127.0.0.1:{portal_port}"
    with SamlIdp(
        tmp_path_factory.mktemp("saml-idp"),
        sp_entity_id=f"{portal}/sso/saml/metadata",
        sp_acs_url=f"{portal}/sso/saml/acs",
        sp_slo_url=f"{portal}/sso/saml/slo",
        sp_cert_pem=sp_keys[2],
        users=[ROSTER_STUDENT],
        require_signed_requests=True,
    ) as running:
        yield running


@pytest.fixture
def app_config(idp, sp_keys):
    return {
        "CRP_SAML_IDP_METADATA_URL": idp.metadata_url,
        "CRP_SAML_SP_KEY_FILE": str(sp_keys[0]),
        "CRP_SAML_SP_CERT_FILE": str(sp_keys[1]),
        "CRP_SAML_STUDENT_ID_ATTRIBUTE": ATTRIBUTE_OIDS["employeeNumber"],
    }


@pytest.fixture
def page(app, browser, portal_port):
    with serving(app, portal_port) as server, opened_page(browser, server) as opened:
        yield opened


def sign_in_at_the_idp(page, user: SamlUser) -> None:
    page.goto("/sign-in")
    page.get_by_role("link", name="Sign in with your campus account").click()
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Login").click()


def on_the_roster() -> None:
    make_user(
        "student",
        email="jordan@registrar.example.edu",
        name="Jordan Rivera",
        student_id="S2468013",
        password=None,
    )


def test_a_roster_student_signs_in_and_out_through_the_campus_idp(page, ctx):
    on_the_roster()
    page.goto("/sign-in")
    assert_accessible(page)
    sign_in_at_the_idp(page, ROSTER_STUDENT)
    expect(page.get_by_text("Welcome, Jordan Rivera")).to_be_visible()
    identity = db.session.execute(select(SsoIdentity.protocol, SsoIdentity.subject)).one()
    db.session.rollback()  # outside a request a transaction writes: let the server's run
    assert tuple(identity) == ("saml", ROSTER_STUDENT.name_id)

    sign_out(page)
    expect(page.get_by_role("heading", name="You are signed out of the portal")).to_be_visible()
    page.get_by_role("link", name="Sign out of your campus account too").click()
    expect(page.get_by_text("You are signed out of your campus account too.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()

    # Both sessions ended: the IdP asks for the password again.
    page.get_by_role("link", name="Sign in with your campus account").click()
    expect(page.get_by_label("Password")).to_be_visible()


def test_signing_out_at_the_idp_ends_the_portal_session(page, ctx, idp):
    on_the_roster()
    sign_in_at_the_idp(page, ROSTER_STUDENT)
    expect(page.get_by_text("Welcome, Jordan Rivera")).to_be_visible()
    portal = page.url.split("/", 3)[:3]
    page.goto(idp.logout_url("/".join(portal) + "/"))
    # The IdP sent its LogoutRequest through the portal on the way back to the home page.
    expect(page.get_by_role("link", name="Sign in", exact=True).first).to_be_visible()
    expect(page.get_by_text("Welcome, Jordan Rivera")).to_have_count(0)
