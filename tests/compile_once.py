"""URL rules and templates compiled once per test process instead of once per app.

Every test makes its own app. Four fifths of `create_app` was Werkzeug turning each of
the portal's URL rules into a Python function (an AST built and compiled, twice per
rule), and each app's first render of a template lexed, parsed and compiled it again.

- The URL builder Werkzeug makes depends only on the rule's text, its defaults and its
  parsed trace; it reads everything else from the rule it is bound to. A rule that
  compiles exactly like one compiled before gets the same function, bound to itself.
- Templates go through a Jinja bytecode cache shared by the process's apps, keyed (as
  Jinja keys it) by the template's name and a checksum of its source.

So the app under test builds every URL and renders every page as it would have.
"""

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing.rules import Rule

_compile_builder = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _remembered_builder(self: Rule, append_unknown: bool = True):
    key = (
        type(self),
        self.rule,
        self.subdomain,
        self.host,
        tuple(self._trace),
        repr(sorted((self.defaults or {}).items())),
        append_unknown,
    )
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


def remember_url_builders() -> None:
    Rule._compile_builder = _remembered_builder  # type: ignore[method-assign]


class SharedTemplateCode(BytecodeCache):
    """Jinja's compiled templates, kept in memory for every app of this process."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()
