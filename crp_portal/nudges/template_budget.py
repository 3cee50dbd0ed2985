"""A hard budget for every nudge render: time, characters written and loop turns.

The budget is enforced inside the render itself, not by a timer beside it: every
`{% for %}` is compiled to go through a counting filter that checks the clock and the
number of turns on each turn, and the text is collected piece by piece, checking the
clock and the length on each piece. A runaway template therefore stops within one loop
turn or one piece of output of going over, in the thread that runs it.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError, nodes, pass_context
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment

RENDER_SECONDS = 0.5
OUTPUT_MAX = 100_000  # characters
LOOP_STEPS_MAX = 10_000
# Names with a space cannot be written in a template, so staff cannot reach these.
_COUNTER = "nudge loop counter"
_BUDGET = "nudge budget"


class TooCostly(TemplateError):
    """The render went over its budget; the message ends “too slow/too large to send”."""


@dataclass
class Budget:
    seconds: float = RENDER_SECONDS
    output_max: int = OUTPUT_MAX
    steps_max: int = LOOP_STEPS_MAX
    deadline: float = 0.0
    written: int = 0
    steps: int = 0

    def start(self) -> "Budget":
        self.deadline = time.monotonic() + self.seconds
        return self

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise TooCostly(f"filling it in took more than {self.seconds:g} s: too slow to send")

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.steps_max:
            raise TooCostly(f"its loops ran more than {self.steps_max:,} times: too slow to send")
        self.check_clock()

    def write(self, piece: str) -> None:
        self.written += len(piece)
        if self.written > self.output_max:
            raise TooCostly(
                f"it came to more than {self.output_max:,} characters: too large to send"
            )
        self.check_clock()


@pass_context  # never folded at compile time, and finds the render's budget
def _counted(context, iterable):
    budget = context[_BUDGET]
    for item in iterable:
        budget.step()
        yield item


class NudgeEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's sandbox with no globals, no tests and only the given Jinja filters."""

    def __init__(self, filters: Iterable[str]):
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.globals.clear()
        self.tests = {}
        self.filters = {name: JINJA_FILTERS[name] for name in filters}
        self.filters[_COUNTER] = _counted

    def counting(self, tree: nodes.Template):
        """The parsed template compiled with every loop counted. It does not check the
        rules (`templating` does, before calling this)."""
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _COUNTER, [], [], None, None, lineno=loop.lineno)
        tree.set_environment(self)
        return self.from_string(tree)


def fill_in(template, context: dict, budget: Budget | None = None) -> str:
    """Render `template` (made by `NudgeEnvironment.counting`) within `budget`; raises
    TooCostly when over."""
    budget = (budget or Budget()).start()
    pieces = []
    for piece in template.root_render_func(template.new_context({**context, _BUDGET: budget})):
        budget.write(piece)
        pieces.append(piece)
    return "".join(pieces)
