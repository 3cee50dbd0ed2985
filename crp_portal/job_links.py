"""Scheduled jobs (cron, timers) send email with links into the portal; outside a
request Flask does not know the portal's address, so they build links on
`CRP_BASE_URL` (e.g. https://crp.example.edu)."""

import functools

from flask import current_app, has_request_context


def with_portal_links(command):
    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        if has_request_context() or current_app.config.get("SERVER_NAME"):
            return command(*args, **kwargs)
        with current_app.test_request_context(base_url=current_app.config["CRP_BASE_URL"]):
            return command(*args, **kwargs)

    return wrapped
