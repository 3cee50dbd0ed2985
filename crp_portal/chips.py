"""Status chips (issue #22): the tone a status is shown in.

A chip's words are the status's own label (`thing.status_label`); its tone only repeats
them in colour and never carries meaning alone. Statuses are StrEnums of several areas;
their values are read here so that one status reads alike wherever it is shown.
"""

OK, WARN, DANGER, INFO, NEUTRAL = "ok", "warn", "danger", "info", "neutral"

TONES: dict[str, str] = {
    # settled, in the person's favour
    "going": OK,
    "accepted": OK,
    "active": OK,
    "completed": OK,
    "sent": OK,
    # waiting on someone
    "booked": INFO,
    "scheduled": INFO,
    "submitted": INFO,
    "conversation": INFO,
    "applicant": INFO,
    "pending": INFO,
    "sending": INFO,
    "not started": INFO,
    # needs a reply or a look
    "waitlisted": WARN,
    "offered": WARN,
    "needs_review": WARN,
    "on_leave": WARN,
    "draft": WARN,
    "paused": WARN,
    # did not happen
    "cancelled": DANGER,
    "declined": DANGER,
    "no_show": DANGER,
    "failed": DANGER,
    # over, or left out on purpose
    "expired": NEUTRAL,
    "withdrawn": NEUTRAL,
    "ended": NEUTRAL,
    "alumni": NEUTRAL,
    "inactive": NEUTRAL,
    "suppressed": NEUTRAL,
    "held_out": NEUTRAL,
}


def status_tone(status: object) -> str:
    """The chip tone for a status value (a StrEnum member or its value); unknown: neutral."""
    return TONES.get(str(status).lower(), NEUTRAL)
