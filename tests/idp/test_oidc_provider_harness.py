"""The test identity provider is panva's oidc-provider, configured as the portal needs it.

Driven with `requests` alone: discovery, keys, the authorization code flow with PKCE
through our login page, both client authentication methods, userinfo, and
RP-initiated logout. Nothing connects to the redirect URIs; the flow stops at them.
"""

import base64
import hashlib
import json
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.conftest import missing_service
from tests.idp.oidc import OidcAccount, OidcProvider, oidc_provider_available

# Port 9 (discard): never connected to, only read from Location headers.
REDIRECT_URI = "http://127.0.0.1:9/sign-in/oidc/callback"
AFTER_LOGOUT = "http://127.0.0.1:9/"
JORDAN = OidcAccount(
    login="jordan",
    password="correct horse battery staple",
    sub="f1c2d3e4-0001-4000-8000-000000000001",
    email="jordan.lee@campus.example.edu",
    name="Jordan Lee",
    given_name="Jordan",
    family_name="Lee",
)
TIMEOUT = 10


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    reason = oidc_provider_available()
    if reason is not None:
        missing_service(reason)
    provider = OidcProvider(
        tmp_path_factory.mktemp("idp"),
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[AFTER_LOGOUT],
        accounts=[JORDAN],
    )
    with provider:
        yield provider


@pytest.fixture(scope="module")
def metadata(idp):
    response = requests.get(idp.metadata_url, timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()


class FormReader(HTMLParser):
    """The first form's action and every hidden input on the page, wherever it sits."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attributes.get("action")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes["name"]] = attributes.get("value") or ""


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    assert reader.action, html
    return reader


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def follow(session: requests.Session, response: requests.Response) -> requests.Response:
    """Follow the provider's redirects, stopping at any that leaves it."""
    for _ in range(10):
        location = response.headers.get("Location")
        if response.status_code not in (302, 303) or location is None:
            return response
        target = urljoin(response.url, location)
        if urlsplit(target).netloc != urlsplit(response.url).netloc:
            return response
        response = session.get(target, allow_redirects=False, timeout=TIMEOUT)
    raise AssertionError("too many redirects")


class Authorization:
    """One authorization request's secrets, and what came back to the redirect URI."""

    def __init__(self, idp: OidcProvider, metadata: dict):
        self.idp = idp
        self.metadata = metadata
        self.session = requests.Session()
        self.state = secrets.token_urlsafe(16)
        self.nonce = secrets.token_urlsafe(16)
        self.code_verifier = secrets.token_urlsafe(48)

    def url(self, **overrides) -> str:
        challenge = b64url(hashlib.sha256(self.code_verifier.encode("ascii")).digest())
        params = {
            "response_type": "code",
            "client_id": self.idp.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid email profile",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        params = {key: value for key, value in params.items() if value is not None}
        return f"{self.metadata['authorization_endpoint']}?{urlencode(params)}"

    def start(self, **overrides) -> requests.Response:
        response = self.session.get(self.url(**overrides), allow_redirects=False, timeout=TIMEOUT)
        return follow(self.session, response)

    def submit_login(self, login_page: requests.Response, login: str, password: str):
        action = urljoin(login_page.url, read_form(login_page.text).action)
        fields = {"login": login, "password": password}
        response = self.session.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
        return follow(self.session, response)

    def sign_in(self, account: OidcAccount = JORDAN) -> dict[str, str]:
        """The query the provider sends to the redirect URI after signing in."""
        login_page = self.start()
        assert login_page.status_code == 200, login_page.text
        return redirect_query(self.submit_login(login_page, account.login, account.password))

    def exchange(self, code: str, *, secret_in_body: bool = False) -> dict:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": self.code_verifier,
        }
        auth = None
        if secret_in_body:
            data |= {"client_id": self.idp.client_id, "client_secret": self.idp.client_secret}
        else:
            auth = (self.idp.client_id, self.idp.client_secret)
        response = requests.post(
            self.metadata["token_endpoint"], data=data, auth=auth, timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text
        return response.json()


def redirect_query(response: requests.Response) -> dict[str, str]:
    location = response.headers.get("Location", "")
    assert location.startswith(REDIRECT_URI + "?"), (response.status_code, location, response.text)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def verified_claims(id_token: str, jwks: dict) -> dict:
    """The ID token's payload, once its RS256 signature checks against the provider's keys."""
    header_part, payload_part, signature_part = id_token.split(".")
    header = json.loads(b64url_decode(header_part))
    assert header["alg"] == "RS256"
    jwk = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    public_key = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(jwk["e"]), "big"),
        int.from_bytes(b64url_decode(jwk["n"]), "big"),
    ).public_key()
    public_key.verify(
        b64url_decode(signature_part),
        f"{header_part}.{payload_part}".encode("ascii"),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return json.loads(b64url_decode(payload_part))


def test_discovery_offers_what_the_portal_uses(idp, metadata):
    assert metadata["issuer"] == idp.issuer
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert metadata["end_session_endpoint"].startswith(idp.issuer)
    assert metadata["userinfo_endpoint"].startswith(idp.issuer)
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    assert {"openid", "email", "profile"} <= set(metadata["scopes_supported"])
    assert {"email", "email_verified", "name", "given_name", "family_name"} <= set(
        metadata["claims_supported"]
    )


def test_jwks_publishes_the_public_signing_key_only(idp, metadata):
    keys = requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json()["keys"]

    public = idp.signing_key.public_key().public_numbers()
    assert [(key["kty"], b64url_decode(key["n"])) for key in keys] == [
        ("RSA", public.n.to_bytes(256, "big"))
    ]
    private_members = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
    assert not private_members & set(keys[0])


def test_code_flow_with_pkce_signs_jordan_in(idp, metadata):
    authorization = Authorization(idp, metadata)

    query = authorization.sign_in()
    assert query["state"] == authorization.state
    assert query["iss"] == idp.issuer
    tokens = authorization.exchange(query["code"])

    jwks = requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json()
    claims = verified_claims(tokens["id_token"], jwks)
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == idp.client_id
    assert claims["nonce"] == authorization.nonce
    assert claims["sub"] == JORDAN.sub != JORDAN.login
    assert claims["email"] == JORDAN.email
    assert claims["email_verified"] is True
    assert (claims["name"], claims["given_name"], claims["family_name"]) == (
        "Jordan Lee",
        "Jordan",
        "Lee",
    )


def test_userinfo_and_client_secret_post(idp, metadata):
    authorization = Authorization(idp, metadata)
    tokens = authorization.exchange(authorization.sign_in()["code"], secret_in_body=True)

    response = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.json() == JORDAN.claims()


def test_code_needs_its_verifier(idp, metadata):
    authorization = Authorization(idp, metadata)
    code = authorization.sign_in()["code"]
    authorization.code_verifier = secrets.token_urlsafe(48)

    response = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": authorization.code_verifier,
        },
        auth=(idp.client_id, idp.client_secret),
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "pkce",
    [{"code_challenge": None, "code_challenge_method": None}, {"code_challenge_method": "plain"}],
    ids=["without", "plain"],
)
def test_pkce_with_s256_is_required(idp, metadata, pkce):
    authorization = Authorization(idp, metadata)

    query = redirect_query(authorization.start(**pkce))

    assert query["error"] == "invalid_request", query
    assert query["state"] == authorization.state


