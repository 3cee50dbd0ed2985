"""The form fuzzer's tools: what a view reads, junk to send it, and whether anything was saved.

Not a test module: tests/test_fuzz_forms.py drives these against every route.
"""

import io
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import flask
from hypothesis import strategies as st
from sqlalchemy import event, text
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import fields as wtf
from wtforms.csrf.core import CSRFTokenField
from wtforms.form import BaseForm

# -- What a view reads ---------------------------------------------------------------------

_names: set[str] = set()  # module-level: each test request runs in a fresh contextvars.Context
_forms: list[BaseForm] = []


class RecordingMultiDict(ImmutableMultiDict):
    """request.args, request.form and request.files, noting every name a view looks up."""

    def __contains__(self, key):
        _names.add(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        _names.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        _names.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002 - werkzeug's signature
        _names.add(key)
        return super().getlist(key, type)


class RecordingRequest(flask.Request):
    parameter_storage_class = RecordingMultiDict


@dataclass
class Reads:
    names: set[str]
    forms: list[BaseForm]


@contextmanager
def recording_reads():
    """Yield what the requests made inside the block looked up: names and WTForms forms.

    Forms are kept so their choices can be read after the view filled them in.
    """
    _names.clear()
    _forms.clear()
    original = BaseForm.process

    def process(form, *args, **kwargs):
        _forms.append(form)
        return original(form, *args, **kwargs)

    BaseForm.process = process
    reads = Reads(set(), [])
    try:
        yield reads
    finally:
        BaseForm.process = original
        reads.names.update(_names)
        reads.forms.extend(_forms)


# -- The shape of a form -------------------------------------------------------------------

PROBE = "_probe"  # the one name a probe request sends, so a form sees a submission
TIMES = ["09:00", "10:30", "14:15", "19:00"]
GENERIC = ["1", "y", "on", "0"]
UNIQUE = "{n}"  # in a right-looking value: a number new to each request (names are often unique)


@dataclass
class Shape:
    """The names a route reads, each with values that look right (so the form logic runs)."""

    plausible: dict[str, list[str]] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)

    def add(self, name: str, values) -> None:
        known = self.plausible.setdefault(name, [])
        known.extend(value for value in values if value not in known)


def _choice_values(form_field) -> list[str]:
    try:
        return [str(choice[0]) for choice in form_field.iter_choices()]
    except TypeError:  # choices not set by this view
        return []


