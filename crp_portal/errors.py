"""Domain errors raised by services, and the error pages every failure ends on."""

import re
import sqlite3
import time
from datetime import date, datetime

import psycopg
from flask import g, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, SecurityError

from crp_portal.extensions import db, limiter, login_manager
from crp_portal.links import portal_adapter
from crp_portal.timeutil import DATE_BOUNDS_MESSAGE, in_date_bounds

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


class DateOutOfBounds(DomainError):
    """A date outside the years a program can use (`timeutil.EARLIEST_DATE`–`LATEST_DATE`)."""


def check_date_bounds(*values: date | datetime | None) -> None:
    """Services call this on the dates they are given: forms say the same, but the CLI,
    imports and other services reach a service without a form. None is skipped."""
    if not in_date_bounds(*values):
        raise DateOutOfBounds(DATE_BOUNDS_MESSAGE)


PAGES = {
    400: ("Bad request", "The request could not be understood. Go back, check the form and try again."),
    403: ("Not allowed", "Your account does not have access to this page. If you think it should, ask the program staff."),
    404: ("Page not found", "There is nothing at this address. It may have moved, or the link may be mistyped."),
    405: ("Not allowed this way", "This address does not accept that kind of request. Use the buttons and links in the portal."),
    409: ("Conflict", "That change clashes with something already saved. Reload the page to see the latest, then try again."),
    413: ("Upload too large", "The file or form you sent is larger than the portal accepts. Send a smaller file."),
    429: ("Too many attempts", "You have tried this too many times in a short while. Wait a few minutes and try again."),
    500: ("Something went wrong", "The portal hit an unexpected problem and nothing was changed. Try again in a moment; if it keeps happening, tell the program staff."),
    503: ("Temporarily unavailable", "The portal can't reach its database right now; try again in a minute."),
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


RETRY_AFTER_SECONDS = 60
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file")


CONNECTION_INVALIDATED = "8s2b"  # SQLAlchemy's code for "can't reconnect until rolled back"


def database_unreachable(error: BaseException) -> bool:
    """A lost, refused or exhausted database connection, not a bad statement: the
    request may work a minute later, so it is a 503 rather than a 500.

    PostgreSQL says so with no SQLSTATE (refused, closed), class 08 (connection
    exception) or 57P (the server shut down, crashed or is starting). SQLAlchemy may
    wrap the loss in PendingRollbackError: "roll back first" about a connection it
    invalidated because the server went away (code 8s2b), or raised while it was
    handling the lost-connection error, which then is the exception's context.
    """
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, PendingRollbackError):
        if error.code == CONNECTION_INVALIDATED:
            return True
        cause = error.__cause__ or error.__context__
        return cause is not None and database_unreachable(cause)
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        if not isinstance(error, OperationalError):
            return False
        if error.orig is None:
            return False
        error = error.orig
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate
        return state is None or state.startswith(("08", "57P"))
    if isinstance(error, sqlite3.OperationalError):
        return str(error) in SQLITE_UNAVAILABLE
    return False


def database_unavailable_page():
    """The 503 page, rendered without touching the database: the visitor is shown as
    signed out for this one page (their session cookie is untouched)."""
    g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request user
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()  # the connection is gone; the pool replaces it when it is back
    title, message = PAGES[503]
    again = request.full_path.rstrip("?") if request.method == "GET" else None
    body = render_template(
        "errors/503.html", code=503, title=title, message=message, try_again_url=again
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return body, 503, headers


def _seconds_until_retry() -> int | None:
    """When the limit this request broke lets the person try again (None if unknown)."""
    try:
        breached = limiter.current_limit
        if breached is None or not breached.breached:
            return None
        return max(1, breached.reset_at - int(time.time()))
    except Exception:  # noqa: BLE001 - the storage may be down; the page needs no number
        return None


def too_many_requests(error: HTTPException):
    """429 with the limit's own message, when to try again, and `Retry-After`."""
    title, message = PAGES[429]
    if isinstance(error.description, str) and not RAW_LIMIT.match(error.description):
        message = error.description
    wait = _seconds_until_retry()
    body = render_template(
        "errors/429.html",
        code=429,
        title=title,
        message=message,
        wait_minutes=None if wait is None else max(1, round(wait / 60)),
    )
    return body, 429, {"Retry-After": str(wait)} if wait else {}


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

    @app.errorhandler(SecurityError)
    def untrusted_host(_error: SecurityError):
        """Flask found no route for a foreign Host, so the page's own links are built on
        `CRP_BASE_URL`: they lead to the real portal."""
        request_ctx.url_adapter = portal_adapter()
        return render_error(
            400,
            "This address is not the portal's. Open the portal from its usual address.",
            "Wrong address",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code == 429:
            return too_many_requests(error)
        body, status = render_error(code)
        valid_methods = getattr(error, "valid_methods", None)
        if code == 405 and valid_methods:
            return body, status, {"Allow": ", ".join(valid_methods)}
        return body, status

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)

    @app.teardown_appcontext
    def release_a_lost_connection(_error=None) -> None:
        """Close the request's session before Flask-SQLAlchemy does (teardowns run in
        reverse order). If the database went away after the page's last query, closing
        rolls back on a dead connection and fails. Closing only discards work that was
        not committed, and the answer is already made, so close again (the pool has
        dropped that connection) instead of letting gunicorn turn the answer into a 500."""
        try:
            db.session.remove()
        except SQLAlchemyError as error:
            app.logger.warning("Closing the database session failed; closing again: %s", error)
            db.session.remove()

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PendingRollbackError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(sqlite3.OperationalError)
    def database_error(error: Exception):
        if not database_unreachable(error):
            return unexpected_error(error)
        app.logger.warning("Database unreachable on %s %s: %s", request.method, request.path, error)
        return database_unavailable_page()
