"""Campus sign-in with OpenID Connect, against a provider whose answers each test crafts:
who an identity signs in as, and every bad answer turned away with a page and an audit
row, never a session."""

import functools
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from crp_portal.audit.models import AuditEntry
from crp_portal.auth.models import Invitation, User
from crp_portal.auth.services import invite, revoke_invitation
from crp_portal.extensions import db
from crp_portal.members.models import MemberProfile, MemberStatus
from crp_portal.privacy.erasure import erase_person
from crp_portal.sso.models import SsoIdentity
from crp_portal.sso.oidc import CLIENT_KEY
from crp_portal.timeutil import utcnow
from tests.factories import make_user
from tests.idp.crafted_oidc import CLIENT_ID, CLIENT_SECRET, CraftedProvider
from tests.test_concurrency import run_together

REFUSED = b"The campus sign-in could not be completed."


@pytest.fixture(scope="module")
def provider():
    with CraftedProvider() as crafted:
        yield crafted


@pytest.fixture
def app_config(provider):
    return {
        "CRP_OIDC_ISSUER": provider.issuer,
        "CRP_OIDC_CLIENT_ID": CLIENT_ID,
        "CRP_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "CRP_OIDC_STUDENT_ID_CLAIM": "student_number",
        "CRP_SSO_TIMEOUT_SECONDS": 1,
        "CRP_SSO_STUDENTS_MAY_APPLY": False,
    }


@pytest.fixture(autouse=True)
def fresh_provider(provider, app):
    """Each test starts from a provider that behaves and a client that has not read it."""
    provider.reset()
    app.extensions[CLIENT_KEY].server_metadata.pop("_loaded_at", None)
    app.extensions[CLIENT_KEY].server_metadata.pop("jwks", None)
    app.config["CRP_SSO_STUDENTS_MAY_APPLY"] = False
    yield
    app.config["CRP_SSO_STUDENTS_MAY_APPLY"] = False


def start(client) -> dict:
    """Press "Sign in with your campus account": the query the provider was sent."""
    response = client.get("/sign-in/campus")
    assert response.status_code == 302
    return {name: values[0] for name, values in parse_qs(urlsplit(response.location).query).items()}


def come_back(client, provider, sent: dict, **changes):
    """The provider signs the person in and sends the browser back with a code."""
    provider.claims = provider.id_token_claims(sent["nonce"], **changes)
    return client.get(f"/sign-in/oidc/callback?code=code-1&state={sent['state']}")


def sign_in_through(client, provider, **changes):
    return come_back(client, provider, start(client), **changes)


def signed_in_as(client) -> bytes:
    return client.get("/").data


def refusals() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.detail == "sign-in")))


def test_the_redirect_asks_for_a_code_with_pkce_state_and_nonce(client, ctx, provider):
    sent = start(client)
    assert sent["response_type"] == "code"
    assert sent["client_id"] == CLIENT_ID
    assert sent["redirect_uri"] == "http://portal.test/sign-in/oidc/callback"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) >= 43
    assert len(sent["state"]) >= 20 and len(sent["nonce"]) >= 20
    assert set(sent["scope"].split()) >= {"openid", "email", "profile"}


def test_first_sign_in_links_by_verified_email_then_by_subject_only(client, ctx, provider):
    kai = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    response = sign_in_through(client, provider)
    assert response.status_code == 302 and response.location == "/"
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)
    form = provider.token_requests[-1]["form"]
    assert form["code"] == ["code-1"] and len(form["code_verifier"][0]) >= 43
    identity = db.session.scalar(select(SsoIdentity))
    assert (identity.user_id, identity.subject, identity.issuer) == (
        kai.id,
        "subject-0001",
        provider.issuer,
    )

    # The address is given to someone else; the subject still signs Kai in, and the
    # new holder of the address is not signed in as Kai.
    client.post("/sign-out")
    make_user("student", email="new-holder@example.edu", name="Someone Else")
    sign_in_through(client, provider, email="new-holder@example.edu")
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)


