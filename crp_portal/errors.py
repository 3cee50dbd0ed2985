"""Domain errors raised by services, and the error pages every failure ends on."""

import re

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from crp_portal.extensions import db

RAW_LIMIT = re.compile(r"^\d+ per ")


class DomainError(Exception):
    """A rule said no; `message` is written for the person who asked."""

    status_code = 400
    title = "That request could not be completed"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class Forbidden(DomainError):
    status_code = 403
    title = "Not allowed"


class Conflict(DomainError):
    status_code = 409
    title = "That clashes with something already there"


PAGES = {
    400: ("Bad request", "The request could not be understood. Go back, check the form and try again."),
    403: ("Not allowed", "Your account does not have access to this page. If you think it should, ask the program staff."),
    404: ("Page not found", "There is nothing at this address. It may have moved, or the link may be mistyped."),
    405: ("Not allowed this way", "This address does not accept that kind of request. Use the buttons and links in the portal."),
    409: ("Conflict", "That change clashes with something already saved. Reload the page to see the latest, then try again."),
    413: ("Upload too large", "The file or form you sent is larger than the portal accepts. Send a smaller file."),
    429: ("Too many attempts", "You have tried this too many times in a short while. Wait a few minutes and try again."),
    500: ("Something went wrong", "The portal hit an unexpected problem and nothing was changed. Try again in a moment; if it keeps happening, tell the program staff."),
    503: ("Temporarily unavailable", "The portal cannot reach its database right now. Try again in a minute."),
}  # fmt: skip


def render_error(code: int, message: str | None = None, title: str | None = None):
    default_title, default_message = PAGES.get(code, PAGES[500])
    body = render_template(
        "errors/error.html",
        code=code,
        title=title or default_title,
        message=message or default_message,
    )
    return body, code


def register_error_pages(app) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()  # a broken rule ends the unit of work: nothing half-saved
        return render_error(error.status_code, error.message, error.title)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            "This form has expired or did not come from the portal, so nothing was saved. "
            "Go back, reload the page and send it again.",
            "Form expired",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        message = None
        if code == 429 and isinstance(error.description, str):
            message = None if RAW_LIMIT.match(error.description) else error.description
        body, status = render_error(code, message)
        valid_methods = getattr(error, "valid_methods", None)
        if code == 405 and valid_methods:
            return body, status, {"Allow": ", ".join(valid_methods)}
        return body, status

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
