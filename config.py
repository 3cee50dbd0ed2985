"""Settings, read from the environment. No secret lives in git.

`CRP_CONFIG` picks the class: development (default), testing or production.
Every variable is listed in the README's configuration table.
"""

import os
from datetime import timedelta


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEVELOPMENT_SECRET_KEY = "development-only-not-secret"  # noqa: S105 - public on purpose  # nosec B105
MIN_SECRET_KEY_BYTES = 32


class Config:
    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    CRP_PROGRAM_NAME = os.environ.get("CRP_PROGRAM_NAME", "Collegiate Recovery Program")
    # What tab titles, emails, calendars and signed-out pages show instead of the program
    # name: they are seen on shared screens, in inboxes and in family calendars.
    CRP_PUBLIC_NAME = os.environ.get("CRP_PUBLIC_NAME", "Student Portal")
    CRP_BASE_URL = os.environ.get("CRP_BASE_URL", "http://127.0.0.1:5000")  # every emailed link
    # Host names besides CRP_BASE_URL's that production answers (e.g. a health checker's).
    CRP_TRUSTED_HOSTS = _env_list("CRP_TRUSTED_HOSTS")
    CRP_REFUSE_FOREIGN_HOSTS = False  # production: any other Host header is a 400
    CRP_TIMEZONE = os.environ.get("CRP_TIMEZONE", "America/New_York")
    CRP_CAMPUS_CRISIS_LINE = os.environ.get("CRP_CAMPUS_CRISIS_LINE", "555-0100")
    CRP_MIN_CELL = _env_int("CRP_MIN_CELL", 5)
    CRP_PASSWORD_MIN_LENGTH = 12
    CRP_RESET_TOKEN_MAX_AGE = _env_int("CRP_RESET_TOKEN_MAX_AGE", 3600)
    CRP_INVITATION_MAX_AGE = _env_int("CRP_INVITATION_MAX_AGE", 7 * 24 * 3600)
    # Rate limits (Flask-Limiter syntax). "Failed" limits count only attempts that fail.
    # Failed sign-ins: one account from one address; one address across accounts; and a
    # ceiling per account that one address cannot reach alone (its daily share is 20).
    CRP_SIGNIN_LIMIT_ACCOUNT_ADDRESS = os.environ.get(
        "CRP_SIGNIN_LIMIT_ACCOUNT_ADDRESS", "5 per 15 minutes; 20 per day"
    )
    CRP_SIGNIN_LIMIT_ADDRESS = os.environ.get("CRP_SIGNIN_LIMIT_ADDRESS", "20 per 15 minutes")
    CRP_SIGNIN_LIMIT_ACCOUNT = os.environ.get("CRP_SIGNIN_LIMIT_ACCOUNT", "100 per day")
    CRP_RESET_LIMIT = os.environ.get("CRP_RESET_LIMIT", "10 per hour")  # per network address
    CRP_RESET_LIMIT_ACCOUNT = os.environ.get("CRP_RESET_LIMIT_ACCOUNT", "5 per hour")  # per email
    # Failed uses of an emailed reset or invitation link, per network address.
    CRP_LINK_LIMIT = os.environ.get("CRP_LINK_LIMIT", "20 per hour")
    CRP_CHECK_IN_LIMIT = os.environ.get("CRP_CHECK_IN_LIMIT", "5 per 10 minutes")  # wrong codes
    CRP_UNSUBSCRIBE_LIMIT = os.environ.get("CRP_UNSUBSCRIBE_LIMIT", "60 per minute")
    CRP_ADVISING_CANCEL_CUTOFF_HOURS = _env_int("CRP_ADVISING_CANCEL_CUTOFF_HOURS", 2)
    CRP_ADVISING_NO_SHOW_LIMIT = _env_int("CRP_ADVISING_NO_SHOW_LIMIT", 0)  # 0: never pause
    CRP_RETENTION_MONTHS = _env_int("CRP_RETENTION_MONTHS", 24)  # check-in and follow-up notes
    CRP_NUDGE_CAP = _env_int("CRP_NUDGE_CAP", 2)  # nudges per person per CRP_NUDGE_CAP_DAYS
    CRP_NUDGE_CAP_DAYS = _env_int("CRP_NUDGE_CAP_DAYS", 7)
    CRP_QUIET_HOURS_START = _env_int("CRP_QUIET_HOURS_START", 21)  # local hour, no nudges from
    CRP_QUIET_HOURS_END = _env_int("CRP_QUIET_HOURS_END", 8)  # … until this local hour
    CRP_OUTBOX_CLAIM_TIMEOUT_MINUTES = _env_int("CRP_OUTBOX_CLAIM_TIMEOUT_MINUTES", 15)

    # Argon2id, RFC 9106 second recommended option: 3 passes over 64 MiB, 4 lanes.
    CRP_ARGON2_TIME_COST = _env_int("CRP_ARGON2_TIME_COST", 3)
    CRP_ARGON2_MEMORY_KIB = _env_int("CRP_ARGON2_MEMORY_KIB", 65536)
    CRP_ARGON2_PARALLELISM = _env_int("CRP_ARGON2_PARALLELISM", 4)

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False  # a refusal says Retry-After (crp_portal/errors.py)
    # Redis down: count in each process's memory until it is back, rather than fail sign-in.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    CRP_PROXY_HOPS = _env_int("CRP_PROXY_HOPS", 0)  # reverse proxies setting X-Forwarded-For

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")  # empty: messages go to the log
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "portal@example.edu")
    MAIL_SUPPRESS_SEND = False  # tests use a real SMTP server; no server means the log

    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH  # one pasted .ics feed may be most of a request
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    # A signed-in session ends after CRP_SESSION_IDLE_MINUTES without a request (0: never)
    # and CRP_SESSION_HOURS after sign-in. "Keep me signed in" (the remember cookie, 14
    # days) survives both on purpose: it starts a new session. See crp_portal/security.py.
    CRP_SESSION_IDLE_MINUTES = _env_int("CRP_SESSION_IDLE_MINUTES", 30)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("CRP_SESSION_HOURS", 12))
    CRP_HSTS_SECONDS = 0  # Strict-Transport-Security; production sets it
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # With campus sign-on, passwords can be turned off for all but named admin accounts
    # kept for emergencies (the provider down); each of their password sign-ins is audited.
    CRP_PASSWORD_SIGN_IN = _env_bool("CRP_PASSWORD_SIGN_IN", True)
    CRP_BREAK_GLASS_ADMINS = _env_list("CRP_BREAK_GLASS_ADMINS")
    # Campus sign-on (docs/campus-sign-on.md). OpenID Connect is on when an issuer is set.
    CRP_OIDC_ISSUER = os.environ.get("CRP_OIDC_ISSUER", "")
    CRP_OIDC_CLIENT_ID = os.environ.get("CRP_OIDC_CLIENT_ID", "")
    CRP_OIDC_CLIENT_SECRET = os.environ.get("CRP_OIDC_CLIENT_SECRET", "")
    CRP_OIDC_SCOPES = os.environ.get("CRP_OIDC_SCOPES", "openid email profile")
    CRP_OIDC_STUDENT_ID_CLAIM = os.environ.get("CRP_OIDC_STUDENT_ID_CLAIM", "")
    CRP_SSO_TIMEOUT_SECONDS = _env_int("CRP_SSO_TIMEOUT_SECONDS", 5)  # each call to a provider
    # Refused campus sign-ins per network address (each writes an audit row).
    CRP_SSO_REFUSAL_LIMIT = os.environ.get("CRP_SSO_REFUSAL_LIMIT", "20 per 15 minutes")
    # Someone the provider knows and the program does not becomes an applicant (else a
    # page says the program has not added them).
    CRP_SSO_STUDENTS_MAY_APPLY = _env_bool("CRP_SSO_STUDENTS_MAY_APPLY", False)
    # SAML 2.0 is on when the IdP's metadata is given, by address or as a file.
    CRP_SAML_IDP_METADATA_URL = os.environ.get("CRP_SAML_IDP_METADATA_URL", "")
    CRP_SAML_IDP_METADATA_FILE = os.environ.get("CRP_SAML_IDP_METADATA_FILE", "")
    # The portal's own signing key and certificate (PEM files); without them its requests
    # go unsigned and its metadata names no key.
    CRP_SAML_SP_CERT_FILE = os.environ.get("CRP_SAML_SP_CERT_FILE", "")
    CRP_SAML_SP_KEY_FILE = os.environ.get("CRP_SAML_SP_KEY_FILE", "")
    CRP_SAML_SP_ENTITY_ID = os.environ.get("CRP_SAML_SP_ENTITY_ID", "")  # empty: metadata URL
    # The attribute holding the registrar's student number (OID or friendly name, e.g.
    # urn:oid:2.16.840.1.113730.3.1.3 for employeeNumber); empty: none, link by mail.
    CRP_SAML_STUDENT_ID_ATTRIBUTE = os.environ.get("CRP_SAML_STUDENT_ID_ATTRIBUTE", "")
    # Who someone is: empty for the persistent NameID, else an attribute such as
    # urn:oasis:names:tc:SAML:attribute:pairwise-id or eduPersonTargetedID's OID.
    CRP_SAML_SUBJECT_ATTRIBUTE = os.environ.get("CRP_SAML_SUBJECT_ATTRIBUTE", "")
    CRP_SSO_CONTACT = os.environ.get(
        "CRP_SSO_CONTACT", "the program coordinator"
    )  # who adds people


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    CRP_SSO_STUDENTS_MAY_APPLY = _env_bool("CRP_SSO_STUDENTS_MAY_APPLY", True)  # the demo's
    CRP_ARGON2_TIME_COST = _env_int("CRP_ARGON2_TIME_COST", 2)
    CRP_ARGON2_MEMORY_KIB = _env_int("CRP_ARGON2_MEMORY_KIB", 19456)
    CRP_ARGON2_PARALLELISM = _env_int("CRP_ARGON2_PARALLELISM", 1)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105 - the test suite's key, never production  # nosec B105
    WTF_CSRF_ENABLED = False
    MAIL_SERVER = ""
    RATELIMIT_STORAGE_URI = "memory://"
    CRP_TIMEZONE = "America/New_York"
    CRP_ARGON2_TIME_COST = 1
    CRP_ARGON2_MEMORY_KIB = 1024
    CRP_ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    CRP_HSTS_SECONDS = _env_int("CRP_HSTS_SECONDS", 365 * 24 * 3600)
    CRP_PROXY_HOPS = _env_int("CRP_PROXY_HOPS", 1)  # gunicorn listens behind one TLS proxy
    CRP_REFUSE_FOREIGN_HOSTS = True

    @staticmethod
    def check(environ) -> dict:
        """Refuse to start without a real database, without the address emailed links point
        to, or with a key anyone can read: the development key is printed in this file, and
        whoever knows the key can sign an admin's session cookie. Returns the checked
        values, read now (not when this module was imported), for the app to use."""
        required = ("SECRET_KEY", "DATABASE_URL", "CRP_BASE_URL")
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production needs these environment variables set: " + ", ".join(missing)
            )
        key = environ["SECRET_KEY"]
        if key.strip() == DEVELOPMENT_SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY is the development key, which is public: set a random one, e.g. "
                "python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if len(key.encode()) < MIN_SECRET_KEY_BYTES:
            raise RuntimeError(
                f"SECRET_KEY is {len(key.encode())} bytes; production needs at least "
                f"{MIN_SECRET_KEY_BYTES} random bytes, e.g. "
                "python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return {
            "SECRET_KEY": key,
            "SQLALCHEMY_DATABASE_URI": environ["DATABASE_URL"],
            "CRP_BASE_URL": environ["CRP_BASE_URL"],
        }


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
