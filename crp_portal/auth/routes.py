"""Signing in and out, passwords, and accepting an invitation."""

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from crp_portal.access import signed_in_required
from crp_portal.auth import bp, services
from crp_portal.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    NewPasswordForm,
    RequestResetForm,
    SignInForm,
)
from crp_portal.auth.models import AccountMailKind
from crp_portal.extensions import limiter
from crp_portal.forms import filled
from crp_portal.sso import SIGNED_IN_WITH, SIGNED_OUT_OF, campus_sign_ins
from crp_portal.unit_of_work import unit_of_work

TOO_MANY_SIGN_INS = (
    "Too many sign-in attempts for this account or from this network. Wait a while and "
    "try again, or reset your password."
)
TOO_MANY_RESETS = (
    "Too many reset requests for this address or from this network. Check your inbox "
    "(and spam folder) for the link we already sent, or wait and try again."
)
TOO_MANY_LINK_TRIES = (
    "Too many attempts with emailed links from this network. Wait a while and try again, "
    "or ask the program staff for help."
)


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after sign-in, or None for anything else."""
    if not target or any(ch in target for ch in "\\\r\n\t") or not target.startswith("/"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def _sign_in_failed(_response) -> bool:
    return g.get("sign_in_failed", False)


def _account_key() -> str:
    return "sign-in:" + services.normalize_email(request.form.get("email", ""))[:254]


def _account_from_address_key() -> str:
    return f"{_account_key()}|{get_remote_address()}"


def _tell_the_owner(_limit) -> None:
    """An account's limit was reached: ask the worker to tell the owner (at most once a
    day). The request is written whether or not the address has an account."""
    email = services.normalize_email(request.form.get("email", ""))
    if email and services.first_attack_notice_today(email):
        with unit_of_work():
            services.request_account_mail(email, AccountMailKind.ATTACK_NOTICE)


def _reset_address_key() -> str:
    """Per address asked about, so no one can flood one inbox from many networks."""
    return "reset:" + services.normalize_email(request.form.get("email", ""))[:254]


def _link_failed(response) -> bool:
    """A bad or expired link, or a form sent back with errors: a success redirects."""
    return response.status_code != 302


def _failed_sign_ins_limited(setting: str, key_func=None, on_breach=None):
    """A limit on failed sign-ins (successes are not counted), read from `setting`."""
    return limiter.limit(
        lambda: current_app.config[setting],
        key_func=key_func,
        methods=["POST"],
        deduct_when=_sign_in_failed,
        on_breach=on_breach,
        error_message=TOO_MANY_SIGN_INS,
    )


@bp.route("/sign-in", methods=["GET", "POST"])
@_failed_sign_ins_limited("CRP_SIGNIN_LIMIT_ADDRESS")
@_failed_sign_ins_limited(
    "CRP_SIGNIN_LIMIT_ACCOUNT_ADDRESS", _account_from_address_key, _tell_the_owner
)
@_failed_sign_ins_limited("CRP_SIGNIN_LIMIT_ACCOUNT", _account_key, _tell_the_owner)
def sign_in():
    """Wrong passwords are throttled three ways (NIST SP 800-63B 5.2.2): one account from
    one address, one address across accounts, and a ceiling per account that only many
    addresses together can reach. So a flood from one address never locks the owner out
    from another, and the owner is emailed when either account limit is reached."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        with unit_of_work():  # a sign-in notes its time, and may rehash the password
            user = services.authenticate(filled(form.email.data), filled(form.password.data))
        if user is not None:
            session.clear()
            login_user(user, remember=form.remember.data)
            if form.remember.data:
                session["_user_id"] = services.remembered_id(user)  # what the cookie keeps
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        g.sign_in_failed = True
        form.password.errors.append("That email and password do not match an active account.")  # type: ignore[attr-defined]  # a list once validated; the stubs say Sequence
    return render_template(
        "auth/sign_in.html",
        form=form,
        campus_sign_in=campus_sign_ins(),
        password_sign_in=services.password_sign_in_on(),
    )


@bp.post("/sign-out")
@signed_in_required
def sign_out():
    with unit_of_work():
        services.end_all_sessions(current_user)
    provider = session.get(SIGNED_IN_WITH)
    session.clear()
    logout_user()  # after clear(): it leaves the note that deletes the remember cookie
    flash("You are signed out.", "success")
    if provider:  # signed in by a campus provider, which may still know this browser
        session[SIGNED_OUT_OF] = provider
        return redirect(url_for("sso.signed_out"))
    return redirect(url_for("auth.sign_in"))


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["CRP_RESET_LIMIT"], methods=["POST"], error_message=TOO_MANY_RESETS
)
@limiter.limit(
    lambda: current_app.config["CRP_RESET_LIMIT_ACCOUNT"],
    key_func=_reset_address_key,
    methods=["POST"],
    error_message=TOO_MANY_RESETS,
)
def request_reset():
    form = RequestResetForm()
    if form.validate_on_submit():
        with unit_of_work():
            services.request_password_reset(filled(form.email.data))
        minutes = current_app.config["CRP_RESET_TOKEN_MAX_AGE"] // 60
        flash(
            "If an account uses that address, we have emailed it a link to set a new "
            f"password. The link works for {minutes} minutes.",
            "info",
        )
        return redirect(url_for("auth.sign_in"))
    return render_template(
        "auth/request_reset.html", form=form, password_sign_in=services.password_sign_in_on()
    )


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["CRP_LINK_LIMIT"],
    methods=["POST"],
    deduct_when=_link_failed,
    error_message=TOO_MANY_LINK_TRIES,
)
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    form = NewPasswordForm(personal=(user.email, user.name))
    if form.validate_on_submit():
        with unit_of_work():
            services.set_password(user, filled(form.password.data))
        flash("Your password is set. Sign in with it now.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form, user=user)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["CRP_LINK_LIMIT"],
    methods=["POST"],
    deduct_when=_link_failed,
    error_message=TOO_MANY_LINK_TRIES,
)
def accept_invitation(token: str):
    invitation = services.invitation_for_token(token)
    form = AcceptInvitationForm(personal=(invitation.email,))
    password_sign_in = services.password_sign_in_on()
    if password_sign_in and form.validate_on_submit():
        with unit_of_work():
            services.accept_invitation(token, filled(form.name.data), filled(form.password.data))
        flash("Your account is ready. Sign in with your email and new password.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template(
        "auth/accept_invitation.html",
        form=form,
        invitation=invitation,
        campus_sign_in=campus_sign_ins(),
        password_sign_in=password_sign_in,
    )


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in_required
def change_password():
    form = ChangePasswordForm(
        personal=(current_user.email, current_user.name, current_user.display_name)
    )
    work = unit_of_work(form, "current_password")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        with work:
            services.change_password(
                user, filled(form.current_password.data), filled(form.password.data)
            )
        if work.saved:
            login_user(user)
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form), work.status
