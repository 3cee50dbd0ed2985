"""SAML sign-in's addresses: the portal's metadata, off to the IdP, the assertion
consumer service the IdP posts back to, and single logout both ways."""

from flask import Response, abort, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from crp_portal.auth.services import end_all_sessions
from crp_portal.extensions import csrf
from crp_portal.sso import (
    SIGNED_IN_WITH,
    SIGNED_OUT_OF,
    bp,
    protocol_of,
    refusals_limited,
    saml,
)
from crp_portal.sso.models import Protocol
from crp_portal.sso.routes import refusals_recorded, sign_in_as_asserted
from crp_portal.timeutil import utcnow
from crp_portal.unit_of_work import unit_of_work

METADATA_TYPE = "application/samlmetadata+xml"


@bp.get("/sso/saml/metadata")
def saml_metadata():
    """The portal's SP metadata, at a stable address the IdP can register or poll."""
    if not saml.enabled():
        abort(404)
    return Response(saml.metadata_xml(), mimetype=METADATA_TYPE)


@bp.get("/sign-in/saml")
@refusals_limited
def saml_start():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if not saml.enabled():
        abort(404)
    with refusals_recorded(Protocol.SAML):
        return redirect(saml.start())


@bp.post("/sso/saml/acs")
@csrf.exempt
@refusals_limited
def saml_acs():
    """The IdP's Response, posted by the browser from the IdP's page (HTTP-POST binding).

    Exempt from the portal's CSRF token, which the IdP's page cannot carry. SAML's own
    check stands in for it: the Response must answer (InResponseTo) an AuthnRequest that
    this browser's session sent and has not used, so a Response someone else obtained,
    posted here by another site, signs no one in."""
    if not saml.enabled():
        abort(404)
    with refusals_recorded(Protocol.SAML):
        with unit_of_work():  # the assertion is used up, whatever comes of it
            asserted, signed_in_with = saml.finish(request.form, utcnow())
        return sign_in_as_asserted(asserted, signed_in_with)


@bp.get("/sign-out/saml")
def saml_sign_out():
    """From the signed-out page: SP-initiated single logout at the IdP."""
    signed_in_with = session.get(SIGNED_OUT_OF)
    if current_user.is_authenticated or not saml.enabled():
        return redirect(url_for("auth.sign_in"))
    session.pop(SIGNED_OUT_OF, None)
    target = saml.logout_url(signed_in_with) if isinstance(signed_in_with, dict) else None
    return redirect(target or url_for("auth.sign_in"))


@bp.get("/sso/saml/slo")
def saml_slo():
    """Single logout by HTTP-Redirect: the IdP's answer to our LogoutRequest, or its own
    LogoutRequest (someone signed out at the IdP), which ends the portal session here
    when it names the person signed in and is answered either way."""
    if not saml.enabled():
        abort(404)
    query = request.query_string.decode("ascii", "replace")
    if "SAMLRequest" in request.args:
        return _logged_out_by_the_idp(query)
    if "SAMLResponse" not in request.args:
        abort(400)
    if saml.logout_confirmed(query):
        flash("You are signed out of your campus account too.", "success")
    else:
        flash(
            "The campus sign-in service did not confirm the sign-out. On a shared "
            "computer, close the browser to be sure.",
            "warning",
        )
    return redirect(url_for("auth.sign_in"))


def _logged_out_by_the_idp(query: str):
    signed_in_with = session.get(SIGNED_IN_WITH) if current_user.is_authenticated else None
    ours = protocol_of(signed_in_with) == Protocol.SAML
    names_this_person, answer = saml.answer_logout_request(query, signed_in_with)
    if ours and names_this_person:
        with unit_of_work():
            end_all_sessions(current_user)
        session.clear()
        logout_user()
    return redirect(answer)
