"""Links that leave the portal (email, calendar files, the feed address) are built on
`CRP_BASE_URL`, never on the request.

A request's Host header is whatever the client sent: a reset asked for with
`Host: evil.example` must still email a link to the real portal. Scheduled jobs have no
request at all. So every absolute link is built here, from configuration alone.
"""

import functools
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context
from werkzeug.routing import MapAdapter

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
    app = current_app._get_current_object()
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
    if app.config.get("CRP_REFUSE_FOREIGN_HOSTS"):
        own_host = urlsplit(f"//{netloc}").hostname
        app.config["TRUSTED_HOSTS"] = [own_host, *app.config.get("CRP_TRUSTED_HOSTS", [])]


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
