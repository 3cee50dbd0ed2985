"""Campus single sign-on for the tests: panva's oidc-provider, OpenID Certified, on loopback.

`tests/js/oidc_provider.mjs` runs it under Node with one confidential client and a few
accounts; `OidcProvider` writes its configuration (a fresh RSA signing key included),
starts it and stops it. The login page asks for Username and Password and has a
"Sign in" button; consent is implied, and RP-initiated logout needs no click.

`make test` installs oidc-provider into tests/js from its lockfile (`npm ci`).
"""

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from tests.idp.processes import stop
from tests.pg import free_port

JS_DIR = Path(__file__).parents[1] / "js"
SCRIPT = JS_DIR / "oidc_provider.mjs"
PACKAGE = JS_DIR / "node_modules" / "oidc-provider" / "package.json"
START_TIMEOUT = 30.0
START_ATTEMPTS = 3


@dataclass
class OidcAccount:
    login: str
    password: str
    sub: str
    email: str
    email_verified: bool = True
    name: str = ""
    given_name: str = ""
    family_name: str = ""
    student_number: str = ""

    def claims(self) -> dict:
        claims = {"sub": self.sub, "email": self.email, "email_verified": self.email_verified}
        for claim in ("name", "given_name", "family_name", "student_number"):
            if value := getattr(self, claim):
                claims[claim] = value
        return claims


def node_executable() -> str | None:
    return shutil.which("node") or shutil.which("nodejs")


def oidc_provider_available() -> str | None:
    """None when the provider can run here, else why not."""
    if node_executable() is None:
        return "Node.js is not installed (it runs oidc-provider)"
    if not PACKAGE.exists():
        return "oidc-provider is not installed: run `npm ci --prefix tests/js`"
    return None


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def rsa_private_jwk(key: rsa.RSAPrivateKey) -> dict:
    """The key as a private JWK, its `kid` the RFC 7638 thumbprint."""
    private = key.private_numbers()
    public = private.public_numbers
    members = {"e": _b64url_uint(public.e), "kty": "RSA", "n": _b64url_uint(public.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=")
    return {
        **members,
        "kid": thumbprint.decode("ascii"),
        "use": "sig",
        "alg": "RS256",
        "d": _b64url_uint(private.d),
        "p": _b64url_uint(private.p),
        "q": _b64url_uint(private.q),
        "dp": _b64url_uint(private.dmp1),
        "dq": _b64url_uint(private.dmq1),
        "qi": _b64url_uint(private.iqmp),
    }


class OidcProviderError(RuntimeError):
    pass


class OidcProvider:
    """The provider as a context manager: started on `with`, stopped after it."""

    def __init__(
        self,
        workdir: Path,
        redirect_uris: list[str],
        post_logout_redirect_uris: list[str],
        accounts: list[OidcAccount],
        client_id: str = "portal",
        client_secret: str | None = None,
    ):
        self.workdir = Path(workdir)
        self.redirect_uris = list(redirect_uris)
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.accounts = list(accounts)
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(32)
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.issuer = ""
        self.config_path = self.workdir / "oidc-provider.json"
        self.log_path = self.workdir / "oidc-provider.log"
        self._process: subprocess.Popen | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def __enter__(self) -> "OidcProvider":
        reason = oidc_provider_available()
        if reason is not None:
            raise OidcProviderError(reason)
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(START_ATTEMPTS):
            if self._start(free_port()):
                return self
        raise OidcProviderError(f"no free port after {START_ATTEMPTS} tries:\n{self._log()}")

    def __exit__(self, *exc_info) -> None:
        self._stop()

    def _config(self, port: int) -> dict:
        return {
            "port": port,
            "issuer": self.issuer,
            "clients": [
                {
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "redirect_uris": self.redirect_uris,
                    "post_logout_redirect_uris": self.post_logout_redirect_uris,
                }
            ],
            "accounts": [
                {"login": account.login, "password": account.password, "claims": account.claims()}
                for account in self.accounts
            ],
            "jwks": {"keys": [rsa_private_jwk(self.signing_key)]},
            "cookie_keys": [secrets.token_urlsafe(32)],
        }

    def _start(self, port: int) -> bool:
        """Start on `port` and wait until it listens; False if another process took it."""
        self.issuer = f"http://127.0.0.1:{port}"
        self.config_path.write_text(json.dumps(self._config(port)))
        self.config_path.chmod(0o600)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [node_executable(), str(SCRIPT)],
                cwd=JS_DIR,
                env={**os.environ, "OIDC_CONFIG": str(self.config_path)},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            return self._wait_until_ready()
        except BaseException:
            self._stop()
            raise

    def _wait_until_ready(self) -> bool:
        ready = f"READY {self.issuer}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if ready in self._log().splitlines():
                return True
            if self._process.poll() is not None:
                if "EADDRINUSE" in self._log():
                    return False
                raise OidcProviderError(
                    f"oidc-provider exited with status {self._process.returncode}:\n{self._log()}"
                )
            time.sleep(0.05)
        raise OidcProviderError(
            f"oidc-provider was not ready after {START_TIMEOUT:.0f} s:\n{self._log()}"
        )

    def _log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _stop(self) -> None:
        process, self._process = self._process, None
        stop(process, grace_seconds=10)
