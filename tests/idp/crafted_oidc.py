"""A provider whose answers the test writes: discovery, keys, a token endpoint handing out
the ID token the test crafted and signed, and userinfo, served over HTTP on loopback.

The portal's client (Authlib) fetches all of these for real, so its checks of signature,
issuer, audience, expiry and nonce run on exactly what the test sent; nothing in the
library is replaced. For the real thing end to end, see `tests.idp.oidc`.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "portal-client"
CLIENT_SECRET = "portal-secret-for-tests"  # noqa: S105 - a test provider's


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that gave up (the portal's timeout, on purpose) is no error here."""


@dataclass
class CraftedProvider:
    """Set `claims` (or `token_response`) before the callback; read `token_requests`."""

    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    discovery_issuer: str | None = None  # None: the provider's own address
    claims: dict = field(default_factory=dict)
    claims_by_code: dict[str, dict] = field(default_factory=dict)  # per browser, for races
    token_response: dict | None = None  # replaces the whole answer when set
    userinfo: dict = field(default_factory=dict)
    delay_seconds: float = 0.0
    token_requests: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "CraftedProvider":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.discovery_issuer, self.claims, self.token_response = None, {}, None
        self.claims_by_code = {}
        self.userinfo, self.delay_seconds = {}, 0.0
        self.token_requests.clear()

    def sign(self, claims: dict, key: RSAKey | None = None, header: dict | None = None) -> str:
        signing_key = key or self.key
        return jwt.encode(header or {"alg": "RS256", "kid": signing_key.kid}, claims, signing_key)

    def id_token_claims(self, sent_nonce: str, /, **changes) -> dict:
        """Claims a well-behaved provider would send; `changes` set or (None) drop one."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "subject-0001",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": sent_nonce,
            "email": "kai@example.edu",
            "email_verified": True,
            "name": "Kai Nguyen",
        }
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def _discovery(self) -> dict:
        base = self.issuer
        return {
            "issuer": self.discovery_issuer or base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "end_session_endpoint": f"{base}/logout",
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
        }

    def _token_answer(self, code: str) -> dict:
        if self.token_response is not None:
            return self.token_response
        return {
            "access_token": "access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.sign(self.claims_by_code.get(code, self.claims)),
        }

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                return

            def _json(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/.well-known/openid-configuration":
                    self._json(provider._discovery())
                elif self.path == "/jwks":
                    self._json({"keys": [provider.key.as_dict(private=False)]})
                elif self.path == "/userinfo":
                    self._json(provider.userinfo)
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                provider.token_requests.append(
                    {"form": form, "authorization": self.headers.get("Authorization", "")}
                )
                if provider.delay_seconds:
                    time.sleep(provider.delay_seconds)
                if self.path == "/token":
                    self._json(provider._token_answer(form.get("code", [""])[0]))
                else:
                    self.send_error(404)

        return Handler
