"""Campus single sign-on: OpenID Connect now, SAML 2.0 beside it. The blueprint; its views
are imported by create_app (see _register_blueprints)."""

from flask import Blueprint, Flask

bp = Blueprint("sso", __name__)

SIGNED_IN_WITH = "sso"  # the session remembers which provider signed the person in
SIGNED_OUT_OF = "sso_signed_out"  # … and, once signed out, which one to offer to leave


def init_app(app: Flask) -> None:
    """The configured providers, and what sign-on adds to a person's data download."""
    from crp_portal.sso import accounts, oidc, personal_data

    oidc.init_app(app)
    personal_data.init_app(app)
    app.jinja_env.globals["campus_identities"] = accounts.identities_of
    app.jinja_env.globals["protocol_labels"] = accounts.PROTOCOL_LABELS
