"""The fast lane for long programs of one-line statements: a line's shape decides its parse.

A line's shape is its text with every name replaced by `a`. Two lines of the same shape have the
same tokens but for the names (numbers, operators and blanks are kept), so the first line of each
shape is parsed by the template parser (`templates.py`: the grammar's own parser) and its template
is turned into a small generated function that builds any later line of the shape from its names:
the same `Statement` and `Expr` nodes, at the same lines and columns, without tokenizing. Anything
else (`;`, comments, brackets, a keyword, a statement over several lines) returns None: the
template parser then reads the whole text as before.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from typing import Any

from graphlang.errors import GraphlangError
from graphlang.language.ast import Expr, PointLiteral, Statement, tree_nodes, underflows
from graphlang.language.shapecheck import Kind, Shape
from graphlang.language.templates import Fallback, Template, parse_fast, statements_of, template_for, tokenize
from graphlang.limits import Limits
from graphlang.primitives.table import INFIX

# A name as the lexer reads one: not preceded by a character that would make it part of another token.
_NAME = re.compile(r"(?<![A-Za-z0-9_.])[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset({"input", "param", "output"})
_UNHANDLED = (";", "#", "[", "\r", "\x0b", "\x0c")
MAX_SHAPES = 5_000  # shapes cached in the process
LONG_LINE = 512  # tokens: a longer line is parsed alone (generating its builder costs more)
NEW_SHAPES = 300  # new shapes one program may bring (each costs a parse and code generation: ~1 ms)
_SHAPES: dict[tuple[int, int], dict[str, tuple[Callable[..., Any] | None, Kind | None, int]]] = {}


class Parsed(list[Statement]):
    """The statements, and per statement its shape and nodes in postorder (None: parsed otherwise),
    which let `resolve.check` and the graph skip walking the tree; dropped once they are used."""

    lane: list[tuple[Kind, tuple[Expr, ...]] | None] | None = None


def parse_lines(text: str, limits: Limits) -> list[Statement] | None:
    """Every statement, or None when the text needs the template parser."""
    if len(text) < 20_000 or any(c in text for c in _UNHANDLED):
        return None  # small programs: the template parser is fast enough
    out = Parsed()
    lane: list[tuple[Kind, tuple[Expr, ...]] | None] = []
    append = out.append
    mark = lane.append
    shapes = _SHAPES.setdefault((limits.max_depth, limits.max_statement_tokens), {})  # per limits
    # Whole-text passes in C: a line's shape is its part of the text with every name replaced, and
    # its names are the next ones of the text's names (a shape has as many names as its line).
    every = [*map(sys.intern, _NAME.findall(text))]  # one string per name, however often it is used
    keywords = _keyword_positions(text, every)
    kw = 0
    next_kw = keywords[0]
    made = 0
    pos = 0
    once: set[str] = set()
    for ln, (line, shape) in enumerate(zip(text.split("\n"), _NAME.sub("a", text).split("\n")), 1):
        make = shapes.get(shape)
        if make is None:
            made += 1
            if made > NEW_SHAPES:
                return None  # many shapes (e.g. a different number on every line): the template parser
            if shape not in once:  # a builder pays only for a shape that comes again: a line of its
                once.add(shape)    # own (199 long sums, each different) is parsed alone, 8× faster
                make = (None, None, len(_NAME.findall(shape)))
            else:
                if len(shapes) >= MAX_SHAPES:
                    shapes.clear()
                make = shapes[shape] = _shape(shape, limits)
        end = pos + make[2]
        if end > next_kw:  # a keyword among this line's names
            if make[0] is not None:
                return None
            while keywords[kw] < end:
                kw += 1
            next_kw = keywords[kw]
        if make[0] is None:
            pos = end
            if not line.strip(" \t"):
                continue
            st = _one_line(line, ln, limits)
            if st is None:
                return None
            append(st)
            mark(None)
            continue
        st, nodes = make[0](every[pos:end], line, ln)
        pos = end
        append(st)
        mark((make[1], nodes))  # type: ignore[arg-type]  # (a builder comes with its kind)
    if len(out) > limits.max_statements or pos != len(every):
        return None  # the template parser reports it where it happens
    out.lane = lane
    return out


def _keyword_positions(text: str, names: list[str]) -> list[float]:
    """Where the keywords are among the names, in order, and infinity last."""
    found: list[float] = []
    for word in _KEYWORDS:
        if word not in text:
            continue  # (a search of the text in C: faster than comparing every name)
        at = -1
        for _ in range(names.count(word)):
            at = names.index(word, at + 1)
            found.append(at)
    return [*sorted(found), math.inf]


_NO_ITEMS: list[Any] = []  # an assignment has no declared items: one shared empty list, never changed


def _one_line(line: str, ln: int, limits: Limits) -> Statement | None:
    """A line of a shape without a generated builder (a declaration, a rare shape): parsed alone."""
    try:
        sts = parse_fast(line, limits)
    except (Fallback, GraphlangError):
        return None
    if len(sts) != 1:
        return None
    st = sts[0]
    st.line = ln
    for item in st.items:
        item.line = ln
    if st.expr is not None:
        for node in tree_nodes(st.expr):
            node.line = ln
    return st


def _shape(shape: str, limits: Limits) -> tuple[Callable[..., Any] | None, Kind | None, int]:
    """The builder of one-line assignments of this shape (None: none), its kind, its number of names."""
    count = len(_NAME.findall(shape))
    toks, bad = tokenize(shape)
    if bad is not None or not toks or len(toks) > min(limits.max_statement_tokens, LONG_LINE):
        return None, None, count
    try:
        if len(list(statements_of(toks, shape))) != 1:
            return None, None, count
        t = template_for(toks, shape, limits)
    except Exception:  # noqa: BLE001 - any problem: the template parser handles (and reports) it
        return None, None, count
    if t.kind != "assign" or t.depth > limits.max_depth:
        return None, None, count
    try:
        make, nodes = _generate(t, toks, shape)
    except _NoLane:
        return None, None, count
    return make, Kind(nodes), count


class _NoLane(Exception):
    pass


def _generate(t: Template, toks: list[tuple[str, int, int]], shape: str) -> tuple[Callable[..., Any], Shape]:
    """`make(names, line, ln) -> (statement, nodes)`: positions shifted by the names' lengths
    (each is `a` in the shape); and the shape's nodes in postorder."""
    desc: list[tuple[str, tuple[int, ...]]] = []
    body: list[str] = ["d = 0"]
    name_index: dict[int, int] = {}
    col: dict[int, str] = {}
    for i, (kind, s, _) in enumerate(toks):
        col[i] = f"c{i}"
        body.append(f"c{i} = {s + 1} + d")
        if kind == "NAME":
            name_index[i] = len(name_index)
            body.append(f"d += len(n[{name_index[i]}]) - 1")
    last = toks[-1]
    body.append(f"end = {last[2]} + d" if last[0] != "NAME" else f"end = {last[2]} + d")
    consts: list[Any] = []

    def const(v: Any) -> str:
        consts.append(v)
        return f"K[{len(consts) - 1}]"
    for n, ins in enumerate(t.code):
        op = ins[0]
        if op == "var":
            body.append(f"e{n} = E('var', (), n[{name_index[ins[1]]}], ln, c{ins[1]})")
            desc.append(("var", ()))
        elif op == "num":
            _, s, e = toks[ins[1]]
            value = float(shape[s:e])
            if value == float("inf") or not value and underflows(shape[s:e], value):  # (the parser says why)
                raise _NoLane
            kind = "E" if shape[s:e].isdigit() else "D"  # (as `ast.number`: `1.0` is no axis)
            body.append(f"e{n} = {kind}('const', (), {const(value)}, ln, c{ins[1]})")
            desc.append(("const", ()))
        elif op == "op":
            _, s, e = toks[ins[1]]
            body.append(f"e{n} = E({INFIX[shape[s:e]]!r}, (e{ins[3]}, e{ins[4]}), None, ln, c{ins[1]})")
            desc.append((INFIX[shape[s:e]], (ins[3], ins[4])))
        elif op in ("neg", "T"):
            body.append(f"e{n} = E({op!r}, (e{ins[2]},), None, ln, c{ins[1]})")
            desc.append((op, (ins[2],)))
        elif op == "call":
            args = "".join(f"e{k}, " for k in ins[2])
            body.append(f"e{n} = E('call', ({args}), n[{name_index[ins[1]]}], ln, c{ins[1]})")
            desc.append(("call", tuple(ins[2])))
        else:  # index and stack literals need brackets, which this lane leaves to the template parser
            raise _NoLane
    start = f"c{t.expr_start} - 1"
    if t.root != len(t.code) - 1:
        raise _NoLane  # (a template's root is its last node: postorder)
    nodes = "".join(f"e{k}, " for k in range(len(t.code)))
    # the definition's text with blanks normalized: as in the shape (whose blanks are the line's)
    seg = shape[toks[t.expr_start][1]:last[2]]
    text = f"line[{start}:end]" if " ".join(seg.split()) == seg else f"' '.join(line[{start}:end].split())"
    body.append(f"return S('assign', ln, c{t.name}, name=n[{name_index[t.name]}], expr=e{t.root}, "
                f"text={text}, items=NO_ITEMS), ({nodes})")
    src = "def make(n, line, ln):\n    " + "\n    ".join(body) + "\n"
    ns: dict[str, Any] = {"E": Expr, "D": PointLiteral, "S": Statement, "K": consts, "NO_ITEMS": _NO_ITEMS}
    exec(src, ns)  # noqa: S102 - generated from a parsed template, never from a program's names
    return ns["make"], tuple(desc)
