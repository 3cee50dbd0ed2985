"""Passwords: Argon2id hashing with parameters from the config (see config.py), and the
checks a new password must pass.

The checks follow NIST SP 800-63B: at least CRP_PASSWORD_MIN_LENGTH characters (the form
checks that), no composition rules (no "one digit, one symbol"), but no password that
attackers try first: a common one, a repetition or sequence, or the person's own name or
email address. Passwords are compared in Unicode NFKC form, so "é" typed on one keyboard
matches "é" typed on another.

`common-passwords.txt.gz` beside this module is Django's list of the 20,000 most common
passwords (lowercased, deduplicated; compiled by Royce Williams,
https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce), copied unchanged
from Django 5.2 (django/contrib/auth/common-passwords.txt.gz). Copyright (c) Django
Software Foundation and individual contributors; used under the BSD 3-Clause License
(https://github.com/django/django/blob/main/LICENSE).
"""

import gzip
import re
import string
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")

TOO_COMMON = (
    "That password is on a list of commonly used passwords, or is one of them with only "
    "numbers or symbols added. Choose something less predictable: a few unrelated words "
    "work well."
)
PATTERN = (
    "That password is a repeated or sequential pattern, like “aaaa”, “abcabc” or “1234”. "
    "Choose something less predictable: a few unrelated words work well."
)
PERSONAL = (
    "That password is made from your name, your email address or the program's name. "
    "Choose something that others could not guess from them."
)

KEYBOARD_RUNS = (
    string.ascii_lowercase,
    string.digits * 2,
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)
NOT_LETTERS_OR_DIGITS = re.compile(r"[\W_]+")
SHORTEST_OWN_PART = 5  # what must remain once names and digits are taken out


@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher_for(
        config["CRP_ARGON2_TIME_COST"],
        config["CRP_ARGON2_MEMORY_KIB"],
        config["CRP_ARGON2_PARALLELISM"],
    )


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher().hash(normalize(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in the time a check against a current hash takes, whether or not
    there is a hash, so the time taken tells nothing about which addresses have accounts.

    A hash made before passwords were normalized is still accepted with the raw text.
    Without a hash, as many hashes are made as there would have been checks. A wrong
    password for a hash made with cheaper parameters (they were raised since) also pays
    for one hash at today's, as a stranger's attempt does.
    """
    hasher = _hasher()
    candidates = dict.fromkeys((normalize(password), password))
    if not password_hash:
        for candidate in candidates:
            hasher.hash(candidate)
        return False
    for candidate in candidates:
        try:
            if hasher.verify(password_hash, candidate):
                return True
        except (VerificationError, InvalidHashError):
            continue
    if _cheaper_than_today(hasher, password_hash):
        hasher.hash(password)
    return False


def _cheaper_than_today(hasher: PasswordHasher, password_hash: str) -> bool:
    try:
        made_with = extract_parameters(password_hash)
    except InvalidHashError:
        return True
    today = hasher.time_cost * hasher.memory_cost
    return made_with.time_cost * made_with.memory_cost < today


def needs_rehash(password_hash: str) -> bool:
    """True when the configured parameters changed since this hash was made."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(stripped for line in lines if (stripped := line.strip()))


def _compact(text: str) -> str:
    """Lowercase letters and digits only: "Kai.Nguyen!" → "kainguyen"."""
    return NOT_LETTERS_OR_DIGITS.sub("", normalize(text).lower())


def _without_digits_at_the_ends(text: str) -> str:
    return text.strip(string.digits)


def _is_pattern(compact: str) -> bool:
    """One short unit repeated ("abcabcabcabc"), or a run along the alphabet, the digits
    or the keyboard, either way ("abcdefghijkl", "098765432109", "qwertyuiopas")."""
    if not compact:
        return False
    for size in range(1, len(compact) // 2 + 1):
        if len(compact) % size == 0 and compact[:size] * (len(compact) // size) == compact:
            return True
    return any(compact in run or compact in run[::-1] for run in KEYBOARD_RUNS)


def _is_common(password: str, compact: str) -> bool:
    common = common_passwords()
    core = _without_digits_at_the_ends(compact)
    candidates = {normalize(password).lower().strip(), compact}
    if len(core) >= 4:
        candidates.add(core)
    return not candidates.isdisjoint(common)


def _personal_parts(words: Iterable[str]) -> list[str]:
    """Each name or address whole and in pieces ("kai.nguyen@example.edu" → "kainguyen",
    "kai", "nguyen", "example", …), longest first; pieces under 3 characters are left."""
    parts = set()
    for word in words:
        if not word:
            continue
        lowered = normalize(word).lower()
        local_part = lowered.split("@", 1)[0]
        for piece in (lowered, local_part, *re.split(r"[\W_]+", lowered)):
            compact = _compact(piece)
            if len(compact) >= 3:
                parts.add(compact)
    return sorted(parts, key=len, reverse=True)


def _is_personal(compact: str, words: Iterable[str]) -> bool:
    """Mostly made of the person's (or the program's) names, plus digits or a little more."""
    remainder = compact
    for part in _personal_parts(words):
        remainder = remainder.replace(part, "")
    if remainder == compact:
        return False
    remainder = remainder.translate(str.maketrans("", "", string.digits))
    return len(remainder) < SHORTEST_OWN_PART or remainder in common_passwords()


def password_problem(password: str, personal: Iterable[str] = ()) -> str | None:
    """Why this new password is too easy to guess, or None. `personal` holds the owner's
    name and email address; the program's name is always added. Length is checked apart."""
    compact = _compact(password)
    core = _without_digits_at_the_ends(compact)
    shapes = (compact, normalize(password).lower(), core if len(core) >= 4 else "")
    if any(_is_pattern(shape) for shape in shapes):
        return PATTERN
    if _is_common(password, compact):
        return TOO_COMMON
    words = list(personal)
    if has_app_context():
        words += [current_app.config["CRP_PROGRAM_NAME"], "CRP Portal"]
    if _is_personal(compact, words):
        return PERSONAL
    return None