def test_an_unverified_address_links_nobody(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    response = sign_in_through(client, provider, email_verified=False)
    assert response.status_code == 403
    assert b"The program has not added you yet" in response.data
    assert b"contact the program coordinator" in response.data
    assert db.session.scalar(select(SsoIdentity)) is None
    assert refusals() == ["campus sign-on refused (oidc): not known to the program"]


def test_the_student_id_claim_links_a_roster_student(client, ctx, provider):
    make_user("student", email="registrar-address@example.edu", name="Ana Ruiz", student_id="S123")
    sign_in_through(client, provider, email="ana@campus.example.edu", student_number="S123")
    assert b"Welcome, Ana Ruiz" in signed_in_as(client)


def test_an_unknown_student_becomes_an_applicant_where_the_program_allows(
    client, ctx, provider, app
):
    app.config["CRP_SSO_STUDENTS_MAY_APPLY"] = True
    response = sign_in_through(client, provider, email="newcomer@example.edu", name="Rae Kim")
    assert response.status_code == 302 and response.location == "/me/apply"
    user = db.session.scalar(select(User).where(User.email == "newcomer@example.edu"))
    assert (user.role, user.is_admin, user.password_hash) == ("student", False, None)
    profile = db.session.get(MemberProfile, user.id)
    assert profile.status == MemberStatus.APPLICANT


def test_a_deactivated_account_is_refused(client, ctx, provider):
    make_user("student", email="kai@example.edu", active=False)
    response = sign_in_through(client, provider)
    assert response.status_code == 403 and b"not active" in response.data
    assert b"Sign in" in signed_in_as(client)


def test_an_account_linked_to_another_identity_is_refused(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sign_in_through(client, provider)
    client.post("/sign-out")
    response = sign_in_through(client, provider, sub="subject-9999")
    assert response.status_code == 403
    assert b"already linked to a different campus identity" in response.data


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": timedelta(minutes=-10)}, id="expired"),
        pytest.param({"nbf": timedelta(minutes=10)}, id="not-yet-valid"),
        pytest.param({"aud": "someone-elses-client"}, id="wrong-audience"),
        pytest.param({"iss": "http://127.0.0.1:1/other-issuer"}, id="wrong-issuer"),
        pytest.param({"nonce": None}, id="missing-nonce"),
        pytest.param({"nonce": "a-nonce-from-another-sign-in"}, id="wrong-nonce"),
    ],
)
def test_bad_id_token_claims_are_refused(client, ctx, provider, changes):
    """Times are offsets from when the test runs, not from when it was collected: a slow
    run once made "ten minutes from now" the past before the test got to it."""
    make_user("student", email="kai@example.edu")
    now = time.time()
    at_run_time = {
        k: int(now + v.total_seconds()) if isinstance(v, timedelta) else v
        for k, v in changes.items()
    }
    response = sign_in_through(client, provider, **at_run_time)
    assert response.status_code == 403 and REFUSED in response.data
    assert b"Sign in" in signed_in_as(client)
    assert len(refusals()) == 1 and "ID token rejected" in refusals()[0]


