"""Expression trees shared by the parser, the rule table and the symbolic engine.

Every walk here is iterative: user input may nest 100,000 deep, and Python's stack may not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


class Expr:
    """One node: an operator (a primitive's name, `const` or `var`), its arguments and attribute."""

    __slots__ = ("op", "args", "attr", "line", "column", "end")

    def __init__(
        self,
        op: str,
        args: tuple[Expr, ...] = (),
        attr: object = None,
        line: int | None = None,
        column: int | None = None,
        end: int | None = None,
    ) -> None:
        self.op = op
        self.args = args
        self.attr = attr
        self.line = line
        self.column = column
        self.end = end  # offset just past the node in the source, for quoting definitions

    def __repr__(self) -> str:
        if self.op == "const":
            return f"Expr(const {self.attr!r})"
        if self.op == "var":
            return f"Expr(var {self.attr})"
        return f"Expr({self.op}, {len(self.args)} args, attr={self.attr!r})"


class PointLiteral(Expr):
    """A number written with a point or an exponent (`1.0`, `1e0`): a value, never an axis or index."""

    __slots__ = ()


def number(text: str, value: float, line: int | None, column: int | None) -> Expr:
    """The constant a number token writes, remembering whether it was written as an integer."""
    kind = Expr if text.isdigit() else PointLiteral
    return kind("const", (), value, line, column)


def const(value: float) -> Expr:
    return Expr("const", (), float(value))


def var(name: str) -> Expr:
    return Expr("var", (), name)


def postorder(root: Expr) -> Iterator[Expr]:
    """Each distinct node once, children before parents, without recursion."""
    seen: set[int] = set()
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded or not node.args:
            seen.add(id(node))
            yield node
            continue
        stack.append((node, True))
        for child in reversed(node.args):
            if id(child) not in seen:
                stack.append((child, False))


def tree_nodes(root: Expr) -> list[Expr]:
    """A tree's nodes (no sharing, as the parser makes them), children first, left to right."""
    out: list[Expr] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.args)
    out.reverse()
    return out


def fold(root: Expr, fn: Callable[[Expr, list[T]], T]) -> T:
    """Bottom-up evaluation: `fn(node, child_results)`, each shared node computed once."""
    if not root.args:  # a name or a number (printing folds many)
        return fn(root, [])
    done: dict[int, T] = {}  # postorder's walk inlined (the same order): printing folds every line
    stack: list[tuple[Expr, bool]] = [(root, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, expanded = pop()
        if id(node) in done:
            continue
        if expanded or not node.args:
            done[id(node)] = fn(node, [done[id(a)] for a in node.args])
            continue
        push((node, True))
        for child in reversed(node.args):
            if id(child) not in done:
                push((child, False))
    return done[id(root)]


def names(root: Expr) -> list[str]:
    """The variable names an expression reads, in order of first appearance."""
    found: dict[str, None] = {}
    for node in postorder(root):
        if node.op == "var":
            found.setdefault(str(node.attr), None)
    return list(found)


def size(root: Expr) -> int:
    return sum(1 for _ in postorder(root))


@dataclass
class DeclItem:
    name: str
    shape: tuple[int, ...] | None
    line: int
    column: int


@dataclass(slots=True)  # a million of them in a big program: no __dict__ each
class Statement:
    """One statement: `assign` (name = expr), `input`/`param` declarations, or `output`."""

    kind: str
    line: int
    column: int
    name: str = ""
    expr: Expr | None = None
    text: str = ""
    items: list[DeclItem] = field(default_factory=list)


def underflows(text: str, value: float) -> bool:
    """A number written with a nonzero digit that float64 rounds to 0 (1e-400)."""
    return value == 0 and any(ch in "123456789" for ch in text.lower().split("e")[0])


def as_written(source: str) -> str:
    """A statement's text on one line, as tables show it: comments dropped (a statement over several
    lines may hold one per line: `[[1, 2],  # first row`), blanks collapsed."""
    if "#" in source:
        source = "\n".join(line.split("#", 1)[0] for line in source.split("\n"))
    return " ".join(source.split())
