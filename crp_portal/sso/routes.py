"""Campus sign-in: off to the identity provider, back with an identity, and signing out
of the provider after the portal."""

from contextlib import contextmanager

from flask import abort, current_app, redirect, render_template, session, url_for
from flask_login import current_user, login_user

from crp_portal.extensions import db
from crp_portal.members.models import MemberStatus
from crp_portal.sso import (
    SIGNED_IN_WITH,
    SIGNED_OUT_OF,
    bp,
    oidc,
    protocol_of,
    refusals_limited,
    saml,
    services,
)
from crp_portal.sso.models import Protocol
from crp_portal.timeutil import utcnow
from crp_portal.unit_of_work import unit_of_work

NOT_KNOWN = "not known to the program"


@bp.get("/sign-in/campus")
@refusals_limited
def oidc_start():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if not oidc.enabled():
        abort(404)
    with refusals_recorded(Protocol.OIDC):
        return oidc.start()


@bp.get("/sign-in/oidc/callback")
@refusals_limited
def oidc_callback():
    if not oidc.enabled():
        abort(404)
    with refusals_recorded(Protocol.OIDC):
        asserted = oidc.finish()
        return sign_in_as_asserted(asserted, Protocol.OIDC)


def sign_in_as_asserted(asserted: services.Asserted, signed_in_with: str | dict):
    """The account the provider vouched for, signed in with a fresh session that remembers
    the provider (for signing out of it later); an applicant lands on the application."""
    with unit_of_work():
        user = services.sign_in(
            asserted, utcnow(), current_app.config["CRP_SSO_STUDENTS_MAY_APPLY"]
        )
    session.clear()
    login_user(user)
    session[SIGNED_IN_WITH] = signed_in_with
    if user.is_student and user.profile and user.profile.status == MemberStatus.APPLICANT:
        return redirect(url_for("members.apply"))
    return redirect(url_for("home.index"))


@bp.get("/signed-out")
def signed_out():
    """After the portal's own sign-out: the provider may still have the person signed in
    on this device (a shared computer), so offer to end that too."""
    leave = _campus_sign_out(protocol_of(session.get(SIGNED_OUT_OF)))
    if leave is None or current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    return render_template("sso/signed_out.html", campus_sign_out=leave)


@bp.get("/sign-out/campus")
def oidc_sign_out():
    if current_user.is_authenticated or not oidc.enabled():
        return redirect(url_for("auth.sign_in"))
    session.pop(SIGNED_OUT_OF, None)
    target = oidc.logout_url()
    return redirect(target or url_for("auth.sign_in"))


def _campus_sign_out(protocol: str | None) -> str | None:
    """The endpoint signing out of the provider that signed the person in, while it is
    still configured."""
    if protocol == Protocol.OIDC and oidc.enabled():
        return "sso.oidc_sign_out"
    if protocol == Protocol.SAML and saml.enabled():
        return "sso.saml_sign_out"
    return None


@contextmanager
def refusals_recorded(protocol: str):
    """A refused sign-in is written to the trail in a transaction of its own (the one it
    broke is rolled back), then its page is shown by the usual error handler."""
    try:
        yield
    except (services.SignInRefused, services.NotAdded) as error:
        db.session.rollback()
        with unit_of_work():
            services.record_refusal(protocol, getattr(error, "reason", NOT_KNOWN))
        raise
