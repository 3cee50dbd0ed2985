"""Placeholder: filled in by this step of issue #7."""

from crp_portal.members import bp  # noqa: F401
