"""What the browser is told, and how long a sign-in lasts (issue #10).

Headers: every response carries a strict Content-Security-Policy (scripts, styles and
images from this site only; no inline script or style, so no nonce is needed; no
framing), `nosniff`, a same-origin Referrer-Policy (a link out of the portal never
carries a token-bearing URL) and a Permissions-Policy that switches off devices the
portal never uses. HSTS is sent when `CRP_HSTS_SECONDS` is set (production). Pages are
`no-store`: they show recovery data to the signed-in and a per-session CSRF token to
everyone, so neither a shared cache nor the back button after sign-out may replay them.

Sessions: Flask keeps the session in a signed cookie, so there is no server-side id to
rotate; signing in clears the session (`auth.routes.sign_in`) and the new cookie carries
the account's `id:session_version`, which sign-out and password changes bump. Here each
signed-in session also records when it began and when it was last used:

- after `CRP_SESSION_IDLE_MINUTES` without a request (0: never) the session ends;
- `PERMANENT_SESSION_LIFETIME` (`CRP_SESSION_HOURS`) after sign-in it ends however busy.

"Keep me signed in" is a separate cookie (Flask-Login's remember cookie, valid for
REMEMBER_COOKIE_DURATION) and by design survives inactivity: when a session ends and
that cookie is still good, a fresh session starts from it without a word. Sign-out and
a password change revoke it everywhere (the session version is in it).

The last-used time is refreshed at most once a minute, in the cookie: no database write
per request, and idle time is measured to the minute.
"""

import time

from flask import current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import UserMixin, current_user
from werkzeug.middleware.proxy_fix import ProxyFix

SIGNED_IN_AT = "_signed_in_at"
LAST_SEEN_AT = "_last_seen_at"
SEEN_PRECISION_SECONDS = 60
LOGIN_KEYS = ("_user_id", "_fresh", "_id", SIGNED_IN_AT, LAST_SEEN_AT)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_security(app) -> None:
    """Headers on every response, session time limits, and the client's real address."""
    hops = app.config.get("CRP_PROXY_HOPS", 0)
    if hops:
        # Behind the reverse proxy every request comes from the proxy: without this, the
        # per-address rate limits would count the whole campus as one address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.session_interface = SignedCookieSessions()
    app.before_request(end_expired_session)
    app.after_request(note_session_use)
    app.after_request(set_security_headers)


# The health check (home.routes.healthz) answers everyone alike and reads no session: a
# monitor that keeps an old cookie is neither signed out nor sent to sign in by it, and
# does not pay for the cookie to be checked (a fifth of the check's cost).
SESSIONLESS_PATHS = frozenset({"/healthz"})


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signer made once per set of keys. Flask
    makes a new one to read the cookie and another to write it, on every request, and
    making one serializes a test value to learn what kind of serializer it has."""

    def __init__(self):
        self._serializers = {}

    def open_session(self, app, request):
        if request.path in SESSIONLESS_PATHS:
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]


def now() -> int:
    return int(time.time())


def set_security_headers(response):
    """Each header unless the view set its own (a download's Cache-Control, say). The names
    present are read once: Werkzeug's `setdefault` scans every header for each one."""
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    for name, value in HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)
    hsts_seconds = current_app.config.get("CRP_HSTS_SECONDS", 0)
    if hsts_seconds and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains")
    if "cache-control" not in present and request.endpoint != "static":
        headers.add("Cache-Control", "no-store")
    return response


def _signed_in_session() -> bool:
    return request.endpoint != "static" and "_user_id" in session


def note_session_use(response):
    """Stamp a signed-in session with its start and (to the minute) its last use.

    Only when this request loaded a real account, and without touching the account's
    columns: after the view commits they are expired, and reading one would go back to
    the database, which may be gone by now. An acknowledged change must not turn into a
    500 here, nor a 503 into one by loading the user."""
    if response.status_code >= 500 or not _signed_in_session():
        return response
    if not isinstance(g.get("_login_user"), UserMixin):
        return response
    moment = now()
    if not isinstance(session.get(SIGNED_IN_AT), int):
        session[SIGNED_IN_AT] = moment
    last_seen = session.get(LAST_SEEN_AT)
    if not isinstance(last_seen, int) or moment - last_seen >= SEEN_PRECISION_SECONDS:
        session[LAST_SEEN_AT] = moment
    return response


def _ending_message(moment: int) -> str | None:
    """Why this session is over, or None while it is still good."""
    config = current_app.config
    idle_minutes = config.get("CRP_SESSION_IDLE_MINUTES", 0)
    last_seen = session.get(LAST_SEEN_AT)
    if idle_minutes and (not isinstance(last_seen, int) or moment - last_seen > idle_minutes * 60):
        return (
            f"You were signed out after {_span(idle_minutes * 60)} of inactivity. "
            "Sign in again to continue."
        )
    signed_in_at = session.get(SIGNED_IN_AT)
    lifetime = int(current_app.permanent_session_lifetime.total_seconds())
    if not isinstance(signed_in_at, int) or moment - signed_in_at > lifetime:
        return f"You were signed out {_span(lifetime)} after signing in. Sign in again to continue."
    return None


def _span(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def end_expired_session():
    """Sign out an idle or over-long session before the view runs.

    Only sessions this module has stamped are judged: a session from before the stamps
    existed gets them on its next response.
    """
    if not _signed_in_session() or LAST_SEEN_AT not in session:
        return None
    message = _ending_message(now())
    if message is None:
        return None
    for key in LOGIN_KEYS:
        session.pop(key, None)
    g.pop("_login_user", None)
    if _restarted_from_remember_cookie():
        return None
    session.clear()
    flash(message, "info")
    return redirect(_sign_in_url())


def _restarted_from_remember_cookie() -> bool:
    """With a still-valid "keep me signed in" cookie, Flask-Login starts a new session."""
    cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return cookie_name in request.cookies and current_user.is_authenticated


def _sign_in_url() -> str:
    if request.method == "GET" and request.endpoint != "auth.sign_in":
        query = request.query_string.decode("utf-8", "replace")
        return url_for("auth.sign_in", next=f"{request.path}?{query}" if query else request.path)
    return url_for("auth.sign_in")