def test_a_tampered_signature_is_refused(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sent = start(client)
    header, payload, signature = provider.sign(provider.id_token_claims(sent["nonce"])).split(".")
    forged = provider.sign(provider.id_token_claims(sent["nonce"], sub="someone-else"))
    provider.token_response = {
        "access_token": "a",
        "token_type": "Bearer",
        "id_token": ".".join((header, forged.split(".")[1], signature)),
    }
    response = client.get(f"/sign-in/oidc/callback?code=c&state={sent['state']}")
    assert response.status_code == 403 and REFUSED in response.data
    assert db.session.scalar(select(SsoIdentity)) is None


def test_a_token_signed_by_another_key_is_refused(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sent = start(client)
    stranger = RSAKey.generate_key(2048, {"kid": "k1"})
    provider.token_response = {
        "access_token": "a",
        "token_type": "Bearer",
        "id_token": provider.sign(provider.id_token_claims(sent["nonce"]), key=stranger),
    }
    response = client.get(f"/sign-in/oidc/callback?code=c&state={sent['state']}")
    assert response.status_code == 403 and REFUSED in response.data


def test_an_unsigned_token_is_refused(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sent = start(client)
    signed = provider.sign(provider.id_token_claims(sent["nonce"]))
    unsigned_header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    provider.token_response = {
        "access_token": "a",
        "token_type": "Bearer",
        "id_token": f"{unsigned_header}.{signed.split('.')[1]}.",
    }
    response = client.get(f"/sign-in/oidc/callback?code=c&state={sent['state']}")
    assert response.status_code == 403 and REFUSED in response.data


def test_an_answer_without_an_id_token_is_refused(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sent = start(client)
    provider.token_response = {"access_token": "a", "token_type": "Bearer"}
    response = client.get(f"/sign-in/oidc/callback?code=c&state={sent['state']}")
    assert response.status_code == 403
    assert refusals() == ["campus sign-on refused (oidc): the answer had no ID token"]


def test_a_wrong_or_replayed_state_is_refused(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sent = start(client)
    provider.claims = provider.id_token_claims(sent["nonce"])
    wrong = client.get("/sign-in/oidc/callback?code=c&state=not-the-state")
    assert wrong.status_code == 403 and REFUSED in wrong.data
    assert client.get(f"/sign-in/oidc/callback?code=c&state={sent['state']}").status_code == 302
    client.post("/sign-out")
    replayed = client.get(f"/sign-in/oidc/callback?code=c&state={sent['state']}")
    assert replayed.status_code == 403
    assert b"Sign in" in signed_in_as(client)


def test_a_discovery_document_for_another_issuer_is_refused(client, ctx, provider):
    provider.discovery_issuer = "https://evil.example"
    response = client.get("/sign-in/campus")
    assert response.status_code == 403 and REFUSED in response.data


def test_userinfo_completes_missing_claims_only_for_the_same_subject(client, ctx, provider):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    provider.userinfo = {"sub": "subject-0001", "email": "kai@example.edu", "email_verified": True}
    sign_in_through(client, provider, email=None, email_verified=None, name=None)
    assert b"Welcome, Kai Nguyen" in signed_in_as(client)

    client.post("/sign-out")
    provider.userinfo = {"sub": "someone-else", "email": "kai@example.edu", "email_verified": True}
    response = sign_in_through(client, provider, sub="subject-0002", email=None, name=None)
    assert response.status_code == 403


def test_a_provider_that_is_down_gets_a_clear_page(client, ctx, provider, app):
    app.extensions[CLIENT_KEY]._server_metadata_url = "http://127.0.0.1:9/.well-known/x"
    try:
        response = client.get("/sign-in/campus")
    finally:
        app.extensions[
            CLIENT_KEY
        ]._server_metadata_url = f"{provider.issuer}/.well-known/openid-configuration"
    assert response.status_code == 503
    assert b"did not answer in time" in response.data


def test_a_slow_token_endpoint_times_out_rather_than_hanging(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sent = start(client)
    provider.delay_seconds = 3  # the app allows 1
    began = time.monotonic()
    response = come_back(client, provider, sent)
    assert response.status_code == 503
    assert time.monotonic() - began < 2.5
    assert b"Sign in" in signed_in_as(client)


def test_sign_out_offers_the_providers_sign_out(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sign_in_through(client, provider)
    response = client.post("/sign-out")
    assert response.location == "/signed-out"
    page = client.get("/signed-out")
    assert b"Sign out of your campus account too" in page.data
    leave = client.get("/sign-out/campus")
    target = urlsplit(leave.location)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/logout"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://portal.test/sign-in"]
    assert query["client_id"] == [CLIENT_ID]
    assert b"Sign in" in signed_in_as(client)


def test_the_sign_in_page_offers_campus_sign_in(client, ctx):
    page = client.get("/sign-in").data
    assert b'href="/sign-in/campus"' in page


def test_a_linked_identity_is_in_the_data_download_and_gone_on_erasure(client, ctx, provider):
    make_user("student", email="kai@example.edu")
    sign_in_through(client, provider)
    download = client.get("/me/data.json").get_json()
    assert [(row["protocol"], row["subject"]) for row in download["campus_sign_on"]] == [
        ("oidc", "subject-0001")
    ]
    client.post("/sign-out")
    erase_person("kai@example.edu", utcnow())
    db.session.commit()
    assert db.session.scalar(select(SsoIdentity)) is None
    response = sign_in_through(client, provider)
    assert response.status_code == 403  # the erased account no longer signs in


def test_an_admin_unlinks_an_identity_which_ends_its_sessions(client, ctx, provider, app, login):
    kai = make_user("student", email="kai@example.edu", name="Kai Nguyen")
    admin = make_user("staff", email="admin@example.edu", is_admin=True)
    sign_in_through(client, provider)
    identity_id = db.session.scalar(select(SsoIdentity.id))
    admin_client = login(admin)
    page = admin_client.get(f"/admin/accounts/{kai.id}").data
    assert b"Linked through OpenID Connect" in page
    response = admin_client.post(f"/admin/accounts/{kai.id}/campus-sign-in/{identity_id}/unlink")
    assert response.status_code == 302
    assert db.session.scalar(select(SsoIdentity)) is None
    assert b"Sign in" in signed_in_as(client)  # Kai's session ended
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == kai.id))
    assert "campus sign-on unlinked (oidc)" in list(actions)
    again = admin_client.post(f"/admin/accounts/{kai.id}/campus-sign-in/{identity_id}/unlink")
    assert again.status_code == 404


def test_an_invited_advisor_signs_in_with_the_invitations_role_not_the_providers(
    client, ctx, provider
):
    admin = make_user("staff", email="admin@example.edu", is_admin=True)
    invite("dr.okoye@example.edu", "advisor", False, admin)
    db.session.commit()
    response = sign_in_through(client, provider, email="dr.okoye@example.edu", name="Ada Okoye")
    assert response.status_code == 302 and response.location == "/"
    user = db.session.scalar(select(User).where(User.email == "dr.okoye@example.edu"))
    assert (user.role, user.is_admin, user.password_hash) == ("advisor", False, None)
    assert b"Welcome, Ada Okoye" in signed_in_as(client)
    invitation = db.session.scalar(select(Invitation))
    assert invitation.user_id == user.id and invitation.accepted_at is not None


def test_a_withdrawn_invitation_makes_no_account(client, ctx, provider):
    admin = make_user("staff", email="admin@example.edu", is_admin=True)
    invitation = invite("dr.okoye@example.edu", "advisor", False, admin)
    revoke_invitation(invitation.id, admin)
    db.session.commit()
    response = sign_in_through(client, provider, email="dr.okoye@example.edu")
    assert response.status_code == 403
    assert db.session.scalar(select(User).where(User.email == "dr.okoye@example.edu")) is None


def test_refusals_are_on_the_admins_audit_page(client, ctx, provider, login):
    admin = make_user("staff", email="admin@example.edu", is_admin=True)
    sign_in_through(client, provider, aud="someone-elses-client")
    page = login(admin).get("/admin/audit").get_data(as_text=True)
    assert "Campus sign-on refused (oidc): ID token rejected" in page


def _two_browsers_come_back_at_once(app, provider, **claims):
    """Two browsers (two tabs, a double click) finish the same person's first sign-in at
    the same moment."""
    browsers = [app.test_client(), app.test_client()]
    sent = [start(browser) for browser in browsers]
    provider.claims_by_code = {
        f"code-{i}": provider.id_token_claims(s["nonce"], **claims) for i, s in enumerate(sent)
    }
    responses = run_together(
        *(
            functools.partial(
                browser.get, f"/sign-in/oidc/callback?code=code-{i}&state={sent[i]['state']}"
            )
            for i, browser in enumerate(browsers)
        )
    )
    return browsers, responses


@pytest.mark.parametrize("round_number", range(3))
def test_two_first_sign_ins_at_once_link_once_and_both_sign_in(ctx, provider, app, round_number):
    make_user("student", email="kai@example.edu", name="Kai Nguyen")
    browsers, responses = _two_browsers_come_back_at_once(app, provider)
    assert [r.status_code for r in responses] == [302, 302]
    assert all(b"Welcome, Kai Nguyen" in signed_in_as(browser) for browser in browsers)
    db.session.expire_all()
    assert len(db.session.scalars(select(SsoIdentity)).all()) == 1
    linked = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("%linked%")))
    assert list(linked) == ["campus sign-on linked (oidc)"]


@pytest.mark.parametrize("round_number", range(3))
def test_two_first_sign_ins_of_a_newcomer_at_once_make_one_applicant(
    ctx, provider, app, round_number
):
    app.config["CRP_SSO_STUDENTS_MAY_APPLY"] = True
    browsers, responses = _two_browsers_come_back_at_once(
        app, provider, email="newcomer@example.edu", name="Rae Kim"
    )
    assert sorted(r.location for r in responses) == ["/me/apply", "/me/apply"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(SsoIdentity)) == 1


def test_refusals_are_limited_per_address_and_successes_are_not_counted(client, ctx, provider, app):
    app.config["CRP_SSO_REFUSAL_LIMIT"] = "2 per 15 minutes"
    try:
        make_user("student", email="kai@example.edu", name="Kai Nguyen")
        for _ in range(3):  # successes leave the budget alone
            assert sign_in_through(client, provider).status_code == 302
            client.post("/sign-out")
        wrong = [client.get("/sign-in/oidc/callback?code=c&state=forged") for _ in range(3)]
    finally:
        app.config["CRP_SSO_REFUSAL_LIMIT"] = "20 per 15 minutes"
    assert [r.status_code for r in wrong] == [403, 403, 429]
    assert b"Too many campus sign-ins from this network were refused" in wrong[2].data
    assert len(refusals()) == 2