def plausible_values(form_field, today: date) -> list[str]:
    """Values a person could have typed or picked in this WTForms field."""
    days = [today + timedelta(days=n) for n in (0, 7, -7, 30, -200)]
    if isinstance(form_field, wtf.BooleanField):
        return ["y"]
    if isinstance(form_field, wtf.SelectFieldBase):
        return _choice_values(form_field)
    if isinstance(form_field, wtf.DateField):  # DateField and TimeField are DateTimeFields
        return [day.isoformat() for day in days]
    if isinstance(form_field, wtf.TimeField):
        return TIMES
    if isinstance(form_field, wtf.DateTimeField):
        return [f"{day.isoformat()}T10:00" for day in days]
    if isinstance(form_field, wtf.IntegerField):
        low, high = getattr(form_field, "minimum", 0), getattr(form_field, "maximum", 10)
        return [str(low), str(high), str((low + high) // 2)]
    if isinstance(form_field, wtf.EmailField):
        return ["fuzz{n}@example.edu"]
    if isinstance(form_field, wtf.URLField):
        return ["https://example.edu/meet"]
    if isinstance(form_field, wtf.PasswordField):
        return ["a long test passphrase"]
    current = form_field.data if isinstance(form_field.data, str | int) else None
    if isinstance(form_field, wtf.HiddenField):
        return [] if current in (None, "") else [str(current)]
    if "link" in form_field.name or "url" in form_field.name:
        return ["https://example.edu/{n}"]
    return ["Fuzz text {n}", *([current] if isinstance(current, str) and current else [])]


def shape_of(reads: Reads, today: date, csrf_name: str = "csrf_token") -> Shape:
    shape = Shape()
    for form in reads.forms:
        for form_field in form:
            if isinstance(form_field, CSRFTokenField):
                continue
            if isinstance(form_field, wtf.FileField):
                shape.files.add(form_field.name)
            shape.add(form_field.name, plausible_values(form_field, today))
    for name in reads.names - {csrf_name, PROBE}:
        shape.add(name, [])
    return shape


class _FormValues(HTMLParser):
    """Every form on a page: its action, method, and the values its fields offer."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def _add(self, name, value):
        if self._form is not None and name:
            self._form["values"].setdefault(name, []).append(value or "")

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "form":
            self._form = {
                "action": found.get("action") or "",
                "method": (found.get("method") or "get").lower(),
                "values": {},
            }
            self.forms.append(self._form)
        elif tag in ("input", "button"):
            kind = (found.get("type") or "text").lower()
            default = "on" if kind in ("checkbox", "radio") else ""
            self._add(found.get("name"), found.get("value", default))
        elif tag == "select":
            self._select = found.get("name")
        elif tag == "option" and self._select:
            self._add(self._select, found.get("value", ""))
        elif tag == "textarea":
            self._textarea = found.get("name")
            self._add(self._textarea, "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["values"][self._textarea][-1] += data


def page_values(html: str, path: str, method: str) -> dict[str, list[str]]:
    """The values the page's own forms would send to `path` with `method`."""
    parser = _FormValues()
    parser.feed(html)
    values: dict[str, list[str]] = {}
    for form in parser.forms:
        target = urlsplit(form["action"]).path or path
        if target == path and form["method"] == method.lower():
            for name, offered in form["values"].items():
                values.setdefault(name, []).extend(value for value in offered if value)
    return values


# -- Junk ----------------------------------------------------------------------------------

CONTROL = "".join(map(chr, [*range(32), 127])) + "\u0085\u2028\u2029\ufeff"
UNICODE = [
    "\u202eevil\u202c",  # right-to-left override
    "zero\u200bwidth\u200djoin",
    "👩‍👩‍👧‍👦🙂",
    "e\u0301\u0301\u0301\u0301",  # stacked combining marks
    "\ufffd",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "İß\u0130ǅ",  # case-mapping surprises
    "\U0010ffff",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "\x00",
    "a\x00b",
]
NUMBERS = [
    "9" * 300,
    "-" + "9" * 300,
    "9" * 5000,
    "1e309",
    "-1",
    "0",
    "1.5",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "0x1F",
    "+5",
    " 42 ",
    "-0",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
]
DATES = [
    "0000-00-00",
    "0000-01-01",
    "0001-01-01",
    "99999-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "1970-01-01",
    "-2026-01-01",
    "2026-1-1",
    "20260101",
    "2026-01-01T25:00",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "24:00",
    "23:59:60",
    "99:99",
    "7:00 XM",
]
TEXTS = [
    "",
    " ",
    "\t\r\n",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% for x in y %}",
    "{{ 'x' * 100000 }}",
    "'; DROP TABLE users; --",
    "%",
    "_",
    "\\",
    "../../etc/passwd",
    "javascript:alert(1)",
    "https://",
    "http://[::1",
    "a@b",
    "@",
    "null",
    "None",
    "[]",
]
INVALID_UTF8 = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"abc\xffdef"]
LENGTHS = [41, 81, 121, 201, 301, 1001, 2001, 4001, 5001, 20_001, 100_000]

huge_text = st.builds(
    lambda piece, length: (piece * length)[:length],
    st.sampled_from(["x", "é", "🙂", "\u202e", "9", "\x00", "<b>", "a\n", "\u0301"]),
    st.sampled_from(LENGTHS),
)
# Each example picks one kind of junk and puts it in some fields, the rest right-looking,
# so the junk reaches the code behind the form instead of failing beside a blank field.
THEMES = {
    "none": st.nothing(),
    "nul": st.sampled_from(["\x00", "a\x00b", "Name\x00", "\x00" * 3, "2026-01-01\x00"]),
    "control": st.text(st.sampled_from(CONTROL), min_size=1, max_size=5).map(lambda c: f"a{c}b"),
    "huge": huge_text,
    "invalid-utf8": st.sampled_from(INVALID_UTF8),
    "unicode": st.sampled_from(UNICODE),
    "numbers": st.sampled_from(NUMBERS),
    "dates": st.sampled_from(DATES),
    "texts": st.sampled_from(TEXTS),
    "random": st.text(st.characters(codec="utf-8"), max_size=20),
    "types": st.nothing(),  # a file where text belongs, or JSON of numbers, lists and nulls
}
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
EXTRA_NAMES = ["is_admin", "role", "id", "user_id", "active", "session_version", "student_id"]


