"""Self check-in codes that change every minute, so a photo of one forwarded later fails.

Each event keeps a random secret (`Event.checkin_secret`); the code for a minute is an
HMAC of the event's number and that minute, under the secret, written with
`CODE_ALPHABET`. Nothing is written when the code changes: every host works out the same
code from the secret and the clock. The code shown during one minute is still taken for
`GRACE` after it is replaced, so a student who scanned it as it changed is not turned
away; after that it has expired.

Pure functions of the event, the code and `now`: tests pass fixed times.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # none of 0/O, 1/I/L, 5/S, 8/B, 2/Z
CODE_LENGTH = 6
ROTATION = timedelta(seconds=60)
GRACE = timedelta(seconds=60)
# A wrong code is compared with the codes of this long before, to tell "expired" apart from
# "wrong" (720 HMACs: under a millisecond, and only for codes that failed).
EXPIRED_LOOKBACK = timedelta(hours=12)

_ROTATION_SECONDS = int(ROTATION.total_seconds())


class CodeCheck(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG = "wrong"


def new_checkin_secret() -> str:
    """256 random bits, as hex (the column holds 64 characters)."""
    return secrets.token_hex(32)


def window_of(now: datetime) -> int:
    """The number of the minute (of `ROTATION`) that `now` falls in."""
    return int(now.timestamp()) // _ROTATION_SECONDS


def window_start(window: int) -> datetime:
    return datetime.fromtimestamp(window * _ROTATION_SECONDS, UTC)


def code_for(event_id: int, secret: str, window: int) -> str:
    """The event's code for one window: six characters of `CODE_ALPHABET`."""
    digest = hmac.new(secret.encode(), f"{event_id}:{window}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")  # 2**64 over 25**6 values: no visible bias
    characters = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        characters.append(CODE_ALPHABET[index])
    return "".join(characters)


def current_code(event, now: datetime) -> str:
    """The code to show at the event right now."""
    return code_for(event.id, event.checkin_secret, window_of(now))


def next_change(now: datetime) -> datetime:
    """When the code shown now is replaced."""
    return window_start(window_of(now) + 1)


def seconds_to_next_change(now: datetime) -> int:
    """Whole seconds until the next code (at least 1), for a page that refreshes then."""
    return max(1, int(-(-(next_change(now) - now).total_seconds() // 1)))


def normalized(code: str) -> str:
    """As typed or scanned: spaces and case do not matter."""
    return "".join(code.split()).upper()


def accepted_windows(now: datetime) -> Iterator[int]:
    """The windows whose codes are taken at `now`: the current one, and any replaced less
    than `GRACE` ago."""
    window = window_of(now)
    while window_start(window + 1) + GRACE > now:
        yield window
        window -= 1


def check_code(event, given: str, now: datetime) -> CodeCheck:
    """Whether `given` is the event's code now (or within the grace), one it showed earlier
    (expired), or none of its codes at all (wrong: mistyped, tampered, another event's)."""
    code = normalized(given)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return CodeCheck.WRONG
    accepted = list(accepted_windows(now))
    if any(_same(code, event, window) for window in accepted):
        return CodeCheck.VALID
    earliest = window_of(now - EXPIRED_LOOKBACK)
    for window in range(min(accepted) - 1, earliest - 1, -1):
        if _same(code, event, window):
            return CodeCheck.EXPIRED
    return CodeCheck.WRONG


def _same(code: str, event, window: int) -> bool:
    expected = code_for(event.id, event.checkin_secret, window)
    return hmac.compare_digest(code.encode(), expected.encode())
