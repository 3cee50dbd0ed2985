"""One-click unsubscribe from a category of nudges, signed in or not."""

from flask import current_app, render_template, request

from crp_portal.auth.models import User
from crp_portal.errors import render_error
from crp_portal.extensions import csrf, db, limiter
from crp_portal.members.models import OPT_OUT_CATEGORY_LABELS
from crp_portal.nudges import bp
from crp_portal.nudges.unsubscribe import is_opted_out, opt_out, read_unsubscribe_token
from crp_portal.unit_of_work import unit_of_work

TOO_MANY = "Too many unsubscribe requests from this network. Wait a minute and try again."
BAD_LINK = (
    "This unsubscribe link is not valid: it may have been cut short or changed. Open the "
    "link from the email again, or sign in and choose your emails in your profile."
)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(lambda: current_app.config["CRP_UNSUBSCRIBE_LIMIT"], error_message=TOO_MANY)
def unsubscribe(token: str):
    """GET asks; POST records the opt-out and is exempt from CSRF on purpose.

    RFC 8058 one-click unsubscribe: the mail client POSTs `List-Unsubscribe=One-Click`
    to this address, without cookies and so without a CSRF token. The signed token in
    the URL is what authorises the change instead: only the recipient's email holds it,
    it names one person and one category, and it can only ever turn email off, so a
    forged request gains an attacker nothing. The page's own button posts the same way.
    Limited per network address, generously: a big mail provider's servers post the
    one-click unsubscribes of many recipients from a few addresses.
    """
    found = read_unsubscribe_token(token)
    if found is None:
        return render_error(400, BAD_LINK, "Unsubscribe link not valid")
    user_id, category = found
    label = OPT_OUT_CATEGORY_LABELS[category]
    user = db.session.get(User, user_id)
    exists = user is not None and user.erased_at is None
    if request.method == "POST":
        if exists:
            with unit_of_work():
                opt_out(user_id, category)
        return render_template("nudges/unsubscribed.html", label=label)
    already = not exists or is_opted_out(user_id, category)
    return render_template("nudges/unsubscribe.html", label=label, already=already)