def _short(value) -> str:
    if not isinstance(value, str | bytes):
        return repr(value)
    shown = repr(value[:40])
    return shown if len(value) <= 40 else f"{shown}…({len(value)} long)"


@dataclass
class Submission:
    """One request's worth of junk: form or query pairs, files, and what the CSRF token is."""

    pairs: list[tuple[str, object]]
    files: list[tuple[str, bytes, str]]
    csrf: str  # valid, missing, junk, other, first-junk, or none for a GET
    body: str  # urlencoded, multipart, malformed, json, json-list

    def __repr__(self) -> str:
        pairs = ", ".join(f"{name}={_short(value)}" for name, value in self.pairs)
        files = ", ".join(
            f"{name}={name_!r}({len(content)} bytes)" for name, content, name_ in self.files
        )
        return f"Submission([{pairs}], files=[{files}], csrf={self.csrf}, body={self.body})"


FILE_CONTENTS = [
    b"",
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
    b"email,name,role\r\nfuzz@example.edu,Fuzz,student\r\n",
    b"\xff\xfe\x00\x00junk",
    b"x" * 1_500_000,
]
FILE_NAMES = ["feed.ics", "roster.csv", "", "../../x.ics", "a\x00.ics", "ü.ICS", "x" * 300]

CSRF_MODES = ["valid"] * 8 + ["missing", "junk", "other", "first-junk"]


@st.composite
def submissions(draw, shape: Shape, *, csrf: bool = True):
    """Right-looking values with one kind of junk in a few fields, a field or two missing or
    repeated, now and then a field nobody asked for. Every choice shrinks towards a
    submission a person could have made."""
    theme = draw(st.sampled_from(list(THEMES)))
    themed = THEMES[theme] if theme not in ("none", "types") else st.sampled_from(GENERIC)
    names = sorted(set(shape.plausible) - shape.files)
    some = st.sets(st.sampled_from(names), max_size=3) if names else st.just(set())
    junked = set() if theme == "none" else draw(some)
    missing, repeated = draw(some), draw(some)
    pairs, files = [], []
    for name in names:
        offered = shape.plausible[name]
        right = st.sampled_from(offered) if offered else st.sampled_from(GENERIC)
        if name in missing:
            continue
        if name in junked and theme == "types":
            files.append((name, b"not text", "value.txt"))
            continue
        pairs.append((name, draw(themed if name in junked else right)))
        if name in repeated:
            pairs.append((name, draw(st.one_of(right, themed))))
    for name in sorted(shape.files):
        if draw(st.booleans()):
            content = draw(st.sampled_from(FILE_CONTENTS))
            files.append((name, content, draw(st.sampled_from(FILE_NAMES))))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.sampled_from(EXTRA_NAMES)), draw(st.one_of(themed, st.just("1")))))
    if not csrf:
        return Submission(pairs, [], "none", "query")
    token = draw(st.sampled_from(CSRF_MODES))
    if theme == "types" and draw(st.booleans()):
        typed = [(name, draw(JSON_VALUES)) for name, _ in pairs]
        return Submission(typed, [], token, draw(st.sampled_from(["json", "json-list"])))
    body = (
        "multipart"
        if files
        else draw(st.sampled_from(["urlencoded"] * 8 + ["multipart", "malformed"]))
    )
    return Submission(pairs, files, token, body)


def numbered(submission: Submission, number: int) -> Submission:
    """The submission with UNIQUE in its values replaced by `number`."""
    pairs = [
        (name, value.replace(UNIQUE, str(number)) if isinstance(value, str) else value)
        for name, value in submission.pairs
    ]
    return Submission(pairs, submission.files, submission.csrf, submission.body)


def query_string(pairs) -> str:
    return urlencode(pairs, doseq=False)


