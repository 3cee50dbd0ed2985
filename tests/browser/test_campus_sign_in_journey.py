"""Campus sign-in in Chromium, through a real OpenID Connect provider (panva's
oidc-provider, OpenID Certified) running on loopback: a roster student signs in, an
unknown student lands on the application, and signing out ends both sessions."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crp_portal.extensions import db
from crp_portal.sso.models import SsoIdentity
from tests.browser.axe import assert_accessible
from tests.browser.test_journeys import sign_out
from tests.conftest import missing_service, opened_page, serving
from tests.factories import PASSWORD, make_user
from tests.idp.oidc import OidcAccount, OidcProvider, oidc_provider_available
from tests.pg import free_port

pytestmark = pytest.mark.browser

ROSTER_STUDENT = OidcAccount(
    login="jrivera",
    password="campus-password-1",
    sub="248289761001",
    email="jordan.rivera@example.edu",
    name="Jordan Rivera",
)
ROSTER_NEWCOMER = OidcAccount(
    login="arivera",
    password="campus-password-3",
    sub="248289761003",
    email="ari.rivera@campus.example.edu",  # not the address on the roster
    name="Ari Rivera",
    student_number="S7654321",
)
NEWCOMER = OidcAccount(
    login="skim",
    password="campus-password-2",
    sub="248289761002",
    email="sam.kim@example.edu",
    name="Sam Kim",
)


@pytest.fixture(scope="module")
def portal_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def provider(tmp_path_factory, portal_port):
    reason = oidc_provider_available()
    if reason is not None:
        missing_service(reason)
    portal = f"http://127.0.0.1:{portal_port}"
    with OidcProvider(
        tmp_path_factory.mktemp("oidc"),
        redirect_uris=[f"{portal}/sign-in/oidc/callback"],
        post_logout_redirect_uris=[f"{portal}/sign-in"],
        accounts=[ROSTER_STUDENT, ROSTER_NEWCOMER, NEWCOMER],
    ) as running:
        yield running


@pytest.fixture
def app_config(provider):
    return {
        "CRP_OIDC_ISSUER": provider.issuer,
        "CRP_OIDC_CLIENT_ID": provider.client_id,
        "CRP_OIDC_CLIENT_SECRET": provider.client_secret,
        "CRP_OIDC_STUDENT_ID_CLAIM": "student_number",
        "CRP_SSO_STUDENTS_MAY_APPLY": True,
    }


@pytest.fixture
def page(app, browser, portal_port):
    with serving(app, portal_port) as server, opened_page(browser, server) as opened:
        yield opened


def sign_in_at_the_provider(page, account: OidcAccount) -> None:
    page.goto("/sign-in")
    page.get_by_role("link", name="Sign in with your campus account").click()
    page.get_by_label("Username").fill(account.login)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()


def test_a_roster_student_signs_in_and_out_through_the_campus_provider(page, ctx):
    make_user("student", email=ROSTER_STUDENT.email, name="Jordan Rivera", password=None)
    page.goto("/sign-in")
    assert_accessible(page)
    sign_in_at_the_provider(page, ROSTER_STUDENT)
    expect(page.get_by_text("Welcome, Jordan Rivera")).to_be_visible()
    subject = db.session.scalar(select(SsoIdentity.subject))
    db.session.rollback()  # outside a request a transaction writes: let the server's run
    assert subject == ROSTER_STUDENT.sub

    sign_out(page)
    expect(page.get_by_role("heading", name="You are signed out of the portal")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sign out of your campus account too").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()

    # Both sessions ended: the provider asks for the password again.
    page.get_by_role("link", name="Sign in with your campus account").click()
    expect(page.get_by_label("Password")).to_be_visible()


def test_an_unknown_student_lands_on_the_application(page, ctx):
    sign_in_at_the_provider(page, NEWCOMER)
    expect(page).to_have_url(f"{page.url.split('/me/')[0]}/me/apply")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)


def test_an_admin_imports_a_student_who_signs_in_by_student_id_and_can_be_unlinked(
    page, ctx, tmp_path
):
    make_user("staff", email="admin@example.edu", name="Ada Admin", is_admin=True)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "email,name,role,student_id\nari@registrar.example.edu,Ari Rivera,student,S7654321\n"
    )
    page.goto("/sign-in")
    page.get_by_label("Email address", exact=True).fill("admin@example.edu")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto("/admin/import")
    page.get_by_label("Roster file (CSV)").set_input_files(str(roster))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported 1 accounts.")).to_be_visible()
    sign_out(page)

    sign_in_at_the_provider(page, ROSTER_NEWCOMER)
    expect(page.get_by_text("Welcome, Ari Rivera")).to_be_visible()
    sign_out(page)
    page.get_by_role("link", name="Sign out of your campus account too").click()

    page.get_by_label("Email address", exact=True).fill("admin@example.edu")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto("/admin/accounts?q=Ari")
    page.get_by_role("link", name="Ari Rivera").click()
    expect(page.get_by_text("Linked through OpenID Connect")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Unlink campus sign-in").click()
    expect(page.get_by_text("campus sign-in is unlinked")).to_be_visible()
    expect(page.get_by_text("Linked through OpenID Connect")).to_have_count(0)
