"""What a nudge template may contain, decided on its syntax tree before it is ever run.

Staff write text, the documented placeholders, a few documented filters, `{% if %}` and
one level of `{% for %}` over a placeholder. Everything else Jinja offers — its globals
(`range`, `dict`, `lipsum`, `cycler`, `joiner`, `namespace`), `self` and `loop`,
attributes, calls, arithmetic, tests, `{% set %}`, macros — is refused with its line,
so nothing a template does can grow past what the placeholders themselves hold.

Because only those constructs are allowed, the most a template can write and the most
its loops can turn are known before rendering: every branch is counted, each
placeholder at the longest it can be. `Walk` computes both bounds as it checks.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from jinja2 import nodes

# A filter may change letters at most threefold (e.g. "ΐ".upper() is three characters).
FILTER_GROWTH = 3
BOOLEAN_LENGTH = len("False")
_TAGS: dict[type[nodes.Node], str] = {
    nodes.Assign: "set",
    nodes.AssignBlock: "set",
    nodes.Block: "block",
    nodes.CallBlock: "call",
    nodes.Extends: "extends",
    nodes.FilterBlock: "filter",
    nodes.FromImport: "from",
    nodes.Import: "import",
    nodes.Include: "include",
    nodes.Macro: "macro",
    nodes.ScopedEvalContextModifier: "autoescape",
    nodes.With: "with",
}
_NOT_CALCULATED = (nodes.BinExpr, nodes.UnaryExpr, nodes.Concat)
_LITERALS = (nodes.List, nodes.Tuple, nodes.Dict)


@dataclass(frozen=True)
class Cost:
    """The most a piece of template can write (characters) and loop (iterations)."""

    characters: int = 0
    steps: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.characters + other.characters, self.steps + other.steps)

    @staticmethod
    def largest(costs: Iterable["Cost"]) -> "Cost":
        costs = list(costs)
        return Cost(
            max((c.characters for c in costs), default=0), max((c.steps for c in costs), default=0)
        )


@dataclass
class Walk:
    """Check a parsed template against the rules; `problems` are (line, message) pairs.

    `longest` maps each placeholder to the longest text it can hold; `filters` are the
    documented filter names.
    """

    longest: Mapping[str, int]
    filters: Iterable[str]
    problems: list[tuple[int, str]] = field(default_factory=list)
    heaviest_loop: tuple[int, int] = (0, 1)  # (characters, line) of the costliest loop

    def template(self, tree: nodes.Template) -> Cost:
        return self.body(tree.body, frozenset(), in_loop=False)

    def refuse(self, node: nodes.Node, message: str) -> None:
        problem = (node.lineno, f"Line {node.lineno}: {message}")
        if problem not in self.problems:
            self.problems.append(problem)

    def body(self, statements: list[nodes.Node], loop_names: frozenset, in_loop: bool) -> Cost:
        total = Cost()
        for statement in statements:
            total += self.statement(statement, loop_names, in_loop)
        return total

    def statement(self, node: nodes.Node, loop_names: frozenset, in_loop: bool) -> Cost:
        if isinstance(node, nodes.Output):
            return Cost(sum(self.printed(child, loop_names) for child in node.nodes))
        if isinstance(node, nodes.If):
            self.expression(node.test, loop_names)
            branches = [self.body(node.body, loop_names, in_loop)]
            branches += [self.statement(branch, loop_names, in_loop) for branch in node.elif_]
            branches.append(self.body(node.else_, loop_names, in_loop))
            return Cost.largest(branches)
        if isinstance(node, nodes.For):
            return self.loop(node, loop_names, in_loop)
        tag = _TAGS.get(type(node))
        shown = f"“{{% {tag} %}}” cannot be used" if tag else "This cannot be used"
        self.refuse(node, f"{shown}: only placeholders, if and for may be used.")
        return Cost()

    def printed(self, node: nodes.Node, loop_names: frozenset) -> int:
        if isinstance(node, nodes.TemplateData):
            return len(node.data)
        return self.expression(node, loop_names)

    def loop(self, node: nodes.For, loop_names: frozenset, in_loop: bool) -> Cost:
        usable = True
        if in_loop:
            self.refuse(node, "a loop inside another loop cannot be used: too slow to send.")
            usable = False
        if node.recursive or node.test is not None:
            self.refuse(node, "a loop takes no “recursive” and no “if”.")
            usable = False
        target = node.target.name if isinstance(node.target, nodes.Name) else None
        if target is None or target == "loop" or target in self.longest:
            self.refuse(
                node,
                "name the loop's variable with one new word, e.g. {% for letter in first_name %}.",
            )
            usable = False
        if not (isinstance(node.iter, nodes.Name) and node.iter.name in self.longest):
            self.refuse(
                node, "a loop may only go over a placeholder, e.g. {% for letter in first_name %}."
            )
            self.expression(node.iter, loop_names)
            usable = False
        inner = self.body(node.body, loop_names | {target}, in_loop=True)
        otherwise = self.body(node.else_, loop_names, in_loop)
        if not usable:
            return Cost()
        turns = self.longest[cast(nodes.Name, node.iter).name]
        cost = Cost.largest([Cost(turns * inner.characters, turns * (1 + inner.steps)), otherwise])
        if not in_loop and cost.characters > self.heaviest_loop[0]:
            self.heaviest_loop = (cost.characters, node.lineno)
        return cost

    def expression(self, node: nodes.Node, loop_names: frozenset) -> int:
        """Check an expression; the most characters its value can print as."""
        if isinstance(node, nodes.Name):
            if node.name in loop_names:
                return 1  # a loop goes over a placeholder's letters
            if node.name in self.longest:
                return self.longest[node.name]
            known = ", ".join("{{ " + placeholder + " }}" for placeholder in self.longest)
            self.refuse(node, f"unknown placeholder “{node.name}”. Use one of: {known}.")
            return 0
        if isinstance(node, nodes.Const):
            if isinstance(node.value, str):
                return len(node.value)
            if node.value is None or isinstance(node.value, bool):
                return BOOLEAN_LENGTH
            self.refuse(node, f"“{shown(node)}”: write numbers as text; nothing is calculated.")
            return 0
        if isinstance(node, nodes.Filter):
            return self.filtered(node, loop_names)
        if isinstance(node, nodes.Compare):
            self.expression(node.expr, loop_names)
            for operand in node.ops:
                self.expression(operand.expr, loop_names)
            return BOOLEAN_LENGTH
        if isinstance(node, nodes.Not):
            self.expression(node.node, loop_names)
            return BOOLEAN_LENGTH
        if isinstance(node, nodes.And | nodes.Or):
            return max(
                self.expression(node.left, loop_names), self.expression(node.right, loop_names)
            )
        if isinstance(node, nodes.CondExpr):
            self.expression(node.test, loop_names)
            alternative = 0 if node.expr2 is None else self.expression(node.expr2, loop_names)
            return max(self.expression(node.expr1, loop_names), alternative)
        self.refuse(node, _why_not(node))
        return 0

    def filtered(self, node: nodes.Filter, loop_names: frozenset) -> int:
        names = ", ".join(self.filters)
        if node.name not in self.filters:
            self.refuse(node, f"unknown filter “{node.name}”. Use one of: {names}.")
        elif node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
            self.refuse(node, f"the filter “{node.name}” takes nothing in brackets.")
        if node.node is None:
            return 0
        return FILTER_GROWTH * self.expression(node.node, loop_names)


def _why_not(node: nodes.Node) -> str:
    what = shown(node)
    inside = node.node if isinstance(node, nodes.Call) else node
    if isinstance(inside, nodes.Getattr | nodes.Getitem | nodes.Slice):
        return f"“{what}” cannot be used. A placeholder may be printed, not looked inside."
    if isinstance(node, nodes.Call):
        return f"“{what}” cannot be used: nothing in a template can be called."
    if isinstance(node, nodes.Test):
        return f"“{what}” cannot be used: write {{% if placeholder %}} to test a placeholder."
    if isinstance(node, _NOT_CALCULATED):
        return f"“{what}” cannot be used: a template prints text, it does not calculate."
    if isinstance(node, _LITERALS):
        return f"“{what}” cannot be used: lists and dictionaries cannot be written here."
    return f"“{what}” cannot be used: only placeholders, if and for may be used."


def shown(node: nodes.Node | None, depth: int = 0) -> str:
    """A short rendering of an expression for a message, e.g. `range(…)` or `self.x`."""
    if node is None or depth > 4:
        return "…"
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        text = repr(node.value)
        return text if len(text) <= 20 else text[:19] + "…"
    if isinstance(node, nodes.Getattr):
        return f"{shown(node.node, depth + 1)}.{node.attr}"
    if isinstance(node, nodes.Getitem | nodes.Slice):
        return f"{shown(getattr(node, 'node', None), depth + 1)}[…]"
    if isinstance(node, nodes.Call):
        return f"{shown(node.node, depth + 1)}(…)"
    if isinstance(node, nodes.Filter):
        return f"{shown(node.node, depth + 1)}|{node.name}"
    if isinstance(node, nodes.Test):
        return f"{shown(node.node, depth + 1)} is {node.name}"
    if isinstance(node, nodes.BinExpr):
        left, right = shown(node.left, depth + 1), shown(node.right, depth + 1)
        return f"{left} {node.operator} {right}"
    if isinstance(node, nodes.UnaryExpr):
        return f"{node.operator}{shown(node.node, depth + 1)}"
    if isinstance(node, nodes.Concat):
        return " ~ ".join(shown(part, depth + 1) for part in node.nodes)
    if isinstance(node, nodes.List | nodes.Tuple):
        return "[…]"
    if isinstance(node, nodes.Dict):
        return "{…}"
    return type(node).__name__.lower()