def request_arguments(submission: Submission, token: str, other_token: str) -> dict:
    """Keyword arguments for the test client's `open` that send this submission."""
    pairs = list(submission.pairs)
    headers = {}
    if submission.csrf == "valid":
        pairs.insert(0, ("csrf_token", token))
    elif submission.csrf == "junk":
        pairs.insert(0, ("csrf_token", "junk"))
    elif submission.csrf == "other":
        pairs.insert(0, ("csrf_token", other_token))
    elif submission.csrf == "first-junk":
        pairs[:0] = [("csrf_token", "junk"), ("csrf_token", token)]
    if submission.body in ("json", "json-list"):
        if submission.csrf == "valid":
            headers["X-CSRFToken"] = token
        document = dict(pairs) if submission.body == "json" else [value for _, value in pairs]
        return {
            "data": json.dumps(document),
            "content_type": "application/json",
            "headers": headers,
        }
    if submission.body == "malformed":
        raw = query_string(pairs).encode() + b"&%ZZ&&==&\xff=%E2%82&a=b=c"
        return {"data": raw, "content_type": "application/x-www-form-urlencoded"}
    if submission.body == "multipart":
        data = {}
        for name, value in pairs:
            data.setdefault(name, []).append(
                value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            )
        for name, content, filename in submission.files:
            data.setdefault(name, []).append((io.BytesIO(content), filename))
        return {"data": data, "content_type": "multipart/form-data"}
    return {
        "data": query_string(pairs).encode(),
        "content_type": "application/x-www-form-urlencoded",
    }


# -- Did anything get saved? ---------------------------------------------------------------

# What leaves every row count as it was: reads and transaction control.
LEAVES_COUNTS = re.compile(r"^\s*(SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
WRITE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM|MERGE INTO)\s+\"?(\w+)", re.IGNORECASE)
# A page that shows someone's record writes who opened it, a re-rendered form page too:
# that row records the visit, not the input.
VIEW_RECORDS = ("audit_entries",)


class WriteWatch:
    """Whether a statement that changes rows was committed while the watch was on."""

    def __init__(self, engine):
        self.engine = engine
        self.pending = False
        self.committed: list[str] = []
        self._statements: list[str] = []

    def _execute(self, _conn, _cursor, statement, *_args):
        write = WRITE.match(statement)
        if write and write.group(2) not in VIEW_RECORDS:
            self.pending = True
            self._statements.append(statement.split("\n")[0][:120])

    def _commit(self, _conn):
        if self.pending:
            self.committed.extend(self._statements)
        self._reset()

    def _reset(self, *_args):
        self.pending = False
        self._statements = []

    @contextmanager
    def watching(self):
        self.committed = []
        self._reset()
        hooks = [
            ("before_cursor_execute", self._execute),
            ("commit", self._commit),
            ("rollback", self._reset),
        ]
        for name, hook in hooks:
            event.listen(self.engine, name, hook)
        try:
            yield self
        finally:
            for name, hook in hooks:
                event.remove(self.engine, name, hook)


def census_query(metadata, preparer):
    """One statement counting the rows of every table, and who holds which role."""
    counts = [
        f"(SELECT count(*) FROM {preparer.quote(table.name)}) AS {preparer.quote(table.name)}"
        for table in metadata.sorted_tables
    ]
    counts += [
        "(SELECT count(*) FROM users WHERE is_admin) AS admins",
        "(SELECT count(*) FROM users WHERE role = 'staff') AS staff",
        "(SELECT count(*) FROM users WHERE role = 'advisor') AS advisors",
    ]
    return text("SELECT " + ", ".join(counts))


class Census:
    """The census of `census_query`, read again only when a write has run since.

    Every statement that could change a count goes through the engine, so counts read after
    the last statement other than a read or transaction control still hold: a fuzzed POST
    needs them before and after, and its "before" is most often the last POST's "after".
    Anything else (a write of any spelling) forgets them. Use as a context manager: the
    engine hook goes when the test ends."""

    def __init__(self, engine, metadata):
        self.engine = engine
        self.query = census_query(metadata, engine.dialect.identifier_preparer)
        self._last: dict | None = None

    def _forget_after_a_write(self, _conn, _cursor, statement, *_args):
        if self._last is not None and not LEAVES_COUNTS.match(statement):
            self._last = None

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._forget_after_a_write)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._forget_after_a_write)

    def read(self, session) -> dict:
        if self._last is None:
            self._last = dict(session.execute(self.query).one()._mapping)
        return self._last


PRIVILEGE_COLUMNS = ("admins", "staff", "advisors")
TRACEBACK_SIGNS = (
    b"Traceback (most recent call last)",
    b"sqlalchemy.exc",
    b"psycopg",
    b"jinja2.exceptions",
    b"werkzeug.exceptions",
)
