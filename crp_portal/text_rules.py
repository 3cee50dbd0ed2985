"""The text the portal accepts, from a form field or from a cell of an imported file.

People type letters, digits, punctuation, spaces and tabs, and line breaks where a box
has several lines. The rest was pasted from somewhere, or made to deceive a reader:

- NUL, which PostgreSQL cannot store at all;
- the other C0 and C1 control characters: ESC starts a terminal's escape sequences,
  BEL rings it, a backspace rewrites what someone reading a log or an export sees;
- a line break in a one-line value, where it would start a new header in an email
  made from it, or a new row in a file;
- the bidirectional override, embedding and isolate controls (U+202A–U+202E,
  U+2066–U+2069), which show text in another order than it is stored ("Trojan Source");
- the line and paragraph separators U+2028 and U+2029, line breaks to some readers and
  not to others.

`problem` names what is wrong with a value in a phrase an import puts after its line and
column; `field_message` is the sentence shown beside a form field.
"""

import re

_C0_NAMES = (  # the ASCII control characters' short names, by code
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
    "BS", "TAB", "LF", "VT", "FF", "CR", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
    "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
)  # fmt: skip
_BIDI_NAMES = {
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
}
_SEPARATOR_NAMES = {"\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}

_NEVER = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_REFUSED_IN_ONE_LINE = re.compile(f"[{_NEVER}\r\n]")
_REFUSED_IN_SEVERAL_LINES = re.compile(f"[{_NEVER}]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in "\r\n":
        return "a line break, which a one-line value cannot have"
    if char in _BIDI_NAMES:
        return (
            "a hidden character that shows text in a different order than it is saved "
            f"({_BIDI_NAMES[char]}, {code})"
        )
    if char in _SEPARATOR_NAMES:
        return f"a hidden line break that cannot be saved ({_SEPARATOR_NAMES[char]}, {code})"
    name = _C0_NAMES[ord(char)] + ", " if ord(char) < 32 else "DEL, " if char == "\x7f" else ""
    return f"a hidden control character that cannot be saved ({name}{code})"


def _first_refused(text: str, multiline: bool) -> re.Match | None:
    pattern = _REFUSED_IN_SEVERAL_LINES if multiline else _REFUSED_IN_ONE_LINE
    return pattern.search(text)


def problem(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with the text, as a phrase ("a hidden control character that cannot
    be saved (ESC, U+001B)"), or None when the portal accepts it. Tabs are always
    accepted; line breaks (CR, LF, CRLF) only when `multiline`."""
    found = _first_refused(text, multiline)
    return _describe(found.group()) if found else None


def field_message(text: str, *, multiline: bool = False) -> str | None:
    """The sentence shown beside a form field holding this text, or None when it is fine.
    In text of several lines, it says which line the character is on."""
    found = _first_refused(text, multiline)
    if found is None:
        return None
    where = "This"
    if multiline and _LINE_BREAK.search(text):
        where = f"Line {len(_LINE_BREAK.split(text[: found.start()]))} of this text"
    return (
        f"{where} contains {_describe(found.group())}. Type the text again rather than pasting it."
    )


def lines_with_problems(text: str) -> list[tuple[int, str]]:
    """(line number, `problem`) for each line of a text file that has one; a line break is
    CRLF, CR or LF, and each line is held to the one-line rules."""
    if not _REFUSED_IN_SEVERAL_LINES.search(text):
        return []
    return [
        (number, found)
        for number, line in enumerate(_LINE_BREAK.split(text), start=1)
        if (found := problem(line))
    ]
