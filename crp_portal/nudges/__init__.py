"""Nudges: campaigns around the academic calendar, and staff's log of what the outbox sent."""

from flask import Blueprint

bp = Blueprint("nudges", __name__)
