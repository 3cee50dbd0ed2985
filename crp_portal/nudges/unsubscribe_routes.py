"""Placeholder: filled in by this step of issue #8."""

from crp_portal.nudges import bp  # noqa: F401
