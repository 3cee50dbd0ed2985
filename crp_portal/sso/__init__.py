"""Campus single sign-on: OpenID Connect and SAML 2.0. The blueprint; its views are imported
by create_app (see _register_blueprints)."""

from flask import Blueprint, Flask, current_app

from crp_portal.extensions import limiter

bp = Blueprint("sso", __name__)

# The session remembers which provider signed the person in and, once signed out, which
# one to offer to leave: the protocol's name (Protocol.OIDC), or for SAML a dict holding
# it with the NameID and session index a LogoutRequest must name (see `protocol_of`).
SIGNED_IN_WITH = "sso"
SIGNED_OUT_OF = "sso_signed_out"


TOO_MANY_REFUSALS = (
    "Too many campus sign-ins from this network were refused. Wait a while and try again, "
    "or ask the program staff for help."
)


def refusals_limited(view):
    """Refused campus sign-ins (403s) are limited per network address: each writes an
    audit row, and nobody signed out may write the trail without end. Successes do not
    count, so a campus behind one address signs in freely, nor do 503s from a provider
    that is down, which write nothing and would only lock out people trying again."""
    return limiter.limit(
        lambda: current_app.config["CRP_SSO_REFUSAL_LIMIT"],
        deduct_when=lambda response: response.status_code == 403,
        error_message=TOO_MANY_REFUSALS,
    )(view)


def init_app(app: Flask) -> None:
    """The configured providers, and what sign-on adds to a person's data download."""
    from crp_portal.sso import accounts, oidc, personal_data, saml

    oidc.init_app(app)
    saml.init_app(app)
    personal_data.init_app(app)
    app.jinja_env.globals["campus_identities"] = accounts.identities_of
    app.jinja_env.globals["protocol_labels"] = accounts.PROTOCOL_LABELS


def protocol_of(provider: str | dict | None) -> str | None:
    """The protocol named by what SIGNED_IN_WITH or SIGNED_OUT_OF holds."""
    if isinstance(provider, dict):
        return provider.get("protocol")
    return provider


def campus_sign_ins() -> list[tuple[str, str]]:
    """The sign-in page's buttons: (endpoint, protocol's label) per configured provider."""
    from crp_portal.sso import oidc, saml
    from crp_portal.sso.accounts import PROTOCOL_LABELS

    offered = (("sso.oidc_start", "oidc", oidc), ("sso.saml_start", "saml", saml))
    return [(endpoint, PROTOCOL_LABELS[name]) for endpoint, name, way in offered if way.enabled()]
