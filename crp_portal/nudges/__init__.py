"""Nudges: campaigns around the academic calendar, and the outbox every email goes through."""

from flask import Blueprint

bp = Blueprint("nudges", __name__)
