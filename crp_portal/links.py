"""Links that leave the portal (email, calendar files, the feed address) are built on
`CRP_BASE_URL`, never on the request.

A request's Host header is whatever the client sent: a reset asked for with
`Host: evil.example` must still email a link to the real portal. Scheduled jobs have no
request at all. So every absolute link is built here, from configuration alone.
"""

import functools
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context
from flask.globals import request_ctx
from werkzeug.routing import BuildError, MapAdapter

ADAPTER_KEY = "crp_portal_link_adapter"


def base_url_parts(base_url: str) -> tuple[str, str, str]:
    """(scheme, host[:port], path prefix) of `CRP_BASE_URL`, refusing what is not a URL."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise RuntimeError(
            f"CRP_BASE_URL must be the portal's address, such as https://crp.example.edu, "
            f"not {base_url!r}"
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def portal_adapter() -> MapAdapter:
    """The app's URL map bound to `CRP_BASE_URL` (made once per app)."""
    # current_app is typed as the Flask app it proxies; the proxy's method is untyped.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    adapter = app.extensions.get(ADAPTER_KEY)
    if adapter is None:
        scheme, netloc, prefix = base_url_parts(app.config["CRP_BASE_URL"])
        adapter = app.url_map.bind(netloc, script_name=prefix or "/", url_scheme=scheme)
        app.extensions[ADAPTER_KEY] = adapter
    return adapter


def portal_url(endpoint: str, **values) -> str:
    """The absolute address of `endpoint` on `CRP_BASE_URL`, in a request or out of one."""
    return portal_adapter().build(endpoint, values, force_external=True)


def init_app(app: Flask) -> None:
    """Check `CRP_BASE_URL`, offer `portal_url` to templates, and where configured (production)
    answer only to the portal's own host names: Flask refuses any other Host with a 400."""
    _, netloc, _ = base_url_parts(app.config["CRP_BASE_URL"])
    app.jinja_env.globals["portal_url"] = portal_url
    app.jinja_env.globals["url_for"] = template_url_for(app)
    if app.config.get("CRP_REFUSE_FOREIGN_HOSTS"):
        own_host = urlsplit(f"//{netloc}").hostname
        app.config["TRUSTED_HOSTS"] = [own_host, *app.config.get("CRP_TRUSTED_HOSTS", [])]


FLASK_ONLY_ARGUMENTS = frozenset({"_anchor", "_method", "_scheme", "_external"})


def template_url_for(app: Flask):
    """Templates' `url_for`: Flask's, without its detours on the common path.

    A list page builds a link per row (a hundred on the events page), and Flask's
    `url_for` spends as long working out what kind of link is wanted as Werkzeug takes to
    build it. A plain link to a named endpoint, in a request, with no URL defaults
    registered, is built by the request's URL adapter exactly as Flask would build it;
    anything else (".relative" endpoints, `_external` and the other options, a build
    error) goes to Flask's own."""
    flask_url_for = app.url_for

    def url_for(endpoint: str, **values) -> str:
        adapter = request_ctx.url_adapter if has_request_context() else None
        if (
            adapter is None
            or endpoint[:1] == "."
            or values.keys() & FLASK_ONLY_ARGUMENTS
            or app.url_default_functions
        ):
            return flask_url_for(endpoint, **values)
        try:
            return adapter.build(endpoint, values)
        except BuildError:
            return flask_url_for(endpoint, **values)

    return url_for


def with_portal_links(command):
    """Run a CLI command inside a request context on `CRP_BASE_URL`, for the templates and
    helpers that still expect one (`url_for` with a relative link, `request`)."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        if has_request_context() or current_app.config.get("SERVER_NAME"):
            return command(*args, **kwargs)
        with current_app.test_request_context(base_url=current_app.config["CRP_BASE_URL"]):
            return command(*args, **kwargs)

    return wrapped