def test_wrong_password_shows_the_form_again(idp, metadata):
    authorization = Authorization(idp, metadata)
    login_page = authorization.start()

    response = authorization.submit_login(login_page, JORDAN.login, "wrong")

    assert response.status_code == 200
    assert "Invalid username or password" in response.text
    assert "Sign in" in response.text
    query = redirect_query(authorization.submit_login(response, JORDAN.login, JORDAN.password))
    assert query["state"] == authorization.state


def test_rp_initiated_logout_returns_to_the_portal_and_ends_the_session(idp, metadata):
    authorization = Authorization(idp, metadata)
    id_token = authorization.exchange(authorization.sign_in()["code"])["id_token"]
    logout = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": AFTER_LOGOUT,
        "state": "bye",
    }

    page = authorization.session.get(
        metadata["end_session_endpoint"], params=logout, timeout=TIMEOUT
    )
    # A browser submits this form by itself; requests has to do it by hand.
    form = read_form(page.text)
    assert form.hidden["logout"] == "yes"
    response = authorization.session.post(
        urljoin(page.url, form.action), data=form.hidden, allow_redirects=False, timeout=TIMEOUT
    )

    assert response.status_code in (302, 303)
    assert response.headers["Location"] == f"{AFTER_LOGOUT}?state=bye"
    login_page = authorization.start()
    assert login_page.status_code == 200
    assert "Username" in login_page.text
